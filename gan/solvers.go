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

// close releases every solver; later solves make new ones.
func (c *solverCache[F]) close() error {
	return errors.Join(closeAll(c.gen), closeAll(c.disc))
}
