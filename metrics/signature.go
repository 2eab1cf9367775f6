package metrics

import (
	"fmt"

	"github.com/gosde/gosde/dataset"
)

// DefaultDepth is the signature depth used when an option leaves it zero.
const DefaultDepth = 3

// MaxSignatureSize bounds the terms of a signature (SignatureSize) that Signature and the
// metrics compute: depth 3 of 100 channels and time (1,040,603) is within it, while
// depth 100 of a plane path would need 2^101 terms, which overflows an int.
const MaxSignatureSize = 1 << 20

// checkSignature refuses a dimension and depth whose signature has more than
// MaxSignatureSize terms, counting without overflow.
func checkSignature(dim, depth int) error {
	if dim < 1 || depth < 1 {
		return fmt.Errorf("metrics: signature needs dim >= 1 and depth >= 1, got %d and %d", dim, depth)
	}
	n, p := 0, 1
	for k := 1; k <= depth; k++ {
		if p > MaxSignatureSize/dim {
			n = MaxSignatureSize + 1
			break
		}
		p *= dim
		if n += p; n > MaxSignatureSize {
			break
		}
	}
	if n > MaxSignatureSize {
		return fmt.Errorf("metrics: a signature of depth %d in dimension %d has more than %d terms; give a smaller depth", depth, dim, MaxSignatureSize)
	}
	return nil
}

// SignatureSize is the number of terms of the signature of a path in R^dim truncated
// at depth: dim + dim² + … + dim^depth (the constant level-0 term, 1, is left out).
func SignatureSize(dim, depth int) int {
	n, p := 0, 1
	for k := 1; k <= depth; k++ {
		p *= dim
		n += p
	}
	return n
}

// Signature returns the signature, truncated at depth, of the piecewise-linear path
// through the points x_0, …, x_{L−1} in R^dim (points is row-major: x_i is
// points[i*dim:(i+1)*dim]; L >= 1).
//
// Level k is the tensor S^{i_1…i_k} = ∫_{s_1<…<s_k} dX^{i_1}(s_1)…dX^{i_k}(s_k),
// stored row-major in the multi-index (i_1 slowest, i_k fastest); the result is levels
// 1, …, depth concatenated, SignatureSize(dim, depth) numbers, without level 0 (= 1).
// It is computed exactly, up to float64 rounding, by Chen's identity: the signature of
// a concatenation is the truncated tensor product of the signatures, and a linear
// segment with increment Δ has signature exp(Δ) = (1, Δ, Δ^⊗2/2!, …, Δ^⊗depth/depth!),
// so S(X) = exp(x_1−x_0) ⊗ exp(x_2−x_1) ⊗ … ⊗ exp(x_{L−1}−x_{L−2}).
// Level 1 is thus the increment x_{L−1} − x_0, and the antisymmetric part of level 2,
// (S^{ij} − S^{ji})/2, is the Lévy area.
func Signature(points []float64, dim, depth int) ([]float64, error) {
	if err := checkSignature(dim, depth); err != nil {
		return nil, err
	}
	if len(points) < dim || len(points)%dim != 0 {
		return nil, fmt.Errorf("metrics: signature: %d coordinates do not make whole points of dimension %d", len(points), dim)
	}
	w := newSigWork(dim, depth)
	out := make([]float64, w.size)
	w.signature(out, points)
	return out, nil
}

// sigWork holds the layout of a truncated signature and scratch space.
type sigWork struct {
	dim, depth, size int
	off              []int     // level k occupies [off[k], off[k+1]); off[1] = 0
	e                []float64 // exp(Δ) of the current segment, same layout
	delta            []float64
}

func newSigWork(dim, depth int) *sigWork {
	w := &sigWork{dim: dim, depth: depth, off: make([]int, depth+2)}
	p := 1
	for k := 1; k <= depth; k++ {
		p *= dim
		w.off[k+1] = w.off[k] + p
	}
	w.size = w.off[depth+1]
	w.e = make([]float64, w.size)
	w.delta = make([]float64, dim)
	return w
}

func (w *sigWork) level(s []float64, k int) []float64 { return s[w.off[k]:w.off[k+1]] }

// signature writes the signature of the path through points into s.
func (w *sigWork) signature(s, points []float64) {
	clear(s)
	d := w.dim
	for i := d; i+d <= len(points); i += d {
		for j := range d {
			w.delta[j] = points[i+j] - points[i-d+j]
		}
		w.mulExp(s)
	}
}

// mulExp sets s ← s ⊗ exp(w.delta), truncated: level k of the product is
// S_k + Σ_{j=1}^{k−1} S_{k−j} ⊗ E_j + E_k with E_j = Δ^⊗j / j!. Levels are updated from
// the top down so that the lower levels read are still the old ones.
func (w *sigWork) mulExp(s []float64) {
	d := w.dim
	// E_1 = Δ, E_k = E_{k−1} ⊗ Δ / k.
	copy(w.level(w.e, 1), w.delta)
	for k := 2; k <= w.depth; k++ {
		prev, cur := w.level(w.e, k-1), w.level(w.e, k)
		inv := 1 / float64(k)
		for i, a := range prev {
			a *= inv
			row := cur[i*d : (i+1)*d]
			for j, b := range w.delta {
				row[j] = a * b
			}
		}
	}
	for k := w.depth; k >= 1; k-- {
		cur := w.level(s, k)
		for i, v := range w.level(w.e, k) {
			cur[i] += v
		}
		for j := 1; j < k; j++ {
			a, b := w.level(s, k-j), w.level(w.e, j)
			nb := len(b)
			for ia, av := range a {
				if av == 0 {
					continue
				}
				row := cur[ia*nb : (ia+1)*nb]
				for ib, bv := range b {
					row[ib] += av * bv
				}
			}
		}
	}
}

// sigFeatures returns, row-major in a len(idx) × SignatureSize(C+1, depth) matrix, the
// depth-truncated signature of each selected path of p, time-augmented and
// standardised: the path through the points (τ_t, (x_t^c − mean_c)/scale_c) with
// τ_t = (t − t_0)/(t_{T−1} − t_0) ∈ [0, 1] as its first coordinate.
func sigFeatures(p *dataset.Paths, idx []int, depth int, mean, scale []float64) ([]float64, int) {
	T, C := len(p.Times), len(p.Channels)
	d := C + 1
	w := newSigWork(d, depth)
	out := make([]float64, len(idx)*w.size)
	pts := make([]float64, T*d)
	t0, span := p.Times[0], p.Times[T-1]-p.Times[0]
	for t := range T {
		pts[t*d] = (p.Times[t] - t0) / span
	}
	inv := make([]float64, C)
	for c := range inv {
		inv[c] = 1 / scale[c]
	}
	for r, n := range idx {
		x := p.Path(n)
		for t := range T {
			for c := range C {
				pts[t*d+1+c] = (x[t*C+c] - mean[c]) * inv[c]
			}
		}
		w.signature(out[r*w.size:(r+1)*w.size], pts)
	}
	return out, w.size
}
