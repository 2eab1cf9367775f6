package host

import (
	"errors"
	"fmt"
	"math"

	"github.com/gosde/gosde/brownian"
	"github.com/gosde/gosde/neuralsde"
	"github.com/gosde/gosde/nn"
	"github.com/gosde/gosde/solver"
)

// CPU is the engine that computes in Go on the host's cores: neuralsde's fields solved
// by solver.Solve and solver.SolveCDE with reversible Heun and the Reversible adjoint.
// It is the reference every other engine is compared with. It holds nothing, so Close
// has nothing to release.
type CPU struct {
	fallback error
}

var _ Engine = (*CPU)(nil)

// NewCPU returns the CPU engine.
func NewCPU() *CPU { return &CPU{} }

// Name is "cpu".
func (*CPU) Name() string { return "cpu" }

// Fallback is why Open("auto") chose this engine although a GPU engine is linked in
// (the GPU engine's error); nil when the CPU was asked for or is all there is. Callers
// show it so that a GPU build silently running on the CPU does not go unnoticed.
func (c *CPU) Fallback() error { return c.fallback }

// NewSolver returns a CPUSolver[float32].
func (*CPU) NewSolver(spec FieldSpec, prob Problem) (Solver, error) {
	s, err := NewCPUSolver[float32](spec, prob)
	if err != nil {
		// A nil *CPUSolver in a Solver would not compare equal to nil.
		return nil, err
	}
	return s, nil
}

// Close does nothing: the CPU engine holds no resources.
func (*CPU) Close() error { return nil }

// DrivingDim is the number of channels that drive the field: the Brownian motion's
// for an SDE (Dim for Diagonal noise, 1 for Scalar, NoiseDim otherwise), the control's
// for a CDE. It is meaningful for a spec that Check accepts.
func (s FieldSpec) DrivingDim() int {
	if s.Kind == SDE {
		switch s.Noise {
		case solver.Diagonal:
			return s.Dim
		case solver.Scalar:
			return 1
		}
	}
	return s.NoiseDim
}

// Check reports the first thing wrong with the spec. Unlike neuralsde.Config, zero
// sizes are errors, not defaults: every engine must build the same field from a spec.
func (s FieldSpec) Check() error {
	if s.Kind != SDE && s.Kind != CDE {
		return fmt.Errorf("host: unknown field Kind %d; use SDE or CDE", int(s.Kind))
	}
	if s.Dim < 1 {
		return fmt.Errorf("host: field Dim (state size) must be at least 1, got %d", s.Dim)
	}
	if s.Width < 1 {
		return fmt.Errorf("host: field Width (hidden width of the MLPs) must be at least 1, got %d", s.Width)
	}
	if !s.Hidden.Valid() {
		return fmt.Errorf("host: field Hidden is not a valid activation: %v", s.Hidden)
	}
	if s.Kind == CDE {
		if s.Noise != solver.Diagonal && s.Noise != solver.General {
			// Diagonal is Noise's zero value, i.e. left unset.
			return fmt.Errorf("host: a CDE field is driven through a full d×c matrix; leave Noise unset or General, got %d", int(s.Noise))
		}
		if s.NoiseDim < 1 {
			return fmt.Errorf("host: CDE field NoiseDim (control channels) must be at least 1, got %d", s.NoiseDim)
		}
		return nil
	}
	switch s.Noise {
	case solver.General, solver.Additive:
		if s.NoiseDim < 1 {
			return fmt.Errorf("host: SDE field NoiseDim (Brownian channels) must be at least 1 for General and Additive noise, got %d", s.NoiseDim)
		}
	case solver.Diagonal:
		if s.NoiseDim != 0 && s.NoiseDim != s.Dim {
			return fmt.Errorf("host: Diagonal noise has as many Brownian channels as Dim (%d); NoiseDim must be 0 or %d, got %d", s.Dim, s.Dim, s.NoiseDim)
		}
	case solver.Scalar:
		if s.NoiseDim != 0 && s.NoiseDim != 1 {
			return fmt.Errorf("host: Scalar noise has one Brownian channel; NoiseDim must be 0 or 1, got %d", s.NoiseDim)
		}
	default:
		return fmt.Errorf("host: unknown Noise %d; use Diagonal, General, Additive or Scalar", int(s.Noise))
	}
	return nil
}

// Check reports the first thing wrong with the problem.
func (p Problem) Check() error {
	if p.Batch < 1 {
		return fmt.Errorf("host: Problem.Batch must be at least 1 path, got %d", p.Batch)
	}
	if len(p.Ts) < 2 {
		return fmt.Errorf("host: Problem.Ts needs at least 2 output times, got %d", len(p.Ts))
	}
	for i, t := range p.Ts {
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return fmt.Errorf("host: Problem.Ts[%d] = %v is not finite", i, t)
		}
		if i > 0 && !(t > p.Ts[i-1]) {
			return fmt.Errorf("host: Problem.Ts must be strictly increasing, but Ts[%d] = %v ≤ Ts[%d] = %v", i, t, i-1, p.Ts[i-1])
		}
	}
	if !(p.Dt > 0) || math.IsInf(p.Dt, 0) {
		return fmt.Errorf("host: Problem.Dt must be a finite positive step, got %v", p.Dt)
	}
	return nil
}

// field is what CPUSolver needs of a neuralsde field.
type field[F solver.Float] interface {
	solver.Differentiable[F]
	Params() []F
}

// CPUSolver is the CPU engine's solver in element type F: a neuralsde field solved by
// package solver. CPUSolver[float32] is what CPU.NewSolver returns; CPUSolver[float64]
// serves gradient tests. Not safe for concurrent use.
type CPUSolver[F solver.Float] struct {
	spec   FieldSpec
	prob   Problem
	field  field[F]
	opt    solver.Options
	sol    *solver.Solution[F] // of the last successful Forward
	bwd    bool                // whether sol may be differentiated
	closed bool
}

var _ Solver = (*CPUSolver[float32])(nil)

// NewCPUSolver returns a solver for the field on the problem, with parameters zero.
func NewCPUSolver[F solver.Float](spec FieldSpec, prob Problem) (*CPUSolver[F], error) {
	if err := spec.Check(); err != nil {
		return nil, err
	}
	if err := prob.Check(); err != nil {
		return nil, err
	}
	s := &CPUSolver[F]{spec: spec, prob: prob}
	s.prob.Ts = append([]float64(nil), prob.Ts...)
	s.opt = solver.Options{Method: solver.ReversibleHeun, Adjoint: solver.Reversible, Dt: prob.Dt}
	// neuralsde initialises from a seed; the seed is irrelevant because the parameters
	// are zeroed: every engine starts at zero and the caller sets them.
	f, err := newField[F](spec)
	if err != nil {
		return nil, err
	}
	s.field = f
	clear(s.field.Params())
	return s, nil
}

// NumParams is the length of Params.
func (s *CPUSolver[F]) NumParams() int { return s.field.NumParams() }

// Params is the neuralsde field's own parameter vector: writes take effect at the next
// Forward.
func (s *CPUSolver[F]) Params() []F { return s.field.Params() }

var errClosed = errors.New("host: the solver is closed")

// Forward solves from y0; see FieldSolver.
func (s *CPUSolver[F]) Forward(y0 []F, mo brownian.Motion, xs []F, forwardOnly bool) ([]F, error) {
	if s.closed {
		return nil, errClosed
	}
	// A failed Forward must not leave the previous solve to be differentiated as if it
	// were this one.
	s.sol, s.bwd = nil, false
	if err := CheckInputs(s.spec, s.prob, y0, mo, xs); err != nil {
		return nil, err
	}
	opt := s.opt
	opt.ForwardOnly = forwardOnly
	var sol *solver.Solution[F]
	var err error
	switch s.spec.Kind {
	case SDE:
		opt.Motion = mo
		sol, err = solver.Solve[F](s.field, y0, s.prob.Ts, opt)
	case CDE:
		sol, err = solver.SolveCDE[F](s.field, y0, s.prob.Ts, xs, opt)
	}
	if err != nil {
		return nil, err
	}
	s.sol, s.bwd = sol, !forwardOnly
	return sol.Ys, nil
}

// Backward differentiates the last Forward; see FieldSolver.
func (s *CPUSolver[F]) Backward(gradYs []F) (*solver.Gradients[F], error) {
	switch {
	case s.closed:
		return nil, errClosed
	case s.sol == nil:
		return nil, errors.New("host: Backward needs a successful Forward first")
	case !s.bwd:
		return nil, errors.New("host: the last Forward was forwardOnly, so it cannot be differentiated; run Forward with forwardOnly false")
	}
	return s.sol.Backward(gradYs)
}

// Close drops the solve; the solver must not be used afterwards (it returns errors).
func (s *CPUSolver[F]) Close() error {
	s.closed, s.sol, s.bwd = true, nil, false
	return nil
}

// newField returns the neuralsde field of spec. neuralsde initialises its parameters
// from a seed; callers that want every engine to start alike clear them.
func newField[F solver.Float](spec FieldSpec) (field[F], error) {
	switch spec.Kind {
	case SDE:
		f, err := neuralsde.New[F](neuralsde.Config{Dim: spec.Dim, NoiseDim: spec.DrivingDim(), Noise: spec.Noise,
			Width: spec.Width, Depth: spec.Depth, Hidden: spec.Hidden}, 0)
		if err != nil {
			return nil, fmt.Errorf("host: %w", err)
		}
		return f, nil
	case CDE:
		f, err := neuralsde.NewCDE[F](neuralsde.CDEConfig{Dim: spec.Dim, ControlDim: spec.NoiseDim,
			Width: spec.Width, Depth: spec.Depth, Hidden: spec.Hidden}, 0)
		if err != nil {
			return nil, fmt.Errorf("host: %w", err)
		}
		return f, nil
	}
	return nil, fmt.Errorf("host: unknown field Kind %d; use SDE or CDE", int(spec.Kind))
}

// FieldShapes returns the networks of spec as neuralsde lays them out (drift, nil for
// a CDE, then diffusion), its driving channels and how g acts on them, for engines
// that evaluate the same field elsewhere.
func FieldShapes(spec FieldSpec) (drift, diffusion *nn.MLP, noiseDim int, noise solver.Noise, err error) {
	if err := spec.Check(); err != nil {
		return nil, nil, 0, 0, err
	}
	f, err := newField[float32](spec)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	if sde, ok := f.(*neuralsde.NeuralSDE[float32]); ok {
		return sde.Drift(), sde.Diffusion(), sde.NoiseDim(), sde.Noise(), nil
	}
	cde := f.(*neuralsde.NeuralCDE[float32])
	return nil, cde.MLP(), cde.NoiseDim(), solver.General, nil
}

// CheckInputs reports what is wrong with the inputs of a Forward of a field of spec on
// prob: y0's length, and a driver that matches the kind (Brownian motion of Batch
// paths and DrivingDim channels for an SDE; a control of len(Ts)×Batch×NoiseDim values
// for a CDE). Every engine checks the same things with the same words.
func CheckInputs[F solver.Float](spec FieldSpec, prob Problem, y0 []F, mo brownian.Motion, xs []F) error {
	b, d := prob.Batch, spec.Dim
	if len(y0) != b*d {
		return fmt.Errorf("host: len(y0) = %d, want Batch×Dim = %d×%d = %d", len(y0), b, d, b*d)
	}
	switch spec.Kind {
	case SDE:
		if mo == nil {
			return errors.New("host: an SDE is driven by Brownian motion, but mo is nil")
		}
		if xs != nil {
			return errors.New("host: an SDE is driven by mo alone; xs must be nil")
		}
		if m := spec.DrivingDim(); mo.Batch() != b || mo.Dim() != m {
			return fmt.Errorf("host: mo has %d paths of %d channels, want Batch = %d paths of %d channels", mo.Batch(), mo.Dim(), b, m)
		}
	case CDE:
		if mo != nil {
			return errors.New("host: a CDE is driven by the control xs; mo must be nil")
		}
		c := spec.NoiseDim
		if want := len(prob.Ts) * b * c; len(xs) != want {
			return fmt.Errorf("host: len(xs) = %d, want len(Ts)×Batch×NoiseDim = %d×%d×%d = %d", len(xs), len(prob.Ts), b, c, want)
		}
	}
	return nil
}
