package brownian

import (
	"fmt"
	"sort"
)

// Grid is a solver's step grid, described without one entry per step: each output
// interval [Ts[i], Ts[i+1]] is split into Steps[i] equal steps. Time gives every grid
// time; a solver that computes its step times with Time and plans a motion with the
// same Grid queries exactly the planned leaves.
type Grid struct {
	Ts    []float64
	Steps []int
}

// Time is the k-th of the Steps[i]+1 times of output interval i (0 ≤ k ≤ Steps[i]):
// Ts[i] + (Ts[i+1] − Ts[i])·k/Steps[i], with both ends exact.
func (g Grid) Time(i, k int) float64 {
	n := g.Steps[i]
	switch k {
	case 0:
		return g.Ts[i]
	case n:
		return g.Ts[i+1]
	}
	return g.Ts[i] + (g.Ts[i+1]-g.Ts[i])*float64(k)/float64(n)
}

// Len is the total number of steps.
func (g Grid) Len() int {
	n := 0
	for _, s := range g.Steps {
		n += s
	}
	return n
}

// validate checks the grid against the span [t0, t1].
func (g Grid) validate(t0, t1 float64) error {
	if len(g.Ts) < 2 {
		return fmt.Errorf("brownian: Plan: need at least two times, got %d", len(g.Ts))
	}
	if g.Steps != nil && len(g.Steps) != len(g.Ts)-1 {
		return fmt.Errorf("brownian: PlanGrid: len(Steps) = %d, want len(Ts)−1 = %d", len(g.Steps), len(g.Ts)-1)
	}
	for k, x := range g.Ts {
		if !isFinite(x) {
			return fmt.Errorf("brownian: Plan: ts[%d] = %v is not finite", k, x)
		}
		if x < t0 || x > t1 {
			return fmt.Errorf("brownian: Plan: ts[%d] = %v is outside the span [%v, %v]", k, x, t0, t1)
		}
		if k > 0 && !(g.Ts[k-1] < x) {
			return fmt.Errorf("brownian: Plan: times must be strictly increasing, but ts[%d] = %v ≥ ts[%d] = %v", k-1, g.Ts[k-1], k, x)
		}
	}
	for i, s := range g.Steps {
		if s < 1 {
			return fmt.Errorf("brownian: PlanGrid: Steps[%d] = %d, want at least 1", i, s)
		}
		if s > 1 && g.Time(i, 1) <= g.Ts[i] {
			return fmt.Errorf("brownian: PlanGrid: %d steps over [%v, %v] are shorter than float64 resolution", s, g.Ts[i], g.Ts[i+1])
		}
	}
	return nil
}

// plan is an Interval's copy of a Grid, with the step index at which each output
// interval starts, so that grid time k is found in O(log len(Ts)) memory O(len(Ts)).
type plan struct {
	grid  Grid
	first []int // first[i]: global index of Ts[i]; nil when every interval is one step
}

func newPlan(g Grid) plan {
	p := plan{grid: Grid{Ts: append([]float64(nil), g.Ts...)}}
	if g.Steps == nil {
		return p
	}
	p.grid.Steps = append([]int(nil), g.Steps...)
	p.first = make([]int, len(g.Ts))
	for i, s := range g.Steps {
		p.first[i+1] = p.first[i] + s
	}
	return p
}

// steps is the number of steps planned.
func (p plan) steps() int {
	if p.first == nil {
		return len(p.grid.Ts) - 1
	}
	return p.first[len(p.first)-1]
}

// at is the grid time with global index k.
func (p plan) at(k int) float64 {
	if p.first == nil {
		return p.grid.Ts[k]
	}
	i := sort.SearchInts(p.first, k+1) - 1 // last i with first[i] ≤ k
	if i == len(p.grid.Steps) {
		return p.grid.Ts[i]
	}
	return p.grid.Time(i, k-p.first[i])
}
