package gan

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gosde/gosde/dataset"
	"github.com/gosde/gosde/internal/seeds"
)

func sigKerConfig() Config {
	c := DefaultSigKer()
	c.Hidden, c.Width, c.Batch, c.Steps, c.Seed = 8, 8, 16, 300, 7
	c.SigKer.Times = 6
	return c
}

// The generator's gradient of the score, through the normalisation, the chosen times,
// the readout, the reversible adjoint and the initial network, matches the score's
// finite differences along random directions of the parameters (float32: 1%).
func TestSigKerGradient(t *testing.T) {
	for _, tc := range []struct {
		static  string
		leadLag bool
	}{{"rbf", false}, {"linear", false}, {"rbf", true}} {
		t.Run(fmt.Sprintf("%s/leadlag=%v", tc.static, tc.leadLag), func(t *testing.T) {
			cfg := sigKerConfig()
			cfg.SigKer.Static, cfg.SigKer.LeadLag = tc.static, tc.leadLag
			times := uniformTimes(16)
			data := ouData(200, times, 0.5, 3)
			m := newModel(t, cfg, times)
			defer m.Close()
			if err := m.prepareSigKer(data); err != nil {
				t.Fatal(err)
			}
			idx := m.minibatch(data.N, 0)
			ts := m.scoredTimes(cfg.Seed, 0)
			vSeed, bmSeed := seeds.Derive(1, 2, 3), seeds.Derive(4, 5, 6)
			score := func(p []float32, grad bool) float64 {
				s, err := m.scoreBatch(data, idx, ts, p, vSeed, bmSeed, grad)
				if err != nil {
					t.Fatal(err)
				}
				return s.Value()
			}
			p := append([]float32(nil), m.e.genP...)
			score(p, true)
			g := append([]float32(nil), m.e.genG...)
			rng := rand.New(rand.NewPCG(9, 9))
			for trial := range 3 {
				v := make([]float64, len(p))
				var dot, vn float64
				for i := range v {
					v[i] = rng.NormFloat64()
					vn += v[i] * v[i]
				}
				const h = 3e-3
				scale := h / math.Sqrt(vn)
				shifted := func(sign float64) []float32 {
					q := make([]float32, len(p))
					for i := range q {
						q[i] = p[i] + float32(sign*scale*v[i])
					}
					return q
				}
				fd := (score(shifted(1), false) - score(shifted(-1), false)) / (2 * h)
				for i := range v {
					dot += float64(g[i]) * v[i]
				}
				dot /= math.Sqrt(vn)
				if math.Abs(fd-dot) > 1e-2*math.Abs(fd)+1e-4 {
					t.Errorf("trial %d: directional derivative %v, finite differences %v", trial, dot, fd)
				}
			}
		})
	}
}

// Training by the score fits the data better than the initialisation does (by the
// test set's unbiased squared MMD), a checkpoint resumes bit for bit, and the
// checkpoint holds the generator and Adam's state only.
func TestSigKerTrainingAndResume(t *testing.T) {
	cfg := sigKerConfig()
	times := uniformTimes(16)
	train, test := spreadOU(300, times, 1), spreadOU(96, times, 2)
	m := newModel(t, cfg, times)
	defer m.Close()
	before, err := m.EvaluateScore(train, test, false, 5)
	if err != nil {
		t.Fatal(err)
	}
	steps(t, m, train, 20)
	saved := m.Params()
	for name := range saved {
		if strings.HasPrefix(name, "discriminator") || strings.Contains(name, ".discriminator") || strings.Contains(name, "square_avg") {
			t.Errorf("checkpoint holds %s", name)
		}
	}
	if _, ok := saved["opt.exp_avg_sq.generator.readout.weight"]; !ok {
		t.Error("checkpoint lacks Adam's state")
	}
	steps(t, m, train, 20)
	r := newModel(t, cfg, times)
	defer r.Close()
	if err := r.SetParams(saved); err != nil {
		t.Fatal(err)
	}
	steps(t, r, train, 20)
	equalParams(t, r.Params(), m.Params(), "resumed after 20 steps")
	steps(t, m, train, cfg.Steps-40)
	after, err := m.EvaluateScore(train, test, true, 5)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("test MMD² %.4g untrained, %.4g trained", before, after)
	if !(after < before/50) {
		t.Errorf("test MMD² %v before training, %v after %d steps", before, after, cfg.Steps)
	}
}

// spreadOU is a mean-reverting process dY = −0.3Y dt + 0.5 dW with Y₀ ~ N(0, 0.5²),
// by Euler–Maruyama with 10 substeps per unit time: data of the scale that training
// normalises to.
func spreadOU(n int, times []float64, seed uint64) *dataset.Paths {
	r := rand.New(rand.NewPCG(seed, 1))
	T := len(times)
	p := &dataset.Paths{Times: times, Channels: []string{"y"}, N: n, Values: make([]float64, n*T)}
	for i := range n {
		y := 0.5 * r.NormFloat64()
		p.Values[i*T] = y
		for t := 1; t < T; t++ {
			h := (times[t] - times[t-1]) / 10
			for range 10 {
				y += -0.3*y*h + 0.5*math.Sqrt(h)*r.NormFloat64()
			}
			p.Values[i*T+t] = y
		}
	}
	return p
}

func TestSigKerConfigErrors(t *testing.T) {
	cases := map[string]func(*Config){
		"objective":    func(c *Config) { c.Objective = "mle" },
		"static":       func(c *Config) { c.SigKer.Static = "poly" },
		"sigma":        func(c *Config) { c.SigKer.Sigma2Scale = 0 },
		"refine":       func(c *Config) { c.SigKer.Refine = -1 },
		"times":        func(c *Config) { c.SigKer.Times = 1 },
		"time scale":   func(c *Config) { c.SigKer.TimeScale = math.Inf(1) },
		"lr":           func(c *Config) { c.SigKer.LR = 0 },
		"huge lr":      func(c *Config) { c.SigKer.LR = 1e39 },
		"schedule":     func(c *Config) { c.SigKer.Schedule = "step" },
		"batch of one": func(c *Config) { c.Batch = 1 },
	}
	for name, edit := range cases {
		cfg := sigKerConfig()
		edit(&cfg)
		if _, err := New(cfg, uniformTimes(8)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// The cosine schedule starts at the rate, is half of it half way and ends near zero.
func TestSigKerSchedule(t *testing.T) {
	c := sigKerConfig()
	c.Steps = 1000
	for _, tc := range []struct {
		k    int
		want float64
	}{{0, c.SigKer.LR}, {500, c.SigKer.LR / 2}, {1000, c.SigKer.LR * 1e-3}} {
		if got := c.lrAt(tc.k); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("rate at step %d: %v, want %v", tc.k, got, tc.want)
		}
	}
	c.SigKer.Schedule = "constant"
	if got := c.lrAt(900); got != c.SigKer.LR {
		t.Errorf("constant schedule: %v", got)
	}
}
