package training

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/gosde/gosde/checkpoint"
)

// tiny is a configuration that trains in well under a second.
// skipShort skips a test that trains and evaluates whole runs under -short (the race
// detector's pass, where they take minutes): the full suite runs them, and the short
// one keeps those that exercise concurrency (GOMAXPROCS, locks, interruption).
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("trains whole runs: run without -short")
	}
}

func tiny() Config {
	c := DefaultConfig()
	c.Steps, c.CheckpointEvery, c.EvalPaths = 6, 2, 64
	c.GAN.Batch, c.GAN.Hidden, c.GAN.Width, c.GAN.NoiseDim = 16, 4, 4, 2
	c.Latent.Batch, c.Latent.Width, c.Latent.LatentSize, c.Latent.ContextSize = 16, 4, 2, 2
	return c
}

func tinyLatent() Config {
	c := tiny()
	c.Model = "latent-sde"
	return c
}

func TestRunWritesARunDirectory(t *testing.T) {
	skipShort(t)
	for _, cfg := range []Config{tiny(), tinyLatent()} {
		t.Run(cfg.Model, func(t *testing.T) { testRunDirectory(t, cfg) })
	}
}

func testRunDirectory(t *testing.T, cfg Config) {
	dir := t.TempDir()
	res, err := Run(context.Background(), cfg, dir, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != 6 || res.Untrained == nil || math.IsNaN(res.TestLoss) {
		t.Fatalf("result %+v", res)
	}
	for _, f := range []string{ConfigFile, CheckpointFile, MetricsFile, PathsPlot, MarginalsPlot, CurvesPlot} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing or empty: %v", f, err)
		}
	}
	ck, err := Load(filepath.Join(dir, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(ck.History.Step) != 6 || ck.Config.Steps != 6 || len(ck.Channels) != 1 {
		t.Fatalf("checkpoint history %d steps, config %+v", len(ck.History.Step), ck.Config)
	}
	// Samples come back in the data's own units: the OU data start in [−1, 1].
	p, err := ck.Sample(50, 3)
	if err != nil {
		t.Fatal(err)
	}
	if p.N != 50 || p.Channels[0] != "y" {
		t.Fatalf("sample %d paths, channels %v", p.N, p.Channels)
	}
	for _, v := range p.Values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatal("non-finite sample")
		}
	}
	if _, err := ck.Evaluate("ou", 64, 1); err != nil {
		t.Fatal(err)
	}
}

// The latent SDE trains with the paper's baseline solver too, and a time limit stops a
// run early with everything written.
func TestLatentBaselineAndTimeLimit(t *testing.T) {
	skipShort(t)
	c := tinyLatent()
	c.Method, c.Adjoint = "midpoint", "continuous"
	c.Steps, c.MaxSeconds = 1000000, 0.3
	res, err := Run(context.Background(), c, t.TempDir(), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps < 1 || res.Steps >= c.Steps {
		t.Fatalf("time-limited run took %d steps", res.Steps)
	}
	c.Method, c.Adjoint = "midpoint", "reversible"
	if _, err := Run(context.Background(), c, t.TempDir(), false, nil); err == nil {
		t.Fatal("reversible adjoint with midpoint accepted")
	}
}

// Interrupting a run and resuming it gives bit-identically the checkpoint of a run
// that was never interrupted.
func TestInterruptAndResumeIsBitIdentical(t *testing.T) {
	for _, cfg := range []Config{tiny(), tinyLatent()} {
		t.Run(cfg.Model, func(t *testing.T) { testInterruptAndResume(t, cfg) })
	}
}

func testInterruptAndResume(t *testing.T, cfg Config) {
	whole, parts := t.TempDir(), t.TempDir()
	if _, err := Run(context.Background(), cfg, whole, false, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Run(ctx, cfg, parts, false, func(p Progress) {
		if p.Step == 3 {
			cancel()
		}
	})
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("interrupted run returned %v", err)
	}
	mid, err := Load(filepath.Join(parts, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(mid.History.Step) != 3 {
		t.Fatalf("interruption checkpoint holds %d steps, want 3", len(mid.History.Step))
	}
	if _, err := Run(context.Background(), Config{}, parts, true, nil); err != nil {
		t.Fatal(err)
	}
	// The resumed run's timings cover its steps before the interruption too.
	for i, s := range readTimings(parts, []float64{1, 2, 3, 4, 5, 6}) {
		if !(s > 0) {
			t.Errorf("timings.json of the resumed run: step %d took %v s", i+1, s)
		}
	}
	fa, _ := os.ReadFile(filepath.Join(whole, CheckpointFile))
	fb, _ := os.ReadFile(filepath.Join(parts, CheckpointFile))
	if !bytes.Equal(fa, fb) {
		t.Error("the resumed run's checkpoint file differs from the uninterrupted run's")
	}
	a, err := checkpoint.Load(filepath.Join(whole, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	b, err := checkpoint.Load(filepath.Join(parts, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Tensors) != len(b.Tensors) {
		t.Fatalf("%d tensors vs %d", len(a.Tensors), len(b.Tensors))
	}
	for name, ta := range a.Tensors {
		tb := b.Tensors[name]
		for i := range ta.F32 {
			if math.Float32bits(ta.F32[i]) != math.Float32bits(tb.F32[i]) {
				t.Fatalf("%s[%d]: resumed %v, uninterrupted %v", name, i, tb.F32[i], ta.F32[i])
			}
		}
	}
}

func TestBadInput(t *testing.T) {
	csv := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(csv, []byte("id,t,y\n0,0,1\n0,1,x\n"), 0o644)
	few := filepath.Join(t.TempDir(), "few.csv")
	os.WriteFile(few, []byte("id,t,y\n0,0,1\n0,1,2\n1,0,1\n1,1,3\n"), 0o644)
	cases := map[string]func(*Config){
		"unknown model":   func(c *Config) { c.Model = "vae" },
		"zero steps":      func(c *Config) { c.Steps = 0 },
		"negative batch":  func(c *Config) { c.GAN.Batch = -1 },
		"missing data":    func(c *Config) { c.Data = "/no/such/file.csv" },
		"no data":         func(c *Config) { c.Data = "" },
		"malformed csv":   func(c *Config) { c.Data = csv },
		"too few series":  func(c *Config) { c.Data = few },
		"few eval paths":  func(c *Config) { c.EvalPaths = 1 },
		"bad method":      func(c *Config) { c.Model, c.Method = "latent-sde", "rk4" },
		"bad adjoint":     func(c *Config) { c.Model, c.Adjoint = "latent-sde", "magic" },
		"negative time":   func(c *Config) { c.MaxSeconds = -1 },
		"bad checkpoints": func(c *Config) { c.CheckpointEvery = -1 },
	}
	for name, mutate := range cases {
		c := tiny()
		mutate(&c)
		dir := filepath.Join(t.TempDir(), "run")
		if _, err := Run(context.Background(), c, dir, false, nil); err == nil {
			t.Errorf("%s: Run succeeded", name)
		}
		if _, err := os.Stat(filepath.Join(dir, CheckpointFile)); err == nil {
			t.Errorf("%s: a checkpoint was written", name)
		}
	}
	if _, err := Run(context.Background(), tiny(), t.TempDir(), true, nil); err == nil {
		t.Error("resuming an empty directory succeeded")
	}
}

func TestLoadRefusesForeignAndCorruptCheckpoints(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	foreign := filepath.Join(dir, "foreign.safetensors")
	if err := checkpoint.Save(foreign, checkpoint.File{Tensors: map[string]checkpoint.Tensor{"w": {Shape: []int{1}, F32: []float32{1}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(foreign); err == nil || !strings.Contains(err.Error(), "not a gosde") {
		t.Errorf("foreign checkpoint: %v", err)
	}
	run := t.TempDir()
	if _, err := Run(context.Background(), tiny(), run, false, nil); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(run, CheckpointFile))
	cut := filepath.Join(dir, "cut.safetensors")
	os.WriteFile(cut, b[:len(b)-10], 0o644)
	if _, err := Load(cut); !errors.Is(err, checkpoint.ErrCorrupt) {
		t.Errorf("truncated checkpoint: %v", err)
	}
}

// A run whose loss becomes non-finite stops with an error and leaves the last good
// state in its checkpoint, even when no periodic checkpoint was due.
func TestNonFiniteKeepsLastGoodState(t *testing.T) {
	c := tinyLatent()
	c.Steps, c.CheckpointEvery, c.Latent.LR = 200, 0, 1e6
	dir := t.TempDir()
	_, err := Run(context.Background(), c, dir, false, nil)
	if err == nil || !strings.Contains(err.Error(), "last good state") {
		t.Fatalf("diverging run returned %v", err)
	}
	ck, err := Load(filepath.Join(dir, CheckpointFile))
	if err != nil {
		t.Fatalf("no usable checkpoint after divergence: %v", err)
	}
	for name, v := range ck.Params {
		for _, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("checkpoint tensor %s holds %v", name, x)
			}
		}
	}
}

func TestCurveJSONKeepsNonFiniteAsNull(t *testing.T) {
	c := curve{1, math.Inf(1), math.NaN(), -2}
	b, err := c.MarshalJSON()
	if err != nil || string(b) != "[1,null,null,-2]" {
		t.Fatalf("marshal: %s, %v", b, err)
	}
	var back curve
	if err := back.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	if back[0] != 1 || !math.IsNaN(back[1]) || !math.IsNaN(back[2]) || back[3] != -2 {
		t.Fatalf("round trip gave %v", back)
	}
}

// The same seed gives bit-identical checkpoints and metrics whatever GOMAXPROCS is.
func TestDeterministicAcrossGOMAXPROCS(t *testing.T) {
	for _, cfg := range []Config{tiny(), tinyLatent()} {
		// More paths than one block of the vector fields' worker pool (256), so that
		// the parallel reductions run.
		cfg.Steps, cfg.GAN.Batch, cfg.Latent.Batch = 3, 600, 600
		t.Run(cfg.Model, func(t *testing.T) {
			var files [2][]byte
			var reps [2]*Result
			for i, procs := range []int{1, 2} {
				old := runtime.GOMAXPROCS(procs)
				dir := t.TempDir()
				res, err := Run(context.Background(), cfg, dir, false, nil)
				runtime.GOMAXPROCS(old)
				if err != nil {
					t.Fatal(err)
				}
				reps[i] = res
				if files[i], err = os.ReadFile(filepath.Join(dir, CheckpointFile)); err != nil {
					t.Fatal(err)
				}
			}
			a, b := reps[0].Trained, reps[1].Trained
			if a.MMD != b.MMD || a.KSMax != b.KSMax || a.ClassifierAccuracy != b.ClassifierAccuracy || a.TSTRMSE != b.TSTRMSE || reps[0].TestLoss != reps[1].TestLoss {
				t.Fatalf("metrics differ between GOMAXPROCS 1 and 2: %+v vs %+v", a, b)
			}
			if !bytes.Equal(files[0], files[1]) {
				t.Error("the checkpoint files differ between GOMAXPROCS 1 and 2")
			}
			ca, err := checkpoint.Decode(files[0])
			if err != nil {
				t.Fatal(err)
			}
			cb, err := checkpoint.Decode(files[1])
			if err != nil {
				t.Fatal(err)
			}
			for name, ta := range ca.Tensors {
				for i, v := range ta.F32 {
					if math.Float32bits(v) != math.Float32bits(cb.Tensors[name].F32[i]) {
						t.Fatalf("%s[%d] differs between GOMAXPROCS 1 and 2", name, i)
					}
				}
			}
		})
	}
}

func TestSWAStartByTime(t *testing.T) {
	gan, latent := tiny(), tinyLatent()
	gan.Steps, gan.MaxSeconds, latent.MaxSeconds = 1000, 10, 10
	fixed := gan
	fixed.GAN.SWAStart = 7
	noLimit := gan
	noLimit.MaxSeconds = 0
	for _, c := range []struct {
		name    string
		cfg     Config
		step    int
		elapsed float64
		start   int
		ok      bool
	}{
		{"before half the time", gan, 100, 4.9, 0, false},
		{"at half the time", gan, 100, 5, 99, true},
		{"at half the time, first step", gan, 0, 5, 0, true},
		{"half the steps came first", gan, 501, 5, 0, false},
		{"at half the steps", gan, 500, 6, 499, true},
		{"an explicit or recorded start is kept", fixed, 100, 6, 0, false},
		{"no time limit", noLimit, 100, 600, 0, false},
		{"the latent SDE does not average", latent, 1, 6, 0, false},
	} {
		start, ok := swaStartByTime(c.cfg, c.step, c.elapsed)
		if start != c.start || ok != c.ok {
			t.Errorf("%s: swaStartByTime = %d, %v; want %d, %v", c.name, start, ok, c.start, c.ok)
		}
	}
}

// A time limit that ends a run long before half of its steps still averages its
// second half; the start is recorded, so a resumed run keeps it.
func TestSWAStartsAtHalfTheTimeLimit(t *testing.T) {
	skipShort(t)
	for _, model := range []string{"sde-gan", "sde-sigker"} {
		t.Run(model, func(t *testing.T) {
			cfg := tiny()
			cfg.Model, cfg.CheckpointEvery = model, 0
			if model == "sde-sigker" {
				cfg.GAN.SigKer.Times = 4
			}
			cfg.Steps, cfg.MaxSeconds = 1000000, 0.6
			dir := t.TempDir()
			res, err := Run(context.Background(), cfg, dir, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			saved, err := ReadConfig(dir)
			if err != nil {
				t.Fatal(err)
			}
			s := saved.GAN.SWAStart
			if s < 0 || s >= res.Steps-1 {
				t.Fatalf("%d steps in the time limit, recorded SWA start %d: averaging never began", res.Steps, s)
			}
			averaged := func() int {
				ck, err := Load(filepath.Join(dir, CheckpointFile))
				if err != nil {
					t.Fatal(err)
				}
				if ck.Config.GAN.SWAStart != s {
					t.Fatalf("checkpoint records SWA start %d, config.json %d", ck.Config.GAN.SWAStart, s)
				}
				m, err := ck.Model()
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				return m.SWACount()
			}
			// Steps s+1, …, res.Steps−1 (0-based) were averaged.
			if n := averaged(); n != res.Steps-1-s {
				t.Fatalf("%d steps with the start after step %d averaged %d parameter sets, want %d", res.Steps, s, n, res.Steps-1-s)
			}
			// A resumed run trains for another time limit and keeps averaging from the
			// recorded start rather than deciding another at half of its own limit.
			res2, err := Run(context.Background(), cfg, dir, true, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res2.Steps <= res.Steps {
				t.Fatalf("resumed at step %d, ended at %d", res.Steps, res2.Steps)
			}
			if n := averaged(); n != res2.Steps-1-s {
				t.Fatalf("after resuming, %d parameter sets averaged, want %d", n, res2.Steps-1-s)
			}
		})
	}
}

// Checkpoint.Evaluate with the run's data, eval paths and seed — what `gosde eval`
// does by default — gives the very report Run printed and wrote to metrics.json.
func TestEvalReproducesTrain(t *testing.T) {
	skipShort(t)
	for _, cfg := range []Config{tiny(), tinyLatent()} {
		t.Run(cfg.Model, func(t *testing.T) {
			dir := t.TempDir()
			res, err := Run(context.Background(), cfg, dir, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			if s := res.Trained.Spread; s == nil || s.Draws != EvalDraws || res.Untrained.Spread != nil {
				t.Fatalf("trained spread %+v, untrained spread %+v: want %d draws for the trained model only", s, res.Untrained.Spread, EvalDraws)
			}
			ck, err := Load(filepath.Join(dir, CheckpointFile))
			if err != nil {
				t.Fatal(err)
			}
			rep, err := ck.Evaluate(cfg.Data, cfg.EvalPaths, cfg.Seed)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(res.Trained)
			got, _ := json.Marshal(rep)
			if string(got) != string(want) {
				t.Errorf("eval's report differs from train's:\neval  %s\ntrain %s", got, want)
			}
			b, err := os.ReadFile(filepath.Join(dir, MetricsFile))
			if err != nil {
				t.Fatal(err)
			}
			var written struct {
				Trained  json.RawMessage `json:"trained"`
				Warnings []string        `json:"warnings"`
				Meaning  string          `json:"test_loss_meaning"`
			}
			if err := json.Unmarshal(b, &written); err != nil {
				t.Fatal(err)
			}
			var a, c any
			json.Unmarshal(written.Trained, &a)
			json.Unmarshal(got, &c)
			if !reflect.DeepEqual(a, c) {
				t.Errorf("metrics.json's trained report differs from eval's")
			}
			// 64 generated paths: the classifiers are tested on 2·(64 − 45) = 38.
			if !slices.ContainsFunc(written.Warnings, func(w string) bool { return strings.Contains(w, "tested on only 38 paths") }) ||
				written.Meaning != TestLossMeaning(cfg.Model) {
				t.Errorf("metrics.json warnings %q, test_loss_meaning %q", written.Warnings, written.Meaning)
			}
			// Another seed draws other paths.
			other, err := ck.Evaluate(cfg.Data, cfg.EvalPaths, cfg.Seed+1)
			if err != nil {
				t.Fatal(err)
			}
			if other.MMD == rep.MMD && other.ClassifierAccuracy == rep.ClassifierAccuracy {
				t.Errorf("seed %d gave the numbers of seed %d", cfg.Seed+1, cfg.Seed)
			}
		})
	}
}
