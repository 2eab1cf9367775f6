package solver_test

import (
	"math/rand/v2"
	"testing"

	"github.com/gosde/gosde/brownian"
	"github.com/gosde/gosde/neuralsde"
	"github.com/gosde/gosde/solver"
)

func BenchmarkTmpGen(b *testing.B) {
	const batch = 1024
	sde, err := neuralsde.New[float32](neuralsde.GeneratorConfig(), 1)
	if err != nil {
		b.Fatal(err)
	}
	d := sde.Dim()
	r := rand.New(rand.NewPCG(1, 2))
	y0 := make([]float32, batch*d)
	for i := range y0 {
		y0[i] = float32(r.NormFloat64())
	}
	ts := make([]float64, 65)
	for i := range ts {
		ts[i] = float64(i)
	}
	gy := make([]float32, len(ts)*batch*d)
	for i := range gy {
		gy[i] = float32(r.NormFloat64() / batch)
	}
	for _, c := range []struct {
		name string
		m    solver.Method
		a    solver.Adjoint
	}{
		{"RH-Rev", solver.ReversibleHeun, solver.Reversible},
		{"Mid-Cont", solver.Midpoint, solver.Continuous},
		{"Mid-BP", solver.Midpoint, solver.Backprop},
		{"RH-BP", solver.ReversibleHeun, solver.Backprop},
		{"Heun-BP", solver.Heun, solver.Backprop},
		{"EM-BP", solver.EulerMaruyama, solver.Backprop},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				bm, _ := brownian.NewInterval(0, 64, batch, 3, 1)
				b.StartTimer()
				sol, err := solver.Solve[float32](sde, y0, ts, solver.Options{Method: c.m, Adjoint: c.a, Dt: 1, Motion: bm})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := sol.Backward(gy); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
