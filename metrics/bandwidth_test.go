package metrics

import (
	"math"
	"slices"
	"testing"

	"github.com/gosde/gosde/dataset"
)

// TestMedianBandwidthByHand computes the median heuristic for four one-segment paths
// from the definitions alone. Times 0, 1 become τ = 0, 1; the values 0→0, 0→1, 0→3 and
// 0→4 are standardised with their mean 1 and population standard deviation 3/2, so
// the paths' increments are Δ = (1, δ) with δ = 0, 2/3, 2, 8/3. A straight segment's
// depth-3 signature is (Δ, Δ⊗Δ/2, Δ⊗Δ⊗Δ/6), and two of them differ only where δ
// enters: in level 1 by δ₁−δ₂ once, in level 2 by (δ₁−δ₂)/2 twice and (δ₁²−δ₂²)/2
// once, in level 3 by (δ₁−δ₂)/6 three times, (δ₁²−δ₂²)/6 three times and (δ₁³−δ₂³)/6
// once. σ is the median of the six distances (not of their squares): the mean of the
// third and fourth.
func TestMedianBandwidthByHand(t *testing.T) {
	real := &dataset.Paths{N: 4, Times: []float64{0, 1}, Channels: []string{"y"},
		Values: []float64{0, 0, 0, 1, 0, 3, 0, 4}}
	dist := func(a, b float64) float64 {
		d1, d2, d3 := a-b, a*a-b*b, a*a*a-b*b*b
		return math.Sqrt(d1*d1 + 2*d1*d1/4 + d2*d2/4 + 3*d1*d1/36 + 3*d2*d2/36 + d3*d3/36)
	}
	d := []float64{0, 2.0 / 3, 2, 8.0 / 3}
	var all []float64
	for i := range d {
		for j := i + 1; j < len(d); j++ {
			all = append(all, dist(d[i], d[j]))
		}
	}
	slices.Sort(all)
	want := (all[2] + all[3]) / 2
	got, err := MedianBandwidth(real, MMDOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got-want) > 1e-12*want {
		t.Errorf("MedianBandwidth = %.15g, want %.15g", got, want)
	}
}
