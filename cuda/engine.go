//go:build cuda

package cuda

import (
	"errors"
	"fmt"

	"gorgonia.org/cu"

	"github.com/gosde/gosde/host"
)

// Engine is the GPU engine: one device, its loaded kernels and a pool of device
// memory shared by its solvers. It implements host.Engine. Not safe for concurrent
// use, like the solvers it makes.
type Engine struct {
	dev  *device
	pool pool
}

var _ host.Engine = (*Engine)(nil)

// Open returns the GPU engine on device ordinal (0: the first GPU).
func Open(ordinal int) (*Engine, error) {
	d, err := openDevice(ordinal)
	if err != nil {
		return nil, err
	}
	return &Engine{dev: d, pool: pool{free: map[int64][]cu.DevicePtr{}}}, nil
}

// Name is "gpu: " and the device's name.
func (e *Engine) Name() string {
	return fmt.Sprintf("gpu: %s (sm_%d%d)", e.dev.name, e.dev.ccMajor, e.dev.ccMinor)
}

// NewSolver returns a GPU solver for the field on the problem; see host.Engine.
func (e *Engine) NewSolver(spec host.FieldSpec, prob host.Problem) (host.Solver, error) {
	return newSolver(e, spec, prob)
}

// Close frees the engine's device memory and destroys its context. Solvers made by
// the engine must be closed first.
func (e *Engine) Close() error {
	if e.dev == nil || e.dev.closed {
		return nil
	}
	err := e.dev.do(e.pool.drain)
	return errors.Join(err, e.dev.close())
}
