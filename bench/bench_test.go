package bench

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNewFigureGoals(t *testing.T) {
	cases := []struct {
		value float64
		goal  string
		meets *bool
	}{
		{1.5, "<= 2", ptr(true)},
		{2.5, "<= 2", ptr(false)},
		{12, ">= 10", ptr(true)},
		{9.9, ">= 10", ptr(false)},
		{3, "reported", nil},
	}
	for _, c := range cases {
		f := NewFigure("x", c.value, "ratio", c.goal)
		switch {
		case c.meets == nil && f.Meets != nil:
			t.Errorf("%v %s: want no verdict, got %v", c.value, c.goal, *f.Meets)
		case c.meets != nil && (f.Meets == nil || *f.Meets != *c.meets):
			t.Errorf("%v %s: want meets=%v, got %v", c.value, c.goal, *c.meets, f.Meets)
		}
	}
}

func ptr(b bool) *bool { return &b }

func TestMedian(t *testing.T) {
	seq := []time.Duration{100, 5, 3, 9, 1} // first is the discarded warm-up
	i := 0
	d, err := Median(4, func() (time.Duration, error) { i++; return seq[i-1], nil })
	if err != nil || d != 4 {
		t.Fatalf("Median = %v, %v; want 4 (mean of the middle two of 5,3,9,1)", d, err)
	}
	boom := errors.New("boom")
	if _, err := Median(3, func() (time.Duration, error) { return 0, boom }); !errors.Is(err, boom) {
		t.Fatalf("Median did not pass the error on: %v", err)
	}
	if _, err := Median(0, func() (time.Duration, error) { return 0, nil }); err == nil {
		t.Fatal("Median(0) should be an error")
	}
}

func TestMLPLimitParses(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles and runs the C yardstick")
	}
	r, err := MLPLimit(0)
	if errors.Is(err, ErrNoCompiler) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if r.GFLOPs <= 0 || r.PathEvalsPerSec <= 0 {
		t.Fatalf("implausible yardstick %+v", r)
	}
}

// Medians interleaves its measurements (one warm-up each, then rounds) and returns a
// median for each.
func TestMediansInterleave(t *testing.T) {
	var order []string
	mk := func(name string, ds ...time.Duration) func() (time.Duration, error) {
		i := 0
		return func() (time.Duration, error) {
			order = append(order, name)
			i++
			return ds[i-1], nil
		}
	}
	meds, err := Medians(3, mk("a", 100, 1, 5, 3), mk("b", 100, 20, 10, 30))
	if err != nil {
		t.Fatal(err)
	}
	if meds[0] != 3 || meds[1] != 20 {
		t.Fatalf("medians %v, want [3 20]", meds)
	}
	if got := strings.Join(order, ""); got != "abababab" {
		t.Fatalf("run order %s, want the two interleaved (abababab)", got)
	}
}
