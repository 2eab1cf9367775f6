package training

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosde/gosde/checkpoint"
	"github.com/gosde/gosde/paramset"
)

// tinyRun trains tiny() for one step into a fresh directory and returns the directory.
func tinyRun(t testing.TB) string {
	t.Helper()
	cfg := tiny()
	cfg.Steps = 1
	dir := t.TempDir()
	if _, err := Run(context.Background(), cfg, dir, false, nil); err != nil {
		t.Fatal(err)
	}
	return dir
}

// resave writes f (edited) back to a new file, with a valid checksum.
func resave(t *testing.T, f checkpoint.File) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), CheckpointFile)
	if err := checkpoint.Save(path, f); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCountersAreStoredExactly: the training counters are int64 in the checkpoint, so
// that a step count beyond 2^24 (where float32 stops holding every whole number)
// survives a save and a load; a checkpoint with float32 counters, as written before,
// still loads.
func TestCountersAreStoredExactly(t *testing.T) {
	skipShort(t)
	dir := tinyRun(t)
	f, err := checkpoint.Load(filepath.Join(dir, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{paramset.KeyStep, paramset.KeyUpdates, paramset.KeySWAN} {
		if tn := f.Tensors[k]; len(tn.I64) != 1 || tn.F32 != nil {
			t.Fatalf("%s is stored as %+v, want one int64", k, tn)
		}
	}
	if got := f.Tensors[paramset.KeyStep].I64[0]; got != 1 {
		t.Fatalf("step counter %d after one step", got)
	}
	const big = 1<<24 + 1 // float32(big) == 1<<24
	f.Tensors[paramset.KeyStep] = checkpoint.Tensor{Shape: []int{1}, I64: []int64{big}}
	f.Tensors[paramset.KeyUpdates] = checkpoint.Tensor{Shape: []int{1}, I64: []int64{big}}
	ck, err := Load(resave(t, f))
	if err != nil {
		t.Fatal(err)
	}
	m, err := ck.Model()
	if err != nil {
		t.Fatal(err)
	}
	if m.Steps() != big {
		t.Errorf("model at step %d, want %d", m.Steps(), big)
	}
	m.Close()
	// Saved again, the counter is the same integer.
	data, err := LoadData(ck.Config)
	if err != nil {
		t.Fatal(err)
	}
	m, _ = ck.Model()
	defer m.Close()
	again := filepath.Join(t.TempDir(), CheckpointFile)
	if err := Save(again, m, ck.Config, data, ck.History, ck.Untrained); err != nil {
		t.Fatal(err)
	}
	g, err := checkpoint.Load(again)
	if err != nil {
		t.Fatal(err)
	}
	if got := g.Tensors[paramset.KeyStep].I64; len(got) != 1 || got[0] != big {
		t.Errorf("saved step counter %v, want [%d]", got, big)
	}
	// float32 counters (gosde before this change) load; a fraction or negative does not.
	for v, ok := range map[float32]bool{1: true, 1 << 24: true, 0.5: false, -1: false} {
		f.Tensors[paramset.KeyStep] = checkpoint.Tensor{Shape: []int{1}, F32: []float32{v}}
		f.Tensors[paramset.KeyUpdates] = checkpoint.Tensor{Shape: []int{1}, F32: []float32{0}}
		ck, err := Load(resave(t, f))
		if (err == nil) != ok {
			t.Errorf("float32 step counter %v: %v", v, err)
			continue
		}
		if ok {
			if n, _ := paramset.DecodeCounter(ck.Params[paramset.KeyStep]); n != int(v) {
				t.Errorf("float32 step counter %v read as %d", v, n)
			}
		}
	}
}

// TestLoadBoundsTheMetadata: times and channels that no run could have had, and that
// would size every buffer of the model built from them, are refused by Load.
func TestLoadBoundsTheMetadata(t *testing.T) {
	skipShort(t)
	dir := tinyRun(t)
	f, err := checkpoint.Load(filepath.Join(dir, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	manyTimes := make([]float64, 1_000_000)
	for i := range manyTimes {
		manyTimes[i] = float64(i)
	}
	channels := make([]string, 200)
	ones := make([]float64, 200)
	for i := range channels {
		channels[i], ones[i] = fmt.Sprint("c", i), 1
	}
	js := func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	}
	for _, tc := range []struct {
		name string
		meta map[string]string
		err  string
	}{
		{"10⁶ times × 200 channels", map[string]string{metaTimes: js(manyTimes), metaChannels: js(channels),
			metaNorm: js(map[string][]float64{"mean": ones, "std": ones})}, "1000000 times × 200 channels"},
		{"one time", map[string]string{metaTimes: "[0]"}, "1 times × 1 channels"},
		{"times not increasing", map[string]string{metaTimes: js(append(manyTimes[:63:63], 1))}, "not strictly increasing"},
		{"no channel", map[string]string{metaChannels: "[]", metaNorm: `{"mean":[],"std":[]}`}, "no channels"},
		{"duplicate channels", map[string]string{metaChannels: `["y","y"]`, metaNorm: `{"mean":[0,0],"std":[1,1]}`}, "duplicate channel"},
	} {
		g := checkpoint.File{Tensors: f.Tensors, Metadata: map[string]string{}}
		for k, v := range f.Metadata {
			g.Metadata[k] = v
		}
		for k, v := range tc.meta {
			g.Metadata[k] = v
		}
		if _, err := Load(resave(t, g)); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
		}
	}
}

// TestSampleAndEvalCheckMemory: sample and eval refuse, before allocating, a number of
// paths that does not fit the available memory, as train refuses its sizes.
func TestSampleAndEvalCheckMemory(t *testing.T) {
	skipShort(t)
	dir := tinyRun(t)
	ck, err := Load(filepath.Join(dir, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	old := memAvailable
	defer func() { memAvailable = old }()
	// 10,000 paths × 64 times × 1 channel are 5 MB as float64, and 8 draws 41 MB.
	memAvailable = func() (float64, bool) { return 8 << 20, true }
	if _, err := ck.Sample(10_000, 1); err == nil || !strings.Contains(err.Error(), "give a smaller --n") || !strings.Contains(err.Error(), "8 MiB is available") {
		t.Errorf("Sample: %v", err)
	}
	if err := ck.CheckSampleMemory(10_000); err == nil {
		t.Error("CheckSampleMemory: no error")
	}
	if _, err := ck.Evaluate("ou", 10_000, 1); err == nil || !strings.Contains(err.Error(), "give a smaller --n") {
		t.Errorf("Evaluate: %v", err)
	}
	if _, err := ck.Sample(100, 1); err != nil {
		t.Errorf("100 paths in 8 MiB: %v", err)
	}
	// CSV text counts for sample: 2,000 paths are 1 MB as float64 and about 15 MB as
	// text (two growing buffers).
	if err := ck.CheckSampleMemory(2000); err == nil {
		t.Error("CheckSampleMemory(2000) in 8 MiB: no error")
	}
	e := EstimateSampleMemory(ck.Config, 64, 1, 2000, 1, true)
	if want := 2000.0 * 64 * 8; e.Samples < want+2*2000*64*3*csvBytesPerValue || e.Buffers <= 0 {
		t.Errorf("estimate %+v", e)
	}
	// A crafted configuration of absurd widths is refused before the model is built
	// (width 10⁵ and 3 hidden layers: 10¹⁰ weights per network).
	memAvailable = old
	if _, ok := memAvailable(); ok {
		wide := *ck
		wide.Config.GAN.Width, wide.Config.GAN.Depth = 100_000, 3
		if _, err := wide.Sample(4, 1); err == nil || !strings.Contains(err.Error(), "model is too large") {
			t.Errorf("width 10⁵, depth 3: %v", err)
		}
	}
	memAvailable = func() (float64, bool) { return 0, false }
	if err := ck.CheckSampleMemory(1 << 40); err != nil {
		t.Errorf("unknown memory: %v", err)
	}
}

// TestInterruptedEvaluations: a signal during the untrained model's evaluation stops
// the run there with an error (no checkpoint, nothing to resume, and resume says so);
// one during the final evaluation stops it with ErrInterrupted and the final checkpoint
// written, and a resume finishes it. Before, both evaluations ran to the end, and the
// final one then returned success.
func TestInterruptedEvaluations(t *testing.T) {
	skipShort(t)
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, ".model.safetensors.tmp-12345")
	if err := os.WriteFile(stale, []byte("left by a killed run"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, tiny(), dir, false, nil)
	if err == nil || !strings.Contains(err.Error(), "before its first step") {
		t.Fatalf("interrupted before training: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, CheckpointFile)); err == nil {
		t.Error("a checkpoint was written")
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("the stale temporary file is still there")
	}
	_, err = Run(context.Background(), Config{}, dir, true, nil)
	if err == nil || !strings.Contains(err.Error(), "no checkpoint yet") || !strings.Contains(err.Error(), "start it over") {
		t.Errorf("resuming before the first checkpoint: %v", err)
	}

	cfg := tiny()
	dir = t.TempDir()
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	_, err = Run(ctx, cfg, dir, false, func(p Progress) {
		if p.Step == cfg.Steps {
			cancel() // the signal arrives as the last step ends: during the final evaluation
		}
	})
	if err != ErrInterrupted {
		t.Fatalf("interrupted during the final evaluation: %v, want ErrInterrupted", err)
	}
	if _, err := os.Stat(filepath.Join(dir, MetricsFile)); err == nil {
		t.Error("metrics.json was written by an interrupted evaluation")
	}
	ck, err := Load(filepath.Join(dir, CheckpointFile))
	if err != nil || len(ck.History.Step) != cfg.Steps {
		t.Fatalf("final checkpoint: %v", err)
	}
	res, err := Run(context.Background(), Config{}, dir, true, nil)
	if err != nil || res.Steps != cfg.Steps {
		t.Fatalf("resume after an interrupted final evaluation: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, MetricsFile)); err != nil {
		t.Error(err)
	}
}

// TestSeriesMinimum: independent series must number at least 38 (20% held out, rounded,
// is then 8, what the metrics need), as the README says; with fewer nothing is written.
func TestSeriesMinimum(t *testing.T) {
	csv := func(n int) string {
		var b strings.Builder
		b.WriteString("id,t,y\n")
		for i := range n {
			for k := range 3 {
				fmt.Fprintf(&b, "s%d,%d,%g\n", i, k, math.Sin(float64(i+k)))
			}
		}
		path := filepath.Join(t.TempDir(), "series.csv")
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	cfg := tiny()
	cfg.Data = csv(37)
	dir := filepath.Join(t.TempDir(), "run")
	_, err := Run(context.Background(), cfg, dir, false, nil)
	if err == nil || !strings.Contains(err.Error(), "holds 37 series; training needs at least 38") {
		t.Errorf("37 series: %v", err)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("a refused run created its directory")
	}
	cfg.Data = csv(38)
	d, err := LoadData(cfg)
	if err != nil || d.Test.N != 8 || d.Train.N != 30 {
		t.Errorf("38 series: %v", err)
	}
}

// metaKeys are the metadata a gosde checkpoint carries, in an order for the fuzzer.
var metaKeys = []string{metaModel, metaConfig, metaNorm, metaChannels, metaTimes, metaTimeMap, metaHistory, metaUntrained}

// FuzzLoadMetadata: a checkpoint whose metadata (the header's JSON strings) is anything,
// with a valid checksum, loads or is refused without a panic; what loads has times and
// channels a model can be built for, within the bounds.
func FuzzLoadMetadata(f *testing.F) {
	dir := tinyRun(f)
	file, err := checkpoint.Load(filepath.Join(dir, CheckpointFile))
	if err != nil {
		f.Fatal(err)
	}
	for i, k := range metaKeys {
		f.Add(uint8(i), file.Metadata[k])
	}
	f.Add(uint8(4), "[0,1e308,Infinity]")
	f.Add(uint8(4), "[1,0]")
	f.Add(uint8(3), `["y","y"]`)
	f.Add(uint8(1), `{"model":"sde-gan","gan":{"Width":1000000000,"Depth":9}}`)
	f.Add(uint8(2), `{"mean":[0],"std":[0]}`)
	f.Fuzz(func(t *testing.T, which uint8, value string) {
		g := checkpoint.File{Tensors: file.Tensors, Metadata: map[string]string{}}
		for k, v := range file.Metadata {
			g.Metadata[k] = v
		}
		g.Metadata[metaKeys[int(which)%len(metaKeys)]] = value
		path := filepath.Join(t.TempDir(), CheckpointFile)
		if err := checkpoint.Save(path, g); err != nil {
			return // a header beyond the format's bound
		}
		ck, err := Load(path)
		if err != nil {
			return
		}
		if len(ck.Times) < 2 || len(ck.Channels) < 1 || len(ck.Times)*len(ck.Channels) > 1<<27 {
			t.Fatalf("loaded %d times × %d channels", len(ck.Times), len(ck.Channels))
		}
		for i := 1; i < len(ck.Times); i++ {
			if !(ck.Times[i] > ck.Times[i-1]) || math.IsInf(ck.Times[i], 0) {
				t.Fatalf("loaded times %v", ck.Times)
			}
		}
	})
}
