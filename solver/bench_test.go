package solver

import (
	"fmt"
	"testing"
)

// BenchmarkGradient times a forward solve and its gradient for a small analytic SDE
// (batch 64, d 4, general noise m 2, 100 steps) for every method and adjoint.
func BenchmarkGradient(b *testing.B) {
	const batch, d, m = 64, 4, 2
	for _, c := range []struct {
		m Method
		a Adjoint
	}{
		{EulerMaruyama, Backprop}, {Midpoint, Backprop}, {Heun, Backprop}, {ReversibleHeun, Backprop},
		{ReversibleHeun, Reversible}, {Midpoint, Continuous},
	} {
		b.Run(fmt.Sprintf("%v/%v", c.m, c.a), func(b *testing.B) {
			sde := newTestSDE[float32](d, m, General, 1)
			y0 := randVec[float32](batch*d, 0.5, 2)
			ts := []float64{0, 0.5, 1}
			w := randVec[float32](len(ts)*batch*d, 1, 3)
			opt := Options{Method: c.m, Adjoint: c.a, Dt: 0.01, Motion: &hashMotion{batch: batch, dim: m, t1: 1}}
			b.ReportAllocs()
			for b.Loop() {
				sol, err := Solve[float32](sde, y0, ts, opt)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := sol.Backward(w); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkForward times the forward solve alone.
func BenchmarkForward(b *testing.B) {
	const batch, d, m = 64, 4, 2
	for _, meth := range methods {
		b.Run(meth.String(), func(b *testing.B) {
			sde := newTestSDE[float32](d, m, General, 1)
			y0 := randVec[float32](batch*d, 0.5, 2)
			opt := Options{Method: meth, Dt: 0.01, Motion: &hashMotion{batch: batch, dim: m, t1: 1}, ForwardOnly: true}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Solve[float32](sde, y0, []float64{0, 1}, opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
