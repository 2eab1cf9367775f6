package solver

import (
	"fmt"
	"math"
	"testing"
)

var noises = []Noise{Diagonal, General, Additive, Scalar}

func noiseName(n Noise) string {
	return [...]string{"Diagonal", "General", "Additive", "Scalar"}[n]
}

// noiseDims gives (d, m) for a noise type in the gradient tests.
func noiseDims(n Noise) (int, int) {
	switch n {
	case Diagonal:
		return 3, 3
	case Scalar:
		return 3, 1
	}
	return 3, 2
}

var gradTs = []float64{0, 0.3, 0.7, 1}

const gradBatch = 2

type gradCase[F Float] struct {
	sde *testSDE[F]
	y0  []F
	w   []F // dL/dYs
	mo  *hashMotion
}

func newGradCase[F Float](noise Noise, seed uint64) gradCase[F] {
	d, m := noiseDims(noise)
	return gradCase[F]{
		sde: newTestSDE[F](d, m, noise, seed),
		y0:  randVec[F](gradBatch*d, 0.7, seed+1),
		w:   randVec[F](len(gradTs)*gradBatch*d, 1, seed+2),
		mo:  &hashMotion{batch: gradBatch, dim: m, t0: 0, t1: 1, seed: seed + 3},
	}
}

func (c gradCase[F]) grad(t *testing.T, opt Options) *Gradients[F] {
	t.Helper()
	opt.Motion = c.mo
	sol, err := Solve[F](c.sde, c.y0, gradTs, opt)
	if err != nil {
		t.Fatal(err)
	}
	g, err := sol.Backward(c.w)
	if err != nil {
		t.Fatal(err)
	}
	if c.sde.violations != 0 {
		t.Errorf("%v/%v: %d VJP calls were not at the point of the most recent Eval", opt.Method, opt.Adjoint, c.sde.violations)
	}
	return g
}

func (c gradCase[F]) loss(t *testing.T, opt Options) float64 {
	t.Helper()
	opt.Motion = c.mo
	opt.ForwardOnly = true
	sol, err := Solve[F](c.sde, c.y0, gradTs, opt)
	if err != nil {
		t.Fatal(err)
	}
	return dot(sol.Ys, c.w)
}

// fd returns central finite differences of the loss with respect to every entry of x.
func fd(x []float64, eps float64, loss func() float64) []float64 {
	g := make([]float64, len(x))
	for j := range x {
		x0 := x[j]
		x[j] = x0 + eps
		lp := loss()
		x[j] = x0 - eps
		lm := loss()
		x[j] = x0
		g[j] = (lp - lm) / (2 * eps)
	}
	return g
}

var methods = []Method{EulerMaruyama, Midpoint, Heun, ReversibleHeun}

func TestBackpropMatchesFiniteDifferences(t *testing.T) {
	for _, method := range methods {
		for _, noise := range noises {
			t.Run(fmt.Sprintf("%v/%s", method, noiseName(noise)), func(t *testing.T) {
				c := newGradCase[float64](noise, 10+uint64(noise))
				opt := Options{Method: method, Dt: 0.1}
				g := c.grad(t, opt)
				loss := func() float64 { return c.loss(t, opt) }
				fy := fd(c.y0, 1e-6, loss)
				fp := fd(c.sde.theta, 1e-6, loss)
				if e := relErr(g.Y0, fy); e > 1e-6 {
					t.Errorf("dL/dy0: relative error %.3g vs finite differences\n got %v\nwant %v", e, g.Y0, fy)
				}
				if e := relErr(g.Params, fp); e > 1e-6 {
					t.Errorf("dL/dθ: relative error %.3g vs finite differences\n got %v\nwant %v", e, g.Params, fp)
				}
			})
		}
	}
}

func TestReversibleMatchesBackprop(t *testing.T) {
	for _, noise := range noises {
		t.Run(noiseName(noise)+"/float64", func(t *testing.T) {
			c := newGradCase[float64](noise, 20+uint64(noise))
			bp := c.grad(t, Options{Method: ReversibleHeun, Dt: 0.05})
			rv := c.grad(t, Options{Method: ReversibleHeun, Dt: 0.05, Adjoint: Reversible})
			ey, ep := relErr(rv.Y0, bp.Y0), relErr(rv.Params, bp.Params)
			t.Logf("float64 relative error: y0 %.2g, θ %.2g; reconstruction error %.2g", ey, ep, rv.ReconstructionError)
			if ey > 1e-9 || ep > 1e-9 {
				t.Errorf("Reversible vs Backprop: relative error y0 %.3g, θ %.3g > 1e-9", ey, ep)
			}
			if rv.ReconstructionError > 1e-12 {
				t.Errorf("reconstruction error %.3g, want ≤ 1e-12", rv.ReconstructionError)
			}
		})
		t.Run(noiseName(noise)+"/float32", func(t *testing.T) {
			c := newGradCase[float32](noise, 20+uint64(noise))
			c64 := newGradCase[float64](noise, 20+uint64(noise))
			for j, v := range c.sde.theta { // the same model in both precisions
				c64.sde.theta[j] = float64(v)
			}
			for j, v := range c.y0 {
				c64.y0[j] = float64(v)
			}
			for j, v := range c.w {
				c64.w[j] = float64(v)
			}
			bp := c.grad(t, Options{Method: ReversibleHeun, Dt: 0.05})
			rv := c.grad(t, Options{Method: ReversibleHeun, Dt: 0.05, Adjoint: Reversible})
			ref := c64.grad(t, Options{Method: ReversibleHeun, Dt: 0.05})
			ey, ep := relErr(rv.Y0, bp.Y0), relErr(rv.Params, bp.Params)
			t.Logf("float32 relative error: y0 %.2g, θ %.2g (vs float64 Backprop: %.2g, %.2g); reconstruction error %.2g",
				ey, ep, relErr(toF64(rv.Y0), ref.Y0), relErr(toF64(rv.Params), ref.Params), rv.ReconstructionError)
			if ey > 1e-3 || ep > 1e-3 {
				t.Errorf("Reversible vs Backprop: relative error y0 %.3g, θ %.3g > 1e-3", ey, ep)
			}
			if e := relErr(toF64(rv.Params), ref.Params); e > 1e-3 {
				t.Errorf("float32 Reversible vs float64 Backprop: θ relative error %.3g > 1e-3", e)
			}
		})
	}
}

func toF64[F Float](x []F) []float64 {
	y := make([]float64, len(x))
	for j, v := range x {
		y[j] = float64(v)
	}
	return y
}

func TestReversibleLongSolve(t *testing.T) {
	// Many steps and several outputs: the reconstruction stays accurate and the
	// gradient still matches Backprop.
	c := newGradCase[float64](General, 31)
	bp := c.grad(t, Options{Method: ReversibleHeun, Dt: 1e-3})
	rv := c.grad(t, Options{Method: ReversibleHeun, Dt: 1e-3, Adjoint: Reversible})
	ey, ep := relErr(rv.Y0, bp.Y0), relErr(rv.Params, bp.Params)
	t.Logf("1000 steps: relative error y0 %.2g, θ %.2g; reconstruction errors %.2g", ey, ep, rv.ReconstructionErrors)
	if ey > 1e-9 || ep > 1e-9 {
		t.Errorf("relative error y0 %.3g, θ %.3g > 1e-9", ey, ep)
	}
	if len(rv.ReconstructionErrors) != len(gradTs) || rv.ReconstructionErrors[len(gradTs)-1] != 0 {
		t.Errorf("ReconstructionErrors = %v", rv.ReconstructionErrors)
	}
	for i, e := range rv.ReconstructionErrors {
		if e > 1e-11 {
			t.Errorf("reconstruction error at output %d = %.3g", i, e)
		}
	}
}

func TestReversibleCounts(t *testing.T) {
	for _, noise := range noises {
		c := newGradCase[float64](noise, 40)
		opt := Options{Method: ReversibleHeun, Dt: 0.05, Adjoint: Reversible, Motion: c.mo}
		sol, err := Solve[float64](c.sde, c.y0, gradTs, opt)
		if err != nil {
			t.Fatal(err)
		}
		n := sol.Steps
		if n != 20 {
			t.Fatalf("Steps = %d, want 20", n)
		}
		if sol.Evals != n+1 || c.sde.evals != n+1 {
			t.Errorf("forward: %d evaluations (SDE saw %d), want N+1 = %d", sol.Evals, c.sde.evals, n+1)
		}
		e0, v0 := c.sde.evals, c.sde.vjps
		g, err := sol.Backward(c.w)
		if err != nil {
			t.Fatal(err)
		}
		if g.Evals > n+1 || c.sde.evals-e0 != g.Evals {
			t.Errorf("backward: %d evaluations (SDE saw %d), want ≤ N+1 = %d", g.Evals, c.sde.evals-e0, n+1)
		}
		if g.VJPs != n+1 || c.sde.vjps-v0 != n+1 {
			t.Errorf("backward: %d VJPs (SDE saw %d), want N+1 = %d", g.VJPs, c.sde.vjps-v0, n+1)
		}
		// Backward twice gives the same answer.
		g2, err := sol.Backward(c.w)
		if err != nil {
			t.Fatal(err)
		}
		if relErr(g2.Y0, g.Y0) != 0 || relErr(g2.Params, g.Params) != 0 {
			t.Error("a second Backward differs from the first")
		}
		if c.sde.violations != 0 {
			t.Errorf("%d activation-reuse violations", c.sde.violations)
		}
	}
}

// TestStepGrid checks the step counts of the output intervals, with rounding.
func TestStepGrid(t *testing.T) {
	c := newGradCase[float64](Diagonal, 50)
	sol, err := Solve[float64](c.sde, c.y0, gradTs, Options{Method: EulerMaruyama, Dt: 0.1, Motion: c.mo})
	if err != nil {
		t.Fatal(err)
	}
	// 0.3/0.1 = 2.9999999999999996 and 0.4/0.1 = 4.000000000000001 in floating point.
	if want := []int{3, 4, 3}; fmt.Sprint(sol.StepsPer) != fmt.Sprint(want) || sol.Steps != 10 {
		t.Errorf("StepsPer = %v (Steps %d), want %v", sol.StepsPer, sol.Steps, want)
	}
	sol, err = Solve[float64](c.sde, c.y0, gradTs, Options{Method: EulerMaruyama, Dt: 0.25, Motion: c.mo})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{2, 2, 2}; fmt.Sprint(sol.StepsPer) != fmt.Sprint(want) {
		t.Errorf("StepsPer = %v, want %v", sol.StepsPer, want)
	}
}

// TestContinuousAdjointOrder measures the continuous adjoint's gradient against
// Backprop's (the exact gradient of the same midpoint solve) at dt = 2⁻³ … 2⁻⁷ on one
// Brownian path per batch entry, and checks the rate at which the difference shrinks.
// Both are midpoint discretisations, one of the forward solve and one of the adjoint
// SDE, of the gradient of the same solve, and both take the iterated integrals of a
// step as ½ΔWᵢΔWⱼ, so what separates them is each one's own discretisation error:
//
//   - without noise (S = c = 0) both are second-order methods for an ODE and its
//     adjoint, so the difference falls 4× per halving of dt (order 2; θ includes the
//     gradients of S and c, which the noise still reaches);
//   - with noise, the root mean square over the batch of the paths' dL/dy0 differences
//     falls as the methods' strong order, 1 (halving per halving of dt).
//
// The output times are dyadic, so every dt divides every output interval and the grid
// does not change shape from one dt to the next. A half step with the wrong sign (in y
// or in the adjoint) leaves a first-order difference without noise and an O(1) one
// with it.
func TestContinuousAdjointOrder(t *testing.T) {
	ts := []float64{0, 0.25, 0.5, 1}
	// rms is ‖x − ref‖₂ / ‖ref‖₂.
	rms := func(x, ref []float64) float64 {
		var num, den float64
		for j := range ref {
			num += (x[j] - ref[j]) * (x[j] - ref[j])
			den += ref[j] * ref[j]
		}
		return math.Sqrt(num / den)
	}
	// errors returns the y0 and θ differences at dt = 2⁻³ … 2⁻⁷.
	errors := func(t *testing.T, sde *testSDE[float64], batch int) (ey, ep, dts []float64) {
		d, m := sde.d, sde.m
		y0 := randVec[float64](batch*d, 0.7, 61)
		w := randVec[float64](len(ts)*batch*d, 1, 62)
		iv := newInterval(t, 0, 1, batch, m, 63)
		for k := 3; k <= 7; k++ {
			dt := math.Ldexp(1, -k)
			run := func(adj Adjoint) *Gradients[float64] {
				sol, err := Solve[float64](sde, y0, ts, Options{Method: Midpoint, Dt: dt, Motion: iv, Adjoint: adj})
				if err != nil {
					t.Fatal(err)
				}
				g, err := sol.Backward(w)
				if err != nil {
					t.Fatal(err)
				}
				return g
			}
			bp, ct := run(Backprop), run(Continuous)
			ey = append(ey, rms(ct.Y0, bp.Y0))
			ep = append(ep, rms(ct.Params, bp.Params))
			dts = append(dts, dt)
		}
		if sde.violations != 0 {
			t.Errorf("%d activation-reuse violations", sde.violations)
		}
		return ey, ep, dts
	}
	// check asserts each halving's observed order log₂(eₖ/eₖ₊₁) within ±tol of want.
	check := func(t *testing.T, what string, errs []float64, want, tol float64) {
		t.Helper()
		orders := make([]float64, len(errs)-1)
		bad := false
		for k := range orders {
			orders[k] = math.Log2(errs[k] / errs[k+1])
			bad = bad || !(math.Abs(orders[k]-want) <= tol)
		}
		t.Logf("%s: differences %.2g, orders per halving %.2f", what, errs, orders)
		if bad {
			t.Errorf("%s: orders per halving of dt %.2f, want %g ± %g", what, orders, want, tol)
		}
	}
	for _, noise := range noises {
		t.Run(noiseName(noise)+"/no noise", func(t *testing.T) {
			d, m := noiseDims(noise)
			sde := newTestSDE[float64](d, m, noise, 60)
			_, _, S, c := sde.parts()
			clear(S)
			clear(c)
			ey, ep, _ := errors(t, sde, 4)
			check(t, "dL/dy0", ey, 2, 0.15)
			check(t, "dL/dθ", ep, 2, 0.15)
		})
		if noise == Additive {
			// ∂g/∂y = 0: the adjoint of y does not see the noise, and its difference
			// is second order again; the first-order rate shows only in the θ part,
			// a sum over the batch, and is left to the other noise types.
			continue
		}
		t.Run(noiseName(noise), func(t *testing.T) {
			d, m := noiseDims(noise)
			ey, _, dts := errors(t, newTestSDE[float64](d, m, noise, 60), 256)
			check(t, "dL/dy0", ey, 1, 0.3)
			if s := slope(dts, ey); !(math.Abs(s-1) <= 0.15) {
				t.Errorf("dL/dy0: fitted order %.2f over dt = 2⁻³ … 2⁻⁷, want 1 ± 0.15", s)
			}
		})
	}
}

// TestContinuousAdjointResetsAtOutputs holds the continuous adjoint to torchsde's
// arrangement (adjoint.py runs the adjoint SDE one output interval at a time and sets
// the backward y to the stored output, ys[i−1], before each): it builds that chain by
// hand from single-interval solves, each started from the full solve's stored output
// and given the cotangent carried down from the interval above, and compares. Without
// the reset the full solve's backward y would arrive at each output time off by its
// reconstruction error, and the gradients would differ by far more than rounding.
func TestContinuousAdjointResetsAtOutputs(t *testing.T) {
	ts := []float64{0, 0.25, 0.5, 1}
	const dt = 1.0 / 16
	for _, noise := range noises {
		t.Run(noiseName(noise), func(t *testing.T) {
			d, m := noiseDims(noise)
			sde := newTestSDE[float64](d, m, noise, 90)
			bd := gradBatch * d
			y0 := randVec[float64](bd, 0.7, 91)
			w := randVec[float64](len(ts)*bd, 1, 92)
			iv := newInterval(t, 0, 1, gradBatch, m, 93)
			opt := Options{Method: Midpoint, Dt: dt, Motion: iv, Adjoint: Continuous}
			sol, err := Solve[float64](sde, y0, ts, opt)
			if err != nil {
				t.Fatal(err)
			}
			full, err := sol.Backward(w)
			if err != nil {
				t.Fatal(err)
			}
			a := append([]float64(nil), w[(len(ts)-1)*bd:]...)
			params := make([]float64, sde.NumParams())
			for i := len(ts) - 2; i >= 0; i-- {
				part, err := Solve[float64](sde, sol.Ys[i*bd:(i+1)*bd], ts[i:i+2], opt)
				if err != nil {
					t.Fatal(err)
				}
				if e := relErr(part.Ys[bd:], sol.Ys[(i+1)*bd:(i+2)*bd]); e > 1e-14 {
					t.Fatalf("interval %d re-solved from its stored start ends %.3g away from the full solve", i, e)
				}
				g, err := part.Backward(append(make([]float64, bd), a...))
				if err != nil {
					t.Fatal(err)
				}
				if full.ReconstructionErrors[i] != g.ReconstructionError {
					t.Errorf("ReconstructionErrors[%d] = %.3g, the interval's own backward solve %.3g", i, full.ReconstructionErrors[i], g.ReconstructionError)
				}
				a = g.Y0
				add(a, w[i*bd:(i+1)*bd])
				add(params, g.Params)
			}
			ey, ep := relErr(full.Y0, a), relErr(full.Params, params)
			t.Logf("full backward vs the chain of intervals: y0 %.2g, θ %.2g; reconstruction errors %.2g", ey, ep, full.ReconstructionErrors)
			if ey > 1e-13 || ep > 1e-13 {
				t.Errorf("full backward differs from the chain of single-interval adjoints: y0 %.3g, θ %.3g", ey, ep)
			}
		})
	}
}

// cdeCase is a controlled differential equation dY = f dt + g·dX with a random
// control path.
type cdeCase struct {
	field *testSDE[float64]
	y0    []float64
	xs    []float64
	w     []float64
	ts    []float64
}

func newCDECase(seed uint64) cdeCase {
	ts := []float64{0, 0.25, 0.6, 1}
	const d, m = 3, 2
	c := cdeCase{
		field: newTestSDE[float64](d, m, General, seed),
		y0:    randVec[float64](gradBatch*d, 0.7, seed+1),
		xs:    randVec[float64](len(ts)*gradBatch*m, 0.8, seed+2),
		w:     randVec[float64](len(ts)*gradBatch*d, 1, seed+3),
		ts:    ts,
	}
	return c
}

func (c cdeCase) grad(t *testing.T, opt Options) *Gradients[float64] {
	t.Helper()
	sol, err := SolveCDE[float64](c.field, c.y0, c.ts, c.xs, opt)
	if err != nil {
		t.Fatal(err)
	}
	g, err := sol.Backward(c.w)
	if err != nil {
		t.Fatal(err)
	}
	if c.field.violations != 0 {
		t.Errorf("%d activation-reuse violations", c.field.violations)
	}
	return g
}

func (c cdeCase) loss(t *testing.T, opt Options) float64 {
	sol, err := SolveCDE[float64](c.field, c.y0, c.ts, c.xs, opt)
	if err != nil {
		t.Fatal(err)
	}
	return dot(sol.Ys, c.w)
}

func TestCDEGradients(t *testing.T) {
	for _, method := range methods {
		t.Run(method.String(), func(t *testing.T) {
			c := newCDECase(70)
			opt := Options{Method: method, Dt: 0.1}
			g := c.grad(t, opt)
			loss := func() float64 { return c.loss(t, opt) }
			for _, x := range []struct {
				name     string
				got, ref []float64
			}{
				{"y0", g.Y0, fd(c.y0, 1e-6, loss)},
				{"θ", g.Params, fd(c.field.theta, 1e-6, loss)},
				{"control", g.Control, fd(c.xs, 1e-6, loss)},
			} {
				if len(x.got) != len(x.ref) {
					t.Fatalf("dL/d%s has length %d, want %d", x.name, len(x.got), len(x.ref))
				}
				if e := relErr(x.got, x.ref); e > 1e-6 {
					t.Errorf("dL/d%s: relative error %.3g vs finite differences\n got %v\nwant %v", x.name, e, x.got, x.ref)
				}
			}
		})
	}
	t.Run("Reversible", func(t *testing.T) {
		c := newCDECase(71)
		bp := c.grad(t, Options{Method: ReversibleHeun, Dt: 0.05})
		rv := c.grad(t, Options{Method: ReversibleHeun, Dt: 0.05, Adjoint: Reversible})
		ey, ep, ec := relErr(rv.Y0, bp.Y0), relErr(rv.Params, bp.Params), relErr(rv.Control, bp.Control)
		t.Logf("CDE Reversible vs Backprop: y0 %.2g, θ %.2g, control %.2g", ey, ep, ec)
		if ey > 1e-9 || ep > 1e-9 || ec > 1e-9 {
			t.Errorf("relative errors y0 %.3g, θ %.3g, control %.3g > 1e-9", ey, ep, ec)
		}
	})
	t.Run("Continuous", func(t *testing.T) {
		c := newCDECase(72)
		var prev float64
		for k, dt := range []float64{0.05, 0.0125, 0.003125} {
			bp := c.grad(t, Options{Method: Midpoint, Dt: dt})
			ct := c.grad(t, Options{Method: Midpoint, Dt: dt, Adjoint: Continuous})
			e := math.Max(math.Max(relErr(ct.Y0, bp.Y0), relErr(ct.Params, bp.Params)), relErr(ct.Control, bp.Control))
			if k > 0 && !(e < prev/4) {
				t.Errorf("dt = %v: Continuous-vs-Backprop error %.3g did not shrink by 4 (was %.3g)", dt, e, prev)
			}
			prev = e
		}
		if prev > 1e-3 {
			t.Errorf("Continuous CDE gradient %.3g away from Backprop", prev)
		}
	})
}

func TestFloat32MatchesFloat64(t *testing.T) {
	for _, method := range methods {
		c64 := newGradCase[float64](General, 80)
		c32 := newGradCase[float32](General, 80)
		for j, v := range c32.sde.theta {
			c64.sde.theta[j] = float64(v)
		}
		for j, v := range c32.y0 {
			c64.y0[j] = float64(v)
		}
		opt := Options{Method: method, Dt: 0.05, Motion: c64.mo}
		s64, err := Solve[float64](c64.sde, c64.y0, gradTs, opt)
		if err != nil {
			t.Fatal(err)
		}
		opt.Motion = c32.mo
		s32, err := Solve[float32](c32.sde, c32.y0, gradTs, opt)
		if err != nil {
			t.Fatal(err)
		}
		if e := relErr(toF64(s32.Ys), s64.Ys); e > 1e-5 {
			t.Errorf("%v: float32 solution differs from float64 by %.3g", method, e)
		}
	}
}
