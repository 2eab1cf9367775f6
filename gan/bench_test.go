package gan

import (
	"fmt"
	"testing"
)

// BenchmarkStep times one training step at the reference sizes (64 times, one channel,
// hidden 16, width 16) for several batch sizes.
func BenchmarkStep(b *testing.B) {
	for _, batch := range []int{256, 1024} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Batch, cfg.Seed = batch, 1
			times := uniformTimes(64)
			data := ouData(4096, times, 0, 1)
			m, err := New(cfg, times)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := m.Step(data); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := m.Step(data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
		})
	}
}
