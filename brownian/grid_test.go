package brownian

import (
	"math"
	"testing"
)

func TestGridTime(t *testing.T) {
	g := Grid{Ts: []float64{0, 0.3, 1}, Steps: []int{3, 7}}
	if g.Len() != 10 {
		t.Fatalf("Len = %d, want 10", g.Len())
	}
	if g.Time(0, 0) != 0 || g.Time(0, 3) != 0.3 || g.Time(1, 0) != 0.3 || g.Time(1, 7) != 1 {
		t.Fatal("grid ends are not exact")
	}
	if got, want := g.Time(1, 2), 0.3+0.7*2/7; math.Abs(got-want) > 1e-15 {
		t.Fatalf("Time(1, 2) = %v, want %v", got, want)
	}
}

// A plan given as a Grid (output times and steps per interval, as a solver gives it)
// builds the same tree as Plan with every step time written out, and so answers
// bit-identically, with one leaf per step.
func TestIntervalPlanGridMatchesPlan(t *testing.T) {
	g := Grid{Ts: []float64{0.25, 0.5, 1.5, 1.75, 3}, Steps: []int{1, 37, 4, 200}}
	var ts []float64
	for i := range g.Steps {
		for k := 0; k < g.Steps[i]; k++ {
			ts = append(ts, g.Time(i, k))
		}
	}
	ts = append(ts, g.Ts[len(g.Ts)-1])
	a, b := mustInterval(t, 0, 3, 5, 2, 11), mustInterval(t, 0, 3, 5, 2, 11)
	if err := a.PlanGrid(g); err != nil {
		t.Fatal(err)
	}
	if err := b.Plan(ts); err != nil {
		t.Fatal(err)
	}
	for k := len(ts) - 2; k >= 0; k-- { // reverse first: the tree must not depend on order
		wa, wb := inc(t, a, ts[k], ts[k+1]), inc(t, b, ts[k], ts[k+1])
		if len(a.cov) != 1 {
			t.Fatalf("step %d covered by %d nodes, want one leaf", k, len(a.cov))
		}
		for i := range wa {
			if wa[i] != wb[i] {
				t.Fatalf("step %d path-channel %d: PlanGrid %v, Plan %v", k, i, wa[i], wb[i])
			}
		}
	}
	if sa, sb := a.Stats(), b.Stats(); sa.Nodes != sb.Nodes || sa.Splits != sb.Splits {
		t.Fatalf("trees differ: PlanGrid %+v, Plan %+v", sa, sb)
	}
}

func TestIntervalPlanGridErrors(t *testing.T) {
	cases := []struct {
		name string
		g    Grid
	}{
		{"steps length", Grid{Ts: []float64{0, 1}, Steps: []int{1, 1}}},
		{"zero steps", Grid{Ts: []float64{0, 0.5, 1}, Steps: []int{1, 0}}},
		{"negative steps", Grid{Ts: []float64{0, 1}, Steps: []int{-2}}},
		{"below resolution", Grid{Ts: []float64{0, 1e-300}, Steps: []int{1 << 30}}},
		{"not increasing", Grid{Ts: []float64{0, 0.5, 0.5}, Steps: []int{2, 2}}},
		{"outside span", Grid{Ts: []float64{0, 2}, Steps: []int{4}}},
	}
	for _, c := range cases {
		iv := mustInterval(t, 0, 1, 1, 1, 1)
		if err := iv.PlanGrid(c.g); err == nil {
			t.Errorf("%s: PlanGrid(%+v) succeeded", c.name, c.g)
		}
	}
}
