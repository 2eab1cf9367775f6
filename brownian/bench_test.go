package brownian

import (
	"fmt"
	"testing"
)

// BenchmarkSweep times one forward and one reverse sweep of 1000 equal steps for every
// sampler and the raw-normal yardstick, at (batch, dim) = (1, 1), (1024, 3), (32768, 3):
// exactly what MeasureSweep (and so `gosde bench`) measures. ns/normal divides by the
// number of values returned, 2 × steps × batch × dim.
func BenchmarkSweep(b *testing.B) {
	for _, c := range DefaultSweepCases() {
		b.Run(fmt.Sprintf("%s/batch=%d/dim=%d", c.Kind, c.Batch, c.Dim), func(b *testing.B) {
			var total float64
			for b.Loop() {
				d, err := c.Measure(uint64(b.N))
				if err != nil {
					b.Fatal(err)
				}
				total += float64(d.Nanoseconds())
			}
			b.ReportMetric(total/float64(b.N)/float64(c.Normals()), "ns/normal")
		})
	}
}
