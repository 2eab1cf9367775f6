package solver

import (
	"fmt"
	"testing"

	"github.com/gosde/gosde/internal/oracle"
)

// runOracle solves and differentiates with package oracle on the step grid of
// StepGrid(ts, dt) and the increments dw[n] (batch×m, step n), with output cotangents
// gradYs (len(ts)×batch×d); control is dL/dxs for a control whose increments dw are.
func runOracle(fld oracle.Field, y0, ts []float64, dt float64, dw [][]float64, gradYs []float64) (r oracle.Batch, control []float64, err error) {
	grid, err := StepGrid(ts, dt)
	if err != nil {
		return r, nil, err
	}
	steps := []float64{ts[0]}
	out := []int{0}
	for i, n := range grid.Steps {
		for k := 1; k <= n; k++ {
			steps = append(steps, grid.Time(i, k))
			out = append(out, -1)
		}
		out[len(out)-1] = i + 1
	}
	r = oracle.Run(fld, y0, steps, out, dw, gradYs)
	// A control's increments are (X_{i+1} − X_i)/n_i on each of the n_i steps of
	// interval i.
	bm := len(dw[0])
	control = make([]float64, len(ts)*bm)
	n := 0
	for i, ni := range grid.Steps {
		for range ni {
			for j, v := range r.DW[n] {
				control[(i+1)*bm+j] += v / float64(ni)
				control[i*bm+j] -= v / float64(ni)
			}
			n++
		}
	}
	return r, control, nil
}

// The solver's fused reversible Heun (forward steps, the reversible adjoint's inverse
// and adjoint steps, and backprop through the solve) for every noise type, the
// unrolled m = 1 and m = 3 products included, in both precisions, for SDEs and CDEs,
// is held to package oracle: outputs, dL/dy₀, dL/dθ and dL/dxs.
func TestReversibleHeunMatchesOracle(t *testing.T) {
	shapes := []struct {
		noise Noise
		d, m  int
	}{
		{Diagonal, 3, 3},
		{Scalar, 3, 1},
		{General, 3, 1}, // prod's m = 1 loop without Scalar
		{General, 4, 2}, // the generic loops
		{General, 4, 3}, // the fused m = 3 paths (reflectG, heunCorrectG, outer2, outerSet)
		{Additive, 3, 3},
		{General, 2, 5},
	}
	ts := []float64{0, 0.7, 1.5, 1.6, 3}
	const dt, batch = 0.4, 3 // 2, 2, 1 and 4 steps per output interval
	// Tolerances: the largest errors measured are 8.8e-16 (float64) and 3.3e-7
	// (float32).
	for si, sh := range shapes {
		for _, adj := range []Adjoint{Reversible, Backprop} {
			for _, cde := range []bool{false, true} {
				kind := "SDE"
				if cde {
					kind = "CDE"
				}
				name := fmt.Sprintf("%s-d%d-m%d/%v/%s", noiseName(sh.noise), sh.d, sh.m, adj, kind)
				seed := uint64(40 + si)
				t.Run(name+"/float64", func(t *testing.T) {
					checkOracle[float64](t, sh.noise, sh.d, sh.m, seed, ts, dt, batch, adj, cde, 1e-13)
				})
				t.Run(name+"/float32", func(t *testing.T) {
					checkOracle[float32](t, sh.noise, sh.d, sh.m, seed, ts, dt, batch, adj, cde, 1e-5)
				})
			}
		}
	}
}

func checkOracle[F Float](t *testing.T, noise Noise, d, m int, seed uint64, ts []float64, dt float64, batch int, adj Adjoint, cde bool, tol float64) {
	sde := newTestSDE[F](d, m, noise, seed)
	ref := newTestSDE[float64](d, m, noise, seed)
	for j, v := range sde.theta { // the same field in float64
		ref.theta[j] = float64(v)
	}
	y0 := randVec[F](batch*d, 0.8, seed+1)
	gradYs := randVec[F](len(ts)*batch*d, 1, seed+2)
	grid, err := StepGrid(ts, dt)
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{Method: ReversibleHeun, Adjoint: adj, Dt: dt}
	var (
		sol *Solution[F]
		dw  [][]float64 // the increments the solver is driven by, step by step
	)
	if cde {
		xs := randVec[F](len(ts)*batch*m, 0.8, seed+3)
		if sol, err = SolveCDE[F](sde, y0, ts, xs, opt); err != nil {
			t.Fatal(err)
		}
		for i, n := range grid.Steps {
			for range n {
				v := make([]float64, batch*m)
				for j := range v {
					v[j] = float64((xs[(i+1)*batch*m+j] - xs[i*batch*m+j]) / F(n))
				}
				dw = append(dw, v)
			}
		}
	} else {
		opt.Motion = &hashMotion{batch: batch, dim: m, t0: ts[0], t1: ts[len(ts)-1], seed: seed + 3}
		if sol, err = Solve[F](sde, y0, ts, opt); err != nil {
			t.Fatal(err)
		}
		q := &hashMotion{batch: batch, dim: m, seed: seed + 3}
		for i, n := range grid.Steps {
			for k := range n {
				v := make([]float64, batch*m)
				if err := q.Increment(v, grid.Time(i, k), grid.Time(i, k+1)); err != nil {
					t.Fatal(err)
				}
				for j := range v {
					v[j] = float64(F(v[j]))
				}
				dw = append(dw, v)
			}
		}
	}
	g, err := sol.Backward(gradYs)
	if err != nil {
		t.Fatal(err)
	}
	want, control, err := runOracle(oracle.Path(ref, noise == Diagonal), toF64(y0), ts, dt, dw, toF64(gradYs))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what      string
		got, want []float64
	}{
		{"outputs", toF64(sol.Ys), want.Ys},
		{"dL/dy0", toF64(g.Y0), want.Y0},
		{"dL/dθ", toF64(g.Params), want.Theta},
	}
	if cde {
		checks = append(checks, struct {
			what      string
			got, want []float64
		}{"dL/dxs", toF64(g.Control), control})
	}
	for _, c := range checks {
		e := relErr(c.got, c.want)
		t.Logf("%-8s relative error %.2g", c.what, e)
		if !(e <= tol) {
			t.Errorf("%s: relative error %.3g vs the oracle > %g\n got %v\nwant %v", c.what, e, tol, c.got, c.want)
		}
	}
	if adj == Reversible {
		for i, e := range g.ReconstructionErrors {
			if !(e <= tol) {
				t.Errorf("reconstruction error %.3g at output %d > %g", e, i, tol)
			}
		}
	}
}
