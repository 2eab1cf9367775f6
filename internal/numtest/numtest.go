// Package numtest holds the comparisons the tests of different packages share when
// they hold one implementation of a computation to another.
package numtest

import (
	"math"
	"math/rand/v2"
)

// RelErr is max|got − want| / max|want|: the largest difference relative to the
// reference's scale (the absolute difference when want is all zeros), +Inf when a
// difference is NaN. Lengths must match.
func RelErr(got, want []float32) float64 {
	var num, den float64
	for i := range want {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if d != d {
			return math.Inf(1)
		}
		num = math.Max(num, d)
		den = math.Max(den, math.Abs(float64(want[i])))
	}
	if den == 0 {
		return num
	}
	return num / den
}

// Normals returns n draws of N(0, scale²) from rng, as float32.
func Normals(rng *rand.Rand, n int, scale float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * scale)
	}
	return x
}
