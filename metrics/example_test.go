package metrics_test

import (
	"fmt"

	"github.com/gosde/gosde/dataset"
	"github.com/gosde/gosde/metrics"
)

// The two-sample Kolmogorov–Smirnov statistic is the largest gap between the empirical
// distribution functions: here 1/2, at every v in [2, 5).
func ExampleKSStatistic() {
	d, err := metrics.KSStatistic([]float64{1, 2, 3, 4}, []float64{3, 4, 5, 6})
	if err != nil {
		panic(err)
	}
	fmt.Println(d)
	// Output: 0.5
}

// The MMD of generated paths against real ones means something only beside its floor:
// the MMD between two halves of the real set at the same sizes. A fresh sample of the
// same law scores near the floor; paths of twice the amplitude score far above it (a
// shift would not: signatures do not see a path's level, which Scale reports).
func ExampleMMDWithFloor() {
	real := dataset.OU(200, 1)
	fresh := dataset.OU(200, 2)
	scaled := dataset.OU(200, 3)
	for i := range scaled.Values {
		scaled.Values[i] *= 2
	}
	opt := metrics.MMDOptions{Seed: 1}
	mFresh, floor, err := metrics.MMDWithFloor(real, fresh, opt)
	if err != nil {
		panic(err)
	}
	mScaled, _, err := metrics.MMDWithFloor(real, scaled, opt)
	if err != nil {
		panic(err)
	}
	fmt.Println("fresh sample within 3× the floor:", mFresh < 3*floor)
	fmt.Println("scaled sample over 10× the floor:", mScaled > 10*floor)
	// Output:
	// fresh sample within 3× the floor: true
	// scaled sample over 10× the floor: true
}
