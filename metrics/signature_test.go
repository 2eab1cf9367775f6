package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*(1+math.Abs(b)) }

// tensorMul is an independent truncated tensor product of two signatures (levels
// 1..depth, level 0 implicitly 1), written with explicit multi-index arithmetic.
func tensorMul(a, b []float64, d, depth int) []float64 {
	off := []int{0, 0}
	p := 1
	for k := 1; k <= depth; k++ {
		p *= d
		off = append(off, off[k]+p)
	}
	get := func(s []float64, k, idx int) float64 {
		if k == 0 {
			return 1
		}
		return s[off[k]+idx]
	}
	out := make([]float64, off[depth+1])
	for k := 1; k <= depth; k++ {
		size := int(math.Pow(float64(d), float64(k)))
		for idx := range size {
			var s float64
			for j := 0; j <= k; j++ {
				// split multi-index: first j indices from a, last k−j from b
				db := int(math.Pow(float64(d), float64(k-j)))
				s += get(a, j, idx/db) * get(b, k-j, idx%db)
			}
			out[off[k]+idx] = s
		}
	}
	return out
}

func TestSignatureSize(t *testing.T) {
	if got := SignatureSize(2, 3); got != 14 {
		t.Fatalf("SignatureSize(2,3) = %d, want 14", got)
	}
	if got := SignatureSize(3, 4); got != 3+9+27+81 {
		t.Fatalf("SignatureSize(3,4) = %d", got)
	}
}

// A straight line, even split into uneven collinear pieces, has signature exp(Δ):
// level k = Δ^⊗k / k!.
func TestSignatureStraightLine(t *testing.T) {
	d, depth := 3, 4
	delta := []float64{0.7, -1.3, 2.1}
	fr := []float64{0, 0.1, 0.45, 0.5, 0.9, 1}
	x0 := []float64{0.3, 0.2, -0.5}
	var pts []float64
	for _, f := range fr {
		for j := range d {
			pts = append(pts, x0[j]+f*delta[j])
		}
	}
	s, err := Signature(pts, d, depth)
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	fact := 1.0
	for k := 1; k <= depth; k++ {
		fact *= float64(k)
		size := int(math.Pow(float64(d), float64(k)))
		for idx := range size {
			want := 1 / fact
			r := idx
			for range k {
				want *= delta[r%d]
				r /= d
			}
			if !near(s[i], want, 1e-12) {
				t.Fatalf("level %d index %d: got %v want %v", k, idx, s[i], want)
			}
			i++
		}
	}
}

// Chen's identity: the signature of a concatenation is the tensor product.
func TestSignatureChen(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	d, depth := 3, 4
	pts := make([]float64, 9*d)
	for i := range pts {
		pts[i] = rng.NormFloat64()
	}
	whole, _ := Signature(pts, d, depth)
	for _, cut := range []int{1, 4, 7} { // the point shared by both pieces
		a, _ := Signature(pts[:(cut+1)*d], d, depth)
		b, _ := Signature(pts[cut*d:], d, depth)
		ab := tensorMul(a, b, d, depth)
		for i := range whole {
			if !near(whole[i], ab[i], 1e-12) {
				t.Fatalf("cut %d term %d: S = %v, S(a)⊗S(b) = %v", cut, i, whole[i], ab[i])
			}
		}
	}
}

func TestSignatureLevels12(t *testing.T) {
	// Level 1 is the increment; level 2's symmetric part is Δ_iΔ_j/2 (shuffle) and its
	// antisymmetric part is the Lévy area.
	rng := rand.New(rand.NewPCG(3, 4))
	d := 2
	pts := make([]float64, 20*d)
	for i := range pts {
		pts[i] = rng.NormFloat64()
	}
	s, _ := Signature(pts, d, 2)
	L := len(pts) / d
	var area float64 // Lévy area (1/2)∫ (x−x0) dy − (y−y0) dx, exact for polygons
	for i := 1; i < L; i++ {
		x0, y0 := pts[(i-1)*d]-pts[0], pts[(i-1)*d+1]-pts[1]
		x1, y1 := pts[i*d]-pts[0], pts[i*d+1]-pts[1]
		area += (x0*y1 - x1*y0) / 2
	}
	dx, dy := pts[(L-1)*d]-pts[0], pts[(L-1)*d+1]-pts[1]
	if !near(s[0], dx, 1e-12) || !near(s[1], dy, 1e-12) {
		t.Fatalf("level 1 = %v, want increment (%v, %v)", s[:2], dx, dy)
	}
	s11, s12, s21, s22 := s[2], s[3], s[4], s[5]
	if !near(s11, dx*dx/2, 1e-12) || !near(s22, dy*dy/2, 1e-12) || !near(s12+s21, dx*dy, 1e-12) {
		t.Fatalf("level 2 symmetric part wrong: %v", s[2:])
	}
	if !near((s12-s21)/2, area, 1e-12) {
		t.Fatalf("Lévy area: got %v want %v", (s12-s21)/2, area)
	}

	// Hand-computed: (0,0)→(1,0)→(1,1): S^{12} = 1, S^{21} = 0, area 1/2.
	s, _ = Signature([]float64{0, 0, 1, 0, 1, 1}, 2, 2)
	want := []float64{1, 1, 0.5, 1, 0, 0.5}
	for i := range want {
		if !near(s[i], want[i], 1e-15) {
			t.Fatalf("L-shaped path: got %v want %v", s, want)
		}
	}
	// Counter-clockwise unit square loop: zero increment, Lévy area 1.
	s, _ = Signature([]float64{0, 0, 1, 0, 1, 1, 0, 1, 0, 0}, 2, 2)
	want = []float64{0, 0, 0, 1, -1, 0}
	for i := range want {
		if !near(s[i], want[i], 1e-15) {
			t.Fatalf("square loop: got %v want %v", s, want)
		}
	}
}

func TestSignatureErrors(t *testing.T) {
	if _, err := Signature([]float64{1, 2, 3}, 2, 2); err == nil {
		t.Error("ragged points accepted")
	}
	if _, err := Signature([]float64{1, 2}, 2, 0); err == nil {
		t.Error("depth 0 accepted")
	}
	s, err := Signature([]float64{1, 2}, 2, 2) // a single point: zero signature
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range s {
		if v != 0 {
			t.Fatalf("single point: %v", s)
		}
	}
}

// TestSignatureDepthIsBounded: a depth whose signature cannot be held is an error, not
// a panic (Signature(pts, 2, 100) needed 2^101 terms and overflowed).
func TestSignatureDepthIsBounded(t *testing.T) {
	pts := []float64{0, 0, 1, 1}
	for _, tc := range []struct{ dim, depth int }{{2, 100}, {2, 20}, {1 << 20, 2}, {1 << 40, 1 << 40}, {3, 1 << 62}} {
		p := pts[:0] // the dimension is refused before the points are looked at
		if tc.dim <= 1<<20 {
			p = make([]float64, 2*tc.dim)
		}
		if _, err := Signature(p, tc.dim, tc.depth); err == nil {
			t.Errorf("dim %d, depth %d: no error", tc.dim, tc.depth)
		}
	}
	// Just within the bound: 2 + 4 + … + 2^19 = 2^20 − 2 terms.
	s, err := Signature(pts, 2, 19)
	if err != nil || len(s) != 1<<20-2 {
		t.Fatalf("dim 2, depth 19: %d terms, %v", len(s), err)
	}
	// A straight line's level k is Δ^⊗k/k!: the last term of level 19 is 1/19!.
	if got, want := s[len(s)-1], 1/math.Gamma(20); math.Abs(got-want) > 1e-12*want {
		t.Errorf("last term %v, want 1/19! = %v", got, want)
	}
	real := brownian(8, 3, 2, 0, 1, 1)
	if _, err := MMD(real, real, MMDOptions{Depth: 60}); err == nil {
		t.Error("MMD of depth 60 over 3 dimensions: no error")
	}
	if _, err := Classify(real, real, ClassifyOptions{Depth: 60}); err == nil {
		t.Error("Classify of depth 60 over 3 dimensions: no error")
	}
}
