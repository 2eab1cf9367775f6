package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosde/gosde/training"
)

// train --out onto a run is refused unless --overwrite asks to start it over, and
// --overwrite beside --resume is refused.
func TestTrainOntoARun(t *testing.T) {
	dir := t.TempDir()
	args := []string{"train", "--steps", "2", "--batch", "8", "--hidden", "3", "--width", "3", "--eval-paths", "32", "--out", dir}
	if out, err := run(t, args...); err != nil {
		t.Fatalf("train: %v\n%s", err, out)
	}
	ckpt := filepath.Join(dir, training.CheckpointFile)
	before, err := os.ReadFile(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, append(args, "--seed", "2")...); err == nil || !strings.Contains(err.Error(), "holds a run already") ||
		!strings.Contains(err.Error(), "--overwrite") {
		t.Fatalf("train onto a run: %v\n%s", err, out)
	}
	if after, _ := os.ReadFile(ckpt); string(after) != string(before) {
		t.Fatal("the refused run changed the checkpoint")
	}
	if out, err := run(t, "train", "--resume", dir, "--overwrite"); err == nil || !strings.Contains(err.Error(), "give one of them") {
		t.Fatalf("--resume with --overwrite: %v\n%s", err, out)
	}
	if out, err := run(t, append(args, "--seed", "2", "--overwrite")...); err != nil {
		t.Fatalf("--overwrite: %v\n%s", err, out)
	}
	if cfg, err := training.ReadConfig(dir); err != nil || cfg.Seed != 2 {
		t.Fatalf("after --overwrite: seed %d, %v", cfg.Seed, err)
	}
}
