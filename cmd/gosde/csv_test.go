package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosde/gosde/training"
)

// Every CSV flag reaches the run's configuration.
func TestCSVFlags(t *testing.T) {
	got := captureConfig(t)
	args := []string{"train", "--out", t.TempDir(), "--data", "x.csv", "--csv-sep", "tab", "--csv-format", "long", "--id-col", "3",
		"--time-col", "1", "--columns", "4,2", "--time-format", "%d/%m/%Y", "--no-header", "--window", "7", "--stride", "3"}
	if out, err := run(t, args...); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := training.CSVConfig{Sep: "tab", Format: "long", ID: "3", Time: "1", Columns: []string{"4", "2"},
		TimeFormat: "%d/%m/%Y", NoHeader: true, Window: 7, Stride: 3}
	c := got.CSV
	if !slices.Equal(c.Columns, want.Columns) || c.Sep != want.Sep || c.Format != want.Format || c.ID != want.ID || c.Time != want.Time ||
		c.TimeFormat != want.TimeFormat || c.NoHeader != want.NoHeader || c.Window != want.Window || c.Stride != want.Stride {
		t.Errorf("CSV config %+v, want %+v", c, want)
	}
}

// One long semicolon-separated daily series, cut into weekly windows on the command
// line, trains, and eval reads it back the same way from the checkpoint's settings.
func TestTrainAndEvalOnWindows(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("when;temp;wind\n")
	for i := range 400 {
		fmt.Fprintf(&b, "%s;%d;%d\n", time.Date(2021, 3, 1+i, 0, 0, 0, 0, time.UTC).Format("2006-01-02"), i%17, i%5)
	}
	f := filepath.Join(dir, "weather.csv")
	if err := os.WriteFile(f, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(dir, "run")
	out, err := run(t, "train", "--data", f, "--csv-sep", ";", "--time-col", "when", "--columns", "wind,temp", "--window", "7",
		"--steps", "2", "--batch", "8", "--hidden", "3", "--width", "3", "--eval-paths", "16", "--out", runDir)
	if err != nil {
		t.Fatalf("train: %v\n%s", err, out)
	}
	// 57 weekly windows; round(0.8·57) = 46 for training, the last 11 held out.
	for _, want := range []string{"days since the earliest, 2021-03-01", "windows: 57 of 7 points", "split by time", "11, held out", "46 for training"} {
		if !strings.Contains(out, want) {
			t.Errorf("train's output lacks %q:\n%s", want, out)
		}
	}
	out, stderr, err := runSplit(t, "eval", "--checkpoint", filepath.Join(runDir, "model.safetensors"), "--n", "16")
	if err != nil {
		t.Fatalf("eval: %v\n%s", err, stderr)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("eval did not print JSON: %v\n%s", err, out)
	}
}
