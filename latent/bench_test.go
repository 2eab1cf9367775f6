package latent

import (
	"fmt"
	"testing"

	"github.com/gosde/gosde/solver"
)

// BenchmarkStep times one training step with the default configuration on a 24-hour,
// 4-channel window (T = 24, C = 4, Dt 1), for reversible Heun with its algebraic adjoint
// and midpoint with the continuous adjoint.
func BenchmarkStep(b *testing.B) {
	times := uniformTimes(24)
	data := sineData(2048, times, 4, 1)
	for _, mc := range []struct {
		name string
		m    solver.Method
		a    solver.Adjoint
	}{{"revheun", solver.ReversibleHeun, solver.Reversible}, {"midpoint-cont", solver.Midpoint, solver.Continuous}} {
		for _, batch := range []int{256, 1024} {
			b.Run(fmt.Sprintf("%s/batch=%d", mc.name, batch), func(b *testing.B) {
				cfg := DefaultConfig()
				cfg.DataChannels, cfg.Batch, cfg.Method, cfg.Adjoint = 4, batch, mc.m, mc.a
				m, err := New(cfg, times)
				if err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					if _, err := m.Step(data); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
