package latent

import (
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/gosde/gosde/dataset"
	"github.com/gosde/gosde/paramset"
	"github.com/gosde/gosde/solver"
)

// smallConfig is a quick training configuration.
func smallConfig() Config {
	c := DefaultConfig()
	c.Width, c.Batch, c.Steps, c.Seed = 16, 32, 200, 42
	return c
}

func uniformTimes(n int) []float64 {
	ts := make([]float64, n)
	for i := range ts {
		ts[i] = float64(i)
	}
	return ts
}

// sineData is a set of noisy sines a·sin(ωt + φ) + noise, with random amplitude and
// phase per path, roughly normalised.
func sineData(n int, times []float64, channels int, seed uint64) *dataset.Paths {
	r := rand.New(rand.NewPCG(seed, 0))
	T, C := len(times), channels
	p := &dataset.Paths{Times: times, N: n, Values: make([]float64, n*T*C)}
	for c := range C {
		p.Channels = append(p.Channels, string(rune('a'+c)))
	}
	for i := range n {
		a, ph := 1+0.2*r.NormFloat64(), 2*math.Pi*r.Float64()
		for t, tt := range times {
			for c := range C {
				p.Values[(i*T+t)*C+c] = a*math.Sin(0.6*tt+ph+float64(c)) + 0.05*r.NormFloat64()
			}
		}
	}
	return p
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

// TestDeterminismAndResume: two models from the same seed take identical steps; a model
// restored from Params mid-run continues bit-identically (with the weight average
// running); the result does not depend on GOMAXPROCS.
func TestDeterminismAndResume(t *testing.T) {
	cfg := smallConfig()
	cfg.SWAStart = 2
	cfg.LRDecay = 0.99
	times := uniformTimes(8)
	data := sineData(100, times, 1, 3)

	a := newModel(t, cfg, times)
	sa := steps(t, a, data, 6)
	prev := runtime.GOMAXPROCS(1)
	b := newModel(t, cfg, times)
	sb := steps(t, b, data, 3)
	runtime.GOMAXPROCS(prev)
	saved := b.Params()
	c := newModel(t, cfg, times)
	if err := c.SetParams(saved); err != nil {
		t.Fatal(err)
	}
	if c.Steps() != 3 || c.SWACount() != b.SWACount() {
		t.Fatalf("restored steps %d, SWA %d", c.Steps(), c.SWACount())
	}
	sc := steps(t, c, data, 3)
	for i, st := range append(sb, sc...) {
		if st.Loss != sa[i].Loss || st.Reconstruction != sa[i].Reconstruction || st.LR != sa[i].LR || st.Averaged != sa[i].Averaged {
			t.Errorf("step %d: %+v vs %+v", i, st, sa[i])
		}
	}
	if !sa[5].Averaged || a.SWACount() != 3 {
		t.Errorf("SWA: averaged %v, count %d", sa[5].Averaged, a.SWACount())
	}
	equalParams(t, a.Params(), c.Params(), "resumed")

	sA, err := a.Sample(20, 9, true)
	if err != nil {
		t.Fatal(err)
	}
	sC, err := c.Sample(20, 9, true)
	if err != nil {
		t.Fatal(err)
	}
	for i := range sA.Values {
		if sA.Values[i] != sC.Values[i] {
			t.Fatalf("samples differ at %d", i)
		}
	}
	ea, err := a.Evaluate(data, 4)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := c.Evaluate(data, 4)
	if err != nil {
		t.Fatal(err)
	}
	if ea != ec {
		t.Errorf("Evaluate %v vs %v", ea, ec)
	}

	// SetParams rejects bad input and changes nothing.
	bad := a.Params()
	delete(bad, "decoder.bias")
	if err := c.SetParams(bad); err == nil {
		t.Error("SetParams accepted a missing key")
	}
	bad = a.Params()
	bad["extra"] = []float32{1}
	if err := c.SetParams(bad); err == nil {
		t.Error("SetParams accepted an unknown key")
	}
	bad = a.Params()
	bad[paramset.KeyUpdates] = paramset.EncodeCounter(100)
	if err := c.SetParams(bad); err == nil {
		t.Error("SetParams accepted inconsistent counters")
	}
	equalParams(t, a.Params(), c.Params(), "after rejected SetParams")
}

func TestNamesShapes(t *testing.T) {
	cfg := smallConfig()
	cfg.DataChannels = 3
	m := newModel(t, cfg, uniformTimes(6))
	names, shapes, params := m.Names(), m.Shapes(), m.Params()
	if len(names) != len(shapes) || len(names) != len(params) {
		t.Fatalf("%d names, %d shapes, %d params", len(names), len(shapes), len(params))
	}
	var total int
	for _, n := range names {
		size := 1
		for _, s := range shapes[n] {
			size *= s
		}
		if len(params[n]) != size {
			t.Errorf("%s: %d values, shape %v", n, len(params[n]), shapes[n])
		}
		if len(n) < 4 || (n[:4] != "swa." && n[:4] != "opt." && n[:4] != "stat") {
			total += size
		}
	}
	if total != m.NumParams() {
		t.Errorf("network tensors hold %d values, NumParams %d", total, m.NumParams())
	}
	want := map[string][]int{"encoder.0.weight": {16, 6 * 3}, "encoder.2.weight": {2*4 + 8, 16},
		"posterior_drift.0.weight": {16, 1 + 4 + 8}, "prior_drift.2.bias": {4}, "diffusion.0.weight": {16, 5},
		"decoder.weight": {3, 4}, "pz0_logstd": {4}, "opt.exp_avg_sq.decoder.bias": {3}}
	for n, s := range want {
		if got := shapes[n]; len(got) != len(s) || got[0] != s[0] || (len(s) > 1 && got[1] != s[1]) {
			t.Errorf("%s: shape %v, want %v", n, got, s)
		}
	}
}

// TestSample checks Sample's shape and names, that path p depends only on (seed, p), and
// that samples vary.
func TestSample(t *testing.T) {
	cfg := smallConfig()
	cfg.DataChannels = 2
	times := []float64{0, 0.5, 1, 2, 3}
	m := newModel(t, cfg, times)
	s5, err := m.Sample(5, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := s5.Validate(); err != nil {
		t.Fatal(err)
	}
	if s5.N != 5 || s5.C() != 2 || s5.Channels[1] != "y1" || s5.T() != 5 {
		t.Fatalf("sample shape N %d C %d T %d channels %v", s5.N, s5.C(), s5.T(), s5.Channels)
	}
	s3, err := m.Sample(3, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range s3.Values {
		if v != s5.Values[i] {
			t.Fatalf("path values depend on n at %d: %v vs %v", i, v, s5.Values[i])
		}
	}
	if s5.At(0, 4, 0) == s5.At(1, 4, 0) {
		t.Error("two sample paths coincide")
	}
	if _, err := m.Sample(0, 1, false); err == nil {
		t.Error("Sample(0) accepted")
	}
}

func TestConfigAndDataErrors(t *testing.T) {
	times := uniformTimes(5)
	for name, mod := range map[string]func(*Config){
		"reversible with midpoint": func(c *Config) { c.Method = solver.Midpoint },
		"continuous with heun":     func(c *Config) { c.Adjoint = solver.Continuous },
		"zero latent":              func(c *Config) { c.LatentSize = 0 },
		"sigma bounds":             func(c *Config) { c.SigmaMin = 1 },
		"obs std":                  func(c *Config) { c.ObsStd = 0 },
		"decay":                    func(c *Config) { c.LRDecay = 1.5 },
		"lr":                       func(c *Config) { c.LR = 0 },
		"lr beyond float32":        func(c *Config) { c.LR = 1e39 },
		"huge weight decay":        func(c *Config) { c.WeightDecay = 1e308 },
		"negative weight decay":    func(c *Config) { c.WeightDecay = -1 },
	} {
		c := smallConfig()
		mod(&c)
		if _, err := New(c, times); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New(smallConfig(), []float64{0, 0}); err == nil {
		t.Error("non-increasing times accepted")
	}
	c := smallConfig()
	c.Method, c.Adjoint = solver.Midpoint, solver.Continuous
	m := newModel(t, c, times)
	data := sineData(10, times, 1, 1)
	if _, err := m.Step(sineData(10, times, 2, 1)); err == nil {
		t.Error("wrong channel count accepted")
	}
	data.Values[7] = math.NaN()
	if _, err := m.Step(data); err == nil {
		t.Error("NaN data accepted")
	}
	data.Values[7] = 0
	if _, err := m.Step(data); err != nil {
		t.Errorf("midpoint/continuous step: %v", err)
	}
	// No context (k = 0) works too.
	c0 := smallConfig()
	c0.ContextSize = 0
	if _, err := newModel(t, c0, times).Step(data); err != nil {
		t.Errorf("k = 0: %v", err)
	}
	// A diverging model reports ErrNonFinite and leaves the parameters alone.
	for i := range m.e.params {
		m.e.params[i] = float32(math.Inf(1))
	}
	before := m.Params()
	if _, err := m.Step(data); !errors.Is(err, ErrNonFinite) {
		t.Errorf("got %v, want ErrNonFinite", err)
	}
	delete(before, paramset.KeyStep)
	after := m.Params()
	delete(after, paramset.KeyStep)
	equalParams(t, before, after, "after a non-finite step")
}

// TestTrainingLowersLoss trains on noisy sines and checks that the held-out negative
// ELBO falls substantially, deterministically.
func TestTrainingLowersLoss(t *testing.T) {
	cfg := smallConfig()
	cfg.Batch = 64
	times := uniformTimes(10)
	train := sineData(512, times, 1, 1)
	test := sineData(256, times, 1, 2)
	m := newModel(t, cfg, times)
	before, err := m.Evaluate(test, 7)
	if err != nil {
		t.Fatal(err)
	}
	sts := steps(t, m, train, 300)
	after, err := m.Evaluate(test, 7)
	if err != nil {
		t.Fatal(err)
	}
	last := sts[len(sts)-1]
	t.Logf("test −ELBO %.2f → %.2f; last step: loss %.2f, loglik %.2f, KL0 %.3f, KL path %.3f, recon %.1e, %.1f ms/step",
		before, after, last.Loss, last.LogLik, last.KL0, last.KLPath, last.Reconstruction, 1e3*last.Seconds)
	// The prior's samples should have roughly the data's marginal spread.
	smp, err := m.Sample(512, 3, false)
	if err != nil {
		t.Fatal(err)
	}
	var dstd, sstd float64
	for tt := range len(times) {
		ds, ss := stdAt(test, tt), stdAt(smp, tt)
		dstd += ds / float64(len(times))
		sstd += ss / float64(len(times))
	}
	t.Logf("mean marginal std: data %.3f, samples %.3f", dstd, sstd)
	if math.Abs(sstd-dstd) > 0.3*dstd {
		t.Errorf("sample marginal std %.3f, data %.3f", sstd, dstd)
	}
	if !(after < 0.2*before) {
		t.Errorf("test −ELBO %.3f → %.3f: not lowered fivefold", before, after)
	}
}

func stdAt(p *dataset.Paths, t int) float64 {
	var s, s2 float64
	for n := range p.N {
		v := p.At(n, t, 0)
		s += v
		s2 += v * v
	}
	m := s / float64(p.N)
	return math.Sqrt(s2/float64(p.N) - m*m)
}
