package cuda

import (
	"errors"

	"github.com/gosde/gosde/host"
)

// Engine is the GPU engine on one backend: the device (or its emulator), and a pool
// of its memory shared by the engine's solvers. It implements host.Engine. Not safe
// for concurrent use, like the solvers it makes.
type Engine struct {
	be     backend
	pool   pool
	closed bool
	chunk  int // bytes of increments per chunk; 0: defaultChunkBytes
	lanes  int // threads per path in the reversible-Heun kernels; 0: autoLanes
	// sigThreads (threads per pair; 0: planSig's) and sigGlobal (the grids in global
	// memory even where shared memory would hold them) shape the signature-kernel
	// scorers made afterwards (tests).
	sigThreads int
	sigGlobal  bool
	// prefetchHits counts the SDE-GAN solves whose Brownian increments a Prefetch
	// had drawn (tests).
	prefetchHits int
}

func (e *Engine) chunkBytes() int {
	if e.chunk > 0 {
		return e.chunk
	}
	return defaultChunkBytes
}

var _ host.Engine = (*Engine)(nil)

// Name says what computes: "gpu: <device> (sm_XY)", or the emulator.
func (e *Engine) Name() string { return e.be.describe() }

// NewSolver returns a solver for the field on the problem; see host.Engine.
func (e *Engine) NewSolver(spec host.FieldSpec, prob host.Problem) (host.Solver, error) {
	if e.closed {
		return nil, errors.New("cuda: the engine is closed")
	}
	return newSolver(e, spec, prob)
}

// Close frees the engine's memory and releases its device. Solvers and
// signature-kernel scorers made by the engine must be closed first.
func (e *Engine) Close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	err := e.be.do(func() error { return e.pool.drain(e.be) })
	return errors.Join(err, e.be.close())
}

var _ host.LatentEngine = (*Engine)(nil)
