package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosde/gosde/bench"
	"github.com/gosde/gosde/training"
)

// Absurd sizes are refused with the estimate, before anything is written.
func TestTrainRefusesSizesThatDoNotFit(t *testing.T) {
	if _, err := os.ReadFile("/proc/meminfo"); err != nil {
		t.Skip("no /proc/meminfo: the memory check is skipped here")
	}
	dir := t.TempDir()
	out, err := run(t, "train", "--batch", "1099511627776", "--out", filepath.Join(dir, "run"))
	if err == nil || !strings.Contains(err.Error(), "would need about") || !strings.Contains(err.Error(), "available") {
		t.Fatalf("batch 2⁴⁰: %v\n%s", err, out)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a refused run left %d files", len(entries))
	}
}

var fuzzCommands = []string{"train", "sample", "eval", "bench"}

// FuzzTrainFlags runs train, sample, eval and bench with arbitrary flags and values,
// with training and the benchmarks replaced by stubs: the command line must never
// panic or exit, and train must never hand training.Run a new run's configuration that
// Config.Check refuses.
func FuzzTrainFlags(f *testing.F) {
	for _, seed := range []struct {
		cmd  uint8
		args string
	}{
		{0, "--steps 5 --batch 8 --hidden 3 --width 3 --eval-paths 32"},
		{0, "--steps 0"},
		{0, "--batch -1 --width 0"},
		{0, "--model latent-sde --method midpoint --adjoint reversible"},
		{0, "--model latent-sde --dt -1 --lr NaN"},
		{0, "--max-time -5s --checkpoint-every -3"},
		{0, "--reconstruction-warn -1e-3 --eval-paths 1"},
		{0, "--reconstruction-warn NaN"},
		{0, "--resume run --out other"},
		{0, "--device gpu --steps=99999999999999999999"},
		{0, "--seed -1 --swa-start -7 --noise 0 --depth -1"},
		{0, "--help"},
		{0, "--data x.csv --csv-sep tab --time-col 1 --no-header --window 7 --stride 3"},
		{0, "--window 1 --csv-sep : --time-format %Q --csv-format tall"},
		{0, "--data ou --window 5 --columns a,,b"},
		{1, "--checkpoint missing.safetensors --n -3 --out x.csv"},
		{1, "--n abc"},
		{2, "--checkpoint missing --data ou --n 0"},
		{3, "brownian --quick --json --repeats 1"},
		{3, "all --repeats -2"},
		{3, "nonsense extra"},
	} {
		f.Add(seed.cmd, seed.args)
	}
	f.Fuzz(func(t *testing.T, which uint8, rest string) {
		args := append([]string{fuzzCommands[int(which)%len(fuzzCommands)]}, strings.Fields(rest)...)
		for _, a := range args {
			// Only names inside the scratch directory: no /dev/zero, no ../elsewhere.
			if strings.ContainsAny(a, `/\`) || strings.Contains(a, "..") {
				t.Skip()
			}
		}
		t.Chdir(t.TempDir())
		stubTraining(t)
		stubBenchmarks(t)
		run(t, args...) // any error is fine; a panic or an exit is not
	})
}

// stubTraining replaces training.Run, for the rest of t, by a check of what the
// command hands it and a report of two steps.
func stubTraining(t *testing.T) {
	old := runTraining
	t.Cleanup(func() { runTraining = old })
	runTraining = func(_ context.Context, cfg training.Config, dir string, resume bool, report func(training.Progress)) (*training.Result, error) {
		if !resume {
			if err := cfg.Check(); err != nil {
				t.Fatalf("train handed Run a configuration that Check refuses: %v", err)
			}
		}
		report(training.Progress{Stats: training.Stats{Step: 1}, Total: cfg.Steps, Warning: "a warning"})
		report(training.Progress{Stats: training.Stats{Step: cfg.Steps}, Total: cfg.Steps})
		return &training.Result{Dir: dir, Steps: cfg.Steps}, nil
	}
}

// stubBenchmarks replaces every experiment of gosde bench, for the rest of t, by one
// that measures nothing.
func stubBenchmarks(t *testing.T) {
	old := experiments
	t.Cleanup(func() { experiments = old })
	experiments = append(experiments[:0:0], old...)
	for i := range experiments {
		experiments[i].run = func(bench.Settings) (bench.Report, error) { return bench.Report{}, nil }
	}
}
