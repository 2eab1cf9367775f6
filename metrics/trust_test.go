package metrics

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gosde/gosde/dataset"
)

func TestScaleByHand(t *testing.T) {
	// Two channels, 2 times, each path twice (MinPaths). Real channel a: values 0, 2
	// (mean 1, std 1, range [0, 2], band [−3, 5]); channel b constant 7 (std 0, taken
	// as 1: band [4, 10]).
	real := &dataset.Paths{N: 4, Times: []float64{0, 1}, Channels: []string{"a", "b"},
		Values: []float64{0, 7, 2, 7, 0, 7, 2, 7, 0, 7, 2, 7, 0, 7, 2, 7}}
	// Fake a: −4, 6, 1, 1 (mean 1, std √12.5; −4 and 6 outside [−3, 5]); b: 7, 7, 7, 11
	// (mean 8, std √3; 11 outside [4, 10]).
	fake := &dataset.Paths{N: 4, Times: []float64{0, 1}, Channels: []string{"a", "b"},
		Values: []float64{-4, 7, 6, 7, 1, 7, 1, 11, -4, 7, 6, 7, 1, 7, 1, 11}}
	got, err := Scale(real, fake)
	if err != nil {
		t.Fatal(err)
	}
	want := []ScaleEntry{
		{Channel: 0, ChannelName: "a", RealMean: 1, RealStd: 1, FakeMean: 1, FakeStd: math.Sqrt(12.5), MeanShift: 0, OutsideFraction: 0.5},
		{Channel: 1, ChannelName: "b", RealMean: 7, RealStd: 0, FakeMean: 8, FakeStd: math.Sqrt(3), MeanShift: 1, OutsideFraction: 0.25},
	}
	for c := range want {
		g, w := got[c], want[c]
		if g.Channel != w.Channel || g.ChannelName != w.ChannelName || g.OutsideFraction != w.OutsideFraction {
			t.Errorf("channel %d: %+v, want %+v", c, g, w)
		}
		for _, p := range [][2]float64{{g.RealMean, w.RealMean}, {g.RealStd, w.RealStd}, {g.FakeMean, w.FakeMean},
			{g.FakeStd, w.FakeStd}, {g.MeanShift, w.MeanShift}} {
			if math.Abs(p[0]-p[1]) > 1e-12 {
				t.Errorf("channel %d: %+v, want %+v", c, g, w)
				break
			}
		}
	}
}

// scaled returns p with every value multiplied by k.
func scaled(p *dataset.Paths, k float64) *dataset.Paths {
	q := clonePaths(p)
	for i := range q.Values {
		q.Values[i] *= k
	}
	return q
}

func hasWarning(r Report, part string) bool {
	for _, w := range r.Warnings {
		if strings.Contains(w, part) {
			return true
		}
	}
	return false
}

// A generator a million times off the data's scale saturates the Gaussian kernel: the
// MMD of its paths is then near the ceiling rather than "orders of magnitude" above the
// floor, so the report must say so by other means.
func TestFarOffModelIsFlagged(t *testing.T) {
	const T = 32
	realTrain := brownian(400, T, 1, 0, 1, 301)
	realTest := brownian(400, T, 1, 0, 1, 302)
	good := brownian(400, T, 1, 0, 1, 303)
	far := scaled(brownian(400, T, 1, 0, 1, 304), 1e6)

	r, err := Evaluate(realTrain, realTest, good, Options{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Warnings) != 0 || r.OutsideFraction != 0 || r.ScaleRatioMax > 1.2 {
		t.Errorf("a generator of the data's law: warnings %q, outside %v, scale ratio %v", r.Warnings, r.OutsideFraction, r.ScaleRatioMax)
	}
	js, _ := json.Marshal(r)
	for _, key := range []string{`"warnings":[]`, `"mmd_ratio":`, `"mmd_ceiling":`, `"mmd_ceiling_ratio":`, `"scale":[{`,
		`"scale_ratio_max":`, `"outside_fraction":`} {
		if !strings.Contains(string(js), key) {
			t.Errorf("JSON lacks %s", key)
		}
	}
	if strings.Contains(string(js), `"spread"`) {
		t.Error("a single evaluation reports a spread")
	}

	r, err = Evaluate(realTrain, realTest, far, Options{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("1e6× off: mmd %.4g = %.1f× the floor, ceiling %.1f× it; outside %.3f, scale ratio %.3g; warnings %q",
		r.MMD, r.MMDRatio, r.MMDCeilingRatio, r.OutsideFraction, r.ScaleRatioMax, r.Warnings)
	// Brownian paths start at 0, inside the real range: the 31 later times lie outside.
	if r.OutsideFraction < 0.9 || math.Abs(r.ScaleRatioMax-1e6) > 2e5 {
		t.Errorf("outside fraction %v, scale ratio %v; want ≥ 0.9 and ≈ 1e6", r.OutsideFraction, r.ScaleRatioMax)
	}
	if !hasWarning(r, "orders of magnitude") || !hasWarning(r, "outside the real data's range") {
		t.Errorf("warnings %q do not flag the scale", r.Warnings)
	}
	if !(r.MMD <= r.MMDCeiling) || r.MMDRatio != r.MMD/r.MMDFloor || r.MMDCeilingRatio != r.MMDCeiling/r.MMDFloor {
		t.Errorf("mmd %v, floor %v, ceiling %v, ratios %v %v", r.MMD, r.MMDFloor, r.MMDCeiling, r.MMDRatio, r.MMDCeilingRatio)
	}

	// Identical paths infinitely far off reach the ceiling exactly: every cross kernel
	// value is 0 and the generated set's own term is 1. (Far off in their increments:
	// a signature does not see a path's level, so each rises from 0 to 1e6.)
	line := brownian(400, T, 1, 0, 1, 305)
	for i := range line.Values {
		line.Values[i] = 1e6 * line.Times[i%T]
	}
	r, err = Evaluate(realTrain, realTest, line, Options{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if r.MMD != r.MMDCeiling || !hasWarning(r, "orders of magnitude") {
		t.Errorf("identical far paths: mmd %v ceiling %v, warnings %q", r.MMD, r.MMDCeiling, r.Warnings)
	}
	// A constant generator is collapsed, and here outside the range everywhere.
	for i := range line.Values {
		line.Values[i] = 1e6
	}
	if r, err = Evaluate(realTrain, realTest, line, Options{Seed: 3}); err != nil {
		t.Fatal(err)
	}
	if r.OutsideFraction != 1 || !hasWarning(r, "collapsed") {
		t.Errorf("constant far paths: outside %v, warnings %q", r.OutsideFraction, r.Warnings)
	}
}

func TestSmallTestSetWarnings(t *testing.T) {
	const T = 16
	realTrain := brownian(200, T, 1, 0, 1, 311)
	fake := brownian(1000, T, 1, 0, 1, 312)
	cases := []struct {
		nTest           int
		classifier, mmd bool
		testPaths       string
	}{
		// n = min(nTest, 1000); classifier test paths 2(n − round(0.7n)).
		{8, true, true, "tested on only 4 paths"},     // 2·(8 − 6)
		{20, true, false, "tested on only 12 paths"},  // 2·(20 − 14)
		{164, true, false, "tested on only 98 paths"}, // 2·(164 − 115)
		{165, false, false, ""},                       // 2·(165 − 115) = 100
		{600, false, false, ""},
	}
	for _, c := range cases {
		r, err := Evaluate(realTrain, brownian(c.nTest, T, 1, 0, 1, 313), fake, Options{Seed: 2})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d test paths: ceiling %.1f× the floor; warnings %q", c.nTest, r.MMDCeilingRatio, r.Warnings)
		if got := hasWarning(r, "classifiers are tested on only"); got != c.classifier || c.classifier && !hasWarning(r, c.testPaths) {
			t.Errorf("%d test paths: classifier warning %v, want %v (%q): %q", c.nTest, got, c.classifier, c.testPaths, r.Warnings)
		}
		if got := hasWarning(r, "too small for the MMD"); got != c.mmd || got != (r.MMDCeilingRatio < MinMMDResolution) {
			t.Errorf("%d test paths: MMD warning %v, want %v (ceiling ratio %v)", c.nTest, got, c.mmd, r.MMDCeilingRatio)
		}
	}
}

func TestDrawSeed(t *testing.T) {
	seen := map[uint64]bool{}
	for _, s := range []uint64{0, 1, 2} {
		if DrawSeed(s, 0) != s {
			t.Errorf("DrawSeed(%d, 0) = %d, want the seed itself", s, DrawSeed(s, 0))
		}
		for k := range 16 {
			v := DrawSeed(s, k)
			if seen[v] {
				t.Errorf("DrawSeed(%d, %d) = %d repeats an earlier seed", s, k, v)
			}
			seen[v] = true
		}
	}
}

func TestSummarise(t *testing.T) {
	for _, c := range []struct {
		v    []float64
		want Summary
	}{
		{[]float64{3}, Summary{3, 3, 3}},
		{[]float64{5, 1, 3}, Summary{3, 1, 5}},
		{[]float64{4, 1, 2, 10}, Summary{3, 1, 10}},
	} {
		if got := summarise(c.v); got != c.want {
			t.Errorf("summarise(%v) = %+v, want %+v", c.v, got, c.want)
		}
	}
}

func TestEvaluateDraws(t *testing.T) {
	const T = 16
	realTrain := brownian(200, T, 1, 0, 1, 321)
	realTest := brownian(300, T, 1, 0, 1, 322)
	fakes := []*dataset.Paths{brownian(200, T, 1, 0.3, 1, 323), brownian(200, T, 1, 0.3, 1, 324), brownian(200, T, 1, 0.3, 1, 325)}
	opt := Options{Seed: 7}
	got, err := EvaluateDraws(realTrain, realTest, fakes, opt)
	if err != nil {
		t.Fatal(err)
	}
	// Independently: each draw evaluated on its own with its seed.
	var each []Report
	for k, f := range fakes {
		o := opt
		o.Seed = DrawSeed(opt.Seed, k)
		r, err := Evaluate(realTrain, realTest, f, o)
		if err != nil {
			t.Fatal(err)
		}
		each = append(each, r)
	}
	if got.Spread == nil || got.Spread.Draws != 3 {
		t.Fatalf("spread %+v", got.Spread)
	}
	g := got
	g.Spread = nil
	a, _ := json.Marshal(g)
	b, _ := json.Marshal(each[0])
	if string(a) != string(b) {
		t.Errorf("draw 0's report differs from Evaluate's:\n%s\n%s", a, b)
	}
	for _, c := range []struct {
		name string
		got  Summary
		f    func(Report) float64
	}{
		{"mmd_ratio", got.Spread.MMDRatio, func(r Report) float64 { return r.MMD / r.MMDFloor }},
		{"ks_max", got.Spread.KSMax, func(r Report) float64 { return r.KSMax }},
		{"classifier_accuracy", got.Spread.ClassifierAccuracy, func(r Report) float64 { return r.ClassifierAccuracy }},
		{"raw_classifier_accuracy", got.Spread.RawClassifierAccuracy, func(r Report) float64 { return r.RawClassifierAccuracy }},
		{"tstr_mse", got.Spread.TSTRMSE, func(r Report) float64 { return r.TSTRMSE }},
	} {
		v := []float64{c.f(each[0]), c.f(each[1]), c.f(each[2])}
		slices.Sort(v)
		if c.got != (Summary{v[1], v[0], v[2]}) {
			t.Errorf("%s: %+v, want median, min, max of %v", c.name, c.got, v)
		}
	}
	if _, err := EvaluateDraws(realTrain, realTest, nil, opt); err == nil {
		t.Error("no generated sets accepted")
	}
}
