// Package solver integrates stochastic and controlled differential equations for a
// batch of paths and differentiates through them: Euler–Maruyama, midpoint, Heun and
// reversible Heun, with gradients by backpropagation through the discrete solve, by the
// algebraic adjoint of reversible Heun, or by the continuous adjoint SDE.
package solver

// Float is the element type a solve runs in.
type Float interface{ ~float32 | ~float64 }

// Noise says how the diffusion g acts on the Brownian increment.
type Noise int

const (
	// Diagonal: m == d, g is batch×d and acts elementwise.
	Diagonal Noise = iota
	// General: g is batch×d×m (row-major) and acts by matrix–vector product.
	General
	// Additive: like General, but g does not depend on the state y.
	Additive
	// Scalar: m == 1, g is batch×d×1.
	Scalar
)

// SDE is dY = f(t,Y)dt + g(t,Y)∘dW (Itô for EulerMaruyama) for a batch of paths.
type SDE[F Float] interface {
	Dim() int      // state size d
	NoiseDim() int // Brownian size m (m == d for Diagonal, 1 for Scalar)
	Noise() Noise
	// Eval writes, for states y (batch×d, path-major), the drift f (batch×d) and the diffusion g
	// (batch×d for Diagonal, batch×d×m row-major otherwise).
	Eval(t float64, y, f, g []F)
}

// Differentiable is an SDE whose vector fields can be differentiated in reverse mode.
//
// Activation reuse. Every VJP call that this package makes (every method and adjoint of
// Solution.Backward) is at exactly the (t, y) of the most recent Eval call that the same
// Backward made on the same SDE value: the same t, and a y slice with the same contents
// (usually the very same slice), with no other Eval in between. An implementation may
// therefore keep the activations (pre-activations, hidden values) of its last Eval and,
// after checking that t and the contents of y match, skip recomputing them in VJP: the
// reversible adjoint then costs one forward pass of the network per step instead of
// two. VJP must still be correct when called at any other point (a caller outside this
// package, or another solve on the same value in between), so the check is required.
//
// The solver owns the slices it passes: Eval and VJP must not keep references to y, f,
// g, af, ag, ay or atheta after returning (copy what is cached), and must not write to
// y, af or ag. Solve and Backward call the SDE only from the calling goroutine; an SDE
// value used by concurrent solves must make Eval and VJP safe for that itself.
type Differentiable[F Float] interface {
	SDE[F]
	NumParams() int
	// VJP adds af·∂f/∂y + ag·∂g/∂y at (t, y) into ay, and the parameter part, summed over the batch, into atheta.
	VJP(t float64, y, af, ag, ay, atheta []F)
}
