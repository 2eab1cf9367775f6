package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gosde/gosde/checkpoint"
	"github.com/gosde/gosde/training"
)

// export writes the averaged networks of a run under the example's keys: each tensor
// is the checkpoint's own under its gosde name, the metadata says how to build the
// module and at which times to run it.
func TestExport(t *testing.T) {
	dir := t.TempDir()
	runDir := filepath.Join(dir, "run")
	if out, err := run(t, "train", "--steps", "3", "--batch", "8", "--hidden", "3", "--width", "4", "--depth", "2", "--noise", "2",
		"--eval-paths", "32", "--swa-start", "0", "--out", runDir); err != nil {
		t.Fatalf("train: %v\n%s", err, out)
	}
	ck, err := training.Load(filepath.Join(runDir, training.CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		module string
		args   map[string]int
		pairs  map[string]string // export key → the checkpoint's averaged tensor
		n      int
	}{
		{"generator", map[string]int{"data_size": 1, "initial_noise_size": 5, "noise_size": 2, "hidden_size": 3, "mlp_size": 4, "num_layers": 2},
			map[string]string{
				"_initial._model.0.weight":         "swa.generator.initial.0.weight",
				"_initial._model.4.bias":           "swa.generator.initial.4.bias",
				"_func._drift._model.2.weight":     "swa.generator.drift.2.weight",
				"_func._diffusion._model.4.weight": "swa.generator.diffusion.4.weight",
				"_readout.weight":                  "swa.generator.readout.weight",
				"_readout.bias":                    "swa.generator.readout.bias",
			}, 20},
		{"discriminator", map[string]int{"data_size": 1, "hidden_size": 3, "mlp_size": 4, "num_layers": 2},
			map[string]string{
				"_initial._model.2.weight":      "swa.discriminator.initial.2.weight",
				"_func._module._model.4.weight": "swa.discriminator.field.4.weight",
				"_readout.weight":               "swa.discriminator.readout.weight",
			}, 14},
	} {
		file := filepath.Join(dir, tc.module+".safetensors")
		out, err := run(t, "export", "--checkpoint", runDir, "--module", tc.module, "--out", file)
		if err != nil || !strings.Contains(out, "weight averages") {
			t.Fatalf("export --module %s: %v\n%s", tc.module, err, out)
		}
		f, err := checkpoint.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Tensors) != tc.n {
			t.Errorf("%s: %d tensors, want %d", tc.module, len(f.Tensors), tc.n)
		}
		for key, name := range tc.pairs {
			if got, want := f.Tensors[key].F32, ck.Params[name]; len(want) == 0 || !slices.Equal(got, want) {
				t.Errorf("%s: %s is not the checkpoint's %s", tc.module, key, name)
			}
		}
		if s := f.Tensors["_readout.weight"].Shape; !slices.Equal(s, []int{1, 3}) {
			t.Errorf("%s: _readout.weight has shape %v", tc.module, s)
		}
		var args map[string]int
		if err := json.Unmarshal([]byte(f.Metadata["torchsde.args"]), &args); err != nil || len(args) != len(tc.args) {
			t.Fatalf("%s: torchsde.args %q", tc.module, f.Metadata["torchsde.args"])
		}
		for k, v := range tc.args {
			if args[k] != v {
				t.Errorf("%s: %s = %d, want %d", tc.module, k, args[k], v)
			}
		}
		var times []float64
		if err := json.Unmarshal([]byte(f.Metadata["gosde.times"]), &times); err != nil || len(times) != 64 || times[63] != 63 {
			t.Errorf("%s: gosde.times %q", tc.module, f.Metadata["gosde.times"])
		}
		if f.Metadata["format"] != "pt" || f.Metadata["gosde.dt"] != "1" || f.Metadata["gosde.averaged"] != "true" {
			t.Errorf("%s: metadata %v", tc.module, f.Metadata)
		}
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"export", "--checkpoint", runDir}, "required"},
		{[]string{"export", "--checkpoint", runDir, "--out", filepath.Join(dir, "x"), "--module", "readout"}, "--module \"readout\""},
		{[]string{"export", "--checkpoint", dir, "--out", filepath.Join(dir, "x")}, "a directory without model.safetensors"},
	} {
		if out, err := run(t, bad.args...); err == nil || !strings.Contains(err.Error()+out, bad.want) {
			t.Errorf("gosde %v: %v, want an error mentioning %q", bad.args, err, bad.want)
		}
	}
}
