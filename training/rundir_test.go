package training

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runFiles reads the files of a run directory, by name.
func runFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	for _, name := range []string{ConfigFile, CheckpointFile, MetricsFile, TimingsFile, PathsPlot, MarginalsPlot, CurvesPlot} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = b
	}
	return files
}

func sameFiles(t *testing.T, what string, want, got map[string][]byte) {
	t.Helper()
	for name, b := range want {
		if !bytes.Equal(b, got[name]) {
			t.Errorf("%s: %s changed", what, name)
		}
	}
}

// While a run trains into a directory, a second run into it, new or resumed, is refused
// with a message naming the holder, and touches nothing there: not the run's files, not
// its temporary files.
func TestRunDirectoryHasAnOwner(t *testing.T) {
	dir := t.TempDir()
	c := tiny()
	live := filepath.Join(dir, "."+CheckpointFile+".tmp-424242")
	var errs []error
	res, err := Run(context.Background(), c, dir, false, func(p Progress) {
		if p.Step != 3 {
			return
		}
		// A write of the live run, caught between its create and its rename.
		if err := os.WriteFile(live, []byte("the live run's next checkpoint"), 0o644); err != nil {
			t.Fatal(err)
		}
		other := c
		other.Seed = 2
		_, e1 := Run(context.Background(), other, dir, false, nil) // onto a live run: busy, not "resume it"
		other.Overwrite = true
		_, e2 := Run(context.Background(), other, dir, false, nil)
		_, e3 := Run(context.Background(), Config{}, dir, true, nil)
		errs = []error{e1, e2, e3}
		if _, err := os.Stat(live); err != nil {
			t.Errorf("the live run's temporary file was removed: %v", err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 3 {
		t.Fatal("the run never reached step 3")
	}
	host, _ := os.Hostname()
	for i, e := range errs {
		if !errors.Is(e, errDirBusy) {
			t.Errorf("second run %d: %v, want the directory refused as in use", i, e)
			continue
		}
		for _, want := range []string{fmt.Sprintf("gosde process %d", os.Getpid()), host, "started", "--resume " + dir} {
			if !strings.Contains(e.Error(), want) {
				t.Errorf("second run %d: %q does not say %q", i, e, want)
			}
		}
	}
	ck, err := Load(filepath.Join(dir, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	if saved, err := ReadConfig(dir); err != nil || saved.Seed != 1 || ck.Config.Seed != 1 || len(ck.History.Step) != res.Steps {
		t.Fatalf("after the refused runs: config.json seed %d (%v), checkpoint seed %d with %d steps", saved.Seed, err, ck.Config.Seed, len(ck.History.Step))
	}
	// Released at the end: the directory can be resumed.
	os.Remove(live)
	if _, err := Run(context.Background(), Config{Steps: res.Steps + 1}, dir, true, nil); err != nil {
		t.Fatalf("resume after the run ended: %v", err)
	}
}

// A directory held through its lock file by someone else (here this test) is refused,
// and taken once released.
func TestHeldDirectoryIsRefused(t *testing.T) {
	dir := t.TempDir()
	l, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := tiny()
	c.Steps = 1
	if _, err := Run(context.Background(), c, dir, false, nil); !errors.Is(err, errDirBusy) ||
		!strings.Contains(err.Error(), fmt.Sprint(os.Getpid())) {
		t.Fatalf("run into a held directory: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the refused run left %d files beside the lock file", len(entries)-1)
	}
	if err := l.release(); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), c, dir, false, nil); err != nil {
		t.Fatalf("run after release: %v", err)
	}
}

// A new run onto a directory that holds a run is refused unless it is to start the run
// over; starting over replaces the run only once the new one has begun, so a new run
// that fails before then leaves the old one whole.
func TestExistingRunRefusedUnlessOverwrite(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	c := tiny()
	c.Steps = 2
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), c, dir, false, nil); err != nil {
		t.Fatalf("new run into a directory without a run: %v", err)
	}
	before := runFiles(t, dir)
	again := c
	again.Seed = 2
	_, err := Run(context.Background(), again, dir, false, nil)
	for _, want := range []string{"holds a run already", ConfigFile, CheckpointFile, "--resume " + dir, "--overwrite"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("new run onto a run: %v, want it refused saying %q", err, want)
		}
	}
	sameFiles(t, "refused run", before, runFiles(t, dir))

	bad := again
	bad.Overwrite, bad.Data = true, filepath.Join(dir, "missing.csv")
	if _, err := Run(context.Background(), bad, dir, false, nil); err == nil {
		t.Fatal("a run on a missing file trained")
	}
	sameFiles(t, "failed start-over", before, runFiles(t, dir))

	again.Overwrite, again.Steps = true, 3
	if _, err := Run(context.Background(), again, dir, false, nil); err != nil {
		t.Fatalf("start over: %v", err)
	}
	saved, err := ReadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	ck, err := Load(filepath.Join(dir, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	if saved.Seed != 2 || ck.Config.Seed != 2 || len(ck.History.Step) != 3 {
		t.Fatalf("after starting over: config.json seed %d, checkpoint seed %d with %d steps", saved.Seed, ck.Config.Seed, len(ck.History.Step))
	}
	if b, err := os.ReadFile(filepath.Join(dir, "notes.txt")); err != nil || string(b) != "mine" {
		t.Errorf("starting over touched a file that is not the run's: %q, %v", b, err)
	}
}

// A run directory whose config.json no longer matches its checkpoint is refused on
// resume, naming each setting that differs; what a resume may change is no
// disagreement.
func TestResumeRefusesConfigThatDisagreesWithCheckpoint(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	c := tiny()
	c.Steps = 2
	if _, err := Run(context.Background(), c, dir, false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Resumed(dir, Config{Steps: 4, MaxSeconds: 9, Device: "cpu"}); err != nil {
		t.Fatalf("resume to more steps: %v", err)
	}
	edited, err := ReadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	edited.Seed, edited.GAN.GenLR = 7, 0.5
	if err := writeJSON(filepath.Join(dir, ConfigFile), edited); err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(dir, CheckpointFile)
	before, err := os.ReadFile(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), Config{}, dir, true, nil)
	wantGenLR := fmt.Sprintf("gan.GenLR (config.json 0.5, checkpoint %v)", c.GAN.GenLR)
	for _, want := range []string{"disagrees", "seed (config.json 7, checkpoint 1)", wantGenLR, "--overwrite"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("resume with an edited config.json: %v, want it refused saying %q", err, want)
		}
	}
	if err != nil && strings.Count(err.Error(), "checkpoint ") != 3 { // the file's name and the two settings
		t.Errorf("the refusal names other settings than the two changed: %v", err)
	}
	if after, _ := os.ReadFile(ckpt); !bytes.Equal(before, after) {
		t.Error("the refused resume changed the checkpoint")
	}
}

// A run whose loss turns non-finite keeps the last checkpoint whose model can be
// sampled, and says which step it holds: here (learning rate 10³⁰) step 1's weights
// are finite but their prior diverges, so the checkpoint keeps the untrained model,
// whether or not step 1 was due a checkpoint; at learning rate 0.3 step 2's are usable.
func TestNonFiniteKeepsASampleableCheckpoint(t *testing.T) {
	for _, c := range []struct {
		lr         float64
		every      int
		wantSteps  int
		wantInText string
	}{
		{1e6, 0, 0, "untrained weights (step 0)"},
		{1e6, 1, 0, "untrained weights (step 0)"},
		{0.3, 0, 2, "weights after step 2"},
	} {
		cfg := tinyLatent()
		cfg.Steps, cfg.CheckpointEvery, cfg.Latent.LR = 20, c.every, c.lr
		dir := t.TempDir()
		_, err := Run(context.Background(), cfg, dir, false, nil)
		if err == nil || !strings.Contains(err.Error(), c.wantInText) {
			t.Errorf("lr %g, checkpoint every %d: %v, want it to say the checkpoint holds the %s", c.lr, c.every, err, c.wantInText)
			continue
		}
		ck, err := Load(filepath.Join(dir, CheckpointFile))
		if err != nil {
			t.Fatal(err)
		}
		if len(ck.History.Step) != c.wantSteps {
			t.Errorf("lr %g: the checkpoint holds %d steps, want %d", c.lr, len(ck.History.Step), c.wantSteps)
		}
		p, err := ck.Sample(50, 3)
		if err != nil {
			t.Errorf("lr %g: the kept checkpoint cannot be sampled: %v", c.lr, err)
			continue
		}
		for _, v := range p.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("lr %g: the kept checkpoint samples %v", c.lr, v)
			}
		}
	}
}

// probe refuses a state with a non-finite parameter, even when it samples finitely.
func TestProbeRefusesNonFiniteParameters(t *testing.T) {
	cfg := tiny()
	m, err := newModel(&cfg, 1, []float64{0, 1, 2, 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if why := probe(m, 1); why != nil {
		t.Fatalf("the untrained model refused: %v", why)
	}
	ps := m.Params()
	for name, v := range ps {
		if strings.Contains(name, "disc") {
			v[0] = float32(math.Inf(1)) // the generator, which samples, stays finite
			if err := m.SetParams(ps); err != nil {
				t.Fatal(err)
			}
			if why := probe(m, 1); why == nil || !strings.Contains(why.Error(), name) {
				t.Fatalf("a state with %s[0] = +Inf: %v", name, why)
			}
			return
		}
	}
	t.Fatal("no discriminator parameter found")
}

// The same seed gives the same checkpoint file, byte for byte; the steps' timings are
// kept beside it, in timings.json.
func TestCheckpointIsByteIdentical(t *testing.T) {
	skipShort(t)
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if _, err := Run(context.Background(), tiny(), dir, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	fa, _ := os.ReadFile(filepath.Join(a, CheckpointFile))
	fb, _ := os.ReadFile(filepath.Join(b, CheckpointFile))
	if len(fa) == 0 || !bytes.Equal(fa, fb) {
		t.Fatal("two runs of the same seed wrote different checkpoint files")
	}
	sec := readTimings(a, []float64{1, 2, 3, 4, 5, 6})
	for i, s := range sec {
		if !(s > 0) {
			t.Fatalf("timings.json: step %d took %v s", i+1, s)
		}
	}
}

// A new run refused for its settings, even by the model's own checks, creates nothing:
// not its directory, not a lock file.
func TestRefusedRunCreatesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	c := tiny()
	c.Model, c.GAN.SigKer.Static = "sde-sigker", "poly"
	if _, err := Run(context.Background(), c, dir, false, nil); err == nil || !strings.Contains(err.Error(), "poly") {
		t.Fatalf("static kernel poly: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the refused run created its directory: %v", err)
	}
}

// A resume to a larger --steps is what the next resume continues: config.json records
// it.
func TestLongerResumeIsRecorded(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	cfg := tiny()
	cfg.Steps = 2
	if _, err := Run(context.Background(), cfg, dir, false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), Config{Steps: 4}, dir, true, nil); err != nil {
		t.Fatal(err)
	}
	got, err := Resumed(dir, Config{})
	if err != nil || got.Steps != 4 {
		t.Fatalf("after resuming to 4 steps, a plain resume goes to %d (%v)", got.Steps, err)
	}
}
