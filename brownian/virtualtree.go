package brownian

import (
	"fmt"
	"math"

	"github.com/gosde/gosde/internal/guard"
)

// maxVirtualDepth bounds the bisection depth so that heap indices fit in a uint64.
const maxVirtualDepth = 62

// VirtualTree is the Virtual Brownian Tree of Li, Wong, Chen & Duvenaud (2020), the
// speed and accuracy baseline of the Brownian Interval. W(t0) = 0 and W(t1) ~ N(0, h)
// come from the seed; W(t) is found by bisecting [t0, t1] with Brownian-bridge
// midpoints W(m) = (W(a)+W(b))/2 + √((b−a)/4)·Z, descending into the half that holds
// t until the interval is no longer than tol, then interpolating linearly. Each
// midpoint's Z is keyed by (seed, heap index of the node, path, channel), so the tree
// is never stored and path p depends only on (seed, p).
//
// It is approximate: the law of an increment is exact only between times the
// bisection hits exactly (dyadic points of the span); elsewhere the linear
// interpolation lacks a bridge of variance at most tol/4. Each point costs
// ⌈log₂(span/tol)⌉ levels of normals. It remembers the last two points it evaluated
// (a pure speed-up for sweeps; answers never depend on it).
//
// Concurrency: a VirtualTree is not safe for concurrent use: queries overwrite that
// memo and its workspace. Use one per goroutine (same seed, same answers). Overlapping
// Increment calls from two goroutines are detected (one atomic flag per call) and panic
// rather than corrupt it.
type VirtualTree struct {
	t0, t1 float64
	batch  int
	dim    int
	tol    float64
	depth  int // levels of bisection: the first with (t1−t0)/2^depth ≤ tol
	root   uint64
	ph     []uint64
	g      *gauss

	w1 []float64 // W(t1), per path and channel

	// descent plan of the current point, shared by all paths
	levels []vtLevel
	lvN    int
	frac   float64 // interpolation weight of W(b) in the final leaf
	exact  int     // 0: interpolate; 1: t is the left end a; 2: t is the right end b

	// the last two points evaluated
	memoT    [2]float64
	memoOK   [2]bool
	memo     [2][]float64
	memoNext int

	job parJob
	vj  vtJob
	use guard.InUse
}

type vtLevel struct {
	seed  uint64  // node seed of the midpoint being drawn
	sd    float64 // √((b−a)/4)
	right bool    // descend into [m, b]
}

// NewVirtualTree returns a Virtual Brownian Tree over [t0, t1] of batch paths of dim
// channels, with tolerance tol: bisection stops at intervals no longer than tol. tol
// must be positive and finite; tol ≥ t1 − t0 is allowed (no bisection: W is linear
// between W(t0) and W(t1)); tol below (t1 − t0)·2⁻⁶² is an error.
func NewVirtualTree(t0, t1 float64, batch, dim int, seed uint64, tol float64) (*VirtualTree, error) {
	if err := checkShape("NewVirtualTree", t0, t1, batch, dim); err != nil {
		return nil, err
	}
	if !(tol > 0) || math.IsInf(tol, 0) {
		return nil, fmt.Errorf("brownian: NewVirtualTree: tolerance %v must be positive and finite (e.g. 1e-6 × span)", tol)
	}
	h := t1 - t0
	depth := 0
	for w := h; w > tol; w *= 0.5 {
		depth++
		if depth > maxVirtualDepth {
			return nil, fmt.Errorf("brownian: NewVirtualTree: tolerance %v is too small for span %v (at most %d bisections); use tol ≥ span·2⁻⁶²", tol, h, maxVirtualDepth)
		}
	}
	vt := &VirtualTree{
		t0: t0, t1: t1, batch: batch, dim: dim, tol: tol, depth: depth,
		root:   rootSeed(seed, domainVirtual),
		ph:     pathHashes(batch),
		g:      newGauss(),
		w1:     make([]float64, batch*dim),
		levels: make([]vtLevel, depth),
	}
	for k := range vt.memo {
		vt.memo[k] = make([]float64, batch*dim)
	}
	vt.vj.vt = vt
	vt.vj.per, vt.vj.chunks = chunking(batch, dim)
	// W(t1) ~ N(0, h): node index 1 is the root.
	sw := math.Sqrt(h)
	rs := mix64(vt.root ^ 1)
	for p := 0; p < batch; p++ {
		vt.g.reset(rs, vt.ph[p])
		for c := 0; c < dim; c++ {
			vt.w1[p*dim+c] = sw * vt.g.r.NormFloat64()
		}
	}
	return vt, nil
}

// Batch returns the number of paths.
func (vt *VirtualTree) Batch() int { return vt.batch }

// Dim returns the number of channels of each path.
func (vt *VirtualTree) Dim() int { return vt.dim }

// Span returns the time span [t0, t1].
func (vt *VirtualTree) Span() (t0, t1 float64) { return vt.t0, vt.t1 }

// Tol returns the bisection tolerance.
func (vt *VirtualTree) Tol() float64 { return vt.tol }

// Depth returns the number of bisection levels per point, ⌈log₂(span/tol)⌉.
func (vt *VirtualTree) Depth() int { return vt.depth }

// Increment writes W(t) − W(s) for every path and channel into dst (path-major), with
// the same rules as Interval.Increment.
func (vt *VirtualTree) Increment(dst []float64, s, t float64) error {
	vt.use.Enter("*brownian.VirtualTree")
	defer vt.use.Exit()
	if err := checkQuery("VirtualTree.Increment", vt.t0, vt.t1, vt.batch*vt.dim, len(dst), s, t); err != nil {
		return err
	}
	if s == t {
		clear(dst)
		return nil
	}
	ks := vt.point(s, -1)
	kt := vt.point(t, ks)
	ws, wt := vt.memo[ks], vt.memo[kt]
	for i := range dst {
		dst[i] = wt[i] - ws[i]
	}
	return nil
}

// point returns the index of the memo slot holding W(t), evaluating it by bisection
// into a slot other than avoid (−1: any) if it is not there.
func (vt *VirtualTree) point(t float64, avoid int) int {
	for k := range vt.memo {
		if vt.memoOK[k] && vt.memoT[k] == t {
			vt.memoNext = 1 - k // evict the other one next
			return k
		}
	}
	k := vt.memoNext
	if k == avoid {
		k = 1 - k
	}
	vt.memoNext = 1 - k
	vt.memoOK[k] = false
	vt.eval(t, vt.memo[k])
	vt.memoT[k], vt.memoOK[k] = t, true
	return k
}

// eval writes W(t) into dst.
func (vt *VirtualTree) eval(t float64, dst []float64) {
	// Plan the descent, which is the same for every path.
	a, b := vt.t0, vt.t1
	idx := uint64(1)
	vt.lvN, vt.exact, vt.frac = 0, 0, 0
	switch t {
	case a:
		vt.exact = 1
	case b:
		vt.exact = 2
	default:
		for range vt.depth {
			m := a + 0.5*(b-a)
			if !(a < m && m < b) {
				break // [a, b] is down to adjacent floats: interpolate in it
			}
			lv := vtLevel{seed: mix64(vt.root ^ mix64(idx)), sd: math.Sqrt(0.25 * (b - a))}
			if t >= m {
				lv.right = true
				a, idx = m, 2*idx+1
			} else {
				b, idx = m, 2*idx
			}
			vt.levels[vt.lvN] = lv
			vt.lvN++
			if t == a {
				vt.exact = 1
				break
			}
		}
		if vt.exact == 0 {
			vt.frac = (t - a) / (b - a)
		}
	}
	vt.vj.dst = dst
	if vt.vj.chunks == 1 {
		vt.vj.doChunk(0, vt.g)
		return
	}
	vt.job.run(&vt.vj, vt.vj.chunks, vt.g)
}

type vtJob struct {
	vt     *VirtualTree
	per    int
	chunks int
	dst    []float64
}

func (j *vtJob) doChunk(c int, g *gauss) {
	vt := j.vt
	d := vt.dim
	p0 := c * j.per
	p1 := min(p0+j.per, vt.batch)
	levels := vt.levels[:vt.lvN]
	r := g.r
	var wa, wb [8]float64
	for p := p0; p < p1; p++ {
		ph := vt.ph[p]
		out := j.dst[p*d : p*d+d]
		w1 := vt.w1[p*d : p*d+d]
		for c0 := 0; c0 < d; c0 += len(wa) {
			// channels [c0, c1) at a time, on the stack
			c1 := min(c0+len(wa), d)
			na := wa[:c1-c0]
			nb := wb[:c1-c0]
			for i := range na {
				na[i] = 0
				nb[i] = w1[c0+i]
			}
			for _, lv := range levels {
				g.reset(lv.seed, ph)
				// skip the normals of earlier channel groups
				for range c0 {
					r.NormFloat64()
				}
				for i := range na {
					m := float64(0.5*(na[i]+nb[i])) + float64(lv.sd*r.NormFloat64())
					if lv.right {
						na[i] = m
					} else {
						nb[i] = m
					}
				}
			}
			o := out[c0:c1]
			switch vt.exact {
			case 1:
				copy(o, na)
			case 2:
				copy(o, nb)
			default:
				f := vt.frac
				for i := range o {
					o[i] = na[i] + float64(f*(nb[i]-na[i]))
				}
			}
		}
	}
}
