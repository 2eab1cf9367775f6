package training

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosde/gosde/host"
)

// Device is validated before anything is opened or written, and the latent SDE refuses
// an explicit GPU for the schemes the GPU engine does not have. This test binary has no
// GPU engine linked in.
func TestDeviceIsChecked(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"unknown", func(c *Config) { c.Device = "tpu" }, `unknown device "tpu"`},
		{"gpu in a CPU build", func(c *Config) { c.Device = "gpu" }, "without GPU support"},
		{"latent on the gpu", func(c *Config) { c.Model, c.Device = "latent-sde", "gpu" }, "without GPU support"},
		{"latent midpoint on the gpu", func(c *Config) {
			c.Model, c.Device, c.Method, c.Adjoint = "latent-sde", "gpu", "midpoint", "continuous"
		}, "reversible-heun --adjoint reversible only"},
	}
	for _, c := range cases {
		cfg := tiny()
		c.mutate(&cfg)
		if err := cfg.Check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Check = %v, want an error mentioning %q", c.name, err, c.want)
		}
		dir := filepath.Join(t.TempDir(), "run")
		if _, err := Run(context.Background(), cfg, dir, false, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Run = %v, want an error mentioning %q", c.name, err, c.want)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("%s: Run created the run directory", c.name)
		}
		// host.Open knows the device only (the scheme is the model's business): it
		// refuses the GPU of a binary without one.
		if _, err := host.Open(cfg.Device); err == nil {
			t.Errorf("%s: host.Open succeeded", c.name)
		}
	}
	for _, dev := range []string{"", "auto", "cpu"} {
		for _, model := range Models {
			cfg := tiny()
			cfg.Model, cfg.Device = model, dev
			if err := cfg.Check(); err != nil {
				t.Errorf("%s on %q: %v", model, dev, err)
			}
			e, err := host.Open(dev)
			if err != nil || e.Name() != "cpu" {
				t.Errorf("host.Open(%q) = %v, %v; want the CPU engine", dev, e, err)
			}
		}
	}
}

// Run records the engine in config.json, the checkpoint, the progress reports and the
// result; a resumed run keeps its device unless told otherwise.
func TestRunRecordsTheEngine(t *testing.T) {
	skipShort(t)
	cfg := tiny()
	cfg.Steps, cfg.Device = 2, "cpu"
	dir := t.TempDir()
	var engines []string
	res, err := Run(context.Background(), cfg, dir, false, func(p Progress) { engines = append(engines, p.Engine) })
	if err != nil {
		t.Fatal(err)
	}
	if res.Engine != "cpu" || len(engines) != 2 || engines[0] != "cpu" || engines[1] != "cpu" {
		t.Fatalf("result engine %q, progress engines %v", res.Engine, engines)
	}
	saved, err := ReadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if saved.Device != "cpu" || saved.Engine != "cpu" {
		t.Fatalf("config.json: device %q, engine %q", saved.Device, saved.Engine)
	}
	// Resuming with no device keeps the run's; an impossible one is refused.
	if _, err := Run(context.Background(), Config{Steps: 3}, dir, true, nil); err != nil {
		t.Fatal(err)
	}
	ck, err := Load(filepath.Join(dir, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	if ck.Config.Device != "cpu" || ck.Config.Engine != "cpu" || len(ck.History.Step) != 3 {
		t.Fatalf("resumed checkpoint: device %q, engine %q, %d steps", ck.Config.Device, ck.Config.Engine, len(ck.History.Step))
	}
	if _, err := Run(context.Background(), Config{Steps: 4, Device: "gpu"}, dir, true, nil); err == nil || !strings.Contains(err.Error(), "without GPU support") {
		t.Fatalf("resume on the gpu in a CPU build: %v", err)
	}
}
