package bench

import (
	"fmt"
	"slices"
	"testing"
)

func TestMeasureSweep(t *testing.T) {
	for _, k := range sweepKinds {
		d, err := measureSweep(k, 4, 2, 20, 1)
		if err != nil || d <= 0 {
			t.Errorf("measureSweep(%s): %v, %v", k, d, err)
		}
	}
	for _, c := range []struct {
		kind              string
		batch, dim, steps int
	}{{"bogus", 1, 1, 1}, {kindInterval, 0, 1, 1}, {kindPath, 1, -1, 1}, {kindRaw, 1, 1, 0}} {
		if _, err := measureSweep(c.kind, c.batch, c.dim, c.steps, 1); err == nil {
			t.Errorf("measureSweep(%+v): no error", c)
		}
	}
	if _, err := newSweepMotion(kindRaw, 1, 1, []float64{0, 1}, 1); err == nil {
		t.Error("newSweepMotion(raw): no error")
	}
	cs := defaultSweepCases()
	if len(cs) != 3*len(sweepKinds) || cs[4].normals() != 2*1000*1024*3 {
		t.Errorf("defaultSweepCases: %v", cs)
	}
	if g := sweepGrid(3); !slices.Equal(g, []float64{0, 1.0 / 3, 2.0 / 3, 1}) {
		t.Errorf("sweepGrid(3) = %v", g)
	}
}

// BenchmarkSweep times one forward and one reverse sweep of 1000 equal steps for every
// sampler and the raw-normal yardstick, at (batch, dim) = (1, 1), (1024, 3), (32768, 3):
// exactly what measureSweep (and so `gosde bench`) measures. ns/normal divides by the
// number of values returned, 2 × steps × batch × dim.
func BenchmarkSweep(b *testing.B) {
	for _, c := range defaultSweepCases() {
		b.Run(fmt.Sprintf("%s/batch=%d/dim=%d", c.Kind, c.Batch, c.Dim), func(b *testing.B) {
			var total float64
			for b.Loop() {
				d, err := c.measure(uint64(b.N))
				if err != nil {
					b.Fatal(err)
				}
				total += float64(d.Nanoseconds())
			}
			b.ReportMetric(total/float64(b.N)/float64(c.normals()), "ns/normal")
		})
	}
}
