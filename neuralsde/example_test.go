package neuralsde_test

import (
	"fmt"

	"github.com/gosde/gosde/brownian"
	"github.com/gosde/gosde/neuralsde"
	"github.com/gosde/gosde/solver"
)

// gradients is the README's library snippet ("Using the library"), character for
// character: TestREADMESnippet holds the README to it.
func gradients(batch int, seed uint64) (*solver.Gradients[float32], error) {
	ts := []float64{0, 1, 2, 3, 4}
	sde, err := neuralsde.New[float32](neuralsde.GeneratorConfig(), seed) // hidden 16, noise 3
	if err != nil {
		return nil, err
	}
	bm, err := brownian.NewInterval(ts[0], ts[len(ts)-1], batch, sde.NoiseDim(), seed)
	if err != nil {
		return nil, err
	}
	y0 := make([]float32, batch*sde.Dim())
	sol, err := solver.Solve[float32](sde, y0, ts, solver.Options{
		Method: solver.ReversibleHeun, Adjoint: solver.Reversible, Dt: 0.25, Motion: bm,
	})
	if err != nil {
		return nil, err
	}
	// A loss on sol.Ys (output time, path, state): here the sum of the final states.
	gradYs := make([]float32, len(sol.Ys))
	for i := (len(ts) - 1) * batch * sde.Dim(); i < len(gradYs); i++ {
		gradYs[i] = 1
	}
	return sol.Backward(gradYs) // Y0, Params: dL/dy0 and dL/dθ, exact for the discrete solve
}

// Solve a neural SDE with reversible Heun and differentiate a loss on its outputs with
// the algebraic adjoint: exact gradients of the discrete solve, in memory that does not
// grow with the number of steps.
func Example() {
	g, err := gradients(8, 1)
	if err != nil {
		panic(err)
	}
	fmt.Println("backward evaluations:", g.Evals, "VJPs:", g.VJPs) // 16 steps: N+1 each
	fmt.Println("dL/dy0 per path and state:", len(g.Y0)/8)
	fmt.Println("y0 reconstructed to float32 rounding:", g.ReconstructionError < 1e-4)
	// Output:
	// backward evaluations: 17 VJPs: 17
	// dL/dy0 per path and state: 16
	// y0 reconstructed to float32 rounding: true
}
