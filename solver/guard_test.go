package solver

import (
	"testing"

	"github.com/gosde/gosde/internal/guard/guardtest"
)

func TestConcurrentUseIsDetected(t *testing.T) {
	sde := newTestSDE[float64](2, 2, General, 1)
	y0 := []float64{0.1, 0.2, 0.3, 0.4}
	ts := []float64{0, 0.5, 1}
	gradYs := randVec[float64](len(ts)*len(y0), 1, 2)
	for _, adj := range []Adjoint{Backprop, Reversible} {
		t.Run(adj.String(), func(t *testing.T) {
			sol, err := Solve(sde, y0, ts, Options{Method: ReversibleHeun, Adjoint: adj, Dt: 0.1, Motion: &hashMotion{batch: 2, dim: 2, t1: 1}})
			if err != nil {
				t.Fatal(err)
			}
			guardtest.Check(t, "*solver.Solution", &sol.use, func() {
				if _, err := sol.Backward(gradYs); err != nil {
					panic(err)
				}
			})
		})
	}
}
