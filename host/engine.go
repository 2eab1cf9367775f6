// Package host is the seam between the models and the devices that compute them:
// what a training step asks of an engine (fused reversible-Heun solves of MLP vector
// fields and their algebraic adjoints), the CPU engine that does it in Go, and the
// selection of an engine by name (--device auto|cpu|gpu).
//
// The GPU engine lives in package cuda, which is linked only into binaries built with
// -tags cuda and registers itself here from its init. This package knows GPUs only
// through NVML, for listing them (`gosde devices`): that loads at run time and fails
// softly without a driver. No package below it knows a GPU exists, and an engine is
// anything that implements Engine.
package host

import (
	"fmt"

	"github.com/gosde/gosde/brownian"
	"github.com/gosde/gosde/nn"
	"github.com/gosde/gosde/solver"
)

// Kind says which of the two vector fields of docs/DESIGN.md ("Neural vector fields") a
// FieldSpec describes.
type Kind int

const (
	// SDE is the neural SDE dY = f(t,Y)dt + g(t,Y)∘dW of neuralsde.NeuralSDE, driven by
	// Brownian motion.
	SDE Kind = iota
	// CDE is the neural CDE dH = g(t,H)·dX of neuralsde.NeuralCDE, driven by a control
	// path given at the output times and linearly interpolated between them.
	CDE
)

func (k Kind) String() string {
	switch k {
	case SDE:
		return "sde"
	case CDE:
		return "cde"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// FieldSpec is the shape of an MLP vector field, in the terms of neuralsde.Config and
// neuralsde.CDEConfig, whose parameter layout every engine shares (drift MLP then
// diffusion MLP; see nn.MLP for each one's layout).
type FieldSpec struct {
	Kind Kind
	Dim  int // state size d
	// NoiseDim is the Brownian size m for General and Additive noise (SDE), or the
	// control channels c (CDE).
	NoiseDim int
	Noise    solver.Noise // SDE only; a CDE is General by construction
	Width    int          // hidden width of the MLPs
	// Depth is the number of hidden layers as in neuralsde.Config: 0 selects the
	// default (1), a negative value none (an affine map).
	Depth  int
	Hidden nn.Activation
}

// Problem is one solve's fixed data: the output times, the largest step, the batch.
type Problem struct {
	Ts    []float64
	Dt    float64
	Batch int
}

// Engine computes reversible-Heun solves and their algebraic adjoints for batches of
// paths. Implementations: CPU (this package) and the GPU engine of package cuda.
type Engine interface {
	// Name says what computes: "cpu", or "gpu" with the device's name.
	Name() string
	// NewSolver returns a solver for the field on the problem. Its parameters start at
	// zero; set them through Params before Forward.
	NewSolver(spec FieldSpec, prob Problem) (Solver, error)
	// Close releases what the engine holds (device memory, contexts). An engine must
	// not be used after Close.
	Close() error
}

// Solver is what an Engine returns: a FieldSolver computing in float32.
type Solver = FieldSolver[float32]

// FieldSolver is a reversible-Heun solve of one field on one problem, with the
// algebraic (Reversible) adjoint, computing in F. Engines compute in float32 (Solver);
// the float64 instance exists so that models generic over their element type can run
// their finite-difference gradient tests through the same code path (NewCPUSolver).
// It is not safe for concurrent use.
type FieldSolver[F solver.Float] interface {
	// NumParams is the length of the flat parameter vector.
	NumParams() int
	// Params is the solver's parameter vector, in the layout of the neuralsde field
	// with the same spec; Forward reads it.
	Params() []F
	// Forward solves from y0 (batch×d, path-major) and returns the states at the output
	// times (len(Ts)×batch×d, path-major; owned by the solver until the next Forward).
	// An SDE is driven by mo (Batch() paths of NoiseDim channels, covering Ts) and xs
	// must be nil; a CDE by xs (len(Ts)×batch×c, path-major per time) and mo must be
	// nil. With forwardOnly, Backward is not available afterwards. A solve that stops
	// being finite returns an error wrapping solver.ErrNonFinite.
	Forward(y0 []F, mo brownian.Motion, xs []F, forwardOnly bool) ([]F, error)
	// Backward returns the gradients of a loss whose cotangent with respect to the
	// returned states is gradYs (same layout), by the algebraic adjoint of the most
	// recent Forward: dL/dy0, dL/dθ (summed over paths) and, for a CDE, dL/dxs.
	Backward(gradYs []F) (*solver.Gradients[F], error)
	// Close releases the solver's resources.
	Close() error
}
