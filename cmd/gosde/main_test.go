package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gosde/gosde/dataset"
	"github.com/gosde/gosde/gan"
	"github.com/gosde/gosde/host"
	"github.com/gosde/gosde/training"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

// captureConfig replaces training for the rest of the test: the command's
// configuration is kept in *got and nothing is trained.
func captureConfig(t *testing.T) *training.Config {
	t.Helper()
	got := new(training.Config)
	old := runTraining
	t.Cleanup(func() { runTraining = old })
	runTraining = func(_ context.Context, cfg training.Config, _ string, _ bool, _ func(training.Progress)) (*training.Result, error) {
		*got = cfg
		return &training.Result{}, nil
	}
	return got
}

// runSplit is run with stdout and stderr apart (eval prints JSON on one, warnings on
// the other).
func runSplit(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := newRootCommand()
	var o, e bytes.Buffer
	cmd.SetOut(&o)
	cmd.SetErr(&e)
	cmd.SetArgs(args)
	err = cmd.Execute()
	return o.String(), e.String(), err
}

func TestBadInvocationsAreErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"bench", "nonsense"}, "unknown experiment"},
		{[]string{"bench", "--repeats", "-2", "brownian"}, "--repeats"},
		{[]string{"train", "--device", "gpu"}, "without GPU support"},
		{[]string{"train", "--device", "tpu"}, "unknown device"},
		{[]string{"train", "--model", "vae"}, "unknown model"},
		{[]string{"train", "--steps", "0"}, "steps must be"},
		{[]string{"train", "--batch", "-1"}, "batch must be"},
		{[]string{"train", "--disc-steps", "0"}, "--disc-steps must be at least 1"},
		{[]string{"train", "--lr", "0.01"}, "--lr is not the SDE-GAN's"},
		{[]string{"train", "--model", "sde-sigker", "--lr-gen", "0.01"}, "--lr-gen is the SDE-GAN's"},
		{[]string{"train", "--model", "sde-sigker", "--static", "poly"}, "unknown static kernel"},
		{[]string{"train", "--model", "sde-sigker", "--schedule", "step"}, "learning-rate schedule"},
		{[]string{"train", "--data", "/no/such.csv", "--out", "TMP"}, "neither ou"},
		{[]string{"train", "--resume", "TMP/missing"}, "resuming"},
		{[]string{"train", "--data", "TMP/x.csv", "--csv-sep", ":"}, "--csv-sep"},
		{[]string{"train", "--window", "5"}, "apply to a CSV file given with --data, not to ou"},
		{[]string{"train", "--data", "TMP/x.csv", "--stride", "3"}, "--stride needs --window"},
		{[]string{"train", "--data", "TMP/x.csv", "--time-format", "dd/mm/yyyy"}, "--time-format"},
		{[]string{"train", "--steps", "abc"}, "invalid argument"},
		{[]string{"train", "--log", "y=-1", "--out", "TMP"}, "--log"},
		{[]string{"train", "--log", "=1", "--out", "TMP"}, "no channel name"},
		{[]string{"train", "--log", "Close", "--out", "TMP"}, "the channels are y"},
		{[]string{"sample"}, "required"},
		{[]string{"sample", "--checkpoint", "/no/such", "--out", "TMP/x.csv"}, "no such file"},
		{[]string{"eval", "--checkpoint", "/no/such"}, "no such file"},
		{[]string{"frobnicate"}, "unknown command"},
		// The SDE-GAN's solver is fixed: the latent SDE's solver flags are refused by name.
		{[]string{"train", "--method", "midpoint"}, "--method is the latent SDE's: the SDE-GAN (and sde-sigker, its generator) always solves with reversible Heun and its algebraic adjoint"},
		{[]string{"train", "--adjoint", "backprop"}, "--adjoint is the latent SDE's"},
		{[]string{"train", "--model", "sde-sigker", "--dt", "0.5"}, "--dt is the latent SDE's"},
		{[]string{"train", "--model", "sde-sigker", "--method", "reversible-heun"}, "--method is the latent SDE's"},
		// A method the default adjoint cannot run backwards names the adjoints that can.
		{[]string{"train", "--model", "latent-sde", "--method", "midpoint"}, "use --adjoint continuous or --adjoint backprop"},
		{[]string{"train", "--model", "latent-sde", "--method", "euler"}, "use --adjoint backprop"},
		{[]string{"train", "--model", "latent-sde", "--method", "heun", "--adjoint", "continuous"}, "with --method heun use --adjoint backprop"},
		// A directory stands for its checkpoint only when it holds one.
		{[]string{"sample", "--checkpoint", "TMP", "--out", "TMP/x.csv"}, "a directory without model.safetensors"},
		{[]string{"eval", "--checkpoint", "TMP"}, "a directory without model.safetensors"},
		// --device is checked by every command that computes, before it reads or
		// writes anything. This test binary has no GPU engine linked in.
		{[]string{"train", "--model", "latent-sde", "--device", "gpu"}, "without GPU support"},
		{[]string{"train", "--model", "latent-sde", "--device", "gpu", "--method", "midpoint", "--adjoint", "continuous"}, "reversible-heun --adjoint reversible only"},
		{[]string{"train", "--device", "GPU"}, "unknown device"},
		{[]string{"sample", "--checkpoint", "TMP/none", "--out", "TMP/x.csv", "--device", "gpu"}, "without GPU support"},
		{[]string{"sample", "--checkpoint", "TMP/none", "--out", "TMP/x.csv", "--device", "tpu"}, "unknown device"},
		{[]string{"eval", "--checkpoint", "TMP/none", "--device", "gpu"}, "without GPU support"},
		{[]string{"eval", "--checkpoint", "TMP/none", "--device", "cpu"}, "no such file"},
	}
	for _, c := range cases {
		dir := t.TempDir()
		args := make([]string, len(c.args))
		for i, a := range c.args {
			args[i] = strings.ReplaceAll(a, "TMP", dir)
		}
		out, err := run(t, args...)
		if err == nil || !strings.Contains(err.Error()+out, c.want) {
			t.Errorf("gosde %v: error %v, want one mentioning %q", c.args, err, c.want)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("gosde %v left %d files behind", c.args, len(entries))
		}
	}
}

// train, sample and eval end to end on a tiny model.
func TestTrainSampleEval(t *testing.T) {
	dir := t.TempDir()
	run1 := filepath.Join(dir, "run")
	trainOut, err := run(t, "train", "--steps", "4", "--batch", "8", "--hidden", "3", "--width", "3", "--eval-paths", "32", "--out", run1,
		"--reconstruction-warn", "1e-30")
	out := trainOut
	if err != nil {
		t.Fatalf("train: %v\n%s", err, out)
	}
	// A threshold this small is crossed at every step; the warning is shown once.
	if n := strings.Count(out, "reconstruction error reached"); n != 1 {
		t.Fatalf("reconstruction warning shown %d times, want once:\n%s", n, out)
	}
	if !strings.Contains(out, "metrics.json") || !strings.Contains(out, "paths.png") {
		t.Fatalf("train did not say where its results are:\n%s", out)
	}
	ckpt := filepath.Join(run1, "model.safetensors")
	csv := filepath.Join(dir, "samples.csv")
	if out, err := run(t, "sample", "--checkpoint", ckpt, "--n", "7", "--out", csv); err != nil {
		t.Fatalf("sample: %v\n%s", err, out)
	}
	b, err := os.ReadFile(csv)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if lines[0] != "path,t,y" || len(lines) != 1+7*64 {
		t.Fatalf("samples.csv: header %q, %d lines", lines[0], len(lines))
	}
	// The run directory stands for its checkpoint.
	csv2 := filepath.Join(dir, "samples2.csv")
	if out, err := run(t, "sample", "--checkpoint", run1, "--n", "7", "--out", csv2); err != nil {
		t.Fatalf("sample --checkpoint DIR: %v\n%s", err, out)
	}
	if b2, err := os.ReadFile(csv2); err != nil || !bytes.Equal(b, b2) {
		t.Fatalf("sample --checkpoint %s wrote other paths than --checkpoint %s (%v)", run1, ckpt, err)
	}
	// eval prints the report as JSON on stdout, its warnings on stderr; by default it
	// is the trained report of metrics.json.
	eval := func(ck string, args ...string) (map[string]any, string) {
		t.Helper()
		cmd := newRootCommand()
		var stdout, stderr bytes.Buffer
		cmd.SetOut(&stdout)
		cmd.SetErr(&stderr)
		cmd.SetArgs(append([]string{"eval", "--checkpoint", ck}, args...))
		if err := cmd.Execute(); err != nil {
			t.Fatalf("eval %v: %v\n%s", args, err, stderr.String())
		}
		var rep map[string]any
		if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
			t.Fatalf("eval did not print JSON: %v\n%s", err, stdout.String())
		}
		return rep, stderr.String()
	}
	rep, stderr := eval(ckpt)
	// The run directory stands for its checkpoint.
	if byDir, _ := eval(run1); !reflect.DeepEqual(byDir, rep) {
		t.Errorf("eval of the run directory and of its checkpoint differ:\n%v\n%v", byDir, rep)
	}
	for _, k := range []string{"mmd", "mmd_floor", "ks_max", "classifier_accuracy", "tstr_mse", "trtr_mse", "spread", "warnings", "scale"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("eval JSON lacks %q", k)
		}
	}
	// 32 generated paths: the classifiers are tested on 2·(32 − 22) = 20.
	if !strings.Contains(stderr, "WARNING: the classifiers are tested on only 20 paths") {
		t.Errorf("eval did not warn of the small classifier test set on stderr:\n%s", stderr)
	}
	b, err = os.ReadFile(filepath.Join(run1, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	var written struct{ Trained map[string]any }
	if err := json.Unmarshal(b, &written); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rep, written.Trained) {
		t.Errorf("eval's default report is not train's:\neval  %v\ntrain %v", rep, written.Trained)
	}
	if other, _ := eval(ckpt, "--seed", "2", "--n", "40"); reflect.DeepEqual(other, written.Trained) {
		t.Error("--seed and --n did not change the report")
	}
	if !strings.Contains(trainOut, "WARNING: the classifiers are tested on only 20 paths") ||
		!strings.Contains(trainOut, "8 draws: median") || !strings.Contains(out, "says nothing about quality") {
		t.Errorf("train's summary lacks the warning, the spread or what the test loss means:\n%s", out)
	}
}

func TestBenchJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the quick Brownian benchmark")
	}
	out, err := run(t, "bench", "brownian", "--quick", "--json", "--repeats", "1")
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Machine map[string]any
		Figures []struct {
			Name, Goal string
			Meets      *bool
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	names := map[string]bool{}
	for _, f := range rep.Figures {
		names[f.Name] = true
	}
	for _, want := range []string{"brownian.interval_over_raw", "brownian.vbt_over_interval", "brownian.interval_cache_growth"} {
		if !names[want] {
			t.Errorf("figure %s missing", want)
		}
	}
}

// The GPU figures are always present; in a binary without the GPU engine they are
// null, not met, and say why.
func TestBenchGPUFiguresWithoutGPU(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the quick engine benchmark")
	}
	if host.Check("gpu") == nil {
		t.Skip("this binary has the GPU engine; the GPU figures are measured")
	}
	out, err := run(t, "bench", "engine", "--quick", "--json", "--repeats", "1")
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Machine struct{ GPU string }
		Figures []map[string]any
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if rep.Machine.GPU == "" {
		t.Error("machine.gpu is empty")
	}
	found := false
	for _, f := range rep.Figures {
		if f["name"] != "engine.gpu_over_cpu" {
			continue
		}
		found = true
		if v, ok := f["value"]; !ok || v != nil {
			t.Errorf("engine.gpu_over_cpu value = %v (present %v), want null", v, ok)
		}
		if f["meets"] != false {
			t.Errorf("engine.gpu_over_cpu meets = %v, want false", f["meets"])
		}
		if note, _ := f["note"].(string); !strings.Contains(note, "without GPU support") {
			t.Errorf("engine.gpu_over_cpu note %q does not say why it was not measured", note)
		}
	}
	if !found {
		t.Errorf("engine.gpu_over_cpu missing:\n%s", out)
	}
	text, err := run(t, "bench", "engine", "--quick", "--repeats", "1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "not measured") {
		t.Errorf("the text report does not say the GPU figures were not measured:\n%s", text)
	}
}

func TestBenchPlots(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the quick plots")
	}
	dir := filepath.Join(t.TempDir(), "plots")
	out, err := run(t, "bench", "plots", "--quick", "--repeats", "1", "--out", dir)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, name := range []string{"cost_vs_batch.png", "memory_vs_steps.png"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Errorf("%s is not a PNG: %v", name, err)
		}
	}
	if !strings.Contains(out, "per path") {
		t.Errorf("plots did not print the numbers it drew:\n%s", out)
	}
	if _, err := run(t, "bench", "plots"); err == nil || !strings.Contains(err.Error(), "--out") {
		t.Errorf("bench plots without --out: %v, want an error naming --out", err)
	}
}

// sde-sigker gets its own batch and length unless they are given, and --lr reaches the
// model that has one.
func TestModelDefaultsAndLR(t *testing.T) {
	got := captureConfig(t)
	d := gan.DefaultSigKer()
	cases := []struct {
		args        []string
		batch, step int
		check       func(training.Config) bool
	}{
		{[]string{"--model", "sde-sigker"}, d.Batch, d.Steps, func(c training.Config) bool { return c.GAN.SigKer.LR == d.SigKer.LR }},
		{[]string{"--model", "sde-sigker", "--batch", "32", "--steps", "10", "--lr", "0.01"}, 32, 10, func(c training.Config) bool { return c.GAN.SigKer.LR == 0.01 }},
		{[]string{"--model", "latent-sde", "--lr", "0.002"}, 256, 2000, func(c training.Config) bool { return c.Latent.LR == 0.002 }},
		{[]string{}, 256, 2000, func(c training.Config) bool { return c.GAN.GenLR == 2e-4 && c.Transforms == nil }},
		{[]string{"--log", "Close,Volume=1", "--log", "High"}, 256, 2000, func(c training.Config) bool {
			return slices.Equal(c.Transforms, dataset.Transforms{{Kind: "log", Channel: "Close"}, {Kind: "log", Channel: "Volume", Offset: 1}, {Kind: "log", Channel: "High"}})
		}},
	}
	for _, c := range cases {
		args := append([]string{"train", "--out", t.TempDir()}, c.args...)
		if _, err := run(t, args...); err != nil {
			t.Fatalf("gosde %v: %v", args, err)
		}
		if got.GAN.Batch != c.batch || got.Steps != c.step || got.GAN.Steps != c.step || !c.check(*got) {
			t.Errorf("gosde %v: batch %d, steps %d/%d, config %+v", args, got.GAN.Batch, got.Steps, got.GAN.Steps, got)
		}
	}
}
