package vec

import (
	"math"
	"testing"
)

func TestAllFinite(t *testing.T) {
	cases := []struct {
		x    []float64
		want bool
	}{
		{nil, true},
		{[]float64{0, -1, math.MaxFloat64, math.SmallestNonzeroFloat64}, true},
		{[]float64{1, math.NaN()}, false},
		{[]float64{math.Inf(1)}, false},
		{[]float64{math.Inf(-1), 2}, false},
	}
	for _, c := range cases {
		if got := AllFinite(c.x); got != c.want {
			t.Errorf("AllFinite(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	if AllFinite([]float32{float32(math.Inf(1))}) {
		t.Error("float32 +Inf counted as finite")
	}
}

func TestAddTo(t *testing.T) {
	dst := []float32{1, 2, 3}
	AddTo(dst, []float32{10, 20})
	if dst[0] != 11 || dst[1] != 22 || dst[2] != 3 {
		t.Errorf("AddTo: %v", dst)
	}
}
