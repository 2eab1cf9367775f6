package gan

import (
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/gosde/gosde/dataset"
)

// smallConfig is a quick training configuration.
func smallConfig() Config {
	c := DefaultConfig()
	c.Hidden, c.Width, c.Batch, c.Steps, c.Seed = 8, 8, 64, 200, 42
	return c
}

func uniformTimes(n int) []float64 {
	ts := make([]float64, n)
	for i := range ts {
		ts[i] = float64(i)
	}
	return ts
}

// ouData is an Ornstein–Uhlenbeck data set dY = −θ(Y − mu)dt + σdW, Y₀ ~ N(mu, 0.1²),
// by Euler–Maruyama with 10 substeps per unit time.
func ouData(n int, times []float64, mu float64, seed uint64) *dataset.Paths {
	r := rand.New(rand.NewPCG(seed, 0))
	T := len(times)
	p := &dataset.Paths{Times: times, Channels: []string{"y"}, N: n, Values: make([]float64, n*T)}
	for i := range n {
		y := mu + 0.1*r.NormFloat64()
		p.Values[i*T] = y
		for t := 1; t < T; t++ {
			h := (times[t] - times[t-1]) / 10
			for range 10 {
				y += -0.5*(y-mu)*h + 0.2*math.Sqrt(h)*r.NormFloat64()
			}
			p.Values[i*T+t] = y
		}
	}
	return p
}

func equalParams(t *testing.T, a, b map[string][]float32, what string) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d vs %d arrays", what, len(a), len(b))
	}
	for k, va := range a {
		vb, ok := b[k]
		if !ok || len(va) != len(vb) {
			t.Fatalf("%s: %s missing or of different length", what, k)
		}
		for i := range va {
			if math.Float32bits(va[i]) != math.Float32bits(vb[i]) {
				t.Fatalf("%s: %s[%d] = %v vs %v", what, k, i, va[i], vb[i])
			}
		}
	}
}

func newModel(t *testing.T, cfg Config, times []float64) *Model {
	t.Helper()
	m, err := New(cfg, times)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func steps(t *testing.T, m *Model, data *dataset.Paths, n int) []StepStats {
	t.Helper()
	var out []StepStats
	for range n {
		st, err := m.Step(data)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, st)
	}
	return out
}

func TestClippingOptimiserAndSWA(t *testing.T) {
	cfg := smallConfig()
	cfg.SWAStart = 0 // average after step indices 1, 2, 3, …
	times := uniformTimes(12)
	data := ouData(200, times, 0.5, 1)
	m := newModel(t, cfg, times)
	// Blow the discriminator's weights up so that clipping has something to do.
	for i := range m.e.discP {
		m.e.discP[i] *= 5
	}
	before := m.Params()
	var gens, discs [][]float32
	for s := range 4 {
		st, err := m.Step(data)
		if err != nil {
			t.Fatal(err)
		}
		if st.Averaged != (s > 0) {
			t.Errorf("step %d: Averaged %v", s, st.Averaged)
		}
		for _, r := range m.e.discWeightRanges() {
			lim := float32(r.Limit)
			for _, w := range m.e.discP[r.Off : r.Off+r.Len] {
				if w > lim || w < -lim {
					t.Fatalf("step %d: discriminator weight %v outside ±%v", s, w, lim)
				}
			}
		}
		if s == 0 {
			after := m.Params()
			for _, name := range m.Names()[:len(m.tensors)] {
				changed := false
				for i, v := range after[name] {
					if v != before[name][i] {
						changed = true
					}
				}
				if !changed {
					t.Errorf("%s did not change in the first step", name)
				}
			}
		}
		if s > 0 {
			gens = append(gens, append([]float32(nil), m.e.genP...))
			discs = append(discs, append([]float32(nil), m.e.discP...))
		}
	}
	if m.SWACount() != 3 {
		t.Fatalf("SWACount %d, want 3", m.SWACount())
	}
	check := func(avg []float32, seen [][]float32, what string) {
		for i, a := range avg {
			var mean float64
			for _, p := range seen {
				mean += float64(p[i])
			}
			mean /= float64(len(seen))
			if d := math.Abs(float64(a) - mean); d > 1e-6*math.Max(1, math.Abs(mean)) {
				t.Fatalf("%s average[%d] = %v, mean of observed %v", what, i, a, mean)
			}
		}
	}
	check(m.gSWA.State(), gens, "generator")
	check(m.dSWA.State(), discs, "discriminator")
	// Sampling from the average differs from sampling from the current parameters.
	a, err := m.Sample(8, 3, true)
	if err != nil {
		t.Fatal(err)
	}
	c, err := m.Sample(8, 3, false)
	if err != nil {
		t.Fatal(err)
	}
	if a.Values[len(a.Values)-1] == c.Values[len(c.Values)-1] {
		t.Error("averaged and current generators sample the same")
	}
}

func TestDeterminismAndResume(t *testing.T) {
	cfg := smallConfig()
	cfg.SWAStart = 1
	times := uniformTimes(10)
	data := ouData(100, times, 0, 2)

	a := newModel(t, cfg, times)
	b := newModel(t, cfg, times)
	sa := steps(t, a, data, 3)
	prev := runtime.GOMAXPROCS(1)
	sb := steps(t, b, data, 3)
	runtime.GOMAXPROCS(prev)
	equalParams(t, a.Params(), b.Params(), "same seed (GOMAXPROCS 1 vs default)")
	for i := range sa {
		if sa[i].DiscLoss != sb[i].DiscLoss {
			t.Fatalf("step %d: loss %v vs %v", i, sa[i].DiscLoss, sb[i].DiscLoss)
		}
	}
	cfg2 := cfg
	cfg2.Seed++
	c := newModel(t, cfg2, times)
	if c.Params()["generator.drift.0.weight"][0] == newModel(t, cfg, times).Params()["generator.drift.0.weight"][0] {
		t.Error("different seeds give the same initialisation")
	}

	// Resume: 2 steps, checkpoint, restore into a fresh model, 3 more steps, against 5
	// uninterrupted steps (a ran 3 already).
	full := newModel(t, cfg, times)
	steps(t, full, data, 5)
	part := newModel(t, cfg, times)
	steps(t, part, data, 2)
	ck := part.Params()
	resumed := newModel(t, cfg, times)
	if err := resumed.SetParams(ck); err != nil {
		t.Fatal(err)
	}
	equalParams(t, resumed.Params(), ck, "round trip")
	steps(t, resumed, data, 3)
	equalParams(t, resumed.Params(), full.Params(), "resumed vs uninterrupted")
	if resumed.Steps() != 5 || resumed.SWACount() != 3 {
		t.Errorf("resumed: %d steps, %d averaged", resumed.Steps(), resumed.SWACount())
	}

	// SetParams validation leaves the model alone.
	bad := resumed.Params()
	delete(bad, "opt.acc_delta.discriminator.readout.bias")
	if err := resumed.SetParams(bad); err == nil {
		t.Error("SetParams accepted a missing key")
	}
	bad = resumed.Params()
	bad["generator.readout.weight"] = bad["generator.readout.weight"][:1]
	if err := resumed.SetParams(bad); err == nil {
		t.Error("SetParams accepted a wrong length")
	}
	bad = resumed.Params()
	bad["extra"] = []float32{1}
	if err := resumed.SetParams(bad); err == nil {
		t.Error("SetParams accepted an unknown key")
	}
	equalParams(t, resumed.Params(), full.Params(), "after rejected SetParams")
	shapes := resumed.Shapes()
	for k, v := range resumed.Params() {
		n := 1
		for _, d := range shapes[k] {
			n *= d
		}
		if n != len(v) {
			t.Errorf("%s: shape %v for %d values", k, shapes[k], len(v))
		}
	}
	if len(resumed.Names()) != len(shapes) {
		t.Errorf("%d names, %d shapes", len(resumed.Names()), len(shapes))
	}
}

func TestNonFiniteKeepsState(t *testing.T) {
	cfg := smallConfig()
	times := uniformTimes(8)
	data := ouData(100, times, 0, 3)
	m := newModel(t, cfg, times)
	steps(t, m, data, 2)
	m.e.genP[m.e.gOff[partReadout]] = float32(math.Inf(1))
	before := m.Params()
	_, err := m.Step(data)
	if !errors.Is(err, ErrNonFinite) {
		t.Fatalf("error %v, want ErrNonFinite", err)
	}
	after := m.Params()
	after["state.step"] = before["state.step"] // the failed step consumed its noise
	equalParams(t, after, before, "after a non-finite step")
	if m.Steps() != 3 {
		t.Errorf("Steps %d after a failed step, want 3", m.Steps())
	}
	nan := ouData(100, times, 0, 3)
	nan.Values[5] = math.NaN()
	m2 := newModel(t, cfg, times)
	for range 10 {
		if _, err := m2.Step(nan); err != nil {
			return // path 0 drawn: the missing value is reported
		}
	}
	t.Error("a NaN in the data was never reported")
}

func TestSample(t *testing.T) {
	cfg := smallConfig()
	times := uniformTimes(9)
	m := newModel(t, cfg, times)
	big, err := m.Sample(SampleChunk+10, 5, false)
	if err != nil {
		t.Fatal(err)
	}
	small, err := m.Sample(7, 5, false)
	if err != nil {
		t.Fatal(err)
	}
	if big.N != SampleChunk+10 || small.T() != 9 || small.C() != 1 || len(small.Values) != 7*9 {
		t.Fatalf("shapes: N %d, T %d, C %d", big.N, small.T(), small.C())
	}
	for i, v := range small.Values {
		if v != big.Values[i] {
			t.Fatalf("value %d: %v with n=7, %v with n=%d", i, v, big.Values[i], big.N)
		}
	}
	var spread float64
	for p := 1; p < 7; p++ {
		spread += math.Abs(small.At(p, 8, 0) - small.At(0, 8, 0))
	}
	if spread == 0 {
		t.Error("all sampled paths are equal")
	}
	data := ouData(150, times, 0, 4)
	l1, err := m.Evaluate(data, false, 1)
	if err != nil {
		t.Fatal(err)
	}
	l2, err := m.Evaluate(data, true, 1)
	if err != nil || l1 != l2 || math.IsNaN(l1) {
		t.Errorf("Evaluate: %v, %v (%v)", l1, l2, err)
	}
}

// trendData is Y_t = Y₀ + slope·t + 0.1·(random walk), Y₀ ~ N(0, 0.3²).
func trendData(n int, times []float64, slope float64, seed uint64) *dataset.Paths {
	r := rand.New(rand.NewPCG(seed, 0))
	T := len(times)
	p := &dataset.Paths{Times: times, Channels: []string{"y"}, N: n, Values: make([]float64, n*T)}
	for i := range n {
		y := 0.3 * r.NormFloat64()
		p.Values[i*T] = y
		for t := 1; t < T; t++ {
			y += slope*(times[t]-times[t-1]) + 0.1*r.NormFloat64()
			p.Values[i*T+t] = y
		}
	}
	return p
}

// marginalMeans is the mean of p at every time.
func marginalMeans(p *dataset.Paths) []float64 {
	m := make([]float64, p.T())
	for n := range p.N {
		for t := range m {
			m[t] += p.At(n, t, 0) / float64(p.N)
		}
	}
	return m
}

// TestTrainingMovesMean trains on downward-trending paths (the untrained generator's
// paths trend upwards) and checks that the generated marginal means move towards the
// data's: their average absolute gap over the times must at least halve in 200 steps.
// The learning rates are raised from the reference 2e-4/1e-3, under which Adadelta
// barely moves in 200 steps.
func TestTrainingMovesMean(t *testing.T) {
	cfg := smallConfig()
	cfg.GenLR, cfg.DiscLR = 0.01, 0.05
	times := uniformTimes(16)
	data := trendData(512, times, -0.1, 5)
	want := marginalMeans(data)
	m := newModel(t, cfg, times)
	gap := func() (float64, []float64) {
		s, err := m.Sample(512, 99, false)
		if err != nil {
			t.Fatal(err)
		}
		got := marginalMeans(s)
		var g float64
		for i := range got {
			g += math.Abs(got[i]-want[i]) / float64(len(got))
		}
		return g, got
	}
	g0, m0 := gap()
	sts := steps(t, m, data, 200)
	g1, m1 := gap()
	T := len(times) - 1
	t.Logf("mean gap %.3f → %.3f; generated means at t=0, T: (%.2f, %.2f) → (%.2f, %.2f), data (%.2f, %.2f); loss first %.4f last %.4f",
		g0, g1, m0[0], m0[T], m1[0], m1[T], want[0], want[T], sts[0].DiscLoss, sts[len(sts)-1].DiscLoss)
	if !(g1 < 0.5*g0) {
		t.Errorf("mean gap went from %.3f to %.3f", g0, g1)
	}
}

// With DiscSteps n the discriminator is updated every step and the generator on step
// indices n−1, 2n−1, … only, and a run resumed between them continues bit-identically.
func TestDiscSteps(t *testing.T) {
	cfg := smallConfig()
	cfg.DiscSteps = 3
	cfg.SWAStart = 100
	times := uniformTimes(8)
	data := ouData(100, times, 0, 4)
	m := newModel(t, cfg, times)
	for k := range 7 {
		gen := append([]float32(nil), m.e.genP...)
		disc := append([]float32(nil), m.e.discP...)
		gSq, _ := m.gOpt.State()
		gSq = append([]float32(nil), gSq...)
		if _, err := m.Step(data); err != nil {
			t.Fatal(err)
		}
		genMoved, discMoved := !slices.Equal(gen, m.e.genP), !slices.Equal(disc, m.e.discP)
		nowSq, _ := m.gOpt.State()
		stateMoved := !slices.Equal(gSq, nowSq)
		if want := k%3 == 2; genMoved != want || stateMoved != want {
			t.Errorf("step index %d: generator moved %v (optimiser state %v), want %v", k, genMoved, stateMoved, want)
		}
		if !discMoved {
			t.Errorf("step index %d: the discriminator did not move", k)
		}
	}

	full := newModel(t, cfg, times)
	steps(t, full, data, 5)
	part := newModel(t, cfg, times)
	steps(t, part, data, 4)
	resumed := newModel(t, cfg, times)
	if err := resumed.SetParams(part.Params()); err != nil {
		t.Fatal(err)
	}
	steps(t, resumed, data, 1)
	equalParams(t, resumed.Params(), full.Params(), "resumed between generator updates vs uninterrupted")

	for _, n := range []int{-1, -5} {
		bad := smallConfig()
		bad.DiscSteps = n
		if _, err := New(bad, times); err == nil {
			t.Errorf("DiscSteps %d accepted", n)
		}
	}
}
