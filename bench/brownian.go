package bench

import (
	"fmt"
	"time"

	"github.com/gosde/gosde/brownian"
)

// sweepKinds are the samplers compared by the Brownian experiment, in table order.
var sweepKinds = []string{"raw", "interval", "virtual-tree", "path"}

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
		times := map[string]time.Duration{}
		for _, kind := range sweepKinds {
			d, err := Median(repeats, func() (time.Duration, error) {
				return brownian.MeasureSweep(kind, batch, dim, steps, s.Seed)
			})
			if err != nil {
				return Report{}, fmt.Errorf("brownian sweep %s at batch %d dim %d: %w", kind, batch, dim, err)
			}
			times[kind] = d
		}
		overRaw := times["interval"].Seconds() / times["raw"].Seconds()
		vbtOver := times["virtual-tree"].Seconds() / times["interval"].Seconds()
		tab.Rows = append(tab.Rows, []string{
			fmt.Sprint(batch), fmt.Sprint(dim),
			fmtDur(times["raw"]), fmtDur(times["interval"]), fmtDur(times["virtual-tree"]), fmtDur(times["path"]),
			FormatValue(overRaw), FormatValue(vbtOver),
		})
		if batch == 1024 {
			figs = append(figs,
				NewFigure("brownian.interval_over_raw", overRaw, "ratio", "<= 2"),
				NewFigure("brownian.vbt_over_interval", vbtOver, "ratio", ">= 10"),
			)
		}
	}
	return Report{Figures: figs, Tables: []Table{tab}}, nil
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
