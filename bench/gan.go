package bench

import (
	"errors"
	"fmt"
	"time"

	"github.com/gosde/gosde/dataset"
	"github.com/gosde/gosde/gan"
)

// ganGoalStepsPerSec is issue 4's target for a full SDE-GAN training step on one H200
// (≤ 5 ms, generator and discriminator on real and fake, batch 1024, 64 steps).
const ganGoalStepsPerSec = 200

// GAN times SDE-GAN training steps at the reference settings (batch 1024, 64 times,
// hidden 16, noise 3, width 16) on the OU data set, on the CPU engine and, where it
// opens, the GPU engine: one step is a generator solve, a discriminator solve over the
// generated and the real batch, both reversible adjoints, the optimiser updates and
// the clipping.
func GAN(s Settings) (Report, error) {
	return ganSteps(s, gan.DefaultConfig())
}

func ganSteps(s Settings, cfg gan.Config) (Report, error) {
	steps := s.repeats(20)
	cfg.Seed = s.Seed
	data := dataset.OU(dataset.OUPaths, s.Seed)
	norm, err := dataset.Fit(data)
	if err != nil {
		return Report{}, err
	}
	norm.Apply(data)
	goal := fmt.Sprintf(">= %d", ganGoalStepsPerSec)
	eng, why := s.openGPU()
	// One model per engine, from the same seed; their steps are timed in turn
	// (Medians), so a burst of other work on the host slows both.
	opts := [][]gan.Option{nil}
	if eng != nil {
		opts = append(opts, []gan.Option{gan.WithEngine(eng)})
	}
	var models []*gan.Model
	ds, err := func() ([]time.Duration, error) {
		var fs []func() (time.Duration, error)
		for _, o := range opts {
			m, err := gan.New(cfg, data.Times, o...)
			if err != nil {
				return nil, err
			}
			models = append(models, m)
			fs = append(fs, func() (time.Duration, error) {
				st, err := m.Step(data)
				return time.Duration(st.Seconds * float64(time.Second)), err
			})
		}
		return Medians(steps, fs...)
	}()
	for _, m := range models {
		err = errors.Join(err, m.Close())
	}
	if eng != nil {
		if cerr := eng.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("closing the GPU engine: %w", cerr))
		}
	}
	if err != nil {
		return Report{}, err
	}
	cpu := ds[0]
	tab := Table{
		Title:   fmt.Sprintf("SDE-GAN training step, reference settings (batch %d, 64 times), median of %d", cfg.Batch, steps),
		Columns: []string{"engine", "time per step", "steps/s", "10,000 steps", "÷ CPU steps/s"},
	}
	row := func(name string, d time.Duration) []string {
		return []string{name, fmtDur(d), FormatValue(1 / d.Seconds()),
			time.Duration(10000 * float64(d)).Round(time.Second).String(), FormatValue(cpu.Seconds() / d.Seconds())}
	}
	tab.Rows = append(tab.Rows, row("cpu", cpu))
	figs := []Figure{NewFigure("gan.steps_per_second_cpu", 1/cpu.Seconds(), "steps/s", "reported")}
	if eng == nil {
		tab.Rows = append(tab.Rows, []string{"gpu", "not measured", "-", "-", "-"})
		figs = append(figs,
			NotMeasured("gan.steps_per_second_gpu", "steps/s", goal, why),
			NotMeasured("gan.gpu_over_cpu", "ratio", "reported", why))
		return Report{Tables: []Table{tab}, Figures: figs}, nil
	}
	gpu := ds[1]
	tab.Rows = append(tab.Rows, row(eng.Name(), gpu))
	figs = append(figs,
		NewFigure("gan.steps_per_second_gpu", 1/gpu.Seconds(), "steps/s", goal),
		NewFigure("gan.gpu_over_cpu", cpu.Seconds()/gpu.Seconds(), "ratio", "reported"))
	return Report{Tables: []Table{tab}, Figures: figs}, nil
}
