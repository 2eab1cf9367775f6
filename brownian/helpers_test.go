package brownian

import (
	"math"
	"slices"
	"testing"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Compile-time checks of the public contract.
var (
	_ Motion  = (*Interval)(nil)
	_ Motion  = (*VirtualTree)(nil)
	_ Motion  = (*Path)(nil)
	_ Planner = (*Interval)(nil)
)

// ksAlpha is the p-value below which a Kolmogorov–Smirnov test fails. With fixed seeds
// the tests are deterministic; the threshold says how unlucky a seed would have to be.
const ksAlpha = 1e-4

// ksNormal returns the one-sample Kolmogorov–Smirnov statistic of xs against N(0, 1)
// and its asymptotic p-value (Kolmogorov distribution with Stephens' correction).
func ksNormal(xs []float64) (d, p float64) {
	x := slices.Clone(xs)
	slices.Sort(x)
	n := float64(len(x))
	for i, v := range x {
		f := distuv.UnitNormal.CDF(v)
		d = max(d, f-float64(i)/n, float64(i+1)/n-f)
	}
	return d, kolmogorovQ((math.Sqrt(n) + 0.12 + 0.11/math.Sqrt(n)) * d)
}

// kolmogorovQ is P(K > λ) for the Kolmogorov distribution.
func kolmogorovQ(l float64) float64 {
	if l < 0.2 {
		return 1
	}
	var s float64
	for k := 1; k <= 100; k++ {
		term := 2 * math.Exp(-2*float64(k*k)*l*l)
		if k%2 == 0 {
			term = -term
		}
		s += term
		if math.Abs(term) < 1e-16 {
			break
		}
	}
	return math.Min(1, math.Max(0, s))
}

// requireNormal fails the test if xs does not look N(0, 1).
func requireNormal(t *testing.T, what string, xs []float64) {
	t.Helper()
	d, p := ksNormal(xs)
	if p < ksAlpha {
		t.Errorf("%s: KS against N(0,1) rejects: D = %.4g, p = %.3g (n = %d, mean %.4g, var %.4g)",
			what, d, p, len(xs), stat.Mean(xs, nil), stat.Variance(xs, nil))
	}
}

// requireUncorrelated fails the test if |corr(x, y)| exceeds 5 standard errors.
func requireUncorrelated(t *testing.T, what string, x, y []float64) {
	t.Helper()
	r := stat.Correlation(x, y, nil)
	if lim := 5 / math.Sqrt(float64(len(x))); math.Abs(r) > lim {
		t.Errorf("%s: correlation %.4g exceeds %.4g (n = %d)", what, r, lim, len(x))
	}
}

// scaled returns xs / sqrt(v).
func scaled(xs []float64, v float64) []float64 {
	out := make([]float64, len(xs))
	s := 1 / math.Sqrt(v)
	for i, x := range xs {
		out[i] = x * s
	}
	return out
}

// inc queries m and fails the test on error.
func inc(t testing.TB, m Motion, s, u float64) []float64 {
	t.Helper()
	dst := make([]float64, m.Batch()*m.Dim())
	if err := m.Increment(dst, s, u); err != nil {
		t.Fatalf("Increment(%v, %v): %v", s, u, err)
	}
	return dst
}

// channel returns the values of channel c from a path-major block.
func channel(v []float64, dim, c int) []float64 {
	out := make([]float64, 0, len(v)/dim)
	for i := c; i < len(v); i += dim {
		out = append(out, v[i])
	}
	return out
}

// mustInterval builds an Interval or fails the test.
func mustInterval(t testing.TB, t0, t1 float64, batch, dim int, seed uint64, opts ...IntervalOption) *Interval {
	t.Helper()
	iv, err := NewInterval(t0, t1, batch, dim, seed, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return iv
}

// treeDepth returns the depth of the Interval's tree (root = 0).
func treeDepth(iv *Interval) int {
	depth := make([]int, len(iv.nodes))
	deepest := 0
	for n := 1; n < len(iv.nodes); n++ {
		// children are appended after their parents
		depth[n] = depth[iv.nodes[n].parent] + 1
		deepest = max(deepest, depth[n])
	}
	return deepest
}

func TestKSHelper(t *testing.T) {
	// The helper itself: accepts normals, rejects a scaled normal and a uniform.
	g := newGauss()
	g.reset(1, 2)
	n := 20000
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = g.r.NormFloat64()
	}
	if _, p := ksNormal(xs); p < ksAlpha {
		t.Errorf("normals rejected: p = %g", p)
	}
	if _, p := ksNormal(scaled(xs, 1.5)); p > 1e-6 {
		t.Errorf("normals with variance 1/1.5 accepted: p = %g", p)
	}
	for i := range xs {
		xs[i] = 2*g.r.Float64() - 1
	}
	if _, p := ksNormal(xs); p > 1e-6 {
		t.Errorf("uniforms accepted: p = %g", p)
	}
}

// sweep queries m over the steps of ts forwards, then backwards, into dst (length
// Batch·Dim), calling visit after every query with the step index k (the increment over
// [ts[k], ts[k+1]]), whether the sweep is going backwards, and dst.
func sweep(m Motion, ts []float64, dst []float64, visit func(k int, backwards bool, dw []float64)) error {
	n := len(ts) - 1
	for k := 0; k < n; k++ {
		if err := m.Increment(dst, ts[k], ts[k+1]); err != nil {
			return err
		}
		if visit != nil {
			visit(k, false, dst)
		}
	}
	for k := n - 1; k >= 0; k-- {
		if err := m.Increment(dst, ts[k], ts[k+1]); err != nil {
			return err
		}
		if visit != nil {
			visit(k, true, dst)
		}
	}
	return nil
}
