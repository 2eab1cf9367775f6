package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
		{[]string{"train", "--data", "/no/such.csv", "--out", "TMP"}, "neither ou"},
		{[]string{"train", "--resume", "TMP/missing"}, "resuming"},
		{[]string{"train", "--steps", "abc"}, "invalid argument"},
		{[]string{"sample"}, "required"},
		{[]string{"sample", "--checkpoint", "/no/such", "--out", "TMP/x.csv"}, "no such file"},
		{[]string{"eval", "--checkpoint", "/no/such"}, "no such file"},
		{[]string{"frobnicate"}, "unknown command"},
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
	out, err := run(t, "train", "--steps", "4", "--batch", "8", "--hidden", "3", "--width", "3", "--eval-paths", "32", "--out", run1,
		"--reconstruction-warn", "1e-30")
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
	out, err = run(t, "eval", "--checkpoint", ckpt, "--n", "32")
	if err != nil {
		t.Fatalf("eval: %v\n%s", err, out)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("eval did not print JSON: %v\n%s", err, out)
	}
	for _, k := range []string{"mmd", "mmd_floor", "ks_max", "classifier_accuracy", "tstr_mse", "trtr_mse"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("eval JSON lacks %q", k)
		}
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
