package cuda

import (
	"errors"
	"fmt"
	"math"

	"github.com/gosde/gosde/brownian"
	"github.com/gosde/gosde/host"
	"github.com/gosde/gosde/kernels"
	"github.com/gosde/gosde/neuralsde"
	"github.com/gosde/gosde/solver"
)

// chunkBytes bounds the device buffer of Brownian increments: a solve streams its
// increments in chunks of steps of at most this size, generated on the host (the
// Brownian Interval uses every core) while the previous chunk computes.
const chunkBytes = 64 << 20

// gpuSolver is the GPU engine's host.Solver: the fused reversible-Heun kernels over
// device buffers that live as long as the solver, so that a training loop which solves
// the same problem every step allocates nothing after its first.
type gpuSolver struct {
	e     *Engine
	spec  host.FieldSpec
	prob  host.Problem
	field *kernels.Field
	grid  *kernels.Grid
	d, m  int
	B, N  int
	T     int
	chunk int // steps per chunk of increments

	params []float32
	ys     []float32 // outputs, path-major, returned by Forward
	soa    []float32 // staging for feature-major copies
	dwHost [2][]float32
	qbuf   []float64
	mo     brownian.Motion
	xs     []float32
	ready  bool
	closed bool

	bufs                                      []buffer
	desc, ts, hs, outidx                      buffer
	theta, ws, y0, dys, cot, gtheta, adw, sum buffer
	recon, recmax, ay0                        buffer
	dw                                        [2]buffer
}

var _ host.Solver = (*gpuSolver)(nil)

func fieldLayout(spec host.FieldSpec) (*kernels.Field, error) {
	switch spec.Kind {
	case host.SDE:
		f, err := neuralsde.New[float32](neuralsde.Config{Dim: spec.Dim, NoiseDim: spec.DrivingDim(), Noise: spec.Noise,
			Width: spec.Width, Depth: spec.Depth, Hidden: spec.Hidden}, 0)
		if err != nil {
			return nil, fmt.Errorf("cuda: %w", err)
		}
		return kernels.NewField(spec.Dim, f.NoiseDim(), f.Noise(), f.Drift(), f.Diffusion())
	case host.CDE:
		f, err := neuralsde.NewCDE[float32](neuralsde.CDEConfig{Dim: spec.Dim, ControlDim: spec.NoiseDim,
			Width: spec.Width, Depth: spec.Depth, Hidden: spec.Hidden}, 0)
		if err != nil {
			return nil, fmt.Errorf("cuda: %w", err)
		}
		return kernels.NewField(spec.Dim, f.NoiseDim(), solver.General, nil, f.MLP())
	}
	return nil, fmt.Errorf("cuda: unknown field kind %v", spec.Kind)
}

func newSolver(e *Engine, spec host.FieldSpec, prob host.Problem) (*gpuSolver, error) {
	if err := spec.Check(); err != nil {
		return nil, err
	}
	if err := prob.Check(); err != nil {
		return nil, err
	}
	field, err := fieldLayout(spec)
	if err != nil {
		return nil, err
	}
	grid, err := kernels.NewGrid(prob.Ts, prob.Dt)
	if err != nil {
		return nil, err
	}
	s := &gpuSolver{e: e, spec: spec, prob: prob, field: field, grid: grid,
		d: field.Dim, m: field.NoiseDim, B: prob.Batch, N: grid.Steps(), T: len(prob.Ts)}
	s.prob.Ts = append([]float64(nil), prob.Ts...)
	s.params = make([]float32, field.NumParams)
	s.ys = make([]float32, s.T*s.B*s.d)
	s.soa = make([]float32, max(s.T*s.B*s.d, s.B*s.m*s.N))
	s.chunk = max(1, min(s.N, chunkBytes/(4*s.B*s.m)))
	for i := range s.dwHost {
		s.dwHost[i] = make([]float32, s.chunk*s.m*s.B)
	}
	s.qbuf = make([]float64, s.B*s.m)
	if err := e.be.do(s.allocate); err != nil {
		s.releaseAll()
		return nil, err
	}
	return s, nil
}

// allocate takes every device buffer from the engine's pool and uploads the constant
// data (descriptor, grid). Runs on the device thread.
func (s *gpuSolver) allocate() error {
	B, N, T, d, m := int64(s.B), int64(s.N), int64(s.T), int64(s.d), int64(s.m)
	P := int64(s.field.NumParams)
	get := func(dst *buffer, words int64) error {
		b, err := s.e.pool.alloc(s.e.be, 4*words)
		if err != nil {
			return err
		}
		*dst = b
		s.bufs = append(s.bufs, b)
		return nil
	}
	sizes := []struct {
		b *buffer
		n int64
	}{
		{&s.desc, int64(len(s.field.Desc))}, {&s.ts, N + 1}, {&s.hs, N}, {&s.outidx, N + 1},
		{&s.theta, P}, {&s.ws, int64(s.field.Rows) * B}, {&s.y0, d * B}, {&s.dys, T * d * B}, {&s.cot, T * d * B},
		{&s.gtheta, P * B}, {&s.sum, P}, {&s.recon, T * B}, {&s.recmax, T}, {&s.ay0, d * B},
		{&s.dw[0], int64(s.chunk) * m * B}, {&s.dw[1], int64(s.chunk) * m * B},
	}
	if s.spec.Kind == host.CDE {
		sizes = append(sizes, struct {
			b *buffer
			n int64
		}{&s.adw, N * m * B})
	}
	for _, z := range sizes {
		if err := get(z.b, z.n); err != nil {
			return err
		}
	}
	be := s.e.be
	return errors.Join(upload(be, s.desc, s.field.Desc), upload(be, s.ts, s.grid.Ts),
		upload(be, s.hs, s.grid.Hs), upload(be, s.outidx, s.grid.OutIdx))
}

func (s *gpuSolver) releaseAll() {
	for _, b := range s.bufs {
		s.e.pool.release(b)
	}
	s.bufs = nil
}

func (s *gpuSolver) NumParams() int    { return s.field.NumParams }
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
	if pl, ok := mo.(brownian.Planner); ok {
		// A refused plan only costs speed: the Interval then answers unplanned.
		_ = pl.PlanGrid(s.grid.Plan)
	}
	s.mo = mo
	s.xs = append(s.xs[:0], xs...)
	err := s.e.be.do(func() error {
		be := s.e.be
		if err := upload(be, s.theta, s.params); err != nil {
			return err
		}
		if err := upload(be, s.y0, kernels.ToFeatureMajor(s.soa[:s.B*s.d], y0, s.B, s.d)); err != nil {
			return err
		}
		for c, n0 := 0, 0; n0 < s.N; c, n0 = c+1, n0+s.chunk {
			n1 := min(n0+s.chunk, s.N)
			if err := s.increments(c%2, n0, n1, false); err != nil {
				return err
			}
			if err := be.revheunForward(s.desc, s.theta, s.ws, s.y0, s.ts, s.hs, s.outidx,
				s.dw[c%2], s.dys, int64(s.B), int64(n0), int64(n1), int64(s.N)); err != nil {
				return err
			}
		}
		soa := s.soa[:s.T*s.d*s.B]
		if err := download(be, soa, s.dys); err != nil {
			return err
		}
		for i := 0; i < s.T; i++ {
			kernels.FromFeatureMajor(s.ys[i*s.B*s.d:(i+1)*s.B*s.d], soa[i*s.d*s.B:(i+1)*s.d*s.B], s.B, s.d)
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

// increments copies the driving increments of steps n0…n1−1 into device buffer k:
// re-queried from the Brownian motion (in reverse for the backward pass) or
// interpolated from the control. The copy is ordered on the stream, so the previous
// chunk's kernel may still be running while the host generates this one.
func (s *gpuSolver) increments(k, n0, n1 int, reverse bool) error {
	h := s.dwHost[k][:(n1-n0)*s.m*s.B]
	if s.mo != nil {
		if err := s.grid.MotionIncrements(s.mo, n0, n1, reverse, s.qbuf, h); err != nil {
			return err
		}
	} else {
		s.grid.ControlIncrements(s.xs, s.B, s.m, n0, n1, h)
	}
	return upload(s.e.be, s.dw[k], h)
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
		Y0: make([]float32, s.B*s.d), Params: make([]float32, s.field.NumParams),
		ReconstructionErrors: make([]float64, s.T), Evals: s.N + 1, VJPs: s.N + 1,
	}
	var adwHost []float32
	recon := make([]float32, s.T)
	err := s.e.be.do(func() error {
		be := s.e.be
		soa := s.soa[:s.T*s.d*s.B]
		for i := 0; i < s.T; i++ {
			kernels.ToFeatureMajor(soa[i*s.d*s.B:(i+1)*s.d*s.B], gradYs[i*s.B*s.d:(i+1)*s.B*s.d], s.B, s.d)
		}
		if err := upload(be, s.cot, soa); err != nil {
			return err
		}
		if err := be.zero(s.recon, int64(s.T*s.B)); err != nil {
			return err
		}
		c := 0
		for n1 := s.N; n1 > 0; n1 -= s.chunk {
			n0 := max(0, n1-s.chunk)
			if err := s.increments(c%2, n0, n1, true); err != nil {
				return err
			}
			adw := s.adw
			if !adw.null() {
				adw = adw.offset(n0 * s.m * s.B)
			}
			if err := be.revheunBackward(s.desc, s.theta, s.ws, s.ts, s.hs, s.outidx, s.dw[c%2],
				s.dys, s.cot, s.gtheta, adw, s.recon, s.ay0, int64(s.B), int64(n0), int64(n1), int64(s.N)); err != nil {
				return err
			}
			c++
		}
		if err := be.sumRows(s.gtheta, s.sum, int64(s.field.NumParams), int64(s.B), 1, false); err != nil {
			return err
		}
		if err := be.maxRows(s.recon, s.recmax, int64(s.T), int64(s.B)); err != nil {
			return err
		}
		if err := download(be, g.Params, s.sum); err != nil {
			return err
		}
		if err := download(be, recon, s.recmax); err != nil {
			return err
		}
		ay0 := s.soa[:s.d*s.B]
		if err := download(be, ay0, s.ay0); err != nil {
			return err
		}
		kernels.FromFeatureMajor(g.Y0, ay0, s.B, s.d)
		if s.spec.Kind == host.CDE {
			adwHost = make([]float32, s.N*s.m*s.B)
			return download(be, adwHost, s.adw)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, e := range recon {
		g.ReconstructionErrors[i] = float64(e)
		g.ReconstructionError = math.Max(g.ReconstructionError, float64(e))
		if e != e {
			g.ReconstructionError = math.NaN()
		}
	}
	if adwHost != nil {
		g.Control = s.grid.ChainControl(adwHost, s.B, s.m)
	}
	return g, nil
}

func (s *gpuSolver) checkInputs(y0 []float32, mo brownian.Motion, xs []float32) error {
	if len(y0) != s.B*s.d {
		return fmt.Errorf("cuda: len(y0) = %d, want Batch×Dim = %d×%d = %d", len(y0), s.B, s.d, s.B*s.d)
	}
	switch s.spec.Kind {
	case host.SDE:
		if mo == nil || xs != nil {
			return errors.New("cuda: an SDE is driven by Brownian motion: pass mo and a nil xs")
		}
		if mo.Batch() != s.B || mo.Dim() != s.m {
			return fmt.Errorf("cuda: mo has %d paths of %d channels, want %d of %d", mo.Batch(), mo.Dim(), s.B, s.m)
		}
		if t0, t1 := mo.Span(); t0 > s.prob.Ts[0] || t1 < s.prob.Ts[s.T-1] {
			return fmt.Errorf("cuda: mo spans [%v, %v], which does not cover the output times [%v, %v]", t0, t1, s.prob.Ts[0], s.prob.Ts[s.T-1])
		}
	case host.CDE:
		if mo != nil {
			return errors.New("cuda: a CDE is driven by its control: pass xs and a nil mo")
		}
		if len(xs) != s.T*s.B*s.m {
			return fmt.Errorf("cuda: len(xs) = %d, want len(Ts)×Batch×NoiseDim = %d×%d×%d = %d", len(xs), s.T, s.B, s.m, s.T*s.B*s.m)
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
	s.releaseAll()
	return nil
}
