package latent

import (
	"errors"
	"fmt"

	"github.com/gosde/gosde/host"
	"github.com/gosde/gosde/solver"
)

// Option configures New.
type Option func(*options)

type options struct{ engine host.Engine }

// WithEngine solves the posterior SDE on eng when it can (a host.LatentEngine: the GPU
// engine), with reversible Heun and the reversible adjoint; nil or the CPU engine keeps
// the solve in this package. The model does not own eng: Close the model first, then
// the engine.
func WithEngine(eng host.Engine) Option { return func(o *options) { o.engine = eng } }

// useEngine routes the posterior solves to eng's solvers. Engines compute in float32
// and solve only with reversible Heun and its algebraic adjoint.
func (e *engine[F]) useEngine(eng host.Engine) error {
	if _, cpu := eng.(*host.CPU); cpu {
		return nil
	}
	le, ok := eng.(host.LatentEngine)
	if !ok {
		return fmt.Errorf("latent: the %s engine cannot solve the latent SDE; use --device cpu", eng.Name())
	}
	var zero F
	if _, ok := any(zero).(float32); !ok {
		return fmt.Errorf("latent: the %s engine computes in float32, this model in %T", eng.Name(), zero)
	}
	if e.opt.Method != solver.ReversibleHeun || e.opt.Adjoint != solver.Reversible {
		return fmt.Errorf("latent: the %s engine solves with reversible Heun and the reversible adjoint only, not %v with %v; use --device cpu for the others",
			eng.Name(), e.opt.Method, e.opt.Adjoint)
	}
	e.dev = le
	return nil
}

// devSolver returns the engine's posterior solver for b paths, made on first use.
// Sizes are few (the training batch, Evaluate's last partial batch), so they are kept.
func (e *engine[F]) devSolver(b int) (host.Solver, error) {
	if s, ok := e.devSolvers[b]; ok {
		return s, nil
	}
	n := e.nets
	spec := host.LatentSpec{Latent: n.d, Context: n.k, Posterior: n.f, Prior: n.h, Diffusion: n.g,
		SigmaMin: n.sigMin, SigmaMax: n.sigMin + n.sigSpan}
	s, err := e.dev.NewLatentSolver(spec, host.Problem{Ts: e.times, Dt: e.opt.Dt, Batch: b})
	if err != nil {
		return nil, fmt.Errorf("latent: %s engine: %w", e.dev.Name(), err)
	}
	if s.NumParams() != n.numParams() {
		s.Close()
		return nil, fmt.Errorf("latent: the %s engine's posterior has %d parameters, the model's %d", e.dev.Name(), s.NumParams(), n.numParams())
	}
	if e.devSolvers == nil {
		e.devSolvers = map[int]host.Solver{}
	}
	e.devSolvers[b] = s
	return s, nil
}

// posteriorSolve is the posterior's solve from y0 (b paths) with field parameters fp:
// on the engine's device when the model has one, here otherwise. It returns the states
// at output time t and the backward pass for cotangents of all of them.
func (e *engine[F]) posteriorSolve(b int, fp, y0 []F, mo solver.Options) (at func(t int) []F, backward func(aYs []F) (*solver.Gradients[F], error), err error) {
	D := e.d + e.k + 1
	if e.dev == nil {
		e.post.params = fp
		sol, err := solver.Solve[F](e.post, y0, e.times, mo)
		if err != nil {
			return nil, nil, err
		}
		e.lastSol = sol
		return sol.At, sol.Backward, nil
	}
	s, err := e.devSolver(b)
	if err != nil {
		return nil, nil, err
	}
	copy(s.Params(), any(fp).([]float32))
	ys, err := s.Forward(any(y0).([]float32), mo.Motion, nil, mo.ForwardOnly)
	if err != nil {
		return nil, nil, err
	}
	e.lastSol = nil
	yf := any(ys).([]F)
	at = func(t int) []F { return yf[t*b*D : (t+1)*b*D] }
	backward = func(aYs []F) (*solver.Gradients[F], error) {
		g, err := s.Backward(any(aYs).([]float32))
		if err != nil {
			return nil, err
		}
		return any(g).(*solver.Gradients[F]), nil
	}
	return at, backward, nil
}

// closeSolvers releases the engine's solvers.
func (e *engine[F]) closeSolvers() error {
	var errs []error
	for b, s := range e.devSolvers {
		errs = append(errs, s.Close())
		delete(e.devSolvers, b)
	}
	return errors.Join(errs...)
}

// Close releases what the model holds on its engine (device memory on a GPU). A model
// used after Close makes new solvers, so Close the engine only after its models.
func (m *Model) Close() error { return m.e.closeSolvers() }
