package metrics

import (
	"github.com/gosde/gosde/dataset"
)

// Options configures Evaluate. Zero values select each metric's defaults.
type Options struct {
	// Seed drives every random choice: Evaluate overrides MMD.Seed and Classify.Seed
	// with values derived from it, so a Report is determined by the inputs, the
	// options and Seed.
	Seed uint64
	// MMD configures MMDWithFloor (Seed ignored, see above). A zero Bandwidth is
	// replaced by MedianBandwidth on the real test set, and that one σ is used for both.
	MMD MMDOptions
	// Classify configures the classifier (Seed ignored, see above).
	Classify ClassifyOptions
	// Predict configures both ridge predictors.
	Predict PredictOptions
	// KSTimes are the time indices of the marginal KS statistics; nil selects
	// ElevenTimes(T).
	KSTimes []int
}

// KSEntry is one marginal Kolmogorov–Smirnov statistic.
type KSEntry struct {
	Time        int     `json:"time"`         // time index into Times
	TimeValue   float64 `json:"time_value"`   // Times[Time]
	Channel     int     `json:"channel"`      // channel index
	ChannelName string  `json:"channel_name"` // Channels[Channel]
	D           float64 `json:"d"`            // two-sample KS statistic
}

// Report is the result of Evaluate, ready for encoding/json.
type Report struct {
	MMD                float64   `json:"mmd"`               // MMD², half of real test vs fake (MMDWithFloor)
	MMDFloor           float64   `json:"mmd_floor"`         // MMD², that half vs other real test paths
	MMDRatio           float64   `json:"mmd_ratio"`         // mmd / mmd_floor
	MMDCeiling         float64   `json:"mmd_ceiling"`       // the largest mmd any generated set can score against the same halves
	MMDCeilingRatio    float64   `json:"mmd_ceiling_ratio"` // mmd_ceiling / mmd_floor
	SignatureDepth     int       `json:"signature_depth"`   // MMD signature depth
	Bandwidth          float64   `json:"bandwidth"`         // MMD kernel bandwidth σ
	KS                 []KSEntry `json:"ks"`
	KSMax              float64   `json:"ks_max"`              // max of KS[].D
	ClassifierAccuracy float64   `json:"classifier_accuracy"` // 0.5 = indistinguishable
	TSTRMSE            float64   `json:"tstr_mse"`            // Predict(fake, realTest)
	TRTRMSE            float64   `json:"trtr_mse"`            // Predict(realTrain, realTest)

	// Statistics the signature-kernel training objective does not optimise, each
	// beside its real-vs-real scale (see addUnoptimised in unoptimised.go).
	KSMaxFloor             float64          `json:"ks_max_floor"`               // ks_max between two real halves, rescaled to ks_max's sizes
	RawClassifierAccuracy  float64          `json:"raw_classifier_accuracy"`    // RawClassify(realTest, fake); 0.5 = indistinguishable
	RawClassifierFloor     float64          `json:"raw_classifier_floor"`       // RawClassify between two real halves
	CorrLastFirst          []ChannelValue   `json:"corr_last_first"`            // LastFirstCorrelation(fake)
	CorrLastFirstReal      []ChannelValue   `json:"corr_last_first_real"`       // LastFirstCorrelation(realTest)
	CorrLastFirstMaxDiff   float64          `json:"corr_last_first_max_diff"`   // max over channels of |fake − real|
	IncrementStd           []IncrementEntry `json:"increment_std"`              // IncrementStd(fake, IncrementTimes(T))
	IncrementStdReal       []IncrementEntry `json:"increment_std_real"`         // IncrementStd(realTest, IncrementTimes(T))
	IncrementStdMaxRelDiff float64          `json:"increment_std_max_rel_diff"` // max of |fake/real − 1| where real > 0

	// Whether the numbers above can be trusted (see addTrust in trust.go).
	Scale           []ScaleEntry `json:"scale"`            // Scale(realTest, fake)
	ScaleRatioMax   float64      `json:"scale_ratio_max"`  // max over channels of max(fake std/real std, its inverse)
	OutsideFraction float64      `json:"outside_fraction"` // mean over channels of Scale[].OutsideFraction
	Warnings        []string     `json:"warnings"`         // what makes the numbers above mean less than they seem
	// Spread is each headline metric over several draws (EvaluateDraws); nil for one.
	Spread *Spread `json:"spread,omitempty"`
}

// Evaluate runs every metric, comparing the generated paths fake with the held-out real
// paths realTest (which the generator was not trained on); realTrain serves only as the
// training set of the TRTR predictor:
//
//	mmd, mmd_floor      = MMDWithFloor(realTest, fake, opt.MMD), σ = bandwidth
//	ks                  = MarginalKS(realTest, fake, opt.KSTimes or ElevenTimes(T)), ks_max its maximum
//	classifier_accuracy = Classify(realTest, fake, opt.Classify)
//	tstr_mse            = Predict(fake, realTest, opt.Predict)
//	trtr_mse            = Predict(realTrain, realTest, opt.Predict)
//
// and, because a generator trained on a signature-kernel score can satisfy the
// signature metrics above for the objective's reasons, statistics that objective does
// not optimise, each beside its real-vs-real scale:
//
//	raw_classifier_accuracy   = RawClassify(realTest, fake, opt.Classify), same paths and split as Classify
//	raw_classifier_floor      = RawClassify(A, B, opt.Classify), A and B two disjoint random halves of realTest
//	ks_max_floor              = max of MarginalKS(A, B, same times) · √((1/N + 1/M)/(1/|A| + 1/|B|)),
//	                            N = realTest.N, M = fake.N: on average what a perfect generator's ks_max scores
//	corr_last_first(_real)    = LastFirstCorrelation(fake), of realTest; corr_last_first_max_diff
//	increment_std(_real)      = IncrementStd(fake, IncrementTimes(T)), of realTest; increment_std_max_rel_diff
//
// and what decides whether the numbers can be trusted:
//
//	mmd_ratio, mmd_ceiling_ratio = mmd / mmd_floor, mmd_ceiling / mmd_floor, where mmd_ceiling is the mean
//	                               over the same splits of (mean kernel within A) + 1, the largest mmd any
//	                               generated set can score (m identical paths infinitely far from all real ones)
//	scale                        = Scale(realTest, fake); scale_ratio_max the largest std ratio either way,
//	                               outside_fraction the channels' mean OutsideFraction
//	warnings                     = one sentence for each rule below that fires (an empty list when none):
//	  - a generated channel is constant where the real one is not;
//	  - a channel's std ratio, either way, is ≥ ScaleWarn (10);
//	  - outside_fraction > OutsideWarn (1%): values beyond the real range by OutsideBand (3) real stds;
//	  - the classifiers' test set, 2·(n − round(TrainFrac·n)) paths with n = min(realTest.N, fake.N,
//	    MaxPaths), holds fewer than MinClassifierTestPaths (100) — the 95% band of a perfect generator's
//	    accuracy is then wider than 0.5 ± 0.1;
//	  - mmd_ceiling_ratio < MinMMDResolution (10): the MMD cannot separate a model from the data.
//
// All three sets must share Times and Channels and hold at least MinPaths paths each,
// realTest at least 2·MinPaths (for its two halves).
func Evaluate(realTrain, realTest, fake *dataset.Paths, opt Options) (Report, error) {
	return evaluate(realTrain, realTest, fake, opt, nil)
}

// evaluate is Evaluate; trtr, when not nil, is the TRTR MSE already computed (it
// depends on neither the generated set nor the seed, so EvaluateDraws fits it once).
func evaluate(realTrain, realTest, fake *dataset.Paths, opt Options, trtr *float64) (Report, error) {
	var r Report
	if err := checkPair("real test", realTest, "fake", fake); err != nil {
		return r, err
	}
	if err := checkPair("real test", realTest, "real train", realTrain); err != nil {
		return r, err
	}
	mo, err := opt.MMD.withDefaults()
	if err != nil {
		return r, err
	}
	mo.Seed = opt.Seed
	if mo.Bandwidth == 0 {
		if mo.Bandwidth, err = MedianBandwidth(realTest, mo); err != nil {
			return r, err
		}
	}
	r.SignatureDepth, r.Bandwidth = mo.Depth, mo.Bandwidth
	if r.MMD, r.MMDFloor, r.MMDCeiling, err = mmdFloorCeiling(realTest, fake, mo); err != nil {
		return r, err
	}

	times := opt.KSTimes
	if times == nil {
		times = ElevenTimes(len(realTest.Times))
	}
	ks, err := MarginalKS(realTest, fake, times)
	if err != nil {
		return r, err
	}
	C := len(realTest.Channels)
	r.KS = make([]KSEntry, len(ks))
	for i, d := range ks {
		t, c := times[i/C], i%C
		r.KS[i] = KSEntry{Time: t, TimeValue: realTest.Times[t], Channel: c, ChannelName: realTest.Channels[c], D: d}
		r.KSMax = max(r.KSMax, d)
	}

	co := opt.Classify
	co.Seed = opt.Seed ^ 0x9e3779b97f4a7c15
	if r.ClassifierAccuracy, err = Classify(realTest, fake, co); err != nil {
		return r, err
	}
	if err := r.addUnoptimised(realTest, fake, times, co, opt.Seed); err != nil {
		return r, err
	}
	if r.TSTRMSE, err = Predict(fake, realTest, opt.Predict); err != nil {
		return r, err
	}
	if trtr != nil {
		r.TRTRMSE = *trtr
	} else if r.TRTRMSE, err = Predict(realTrain, realTest, opt.Predict); err != nil {
		return r, err
	}
	if co, err = co.withDefaults(); err != nil {
		return r, err
	}
	return r, r.addTrust(realTest, fake, co)
}
