package solver

import (
	"fmt"

	"github.com/gosde/gosde/brownian"
	"github.com/gosde/gosde/internal/enumjson"
)

// Method is a time-stepping scheme.
type Method int

const (
	// EulerMaruyama: y₁ = y₀ + f(t₀,y₀)h + g(t₀,y₀)ΔW. Itô; strong order 0.5 (1 for
	// additive noise). One evaluation per step.
	EulerMaruyama Method = iota
	// Midpoint: y½ = y₀ + ½(f₀h + g₀ΔW); y₁ = y₀ + f(t½,y½)h + g(t½,y½)ΔW. Stratonovich;
	// strong order 0.5 in general, 1 for commutative (e.g. scalar) or additive noise.
	// Two evaluations per step.
	Midpoint
	// Heun: ỹ = y₀ + f₀h + g₀ΔW; y₁ = y₀ + ½(f₀+f(t₁,ỹ))h + ½(g₀+g(t₁,ỹ))ΔW.
	// Stratonovich; orders as Midpoint. Two evaluations per step.
	Heun
	// ReversibleHeun: the reversible Heun method of Kidger et al. (2021), see
	// docs/DESIGN.md ("Reversible Heun").
	// Stratonovich; one evaluation per step; algebraically reversible, so it admits the
	// Reversible adjoint.
	ReversibleHeun
)

// String returns the method's name.
func (m Method) String() string {
	if m.valid() {
		return methodNames[m]
	}
	return fmt.Sprintf("Method(%d)", int(m))
}

func (m Method) valid() bool { return m >= EulerMaruyama && m <= ReversibleHeun }

var methodNames = []string{"EulerMaruyama", "Midpoint", "Heun", "ReversibleHeun"}

// MarshalText writes the method by name (in JSON configurations).
func (m Method) MarshalText() ([]byte, error) {
	if !m.valid() {
		return nil, fmt.Errorf("solver: unknown %v", m)
	}
	return []byte(m.String()), nil
}

// UnmarshalJSON reads a method by name, or by number as older configurations wrote it.
func (m *Method) UnmarshalJSON(b []byte) error {
	i, err := enumjson.Decode(b, "solver method", methodNames)
	if err == nil {
		*m = Method(i)
	}
	return err
}

// Adjoint says how Solution.Backward computes gradients.
type Adjoint int

const (
	// Backprop differentiates the discrete solve exactly (discretise-then-optimise): the
	// forward pass stores the stage inputs of every step (memory O(steps·batch·d)) and
	// the backward pass runs the adjoint of each step in reverse. Every method. The
	// reference the other adjoints are measured against.
	Backprop Adjoint = iota
	// Reversible is the algebraic adjoint of reversible Heun (ReversibleHeun only): the
	// backward pass reconstructs the forward states exactly (up to rounding) by running
	// the method backwards, re-querying the Brownian increments, so memory does not
	// depend on the number of steps, and its gradient equals Backprop's up to rounding.
	// Forward N+1 evaluations; backward N+1 evaluations and N+1 VJPs (N steps).
	Reversible
	// Continuous is the optimise-then-discretise adjoint of Li et al. (2020) (Midpoint
	// only): the adjoint SDE of the Stratonovich SDE is solved backwards in time with the
	// midpoint method on the same (re-queried) Brownian increments, integrating y
	// backwards too, and resetting y to the stored output at each output time as
	// torchsde's adjoint does. Its gradient differs from the discrete solve's by a
	// discretisation error; it is the baseline the Reversible adjoint improves on.
	Continuous
)

// String returns the adjoint's name.
func (a Adjoint) String() string {
	if a.valid() {
		return adjointNames[a]
	}
	return fmt.Sprintf("Adjoint(%d)", int(a))
}

func (a Adjoint) valid() bool { return a >= Backprop && a <= Continuous }

var adjointNames = []string{"Backprop", "Reversible", "Continuous"}

// MarshalText writes the adjoint by name (in JSON configurations).
func (a Adjoint) MarshalText() ([]byte, error) {
	if !a.valid() {
		return nil, fmt.Errorf("solver: unknown %v", a)
	}
	return []byte(a.String()), nil
}

// UnmarshalJSON reads an adjoint by name, or by number as older configurations wrote it.
func (a *Adjoint) UnmarshalJSON(b []byte) error {
	i, err := enumjson.Decode(b, "adjoint", adjointNames)
	if err == nil {
		*a = Adjoint(i)
	}
	return err
}

// Options configure Solve and SolveCDE.
type Options struct {
	Method Method
	// Dt is the largest step: each output interval [ts[i], ts[i+1]] is split into
	// ⌈(ts[i+1]−ts[i])/Dt⌉ equal steps (with a relative tolerance of 1e-9, so that a
	// ratio of 3.0000000001 from rounding makes 3 steps, not 4).
	Dt float64
	// Motion drives Solve (Batch() paths of NoiseDim() channels; its span must cover
	// ts). It must answer the same query with the same increment every time: gradients
	// re-query it backwards. When it implements brownian.Planner, Solve plans it with
	// the step grid (brownian.Grid: output times and steps per interval) first. Must be nil for
	// SolveCDE.
	Motion brownian.Motion
	// Adjoint selects how Backward computes gradients.
	Adjoint Adjoint
	// ForwardOnly skips storing what Backward needs (with Backprop, the stage inputs
	// of every step); Backward on such a solution is an error. Solutions of SDEs that do
	// not implement Differentiable never store them.
	ForwardOnly bool
}

func (o *Options) check() error {
	if !o.Method.valid() {
		return fmt.Errorf("solver: unknown Method %d; use EulerMaruyama, Midpoint, Heun or ReversibleHeun", int(o.Method))
	}
	if !o.Adjoint.valid() {
		return fmt.Errorf("solver: unknown Adjoint %d; use Backprop, Reversible or Continuous", int(o.Adjoint))
	}
	if o.Adjoint == Reversible && o.Method != ReversibleHeun {
		return fmt.Errorf("solver: the Reversible adjoint needs Method ReversibleHeun (got %v): only reversible Heun can be run backwards exactly; use Backprop for %v", o.Method, o.Method)
	}
	if o.Adjoint == Continuous && o.Method != Midpoint {
		return fmt.Errorf("solver: the Continuous adjoint is implemented for Method Midpoint only (got %v); use Backprop, or Reversible with ReversibleHeun", o.Method)
	}
	if !(o.Dt > 0) || isInf(o.Dt) {
		return fmt.Errorf("solver: Options.Dt must be a finite positive step size, got %v", o.Dt)
	}
	return nil
}
