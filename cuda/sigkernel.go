package cuda

import (
	"errors"
	"fmt"
	"math"

	"github.com/gosde/gosde/host"
	"github.com/gosde/gosde/sigkernel"
)

var _ host.SigKernelEngine = (*Engine)(nil)

// Sizes of the signature-kernel launches (kernels/sigkernel.cuh).
const (
	sigMaxThreads    = 256 // GOSDE_SIG_MAX_THREADS: threads of a pair's block at most
	sigValuesThreads = 256 // GOSDE_SIG_VALUES_THREADS
	// sigEmulatorThreads is the block of the emulator, whose cost grows with the
	// threads (each barrier visits them all): a warp, as the GPU's for grids of up to
	// 33 points a side, and several rows per thread beyond.
	sigEmulatorThreads = 32
	// sigEmulatorBlocks bounds the emulator's blocks when the grids sit in global
	// memory: a few, so that blocks take several pairs each.
	sigEmulatorBlocks = 3
	// sigWorkspaceBytes bounds the global workspace of the blocks that run at once
	// when a pair's grid does not fit shared memory (one block at least).
	sigWorkspaceBytes = 1 << 30
	// sigBlocksPerSM bounds those blocks per multiprocessor: more would only queue.
	sigBlocksPerSM = 16
)

// sigArgs is what a pairs launch computes: P pairs, of which the first Pg get
// gradients (Pw within pairs scaled by scaleW, then cross pairs by scaleC), for paths
// of len points of dimension dim, and the kernel's options.
type sigArgs struct {
	P, Pg, Pw              int64
	len, dim, refine, kind int64
	sigma2, scaleW, scaleC float64
}

// sigPlan is how a pairs launch maps onto the GPU: threads per block (a pair each at
// a time), blocks, and whether a pair's workspace (wsDoubles) sits in the block's
// shared memory (stage, sharedBytes of it) or in the block's slot of a global one.
type sigPlan struct {
	threads, blocks int
	stage           bool
	sharedBytes     int
	wsDoubles       int64
}

func (p sigPlan) String() string {
	where := "global"
	if p.stage {
		where = "shared"
	}
	return fmt.Sprintf("%d blocks of %d threads, workspace %d B in %s memory", p.blocks, p.threads, 8*p.wsDoubles, where)
}

// sigPoints is the points of a path of len points refined by 2^refine.
func sigPoints(len, refine int) int { return (len-1)<<refine + 1 }

// sigWorkspaceDoubles is a pair's workspace: sig_ws_doubles of sigkernel.cuh (the
// emulator checks that they agree).
func sigWorkspaceDoubles(len, dim, refine int, rbf bool) int64 {
	n := int64(sigPoints(len, refine))
	r, k := n-1, int64(0)
	if rbf {
		k = n * n
	}
	return 4*n*int64(dim) + n*n + k + r*r + 6*r
}

// planSig plans the pairs launch for P pairs of spec's paths on a device with sms
// multiprocessors (0: the emulator). threads > 0 and global force those (tests).
func planSig(spec host.SigScoreSpec, P, sms, threads int, global bool) sigPlan {
	n := sigPoints(spec.Len, spec.Kernel.Refine)
	p := sigPlan{threads: threads, wsDoubles: sigWorkspaceDoubles(spec.Len, spec.Dim, spec.Kernel.Refine, spec.Kernel.Static == sigkernel.RBF)}
	if p.threads <= 0 {
		// A thread per cell row, in whole warps, up to the launch bound.
		p.threads = min(sigMaxThreads, (n-1+31)/32*32)
		if sms == 0 {
			p.threads = sigEmulatorThreads
		}
	}
	bytes := 8 * p.wsDoubles
	if !global && bytes <= sharedLimit {
		p.stage, p.sharedBytes, p.blocks = true, int(bytes), P
		return p
	}
	p.blocks = int(max(1, min(int64(P), sigWorkspaceBytes/bytes)))
	if sms > 0 {
		p.blocks = min(p.blocks, sms*sigBlocksPerSM)
	} else {
		p.blocks = min(p.blocks, sigEmulatorBlocks)
	}
	return p
}

// NewSigScorer returns a scorer that computes the signature-kernel scoring rule on the
// device, in float64: see host.SigKernelEngine. Its values and gradient are
// sigkernel.ScoreRule's up to rounding (the same scheme, summed in other orders), and
// the same bits on every call.
func (e *Engine) NewSigScorer(spec host.SigScoreSpec) (host.SigScorer, error) {
	if e.closed {
		return nil, errors.New("cuda: the engine is closed")
	}
	// The CPU's checks, so that both engines refuse the same specs.
	if err := spec.Check(); err != nil {
		return nil, err
	}
	return newSigScorer(e, spec)
}

// sigScorer is the GPU engine's host.SigScorer for one spec. Its pairs are fixed at
// construction: the within pairs (i, j), i < j, of generated paths, then every
// generated–real pair, then (with RealWithin) the real pairs i < j.
type sigScorer struct {
	e      *Engine
	spec   host.SigScoreSpec
	ld     int // values per path
	Pw, Pc int // within and cross pairs
	Pr     int // real pairs (RealWithin)
	plan   sigPlan
	// Device buffers: the paths (generated then real), the pairs, each pair's value,
	// the per-pair gradients (2·Pw + Pc slots of ld), each generated path's slots
	// (off, ent), the gradient and the three sums; ws is the global workspace (not
	// pooled: it can be large).
	paths, pairs, vals, pg, off, ent, grad, sums buffer
	ws                                           buffer
	bufs                                         []buffer
	closed                                       bool
}

var errSigClosed = errors.New("cuda: the signature-kernel scorer is closed")

func newSigScorer(e *Engine, spec host.SigScoreSpec) (*sigScorer, error) {
	m, n := spec.M, spec.N
	s := &sigScorer{e: e, spec: spec, ld: spec.Len * spec.Dim, Pw: m * (m - 1) / 2, Pc: m * n}
	if spec.RealWithin {
		s.Pr = n * (n - 1) / 2
	}
	P := s.Pw + s.Pc + s.Pr
	slots := 2*s.Pw + s.Pc
	if int64(P) > math.MaxInt32/2 || int64(slots) > math.MaxInt32 || int64(sigPoints(spec.Len, spec.Kernel.Refine)) > math.MaxInt32/2 {
		return nil, fmt.Errorf("cuda: signature-kernel score of %d generated and %d real paths of %d points refined %d times: too large for the device's indices", m, n, spec.Len, spec.Kernel.Refine)
	}
	s.plan = planSig(spec, P, e.be.multiprocessors(), e.sigThreads, e.sigGlobal)

	// The pairs, and each generated path's gradient slots in a fixed order: its
	// within pairs by pair, then its cross pairs by real path.
	pairs := make([]int32, 0, 2*P)
	slotsOf := make([][]int32, m)
	for i := range m {
		for j := i + 1; j < m; j++ {
			p := int32(len(pairs) / 2)
			pairs = append(pairs, int32(i), int32(j))
			slotsOf[i] = append(slotsOf[i], 2*p)
			slotsOf[j] = append(slotsOf[j], 2*p+1)
		}
	}
	for i := range m {
		for j := range n {
			p := int32(len(pairs) / 2)
			pairs = append(pairs, int32(i), int32(m+j))
			slotsOf[i] = append(slotsOf[i], int32(s.Pw)+p)
		}
	}
	if spec.RealWithin {
		for i := range n {
			for j := i + 1; j < n; j++ {
				pairs = append(pairs, int32(m+i), int32(m+j))
			}
		}
	}
	off := make([]int32, 0, m+1)
	ent := make([]int32, 0, slots)
	for _, l := range slotsOf {
		off = append(off, int32(len(ent)))
		ent = append(ent, l...)
	}
	off = append(off, int32(len(ent)))

	err := e.be.do(func() error {
		for _, a := range []struct {
			b     *buffer
			bytes int
		}{
			{&s.paths, 8 * (m + n) * s.ld}, {&s.pairs, 4 * len(pairs)}, {&s.vals, 8 * P}, {&s.pg, 8 * slots * s.ld},
			{&s.off, 4 * len(off)}, {&s.ent, 4 * len(ent)}, {&s.grad, 8 * m * s.ld}, {&s.sums, 8 * 3},
		} {
			b, err := e.pool.alloc(e.be, int64(max(a.bytes, 1)))
			if err != nil {
				return err
			}
			s.bufs = append(s.bufs, b)
			*a.b = b
		}
		if !s.plan.stage {
			var err error
			if s.ws, err = e.be.alloc(8 * s.plan.wsDoubles * int64(s.plan.blocks)); err != nil {
				return fmt.Errorf("cuda: the signature kernel's workspace (%v): %w", s.plan, err)
			}
		}
		return errors.Join(upload(e.be, s.pairs, pairs), upload(e.be, s.off, off), upload(e.be, s.ent, ent))
	})
	if err != nil {
		s.release()
		return nil, err
	}
	return s, nil
}

// Score computes the scoring rule of gen against real, and its gradient into grad
// when grad is not nil; see host.SigScorer.
func (s *sigScorer) Score(gen, real, grad []float64) (sigkernel.Score, error) {
	res := sigkernel.Score{RealWithin: math.NaN()}
	if s.closed {
		return res, errSigClosed
	}
	if s.e.closed {
		return res, errors.New("cuda: the engine is closed")
	}
	sp := s.spec
	if err := s.checkInputs(gen, real, grad); err != nil {
		return res, err
	}
	a := sigArgs{P: int64(s.Pw + s.Pc + s.Pr), Pw: int64(s.Pw), len: int64(sp.Len), dim: int64(sp.Dim),
		refine: int64(sp.Kernel.Refine), kind: int64(sp.Kernel.Static), sigma2: sp.Kernel.Sigma2,
		scaleW: 2 / float64(sp.M*(sp.M-1)), scaleC: -2 / float64(sp.M*sp.N)}
	if grad != nil {
		a.Pg = int64(s.Pw + s.Pc)
	}
	if sp.Kernel.Static != sigkernel.RBF {
		a.sigma2 = 1 // unused
	}
	var sums [3]float64
	err := s.e.be.do(func() error {
		be := s.e.be
		if err := upload(be, s.paths, gen); err != nil {
			return err
		}
		if err := upload(be, s.paths.offset(2*len(gen)), real); err != nil {
			return err
		}
		if err := be.sigPairs(s.paths, s.pairs, s.vals, s.pg, s.ws, a, s.plan); err != nil {
			return err
		}
		if grad != nil {
			if err := be.sigGrad(s.pg, s.off, s.ent, s.grad, int64(sp.M), int64(s.ld)); err != nil {
				return err
			}
			if err := download(be, grad, s.grad); err != nil {
				return err
			}
		}
		if err := be.sigValues(s.vals, s.sums, int64(s.Pw), int64(s.Pc), int64(s.Pr)); err != nil {
			return err
		}
		return download(be, sums[:], s.sums)
	})
	if err != nil {
		return res, err
	}
	res.Within = sums[0] * (2 / float64(sp.M*(sp.M-1)))
	res.Cross = sums[1] * (1 / float64(sp.M*sp.N))
	if sp.RealWithin {
		res.RealWithin = sums[2] * (2 / float64(sp.N*(sp.N-1)))
	}
	return res, nil
}

// checkInputs refuses what sigkernel.ScoreRule refuses: buffers of other lengths, and
// values that are not finite (sigkernel.Paths.Check).
func (s *sigScorer) checkInputs(gen, real, grad []float64) error {
	sp := s.spec
	if len(gen) != sp.M*s.ld || len(real) != sp.N*s.ld || (grad != nil && len(grad) != len(gen)) {
		return fmt.Errorf("%w: the scorer takes %d generated and %d real paths of %d points of dimension %d (%d and %d values, gradient %d), got %d, %d and %d",
			sigkernel.ErrInput, sp.M, sp.N, sp.Len, sp.Dim, sp.M*s.ld, sp.N*s.ld, sp.M*s.ld, len(gen), len(real), len(grad))
	}
	if err := (sigkernel.Paths{X: gen, N: sp.M, Len: sp.Len, Dim: sp.Dim}).Check("generated paths", 0); err != nil {
		return err
	}
	return (sigkernel.Paths{X: real, N: sp.N, Len: sp.Len, Dim: sp.Dim}).Check("real paths", 0)
}

// Close returns the scorer's device memory (to the engine's pool, the workspace to
// the device).
func (s *sigScorer) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.e.closed {
		return nil
	}
	return s.release()
}

func (s *sigScorer) release() error {
	for _, b := range s.bufs {
		s.e.pool.release(b)
	}
	s.bufs = nil
	if s.ws.null() {
		return nil
	}
	ws := s.ws
	s.ws = buffer{}
	return s.e.be.do(func() error { return s.e.be.free(ws) })
}
