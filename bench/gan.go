package bench

import (
	"fmt"
	"time"

	"github.com/gosde/gosde/dataset"
	"github.com/gosde/gosde/gan"
)

// GAN times SDE-GAN training steps at the reference settings (batch 1024, 64 times,
// hidden 16, noise 3, width 16) on the OU data set, on the CPU engine: one step is a
// generator solve, a discriminator solve over the generated and the real batch, both
// reversible adjoints, the optimiser updates and the clipping.
func GAN(s Settings) (Report, error) {
	steps := 20
	if s.Quick {
		steps = 6
	}
	cfg := gan.DefaultConfig()
	cfg.Seed = s.Seed
	data := dataset.OU(dataset.OUPaths, s.Seed)
	norm, err := dataset.Fit(data)
	if err != nil {
		return Report{}, err
	}
	norm.Apply(data)
	m, err := gan.New(cfg, data.Times)
	if err != nil {
		return Report{}, err
	}
	d, err := Median(steps, func() (time.Duration, error) {
		st, err := m.Step(data)
		return time.Duration(st.Seconds * float64(time.Second)), err
	})
	if err != nil {
		return Report{}, err
	}
	perSec := 1 / d.Seconds()
	tab := Table{
		Title:   fmt.Sprintf("SDE-GAN training step, reference settings (batch %d, 64 times), CPU engine, median of %d", cfg.Batch, steps),
		Columns: []string{"engine", "time per step", "steps/s", "10,000 steps"},
		Rows: [][]string{{"CPU", fmtDur(d), FormatValue(perSec),
			(time.Duration(10000 * float64(d))).Round(time.Second).String()}},
	}
	return Report{Tables: []Table{tab}, Figures: []Figure{NewFigure("gan.steps_per_second_cpu", perSec, "steps/s", "reported")}}, nil
}
