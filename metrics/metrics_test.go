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
	opt := MMDOptions{Seed: 5}
	// Over several independent real and generated sets of one law, MMD² against the
	// reference half averages what the floor does (mmd/floor ≈ 1): the floor is the
	// distance sampling alone puts between sets of these sizes.
	var sumSame, sumFloor float64
	for s := range uint64(8) {
		real := brownian(2*n, T, 1, 0, 1, 100+s)
		fake := brownian(n, T, 1, 0, 1, 200+s)
		mmd, floor, err := MMDWithFloor(real, fake, opt)
		if err != nil {
			t.Fatal(err)
		}
		if !(floor > 0) || !(mmd > 0) {
			t.Fatalf("seed %d: V-statistics must be positive between different finite sets: mmd %v floor %v", s, mmd, floor)
		}
		sumSame += mmd
		sumFloor += floor
	}
	if r := sumSame / sumFloor; r < 0.75 || r > 1.33 {
		t.Errorf("same law: mean MMD² / mean floor = %.3f, want ≈ 1", r)
	}
	real := brownian(2*n, T, 1, 0, 1, 1)
	for _, c := range []struct {
		name     string
		fake     *dataset.Paths
		minRatio float64
	}{
		{"drift 1", brownian(n, T, 1, 1, 1, 3), 20},
		{"volatility ×1.5", brownian(n, T, 1, 0, 1.5, 4), 10},
		{"volatility ×1.3", brownian(n, T, 1, 0, 1.3, 6), 3},
	} {
		mmd, floor, err := MMDWithFloor(real, c.fake, opt)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: MMD² %.5f, floor %.5f, ratio %.1f", c.name, mmd, floor, mmd/floor)
		if mmd < c.minRatio*floor {
			t.Errorf("%s: MMD² %v is not %v× the floor %v", c.name, mmd, c.minRatio, floor)
		}
	}
	// Determinism, and the bandwidth both use.
	drift := brownian(n, T, 1, 1, 1, 3)
	m1, f1, _ := MMDWithFloor(real, drift, opt)
	m2, f2, _ := MMDWithFloor(real, drift, opt)
	if m1 != m2 || f1 != f2 {
		t.Error("MMDWithFloor not deterministic")
	}
	sig, err := MedianBandwidth(real, opt)
	if err != nil || !(sig > 0) {
		t.Fatalf("MedianBandwidth = %v, %v", sig, err)
	}
	m3, f3, _ := MMDWithFloor(real, drift, MMDOptions{Seed: 5, Bandwidth: sig})
	if m3 != m1 || f3 != f1 {
		t.Errorf("MMDWithFloor with explicit median σ (%v, %v) differs from default (%v, %v)", m3, f3, m1, f1)
	}
	// Averaging over splits steadies the floor: across metric seeds its spread with 8
	// splits is smaller than with one.
	const seeds = 6
	spread := func(splits int) float64 {
		var s1, s2 float64
		for seed := range uint64(seeds) {
			_, f, err := MMDWithFloor(real, drift, MMDOptions{Seed: seed, Splits: splits})
			if err != nil {
				t.Fatal(err)
			}
			s1 += f
			s2 += f * f
		}
		mean := s1 / seeds
		return math.Sqrt(s2/seeds-mean*mean) / mean
	}
	if one, eight := spread(1), spread(8); !(eight < one) {
		t.Errorf("floor's relative spread over seeds: %.3f with 8 splits, %.3f with 1", eight, one)
	} else {
		t.Logf("floor's relative spread over seeds: %.3f with 8 splits, %.3f with 1", eight, one)
	}
	// The distance of a set to itself is zero.
	if self, _ := MMD(real, real, opt); math.Abs(self) > 1e-12 {
		t.Errorf("MMD(a, a) = %v", self)
	}
}

// TestMMDDirect holds MMD to the definition written out with Signature: the squared
// distance between the two sets' mean kernel embeddings, expanded into kernel sums
// over every pair, diagonal included.
func TestMMDDirect(t *testing.T) {
	const T, C, sigma = 9, 2, 0.7
	real := brownian(5, T, C, 0, 1, 31)
	fake := brownian(4, T, C, 0.3, 1.2, 32)
	got, err := MMD(real, fake, MMDOptions{Bandwidth: sigma, Depth: 3})
	if err != nil {
		t.Fatal(err)
	}
	// Standardise by real's per-channel mean and (population) standard deviation.
	var mean, sd [C]float64
	cnt := float64(real.N * T)
	for i, v := range real.Values {
		mean[i%C] += v / cnt
	}
	for i, v := range real.Values {
		sd[i%C] += (v - mean[i%C]) * (v - mean[i%C]) / cnt
	}
	sigOf := func(p *dataset.Paths, n int) []float64 {
		pts := make([]float64, 0, T*(C+1))
		for k := range T {
			pts = append(pts, (p.Times[k]-p.Times[0])/(p.Times[T-1]-p.Times[0]))
			for c := range C {
				pts = append(pts, (p.Path(n)[k*C+c]-mean[c])/math.Sqrt(sd[c]))
			}
		}
		s, err := Signature(pts, C+1, 3)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	k := func(a, b []float64) float64 {
		var d float64
		for i := range a {
			d += (a[i] - b[i]) * (a[i] - b[i])
		}
		return math.Exp(-d / (2 * sigma * sigma))
	}
	meanK := func(p, q *dataset.Paths) float64 {
		var s float64
		for i := range p.N {
			for j := range q.N {
				s += k(sigOf(p, i), sigOf(q, j))
			}
		}
		return s / float64(p.N*q.N)
	}
	want := meanK(real, real) + meanK(fake, fake) - 2*meanK(real, fake)
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("MMD = %.15g, direct %.15g", got, want)
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
	if _, _, err := MMDWithFloor(few, good, MMDOptions{}); err == nil {
		t.Error("MMDWithFloor accepted 3 real paths")
	}
	if _, _, err := MMDWithFloor(good, good, MMDOptions{Splits: -1}); err == nil {
		t.Error("negative number of splits accepted")
	}
	if _, _, err := MMDWithFloor(good, good, MMDOptions{MaxPaths: MaxMMDPaths + 1}); err == nil {
		t.Errorf("MaxPaths %d accepted: its kernel matrix would not be bounded", MaxMMDPaths+1)
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
	if r.SignatureDepth != 3 || !(r.Bandwidth > 0) || len(r.KS) != 11 || r.KS[10].Time != 63 ||
		r.KS[10].ChannelName != "a" || r.KS[10].TimeValue != 1 || r.KS[0].Time != 0 || r.KS[0].D != 0 {
		t.Errorf("report fields: %+v", r)
	}
	if !(r.MMD > 5*r.MMDFloor) || !(r.MMDFloor > 0) {
		t.Errorf("drift 0.5 not above the floor: mmd %v floor %v", r.MMD, r.MMDFloor)
	}
	if r.ClassifierAccuracy < 0.55 || r.ClassifierAccuracy > 1 {
		t.Errorf("classifier accuracy %v", r.ClassifierAccuracy)
	}
	if !(r.TSTRMSE > r.TRTRMSE) {
		t.Errorf("TSTR %v should exceed TRTR %v for a drifted generator", r.TSTRMSE, r.TRTRMSE)
	}
	for _, key := range []string{`"mmd":`, `"mmd_floor":`, `"signature_depth":3`, `"bandwidth":`, `"ks":[{"time":0,`,
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
