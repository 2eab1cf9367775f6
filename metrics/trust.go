package metrics

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/gosde/gosde/dataset"
)

// What a reader needs besides the numbers to trust them: whether the generated values
// are on the data's scale at all (the kernel metrics saturate for a model that is
// orders of magnitude off, and then read as merely "a few times the floor"), whether
// the test set is large enough for the metrics to tell a model from the data, and how
// much the numbers move between draws of the generated set and of the metrics' own
// random choices.

// Thresholds of Evaluate's warnings (see Evaluate for the rules).
const (
	// OutsideBand is how many real standard deviations beyond the real range a
	// generated value must lie to count as outside it.
	OutsideBand = 3
	// OutsideWarn is the fraction of generated values outside the band above which
	// Evaluate warns.
	OutsideWarn = 0.01
	// ScaleWarn is the ratio of generated to real standard deviation (or its inverse)
	// of a channel at which Evaluate warns: an order of magnitude.
	ScaleWarn = 10
	// MinClassifierTestPaths is the fewest paths the classifiers' test sets must hold:
	// with k test paths a perfect generator's accuracy scatters over
	// 0.5 ± 1.96·0.5/√k (95%), ±0.098 at k = 100.
	MinClassifierTestPaths = 100
	// MinMMDResolution is the smallest ratio of mmd_ceiling to mmd_floor for which the
	// MMD can separate a model from the data (see Evaluate).
	MinMMDResolution = 10
)

// ScaleEntry compares one channel's level and spread in the generated paths with the
// real ones, over all paths and times.
type ScaleEntry struct {
	Channel     int     `json:"channel"`      // channel index
	ChannelName string  `json:"channel_name"` // Channels[Channel]
	RealMean    float64 `json:"real_mean"`
	RealStd     float64 `json:"real_std"`
	FakeMean    float64 `json:"fake_mean"`
	FakeStd     float64 `json:"fake_std"`
	// MeanShift is |FakeMean − RealMean| / RealStd (RealStd 1 for a constant channel).
	MeanShift float64 `json:"mean_shift"`
	// OutsideFraction is the fraction of generated values below the real minimum or
	// above the real maximum by more than OutsideBand real standard deviations.
	OutsideFraction float64 `json:"outside_fraction"`
}

// Scale compares each channel's mean, standard deviation and range in fake with
// real's, over all paths and times (population standard deviations; a constant real
// channel's is taken as 1 for MeanShift and the band, as the metrics standardise it).
// A generator that diverged — values orders of magnitude beyond the data's — shows
// here whatever the kernel metrics say: their Gaussian kernel is 0 for every pair of
// far-apart paths, however far apart.
func Scale(real, fake *dataset.Paths) ([]ScaleEntry, error) {
	if err := checkPair("real", real, "fake", fake); err != nil {
		return nil, err
	}
	C := len(real.Channels)
	rm, rs := rawStats(real)
	fm, fs := rawStats(fake)
	lo, hi := make([]float64, C), make([]float64, C)
	for c := range C {
		lo[c], hi[c] = math.Inf(1), math.Inf(-1)
	}
	for i, v := range real.Values {
		lo[i%C], hi[i%C] = min(lo[i%C], v), max(hi[i%C], v)
	}
	out := make([]ScaleEntry, C)
	outside := make([]int, C)
	for c := range C {
		s := rs[c]
		if s == 0 {
			s = 1
		}
		lo[c] -= OutsideBand * s
		hi[c] += OutsideBand * s
		out[c] = ScaleEntry{Channel: c, ChannelName: real.Channels[c], RealMean: rm[c], RealStd: rs[c],
			FakeMean: fm[c], FakeStd: fs[c], MeanShift: math.Abs(fm[c]-rm[c]) / s}
	}
	for i, v := range fake.Values {
		if c := i % C; v < lo[c] || v > hi[c] {
			outside[c]++
		}
	}
	per := float64(len(fake.Values) / C)
	for c := range C {
		out[c].OutsideFraction = float64(outside[c]) / per
	}
	return out, nil
}

// rawStats is each channel's mean and population standard deviation over all paths and
// times (zero for a constant channel, unlike channelStats).
func rawStats(p *dataset.Paths) (mean, std []float64) {
	C := len(p.Channels)
	mean, std = make([]float64, C), make([]float64, C)
	m := float64(len(p.Values) / C)
	for i, v := range p.Values {
		mean[i%C] += v
	}
	for c := range mean {
		mean[c] /= m
	}
	for i, v := range p.Values {
		d := v - mean[i%C]
		std[i%C] += d * d
	}
	for c := range std {
		std[c] = math.Sqrt(std[c] / m)
	}
	return mean, std
}

// addTrust fills the Report's ratios, scale fields and warnings (the rules are listed
// at Evaluate) once its other fields are set; co is the classifiers' options with
// their defaults applied.
func (r *Report) addTrust(realTest, fake *dataset.Paths, co ClassifyOptions) error {
	var err error
	if r.Scale, err = Scale(realTest, fake); err != nil {
		return err
	}
	if r.MMDFloor > 0 {
		r.MMDRatio = r.MMD / r.MMDFloor
		r.MMDCeilingRatio = r.MMDCeiling / r.MMDFloor
	}
	r.Warnings = []string{}
	warn := func(format string, a ...any) { r.Warnings = append(r.Warnings, fmt.Sprintf(format, a...)) }

	// Scale first: when it fires, nothing else in the report means much.
	var outside float64
	r.ScaleRatioMax = 1
	for _, e := range r.Scale {
		outside += e.OutsideFraction
		switch {
		case e.FakeStd == 0 && e.RealStd > 0:
			warn("generated channel %q is constant (real standard deviation %.3g): the generator has collapsed", e.ChannelName, e.RealStd)
			continue
		case e.RealStd == 0 || e.FakeStd == 0:
			continue
		}
		ratio := max(e.FakeStd/e.RealStd, e.RealStd/e.FakeStd)
		r.ScaleRatioMax = max(r.ScaleRatioMax, ratio)
		if ratio >= ScaleWarn {
			warn("generated channel %q has standard deviation %.3g against the real %.3g (%.3g×): the generator is off by orders of magnitude, whatever the other metrics say",
				e.ChannelName, e.FakeStd, e.RealStd, e.FakeStd/e.RealStd)
		}
	}
	r.OutsideFraction = outside / float64(len(r.Scale))
	if r.OutsideFraction > OutsideWarn {
		warn("%.1f%% of generated values lie more than %d real standard deviations outside the real data's range: the generator is far off the data's scale (did training diverge?), and the MMD, which saturates for far-off paths, understates it",
			100*r.OutsideFraction, OutsideBand)
	}

	n, ntr := classSizes(realTest.N, fake.N, co)
	if k := 2 * (n - ntr); k < MinClassifierTestPaths {
		warn("the classifiers are tested on only %d paths (%d real test paths, %d generated): a perfect generator's accuracy scatters over 0.5 ± %.2f (95%%), so an accuracy inside that band says nothing; use at least %d real test paths (and as many generated, --eval-paths)",
			k, realTest.N, fake.N, 1.96*0.5/math.Sqrt(float64(k)), int(math.Ceil(MinClassifierTestPaths/(2*(1-co.TrainFrac)))))
	}
	if r.MMDFloor > 0 && r.MMDCeilingRatio < MinMMDResolution {
		warn("the real test set (%d paths) is too small for the MMD: a generated set however far off scores at most %.1f× the floor here, so \"a few times the floor\" cannot be told from \"entirely wrong\"",
			realTest.N, r.MMDCeilingRatio)
	}
	return nil
}

// Summary is one metric's distribution over draws.
type Summary struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// Spread is how much the headline metrics move between draws (see EvaluateDraws).
type Spread struct {
	Draws                  int     `json:"draws"`
	MMDRatio               Summary `json:"mmd_ratio"`
	MMD                    Summary `json:"mmd"`
	MMDFloor               Summary `json:"mmd_floor"`
	KSMax                  Summary `json:"ks_max"`
	KSMaxFloor             Summary `json:"ks_max_floor"`
	ClassifierAccuracy     Summary `json:"classifier_accuracy"`
	RawClassifierAccuracy  Summary `json:"raw_classifier_accuracy"`
	RawClassifierFloor     Summary `json:"raw_classifier_floor"`
	TSTRMSE                Summary `json:"tstr_mse"`
	CorrLastFirstMaxDiff   Summary `json:"corr_last_first_max_diff"`
	IncrementStdMaxRelDiff Summary `json:"increment_std_max_rel_diff"`
}

// DrawSeed is the seed of draw k derived from seed: seed itself for k = 0, so that a
// single draw is what the seed alone gives; for k > 0 a SplitMix64 mix of seed and k.
func DrawSeed(seed uint64, k int) uint64 {
	if k == 0 {
		return seed
	}
	z := seed + uint64(k)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// EvaluateDraws evaluates each generated set fakes[k] (independent draws from one
// model) against the same real sets with metric seed DrawSeed(opt.Seed, k), and
// returns draw 0's Report — what Evaluate(realTrain, realTest, fakes[0], opt) returns —
// with Spread holding each headline metric's median, minimum and maximum over all the
// draws (nil for a single draw). The spread covers both what the generated sample and
// what the metrics' own random choices (subsamples, splits) put into a number.
func EvaluateDraws(realTrain, realTest *dataset.Paths, fakes []*dataset.Paths, opt Options) (Report, error) {
	return EvaluateDrawsContext(context.Background(), realTrain, realTest, fakes, opt)
}

// EvaluateDrawsContext is EvaluateDraws, giving up with ctx's error between draws once
// ctx is done (an interrupted training run stops within one draw's metrics).
func EvaluateDrawsContext(ctx context.Context, realTrain, realTest *dataset.Paths, fakes []*dataset.Paths, opt Options) (Report, error) {
	if len(fakes) == 0 {
		return Report{}, fmt.Errorf("%w: no generated sets to evaluate", errBadOption)
	}
	reps := make([]Report, len(fakes))
	for k, fake := range fakes {
		if err := ctx.Err(); err != nil {
			return Report{}, err
		}
		o := opt
		o.Seed = DrawSeed(opt.Seed, k)
		var trtr *float64
		if k > 0 {
			trtr = &reps[0].TRTRMSE
		}
		var err error
		if reps[k], err = evaluate(realTrain, realTest, fake, o, trtr); err != nil {
			return Report{}, err
		}
	}
	r := reps[0]
	if len(reps) > 1 {
		sum := func(f func(Report) float64) Summary {
			v := make([]float64, len(reps))
			for k, rep := range reps {
				v[k] = f(rep)
			}
			return summarise(v)
		}
		r.Spread = &Spread{
			Draws:                  len(reps),
			MMDRatio:               sum(func(r Report) float64 { return r.MMDRatio }),
			MMD:                    sum(func(r Report) float64 { return r.MMD }),
			MMDFloor:               sum(func(r Report) float64 { return r.MMDFloor }),
			KSMax:                  sum(func(r Report) float64 { return r.KSMax }),
			KSMaxFloor:             sum(func(r Report) float64 { return r.KSMaxFloor }),
			ClassifierAccuracy:     sum(func(r Report) float64 { return r.ClassifierAccuracy }),
			RawClassifierAccuracy:  sum(func(r Report) float64 { return r.RawClassifierAccuracy }),
			RawClassifierFloor:     sum(func(r Report) float64 { return r.RawClassifierFloor }),
			TSTRMSE:                sum(func(r Report) float64 { return r.TSTRMSE }),
			CorrLastFirstMaxDiff:   sum(func(r Report) float64 { return r.CorrLastFirstMaxDiff }),
			IncrementStdMaxRelDiff: sum(func(r Report) float64 { return r.IncrementStdMaxRelDiff }),
		}
	}
	return r, nil
}

// summarise is the median (the mean of the middle two for an even count), minimum and
// maximum of v (not empty).
func summarise(v []float64) Summary {
	s := slices.Sorted(slices.Values(v))
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return Summary{Median: med, Min: s[0], Max: s[n-1]}
}
