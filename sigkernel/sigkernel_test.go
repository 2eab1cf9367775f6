package sigkernel_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/gosde/gosde/metrics"
	"github.com/gosde/gosde/sigkernel"
)

func randomPath(rng *rand.Rand, l, d int, step float64) []float64 {
	x := make([]float64, l*d)
	for i := 1; i < l; i++ {
		for c := range d {
			x[i*d+c] = x[(i-1)*d+c] + step*rng.NormFloat64()
		}
	}
	return x
}

// For two straight segments with ⟨Δx, Δy⟩ = c the PDE is u_st = c·u on the unit square,
// whose solution at (1, 1) is Σ cᵏ/(k!)² = I₀(2√c) (c > 0) or J₀(2√−c) (c < 0). The
// scheme converges to it at second order: once the error has settled (it changes sign
// between levels 0 and 1), each refinement level divides it by about four.
func TestSegmentsExact(t *testing.T) {
	for _, c := range []float64{0.3, 1.7, -0.8} {
		want := 0.0
		term := 1.0
		for k := 0; k < 40; k++ {
			if k > 0 {
				term *= c / float64(k*k)
			}
			want += term
		}
		x := []float64{0, 0, 1, 0.5}
		y := []float64{0, 0, c, 0} // ⟨(1, 0.5), (c, 0)⟩ = c
		var prev float64
		for r := 0; r <= 7; r++ {
			k, err := sigkernel.Kernel(x, y, 2, sigkernel.Options{Static: sigkernel.Linear, Refine: r})
			if err != nil {
				t.Fatal(err)
			}
			e := math.Abs(k - want)
			if r == 0 && e > 0.05*math.Abs(want) {
				t.Errorf("c=%v r=0: %v, want about %v", c, k, want)
			}
			if r >= 4 {
				if ratio := prev / e; ratio < 3.5 || ratio > 4.6 {
					t.Errorf("c=%v: error ratio %v from level %d to %d (errors %g, %g), want about 4", c, ratio, r-1, r, prev, e)
				}
			}
			prev = e
		}
		if prev > 1e-5*math.Abs(want) {
			t.Errorf("c=%v: error %g after 7 refinements", c, prev)
		}
	}
}

// With the linear static kernel the signature kernel is the inner product of the full
// signatures, Σₖ ⟨Sᵏ(x), Sᵏ(y)⟩ (level 0 contributes 1). Its truncation at depth 10 is
// exact to rounding for these short paths; the PDE's answer approaches it under
// refinement.
func TestTruncatedSignatureInnerProduct(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const d, depth = 3, 10
	for trial := range 4 {
		x := randomPath(rng, 6, d, 0.35)
		y := randomPath(rng, 5+trial, d, 0.35)
		sx, err := metrics.Signature(x, d, depth)
		if err != nil {
			t.Fatal(err)
		}
		sy, _ := metrics.Signature(y, d, depth)
		want := 1.0
		for i := range sx {
			want += sx[i] * sy[i]
		}
		var errs []float64
		for r := 0; r <= 5; r++ {
			k, err := sigkernel.Kernel(x, y, d, sigkernel.Options{Refine: r})
			if err != nil {
				t.Fatal(err)
			}
			errs = append(errs, math.Abs(k-want))
		}
		for r := 4; r < len(errs); r++ {
			if errs[r] > errs[r-1]/3 {
				t.Errorf("trial %d: error did not fall under refinement: %g", trial, errs)
				break
			}
		}
		if errs[5] > 1e-4*math.Abs(want) {
			t.Errorf("trial %d: error %g after 5 refinements, truncated signatures give %v", trial, errs[5], want)
		}
	}
}

// The gradient is that of the discrete scheme: central differences agree to 1e-7
// relative, for both static kernels, with and without refinement, for both paths.
func TestGradientFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	cases := []struct {
		name string
		opt  sigkernel.Options
	}{
		{"linear", sigkernel.Options{Static: sigkernel.Linear}},
		{"linear-refined", sigkernel.Options{Static: sigkernel.Linear, Refine: 2}},
		{"rbf", sigkernel.Options{Static: sigkernel.RBF, Sigma2: 0.5}},
		{"rbf-refined", sigkernel.Options{Static: sigkernel.RBF, Sigma2: 0.3, Refine: 1}},
	}
	const d = 2
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x := randomPath(rng, 7, d, 0.5)
			y := randomPath(rng, 5, d, 0.5)
			gx := make([]float64, len(x))
			gy := make([]float64, len(y))
			if _, err := sigkernel.KernelGrad(x, y, d, tc.opt, gx, gy); err != nil {
				t.Fatal(err)
			}
			check := func(name string, p, g []float64) {
				const h = 1e-5
				for i := range p {
					v := p[i]
					p[i] = v + h
					kp, _ := sigkernel.Kernel(x, y, d, tc.opt)
					p[i] = v - h
					km, _ := sigkernel.Kernel(x, y, d, tc.opt)
					p[i] = v
					fd := (kp - km) / (2 * h)
					if math.Abs(fd-g[i]) > 1e-7*(1+math.Abs(fd)) {
						t.Errorf("∂k/∂%s[%d] = %v, finite differences %v", name, i, g[i], fd)
					}
				}
			}
			check("x", x, gx)
			check("y", y, gy)
		})
	}
}

// Gram matrices of one set against itself are symmetric (the scheme treats both paths
// alike, to the bit) and positive semi-definite up to the scheme's error (refined so
// that the error is small against the spread of the eigenvalues).
func TestGramSymmetricPositive(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const n, l, d = 24, 12, 2
	p := sigkernel.Paths{N: n, Len: l, Dim: d}
	for range n {
		p.X = append(p.X, randomPath(rng, l, d, 0.4)...)
	}
	for _, opt := range []sigkernel.Options{{Static: sigkernel.Linear, Refine: 4}, {Static: sigkernel.RBF, Sigma2: 1, Refine: 2}} {
		k, err := sigkernel.Gram(p, p, opt)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			for j := range n {
				if k[i*n+j] != k[j*n+i] {
					t.Fatalf("%v: k[%d,%d] = %v, k[%d,%d] = %v", opt.Static, i, j, k[i*n+j], j, i, k[j*n+i])
				}
			}
		}
		var eig mat.EigenSym
		if !eig.Factorize(mat.NewSymDense(n, k), false) {
			t.Fatal("eigendecomposition failed")
		}
		vals := eig.Values(nil)
		if lo, hi := slices.Min(vals), slices.Max(vals); lo < -1e-6*hi {
			t.Errorf("%v: smallest eigenvalue %g, largest %g", opt.Static, lo, hi)
		}
	}
}

// The scoring rule written out with Kernel pair by pair, and its gradient by finite
// differences.
func TestScoreRuleDirect(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const m, n, l, d = 5, 4, 6, 2
	gen := sigkernel.Paths{N: m, Len: l, Dim: d}
	real := sigkernel.Paths{N: n, Len: l, Dim: d}
	for range m {
		gen.X = append(gen.X, randomPath(rng, l, d, 0.5)...)
	}
	for range n {
		real.X = append(real.X, randomPath(rng, l, d, 0.5)...)
	}
	opt := sigkernel.Options{Static: sigkernel.RBF, Sigma2: 0.7}
	path := func(p sigkernel.Paths, i int) []float64 { return p.X[i*l*d : (i+1)*l*d] }
	k := func(a, b []float64) float64 {
		v, err := sigkernel.Kernel(a, b, d, opt)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	var within, cross, rw float64
	for i := range m {
		for j := range m {
			if i != j {
				within += k(path(gen, i), path(gen, j))
			}
		}
		for j := range n {
			cross += k(path(gen, i), path(real, j))
		}
	}
	for i := range n {
		for j := range n {
			if i != j {
				rw += k(path(real, i), path(real, j))
			}
		}
	}
	within /= m * (m - 1)
	cross /= m * n
	rw /= n * (n - 1)
	grad := make([]float64, len(gen.X))
	s, err := sigkernel.ScoreRule(gen, real, opt, true, grad)
	if err != nil {
		t.Fatal(err)
	}
	near := func(name string, got, want float64) {
		if math.Abs(got-want) > 1e-12*(1+math.Abs(want)) {
			t.Errorf("%s = %v, written out %v", name, got, want)
		}
	}
	near("Within", s.Within, within)
	near("Cross", s.Cross, cross)
	near("RealWithin", s.RealWithin, rw)
	near("MMD2", s.MMD2(), within-2*cross+rw)
	const h = 1e-5
	for i := range gen.X {
		v := gen.X[i]
		gen.X[i] = v + h
		sp, _ := sigkernel.ScoreRule(gen, real, opt, false, nil)
		gen.X[i] = v - h
		sm, _ := sigkernel.ScoreRule(gen, real, opt, false, nil)
		gen.X[i] = v
		fd := (sp.Value() - sm.Value()) / (2 * h)
		if math.Abs(fd-grad[i]) > 1e-7*(1+math.Abs(fd)) {
			t.Errorf("∂S/∂X[%d] = %v, finite differences %v", i, grad[i], fd)
		}
	}
}

// The squared MMD estimate is unbiased: near zero on average between two samples of
// one law, clearly positive between two laws.
func TestScoreRuleSeparatesLaws(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	const n, l, d = 40, 10, 2
	sample := func(vol float64) sigkernel.Paths {
		p := sigkernel.Paths{N: n, Len: l, Dim: d}
		for range n {
			x := make([]float64, l*d)
			for i := range l {
				x[i*d] = float64(i) / float64(l-1)
				if i > 0 {
					x[i*d+1] = x[(i-1)*d+1] + vol*rng.NormFloat64()/math.Sqrt(l-1)
				}
			}
			p.X = append(p.X, x...)
		}
		return p
	}
	opt := sigkernel.Options{Static: sigkernel.RBF, Sigma2: 0.5}
	var same, diff []float64
	for range 6 {
		s, err := sigkernel.ScoreRule(sample(1), sample(1), opt, true, nil)
		if err != nil {
			t.Fatal(err)
		}
		same = append(same, s.MMD2())
		s, _ = sigkernel.ScoreRule(sample(2), sample(1), opt, true, nil)
		diff = append(diff, s.MMD2())
	}
	mean := func(x []float64) float64 {
		var s float64
		for _, v := range x {
			s += v
		}
		return s / float64(len(x))
	}
	if ms, md := mean(same), mean(diff); !(md > 10*math.Abs(ms)) || md <= 0 {
		t.Errorf("mean MMD² same law %v, volatility doubled %v", ms, md)
	}
}

// The score and its gradient are bit-identical whatever GOMAXPROCS is.
func TestScoreRuleDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const m, l, d = 37, 8, 2
	gen := sigkernel.Paths{N: m, Len: l, Dim: d, X: randomPath(rng, m*l, d, 0.3)}
	real := sigkernel.Paths{N: 20, Len: l, Dim: d, X: randomPath(rng, 20*l, d, 0.3)}
	opt := sigkernel.Options{Static: sigkernel.RBF, Sigma2: 0.4}
	run := func(procs int) (sigkernel.Score, []float64) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		g := make([]float64, len(gen.X))
		s, err := sigkernel.ScoreRule(gen, real, opt, true, g)
		if err != nil {
			t.Fatal(err)
		}
		return s, g
	}
	s1, g1 := run(1)
	for _, p := range []int{2, 5} {
		s, g := run(p)
		if s != s1 || !slices.Equal(g, g1) {
			t.Errorf("GOMAXPROCS %d differs from 1: %+v vs %+v", p, s, s1)
		}
	}
}

func TestErrors(t *testing.T) {
	ok := []float64{0, 0, 1, 1}
	cases := []struct {
		name string
		x, y []float64
		d    int
		opt  sigkernel.Options
	}{
		{"one point", []float64{0, 0}, ok, 2, sigkernel.Options{}},
		{"ragged", []float64{0, 0, 1}, ok, 2, sigkernel.Options{}},
		{"nan", []float64{0, 0, math.NaN(), 1}, ok, 2, sigkernel.Options{}},
		{"dimension", ok, ok, 0, sigkernel.Options{}},
		{"sigma", ok, ok, 2, sigkernel.Options{Static: sigkernel.RBF}},
		{"refine", ok, ok, 2, sigkernel.Options{Refine: -1}},
		{"refine large", ok, ok, 2, sigkernel.Options{Refine: sigkernel.MaxRefine + 1}},
		{"static", ok, ok, 2, sigkernel.Options{Static: 7}},
	}
	for _, tc := range cases {
		if _, err := sigkernel.Kernel(tc.x, tc.y, tc.d, tc.opt); !errors.Is(err, sigkernel.ErrInput) {
			t.Errorf("%s: error %v, want ErrInput", tc.name, err)
		}
	}
	p := sigkernel.Paths{X: ok, N: 1, Len: 2, Dim: 2}
	if _, err := sigkernel.ScoreRule(p, p, sigkernel.Options{}, false, nil); !errors.Is(err, sigkernel.ErrInput) {
		t.Errorf("one generated path: %v", err)
	}
	if _, err := sigkernel.ParseStatic("poly"); err == nil {
		t.Error("ParseStatic accepted poly")
	}
}
