package brownian_test

import (
	"fmt"
	"math"
	"slices"

	"github.com/gosde/gosde/brownian"
)

// A solver queries the Brownian Interval forwards in steps, and its adjoint queries the
// same steps again backwards: the answers are the same, bit for bit, and the pieces of
// an interval add up to the interval.
func ExampleInterval() {
	const batch, dim = 4, 2
	bm, err := brownian.NewInterval(0, 1, batch, dim, 42)
	if err != nil {
		panic(err)
	}
	whole := make([]float64, batch*dim)
	if err := bm.Increment(whole, 0, 1); err != nil { // W(1) − W(0), every path and channel
		panic(err)
	}
	forward := make([][]float64, 4)
	for k := range forward {
		forward[k] = make([]float64, batch*dim)
		if err := bm.Increment(forward[k], float64(k)/4, float64(k+1)/4); err != nil {
			panic(err)
		}
	}
	again := make([]float64, batch*dim)
	replayed := true
	for k := 3; k >= 0; k-- { // the reverse sweep of an adjoint
		if err := bm.Increment(again, float64(k)/4, float64(k+1)/4); err != nil {
			panic(err)
		}
		replayed = replayed && slices.Equal(again, forward[k])
	}
	sumsUp := true
	for i := range whole {
		sum := forward[0][i] + forward[1][i] + forward[2][i] + forward[3][i]
		sumsUp = sumsUp && math.Abs(sum-whole[i]) < 1e-12
	}
	fmt.Println("reverse sweep replays the forward one:", replayed)
	fmt.Println("quarters sum to the whole:", sumsUp)

	// Path p's noise depends on the seed and p, not on the batch size.
	one, err := brownian.NewInterval(0, 1, 1, dim, 42)
	if err != nil {
		panic(err)
	}
	first := make([]float64, dim)
	if err := one.Increment(first, 0, 1); err != nil {
		panic(err)
	}
	fmt.Println("path 0 alone equals path 0 of the batch:", slices.Equal(first, whole[:dim]))
	// Output:
	// reverse sweep replays the forward one: true
	// quarters sum to the whole: true
	// path 0 alone equals path 0 of the batch: true
}
