package cuda

import (
	"errors"
	"fmt"
	"math"
	"reflect"

	"github.com/gosde/gosde/brownian"
	"github.com/gosde/gosde/host"
	"github.com/gosde/gosde/kernels"
	"github.com/gosde/gosde/solver"
)

// defaultChunkBytes bounds the device buffer of Brownian increments: a solve streams
// its increments in chunks of steps of at most this size (Engine.chunkBytes; tests
// make it small), generated on the host while the previous chunk computes (the
// Brownian Interval uses every core for batches of 16,384 values or more).
const defaultChunkBytes = 64 << 20

// fieldLayout is the kernels' layout of the neuralsde field that spec describes.
func fieldLayout(spec host.FieldSpec) (*kernels.Field, error) {
	drift, diffusion, m, noise, err := host.FieldShapes(spec)
	if err != nil {
		return nil, err
	}
	return kernels.NewField(spec.Dim, m, noise, drift, diffusion)
}

// drive says where a solve's increments come from: Brownian motion, queried on the
// host and copied in chunks, or a control path already on the device (len(Ts)×m×B,
// feature-major), whose increments a kernel computes.
type drive struct {
	mo brownian.Motion
	xs buffer
	// pre, when not nil, holds mo's increments for every step, already drawn (the
	// layout of a chunk of all N steps).
	pre []float32
}

// fieldSolve is the device side of one field's reversible-Heun solve at one batch
// size: the descriptor, the step grid and the per-path workspace on the device, and
// the chunked launches of the forward and adjoint kernels. Its inputs and outputs are
// device buffers, so that a caller can keep a whole training step on the device
// (ganLoss) or copy them from and to the host (gpuSolver). Its methods run inside
// be.do.
type fieldSolve struct {
	be                   backend
	field                *kernels.Field
	grid                 *kernels.Grid
	d, m, B, N, T, chunk int
	fwd, bwd             pathLaunch
	// dwFrom is the motion whose increments for every step dw[0] holds, when the
	// forward pass left them there (a solve in one chunk): the adjoint then uses them
	// instead of asking the Brownian Interval again.
	dwFrom brownian.Motion

	desc, ts, hs, outidx, interval, steps, first buffer
	ws, recon, recmax                            buffer
	dw                                           [2]buffer
	dwHost                                       [2][]float32
	qbuf                                         []float64
	bufs                                         []buffer
}

// reserve takes words float32 (or int32) words from the engine's pool for the
// lifetime of the owner, recorded in bufs for release.
func reserve(e *Engine, bufs *[]buffer, words int) (buffer, error) {
	b, err := e.pool.alloc(e.be, int64(4*max(words, 1)))
	if err != nil {
		return buffer{}, err
	}
	*bufs = append(*bufs, b)
	return b, nil
}

func release(e *Engine, bufs *[]buffer) {
	for _, b := range *bufs {
		e.pool.release(b)
	}
	*bufs = nil
}

func newFieldSolve(e *Engine, field *kernels.Field, grid *kernels.Grid, B int) (*fieldSolve, error) {
	f := &fieldSolve{be: e.be, field: field, grid: grid, d: field.Dim, m: field.NoiseDim, B: B, N: grid.Steps(), T: len(grid.Plan.Ts)}
	f.chunk = max(1, min(f.N, e.chunkBytes()/(4*B*f.m)))
	sms := e.be.multiprocessors()
	f.fwd = planPaths(field, B, sms, e.lanes, false)
	f.bwd = planPaths(field, B, sms, e.lanes, true)
	for i := range f.dwHost {
		f.dwHost[i] = make([]float32, f.chunk*f.m*B)
	}
	f.qbuf = make([]float64, B*f.m)
	interval := make([]int32, f.N)
	steps := make([]int32, f.T-1)
	first := make([]int32, f.T-1)
	for i, n := range grid.Plan.Steps {
		steps[i], first[i] = int32(n), int32(grid.First[i])
		for k := 0; k < n; k++ {
			interval[grid.First[i]+k] = int32(i)
		}
	}
	err := e.be.do(func() error {
		for _, a := range []struct {
			b *buffer
			n int
		}{
			{&f.desc, len(field.Desc)}, {&f.ts, f.N + 1}, {&f.hs, f.N}, {&f.outidx, f.N + 1},
			{&f.interval, f.N}, {&f.steps, f.T - 1}, {&f.first, f.T - 1},
			{&f.ws, field.Rows * B}, {&f.recon, f.T * B}, {&f.recmax, f.T},
			{&f.dw[0], f.chunk * f.m * B}, {&f.dw[1], f.chunk * f.m * B},
		} {
			var err error
			if *a.b, err = reserve(e, &f.bufs, a.n); err != nil {
				return err
			}
		}
		return errors.Join(upload(e.be, f.desc, field.Desc), upload(e.be, f.ts, grid.Ts), upload(e.be, f.hs, grid.Hs),
			upload(e.be, f.outidx, grid.OutIdx), upload(e.be, f.interval, interval), upload(e.be, f.steps, steps),
			upload(e.be, f.first, first))
	})
	if err != nil {
		release(e, &f.bufs)
		return nil, err
	}
	return f, nil
}

// increments fills device buffer k with the increments of steps n0…n1−1. Brownian
// increments are generated on the host (in reverse for the backward pass) while the
// previous chunk's kernel runs, and copied in order on the stream.
func (f *fieldSolve) increments(k, n0, n1 int, reverse bool, dr drive) error {
	if dr.mo == nil {
		return f.be.controlIncrements(dr.xs, f.dw[k], f.interval, f.steps, int64(f.m), int64(f.B), int64(n0), int64(n1))
	}
	if dr.pre != nil {
		return upload(f.be, f.dw[k], dr.pre[n0*f.m*f.B:n1*f.m*f.B])
	}
	h := f.dwHost[k][:(n1-n0)*f.m*f.B]
	if err := f.grid.MotionIncrements(dr.mo, n0, n1, reverse, f.qbuf, h); err != nil {
		return err
	}
	return upload(f.be, f.dw[k], h)
}

// forward solves from y0 (d×B) with parameters theta, writing the outputs into ys
// (len(Ts)×d×B).
func (f *fieldSolve) forward(theta, y0, ys buffer, dr drive) error {
	if pl, ok := dr.mo.(brownian.Planner); ok && dr.pre == nil {
		// A refused plan only costs speed: the Interval then answers unplanned.
		_ = pl.PlanGrid(f.grid.Plan)
	}
	B, N := int64(f.B), int64(f.N)
	f.dwFrom = nil
	for c, n0 := 0, 0; n0 < f.N; c, n0 = c+1, n0+f.chunk {
		n1 := min(n0+f.chunk, f.N)
		if err := f.increments(c%2, n0, n1, false, dr); err != nil {
			return err
		}
		if err := f.be.revheunForward(f.desc, theta, f.ws, y0, f.ts, f.hs, f.outidx, f.dw[c%2], ys, B, int64(n0), int64(n1), N, f.fwd); err != nil {
			return err
		}
	}
	if dr.mo != nil && f.chunk >= f.N {
		f.dwFrom = dr.mo
	}
	return nil
}

// backward runs the algebraic adjoint of the most recent forward (outputs ys) for the
// cotangent cot of the outputs: the path's parameter cotangents into gtheta (the
// field's rows, parameter j at j·B + p), dL/dy0 into ay0 and, for a control, the
// cotangent of every step's increment into adw (N×m×B; null for Brownian motion). It
// returns the largest reconstruction error at each output time.
func (f *fieldSolve) backward(theta, ys, cot, gtheta, adw, ay0 buffer, dr drive) ([]float32, error) {
	B, N := int64(f.B), int64(f.N)
	if err := f.be.zero(f.recon, int64(f.T)*B); err != nil {
		return nil, err
	}
	c := 0
	for n1 := f.N; n1 > 0; n1 -= f.chunk {
		n0 := max(0, n1-f.chunk)
		if !sameMotion(dr.mo, f.dwFrom) {
			if err := f.increments(c%2, n0, n1, true, dr); err != nil {
				return nil, err
			}
		}
		a := adw
		if !a.null() {
			a = a.offset(n0 * f.m * f.B)
		}
		if err := f.be.revheunBackward(f.desc, theta, f.ws, f.ts, f.hs, f.outidx, f.dw[c%2], ys, cot, gtheta, a, f.recon, ay0,
			B, int64(n0), int64(n1), N, f.bwd); err != nil {
			return nil, err
		}
		c++
	}
	if err := f.be.maxRows(f.recon, f.recmax, int64(f.T), B); err != nil {
		return nil, err
	}
	recon := make([]float32, f.T)
	return recon, download(f.be, recon, f.recmax)
}

// sameMotion reports whether a and b are the same motion (a caller's Motion of a
// type that == cannot compare is never the same).
func sameMotion(a, b brownian.Motion) bool {
	if a == nil || b == nil || !reflect.TypeOf(a).Comparable() {
		return false
	}
	return a == b
}

// gpuSolver is the GPU engine's host.Solver: a fieldSolve with its inputs and outputs
// copied from and to the host. Its device buffers live as long as the solver, so that
// a training loop which solves the same problem every step allocates nothing after its
// first.
type gpuSolver struct {
	e    *Engine
	spec host.FieldSpec
	prob host.Problem
	f    *fieldSolve
	d, m int
	B, T int

	params []float32
	ys     []float32 // outputs, path-major, returned by Forward
	soa    []float32 // staging for feature-major copies
	mo     brownian.Motion
	ready  bool
	closed bool

	bufs                                           []buffer
	theta, y0, dys, cot, gtheta, sum, ay0, xs, adw buffer
	axs                                            buffer
}

var _ host.Solver = (*gpuSolver)(nil)

func newSolver(e *Engine, spec host.FieldSpec, prob host.Problem) (*gpuSolver, error) {
	if err := spec.Check(); err != nil {
		return nil, err
	}
	field, err := fieldLayout(spec)
	if err != nil {
		return nil, err
	}
	return newSolverFor(e, spec, field, prob)
}

// NewLatentSolver returns a solver of a latent SDE's posterior; see host.LatentEngine.
func (e *Engine) NewLatentSolver(spec host.LatentSpec, prob host.Problem) (host.Solver, error) {
	if e.closed {
		return nil, errors.New("cuda: the engine is closed")
	}
	if !(spec.SigmaMin > 0) || !(spec.SigmaMax > spec.SigmaMin) {
		return nil, fmt.Errorf("cuda: latent σ range [%v, %v] must satisfy 0 < min < max", spec.SigmaMin, spec.SigmaMax)
	}
	field, err := kernels.NewLatentField(spec.Latent, spec.Context, spec.Posterior, spec.Prior, spec.Diffusion,
		spec.SigmaMin, spec.SigmaMax-spec.SigmaMin)
	if err != nil {
		return nil, err
	}
	// As a solve, it is an SDE with diagonal noise on all of its state.
	fs := host.FieldSpec{Kind: host.SDE, Dim: field.Dim, NoiseDim: field.Dim, Noise: solver.Diagonal}
	return newSolverFor(e, fs, field, prob)
}

// newSolverFor is newSolver for a field already laid out; spec says how it is driven.
func newSolverFor(e *Engine, spec host.FieldSpec, field *kernels.Field, prob host.Problem) (*gpuSolver, error) {
	if err := prob.Check(); err != nil {
		return nil, err
	}
	grid, err := kernels.NewGrid(prob.Ts, prob.Dt)
	if err != nil {
		return nil, err
	}
	f, err := newFieldSolve(e, field, grid, prob.Batch)
	if err != nil {
		return nil, err
	}
	s := &gpuSolver{e: e, spec: spec, prob: prob, f: f, d: field.Dim, m: field.NoiseDim, B: prob.Batch, T: len(prob.Ts)}
	s.prob.Ts = append([]float64(nil), prob.Ts...)
	s.params = make([]float32, field.NumParams)
	s.ys = make([]float32, s.T*s.B*s.d)
	s.soa = make([]float32, max(s.T*s.B*s.d, s.T*s.B*s.m))
	err = e.be.do(func() error {
		B, T, d, m, P, N := s.B, s.T, s.d, s.m, field.NumParams, f.N
		sizes := []struct {
			b *buffer
			n int
		}{
			{&s.theta, P}, {&s.y0, d * B}, {&s.dys, T * d * B}, {&s.cot, T * d * B},
			{&s.gtheta, P * B}, {&s.sum, P}, {&s.ay0, d * B},
		}
		if spec.Kind == host.CDE {
			sizes = append(sizes, []struct {
				b *buffer
				n int
			}{{&s.xs, T * m * B}, {&s.adw, N * m * B}, {&s.axs, T * m * B}}...)
		}
		for _, z := range sizes {
			var err error
			if *z.b, err = reserve(e, &s.bufs, z.n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *gpuSolver) NumParams() int    { return len(s.params) }
func (s *gpuSolver) Params() []float32 { return s.params }

var errClosed = errors.New("cuda: the solver is closed")

// Forward solves on the GPU; see host.FieldSolver.
func (s *gpuSolver) Forward(y0 []float32, mo brownian.Motion, xs []float32, forwardOnly bool) ([]float32, error) {
	if s.closed {
		return nil, errClosed
	}
	s.ready = false
	if err := s.checkInputs(y0, mo, xs); err != nil {
		return nil, err
	}
	s.mo = mo
	err := s.e.be.do(func() error {
		be := s.e.be
		if err := upload(be, s.theta, s.params); err != nil {
			return err
		}
		if err := upload(be, s.y0, toFeatureMajor(s.soa[:s.B*s.d], y0, s.B, s.d)); err != nil {
			return err
		}
		if xs != nil {
			soa := s.soa[:s.T*s.m*s.B]
			for i := 0; i < s.T; i++ {
				toFeatureMajor(soa[i*s.m*s.B:(i+1)*s.m*s.B], xs[i*s.B*s.m:(i+1)*s.B*s.m], s.B, s.m)
			}
			if err := upload(be, s.xs, soa); err != nil {
				return err
			}
		}
		if err := s.f.forward(s.theta, s.y0, s.dys, s.drive()); err != nil {
			return err
		}
		soa := s.soa[:s.T*s.d*s.B]
		if err := download(be, soa, s.dys); err != nil {
			return err
		}
		for i := 0; i < s.T; i++ {
			fromFeatureMajor(s.ys[i*s.B*s.d:(i+1)*s.B*s.d], soa[i*s.d*s.B:(i+1)*s.d*s.B], s.B, s.d)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, v := range s.ys {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t := i / (s.B * s.d)
			return nil, fmt.Errorf("cuda: %w (at output time %v); reduce Dt, or bound the vector fields", solver.ErrNonFinite, s.prob.Ts[t])
		}
	}
	s.ready = !forwardOnly
	return s.ys, nil
}

func (s *gpuSolver) drive() drive {
	if s.spec.Kind == host.CDE {
		return drive{xs: s.xs}
	}
	return drive{mo: s.mo}
}

// Backward runs the algebraic adjoint on the GPU; see host.FieldSolver.
func (s *gpuSolver) Backward(gradYs []float32) (*solver.Gradients[float32], error) {
	if s.closed {
		return nil, errClosed
	}
	if !s.ready {
		return nil, errors.New("cuda: Backward needs a preceding Forward without forwardOnly")
	}
	if len(gradYs) != s.T*s.B*s.d {
		return nil, fmt.Errorf("cuda: len(gradYs) = %d, want len(Ts)×Batch×Dim = %d×%d×%d = %d", len(gradYs), s.T, s.B, s.d, s.T*s.B*s.d)
	}
	g := &solver.Gradients[float32]{
		Y0: make([]float32, s.B*s.d), Params: make([]float32, len(s.params)),
		ReconstructionErrors: make([]float64, s.T), Evals: s.f.N + 1, VJPs: s.f.N + 1,
	}
	var recon []float32
	err := s.e.be.do(func() error {
		be := s.e.be
		soa := s.soa[:s.T*s.d*s.B]
		for i := 0; i < s.T; i++ {
			toFeatureMajor(soa[i*s.d*s.B:(i+1)*s.d*s.B], gradYs[i*s.B*s.d:(i+1)*s.B*s.d], s.B, s.d)
		}
		if err := upload(be, s.cot, soa); err != nil {
			return err
		}
		var err error
		if recon, err = s.f.backward(s.theta, s.dys, s.cot, s.gtheta, s.adw, s.ay0, s.drive()); err != nil {
			return err
		}
		if err := be.sumRows(s.gtheta, s.sum, int64(len(s.params)), int64(s.B), 1, false); err != nil {
			return err
		}
		if err := download(be, g.Params, s.sum); err != nil {
			return err
		}
		ay0 := s.soa[:s.d*s.B]
		if err := download(be, ay0, s.ay0); err != nil {
			return err
		}
		fromFeatureMajor(g.Y0, ay0, s.B, s.d)
		if s.spec.Kind != host.CDE {
			return nil
		}
		if err := be.zero(s.axs, int64(s.T*s.m*s.B)); err != nil {
			return err
		}
		if err := be.chainControl(s.adw, s.axs, s.f.first, s.f.steps, int64(s.T), int64(s.m), int64(s.B)); err != nil {
			return err
		}
		axs := s.soa[:s.T*s.m*s.B]
		if err := download(be, axs, s.axs); err != nil {
			return err
		}
		g.Control = make([]float32, s.T*s.B*s.m)
		for i := 0; i < s.T; i++ {
			fromFeatureMajor(g.Control[i*s.B*s.m:(i+1)*s.B*s.m], axs[i*s.m*s.B:(i+1)*s.m*s.B], s.B, s.m)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	maxRecon(recon, g.ReconstructionErrors)
	g.ReconstructionError = g.ReconstructionErrors[0] // at y0, as the CPU engine reports it
	return g, nil
}

// maxRecon copies the per-output reconstruction errors into dst and returns the
// largest (NaN if any is NaN).
func maxRecon(recon []float32, dst []float64) float64 {
	m := 0.0
	for i, e := range recon {
		if dst != nil {
			dst[i] = float64(e)
		}
		if e != e {
			return math.NaN()
		}
		m = math.Max(m, float64(e))
	}
	return m
}

// checkInputs is host.CheckInputs plus what the CPU engine's solver checks itself and
// the kernels would not: a motion that covers the output times, a finite control.
func (s *gpuSolver) checkInputs(y0 []float32, mo brownian.Motion, xs []float32) error {
	if err := host.CheckInputs(s.spec, s.prob, y0, mo, xs); err != nil {
		return err
	}
	if mo != nil {
		if t0, t1 := mo.Span(); t0 > s.prob.Ts[0] || t1 < s.prob.Ts[s.T-1] {
			return fmt.Errorf("cuda: mo spans [%v, %v], which does not cover the output times [%v, %v]", t0, t1, s.prob.Ts[0], s.prob.Ts[s.T-1])
		}
	}
	for i, v := range xs {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("cuda: xs[%d] = %v is not finite", i, v)
		}
	}
	return nil
}

// Close returns the solver's device memory to the engine's pool.
func (s *gpuSolver) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	release(s.e, &s.bufs)
	if s.f != nil {
		release(s.e, &s.f.bufs)
	}
	return nil
}
