package metrics

import (
	"fmt"
	"math"
	"slices"

	"github.com/gosde/gosde/dataset"
)

// DefaultMaxPaths caps the number of paths of each set that MMD and Classify use.
const DefaultMaxPaths = 1000

// MMDOptions configures MMD, MMDFloor and MedianBandwidth. Zero values select the
// defaults.
type MMDOptions struct {
	// Depth is the signature truncation depth (default DefaultDepth = 3).
	Depth int
	// Bandwidth is the kernel bandwidth σ; 0 selects the median heuristic
	// (MedianBandwidth).
	Bandwidth float64
	// MaxPaths caps the paths used from each set (default DefaultMaxPaths = 1000);
	// a larger set is subsampled without replacement by a seeded permutation.
	MaxPaths int
	// Seed drives the subsampling and MMDFloor's split.
	Seed uint64
}

func (o MMDOptions) withDefaults() (MMDOptions, error) {
	if o.Depth == 0 {
		o.Depth = DefaultDepth
	}
	if o.MaxPaths == 0 {
		o.MaxPaths = DefaultMaxPaths
	}
	if o.Depth < 1 {
		return o, fmt.Errorf("%w: MMD depth %d", errBadOption, o.Depth)
	}
	if o.MaxPaths < 2 {
		return o, fmt.Errorf("%w: MMD MaxPaths %d, need at least 2", errBadOption, o.MaxPaths)
	}
	if o.Bandwidth < 0 || math.IsNaN(o.Bandwidth) || math.IsInf(o.Bandwidth, 0) {
		return o, fmt.Errorf("%w: MMD bandwidth %v", errBadOption, o.Bandwidth)
	}
	return o, nil
}

// MMD returns the unbiased estimate of the squared maximum mean discrepancy MMD²
// between the laws of real and fake, with a Gaussian kernel on signatures:
//
//	k(a, b) = exp(−‖S(a) − S(b)‖² / (2σ²)),
//
// where S(x) ∈ R^{d+…+d^m}, d = C+1, m = opt.Depth (default 3), is the depth-m
// truncated signature (levels 1…m, see Signature) of the piecewise-linear
// time-augmented path t ↦ ((t − t_0)/(t_{T−1} − t_0), (x_t − μ)/s): time rescaled to
// [0, 1] as the first coordinate, then each channel centred and scaled by the mean μ_c
// and standard deviation s_c of the real set over all its paths and times (the same
// affine map is applied to fake). σ is opt.Bandwidth, or, if zero, the median
// heuristic on the real set (MedianBandwidth). The estimator is the U-statistic
//
//	MMD² = 1/(n(n−1)) Σ_{i≠j} k(x_i,x_j) + 1/(m(m−1)) Σ_{i≠j} k(y_i,y_j) − 2/(nm) Σ_{i,j} k(x_i,y_j)
//
// over the n real paths x and m fake paths y, each set first subsampled to at most
// opt.MaxPaths (default 1000) paths by a permutation seeded with opt.Seed. It is
// unbiased, so it can be slightly negative when the laws agree; compare it with
// MMDFloor. Cost: O((n+m)² · SignatureSize(C+1, m)).
func MMD(real, fake *dataset.Paths, opt MMDOptions) (float64, error) {
	if err := checkPair("real", real, "fake", fake); err != nil {
		return 0, err
	}
	opt, err := opt.withDefaults()
	if err != nil {
		return 0, err
	}
	mean, scale := channelStats(real)
	ri := pick(real.N, opt.MaxPaths, newRNG(opt.Seed, streamRealSub))
	fi := pick(fake.N, opt.MaxPaths, newRNG(opt.Seed, streamFakeSub))
	x, D := sigFeatures(real, ri, opt.Depth, mean, scale)
	y, _ := sigFeatures(fake, fi, opt.Depth, mean, scale)
	sigma := opt.Bandwidth
	if sigma == 0 {
		sigma = medianDistance(x, D)
	}
	return mmdU(x, y, D, sigma), nil
}

// MMDFloor is the real-vs-real floor of MMD: the same estimate (same depth, same
// standardisation from the whole real set, same σ — opt.Bandwidth, or if zero
// MedianBandwidth(real, opt), exactly the σ that MMD(real, ·, opt) uses) between two
// disjoint halves of real, the first ⌊N/2⌋ and the remaining paths of a permutation
// seeded with opt.Seed, each half then capped at opt.MaxPaths. Its spread around 0
// is the noise level below which MMD cannot tell two laws apart at this sample size
// (the halves are half as large as real, so the floor is somewhat noisier).
func MMDFloor(real *dataset.Paths, opt MMDOptions) (float64, error) {
	if err := checkPaths("real", real); err != nil {
		return 0, err
	}
	opt, err := opt.withDefaults()
	if err != nil {
		return 0, err
	}
	if opt.Bandwidth == 0 {
		if opt.Bandwidth, err = MedianBandwidth(real, opt); err != nil {
			return 0, err
		}
	}
	mean, scale := channelStats(real)
	perm := newRNG(opt.Seed, streamFloor).Perm(real.N)
	h := real.N / 2
	a, b := perm[:h], perm[h:]
	a, b = a[:min(len(a), opt.MaxPaths)], b[:min(len(b), opt.MaxPaths)]
	x, D := sigFeatures(real, a, opt.Depth, mean, scale)
	y, _ := sigFeatures(real, b, opt.Depth, mean, scale)
	return mmdU(x, y, D, opt.Bandwidth), nil
}

// MedianBandwidth is the median heuristic σ that MMD uses when opt.Bandwidth is zero:
// the median of the pairwise Euclidean distances ‖S(x_i) − S(x_j)‖, i < j, between the
// signature features (as in MMD) of the real paths, subsampled to opt.MaxPaths exactly
// as MMD subsamples them. If that median is 0 the mean distance is used, and if that
// is 0 too (all signatures equal), σ = 1.
func MedianBandwidth(real *dataset.Paths, opt MMDOptions) (float64, error) {
	if err := checkPaths("real", real); err != nil {
		return 0, err
	}
	opt, err := opt.withDefaults()
	if err != nil {
		return 0, err
	}
	mean, scale := channelStats(real)
	ri := pick(real.N, opt.MaxPaths, newRNG(opt.Seed, streamRealSub))
	x, D := sigFeatures(real, ri, opt.Depth, mean, scale)
	return medianDistance(x, D), nil
}

func sqDist(a, b []float64) float64 {
	b = b[:len(a)]
	var s float64
	for i, v := range a {
		d := v - b[i]
		s += d * d
	}
	return s
}

// medianDistance is the median pairwise distance between the rows of x (n × D).
func medianDistance(x []float64, D int) float64 {
	n := len(x) / D
	d := make([]float64, 0, n*(n-1)/2)
	var sum float64
	for i := range n {
		xi := x[i*D : (i+1)*D]
		for j := i + 1; j < n; j++ {
			v := math.Sqrt(sqDist(xi, x[j*D:(j+1)*D]))
			d = append(d, v)
			sum += v
		}
	}
	slices.Sort(d)
	m := len(d)
	med := d[m/2]
	if m%2 == 0 {
		med = (d[m/2-1] + d[m/2]) / 2
	}
	if med > 0 {
		return med
	}
	if mean := sum / float64(m); mean > 0 {
		return mean
	}
	return 1
}

// mmdU is the unbiased MMD² between the rows of x and y with a Gaussian kernel of
// bandwidth sigma.
func mmdU(x, y []float64, D int, sigma float64) float64 {
	g := -1 / (2 * sigma * sigma)
	n, m := len(x)/D, len(y)/D
	within := func(z []float64, k int) float64 {
		var s float64
		for i := range k {
			zi := z[i*D : (i+1)*D]
			for j := i + 1; j < k; j++ {
				s += math.Exp(g * sqDist(zi, z[j*D:(j+1)*D]))
			}
		}
		return 2 * s / float64(k*(k-1))
	}
	var xy float64
	for i := range n {
		xi := x[i*D : (i+1)*D]
		for j := range m {
			xy += math.Exp(g * sqDist(xi, y[j*D:(j+1)*D]))
		}
	}
	return within(x, n) + within(y, m) - 2*xy/float64(n*m)
}
