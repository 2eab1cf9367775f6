package metrics

import (
	"fmt"
	"math"
	"slices"

	"github.com/gosde/gosde/dataset"
)

// DefaultMaxPaths caps the number of paths of each set that MMD and Classify use.
const DefaultMaxPaths = 1000

// MaxMMDPaths bounds MMDOptions.MaxPaths: MMDWithFloor keeps the kernel matrix of up to
// 2·MaxPaths real paths, 8·(2·MaxPaths)² bytes (512 MiB at this bound).
const MaxMMDPaths = 4096

// MMDOptions configures MMD, MMDWithFloor and MedianBandwidth. Zero values select the
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
	// Seed drives the subsampling and MMDWithFloor's splits.
	Seed uint64
	// Splits is the number of random splits of the real set that MMDWithFloor
	// averages over (default DefaultSplits = 8).
	Splits int
}

// DefaultSplits is MMDWithFloor's default number of splits. One split's floor is too
// noisy to read "within 2× the floor" from: over metric seeds on one data set its
// relative standard deviation is 0.44, the mean of 8 splits' 0.20
// (TestMMDSameVersusDifferentLaw logs both).
const DefaultSplits = 8

func (o MMDOptions) withDefaults() (MMDOptions, error) {
	if o.Depth == 0 {
		o.Depth = DefaultDepth
	}
	if o.MaxPaths == 0 {
		o.MaxPaths = DefaultMaxPaths
	}
	if o.Splits == 0 {
		o.Splits = DefaultSplits
	}
	if o.Splits < 1 {
		return o, fmt.Errorf("%w: MMD splits %d, need at least 1", errBadOption, o.Splits)
	}
	if o.Depth < 1 {
		return o, fmt.Errorf("%w: MMD depth %d", errBadOption, o.Depth)
	}
	if o.MaxPaths < 2 || o.MaxPaths > MaxMMDPaths {
		return o, fmt.Errorf("%w: MMD MaxPaths %d, need 2…%d", errBadOption, o.MaxPaths, MaxMMDPaths)
	}
	if o.Bandwidth < 0 || math.IsNaN(o.Bandwidth) || math.IsInf(o.Bandwidth, 0) {
		return o, fmt.Errorf("%w: MMD bandwidth %v", errBadOption, o.Bandwidth)
	}
	return o, nil
}

// MMD returns the squared maximum mean discrepancy MMD² between the samples real and
// fake: the squared distance between their mean embeddings under a Gaussian kernel on
// signatures,
//
//	k(a, b) = exp(−‖S(a) − S(b)‖² / (2σ²)),
//
// where S(x) ∈ R^{d+…+d^m}, d = C+1, m = opt.Depth (default 3), is the depth-m
// truncated signature (levels 1…m, see Signature) of the piecewise-linear
// time-augmented path t ↦ ((t − t_0)/(t_{T−1} − t_0), (x_t − μ)/s): time rescaled to
// [0, 1] as the first coordinate, then each channel centred and scaled by the mean μ_c
// and standard deviation s_c of the real set over all its paths and times (the same
// affine map is applied to fake). σ is opt.Bandwidth, or, if zero, the median
// heuristic on the real set (MedianBandwidth). Over the n real paths x and m fake
// paths y, each set first subsampled to at most opt.MaxPaths (default 1000) paths by a
// permutation seeded with opt.Seed, it is the V-statistic
//
//	MMD² = ‖(1/n) Σ_i k(x_i, ·) − (1/m) Σ_j k(y_j, ·)‖²
//	     = 1/n² Σ_{i,j} k(x_i,x_j) + 1/m² Σ_{i,j} k(y_i,y_j) − 2/(nm) Σ_{i,j} k(x_i,y_j).
//
// It is never negative, and it is not zero between two finite samples of one law: its
// mean is then about (1/n + 1/m)(1 − E k(X, X′)), the distance sampling alone puts
// between two sets of these sizes. That is the floor a perfect generator scores, and
// MMDWithFloor measures it beside MMD at matched sizes. Cost: O((n+m)² ·
// SignatureSize(C+1, m)).
func MMD(real, fake *dataset.Paths, opt MMDOptions) (float64, error) {
	if err := checkPair("real", real, "fake", fake); err != nil {
		return 0, err
	}
	opt, err := opt.withDefaults()
	if err != nil {
		return 0, err
	}
	if err := checkSignature(real.C()+1, opt.Depth); err != nil {
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
	return mmdV(x, y, D, sigma), nil
}

// MMDWithFloor measures how far fake lies from real beside how far real lies from
// itself, at the same sample sizes, so that the two numbers can be compared directly.
// Real is first subsampled to at most 2·opt.MaxPaths paths (N of them). For each of
// opt.Splits (default 8) seeded permutations of those, the first
// n = min(⌊N/2⌋, opt.MaxPaths) paths form a reference set A and the next
// m = min(N − n, fake.N, opt.MaxPaths) paths a second set B; with fake subsampled once
// to m paths,
//
//	mmd   = mean over splits of MMD²(A, fake)   floor = mean over splits of MMD²(A, B)
//
// with MMD's V-statistic, standardisation from the whole real set and one σ
// (opt.Bandwidth, or if zero MedianBandwidth(real, opt)). A generator whose law is
// real's scores mmd/floor ≈ 1 on average; mmd within 2× floor means the generated set
// is no farther from real paths than about twice the distance between two real sets.
// Averaging over splits steadies both numbers; each pair shares its A, so a
// difference in A moves both alike.
func MMDWithFloor(real, fake *dataset.Paths, opt MMDOptions) (mmd, floor float64, err error) {
	mmd, floor, _, err = mmdFloorCeiling(real, fake, opt)
	return mmd, floor, err
}

// mmdFloorCeiling is MMDWithFloor that also returns the ceiling: the mean over splits of
// withinA + 1, the largest MMD² against the same sets A that any generated set of m
// paths can score (MMD² = withinA + withinF − 2·cross with withinF ≤ 1 and cross ≥ 0;
// reached by m identical paths infinitely far from every real one).
func mmdFloorCeiling(real, fake *dataset.Paths, opt MMDOptions) (mmd, floor, ceiling float64, err error) {
	if err := checkPair("real", real, "fake", fake); err != nil {
		return 0, 0, 0, err
	}
	if opt, err = opt.withDefaults(); err != nil {
		return 0, 0, 0, err
	}
	if err := checkSignature(real.C()+1, opt.Depth); err != nil {
		return 0, 0, 0, err
	}
	if opt.Bandwidth == 0 {
		if opt.Bandwidth, err = MedianBandwidth(real, opt); err != nil {
			return 0, 0, 0, err
		}
	}
	mean, scale := channelStats(real)
	// No split uses more than 2·MaxPaths real paths, so a larger real set is first
	// subsampled to that many: their signatures are computed once for all splits.
	ri := pick(real.N, 2*opt.MaxPaths, newRNG(opt.Seed, streamRealSub))
	all, D := sigFeatures(real, ri, opt.Depth, mean, scale)
	N := len(ri)
	n := min(N/2, opt.MaxPaths)
	m := min(N-n, fake.N, opt.MaxPaths)
	f, _ := sigFeatures(fake, pick(fake.N, m, newRNG(opt.Seed, streamFakeSub)), opt.Depth, mean, scale)
	// The generated set's own term is the same in every split; A's is shared by its
	// two distances. Every kernel value a split needs is computed once, so a split
	// costs O(N²) additions rather than kernel evaluations: summed in the order
	// kernelMeanWithin and kernelMeanCross would sum them, they give the same bits.
	withinF := kernelMeanWithin(f, D, opt.Bandwidth)
	krr := kernelMatrix(all, all, D, opt.Bandwidth, true)
	krf := kernelMatrix(all, f, D, opt.Bandwidth, false)
	rng := newRNG(opt.Seed, streamFloor)
	for range opt.Splits {
		perm := rng.Perm(N)
		pa, pb := perm[:n], perm[n:n+m]
		var sA, sB, sAF, sAB float64
		for i, p := range pa {
			row := krr[p*N : (p+1)*N]
			for _, q := range pa[i+1:] {
				sA += row[q]
			}
			for _, q := range pb {
				sAB += row[q]
			}
			for _, v := range krf[p*m : (p+1)*m] {
				sAF += v
			}
		}
		for i, p := range pb {
			row := krr[p*N : (p+1)*N]
			for _, q := range pb[i+1:] {
				sB += row[q]
			}
		}
		withinA := (float64(n) + 2*sA) / float64(n*n)
		withinB := (float64(m) + 2*sB) / float64(m*m)
		mmd += vStat(withinA, withinF, sAF/float64(n*m))
		floor += vStat(withinA, withinB, sAB/float64(n*m))
		ceiling += withinA + 1
	}
	k := float64(opt.Splits)
	return mmd / k, floor / k, ceiling / k, nil
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
	if err := checkSignature(real.C()+1, opt.Depth); err != nil {
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

// mmdV is the V-statistic MMD² between the rows of x and y with a Gaussian kernel of
// bandwidth sigma.
func mmdV(x, y []float64, D int, sigma float64) float64 {
	return vStat(kernelMeanWithin(x, D, sigma), kernelMeanWithin(y, D, sigma), kernelMeanCross(x, y, D, sigma))
}

// vStat assembles MMD² from the mean kernel values within each set and across them;
// rounding can take an MMD² of two nearly equal sets a hair below zero.
func vStat(withinX, withinY, cross float64) float64 {
	return max(0, withinX+withinY-2*cross)
}

// kernelMeanWithin is the mean of k(z_i, z_j) over all ordered pairs of rows of z,
// i = j included (k(z_i, z_i) = 1 is counted, not computed).
func kernelMeanWithin(z []float64, D int, sigma float64) float64 {
	g := -1 / (2 * sigma * sigma)
	k := len(z) / D
	var s float64
	for i := range k {
		zi := z[i*D : (i+1)*D]
		for j := i + 1; j < k; j++ {
			s += math.Exp(g * sqDist(zi, z[j*D:(j+1)*D]))
		}
	}
	return (float64(k) + 2*s) / float64(k*k)
}

// kernelMatrix is k(x_i, y_j) for all rows of x and y, row-major (x's rows by y's).
// When sym is set, x and y are the same rows and only i < j is computed, then mirrored:
// sqDist is symmetric to the bit, so the mirrored values are what computing them gives.
func kernelMatrix(x, y []float64, D int, sigma float64, sym bool) []float64 {
	g := -1 / (2 * sigma * sigma)
	n, m := len(x)/D, len(y)/D
	k := make([]float64, n*m)
	for i := range n {
		xi := x[i*D : (i+1)*D]
		j0 := 0
		if sym {
			k[i*m+i] = 1
			j0 = i + 1
		}
		for j := j0; j < m; j++ {
			v := math.Exp(g * sqDist(xi, y[j*D:(j+1)*D]))
			k[i*m+j] = v
			if sym {
				k[j*m+i] = v
			}
		}
	}
	return k
}

// kernelMeanCross is the mean of k(x_i, y_j) over all rows of x and y.
func kernelMeanCross(x, y []float64, D int, sigma float64) float64 {
	g := -1 / (2 * sigma * sigma)
	n, m := len(x)/D, len(y)/D
	var s float64
	for i := range n {
		xi := x[i*D : (i+1)*D]
		for j := range m {
			s += math.Exp(g * sqDist(xi, y[j*D:(j+1)*D]))
		}
	}
	return s / float64(n*m)
}
