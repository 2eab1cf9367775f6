// Package vec holds the two slice helpers every model needs around its engine calls:
// accumulating a gradient part and checking that values are finite.
package vec

// Float is float32 or float64 (the models' element types).
type Float interface{ ~float32 | ~float64 }

// AddTo adds src into dst elementwise (len(src) values).
func AddTo[F Float](dst, src []F) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] += v
	}
}

// AllFinite reports whether no value of x is NaN or infinite (v − v is 0 exactly for
// finite v, NaN otherwise).
func AllFinite[F Float](x []F) bool {
	for _, v := range x {
		if v-v != 0 {
			return false
		}
	}
	return true
}
