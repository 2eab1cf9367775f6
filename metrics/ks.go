package metrics

import (
	"fmt"
	"math"
	"slices"

	"github.com/gosde/gosde/dataset"
)

// KSStatistic is the two-sample Kolmogorov–Smirnov statistic
//
//	D = sup_v |F_a(v) − F_b(v)|,
//
// with F_a, F_b the empirical distribution functions of a and b (ties handled exactly:
// the supremum is taken over the pooled distinct values, each counted with all its
// copies). D ∈ [0, 1]; for two samples of sizes n, m from one continuous law D is of
// order sqrt((n+m)/(nm)). Neither sample may be empty or contain NaN.
func KSStatistic(a, b []float64) (float64, error) {
	if len(a) == 0 || len(b) == 0 {
		return 0, fmt.Errorf("metrics: KS statistic needs two non-empty samples, got sizes %d and %d", len(a), len(b))
	}
	for _, s := range [][]float64{a, b} {
		for _, v := range s {
			if math.IsNaN(v) {
				return 0, fmt.Errorf("metrics: KS statistic: sample contains NaN; interpolate or impute missing readings first")
			}
		}
	}
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return ksSorted(a, b), nil
}

func ksSorted(a, b []float64) float64 {
	na, nb := float64(len(a)), float64(len(b))
	var i, j int
	var d float64
	for i < len(a) && j < len(b) {
		v := min(a[i], b[j])
		for i < len(a) && a[i] == v {
			i++
		}
		for j < len(b) && b[j] == v {
			j++
		}
		d = max(d, math.Abs(float64(i)/na-float64(j)/nb))
	}
	// Past this point one distribution function is 1; the difference only shrinks.
	return d
}

// MarginalKS returns the two-sample Kolmogorov–Smirnov statistic (KSStatistic) between
// the real and the fake values at each time index in times, per channel: the result
// has len(times)·C entries, entry i·C + c comparing {real.At(n, times[i], c)}_n with
// {fake.At(n, times[i], c)}_n over all paths of each set (no subsampling). Take the
// maximum over entries for a single number. Each time index must lie in [0, T).
func MarginalKS(real, fake *dataset.Paths, times []int) ([]float64, error) {
	if err := checkPair("real", real, "fake", fake); err != nil {
		return nil, err
	}
	T, C := len(real.Times), len(real.Channels)
	for _, t := range times {
		if t < 0 || t >= T {
			return nil, fmt.Errorf("metrics: KS time index %d outside [0, %d)", t, T)
		}
	}
	out := make([]float64, len(times)*C)
	a := make([]float64, real.N)
	b := make([]float64, fake.N)
	for i, t := range times {
		for c := range C {
			for n := range a {
				a[n] = real.Values[(n*T+t)*C+c]
			}
			for n := range b {
				b[n] = fake.Values[(n*T+t)*C+c]
			}
			slices.Sort(a)
			slices.Sort(b)
			out[i*C+c] = ksSorted(a, b)
		}
	}
	return out, nil
}

// FiveTimes returns five evenly spaced time indices of a grid of T times, ending at the
// last: round(k·(T−1)/5) for k = 1, …, 5 (the initial time, often a fixed starting
// value, is left out). For T <= 5 the rounded indices repeat and duplicates are dropped
// (T = 64 gives [13 25 38 50 63]; T = 3 gives [0 1 2]; T = 1 gives [0]). It returns
// nil for T < 1.
func FiveTimes(T int) []int { return evenTimes(T, 1, 5) }

// ElevenTimes returns eleven evenly spaced time indices of a grid of T times, from the
// first to the last: round(k·(T−1)/10) for k = 0, …, 10, duplicates dropped as in
// FiveTimes (T = 64 gives [0 6 13 19 25 32 38 44 50 57 63]; T = 3 gives [0 1 2]). The
// initial time is kept because a generator's initial law is learnt like any other
// marginal, and at 11 times a mismatch confined to part of the path is harder to
// miss. It returns nil for T < 1.
func ElevenTimes(T int) []int { return evenTimes(T, 0, 10) }

// evenTimes returns round(k·(T−1)/parts) for k = from, …, parts, without repeats.
func evenTimes(T, from, parts int) []int {
	if T < 1 {
		return nil
	}
	var out []int
	for k := from; k <= parts; k++ {
		t := int(math.Round(float64(k) * float64(T-1) / float64(parts)))
		if len(out) == 0 || out[len(out)-1] != t {
			out = append(out, t)
		}
	}
	return out
}
