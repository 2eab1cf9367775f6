package solver

import (
	"math"
	"testing"

	"github.com/gosde/gosde/brownian"
)

// gbm is geometric Brownian motion dY = aY dt + bY dW (scalar noise).
type gbm struct{ a, b float64 }

func (gbm) Dim() int      { return 1 }
func (gbm) NoiseDim() int { return 1 }
func (gbm) Noise() Noise  { return Scalar }
func (s gbm) Eval(_ float64, y, f, g []float64) {
	for j, v := range y {
		f[j] = s.a * v
		g[j] = s.b * v
	}
}

// ou is the Ornstein–Uhlenbeck process dY = (μ − λY)dt + σ(1 + t)dW (additive noise).
type ou struct{ lam, mu, sigma float64 }

func (ou) Dim() int      { return 1 }
func (ou) NoiseDim() int { return 1 }
func (ou) Noise() Noise  { return Additive }
func (s ou) Eval(t float64, y, f, g []float64) {
	for j, v := range y {
		f[j] = s.mu - s.lam*v
		g[j] = s.sigma * (1 + t)
	}
}

// noncommutative is a 2-dimensional SDE driven by 2 Brownian motions whose diffusion
// columns do not commute: g = [[sin y₂, ½], [0.3, cos y₁]], f = −½y.
type noncommutative struct{}

func (noncommutative) Dim() int      { return 2 }
func (noncommutative) NoiseDim() int { return 2 }
func (noncommutative) Noise() Noise  { return General }
func (noncommutative) Eval(_ float64, y, f, g []float64) {
	for p := 0; p < len(y)/2; p++ {
		y1, y2 := y[2*p], y[2*p+1]
		f[2*p], f[2*p+1] = -0.5*y1, -0.5*y2
		g[4*p], g[4*p+1], g[4*p+2], g[4*p+3] = math.Sin(y2), 0.5, 0.3, math.Cos(y1)
	}
}

const orderBatch = 256

// strongErrors solves sde on one Brownian sample (one Interval, queried first at the
// finest step) at every dt and returns the root-mean-square error at T = 1 over the
// paths against exact(W_T) (or, when exact is nil, against a Heun solve at refDt).
func strongErrors(t *testing.T, sde SDE[float64], y0 float64, method Method, dts []float64, exact func(y0, wT float64) float64, refDt float64) []float64 {
	t.Helper()
	d, m := sde.Dim(), sde.NoiseDim()
	ts := []float64{0, 1}
	iv := newInterval(t, 0, 1, orderBatch, m, 2021)
	ys := make([]float64, orderBatch*d)
	for j := range ys {
		ys[j] = y0 + 0.1*float64(j%7)
	}
	var ref []float64
	if exact == nil {
		sol, err := Solve[float64](sde, ys, ts, Options{Method: Heun, Dt: refDt, Motion: iv, ForwardOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		ref = sol.At(1)
	}
	errs := make([]float64, len(dts))
	for k, dt := range dts {
		sol, err := Solve[float64](sde, ys, ts, Options{Method: method, Dt: dt, Motion: iv, ForwardOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if exact != nil && ref == nil {
			ref = make([]float64, orderBatch)
			w := make([]float64, orderBatch)
			if err := iv.Increment(w, 0, 1); err != nil {
				t.Fatal(err)
			}
			for p := range ref {
				ref[p] = exact(ys[p], w[p])
			}
		}
		var se float64
		for j, v := range sol.At(1) {
			se += (v - ref[j]) * (v - ref[j])
		}
		errs[k] = math.Sqrt(se / float64(len(ref)))
	}
	return errs
}

func dyadic(k0, k1 int) []float64 {
	var dts []float64
	for k := k1; k >= k0; k-- { // finest first
		dts = append(dts, math.Ldexp(1, -k))
	}
	return dts
}

func TestStrongOrder(t *testing.T) {
	const a, b = 0.3, 0.6
	strat := func(y0, w float64) float64 { return y0 * math.Exp(a+b*w) }
	ito := func(y0, w float64) float64 { return y0 * math.Exp(a-b*b/2+b*w) }
	cases := []struct {
		name     string
		sde      SDE[float64]
		method   Method
		exact    func(y0, w float64) float64
		dts      []float64
		min, max float64
	}{
		{"GBM/ReversibleHeun", gbm{a, b}, ReversibleHeun, strat, dyadic(3, 9), 0.85, 1.2},
		{"GBM/Heun", gbm{a, b}, Heun, strat, dyadic(3, 9), 0.85, 1.2},
		{"GBM/Midpoint", gbm{a, b}, Midpoint, strat, dyadic(3, 9), 0.85, 1.2},
		{"GBM-Ito/EulerMaruyama", gbm{a, b}, EulerMaruyama, ito, dyadic(3, 9), 0.35, 0.75},
		{"OU/ReversibleHeun", ou{1.5, 0.5, 0.8}, ReversibleHeun, nil, dyadic(3, 8), 0.85, 1.2},
		{"OU/Heun", ou{1.5, 0.5, 0.8}, Heun, nil, dyadic(3, 8), 0.85, 1.2},
		{"OU/Midpoint", ou{1.5, 0.5, 0.8}, Midpoint, nil, dyadic(3, 8), 0.85, 1.2},
		{"OU/EulerMaruyama", ou{1.5, 0.5, 0.8}, EulerMaruyama, nil, dyadic(3, 8), 0.85, 1.2},
		{"General/ReversibleHeun", noncommutative{}, ReversibleHeun, nil, dyadic(3, 8), 0.35, 0.65},
		{"General/Heun", noncommutative{}, Heun, nil, dyadic(3, 8), 0.35, 0.65},
		{"General/Midpoint", noncommutative{}, Midpoint, nil, dyadic(3, 8), 0.35, 0.65},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs := strongErrors(t, c.sde, 1, c.method, c.dts, c.exact, math.Ldexp(1, -14))
			s := slope(c.dts, errs)
			t.Logf("strong order %.3f (errors %.3g at dt %.3g)", s, errs, c.dts)
			if s < c.min || s > c.max {
				t.Errorf("strong order %.3f outside [%v, %v]", s, c.min, c.max)
			}
		})
	}
}

// TestIntervalPlanned checks that Solve plans an Interval's tree and that a
// Reversible backward pass over a planned Interval matches Backprop.
func TestIntervalPlanned(t *testing.T) {
	c := newGradCase[float64](General, 90)
	mk := func() *brownian.Interval { return newInterval(t, 0, 1, gradBatch, 2, 91) }
	opt := Options{Method: ReversibleHeun, Dt: 1.0 / 64}
	opt.Motion = mk()
	sol, err := Solve[float64](c.sde, c.y0, gradTs, opt)
	if err != nil {
		t.Fatal(err)
	}
	bp, err := sol.Backward(c.w)
	if err != nil {
		t.Fatal(err)
	}
	opt.Motion, opt.Adjoint = mk(), Reversible
	sol2, err := Solve[float64](c.sde, c.y0, gradTs, opt)
	if err != nil {
		t.Fatal(err)
	}
	if relErr(sol2.Ys, sol.Ys) != 0 {
		t.Error("two Intervals with the same seed gave different solutions")
	}
	rv, err := sol2.Backward(c.w)
	if err != nil {
		t.Fatal(err)
	}
	if e := math.Max(relErr(rv.Y0, bp.Y0), relErr(rv.Params, bp.Params)); e > 1e-9 {
		t.Errorf("Reversible vs Backprop on an Interval: relative error %.3g", e)
	}
}
