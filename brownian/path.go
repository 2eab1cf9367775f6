package brownian

import (
	"math"
	"slices"

	"github.com/gosde/gosde/internal/guard"
)

// Path is the Brownian Path, the memory baseline of the Brownian Interval: it stores
// W at every time it has been asked about (and W(t0) = 0), sorted by time. A query
// past the last stored time extends the path with an independent Gaussian increment;
// a query between two stored times draws the exact Brownian-bridge value between its
// neighbours. Both are exact. Memory grows by batch×dim float64s with every new time;
// that is its point.
//
// The normals of the k-th stored time are keyed by (seed, k, path, channel), so path p
// depends only on (seed, p) and the sequence of queries. Increment(dst, s, t) evaluates
// W(s) before W(t).
//
// Concurrency: a Path is not safe for concurrent use: queries insert times. Use one per
// goroutine. Overlapping Increment calls from two goroutines are detected (one atomic
// flag per call) and panic rather than corrupt it.
type Path struct {
	t0, t1 float64
	batch  int
	dim    int
	root   uint64
	ph     []uint64
	g      *gauss

	times []float64   // sorted, times[0] = t0
	vals  [][]float64 // W(times[i]), path-major
	count uint64      // times inserted so far (the key of the next one)

	job parJob
	pj  pathJob
	use guard.InUse
}

// NewPath returns a Brownian Path over [t0, t1] of batch paths of dim channels.
func NewPath(t0, t1 float64, batch, dim int, seed uint64) (*Path, error) {
	if err := checkShape("NewPath", t0, t1, batch, dim); err != nil {
		return nil, err
	}
	bp := &Path{
		t0: t0, t1: t1, batch: batch, dim: dim,
		root:  rootSeed(seed, domainPath),
		ph:    pathHashes(batch),
		g:     newGauss(),
		times: []float64{t0},
		vals:  [][]float64{make([]float64, batch*dim)},
	}
	bp.pj.bp = bp
	bp.pj.per, bp.pj.chunks = chunking(batch, dim)
	return bp, nil
}

// Batch returns the number of paths.
func (bp *Path) Batch() int { return bp.batch }

// Dim returns the number of channels of each path.
func (bp *Path) Dim() int { return bp.dim }

// Span returns the time span [t0, t1].
func (bp *Path) Span() (t0, t1 float64) { return bp.t0, bp.t1 }

// Len returns the number of stored times (including t0).
func (bp *Path) Len() int { return len(bp.times) }

// Increment writes W(t) − W(s) for every path and channel into dst (path-major), with
// the same rules as Interval.Increment.
func (bp *Path) Increment(dst []float64, s, t float64) error {
	bp.use.Enter("*brownian.Path")
	defer bp.use.Exit()
	if err := checkQuery("Path.Increment", bp.t0, bp.t1, bp.batch*bp.dim, len(dst), s, t); err != nil {
		return err
	}
	if s == t {
		clear(dst)
		return nil
	}
	ws := bp.point(s)
	wt := bp.point(t)
	for i := range dst {
		dst[i] = wt[i] - ws[i]
	}
	return nil
}

// point returns the stored W(t), drawing and storing it first if it is new.
func (bp *Path) point(t float64) []float64 {
	i, found := slices.BinarySearch(bp.times, t)
	if found {
		return bp.vals[i]
	}
	w := make([]float64, bp.batch*bp.dim)
	j := &bp.pj
	j.dst = w
	j.seed = mix64(bp.root ^ mix64(bp.count+golden))
	bp.count++
	j.left = bp.vals[i-1]
	a := bp.times[i-1]
	if i == len(bp.times) {
		j.right = nil
		j.sd = math.Sqrt(t - a)
	} else {
		b := bp.times[i]
		j.right = bp.vals[i]
		j.frac = (t - a) / (b - a)
		j.sd = math.Sqrt((t - a) * ((b - t) / (b - a)))
	}
	if j.chunks == 1 {
		j.doChunk(0, bp.g)
	} else {
		bp.job.run(j, j.chunks, bp.g)
	}
	bp.times = slices.Insert(bp.times, i, t)
	bp.vals = slices.Insert(bp.vals, i, w)
	return w
}

type pathJob struct {
	bp          *Path
	per, chunks int
	seed        uint64
	dst         []float64
	left, right []float64 // neighbours; right nil when extending
	frac, sd    float64
}

func (j *pathJob) doChunk(c int, g *gauss) {
	bp := j.bp
	d := bp.dim
	p0 := c * j.per
	p1 := min(p0+j.per, bp.batch)
	r := g.r
	for p := p0; p < p1; p++ {
		g.reset(j.seed, bp.ph[p])
		lo := j.left[p*d : p*d+d]
		out := j.dst[p*d : p*d+d]
		if j.right == nil {
			for i, w := range lo {
				out[i] = w + float64(j.sd*r.NormFloat64())
			}
			continue
		}
		hi := j.right[p*d : p*d+d]
		for i, w := range lo {
			out[i] = w + float64(j.frac*(hi[i]-w)) + float64(j.sd*r.NormFloat64())
		}
	}
}
