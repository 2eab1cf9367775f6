// Package metrics compares generated time series with real ones, following the
// evaluation of Kidger et al. (2021), "Neural SDEs as Infinite-Dimensional GANs":
//
//   - MMD: the squared maximum mean discrepancy with a Gaussian kernel on truncated
//     signatures of the time-augmented path, beside its real-vs-real floor at the same
//     sample sizes (MMD, MMDWithFloor, MedianBandwidth);
//   - marginals: the two-sample Kolmogorov–Smirnov statistic at fixed times
//     (MarginalKS, ElevenTimes, FiveTimes, KSStatistic);
//   - classification: the held-out accuracy of a logistic regression on signature
//     features told to separate real from generated paths (Classify); 0.5 is perfect;
//   - prediction: the test error of a ridge regression that predicts the second half
//     of a path from its first half (Predict), trained on generated data and tested on
//     real data (TSTR) beside the same predictor trained on real data (TRTR);
//   - statistics a signature-kernel training objective does not optimise directly,
//     so that a good score cannot come from matching the objective's features alone:
//     a classifier on the raw path values (RawClassify), the correlation of the last
//     value with the first (LastFirstCorrelation) and the spread of one-step
//     increments (IncrementStd, IncrementTimes), each beside real data's own score;
//   - whether the numbers can be trusted: the generated values' scale and range beside
//     the real data's (Scale; the kernel metrics saturate for far-off paths, and
//     signatures do not see a path's level), the most the MMD can score at these
//     sizes, and warnings when either is off or when the test set is too small for
//     the classifiers or the MMD to separate a model from the data;
//
// and Evaluate, which runs all of them and returns a JSON-ready Report, and
// EvaluateDraws, which adds each headline metric's spread over several generated sets
// and metric seeds.
//
// Every function takes dataset.Paths. Real and generated paths must share Times
// (finite, strictly increasing, at least 2) and Channels, hold at least 4 paths each,
// and contain no missing readings: a NaN is an error (interpolate or impute first).
// Every result is deterministic given the options' seeds.
package metrics

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gosde/gosde/dataset"
)

// MinPaths is the fewest paths any input may hold.
const MinPaths = 4

// Streams of the seeded generator, one per use, so that no two uses share draws.
const (
	streamRealSub   = 0x6d6d642d7265616c // MMD: subsample of real
	streamFakeSub   = 0x6d6d642d66616b65 // MMD: subsample of fake
	streamFloor     = 0x6d6d642d666c6f72 // MMDWithFloor: split of real
	streamClassReal = 0x636c732d7265616c // Classify: subsample and split of real
	streamClassFake = 0x636c732d66616b65 // Classify: subsample and split of fake
	streamHalves    = 0x72722d68616c7665 // Evaluate: split of real test into halves
)

func newRNG(seed, stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }

// pick returns min(n, max) distinct indices in [0, n): all of them in order when
// n <= max, otherwise the first max entries of a seeded random permutation.
func pick(n, max int, rng *rand.Rand) []int {
	if n <= max {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	return rng.Perm(n)[:max]
}

// checkPaths validates one input.
func checkPaths(name string, p *dataset.Paths) error {
	if p == nil {
		return fmt.Errorf("metrics: %s paths are nil", name)
	}
	T, C := len(p.Times), len(p.Channels)
	if T < 2 {
		return fmt.Errorf("metrics: %s paths have %d observation times, need at least 2", name, T)
	}
	if C < 1 {
		return fmt.Errorf("metrics: %s paths have no channels", name)
	}
	if p.N < MinPaths {
		return fmt.Errorf("metrics: %s paths number %d, need at least %d", name, p.N, MinPaths)
	}
	if len(p.Values) != p.N*T*C {
		return fmt.Errorf("metrics: %s paths hold %d values, want N*T*C = %d*%d*%d = %d",
			name, len(p.Values), p.N, T, C, p.N*T*C)
	}
	for i, t := range p.Times {
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return fmt.Errorf("metrics: %s paths: time %d is %v", name, i, t)
		}
		if i > 0 && !(t > p.Times[i-1]) {
			return fmt.Errorf("metrics: %s paths: times are not strictly increasing at index %d", name, i)
		}
	}
	for i, v := range p.Values {
		if math.IsNaN(v) {
			n, t, c := i/(T*C), (i/C)%T, i%C
			return fmt.Errorf("metrics: %s paths contain a NaN (missing reading) at path %d, time %d, channel %d: "+
				"interpolate or impute missing readings before computing metrics", name, n, t, c)
		}
		if math.IsInf(v, 0) {
			n, t, c := i/(T*C), (i/C)%T, i%C
			return fmt.Errorf("metrics: %s paths contain %v at path %d, time %d, channel %d", name, v, n, t, c)
		}
	}
	return nil
}

// checkPair validates two inputs and that they share Times and Channels.
func checkPair(nameA string, a *dataset.Paths, nameB string, b *dataset.Paths) error {
	if err := checkPaths(nameA, a); err != nil {
		return err
	}
	if err := checkPaths(nameB, b); err != nil {
		return err
	}
	if len(a.Times) != len(b.Times) {
		return fmt.Errorf("metrics: %s and %s paths have %d and %d times", nameA, nameB, len(a.Times), len(b.Times))
	}
	for i := range a.Times {
		if a.Times[i] != b.Times[i] {
			return fmt.Errorf("metrics: %s and %s paths differ at time index %d (%v vs %v)",
				nameA, nameB, i, a.Times[i], b.Times[i])
		}
	}
	if len(a.Channels) != len(b.Channels) {
		return fmt.Errorf("metrics: %s and %s paths have %d and %d channels",
			nameA, nameB, len(a.Channels), len(b.Channels))
	}
	for i := range a.Channels {
		if a.Channels[i] != b.Channels[i] {
			return fmt.Errorf("metrics: %s and %s paths differ at channel %d (%q vs %q)",
				nameA, nameB, i, a.Channels[i], b.Channels[i])
		}
	}
	return nil
}

var errBadOption = errors.New("metrics: bad option")

// channelStats is each channel's mean and standard deviation over all paths and times
// of p (rawStats); a zero standard deviation is replaced by 1.
func channelStats(p *dataset.Paths) (mean, scale []float64) {
	mean, scale = rawStats(p)
	for c := range scale {
		if scale[c] == 0 {
			scale[c] = 1
		}
	}
	return mean, scale
}
