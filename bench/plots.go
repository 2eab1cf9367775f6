package bench

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gosde/gosde/plots"
)

// PlotFiles are the PNG files Plots writes, in its output directory.
var PlotFiles = []string{"cost_vs_batch.png", "memory_vs_steps.png"}

// Plots measures cost against batch size and memory against the number of steps and
// draws them into dir (created if missing) as PlotFiles:
//
//   - cost_vs_batch.png: forward solve + gradient time per path of the SDE-GAN
//     generator (64 steps) for ReversibleHeun+Reversible and Midpoint+Continuous, and
//     a forward+reverse sweep of 1000 Brownian steps per path (dim 3) for the Brownian
//     Interval and raw normals, against batch;
//   - memory_vs_steps.png: what Solve+Backward allocates over one output interval,
//     batch 256, for the Reversible adjoint and Backprop, against the number of steps.
//
// It returns the tables of the plotted numbers and the files written.
func Plots(s Settings, dir string) (Report, []string, error) {
	batches := []int{16, 64, 256, 1024, 4096, 16384}
	stepCounts := []int{100, 300, 1000, 3000, 10000}
	if s.Quick {
		batches = []int{16, 64, 256}
		stepCounts = []int{100, 1000}
	}
	return plotsAt(s, dir, batches, 256, stepCounts)
}

// plotsAt is Plots at the given batch sizes, memory batch and step counts.
func plotsAt(s Settings, dir string, batches []int, memBatch int, stepCounts []int) (Report, []string, error) {
	cost, costTabs, err := costVsBatch(s, batches)
	if err != nil {
		return Report{}, nil, err
	}
	mem, memTab, err := memoryVsSteps(s, memBatch, stepCounts)
	if err != nil {
		return Report{}, nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Report{}, nil, err
	}
	files := []string{filepath.Join(dir, PlotFiles[0]), filepath.Join(dir, PlotFiles[1])}
	if err := plots.Charts(files[0], cost); err != nil {
		return Report{}, nil, err
	}
	if err := plots.Charts(files[1], []plots.Chart{mem}); err != nil {
		return Report{}, nil, err
	}
	return Report{Tables: append(costTabs, memTab)}, files, nil
}

// costVsBatch times, at each batch, the solvers' forward+gradient and the Brownian
// sweeps, and returns them per path.
func costVsBatch(s Settings, batches []int) ([]plots.Chart, []Table, error) {
	solverTab := Table{
		Title:   "Forward solve + gradient per path against batch, SDE-GAN generator, 64 steps, float32, median",
		Columns: []string{"batch", "ReversibleHeun+Reversible", "Midpoint+Continuous", "ratio"},
	}
	brownTab := Table{
		Title:   "Brownian forward+reverse sweep of 1000 steps per path against batch, dim 3, median",
		Columns: []string{"batch", "raw normals", "Interval", "ratio"},
	}
	solvers := plots.Chart{
		Title:  "Forward + gradient, SDE-GAN generator, 64 steps",
		XLabel: "batch size (paths)", YLabel: "time per path (µs)",
	}
	revheun := plots.Line{Name: "reversible Heun + reversible adjoint"}
	midpoint := plots.Line{Name: "midpoint + continuous adjoint"}
	motion := plots.Chart{
		Title:  "Brownian motion, forward + reverse sweep, 1000 steps, dim 3",
		XLabel: "batch size (paths)", YLabel: "time per path (µs)",
	}
	raw := plots.Line{Name: "raw normals (PCG)"}
	interval := plots.Line{Name: "Brownian Interval"}
	for _, batch := range batches {
		p, err := newGradProblem[float32](batch, 64, 1, s.Seed)
		if err != nil {
			return nil, nil, err
		}
		ds, err := Medians(s.repeats(5), p.runs(solverCombos[:2])...)
		if err != nil {
			return nil, nil, fmt.Errorf("batch %d: %w", batch, err)
		}
		var per [2]float64
		for i, d := range ds {
			per[i] = d.Seconds() * 1e6 / float64(batch)
		}
		x := float64(batch)
		revheun.X, revheun.Y = append(revheun.X, x), append(revheun.Y, per[0])
		midpoint.X, midpoint.Y = append(midpoint.X, x), append(midpoint.Y, per[1])
		solverTab.Rows = append(solverTab.Rows, []string{fmt.Sprint(batch), fmtMicros(per[0]), fmtMicros(per[1]), FormatValue(per[1] / per[0])})

		ds, err = Medians(s.repeats(5), sweeps([]string{kindRaw, kindInterval}, batch, 3, 1000, s.Seed)...)
		if err != nil {
			return nil, nil, fmt.Errorf("brownian sweeps at batch %d: %w", batch, err)
		}
		var sweep [2]float64
		for i, d := range ds {
			sweep[i] = d.Seconds() * 1e6 / float64(batch)
		}
		raw.X, raw.Y = append(raw.X, x), append(raw.Y, sweep[0])
		interval.X, interval.Y = append(interval.X, x), append(interval.Y, sweep[1])
		brownTab.Rows = append(brownTab.Rows, []string{fmt.Sprint(batch), fmtMicros(sweep[0]), fmtMicros(sweep[1]), FormatValue(sweep[1] / sweep[0])})
	}
	solvers.Lines = []plots.Line{midpoint, revheun}
	motion.Lines = []plots.Line{interval, raw}
	return []plots.Chart{solvers, motion}, []Table{solverTab, brownTab}, nil
}

// memoryVsSteps measures what Solve+Backward allocates over one output interval split
// into each number of steps, for the Reversible adjoint and Backprop.
func memoryVsSteps(s Settings, batch int, stepCounts []int) (plots.Chart, Table, error) {
	chart := plots.Chart{
		Title:  fmt.Sprintf("Memory of Solve + Backward, batch %d, float32", batch),
		XLabel: "number of steps", YLabel: "memory allocated (MiB)",
		LegendLeft: true,
	}
	tab := Table{
		Title:   fmt.Sprintf("Memory allocated by Solve+Backward against steps, one output interval, batch %d, float32", batch),
		Columns: []string{"steps", "Reversible", "Backprop"},
	}
	// Backprop first: its line is the upper one, next to the first legend entry.
	lines := []plots.Line{{Name: "backprop through the solver"}, {Name: "reversible adjoint"}}
	for _, steps := range stepCounts {
		row := []string{fmt.Sprint(steps)}
		var mib [2]float64 // in memoryCombos order: Reversible, Backprop
		for i, a := range memoryCombos {
			b, err := solveBytes(batch, steps, a.method, a.adjoint, s.Seed)
			if err != nil {
				return chart, tab, err
			}
			mib[i] = b / (1 << 20)
			row = append(row, fmtBytes(b))
		}
		tab.Rows = append(tab.Rows, row)
		x := float64(steps)
		lines[0].X, lines[0].Y = append(lines[0].X, x), append(lines[0].Y, mib[1])
		lines[1].X, lines[1].Y = append(lines[1].X, x), append(lines[1].Y, mib[0])
	}
	chart.Lines = lines
	return chart, tab, nil
}

func fmtMicros(us float64) string {
	if us >= 1000 {
		return fmt.Sprintf("%.2f ms", us/1000)
	}
	return fmt.Sprintf("%.2f µs", us)
}
