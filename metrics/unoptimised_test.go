package metrics

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat"

	"github.com/gosde/gosde/dataset"
)

// withStart adds to every value of each path and channel one draw of N(0, s²), so that
// the paths start at random and their ends remember it.
func withStart(p *dataset.Paths, s float64, seed uint64) *dataset.Paths {
	rng := rand.New(rand.NewPCG(seed, 11))
	T, C := len(p.Times), len(p.Channels)
	for n := range p.N {
		for c := range C {
			z := s * rng.NormFloat64()
			for t := range T {
				p.Values[(n*T+t)*C+c] += z
			}
		}
	}
	return p
}

func TestElevenTimes(t *testing.T) {
	for _, c := range []struct {
		T    int
		want []int
	}{
		// round(k·6.3): 6.3 → 6, 31.5 → 32 (half away from zero), 44.1 → 44, 56.7 → 57.
		{64, []int{0, 6, 13, 19, 25, 32, 38, 44, 50, 57, 63}},
		{21, []int{0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20}},
		{11, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{6, []int{0, 1, 2, 3, 4, 5}}, // round(k/2) repeats
		{3, []int{0, 1, 2}},
		{2, []int{0, 1}},
		{1, []int{0}},
		{0, nil},
		{-1, nil},
	} {
		if got := ElevenTimes(c.T); !slices.Equal(got, c.want) {
			t.Errorf("ElevenTimes(%d) = %v, want %v", c.T, got, c.want)
		}
	}
}

func TestIncrementTimes(t *testing.T) {
	for _, c := range []struct {
		T    int
		want []int
	}{
		{64, []int{25, 62}}, // round(25.2); the increment ending at 63
		{11, []int{4, 9}},
		{4, []int{1, 2}}, // round(1.2)
		{3, []int{1}},    // round(0.8) = T − 2
		{2, []int{0}},
		{1, nil},
	} {
		if got := IncrementTimes(c.T); !slices.Equal(got, c.want) {
			t.Errorf("IncrementTimes(%d) = %v, want %v", c.T, got, c.want)
		}
	}
}

func TestRawClassify(t *testing.T) {
	const n, T, C = 1000, 16, 2
	a := brownian(n, T, C, 0, 1, 61)
	b := brownian(n, T, C, 0, 1, 62)
	// Drift 6 in both channels: the endpoints alone are 6√2 standard deviations
	// apart, Bayes accuracy Φ(3√2) ≈ 0.99999.
	c := brownian(n, T, C, 6, 1, 63)
	opt := ClassifyOptions{Seed: 3}
	same, err := RawClassify(a, b, opt)
	if err != nil {
		t.Fatal(err)
	}
	diff, err := RawClassify(a, c, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("raw classifier: same law %.4f, drift 6 %.4f", same, diff)
	// 2·300 test paths: under one law the accuracy has standard deviation
	// √(0.25/600) ≈ 0.020; the band is 3.4 of them.
	if math.Abs(same-0.5) > 0.07 {
		t.Errorf("same law: accuracy %v, want 0.5 ± 0.07", same)
	}
	if diff < 0.98 {
		t.Errorf("drift 6: accuracy %v, want ≈ 1", diff)
	}
	if again, _ := RawClassify(a, c, opt); again != diff {
		t.Error("RawClassify not deterministic")
	}
	if _, err := RawClassify(a, brownian(n, T+1, C, 0, 1, 64), opt); err == nil {
		t.Error("RawClassify accepted paths on another grid")
	}
	if _, err := RawClassify(a, b, ClassifyOptions{Lambda: -1}); err == nil {
		t.Error("RawClassify accepted a negative penalty")
	}
}

// lastFirstPaths returns 4 paths of 3 times and 3 channels whose first and last
// values are given; the middle values are noise that must not matter.
func lastFirstPaths(first, last [3][4]float64) *dataset.Paths {
	p := brownian(4, 3, 3, 0, 5, 71)
	for c := range 3 {
		for n := range 4 {
			p.Values[(n*3+0)*3+c] = first[c][n]
			p.Values[(n*3+2)*3+c] = last[c][n]
		}
	}
	return p
}

func TestLastFirstCorrelationByHand(t *testing.T) {
	// Channel 0: deviations (−1.5, −0.5, 0.5, 1.5) and (−0.5, −1.5, 1.5, 0.5) give
	// Σxy = 3, Σx² = Σy² = 5, r = 3/5. Channel 1: last = −2·first, r = −1.
	// Channel 2: a constant first value, r = 0 by convention.
	p := lastFirstPaths(
		[3][4]float64{{1, 2, 3, 4}, {1, 2, 3, 4}, {7, 7, 7, 7}},
		[3][4]float64{{2, 1, 4, 3}, {-2, -4, -6, -8}, {1, 5, 2, 0}})
	got, err := LastFirstCorrelation(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0.6, -1, 0}
	for c := range want {
		if math.Abs(got[c]-want[c]) > 1e-15 {
			t.Errorf("channel %d: r = %v, want %v", c, got[c], want[c])
		}
	}
	if _, err := LastFirstCorrelation(nil); err == nil {
		t.Error("nil paths accepted")
	}
}

func TestLastFirstCorrelationConstruction(t *testing.T) {
	// Y_0 = 1 + 2·Z_0 and Y_{T−1} = 3 + 0.5·(ρ Z_0 + √(1−ρ²) Z) have correlation ρ;
	// the sample correlation of n pairs has standard error about (1 − ρ²)/√n.
	const n, T = 20000, 5
	rhos := []float64{0.9, -0.5, 0}
	C := len(rhos)
	p := brownian(n, T, C, 0, 1, 81) // middle times: noise
	rng := rand.New(rand.NewPCG(82, 0))
	for i := range n {
		for c, rho := range rhos {
			z0, z := rng.NormFloat64(), rng.NormFloat64()
			p.Values[(i*T)*C+c] = 1 + 2*z0
			p.Values[(i*T+T-1)*C+c] = 3 + 0.5*(rho*z0+math.Sqrt(1-rho*rho)*z)
		}
	}
	got, err := LastFirstCorrelation(p)
	if err != nil {
		t.Fatal(err)
	}
	for c, rho := range rhos {
		se := (1 - rho*rho) / math.Sqrt(n)
		t.Logf("ρ = %v: r = %.5f (%.2f standard errors)", rho, got[c], (got[c]-rho)/se)
		if math.Abs(got[c]-rho) > 3*se {
			t.Errorf("ρ = %v: r = %v, more than 3 standard errors (%v) away", rho, got[c], se)
		}
	}
}

func TestIncrementStd(t *testing.T) {
	// By hand: increments (1, 2, 3, 4) from different levels: mean 2.5, squared
	// deviations sum to 5, sample standard deviation √(5/3). Channel 1's increment
	// is constant: spread 0.
	p := brownian(4, 3, 2, 0, 1, 91)
	for n := range 4 {
		x := p.Path(n)
		x[1*2+0] = float64(10 * (n + 1))
		x[2*2+0] = float64(11 * (n + 1))
		x[1*2+1] = float64(n)
		x[2*2+1] = float64(n) + 0.5
	}
	got, err := IncrementStd(p, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got[0]-math.Sqrt(5.0/3)) > 1e-14 || got[1] != 0 {
		t.Errorf("IncrementStd = %v, want [√(5/3) 0]", got)
	}

	// Closed form: a Gaussian walk whose step from t has standard deviation
	// s_t = 0.1·(1 + t) has increment spread s_t; the sample standard deviation of n
	// draws has standard error s_t/√(2(n−1)). Neighbouring start indices differ by
	// more than 6 standard errors, so an off-by-one index would fail.
	const n, T = 20000, 64
	q := brownian(n, T, 1, 0, 1, 92)
	rng := rand.New(rand.NewPCG(93, 0))
	for i := range n {
		x := q.Path(i)
		x[0] = 3
		for s := 1; s < T; s++ {
			x[s] = x[s-1] + 0.1*float64(s)*rng.NormFloat64()
		}
	}
	times := []int{0, 24, 25, 26, 61, 62}
	got, err = IncrementStd(q, times)
	if err != nil {
		t.Fatal(err)
	}
	for i, tt := range times {
		want := 0.1 * float64(1+tt)
		se := want / math.Sqrt(2*(n-1))
		if math.Abs(got[i]-want) > 3*se {
			t.Errorf("t = %d: spread %v, want %v ± 3·%v", tt, got[i], want, se)
		}
	}
	for _, bad := range []int{-1, T - 1} {
		if _, err := IncrementStd(q, []int{bad}); err == nil {
			t.Errorf("start index %d accepted", bad)
		}
	}
}

// TestKSFloorScale checks the rescaling of ks_max_floor: over many data sets, the
// rescaled maximum KS between two halves of the real set averages what a perfect
// generator's ks_max does at the real and generated sizes, which the halves'
// unrescaled value (√((1/200+1/200)/(1/400+1/250)) ≈ 1.24 times larger) does not.
func TestKSFloorScale(t *testing.T) {
	const N, M, T, reps = 400, 250, 16, 60
	times := ElevenTimes(T)
	var floor, perfect, raw []float64
	for s := range uint64(reps) {
		real := brownian(N, T, 2, 0, 1, 1000+s)
		fake := brownian(M, T, 2, 0, 1, 5000+s)
		var r Report
		if err := r.addUnoptimised(real, fake, times, ClassifyOptions{MaxPaths: 8}, s); err != nil {
			t.Fatal(err)
		}
		ks, err := maxKS(real, fake, times)
		if err != nil {
			t.Fatal(err)
		}
		floor = append(floor, r.KSMaxFloor)
		perfect = append(perfect, ks)
		a, b := halves(real, s)
		k, _ := maxKS(a, b, times)
		raw = append(raw, k)
	}
	mf, mp, mr := stat.Mean(floor, nil), stat.Mean(perfect, nil), stat.Mean(raw, nil)
	se := math.Hypot(stat.StdDev(floor, nil), stat.StdDev(perfect, nil)) / math.Sqrt(reps)
	t.Logf("mean max KS over %d data sets: floor %.4f, perfect generator %.4f (difference %.1f standard errors), halves unrescaled %.4f",
		reps, mf, mp, (mf-mp)/se, mr)
	if math.Abs(mf-mp) > 3*se {
		t.Errorf("rescaled floor %v against a perfect generator's %v: more than 3 standard errors (%v)", mf, mp, se)
	}
	if mr-mp < 3*se {
		t.Errorf("the unrescaled halves' %v should lie well above a perfect generator's %v", mr, mp)
	}
}

func TestHalves(t *testing.T) {
	p := brownian(9, 3, 2, 0, 1, 101)
	for n := range p.N {
		p.Values[n*6] = float64(n) // label each path
	}
	a, b := halves(p, 7)
	if a.N != 4 || b.N != 5 || len(a.Values) != 4*6 || len(b.Values) != 5*6 {
		t.Fatalf("halves of 9: %d and %d paths", a.N, b.N)
	}
	var seen []int
	for _, h := range []*dataset.Paths{a, b} {
		for n := range h.N {
			k := int(h.Values[n*6])
			seen = append(seen, k)
			if !slices.Equal(h.Path(n), p.Path(k)) {
				t.Errorf("path %d not copied whole", k)
			}
		}
	}
	slices.Sort(seen)
	if !slices.Equal(seen, []int{0, 1, 2, 3, 4, 5, 6, 7, 8}) {
		t.Errorf("halves hold paths %v, want each of 0…8 once", seen)
	}
}

func TestEvaluateUnoptimised(t *testing.T) {
	// Real paths: a Brownian motion on [0, 1] started at N(0, 1), so that
	// corr(Y_1, Y_0) = 1/√(1 + σ²) (1/√2 for σ = 1) and a one-step increment has
	// spread σ/√(T−1).
	const N, M, T = 1600, 1000, 32
	realTrain := withStart(brownian(400, T, 1, 0, 1, 111), 1, 112)
	realTest := withStart(brownian(N, T, 1, 0, 1, 113), 1, 114)
	cases := []struct {
		name        string
		fake        *dataset.Paths
		drift, vol  float64
		distinguish bool // whether the raw classifier can tell
	}{
		{"same law", withStart(brownian(M, T, 1, 0, 1, 115), 1, 116), 0, 1, false},
		{"drift 2", withStart(brownian(M, T, 1, 2, 1, 117), 1, 118), 2, 1, true},
		{"volatility 1.5", withStart(brownian(M, T, 1, 0, 1.5, 119), 1, 120), 0, 1.5, false},
	}
	ksNull := 1.8 * math.Sqrt(1.0/N+1.0/M) // Kolmogorov: P(√(nm/(n+m))·D > 1.8) ≈ 0.3%
	for _, c := range cases {
		r, err := Evaluate(realTrain, realTest, c.fake, Options{Seed: 4})
		if err != nil {
			t.Fatal(err)
		}
		js, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: ks_max %.4f (floor %.4f), raw classifier %.4f (floor %.4f), corr %.4f (real %.4f), increment rel diff %.4f",
			c.name, r.KSMax, r.KSMaxFloor, r.RawClassifierAccuracy, r.RawClassifierFloor,
			r.CorrLastFirst[0].Value, r.CorrLastFirstReal[0].Value, r.IncrementStdMaxRelDiff)

		// Floors: real against real, whatever the generator.
		if !(r.KSMaxFloor > 0 && r.KSMaxFloor < ksNull) {
			t.Errorf("%s: ks_max_floor %v outside (0, %v)", c.name, r.KSMaxFloor, ksNull)
		}
		// Halves of 800: 2·240 test paths, standard deviation 0.023 under one law.
		if math.Abs(r.RawClassifierFloor-0.5) > 0.08 {
			t.Errorf("%s: raw_classifier_floor %v, want 0.5 ± 0.08", c.name, r.RawClassifierFloor)
		}
		// 2·300 test paths: standard deviation 0.020 under one law; a linear rule
		// cannot use a change of spread alone (both laws are symmetric about the
		// same mean path), drift 2 it can (Bayes accuracy Φ(1) ≈ 0.84).
		if c.distinguish && r.RawClassifierAccuracy < 0.75 ||
			!c.distinguish && math.Abs(r.RawClassifierAccuracy-0.5) > 0.07 {
			t.Errorf("%s: raw_classifier_accuracy %v", c.name, r.RawClassifierAccuracy)
		}
		if same := c.drift == 0 && c.vol == 1; same != (r.KSMax < ksNull) {
			t.Errorf("%s: ks_max %v against the null bound %v", c.name, r.KSMax, ksNull)
		}

		// Correlation: closed form, standard error (1 − ρ²)/√n.
		for _, e := range []struct {
			got  ChannelValue
			vol  float64
			n    int
			name string
		}{{r.CorrLastFirst[0], c.vol, M, "fake"}, {r.CorrLastFirstReal[0], 1, N, "real"}} {
			rho := 1 / math.Sqrt(1+e.vol*e.vol)
			if se := (1 - rho*rho) / math.Sqrt(float64(e.n)); math.Abs(e.got.Value-rho) > 3*se || e.got.ChannelName != "a" {
				t.Errorf("%s: %s corr_last_first %+v, want %v ± 3·%v", c.name, e.name, e.got, rho, se)
			}
		}
		if d := math.Abs(r.CorrLastFirst[0].Value - r.CorrLastFirstReal[0].Value); r.CorrLastFirstMaxDiff != d {
			t.Errorf("%s: corr_last_first_max_diff %v, want %v", c.name, r.CorrLastFirstMaxDiff, d)
		}

		// Increment spread: σ/√(T−1) at start indices 12 and 30, standard error
		// spread/√(2(n−1)); the largest relative difference is near |vol − 1|.
		if len(r.IncrementStd) != 2 || len(r.IncrementStdReal) != 2 {
			t.Fatalf("%s: increment entries %+v %+v", c.name, r.IncrementStd, r.IncrementStdReal)
		}
		for i, want := range []int{12, 30} {
			f, g := r.IncrementStd[i], r.IncrementStdReal[i]
			if f.Time != want || g.Time != want || f.TimeValue != realTest.Times[want] || f.ChannelName != "a" {
				t.Errorf("%s: increment entry %d: %+v %+v", c.name, i, f, g)
			}
			for _, e := range []struct {
				got, vol float64
				n        int
			}{{f.Std, c.vol, M}, {g.Std, 1, N}} {
				s := e.vol / math.Sqrt(T-1)
				if se := s / math.Sqrt(2*float64(e.n-1)); math.Abs(e.got-s) > 3*se {
					t.Errorf("%s: increment spread at %d: %v, want %v ± 3·%v", c.name, want, e.got, s, se)
				}
			}
		}
		// Each relative error of a spread is within 3·1/√(2n) ≈ 0.07 of its mean.
		if math.Abs(r.IncrementStdMaxRelDiff-math.Abs(c.vol-1)) > 0.15 {
			t.Errorf("%s: increment_std_max_rel_diff %v, want ≈ %v", c.name, r.IncrementStdMaxRelDiff, math.Abs(c.vol-1))
		}
		for _, key := range []string{`"ks_max_floor":`, `"raw_classifier_accuracy":`, `"raw_classifier_floor":`,
			`"corr_last_first":[{"channel":0,"channel_name":"a","value":`, `"corr_last_first_real":[{`,
			`"corr_last_first_max_diff":`, `"increment_std":[{"time":12,`, `"increment_std_real":[{"time":12,`,
			`"increment_std_max_rel_diff":`} {
			if !strings.Contains(string(js), key) {
				t.Errorf("%s: JSON lacks %s", c.name, key)
			}
		}
	}

	// The floors need two halves of MinPaths.
	if _, err := Evaluate(realTrain, brownian(7, T, 1, 0, 1, 121), realTest, Options{}); err == nil ||
		!strings.Contains(err.Error(), "real-vs-real floors") {
		t.Errorf("Evaluate with 7 real test paths: %v", err)
	}
}
