package brownian

import (
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// motionKinds builds every sampler this package has, for the tests that apply to all.
var motionKinds = []struct {
	name string
	make func(t0, t1 float64, batch, dim int, seed uint64) (Motion, error)
}{
	{"interval", func(t0, t1 float64, b, d int, seed uint64) (Motion, error) {
		return NewInterval(t0, t1, b, d, seed)
	}},
	{"interval-levy", func(t0, t1 float64, b, d int, seed uint64) (Motion, error) {
		return NewInterval(t0, t1, b, d, seed, WithLevyArea())
	}},
	{"interval-planned", func(t0, t1 float64, b, d int, seed uint64) (Motion, error) {
		iv, err := NewInterval(t0, t1, b, d, seed, WithCacheSize(5))
		if err != nil {
			return nil, err
		}
		return iv, iv.Plan(gridOn(t0, t1, 50))
	}},
	{"virtual-tree", func(t0, t1 float64, b, d int, seed uint64) (Motion, error) {
		return NewVirtualTree(t0, t1, b, d, seed, 1e-4*(t1-t0))
	}},
	{"path", func(t0, t1 float64, b, d int, seed uint64) (Motion, error) {
		return NewPath(t0, t1, b, d, seed)
	}},
}

func TestBatchInvariance(t *testing.T) {
	// Path p's values do not depend on the batch size (8 vs 4096 paths; 4096×4 values
	// runs in parallel chunks) nor on GOMAXPROCS.
	qs := append(randomQueries(17, 40, 0, 1), query{0, 1}, query{0.5, 0.5})
	for _, k := range motionKinds {
		t.Run(k.name, func(t *testing.T) {
			run := func(batch, procs int) [][]float64 {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				m, err := k.make(0, 1, batch, 4, 77)
				if err != nil {
					t.Fatal(err)
				}
				var out [][]float64
				for _, q := range qs {
					out = append(out, inc(t, m, q.s, q.t)[:8*4])
				}
				return out
			}
			small := run(8, 1)
			for _, v := range []struct{ batch, procs int }{{4096, 1}, {4096, 4}, {8, 4}} {
				big := run(v.batch, v.procs)
				for i := range qs {
					if !slices.Equal(small[i], big[i]) {
						t.Fatalf("query %d %v: batch 8 and batch %d (GOMAXPROCS %d) differ:\n%v\n%v", i, qs[i], v.batch, v.procs, small[i], big[i])
					}
				}
			}
		})
	}
}

func TestDeterminismAllKinds(t *testing.T) {
	qs := randomQueries(23, 60, -2, 2)
	for _, k := range motionKinds {
		t.Run(k.name, func(t *testing.T) {
			run := func(seed uint64) [][]float64 {
				m, err := k.make(-2, 2, 3, 2, seed)
				if err != nil {
					t.Fatal(err)
				}
				var out [][]float64
				for _, q := range qs {
					out = append(out, inc(t, m, q.s, q.t))
				}
				// every query asked again gives the same answer
				for i, q := range qs {
					if got := inc(t, m, q.s, q.t); !slices.Equal(got, out[i]) {
						t.Fatalf("query %d %v asked again: %v, first %v", i, q, got, out[i])
					}
				}
				return out
			}
			a, b, c := run(1), run(1), run(2)
			for i := range a {
				if !slices.Equal(a[i], b[i]) {
					t.Fatalf("query %d: same seed, different values", i)
				}
				if qs[i].s < qs[i].t && slices.Equal(a[i], c[i]) {
					t.Fatalf("query %d: seeds 1 and 2 agree", i)
				}
			}
		})
	}
}

func TestMarginalLawAllKinds(t *testing.T) {
	// A forward sweep's steps are N(0, h) and the whole span N(0, t1−t0), for every
	// sampler (the VirtualTree's error, below tol/4 in variance, is invisible here).
	for i, k := range motionKinds {
		t.Run(k.name, func(t *testing.T) {
			const batch, steps = 400, 25
			m, err := k.make(1, 3, batch, 2, uint64(700+i))
			if err != nil {
				t.Fatal(err)
			}
			ts := gridOn(1, 3, steps)
			var all []float64
			for j := 0; j < steps; j++ {
				all = append(all, scaled(inc(t, m, ts[j], ts[j+1]), ts[j+1]-ts[j])...)
			}
			requireNormal(t, "steps", all)
			requireNormal(t, "whole span", scaled(inc(t, m, 1, 3), 2))
		})
	}
}

func TestErrors(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, k := range motionKinds {
		t.Run(k.name, func(t *testing.T) {
			m, err := k.make(0, 1, 2, 3, 1)
			if err != nil {
				t.Fatal(err)
			}
			good := make([]float64, 6)
			cases := []struct {
				name string
				dst  []float64
				s, t float64
				want string
			}{
				{"s after t", good, 0.6, 0.5, "after"},
				{"s before span", good, -0.1, 0.5, "outside"},
				{"t after span", good, 0.5, 1.1, "outside"},
				{"both outside", good, 2, 3, "outside"},
				{"NaN s", good, nan, 0.5, "finite"},
				{"NaN t", good, 0.5, nan, "finite"},
				{"Inf t", good, 0.5, inf, "finite"},
				{"-Inf s", good, -inf, 0.5, "finite"},
				{"short dst", make([]float64, 5), 0, 0.5, "length"},
				{"long dst", make([]float64, 7), 0, 0.5, "length"},
				{"nil dst", nil, 0, 0.5, "length"},
			}
			for _, c := range cases {
				err := m.Increment(c.dst, c.s, c.t)
				if err == nil {
					t.Errorf("%s: no error", c.name)
				} else if !strings.Contains(err.Error(), c.want) {
					t.Errorf("%s: error %q does not mention %q", c.name, err, c.want)
				}
			}
			// still usable after errors
			inc(t, m, 0, 1)
		})
	}
}

func TestConstructorErrors(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	shapes := []struct {
		name       string
		t0, t1     float64
		batch, dim int
	}{
		{"empty span", 1, 1, 1, 1},
		{"reversed span", 1, 0, 1, 1},
		{"NaN t0", nan, 1, 1, 1},
		{"Inf t1", 0, inf, 1, 1},
		{"-Inf t0", -inf, 0, 1, 1},
		{"zero batch", 0, 1, 0, 1},
		{"negative batch", 0, 1, -1, 1},
		{"zero dim", 0, 1, 1, 0},
		{"huge", 0, 1, 1 << 40, 1 << 30},
	}
	for _, c := range shapes {
		if _, err := NewInterval(c.t0, c.t1, c.batch, c.dim, 1); err == nil {
			t.Errorf("NewInterval %s: no error", c.name)
		}
		if _, err := NewVirtualTree(c.t0, c.t1, c.batch, c.dim, 1, 0.1); err == nil {
			t.Errorf("NewVirtualTree %s: no error", c.name)
		}
		if _, err := NewPath(c.t0, c.t1, c.batch, c.dim, 1); err == nil {
			t.Errorf("NewPath %s: no error", c.name)
		}
	}
	for _, n := range []int{0, -1} {
		if _, err := NewInterval(0, 1, 1, 1, 1, WithCacheSize(n)); err == nil {
			t.Errorf("WithCacheSize(%d): no error", n)
		}
	}
	for _, tol := range []float64{0, -1, nan, inf, 1e-30} {
		if _, err := NewVirtualTree(0, 1, 1, 1, 1, tol); err == nil {
			t.Errorf("NewVirtualTree tol %v: no error", tol)
		}
	}
	for _, tol := range []float64{1, 5} {
		if _, err := NewVirtualTree(0, 1, 1, 1, 1, tol); err != nil {
			t.Errorf("NewVirtualTree tol %v ≥ span: %v", tol, err)
		}
	}
	iv := mustInterval(t, 0, 1, 2, 1, 1)
	if err := iv.IncrementArea(make([]float64, 2), make([]float64, 2), 0, 1); err != ErrNoLevyArea {
		t.Errorf("IncrementArea without Lévy area: %v", err)
	}
	lv := mustInterval(t, 0, 1, 2, 1, 1, WithLevyArea())
	if err := lv.IncrementArea(make([]float64, 2), make([]float64, 3), 0, 1); err == nil {
		t.Error("IncrementArea with a wrong-length area: no error")
	}
	if err := lv.IncrementArea(make([]float64, 2), make([]float64, 2), 0.5, 0.1); err == nil {
		t.Error("IncrementArea with s > t: no error")
	}
}

func TestZeroLengthAllKinds(t *testing.T) {
	for _, k := range motionKinds {
		m, err := k.make(0, 1, 2, 2, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []float64{0, 0.37, 1} {
			dst := []float64{1, 1, 1, 1}
			if err := m.Increment(dst, s, s); err != nil {
				t.Fatalf("%s: %v", k.name, err)
			}
			if slices.ContainsFunc(dst, func(x float64) bool { return x != 0 }) {
				t.Errorf("%s: Increment(%v, %v) = %v, want zeros", k.name, s, s, dst)
			}
		}
	}
}

func TestVirtualTreeLaw(t *testing.T) {
	// Between points the bisection hits exactly (dyadic points) the law is exact; the
	// bridge law given W(t0, t1) holds at the midpoint.
	const n = 10000
	vt, err := NewVirtualTree(0, 4, n, 1, 31, 4e-3)
	if err != nil {
		t.Fatal(err)
	}
	w := inc(t, vt, 0, 4)
	requireNormal(t, "W(0,4)/2", scaled(w, 4))
	requireNormal(t, "W(1,1.5)", scaled(inc(t, vt, 1, 1.5), 0.5))
	requireNormal(t, "W(0.3,3.1) (non-dyadic)", scaled(inc(t, vt, 0.3, 3.1), 2.8))
	half := inc(t, vt, 0, 2)
	z := make([]float64, n)
	for i := range z {
		z[i] = (half[i] - 0.5*w[i]) / 1 // Var = 4·½·½ = 1
	}
	requireNormal(t, "bridge at the midpoint", z)
	requireUncorrelated(t, "bridge residual vs W", z, w)
}

func TestVirtualTreeAccuracy(t *testing.T) {
	// With the same seed, trees of different tolerances share their coarse levels, so
	// W_tol(t) − W_fine(t) is the missing bridge: its RMS is at most √(tol/4) and
	// shrinks as tol does.
	const n = 4000
	times := []float64{0.1234567, 0.5 + 1e-7, 0.987654321}
	fine, err := NewVirtualTree(0, 1, n, 1, 5, 1e-10)
	if err != nil {
		t.Fatal(err)
	}
	ref := make([][]float64, len(times))
	for i, x := range times {
		ref[i] = inc(t, fine, 0, x)
	}
	prev := math.Inf(1)
	for _, tol := range []float64{1e-1, 1e-2, 1e-3, 1e-4, 1e-5} {
		vt, err := NewVirtualTree(0, 1, n, 1, 5, tol)
		if err != nil {
			t.Fatal(err)
		}
		var ss float64
		for i, x := range times {
			w := inc(t, vt, 0, x)
			for p := range w {
				d := w[p] - ref[i][p]
				ss += d * d
			}
		}
		rms := math.Sqrt(ss / float64(n*len(times)))
		// leaves have length ≤ tol, bridge variance ≤ tol/4; allow sampling noise
		if lim := 1.1 * math.Sqrt(tol/4); rms > lim {
			t.Errorf("tol %g: RMS error %.3g > %.3g", tol, rms, lim)
		}
		if rms >= prev {
			t.Errorf("tol %g: RMS error %.3g did not shrink from %.3g", tol, rms, prev)
		}
		prev = rms
		t.Logf("tol %g: RMS error %.3g (depth %d)", tol, rms, vt.Depth())
	}
}

func TestVirtualTreeEnds(t *testing.T) {
	vt, err := NewVirtualTree(-1, 2, 3, 2, 9, 1e-3)
	if err != nil {
		t.Fatal(err)
	}
	a := inc(t, vt, -1, 2)
	if !slices.Equal(a, vt.w1) {
		t.Errorf("W(t1) − W(t0) = %v, want the root draw %v", a, vt.w1)
	}
	if vt.Tol() != 1e-3 || vt.Depth() != 12 {
		t.Errorf("Tol, Depth = %v, %d; want 1e-3, 12", vt.Tol(), vt.Depth())
	}
	coarse, err := NewVirtualTree(-1, 2, 3, 2, 9, 10)
	if err != nil {
		t.Fatal(err)
	}
	if coarse.Depth() != 0 {
		t.Errorf("tol ≥ span: depth %d", coarse.Depth())
	}
	w := inc(t, coarse, -1, 2)
	h := inc(t, coarse, -1, 0.5)
	for i := range w {
		if math.Abs(h[i]-0.5*w[i]) > 1e-15 {
			t.Fatalf("tol ≥ span should interpolate linearly: %v vs %v", h[i], 0.5*w[i])
		}
	}
}

func TestPathLaw(t *testing.T) {
	const n = 10000
	bp, err := NewPath(0, 1, n, 1, 41)
	if err != nil {
		t.Fatal(err)
	}
	w := inc(t, bp, 0, 1) // extends past t0
	requireNormal(t, "W(0,1)", w)
	part := inc(t, bp, 0.2, 0.7) // two bridge points
	z := make([]float64, n)
	for i := range z {
		z[i] = (part[i] - 0.5*w[i]) / 0.5 // Var = ½·½
	}
	requireNormal(t, "bridge residual", z)
	requireUncorrelated(t, "bridge residual vs W", z, w)
	if bp.Len() != 4 {
		t.Errorf("Len = %d, want 4 (0, 0.2, 0.7, 1)", bp.Len())
	}
	// stored: asking again is free and identical
	if again := inc(t, bp, 0.2, 0.7); !slices.Equal(again, part) || bp.Len() != 4 {
		t.Error("Path did not replay a stored increment")
	}
}

func TestPathAdditivity(t *testing.T) {
	bp, err := NewPath(0, 1, 5, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, q := range randomQueries(3, 100, 0, 1) {
		u := q.s + 0.37*(q.t-q.s)
		w := inc(t, bp, q.s, q.t)
		a, b := inc(t, bp, q.s, u), inc(t, bp, u, q.t)
		for j := range w {
			if math.Abs(a[j]+b[j]-w[j]) > 1e-12 {
				t.Fatalf("query %d: %v + %v ≠ %v", i, a[j], b[j], w[j])
			}
		}
	}
}

func TestVirtualTreeFloatResolution(t *testing.T) {
	// Far from zero the bisection reaches adjacent floats before tol: it must stop
	// there and still answer finite values.
	vt, err := NewVirtualTree(1e9, 1e9+1, 2, 1, 3, 1e-15)
	if err != nil {
		t.Fatal(err)
	}
	w := inc(t, vt, 1e9+0.1, 1e9+0.7)
	for _, x := range w {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			t.Fatalf("non-finite increment %v", w)
		}
	}
}

func TestVirtualTreeMemoIsInvisible(t *testing.T) {
	// The two-point memo is only a speed-up: a long-lived tree answers every query as
	// a fresh tree with the same seed does, in any order (including queries that share
	// an end with the previous one, on either side).
	qs := randomQueries(29, 200, 0, 1)
	for i := 1; i < len(qs); i += 3 { // share ends with the previous query
		qs[i] = query{qs[i-1].t, max(qs[i-1].t, qs[i].t)}
		if i+1 < len(qs) {
			qs[i+1] = query{min(qs[i+1].s, qs[i].s), qs[i].s}
		}
	}
	long, err := NewVirtualTree(0, 1, 3, 2, 8, 1e-3)
	if err != nil {
		t.Fatal(err)
	}
	for i, q := range qs {
		fresh, err := NewVirtualTree(0, 1, 3, 2, 8, 1e-3)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := inc(t, long, q.s, q.t), inc(t, fresh, q.s, q.t); !slices.Equal(got, want) {
			t.Fatalf("query %d %v: long-lived %v, fresh %v", i, q, got, want)
		}
	}
}
