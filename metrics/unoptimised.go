package metrics

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat"

	"github.com/gosde/gosde/dataset"
)

// The statistics here are the ones a generator trained on a signature-kernel score is
// not fitted to: the MMD and the signature classifier see the same signature features
// that objective matches, so a generator can look good to them for the objective's
// reasons rather than the data's. Each is reported beside what real data scores on it,
// because without that scale a number means little at a given sample size.

// ChannelValue is one statistic of one channel.
type ChannelValue struct {
	Channel     int     `json:"channel"`      // channel index
	ChannelName string  `json:"channel_name"` // Channels[Channel]
	Value       float64 `json:"value"`
}

// IncrementEntry is the spread of the one-step increment Y_{t+1} − Y_t of one channel.
type IncrementEntry struct {
	Time        int     `json:"time"`         // t, the index the increment starts at
	TimeValue   float64 `json:"time_value"`   // Times[t]
	Channel     int     `json:"channel"`      // channel index
	ChannelName string  `json:"channel_name"` // Channels[Channel]
	Std         float64 `json:"std"`          // sample standard deviation over paths
}

// IncrementTimes returns the start indices t of the one-step increments whose spread
// Evaluate reports: round(0.4·(T−1)) and T−2, the increments ending near 40% of the way
// along and at the last time (T = 64 gives [25 62]), duplicates dropped (T = 2 gives
// [0]). One is inside the path and one at its end because a generator's volatility
// can be right on average yet wrong at the end, where its errors accumulate and
// where a path-level score weighs it least. It returns nil for T < 2.
func IncrementTimes(T int) []int {
	if T < 2 {
		return nil
	}
	a, b := int(math.Round(0.4*float64(T-1))), T-2
	if a == b {
		return []int{a}
	}
	return []int{a, b}
}

// LastFirstCorrelation returns, per channel c, the Pearson correlation over paths of
// the last value Y_{T−1}^c with the first value Y_0^c. How much of its start a path
// remembers at its end is a property of the law no marginal shows; a channel whose
// first or last values are all equal has covariance 0 with anything and is given
// correlation 0 (rather than an undefined one).
func LastFirstCorrelation(p *dataset.Paths) ([]float64, error) {
	if err := checkPaths("input", p); err != nil {
		return nil, err
	}
	T, C := len(p.Times), len(p.Channels)
	x, y := make([]float64, p.N), make([]float64, p.N)
	out := make([]float64, C)
	for c := range C {
		for n := range p.N {
			x[n] = p.Values[n*T*C+c]
			y[n] = p.Values[(n*T+T-1)*C+c]
		}
		out[c] = pearson(x, y)
	}
	return out, nil
}

// IncrementStd returns the sample standard deviation (divisor N − 1) over paths of the
// one-step increment Y_{t+1}^c − Y_t^c at each start index t in times, per channel:
// entry i·C + c is times[i] and channel c. Each index must lie in [0, T−1).
func IncrementStd(p *dataset.Paths, times []int) ([]float64, error) {
	if err := checkPaths("input", p); err != nil {
		return nil, err
	}
	T, C := len(p.Times), len(p.Channels)
	for _, t := range times {
		if t < 0 || t >= T-1 {
			return nil, fmt.Errorf("metrics: increment start index %d outside [0, %d)", t, T-1)
		}
	}
	d := make([]float64, p.N)
	out := make([]float64, len(times)*C)
	for i, t := range times {
		for c := range C {
			for n := range p.N {
				d[n] = p.Values[(n*T+t+1)*C+c] - p.Values[(n*T+t)*C+c]
			}
			out[i*C+c] = stat.StdDev(d, nil) // divisor N − 1
		}
	}
	return out, nil
}

// pearson is the sample correlation of x and y (equal lengths), 0 if either is
// constant (where stat.Correlation is NaN, which JSON cannot hold).
func pearson(x, y []float64) float64 {
	if stat.Variance(x, nil) == 0 || stat.Variance(y, nil) == 0 {
		return 0
	}
	return max(-1, min(1, stat.Correlation(x, y, nil)))
}

// halves splits p's paths by a seeded permutation into two disjoint sets of ⌊N/2⌋ and
// ⌈N/2⌉ paths.
func halves(p *dataset.Paths, seed uint64) (a, b *dataset.Paths) {
	perm := newRNG(seed, streamHalves).Perm(p.N)
	return dataset.Subset(p, perm[:p.N/2]), dataset.Subset(p, perm[p.N/2:])
}

// maxKS is the largest MarginalKS statistic of a against b at times.
func maxKS(a, b *dataset.Paths, times []int) (float64, error) {
	ks, err := MarginalKS(a, b, times)
	if err != nil {
		return 0, err
	}
	var m float64
	for _, d := range ks {
		m = max(m, d)
	}
	return m, nil
}

// addUnoptimised fills the Report fields that the training objective does not
// optimise (see Evaluate); times are ks_max's, co is the signature classifier's
// options (defaults not yet applied) and seed draws the halves of realTest.
func (r *Report) addUnoptimised(realTest, fake *dataset.Paths, times []int, co ClassifyOptions, seed uint64) error {
	if realTest.N < 2*MinPaths {
		return fmt.Errorf("metrics: real test paths number %d, need at least %d for the real-vs-real floors",
			realTest.N, 2*MinPaths)
	}
	var err error
	// The same paths and split as the signature classifier: the two accuracies
	// differ only in what the classifier looks at.
	if r.RawClassifierAccuracy, err = RawClassify(realTest, fake, co); err != nil {
		return err
	}
	ha, hb := halves(realTest, seed)
	if r.RawClassifierFloor, err = RawClassify(ha, hb, co); err != nil {
		return err
	}
	// Two halves are smaller samples than ks_max compares, so their KS is larger by
	// sampling alone; √(nm/(n+m))·D has one limit law for two samples of one law
	// whatever n and m, which rescales the halves' value to ks_max's sizes
	// (TestKSFloorScale). It is one draw, about as noisy as a perfect generator's
	// ks_max itself: relative spread 0.2 at 1639 real and 1000 generated paths.
	floor, err := maxKS(ha, hb, times)
	if err != nil {
		return err
	}
	r.KSMaxFloor = floor * math.Sqrt((1/float64(realTest.N)+1/float64(fake.N))/(1/float64(ha.N)+1/float64(hb.N)))

	C := len(realTest.Channels)
	cf, err := LastFirstCorrelation(fake)
	if err != nil {
		return err
	}
	cr, err := LastFirstCorrelation(realTest)
	if err != nil {
		return err
	}
	r.CorrLastFirst, r.CorrLastFirstReal = make([]ChannelValue, C), make([]ChannelValue, C)
	r.CorrLastFirstMaxDiff = 0
	for c := range C {
		name := realTest.Channels[c]
		r.CorrLastFirst[c] = ChannelValue{Channel: c, ChannelName: name, Value: cf[c]}
		r.CorrLastFirstReal[c] = ChannelValue{Channel: c, ChannelName: name, Value: cr[c]}
		r.CorrLastFirstMaxDiff = max(r.CorrLastFirstMaxDiff, math.Abs(cf[c]-cr[c]))
	}

	it := IncrementTimes(len(realTest.Times))
	sf, err := IncrementStd(fake, it)
	if err != nil {
		return err
	}
	sr, err := IncrementStd(realTest, it)
	if err != nil {
		return err
	}
	r.IncrementStd, r.IncrementStdReal = make([]IncrementEntry, len(sf)), make([]IncrementEntry, len(sr))
	r.IncrementStdMaxRelDiff = 0
	for i := range sf {
		t, c := it[i/C], i%C
		e := IncrementEntry{Time: t, TimeValue: realTest.Times[t], Channel: c, ChannelName: realTest.Channels[c]}
		e.Std = sf[i]
		r.IncrementStd[i] = e
		e.Std = sr[i]
		r.IncrementStdReal[i] = e
		if sr[i] > 0 { // no relative difference from a real spread of zero
			r.IncrementStdMaxRelDiff = max(r.IncrementStdMaxRelDiff, math.Abs(sf[i]/sr[i]-1))
		}
	}
	return nil
}
