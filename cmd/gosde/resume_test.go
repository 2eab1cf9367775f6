package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gosde/gosde/training"
)

// A resume is the run that was interrupted: the run's own step count unless a larger
// --steps is given, and every flag that would change the run refused by name.
func TestResumeKeepsTheRun(t *testing.T) {
	dir := t.TempDir()
	if out, err := run(t, "train", "--steps", "3", "--batch", "8", "--hidden", "3", "--width", "3", "--eval-paths", "32",
		"--out", dir, "--checkpoint-every", "0"); err != nil {
		t.Fatalf("train: %v\n%s", err, out)
	}
	old := runTraining
	t.Cleanup(func() { runTraining = old })
	var got training.Config
	runTraining = func(_ context.Context, cfg training.Config, d string, resume bool, _ func(training.Progress)) (*training.Result, error) {
		if !resume || d != dir {
			t.Errorf("runTraining(%q, resume %v)", d, resume)
		}
		var err error
		got, err = training.Resumed(d, cfg)
		return &training.Result{}, err
	}
	if out, err := run(t, "train", "--resume", dir); err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	} else if !strings.Contains(out, "resuming sde-gan on ou") || !strings.Contains(out, "to 3 steps") {
		t.Errorf("resume did not say what it resumes:\n%s", out)
	}
	if got.Steps != 3 || got.GAN.Batch != 8 || got.GAN.Hidden != 3 {
		t.Errorf("resumed run has %d steps, batch %d, hidden %d; want the run's 3, 8, 3", got.Steps, got.GAN.Batch, got.GAN.Hidden)
	}
	if _, err := run(t, "train", "--resume", dir, "--steps", "10", "--max-time", "1m"); err != nil || got.Steps != 10 || got.MaxSeconds != 60 {
		t.Errorf("--steps 10 --max-time 1m: %v, steps %d, max %v s", err, got.Steps, got.MaxSeconds)
	}
	for _, c := range []struct{ args, want string }{
		{"--steps 2", "fewer than the run's 3"},
		{"--model latent-sde", "--model cannot change"},
		{"--batch 16 --seed 4 --lr-gen 0.1", "--batch, --lr-gen, --seed cannot change"},
		{"--data air-quality", "--data cannot change"},
		{"--checkpoint-every 5", "--checkpoint-every cannot change"},
		{"--log y", "--log cannot change"},
	} {
		out, err := run(t, append([]string{"train", "--resume", dir}, strings.Fields(c.args)...)...)
		if err == nil || !strings.Contains(out+err.Error(), c.want) {
			t.Errorf("resume %s: got %v, want an error containing %q\n%s", c.args, err, c.want, out)
		}
	}
}

// The data file is recorded by absolute path and SHA-256: a resume from another
// directory finds it, and an edited file is refused.
func TestResumeRefusesChangedData(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "data.csv")
	var b strings.Builder
	b.WriteString("id,t,y\n")
	for p := range 60 {
		for k := range 5 {
			b.WriteString(strings.Join([]string{strconv.Itoa(p), strconv.Itoa(k), strconv.Itoa((p*7+k*3)%11 - 5)}, ",") + "\n")
		}
	}
	if err := os.WriteFile(csv, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(dir, "run")
	t.Chdir(dir)
	if out, err := run(t, "train", "--data", "data.csv", "--steps", "2", "--batch", "8", "--hidden", "3", "--width", "3",
		"--eval-paths", "16", "--out", runDir); err != nil {
		t.Fatalf("train: %v\n%s", err, out)
	}
	cfg, err := training.ReadConfig(runDir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Data != csv || len(cfg.DataSHA256) != 64 {
		t.Fatalf("config.json records data %q (sha %q), want %q and its SHA-256", cfg.Data, cfg.DataSHA256, csv)
	}
	t.Chdir(t.TempDir())
	if _, err := training.Resumed(runDir, training.Config{}); err != nil {
		t.Fatalf("resume from another directory: %v", err)
	}
	if err := os.WriteFile(csv, []byte(strings.Replace(b.String(), "\n0,1,", "\n0,1,9", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := training.Resumed(runDir, training.Config{}); err == nil || !strings.Contains(err.Error(), "has changed since the run started") {
		t.Fatalf("resume after the data changed: %v", err)
	}
}
