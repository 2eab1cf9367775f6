package brownian

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// query is a time interval [s, t].
type query struct{ s, t float64 }

func TestIntervalMarginalLaw(t *testing.T) {
	// W(s, t)/√(t−s) ~ N(0, 1) over paths and channels, whatever was asked before.
	cases := []struct {
		name   string
		levy   bool
		plan   []float64
		before []query
		q      query
	}{
		{name: "root", q: query{2, 5}},
		{name: "first query small", q: query{3.3, 3.31}},
		{name: "after coarse query", before: []query{{2, 5}}, q: query{2.7, 4.1}},
		{name: "cover of two nodes", before: []query{{2, 3.5}, {3.5, 5}}, q: query{2.75, 4.25}},
		{name: "cover of many nodes", before: []query{{2, 2.5}, {2.5, 3}, {3, 3.5}, {3.5, 4}, {4, 4.5}}, q: query{2.1, 4.9}},
		{name: "planned step", plan: gridOn(2, 5, 100), q: query{2 + 0.03*37, 2 + 0.03*38}},
		{name: "planned off-grid", plan: gridOn(2, 5, 100), before: []query{{2, 2.03}}, q: query{2.011, 4.777}},
		{name: "levy root", levy: true, q: query{2, 5}},
		{name: "levy split", levy: true, before: []query{{2, 5}}, q: query{2.7, 4.1}},
		{name: "levy cover of two nodes", levy: true, before: []query{{2, 3.5}, {3.5, 5}}, q: query{2.75, 4.25}},
	}
	for k, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var opts []IntervalOption
			if c.levy {
				opts = append(opts, WithLevyArea())
			}
			iv := mustInterval(t, 2, 5, 5000, 2, uint64(100+k), opts...)
			if c.plan != nil {
				if err := iv.Plan(c.plan); err != nil {
					t.Fatal(err)
				}
			}
			for _, q := range c.before {
				inc(t, iv, q.s, q.t)
			}
			w := inc(t, iv, c.q.s, c.q.t)
			requireNormal(t, "W/√h", scaled(w, c.q.t-c.q.s))
		})
	}
}

// gridOn returns steps+1 equally spaced times over [t0, t1].
func gridOn(t0, t1 float64, steps int) []float64 {
	ts := make([]float64, steps+1)
	for k := range ts {
		ts[k] = t0 + (t1-t0)*float64(k)/float64(steps)
	}
	ts[steps] = t1
	return ts
}

func TestIntervalSweepLaw(t *testing.T) {
	// Every step of a planned sweep, pooled: N(0, 1) after scaling, forwards and
	// backwards, and neighbouring steps uncorrelated.
	for _, levy := range []bool{false, true} {
		t.Run(fmt.Sprintf("levy=%v", levy), func(t *testing.T) {
			var opts []IntervalOption
			if levy {
				opts = append(opts, WithLevyArea())
			}
			const steps, batch = 40, 500
			ts := gridOn(0, 3, steps)
			iv := mustInterval(t, 0, 3, batch, 1, 7, append(opts, WithCacheSize(4))...)
			if err := iv.Plan(ts); err != nil {
				t.Fatal(err)
			}
			var all, prev, next []float64
			dst := make([]float64, batch)
			err := sweep(iv, ts, dst, func(k int, back bool, dw []float64) {
				if back {
					return
				}
				z := scaled(dw, ts[k+1]-ts[k])
				all = append(all, z...)
				if k%2 == 0 {
					prev = append(prev, z...)
				} else {
					next = append(next, z...)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			requireNormal(t, "pooled steps", all)
			requireUncorrelated(t, "neighbouring steps", prev, next)
		})
	}
}

func TestIntervalBridgeLaw(t *testing.T) {
	// Given W(0, 1), W(a, b) ~ N((b−a)W, (b−a)(1−(b−a))), independent of W.
	cases := []struct {
		a, b float64
		levy bool
	}{
		{0, 0.5, false}, {0, 0.3, false}, {0, 0.9, false}, {0.25, 0.5, false}, {0.3, 0.65, false},
		{0, 0.5, true}, {0, 0.3, true}, {0.25, 0.5, true}, {0.3, 0.65, true},
	}
	for k, c := range cases {
		t.Run(fmt.Sprintf("[%v,%v] levy=%v", c.a, c.b, c.levy), func(t *testing.T) {
			var opts []IntervalOption
			if c.levy {
				opts = append(opts, WithLevyArea())
			}
			const n = 10000
			iv := mustInterval(t, 0, 1, n, 1, uint64(200+k), opts...)
			w := inc(t, iv, 0, 1)
			part := inc(t, iv, c.a, c.b)
			h := c.b - c.a
			z := make([]float64, n)
			for i := range z {
				z[i] = (part[i] - h*w[i]) / math.Sqrt(h*(1-h))
			}
			requireNormal(t, "bridge residual", z)
			requireUncorrelated(t, "bridge residual vs W", z, w)
		})
	}
}

func TestLevyAreaLaw(t *testing.T) {
	// H ~ N(0, h/12), W ~ N(0, h), W and H uncorrelated, for nodes made by splitting and
	// for covers merged from several nodes.
	cases := []struct {
		name   string
		before []query
		q      query
	}{
		{name: "root", q: query{0, 2}},
		{name: "half", before: []query{{0, 2}}, q: query{0, 1}},
		{name: "uneven split", before: []query{{0, 2}}, q: query{0.6, 2}},
		{name: "first query inside", q: query{0.6, 1.4}},
		{name: "merged two", before: []query{{0, 1}, {1, 2}}, q: query{0.5, 1.5}},
		{name: "merged many", before: []query{{0, 0.4}, {0.4, 0.8}, {0.8, 1.2}, {1.2, 1.6}}, q: query{0.1, 1.9}},
	}
	for k, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			const n = 10000
			iv := mustInterval(t, 0, 2, n, 1, uint64(300+k), WithLevyArea())
			dw, area := make([]float64, n), make([]float64, n)
			for _, q := range c.before {
				if err := iv.IncrementArea(dw, area, q.s, q.t); err != nil {
					t.Fatal(err)
				}
			}
			if err := iv.IncrementArea(dw, area, c.q.s, c.q.t); err != nil {
				t.Fatal(err)
			}
			h := c.q.t - c.q.s
			requireNormal(t, "W/√h", scaled(dw, h))
			requireNormal(t, "H/√(h/12)", scaled(area, h/12))
			requireUncorrelated(t, "W vs H", dw, area)
		})
	}
}

func TestLevySplitJointLaw(t *testing.T) {
	// Splitting [0, 1] at u: (W_L, H_L, W_R, H_R), scaled, are jointly Gaussian (linear
	// in normals) with identity covariance: the law of independent Brownian pieces.
	for k, u := range []float64{0.5, 0.3, 0.05} {
		t.Run(fmt.Sprintf("u=%v", u), func(t *testing.T) {
			const n = 10000
			iv := mustInterval(t, 0, 1, n, 1, uint64(400+k), WithLevyArea())
			if err := iv.Plan([]float64{0, u, 1}); err != nil {
				t.Fatal(err)
			}
			wl, hl := make([]float64, n), make([]float64, n)
			wr, hr := make([]float64, n), make([]float64, n)
			if err := iv.IncrementArea(wl, hl, 0, u); err != nil {
				t.Fatal(err)
			}
			if err := iv.IncrementArea(wr, hr, u, 1); err != nil {
				t.Fatal(err)
			}
			if iv.Stats().Nodes != 3 {
				t.Fatalf("expected the root and two children, got %d nodes", iv.Stats().Nodes)
			}
			vs := [][]float64{scaled(wl, u), scaled(hl, u/12), scaled(wr, 1-u), scaled(hr, (1-u)/12)}
			names := []string{"W_L", "H_L", "W_R", "H_R"}
			for i := range vs {
				requireNormal(t, names[i], vs[i])
				for j := i + 1; j < len(vs); j++ {
					requireUncorrelated(t, names[i]+" vs "+names[j], vs[i], vs[j])
				}
			}
		})
	}
}

func TestLevyMergeReproducesParent(t *testing.T) {
	// Merging the pieces of a split reproduces the parent's W and H to rounding, for a
	// direct split (the root's children) and for covers made of several nodes.
	cases := []struct {
		parent query
		u      float64
	}{
		{query{0, 1}, 0.5}, {query{0, 1}, 0.3}, {query{0, 1}, 0.999}, {query{0.2, 0.9}, 0.41}, {query{0.1, 0.7}, 0.4},
	}
	const n, d = 64, 3
	for k, c := range cases {
		t.Run(fmt.Sprintf("%v at %v", c.parent, c.u), func(t *testing.T) {
			iv := mustInterval(t, 0, 1, n, d, uint64(500+k), WithLevyArea())
			w, h := make([]float64, n*d), make([]float64, n*d)
			w1, h1 := make([]float64, n*d), make([]float64, n*d)
			w2, h2 := make([]float64, n*d), make([]float64, n*d)
			for _, e := range []error{
				iv.IncrementArea(w, h, c.parent.s, c.parent.t),
				iv.IncrementArea(w1, h1, c.parent.s, c.u),
				iv.IncrementArea(w2, h2, c.u, c.parent.t),
			} {
				if e != nil {
					t.Fatal(e)
				}
			}
			mergeArea(w1, h1, w2, h2, c.u-c.parent.s, c.parent.t-c.u)
			for i := range w {
				if math.Abs(w1[i]-w[i]) > 1e-13 || math.Abs(h1[i]-h[i]) > 1e-13 {
					t.Fatalf("value %d: merged (W, H) = (%v, %v), parent (%v, %v)", i, w1[i], h1[i], w[i], h[i])
				}
			}
		})
	}
}

func TestIntervalAdditivity(t *testing.T) {
	// W(s,u) + W(u,t) = W(s,t) to rounding (and H merges to H), whichever is asked first.
	for _, levy := range []bool{false, true} {
		for _, wholeFirst := range []bool{true, false} {
			for _, plan := range []bool{false, true} {
				name := fmt.Sprintf("levy=%v wholeFirst=%v plan=%v", levy, wholeFirst, plan)
				t.Run(name, func(t *testing.T) {
					var opts []IntervalOption
					if levy {
						opts = append(opts, WithLevyArea())
					}
					const b, d = 16, 2
					iv := mustInterval(t, -1, 3, b, d, 11, append(opts, WithCacheSize(3))...)
					if plan {
						if err := iv.Plan(gridOn(-1, 3, 64)); err != nil {
							t.Fatal(err)
						}
					}
					rng := rand.New(rand.NewPCG(1, 2))
					for range 300 {
						x := []float64{-1 + 4*rng.Float64(), -1 + 4*rng.Float64(), -1 + 4*rng.Float64()}
						slices.Sort(x)
						s, u, e := x[0], x[1], x[2]
						if !(s < u && u < e) {
							continue
						}
						get := func(a, c float64) ([]float64, []float64) {
							dw, ar := make([]float64, b*d), make([]float64, b*d)
							if levy {
								if err := iv.IncrementArea(dw, ar, a, c); err != nil {
									t.Fatal(err)
								}
								return dw, ar
							}
							return inc(t, iv, a, c), nil
						}
						var w, h, w1, h1, w2, h2 []float64
						if wholeFirst {
							w, h = get(s, e)
						}
						w1, h1 = get(s, u)
						w2, h2 = get(u, e)
						if !wholeFirst {
							w, h = get(s, e)
						}
						if levy {
							mergeArea(w1, h1, w2, h2, u-s, e-u)
						} else {
							for i := range w1 {
								w1[i] += w2[i]
							}
						}
						for i := range w {
							if math.Abs(w1[i]-w[i]) > 1e-12 {
								t.Fatalf("[%v,%v,%v] value %d: W(s,u)+W(u,t) = %v, W(s,t) = %v", s, u, e, i, w1[i], w[i])
							}
							if levy && math.Abs(h1[i]-h[i]) > 1e-12 {
								t.Fatalf("[%v,%v,%v] value %d: merged H = %v, H(s,t) = %v", s, u, e, i, h1[i], h[i])
							}
						}
					}
				})
			}
		}
	}
}

func TestIntervalIndependence(t *testing.T) {
	// Channels, disjoint intervals and neighbouring paths are uncorrelated.
	const n, d = 20000, 3
	iv := mustInterval(t, 0, 1, n, d, 13)
	a := inc(t, iv, 0, 0.3)
	b := inc(t, iv, 0.3, 0.7)
	c := inc(t, iv, 0.8, 1)
	for c1 := 0; c1 < d; c1++ {
		for c2 := c1 + 1; c2 < d; c2++ {
			requireUncorrelated(t, fmt.Sprintf("channels %d,%d", c1, c2), channel(a, d, c1), channel(a, d, c2))
		}
	}
	requireUncorrelated(t, "[0,.3] vs [.3,.7]", a, b)
	requireUncorrelated(t, "[0,.3] vs [.8,1]", a, c)
	requireUncorrelated(t, "[.3,.7] vs [.8,1]", b, c)
	// path p vs path p+1 (channel 0)
	x0 := channel(a, d, 0)
	var ev, od []float64
	for p := 0; p+1 < len(x0); p += 2 {
		ev, od = append(ev, x0[p]), append(od, x0[p+1])
	}
	requireUncorrelated(t, "neighbouring paths", ev, od)
	requireNormal(t, "channel 2 of [.8,1]", scaled(channel(c, d, 2), 0.2))
}

// randomQueries returns n random queries inside [t0, t1]: a mix of grid steps, wide
// intervals and arbitrary ones.
func randomQueries(seed uint64, n int, t0, t1 float64) []query {
	rng := rand.New(rand.NewPCG(seed, 99))
	h := t1 - t0
	var qs []query
	for len(qs) < n {
		var s, t float64
		switch rng.IntN(3) {
		case 0: // a step of a 64-grid
			k := rng.IntN(64)
			s, t = t0+h*float64(k)/64, t0+h*float64(k+1)/64
		case 1:
			s, t = t0+h*rng.Float64(), t0+h*rng.Float64()
		default:
			s = t0 + h*rng.Float64()
			t = s + h*1e-3*rng.Float64()
		}
		if s > t {
			s, t = t, s
		}
		if t > t1 {
			t = t1
		}
		qs = append(qs, query{s, t})
	}
	return qs
}

func TestIntervalDeterminism(t *testing.T) {
	qs := randomQueries(5, 200, 0, 1)
	run := func(seed uint64, opts ...IntervalOption) [][]float64 {
		iv := mustInterval(t, 0, 1, 5, 3, seed, opts...)
		var out [][]float64
		for _, q := range qs {
			out = append(out, inc(t, iv, q.s, q.t))
		}
		return out
	}
	a := run(42)
	b := run(42)
	c := run(42, WithCacheSize(1))
	d := run(43)
	for i := range a {
		if !slices.Equal(a[i], b[i]) {
			t.Fatalf("query %d %v: two runs differ", i, qs[i])
		}
		if !slices.Equal(a[i], c[i]) {
			t.Fatalf("query %d %v: cache size 1 differs from the default", i, qs[i])
		}
		if qs[i].s < qs[i].t && slices.Equal(a[i], d[i]) {
			t.Fatalf("query %d %v: seeds 42 and 43 agree", i, qs[i])
		}
	}
}

func TestIntervalReplayAfterCacheOverflow(t *testing.T) {
	// Cache of 2 nodes, random queries; asking all of them again in another order gives
	// bit-identically what they gave first, and the same as with a huge cache.
	for _, levy := range []bool{false, true} {
		t.Run(fmt.Sprintf("levy=%v", levy), func(t *testing.T) {
			var opts []IntervalOption
			if levy {
				opts = append(opts, WithLevyArea())
			}
			qs := randomQueries(7, 300, 0, 1)
			small := mustInterval(t, 0, 1, 4, 2, 9, append(opts, WithCacheSize(2))...)
			big := mustInterval(t, 0, 1, 4, 2, 9, append(opts, WithCacheSize(100000))...)
			first := make([][]float64, len(qs))
			areas := make([][]float64, len(qs))
			for i, q := range qs {
				first[i] = inc(t, small, q.s, q.t)
				if !slices.Equal(first[i], inc(t, big, q.s, q.t)) {
					t.Fatalf("query %d %v: cache sizes 2 and 100000 disagree", i, q)
				}
				if levy {
					dw, ar := make([]float64, 8), make([]float64, 8)
					if err := small.IncrementArea(dw, ar, q.s, q.t); err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(dw, first[i]) {
						t.Fatalf("query %d: IncrementArea's W differs from Increment's", i)
					}
					areas[i] = ar
				}
			}
			if small.Stats().Cached > 2 {
				t.Fatalf("cache holds %d blocks, capacity 2", small.Stats().Cached)
			}
			if a := small.Stats().Allocated; a > 4 {
				t.Errorf("%d blocks allocated for a cache of 2; want at most 4", a)
			}
			order := rand.New(rand.NewPCG(3, 4)).Perm(len(qs))
			for _, i := range order {
				if got := inc(t, small, qs[i].s, qs[i].t); !slices.Equal(got, first[i]) {
					t.Fatalf("query %d %v replayed: got %v, first gave %v", i, qs[i], got, first[i])
				}
				if levy {
					dw, ar := make([]float64, 8), make([]float64, 8)
					if err := small.IncrementArea(dw, ar, qs[i].s, qs[i].t); err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(ar, areas[i]) {
						t.Fatalf("query %d %v replayed: area differs", i, qs[i])
					}
				}
			}
		})
	}
}

func TestIntervalReverseSweepEqualsForward(t *testing.T) {
	for _, levy := range []bool{false, true} {
		for _, plan := range []bool{false, true} {
			for _, cache := range []int{1, 3, 128} {
				t.Run(fmt.Sprintf("levy=%v plan=%v cache=%d", levy, plan, cache), func(t *testing.T) {
					opts := []IntervalOption{WithCacheSize(cache)}
					if levy {
						opts = append(opts, WithLevyArea())
					}
					ts := gridOn(0, 1, 300)
					iv := mustInterval(t, 0, 1, 3, 2, 21, opts...)
					if plan {
						if err := iv.Plan(ts); err != nil {
							t.Fatal(err)
						}
					}
					fwd := make([][]float64, len(ts)-1)
					dst := make([]float64, 6)
					err := sweep(iv, ts, dst, func(k int, back bool, dw []float64) {
						if !back {
							fwd[k] = slices.Clone(dw)
						} else if !slices.Equal(dw, fwd[k]) {
							t.Fatalf("step %d: reverse %v, forward %v", k, dw, fwd[k])
						}
					})
					if err != nil {
						t.Fatal(err)
					}
				})
			}
		}
	}
}

func TestIntervalPlanSweepCost(t *testing.T) {
	// With a plan, the leaves are exactly the steps, a forward sweep costs N−1 splits
	// and a reverse sweep about as many again; a random step costs O(log N).
	const steps = 1000
	ts := gridOn(0, 1, steps)
	iv := mustInterval(t, 0, 1, 2, 1, 1)
	if err := iv.Plan(ts); err != nil {
		t.Fatal(err)
	}
	dst := make([]float64, 2)
	for k := 0; k < steps; k++ {
		if err := iv.Increment(dst, ts[k], ts[k+1]); err != nil {
			t.Fatal(err)
		}
		if len(iv.cov) != 1 {
			t.Fatalf("step %d is covered by %d nodes, want 1 (a leaf of the plan)", k, len(iv.cov))
		}
	}
	st := iv.Stats()
	if st.Splits != steps-1 || st.Roots != 1 || st.Nodes != 2*steps-1 {
		t.Fatalf("forward sweep: %+v; want %d splits, 1 root, %d nodes", st, steps-1, 2*steps-1)
	}
	if d, want := treeDepth(iv), int(math.Ceil(math.Log2(steps))); d != want {
		t.Errorf("plan depth %d, want %d", d, want)
	}
	for k := steps - 1; k >= 0; k-- {
		if err := iv.Increment(dst, ts[k], ts[k+1]); err != nil {
			t.Fatal(err)
		}
	}
	st2 := iv.Stats()
	if rev := st2.Splits - st.Splits; rev > (steps-1)*11/10 {
		t.Errorf("reverse sweep cost %d splits, want ≤ 1.1×(N−1) = %d", rev, (steps-1)*11/10)
	}
	if st2.Roots != 1 {
		t.Errorf("root recomputed %d times during the sweeps", st2.Roots)
	}
	if st2.Nodes != 2*steps-1 {
		t.Errorf("reverse sweep created nodes: %d", st2.Nodes)
	}
	// random access with a small cache: O(log N) splits per step
	small := mustInterval(t, 0, 1, 2, 1, 1, WithCacheSize(4))
	if err := small.Plan(ts); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(8, 8))
	const queries = 500
	for range queries {
		k := rng.IntN(steps)
		if err := small.Increment(dst, ts[k], ts[k+1]); err != nil {
			t.Fatal(err)
		}
	}
	if per := float64(small.Stats().Splits) / queries; per > 12 {
		t.Errorf("random access: %.1f splits per query, want O(log₂ N) ≈ 10", per)
	}
}

func TestIntervalPlanPartialGrid(t *testing.T) {
	// A grid that does not reach the ends of the span, with irregular steps.
	ts := []float64{0.5, 0.7, 0.71, 1.3, 1.9, 2.0, 2.05}
	iv := mustInterval(t, 0, 3, 4, 1, 3)
	if err := iv.Plan(ts); err != nil {
		t.Fatal(err)
	}
	for k := 0; k+1 < len(ts); k++ {
		inc(t, iv, ts[k], ts[k+1])
		if len(iv.cov) != 1 {
			t.Fatalf("step %d covered by %d nodes", k, len(iv.cov))
		}
	}
	before := iv.Stats().Nodes
	if before != 2*(len(ts)-1)-1+4 {
		t.Errorf("%d nodes, want the plan's %d plus 4 for the ends", before, 2*(len(ts)-1)-1)
	}
	// queries off the grid and outside it still work and add up
	w := inc(t, iv, 0, 3)
	parts := [][]float64{inc(t, iv, 0, 0.5), inc(t, iv, 0.5, 2.05), inc(t, iv, 2.05, 3)}
	for i := range w {
		if sum := parts[0][i] + parts[1][i] + parts[2][i]; math.Abs(sum-w[i]) > 1e-12 {
			t.Fatalf("path %d: parts sum to %v, whole is %v", i, sum, w[i])
		}
	}
}

func TestIntervalUnplannedStaysShallow(t *testing.T) {
	// Without a plan, a forward sweep of equal steps builds a tree of depth
	// O(log(span/step)) thanks to midpoint splits, and reverse equals forward.
	const steps = 1000
	ts := gridOn(0, 1, steps)
	iv := mustInterval(t, 0, 1, 1, 1, 5)
	dst := make([]float64, 1)
	fwd := make([]float64, steps)
	err := sweep(iv, ts, dst, func(k int, back bool, dw []float64) {
		if !back {
			fwd[k] = dw[0]
		} else if dw[0] != fwd[k] {
			t.Fatalf("step %d: reverse %v, forward %v", k, dw[0], fwd[k])
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if d, lim := treeDepth(iv), int(math.Ceil(math.Log2(steps)))+dyadicRatio; d > lim {
		t.Errorf("unplanned sweep built a tree of depth %d, want ≤ %d", d, lim)
	}
	if sp := iv.Stats().Splits; sp > 4*steps {
		t.Errorf("unplanned forward+reverse sweep cost %d splits, want ≤ %d", sp, 4*steps)
	}
}

func TestIntervalZeroLength(t *testing.T) {
	iv := mustInterval(t, 0, 1, 3, 2, 1, WithLevyArea())
	dst := []float64{1, 2, 3, 4, 5, 6}
	area := []float64{1, 2, 3, 4, 5, 6}
	for _, s := range []float64{0, 0.4, 1} {
		if err := iv.Increment(dst, s, s); err != nil {
			t.Fatal(err)
		}
		if err := iv.IncrementArea(dst, area, s, s); err != nil {
			t.Fatal(err)
		}
		for i := range dst {
			if dst[i] != 0 || area[i] != 0 {
				t.Fatalf("zero-length query at %v wrote %v, %v", s, dst, area)
			}
		}
	}
	// a zero-length query is not a query: Plan still allowed
	if err := iv.Plan([]float64{0, 0.5, 1}); err != nil {
		t.Fatalf("Plan after zero-length queries: %v", err)
	}
}

func TestIntervalPlanRules(t *testing.T) {
	iv := mustInterval(t, 0, 1, 1, 1, 1)
	bad := []struct {
		name string
		ts   []float64
	}{
		{"empty", nil},
		{"one time", []float64{0.5}},
		{"not increasing", []float64{0, 0.5, 0.5, 1}},
		{"decreasing", []float64{0.5, 0.2}},
		{"NaN", []float64{0, math.NaN(), 1}},
		{"Inf", []float64{0, math.Inf(1)}},
		{"before span", []float64{-0.1, 0.5}},
		{"after span", []float64{0.5, 1.1}},
	}
	for _, c := range bad {
		if err := iv.Plan(c.ts); err == nil {
			t.Errorf("Plan(%s %v): no error", c.name, c.ts)
		}
	}
	// re-planning before the first query is allowed and replaces the plan
	if err := iv.Plan([]float64{0, 0.25, 0.5, 0.75, 1}); err != nil {
		t.Fatal(err)
	}
	if err := iv.Plan([]float64{0, 0.1, 0.2}); err != nil {
		t.Fatal(err)
	}
	inc(t, iv, 0, 0.1)
	if len(iv.cov) != 1 {
		t.Errorf("re-plan not applied: step covered by %d nodes", len(iv.cov))
	}
	if err := iv.Plan([]float64{0, 0.5, 1}); err != ErrPlanAfterQuery {
		t.Errorf("Plan after a query: got %v, want ErrPlanAfterQuery", err)
	}
}

func TestIntervalNoAllocationsInSteadyState(t *testing.T) {
	for _, c := range []struct {
		batch, dim int
		levy       bool
	}{{4, 3, false}, {4, 3, true}, {8192, 4, false}, {4096, 4, true}} {
		t.Run(fmt.Sprintf("%dx%d levy=%v", c.batch, c.dim, c.levy), func(t *testing.T) {
			opts := []IntervalOption{WithCacheSize(8)}
			if c.levy {
				opts = append(opts, WithLevyArea())
			}
			ts := gridOn(0, 1, 64)
			iv := mustInterval(t, 0, 1, c.batch, c.dim, 1, opts...)
			if err := iv.Plan(ts); err != nil {
				t.Fatal(err)
			}
			dst := make([]float64, c.batch*c.dim)
			area := make([]float64, c.batch*c.dim)
			sweep := func() {
				if err := sweep(iv, ts, dst, nil); err != nil {
					t.Fatal(err)
				}
				if c.levy {
					if err := iv.IncrementArea(dst, area, ts[3], ts[40]); err != nil {
						t.Fatal(err)
					}
				}
			}
			sweep() // builds the tree and the cache
			if a := testing.AllocsPerRun(3, sweep); a > 0 {
				t.Errorf("%v allocations per forward+reverse sweep in steady state", a)
			}
		})
	}
}

func TestIntervalOptions(t *testing.T) {
	iv := mustInterval(t, 0, 1, 1, 1, 1)
	if iv.CacheSize() != DefaultCacheSize || iv.LevyArea() {
		t.Errorf("defaults: cache %d, levy %v", iv.CacheSize(), iv.LevyArea())
	}
	iv = mustInterval(t, 0, 1, 1, 1, 1, WithCacheSize(7), WithLevyArea(), nil)
	if iv.CacheSize() != 7 || !iv.LevyArea() {
		t.Errorf("options: cache %d, levy %v", iv.CacheSize(), iv.LevyArea())
	}
	if b, d := iv.Batch(), iv.Dim(); b != 1 || d != 1 {
		t.Errorf("Batch, Dim = %d, %d", b, d)
	}
	if t0, t1 := iv.Span(); t0 != 0 || t1 != 1 {
		t.Errorf("Span = %v, %v", t0, t1)
	}
}

// TestIntervalBridgeVariancePooled holds the bridge's variance to 1% and better: the KS
// checks above, at n = 10⁴, cannot see a variance off by 1%. Given W(0, 1), the
// standardised residual z = (W(a, b) − (b−a)W)/√((b−a)(1−(b−a))) is N(0, 1), so the
// mean of z² over n = 2²⁰ values has standard deviation √(2/n) ≈ 0.0014; a variance
// off by 1% moves it by 0.01, seven of those.
func TestIntervalBridgeVariancePooled(t *testing.T) {
	for _, c := range []struct {
		a, b float64
		levy bool
	}{{0, 0.5, false}, {0.3, 0.65, false}, {0, 0.5, true}, {0.3, 0.65, true}} {
		t.Run(fmt.Sprintf("[%v,%v] levy=%v", c.a, c.b, c.levy), func(t *testing.T) {
			var opts []IntervalOption
			if c.levy {
				opts = append(opts, WithLevyArea())
			}
			const n = 1 << 20
			iv := mustInterval(t, 0, 1, n, 1, 9001, opts...)
			w := inc(t, iv, 0, 1)
			part := inc(t, iv, c.a, c.b)
			h := c.b - c.a
			var sum2 float64
			for i := range w {
				z := (part[i] - h*w[i]) / math.Sqrt(h*(1-h))
				sum2 += z * z
			}
			m2, se := sum2/n, math.Sqrt(2.0/n)
			if math.Abs(m2-1) > 4*se {
				t.Errorf("mean squared standardised bridge residual %.5f, want 1 ± %.5f (4 standard errors)", m2, 4*se)
			}
		})
	}
}

// TestLevySplitVariancePooled is the pooled test for the split with Lévy area, given
// both W and H of the root [0, 1]: W_L − r_l·W − 6·r_l·r_r·H is independent of (W, H)
// with variance r_l·r_r·(1 − 3·r_l·r_r) (Gaussian conditioning: Var H = 1/12).
func TestLevySplitVariancePooled(t *testing.T) {
	for _, u := range []float64{0.5, 0.3} {
		t.Run(fmt.Sprint(u), func(t *testing.T) {
			const n = 1 << 20
			iv := mustInterval(t, 0, 1, n, 1, 9002, WithLevyArea())
			w, h := make([]float64, n), make([]float64, n)
			if err := iv.IncrementArea(w, h, 0, 1); err != nil {
				t.Fatal(err)
			}
			wl := inc(t, iv, 0, u)
			rl, rr := u, 1-u
			v := rl * rr * (1 - 3*rl*rr)
			var sum2 float64
			for i := range w {
				r := wl[i] - rl*w[i] - 6*rl*rr*h[i]
				sum2 += r * r / v
			}
			m2, se := sum2/n, math.Sqrt(2.0/n)
			if math.Abs(m2-1) > 4*se {
				t.Errorf("mean squared standardised residual %.5f, want 1 ± %.5f (4 standard errors)", m2, 4*se)
			}
		})
	}
}
