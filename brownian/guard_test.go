package brownian

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gosde/gosde/internal/guard"
	"github.com/gosde/gosde/internal/guard/guardtest"
)

func TestConcurrentUseIsDetected(t *testing.T) {
	const batch, dim = 8, 3
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	t.Run("Interval.Increment", func(t *testing.T) {
		iv, err := NewInterval(0, 1, batch, dim, 1)
		must(err)
		dst := make([]float64, batch*dim)
		var n atomic.Int64 // the calls race before the guard
		guardtest.Check(t, "*brownian.Interval", &iv.use, func() {
			k := n.Add(1)
			must(iv.Increment(dst, float64(k%97)/100, float64(k%97+1)/100))
		})
	})
	t.Run("Interval.IncrementArea", func(t *testing.T) {
		iv, err := NewInterval(0, 1, batch, dim, 2, WithLevyArea())
		must(err)
		dw, area := make([]float64, batch*dim), make([]float64, batch*dim)
		var n atomic.Int64 // the calls race before the guard
		guardtest.Check(t, "*brownian.Interval", &iv.use, func() {
			k := n.Add(1)
			must(iv.IncrementArea(dw, area, float64(k%89)/100, float64(k%89+3)/100))
		})
	})
	t.Run("Interval.Plan", func(t *testing.T) {
		iv, err := NewInterval(0, 1, batch, dim, 3)
		must(err)
		ts := []float64{0, 0.25, 0.5, 1}
		guardtest.Check(t, "*brownian.Interval", &iv.use, func() { must(iv.Plan(ts)) })
		iv.use.Enter("*brownian.Interval")
		msg := guardtest.PanicOf(func() { _ = iv.PlanGrid(Grid{Ts: ts}) })
		iv.use.Exit()
		if !strings.Contains(msg, guard.Message) {
			t.Fatalf("PlanGrid while in use: panic %q", msg)
		}
	})
	t.Run("VirtualTree.Increment", func(t *testing.T) {
		vt, err := NewVirtualTree(0, 1, batch, dim, 4, 1e-3)
		must(err)
		dst := make([]float64, batch*dim)
		var n atomic.Int64 // the calls race before the guard
		guardtest.Check(t, "*brownian.VirtualTree", &vt.use, func() {
			k := n.Add(1)
			must(vt.Increment(dst, float64(k%97)/100, float64(k%97+1)/100))
		})
	})
	t.Run("Path.Increment", func(t *testing.T) {
		bp, err := NewPath(0, 1, batch, dim, 5)
		must(err)
		dst := make([]float64, batch*dim)
		var n atomic.Int64 // the calls race before the guard
		guardtest.Check(t, "*brownian.Path", &bp.use, func() {
			k := n.Add(1)
			must(bp.Increment(dst, float64(k%97)/100, float64(k%97+1)/100))
		})
	})
}
