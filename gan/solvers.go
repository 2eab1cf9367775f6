package gan

import (
	"errors"
	"fmt"

	"github.com/gosde/gosde/host"
	"github.com/gosde/gosde/solver"
)

// maxSolvers bounds the solvers kept per field. A solver is made for one batch size,
// and a model sees only a few: the training batch, Evaluate's last partial batch,
// Sample's chunk and its remainder. Past the bound they are all dropped and remade on
// demand, so that varying sizes cannot pile up device memory on a GPU engine.
const maxSolvers = 4

// solverCache holds the solvers of the generator's SDE and the discriminator's CDE,
// by batch size.
type solverCache[F solver.Float] struct {
	open      func(host.FieldSpec, host.Problem) (host.FieldSolver[F], error)
	gen, disc map[int]host.FieldSolver[F]
	// ganEng is the engine, when it computes the whole loss on its device; losses
	// holds its losses by batch size, bounded like the solvers.
	ganEng host.GANEngine
	losses map[int]host.GANLoss
}

func cpuSolver[F solver.Float](spec host.FieldSpec, prob host.Problem) (host.FieldSolver[F], error) {
	s, err := host.NewCPUSolver[F](spec, prob)
	if err != nil {
		return nil, err // not a nil *CPUSolver inside a non-nil interface
	}
	return s, nil
}

// useEngine makes the engine solve with eng's solvers instead of the CPU's. Engines
// compute in float32, so only engine[float32] (Model) can use one.
func (e *engine[F]) useEngine(eng host.Engine) error {
	var zero F
	if _, ok := any(zero).(float32); !ok {
		return fmt.Errorf("gan: the %s engine computes in float32, this model in %T", eng.Name(), zero)
	}
	if err := e.solvers.close(); err != nil {
		return err
	}
	e.solvers.ganEng, _ = eng.(host.GANEngine)
	e.solvers.open = func(spec host.FieldSpec, prob host.Problem) (host.FieldSolver[F], error) {
		s, err := eng.NewSolver(spec, prob)
		if err != nil {
			return nil, fmt.Errorf("%s engine: %w", eng.Name(), err)
		}
		return any(s).(host.FieldSolver[F]), nil
	}
	return nil
}

// get returns the solver of spec for prob.Batch paths from *m, made on first use.
// numParams is the model's parameter count of the field: an engine whose layout
// differs would silently train garbage.
func (c *solverCache[F]) get(m *map[int]host.FieldSolver[F], spec host.FieldSpec, prob host.Problem, numParams int) (host.FieldSolver[F], error) {
	if s, ok := (*m)[prob.Batch]; ok {
		return s, nil
	}
	if len(*m) >= maxSolvers {
		if err := closeAll(*m); err != nil {
			return nil, err
		}
	}
	s, err := c.open(spec, prob)
	if err != nil {
		return nil, err
	}
	if s.NumParams() != numParams {
		s.Close()
		return nil, fmt.Errorf("the engine's %v field has %d parameters, the model's %d: engines must share neuralsde's parameter layout", spec.Kind, s.NumParams(), numParams)
	}
	if *m == nil {
		*m = map[int]host.FieldSolver[F]{}
	}
	(*m)[prob.Batch] = s
	return s, nil
}

// closeAll closes and forgets every solver of m.
func closeAll[F solver.Float](m map[int]host.FieldSolver[F]) error {
	var errs []error
	for b, s := range m {
		errs = append(errs, s.Close())
		delete(m, b)
	}
	return errors.Join(errs...)
}

// close releases every solver and loss; later solves make new ones.
func (c *solverCache[F]) close() error {
	errs := []error{closeAll(c.gen), closeAll(c.disc)}
	for b, l := range c.losses {
		errs = append(errs, l.Close())
		delete(c.losses, b)
	}
	return errors.Join(errs...)
}

// loss returns the device loss for prob.Batch paths, made on first use.
func (c *solverCache[F]) loss(spec host.GANSpec, prob host.Problem) (host.GANLoss, error) {
	if l, ok := c.losses[prob.Batch]; ok {
		return l, nil
	}
	if len(c.losses) >= maxSolvers {
		for b, l := range c.losses {
			if err := l.Close(); err != nil {
				return nil, err
			}
			delete(c.losses, b)
		}
	}
	l, err := c.ganEng.NewGANLoss(spec, prob)
	if err != nil {
		return nil, fmt.Errorf("%s engine: %w", c.ganEng.Name(), err)
	}
	if c.losses == nil {
		c.losses = map[int]host.GANLoss{}
	}
	c.losses[prob.Batch] = l
	return l, nil
}
