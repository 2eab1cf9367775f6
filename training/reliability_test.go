package training

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// helperEnv names the run directory of the child process of TestKill9ThenResume.
const helperEnv = "GOSDE_TRAINING_HELPER_DIR"

// killSteps is the length of the run that TestKill9ThenResume kills and resumes.
const killSteps = 60

// TestHelperProcess is not a test: it is the child process of TestKill9ThenResume,
// a training run slowed down so that it can be killed in the middle.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		t.Skip("only runs as the child of TestKill9ThenResume")
	}
	c := tiny()
	c.Steps, c.CheckpointEvery = killSteps, 2
	_, err := Run(context.Background(), c, dir, false, func(Progress) { time.Sleep(40 * time.Millisecond) })
	if err != nil {
		t.Fatal(err)
	}
}

// kill -9 in the middle of training loses at most the steps since the last checkpoint:
// the checkpoint on disk is whole and holds a multiple of the interval, leftover
// temporary files do no harm and are removed, and --resume trains to the end.
func TestKill9ThenResume(t *testing.T) {
	dir := t.TempDir()
	child := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	child.Env = append(os.Environ(), helperEnv+"="+dir)
	var out strings.Builder
	child.Stdout, child.Stderr = &out, &out
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- child.Wait() }()
	// Wait until the checkpoint has advanced past its first write.
	ckpt := filepath.Join(dir, CheckpointFile)
	deadline := time.Now().Add(60 * time.Second)
	seen := 0
	for seen < 4 {
		select {
		case err := <-done:
			t.Fatalf("the child ended before it was killed (%v):\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			child.Process.Kill()
			t.Fatalf("no checkpoint beyond step %d after 60 s:\n%s", seen, out.String())
		}
		if ck, err := Load(ckpt); err == nil {
			seen = len(ck.History.Step)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Another process holds the directory: a resume now is refused, naming it.
	_, err := Run(context.Background(), Config{}, dir, true, nil)
	if !errors.Is(err, errDirBusy) || !strings.Contains(err.Error(), fmt.Sprintf("gosde process %d", child.Process.Pid)) {
		t.Errorf("resume while process %d trains: %v", child.Process.Pid, err)
	}
	if err := child.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	if err := <-done; err == nil {
		t.Fatalf("the child finished before it was killed:\n%s", out.String())
	}

	ck, err := Load(ckpt)
	if err != nil {
		t.Fatalf("checkpoint after kill -9: %v", err)
	}
	steps := len(ck.History.Step)
	if steps < seen || steps%2 != 0 || steps >= killSteps {
		t.Fatalf("checkpoint after kill -9 holds %d steps; want a multiple of 2 in [%d, %d)", steps, seen, killSteps)
	}
	// What a kill in the middle of a write leaves behind.
	t.Logf("killed with the checkpoint at step %d (first seen %d)", steps, seen)
	stale := filepath.Join(dir, "."+CheckpointFile+".tmp-123456789")
	if err := os.WriteFile(stale, []byte("half a checkpoint"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Config{}, dir, true, nil)
	if err != nil {
		t.Fatalf("resume after kill -9: %v", err)
	}
	if res.Steps != killSteps {
		t.Fatalf("resumed run ended at step %d, want %d", res.Steps, killSteps)
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*")); len(tmp) != 0 {
		t.Errorf("temporary files left after resuming: %v", tmp)
	}
	final, err := Load(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	// The history runs 1, 2, …, killSteps: nothing repeated, nothing missing.
	if len(final.History.Step) != killSteps {
		t.Fatalf("final history holds %d steps, want %d", len(final.History.Step), killSteps)
	}
	for i, s := range final.History.Step {
		if int(s) != i+1 {
			t.Fatalf("history step %d is %v", i, s)
		}
	}
}

// A reconstruction error above the threshold warns exactly once per run.
func TestReconstructionWarningOnce(t *testing.T) {
	skipShort(t)
	c := tiny()
	c.ReconstructionWarn = 1e-30
	var warnings []string
	res, err := Run(context.Background(), c, t.TempDir(), false, func(p Progress) {
		if p.Warning != "" {
			warnings = append(warnings, p.Warning)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || len(res.Warnings) != 1 || res.Warnings[0] != warnings[0] {
		t.Fatalf("%d warnings reported, %d in the result, want 1: %q", len(warnings), len(res.Warnings), warnings)
	}
	for _, want := range []string{"reconstruction error", "--dt", "learning rate", "tanh", "--adjoint backprop"} {
		if !strings.Contains(warnings[0], want) {
			t.Errorf("warning does not mention %q: %s", want, warnings[0])
		}
	}
	// 0 disables it.
	c.ReconstructionWarn = 0
	if res, err := Run(context.Background(), c, t.TempDir(), false, nil); err != nil || len(res.Warnings) != 0 {
		t.Fatalf("disabled warning: %v, %q", err, res.Warnings)
	}
	c.ReconstructionWarn = -1
	if _, err := Run(context.Background(), c, t.TempDir(), false, nil); err == nil {
		t.Fatal("negative threshold accepted")
	}
}

// Sizes that cannot fit are refused before anything is allocated or written.
func TestRefusesSizesThatDoNotFit(t *testing.T) {
	skipShort(t)
	if _, ok := memAvailable(); !ok {
		t.Skip("MemAvailable cannot be read here")
	}
	for name, mutate := range map[string]func(*Config){
		"gan batch":    func(c *Config) { c.GAN.Batch = 1 << 40 },
		"latent batch": func(c *Config) { c.Model, c.Latent.Batch = "latent-sde", 1<<40 },
		"backprop record": func(c *Config) {
			c.Model, c.Adjoint, c.Latent.Batch, c.Latent.Dt = "latent-sde", "backprop", 1<<20, 1e-9
		},
	} {
		c := tiny()
		mutate(&c)
		dir := filepath.Join(t.TempDir(), "run")
		_, err := Run(context.Background(), c, dir, false, nil)
		t.Log(err)
		if err == nil || !strings.Contains(err.Error(), "would need about") || !strings.Contains(err.Error(), "available") {
			t.Errorf("%s: %v", name, err)
		}
		if _, serr := os.Stat(dir); !errors.Is(serr, os.ErrNotExist) {
			t.Errorf("%s: the run directory was created", name)
		}
	}
	// A machine with less memory refuses what fits here, and an unknown amount of
	// memory refuses nothing.
	old := memAvailable
	defer func() { memAvailable = old }()
	memAvailable = func() (float64, bool) { return 1 << 10, true }
	if _, err := Run(context.Background(), tiny(), t.TempDir(), false, nil); err == nil || !strings.Contains(err.Error(), "1 KiB is available") {
		t.Errorf("1 KiB machine: %v", err)
	}
	memAvailable = func() (float64, bool) { return 0, false }
	c := tiny()
	c.Steps = 1
	if _, err := Run(context.Background(), c, t.TempDir(), false, nil); err != nil {
		t.Errorf("unknown memory: %v", err)
	}
}
