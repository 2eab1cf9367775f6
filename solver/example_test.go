package solver_test

import (
	"fmt"

	"github.com/gosde/gosde/brownian"
	"github.com/gosde/gosde/neuralsde"
	"github.com/gosde/gosde/solver"
)

// Train-step shaped use: solve a neural SDE with reversible Heun, then get exact
// gradients of a loss on the outputs with the algebraic adjoint, in memory that does not
// grow with the number of steps.
func Example() {
	sde, err := neuralsde.New[float64](neuralsde.GeneratorConfig(), 1) // d=16, m=3
	if err != nil {
		panic(err)
	}
	batch := 8
	ts := []float64{0, 1, 2, 3, 4}
	bm, err := brownian.NewInterval(ts[0], ts[len(ts)-1], batch, sde.NoiseDim(), 42)
	if err != nil {
		panic(err)
	}
	y0 := make([]float64, batch*sde.Dim())
	sol, err := solver.Solve[float64](sde, y0, ts, solver.Options{
		Method: solver.ReversibleHeun, Adjoint: solver.Reversible, Dt: 0.25, Motion: bm,
	})
	if err != nil {
		panic(err)
	}
	// L = sum of the final states: dL/dYs is 1 at the last output time, 0 elsewhere.
	gradYs := make([]float64, len(sol.Ys))
	last := gradYs[(len(ts)-1)*batch*sde.Dim():]
	for i := range last {
		last[i] = 1
	}
	g, err := sol.Backward(gradYs)
	if err != nil {
		panic(err)
	}
	fmt.Println("steps:", sol.Steps, "forward evaluations:", sol.Evals)
	fmt.Println("backward evaluations:", g.Evals, "VJPs:", g.VJPs)
	fmt.Println("parameters with a gradient:", len(g.Params) == sde.NumParams())
	fmt.Println("y0 reconstructed to rounding:", g.ReconstructionError < 1e-12)
	// Output:
	// steps: 16 forward evaluations: 17
	// backward evaluations: 17 VJPs: 17
	// parameters with a gradient: true
	// y0 reconstructed to rounding: true
}
