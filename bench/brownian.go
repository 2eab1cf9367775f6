package bench

import (
	"fmt"
	"runtime"
	"time"

	"github.com/gosde/gosde/brownian"
)

// Brownian times a forward sweep then a reverse sweep of equal steps over [0, 1] for the
// Brownian Interval, the Virtual Brownian Tree (tol 1e-6 × span), the Brownian Path and
// raw normal generation of the same count (one normal per increment value returned),
// at several (batch, dim) sizes.
func Brownian(s Settings) (Report, error) {
	steps := 1000
	sizes := [][2]int{{1, 1}, {1024, 3}, {32768, 3}}
	if s.Quick {
		sizes = sizes[:2]
	}
	tab := Table{
		Title:   fmt.Sprintf("Brownian motion: forward then reverse sweep of %d steps, median time per sweep", steps),
		Columns: []string{"batch", "dim", "raw normals", "Interval", "VirtualTree", "Path", "Interval/raw", "VirtualTree/Interval"},
	}
	var figs []Figure
	for _, bd := range sizes {
		batch, dim := bd[0], bd[1]
		repeats := s.repeats(7)
		if batch*dim > 10000 {
			repeats = s.repeats(3)
		}
		ds, err := Medians(repeats, sweeps(sweepKinds, batch, dim, steps, s.Seed)...)
		if err != nil {
			return Report{}, fmt.Errorf("brownian sweeps at batch %d dim %d: %w", batch, dim, err)
		}
		times := map[string]time.Duration{}
		for i, kind := range sweepKinds {
			times[kind] = ds[i]
		}
		overRaw := times[kindInterval].Seconds() / times[kindRaw].Seconds()
		vbtOver := times[kindVirtualTree].Seconds() / times[kindInterval].Seconds()
		tab.Rows = append(tab.Rows, []string{
			fmt.Sprint(batch), fmt.Sprint(dim),
			fmtDur(times[kindRaw]), fmtDur(times[kindInterval]), fmtDur(times[kindVirtualTree]), fmtDur(times[kindPath]),
			FormatValue(overRaw), FormatValue(vbtOver),
		})
		if batch == 1024 {
			figs = append(figs,
				NewFigure("brownian.interval_over_raw", overRaw, "ratio", "<= 2"),
				NewFigure("brownian.vbt_over_interval", vbtOver, "ratio", ">= 10"),
			)
		}
	}
	mem, memFigs, err := IntervalMemory(s)
	if err != nil {
		return Report{}, err
	}
	return Report{Figures: append(figs, memFigs...), Tables: []Table{tab, mem}}, nil
}

// sweeps are the timed forward+reverse sweeps of each kind, for Medians.
func sweeps(kinds []string, batch, dim, steps int, seed uint64) []func() (time.Duration, error) {
	fs := make([]func() (time.Duration, error), len(kinds))
	for i, kind := range kinds {
		fs[i] = func() (time.Duration, error) {
			d, err := measureSweep(kind, batch, dim, steps, seed)
			if err != nil {
				err = fmt.Errorf("%s: %w", kind, err)
			}
			return d, err
		}
	}
	return fs
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
	}
}

// nodeBytes is the size of one Interval tree node (structure only), for the memory table.
const nodeBytes = 64

// IntervalMemory sweeps a planned Interval forwards then backwards over 10³, 10⁴ and 10⁵
// equal steps and reports the memory it holds: the cached increments (bounded by the
// cache size, whatever the number of steps) and the tree's small nodes (about two per
// step), beside the live heap measured after the sweep.
func IntervalMemory(s Settings) (Table, []Figure, error) {
	batch, dim := 1024, 3
	stepCounts := []int{1000, 10000, 100000}
	if s.Quick {
		batch = 64
	}
	tab := Table{
		Title:   fmt.Sprintf("Brownian Interval memory after a planned forward+reverse sweep, batch %d, dim %d", batch, dim),
		Columns: []string{"steps", "cached increments", "tree nodes", "live heap"},
	}
	var values, heaps []float64
	for _, steps := range stepCounts {
		ts := sweepGrid(steps)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		iv, err := brownian.NewInterval(0, 1, batch, dim, s.Seed)
		if err != nil {
			return tab, nil, err
		}
		if err := iv.Plan(ts); err != nil {
			return tab, nil, err
		}
		if err := sweepMotion(iv, ts, make([]float64, batch*dim)); err != nil {
			return tab, nil, err
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		st := iv.Stats()
		runtime.KeepAlive(iv)
		value := float64(st.Allocated * batch * dim * 8)
		heap := float64(after.HeapAlloc) - float64(before.HeapAlloc)
		values, heaps = append(values, value), append(heaps, heap)
		tab.Rows = append(tab.Rows, []string{fmt.Sprint(steps), fmtBytes(value), fmtBytes(float64(st.Nodes * nodeBytes)), fmtBytes(heap)})
	}
	last := len(stepCounts) - 1
	return tab, []Figure{
		NewFigure("brownian.interval_cache_growth", values[last]/values[0], "ratio", "<= 1.1"),
		NewFigure("brownian.interval_heap_growth", heaps[last]/heaps[0], "ratio", "reported"),
	}, nil
}

func fmtBytes(b float64) string {
	switch {
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.0f KiB", b/(1<<10))
	default:
		return fmt.Sprintf("%.0f B", b)
	}
}
