package solver

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

// plainSDE is an SDE that is not Differentiable, with configurable shape.
type plainSDE struct {
	d, m  int
	noise Noise
	blow  bool // f = y²·1e3: blows up
}

func (s plainSDE) Dim() int      { return s.d }
func (s plainSDE) NoiseDim() int { return s.m }
func (s plainSDE) Noise() Noise  { return s.noise }
func (s plainSDE) Eval(_ float64, y, f, g []float64) {
	for j, v := range y {
		f[j] = -v
		if s.blow {
			f[j] = 1e3 * v * v
		}
	}
	for j := range g {
		g[j] = 0.1
	}
}

// failingMotion fails its query number failAt (counting from 1).
type failingMotion struct {
	hashMotion
	failAt int
}

var errBoom = errors.New("boom")

func (f *failingMotion) Increment(dst []float64, s, t float64) error {
	if f.queries+1 == f.failAt {
		f.queries++
		return errBoom
	}
	return f.hashMotion.Increment(dst, s, t)
}

func TestSolveErrors(t *testing.T) {
	sde := newTestSDE[float64](2, 2, General, 1)
	y0 := []float64{0.1, 0.2, 0.3, 0.4} // batch 2
	ts := []float64{0, 0.5, 1}
	mo := func() *hashMotion { return &hashMotion{batch: 2, dim: 2, t0: 0, t1: 1} }
	ok := Options{Method: ReversibleHeun, Dt: 0.1, Motion: mo()}
	with := func(f func(*Options)) Options { o := ok; o.Motion = mo(); f(&o); return o }
	nan := math.NaN()
	cases := []struct {
		name string
		sde  SDE[float64]
		y0   []float64
		ts   []float64
		opt  Options
		want string
	}{
		{"nil SDE", nil, y0, ts, ok, "SDE is nil"},
		{"one time", sde, y0, []float64{0}, ok, "at least 2 output times"},
		{"no times", sde, y0, nil, ok, "at least 2 output times"},
		{"equal times", sde, y0, []float64{0, 0.5, 0.5}, ok, "strictly increasing"},
		{"decreasing times", sde, y0, []float64{0, 0.6, 0.5}, ok, "strictly increasing"},
		{"NaN time", sde, y0, []float64{0, nan, 1}, ok, "not finite"},
		{"Inf time", sde, y0, []float64{0, math.Inf(1)}, ok, "not finite"},
		{"after span", sde, y0, []float64{0, 2}, ok, "outside the Motion's span"},
		{"before span", sde, y0, []float64{-1, 1}, ok, "outside the Motion's span"},
		{"zero Dt", sde, y0, ts, with(func(o *Options) { o.Dt = 0 }), "Dt must be a finite positive"},
		{"negative Dt", sde, y0, ts, with(func(o *Options) { o.Dt = -0.1 }), "Dt must be a finite positive"},
		{"NaN Dt", sde, y0, ts, with(func(o *Options) { o.Dt = nan }), "Dt must be a finite positive"},
		{"Inf Dt", sde, y0, ts, with(func(o *Options) { o.Dt = math.Inf(1) }), "Dt must be a finite positive"},
		{"tiny Dt", sde, y0, ts, with(func(o *Options) { o.Dt = 1e-300 }), "use a larger Dt"},
		{"too many steps", sde, y0, ts, with(func(o *Options) { o.Dt = 1e-11 }), "use a larger Dt"},
		{"nil motion", sde, y0, ts, with(func(o *Options) { o.Motion = nil }), "Motion is nil"},
		{"motion batch", sde, y0, ts, with(func(o *Options) { o.Motion = &hashMotion{batch: 3, dim: 2, t1: 1} }), "want Batch 2"},
		{"motion dim", sde, y0, ts, with(func(o *Options) { o.Motion = &hashMotion{batch: 2, dim: 1, t1: 1} }), "Dim 2 (NoiseDim())"},
		{"empty y0", sde, nil, ts, ok, "y0 is empty"},
		{"ragged y0", sde, y0[:3], ts, ok, "not a multiple of Dim()"},
		{"NaN y0", sde, []float64{0, nan, 0, 0}, ts, ok, "y0[1] = NaN is not finite"},
		{"Inf y0", sde, []float64{0, 0, 0, math.Inf(-1)}, ts, ok, "y0[3] = -Inf is not finite"},
		{"Reversible+Euler", sde, y0, ts, with(func(o *Options) { o.Method, o.Adjoint = EulerMaruyama, Reversible }), "needs Method ReversibleHeun"},
		{"Reversible+Midpoint", sde, y0, ts, with(func(o *Options) { o.Method, o.Adjoint = Midpoint, Reversible }), "needs Method ReversibleHeun"},
		{"Reversible+Heun", sde, y0, ts, with(func(o *Options) { o.Method, o.Adjoint = Heun, Reversible }), "needs Method ReversibleHeun"},
		{"Continuous+ReversibleHeun", sde, y0, ts, with(func(o *Options) { o.Adjoint = Continuous }), "Midpoint only"},
		{"Continuous+Heun", sde, y0, ts, with(func(o *Options) { o.Method, o.Adjoint = Heun, Continuous }), "Midpoint only"},
		{"unknown method", sde, y0, ts, with(func(o *Options) { o.Method = 9 }), "unknown Method 9"},
		{"negative method", sde, y0, ts, with(func(o *Options) { o.Method = -1 }), "unknown Method -1"},
		{"unknown adjoint", sde, y0, ts, with(func(o *Options) { o.Adjoint = 7 }), "unknown Adjoint 7"},
		{"zero dim", plainSDE{0, 1, General, false}, y0, ts, ok, "must be positive"},
		{"zero noise dim", plainSDE{2, 0, General, false}, y0, ts, ok, "must be positive"},
		{"diagonal shape", plainSDE{2, 3, Diagonal, false}, y0, ts, ok, "NoiseDim() == Dim()"},
		{"scalar shape", plainSDE{2, 2, Scalar, false}, y0, ts, ok, "NoiseDim() == 1"},
		{"unknown noise", plainSDE{2, 2, 8, false}, y0, ts, ok, "unknown Noise 8"},
		{"motion error", sde, y0, ts, with(func(o *Options) { o.Motion = &failingMotion{hashMotion{batch: 2, dim: 2, t1: 1}, 3} }), "boom"},
		{"diverges", plainSDE{2, 2, General, true}, []float64{1, 1, 1, 1}, ts, with(func(o *Options) { o.Method = EulerMaruyama }), "non-finite"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sol, err := Solve(c.sde, c.y0, c.ts, c.opt)
			if err == nil {
				t.Fatalf("no error (solution %v)", sol != nil)
			}
			if sol != nil {
				t.Error("a solution came with the error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "solver: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
	// Wrapped errors stay inspectable.
	_, err := Solve[float64](plainSDE{2, 2, General, true}, []float64{1, 1}, ts, Options{Dt: 0.1, Motion: &hashMotion{batch: 1, dim: 2, t1: 1}})
	if !errors.Is(err, ErrNonFinite) {
		t.Errorf("divergence error %v does not wrap ErrNonFinite", err)
	}
	_, err = Solve[float64](sde, y0, ts, Options{Dt: 0.1, Motion: &failingMotion{hashMotion{batch: 2, dim: 2, t1: 1}, 1}})
	if !errors.Is(err, errBoom) {
		t.Errorf("motion error %v does not wrap the motion's error", err)
	}
}

func TestBackwardErrors(t *testing.T) {
	sde := newTestSDE[float64](2, 2, General, 1)
	y0 := []float64{0.1, 0.2, 0.3, 0.4}
	ts := []float64{0, 0.5, 1}
	good := make([]float64, len(ts)*len(y0))
	solve := func(s SDE[float64], opt Options) *Solution[float64] {
		t.Helper()
		if opt.Motion == nil {
			opt.Motion = &hashMotion{batch: 2, dim: 2, t1: 1}
		}
		opt.Dt = 0.1
		sol, err := Solve(s, y0, ts, opt)
		if err != nil {
			t.Fatal(err)
		}
		return sol
	}
	nanGrad := append([]float64(nil), good...)
	nanGrad[5] = math.NaN()
	cases := []struct {
		name   string
		sol    *Solution[float64]
		gradYs []float64
		want   string
	}{
		{"short cotangent", solve(sde, Options{}), good[:5], "len(gradYs) = 5, want"},
		{"long cotangent", solve(sde, Options{Adjoint: Reversible, Method: ReversibleHeun}), append(good, 0), "len(gradYs) = 13, want"},
		{"NaN cotangent", solve(sde, Options{}), nanGrad, "gradYs[5] = NaN"},
		{"not differentiable", solve(plainSDE{2, 2, General, false}, Options{}), good, "implements Differentiable"},
		{"forward only", solve(sde, Options{ForwardOnly: true}), good, "ForwardOnly"},
		{"zero Solution", &Solution[float64]{}, good, "did not return"},
		{"motion error (Reversible)", solve(sde, Options{Method: ReversibleHeun, Adjoint: Reversible,
			Motion: &failingMotion{hashMotion{batch: 2, dim: 2, t1: 1}, 12}}), good, "boom"},
		{"motion error (Backprop)", solve(sde, Options{Method: Heun,
			Motion: &failingMotion{hashMotion{batch: 2, dim: 2, t1: 1}, 15}}), good, "boom"},
		{"motion error (Continuous)", solve(sde, Options{Method: Midpoint, Adjoint: Continuous,
			Motion: &failingMotion{hashMotion{batch: 2, dim: 2, t1: 1}, 11}}), good, "boom"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, err := c.sol.Backward(c.gradYs)
			if err == nil {
				t.Fatal("no error")
			}
			if g != nil {
				t.Error("gradients came with the error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

func TestSolveCDEErrors(t *testing.T) {
	field := newTestSDE[float64](2, 2, General, 1)
	y0 := []float64{0.1, 0.2, 0.3, 0.4}
	ts := []float64{0, 0.5, 1}
	xs := make([]float64, len(ts)*2*2)
	badX := append([]float64(nil), xs...)
	badX[7] = math.Inf(1)
	cases := []struct {
		name string
		xs   []float64
		opt  Options
		want string
	}{
		{"motion given", xs, Options{Dt: 0.1, Motion: &hashMotion{batch: 2, dim: 2, t1: 1}}, "Motion must be nil"},
		{"short xs", xs[:11], Options{Dt: 0.1}, "len(xs) = 11, want"},
		{"no xs", nil, Options{Dt: 0.1}, "len(xs) = 0, want"},
		{"Inf xs", badX, Options{Dt: 0.1}, "xs[7] = +Inf"},
		{"bad Dt", xs, Options{}, "Dt must be"},
		{"bad adjoint", xs, Options{Dt: 0.1, Adjoint: Reversible, Method: Heun}, "needs Method ReversibleHeun"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sol, err := SolveCDE[float64](field, y0, ts, c.xs, c.opt)
			if err == nil || sol != nil {
				t.Fatalf("want an error, got %v", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

func TestStrings(t *testing.T) {
	for m, want := range map[Method]string{EulerMaruyama: "EulerMaruyama", Midpoint: "Midpoint", Heun: "Heun", ReversibleHeun: "ReversibleHeun", 9: "Method(9)"} {
		if m.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(m), m.String(), want)
		}
	}
	for a, want := range map[Adjoint]string{Backprop: "Backprop", Reversible: "Reversible", Continuous: "Continuous", -2: "Adjoint(-2)"} {
		if a.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(a), a.String(), want)
		}
	}
}

// TestEnumsInJSON: methods and adjoints are written by name and read back by name or
// by the numbers older configurations wrote.
func TestEnumsInJSON(t *testing.T) {
	for _, m := range []Method{EulerMaruyama, Midpoint, Heun, ReversibleHeun} {
		b, err := json.Marshal(m)
		var back, legacy Method
		if err != nil || string(b) != `"`+m.String()+`"` || json.Unmarshal(b, &back) != nil || back != m ||
			json.Unmarshal([]byte(strconv.Itoa(int(m))), &legacy) != nil || legacy != m {
			t.Errorf("%v: marshalled %s (%v), read back %v, legacy %v", m, b, err, back, legacy)
		}
	}
	for _, a := range []Adjoint{Backprop, Reversible, Continuous} {
		b, err := json.Marshal(a)
		var back, legacy Adjoint
		if err != nil || string(b) != `"`+a.String()+`"` || json.Unmarshal(b, &back) != nil || back != a ||
			json.Unmarshal([]byte(strconv.Itoa(int(a))), &legacy) != nil || legacy != a {
			t.Errorf("%v: marshalled %s (%v), read back %v, legacy %v", a, b, err, back, legacy)
		}
	}
	if _, err := json.Marshal(Method(9)); err == nil {
		t.Error("an invalid method marshalled")
	}
	var m Method
	if err := json.Unmarshal([]byte(`"midpoint"`), &m); err == nil {
		t.Error(`"midpoint" (not the method's name) was read`)
	}
}
