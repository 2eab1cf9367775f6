package metrics

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/gosde/gosde/dataset"
)

func TestMMDSameVersusDifferentLaw(t *testing.T) {
	const n, T = 300, 32
	a := brownian(n, T, 1, 0, 1, 1)
	b := brownian(n, T, 1, 0, 1, 2) // same law, independent sample
	c := brownian(n, T, 1, 1, 1, 3) // drift 1
	d := brownian(n, T, 1, 0, 1.5, 4)
	opt := MMDOptions{Seed: 5}
	same, err := MMD(a, b, opt)
	if err != nil {
		t.Fatal(err)
	}
	drift, _ := MMD(a, c, opt)
	vol, _ := MMD(a, d, opt)
	floor, err := MMDFloor(a, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("MMD² same law %.5f, floor %.5f, drift %.5f, vol×1.5 %.5f", same, floor, drift, vol)
	if math.Abs(same) > 0.01 || math.Abs(floor) > 0.02 {
		t.Errorf("same-law MMD² %v / floor %v not near 0", same, floor)
	}
	if drift < 10*math.Abs(same)+0.05 || vol < 10*math.Abs(same)+0.02 {
		t.Errorf("different laws not separated: same %v, drift %v, vol %v", same, drift, vol)
	}
	// Determinism, and the bandwidth both use.
	again, _ := MMD(a, c, opt)
	if again != drift {
		t.Error("MMD not deterministic")
	}
	sig, err := MedianBandwidth(a, opt)
	if err != nil || !(sig > 0) {
		t.Fatalf("MedianBandwidth = %v, %v", sig, err)
	}
	withSig, _ := MMD(a, c, MMDOptions{Seed: 5, Bandwidth: sig})
	if withSig != drift {
		t.Errorf("MMD with explicit median σ %v differs from default %v", withSig, drift)
	}
	withSigFloor, _ := MMDFloor(a, MMDOptions{Seed: 5, Bandwidth: sig})
	if withSigFloor != floor {
		t.Errorf("MMDFloor with explicit median σ %v differs from default %v", withSigFloor, floor)
	}
	// Identical sets give an unbiased estimate slightly below 0 (the within terms
	// leave out the diagonal the cross term keeps).
	self, _ := MMD(a, a, opt)
	if self > 0 || self < -0.05 {
		t.Errorf("MMD(a, a) = %v", self)
	}
}

func TestMMDMaxPathsSubsamples(t *testing.T) {
	a := brownian(200, 16, 2, 0, 1, 11)
	c := brownian(150, 16, 2, 2, 1, 12)
	capped, err := MMD(a, c, MMDOptions{MaxPaths: 50, Seed: 1, Depth: 2})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := MMD(a, c, MMDOptions{MaxPaths: 50, Seed: 2, Depth: 2})
	if capped == other {
		t.Error("seed does not change the subsample")
	}
	if capped < 0.1 {
		t.Errorf("capped MMD² %v does not see the drift", capped)
	}
}

func TestKSHandComputed(t *testing.T) {
	cases := []struct {
		a, b []float64
		want float64
	}{
		{[]float64{1, 2, 3, 4}, []float64{3, 4, 5, 6}, 0.5},
		{[]float64{1, 2, 2, 3}, []float64{2, 2, 2, 4}, 0.25}, // ties: F jumps together at 2
		{[]float64{1, 2, 3}, []float64{4, 5}, 1},
		{[]float64{1, 2, 3}, []float64{3, 2, 1}, 0},
		{[]float64{0, 10}, []float64{5}, 0.5},
	}
	for _, c := range cases {
		got, err := KSStatistic(c.a, c.b)
		if err != nil || math.Abs(got-c.want) > 1e-15 {
			t.Errorf("KS(%v, %v) = %v, %v; want %v", c.a, c.b, got, err, c.want)
		}
	}
	if _, err := KSStatistic(nil, []float64{1}); err == nil {
		t.Error("empty sample accepted")
	}
	if _, err := KSStatistic([]float64{math.NaN()}, []float64{1}); err == nil {
		t.Error("NaN accepted")
	}
}

func TestMarginalKS(t *testing.T) {
	// Hand-computed on paths: channel 0 of real at t=1 is {1,2,3,4}, fake {3,4,5,6}.
	real := brownian(4, 3, 2, 0, 1, 1)
	fake := clonePaths(real)
	for n := range 4 {
		real.Values[(n*3+1)*2] = float64(n + 1)
		fake.Values[(n*3+1)*2] = float64(n + 3)
	}
	ks, err := MarginalKS(real, fake, []int{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(ks) != 4 || ks[0] != 0.5 || ks[1] != 0 || ks[2] != 0 || ks[3] != 0 {
		t.Fatalf("MarginalKS = %v, want [0.5 0 0 0]", ks)
	}

	const n, T = 1000, 20
	a := brownian(n, T, 1, 0, 1, 21)
	b := brownian(n, T, 1, 0, 1, 22)
	c := brownian(n, T, 1, 2, 1, 23)
	times := FiveTimes(T)
	same, _ := MarginalKS(a, b, times)
	shift, _ := MarginalKS(a, c, times)
	// Under the null, sqrt(n/2)·D is Kolmogorov-distributed: P(> 1.63) ≈ 1%.
	lim := 1.8 / math.Sqrt(n/2)
	for i := range times {
		if same[i] > lim {
			t.Errorf("same law, t=%d: D = %v > %v", times[i], same[i], lim)
		}
	}
	// Drift 2 shifts the mean at time τ by 2τ against a standard deviation √τ.
	if shift[len(shift)-1] < 0.6 {
		t.Errorf("shifted law: D at the end = %v", shift[len(shift)-1])
	}
	if _, err := MarginalKS(a, b, []int{T}); err == nil {
		t.Error("time index T accepted")
	}
}

func TestFiveTimes(t *testing.T) {
	for _, c := range []struct {
		T    int
		want []int
	}{
		{64, []int{13, 25, 38, 50, 63}},
		{11, []int{2, 4, 6, 8, 10}},
		{6, []int{1, 2, 3, 4, 5}},
		{3, []int{0, 1, 2}},
		{2, []int{0, 1}},
		{1, []int{0}},
		{0, nil},
	} {
		got := FiveTimes(c.T)
		if len(got) != len(c.want) {
			t.Errorf("FiveTimes(%d) = %v, want %v", c.T, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("FiveTimes(%d) = %v, want %v", c.T, got, c.want)
				break
			}
		}
	}
}

func TestClassify(t *testing.T) {
	const n, T = 500, 24
	a := brownian(n, T, 1, 0, 1, 31)
	b := brownian(n, T, 1, 0, 1, 32)
	c := brownian(n, T, 1, 6, 1, 33) // endpoint Bayes accuracy Φ(3) ≈ 0.9987
	d := brownian(n, T, 1, 0, 10, 34)
	opt := ClassifyOptions{Seed: 1}
	same, err := Classify(a, b, opt)
	if err != nil {
		t.Fatal(err)
	}
	drift, _ := Classify(a, c, opt)
	vol, _ := Classify(a, d, opt)
	t.Logf("accuracy: same law %.3f, drift %.3f, vol×10 %.3f", same, drift, vol)
	if math.Abs(same-0.5) > 0.08 {
		t.Errorf("same law: accuracy %v, want ≈ 0.5", same)
	}
	if drift < 0.95 || vol < 0.95 {
		t.Errorf("very different laws: accuracy %v, %v, want ≈ 1", drift, vol)
	}
	again, _ := Classify(a, c, opt)
	if again != drift {
		t.Error("Classify not deterministic")
	}
	// Unequal set sizes: classes are equalised; a tiny set still works.
	small, err := Classify(a, brownian(5, T, 1, 3, 1, 35), opt)
	if err != nil || small < 0 || small > 1 {
		t.Errorf("small fake set: %v, %v", small, err)
	}
	// Identical sets must not break the Newton iteration.
	if acc, err := Classify(a, a, opt); err != nil || acc < 0.3 || acc > 0.7 {
		t.Errorf("Classify(a, a) = %v, %v", acc, err)
	}
}

func TestPredictLinear(t *testing.T) {
	// Paths a + b·t in channel 0 and a − 2b·t in channel 1: the second half is an
	// exact linear function of the first, so the predictor should be near-perfect.
	mk := func(n, T int, scale float64, seed uint64) *dataset.Paths {
		p := brownian(n, T, 2, 0, 1, seed)
		r := brownian(n, 2, 2, 0, 1, seed+100) // random coefficients
		for i := range n {
			a, b := scale*r.Values[i*4+2], scale*r.Values[i*4+3]
			for ti, tm := range p.Times {
				p.Values[(i*T+ti)*2] = a + b*tm
				p.Values[(i*T+ti)*2+1] = a - 2*b*tm
			}
		}
		return p
	}
	for _, T := range []int{10, 11} {
		train, test := mk(200, T, 1, 1), mk(100, T, 1, 2)
		mse, err := Predict(train, test, PredictOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var v float64 // variance of the test outputs
		h := T / 2
		var cnt int
		for n := range test.N {
			for _, x := range test.Path(n)[h*2:] {
				v += x * x
				cnt++
			}
		}
		v /= float64(cnt)
		t.Logf("T=%d: linear MSE %.3g (output second moment %.3g)", T, mse, v)
		if mse > 1e-4*v {
			t.Errorf("T=%d: MSE %v not near 0 (scale %v)", T, mse, v)
		}
		// Scale invariance of the relative penalty.
		big, _ := Predict(mk(200, T, 1000, 1), mk(100, T, 1000, 2), PredictOptions{})
		if !near(big, mse*1e6, 1e-6) {
			t.Errorf("T=%d: MSE not scale-covariant: %v vs %v", T, big, mse*1e6)
		}
	}
	// On Brownian motion the best predictor of x(τ), τ ≥ 1/2, from the first half is the
	// last observed value: MSE ≈ mean of (τ − τ_{h−1}). TRTR ≈ TSTR for the same law; a
	// generator with the wrong drift makes TSTR worse.
	const T = 16
	real, realTest := brownian(2000, T, 1, 0, 1, 41), brownian(2000, T, 1, 0, 1, 42)
	trtr, _ := Predict(real, realTest, PredictOptions{})
	var want float64
	for ti := T / 2; ti < T; ti++ {
		want += float64(ti-(T/2-1)) / float64(T-1)
	}
	want /= float64(T - T/2)
	if !near(trtr, want, 0.05) {
		t.Errorf("Brownian TRTR %v, want ≈ %v", trtr, want)
	}
	tstr, _ := Predict(brownian(2000, T, 1, 2, 1, 43), realTest, PredictOptions{})
	if tstr < trtr+0.3 {
		t.Errorf("wrong-drift TSTR %v not worse than TRTR %v", tstr, trtr)
	}
	// Constant inputs (every path starts at 0 and the first half is flat) still solve.
	flat := brownian(10, 4, 1, 0, 1, 44)
	for n := range 10 {
		flat.Values[n*4+1] = 0
	}
	if _, err := Predict(flat, flat, PredictOptions{}); err != nil {
		t.Errorf("constant inputs: %v", err)
	}
}

func TestBadInput(t *testing.T) {
	good := brownian(10, 8, 2, 0, 1, 1)
	nan := clonePaths(good)
	nan.Values[37] = math.NaN()
	shortT := brownian(10, 7, 2, 0, 1, 1)
	oneC := brownian(10, 8, 1, 0, 1, 1)
	renamed := clonePaths(good)
	renamed.Channels[1] = "z"
	shifted := clonePaths(good)
	shifted.Times[3] += 1e-9
	few := brownian(3, 8, 2, 0, 1, 1)
	ragged := clonePaths(good)
	ragged.Values = ragged.Values[:len(ragged.Values)-1]
	oneTime := brownian(10, 2, 2, 0, 1, 1)
	oneTime.Times = oneTime.Times[:1]
	oneTime.Values = oneTime.Values[:10*2]
	unordered := clonePaths(good)
	unordered.Times[2], unordered.Times[3] = unordered.Times[3], unordered.Times[2]

	calls := map[string]func(a, b *dataset.Paths) error{
		"MMD": func(a, b *dataset.Paths) error { _, err := MMD(a, b, MMDOptions{}); return err },
		"MarginalKS": func(a, b *dataset.Paths) error {
			_, err := MarginalKS(a, b, []int{1})
			return err
		},
		"Classify": func(a, b *dataset.Paths) error { _, err := Classify(a, b, ClassifyOptions{}); return err },
		"Predict":  func(a, b *dataset.Paths) error { _, err := Predict(a, b, PredictOptions{}); return err },
		"Evaluate": func(a, b *dataset.Paths) error { _, err := Evaluate(a, a, b, Options{}); return err },
	}
	bad := map[string]*dataset.Paths{
		"nan": nan, "shorter": shortT, "fewer channels": oneC, "renamed channel": renamed,
		"shifted time": shifted, "3 paths": few, "ragged": ragged, "nil": nil,
		"unordered times": unordered,
	}
	for cname, call := range calls {
		if err := call(good, good); err != nil {
			t.Errorf("%s(good, good): %v", cname, err)
		}
		for bname, b := range bad {
			if err := call(good, b); err == nil {
				t.Errorf("%s accepted %s fake", cname, bname)
			}
			if err := call(b, good); err == nil {
				t.Errorf("%s accepted %s real", cname, bname)
			}
		}
	}
	if err := checkPaths("x", oneTime); err == nil {
		t.Error("a single time accepted")
	}
	if _, err := MMD(good, nan, MMDOptions{}); err == nil || !strings.Contains(err.Error(), "interpolate") {
		t.Errorf("NaN error should tell the caller to interpolate: %v", err)
	}
	if _, err := MMDFloor(few, MMDOptions{}); err == nil {
		t.Error("MMDFloor accepted 3 paths")
	}
	if _, err := MMD(good, good, MMDOptions{Depth: -1}); err == nil {
		t.Error("negative depth accepted")
	}
	if _, err := Classify(good, good, ClassifyOptions{TrainFrac: 1.5}); err == nil {
		t.Error("TrainFrac 1.5 accepted")
	}
	if _, err := Predict(good, good, PredictOptions{Lambda: -1}); err == nil {
		t.Error("negative ridge penalty accepted")
	}
}

func TestEvaluate(t *testing.T) {
	// The brief's size: 1000 real + 1000 fake paths of 64 times × 1 channel.
	const T = 64
	realTrain := brownian(1000, T, 1, 0, 1, 51)
	realTest := brownian(1000, T, 1, 0, 1, 52)
	fake := brownian(1000, T, 1, 0.5, 1, 53)
	start := time.Now()
	r, err := Evaluate(realTrain, realTest, fake, Options{Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	js, _ := json.Marshal(r)
	t.Logf("Evaluate took %v: %s", el, js)
	if el > 8*time.Second {
		t.Errorf("Evaluate took %v", el)
	}
	if r.SignatureDepth != 3 || !(r.Bandwidth > 0) || len(r.KS) != 5 || r.KS[4].Time != 63 ||
		r.KS[4].ChannelName != "a" || r.KS[4].TimeValue != 1 {
		t.Errorf("report fields: %+v", r)
	}
	if !(r.MMD > 5*math.Abs(r.MMDFloor)) {
		t.Errorf("drift 0.5 not above the floor: mmd %v floor %v", r.MMD, r.MMDFloor)
	}
	if r.ClassifierAccuracy < 0.55 || r.ClassifierAccuracy > 1 {
		t.Errorf("classifier accuracy %v", r.ClassifierAccuracy)
	}
	if !(r.TSTRMSE > r.TRTRMSE) {
		t.Errorf("TSTR %v should exceed TRTR %v for a drifted generator", r.TSTRMSE, r.TRTRMSE)
	}
	for _, key := range []string{`"mmd":`, `"mmd_floor":`, `"signature_depth":3`, `"bandwidth":`, `"ks":[{"time":13`,
		`"ks_max":`, `"classifier_accuracy":`, `"tstr_mse":`, `"trtr_mse":`} {
		if !strings.Contains(string(js), key) {
			t.Errorf("JSON lacks %s", key)
		}
	}
	r2, _ := Evaluate(realTrain, realTest, fake, Options{Seed: 9})
	js2, _ := json.Marshal(r2)
	if string(js) != string(js2) {
		t.Error("Evaluate not deterministic")
	}
}
