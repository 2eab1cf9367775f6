package plots

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/gosde/gosde/dataset"
)

func wave(n int, phase float64) *dataset.Paths {
	p := &dataset.Paths{Times: []float64{0, 1, 2, 3, 4, 5}, Channels: []string{"a", "b"}, N: n}
	for i := 0; i < n; i++ {
		for t := range p.Times {
			p.Values = append(p.Values, math.Sin(float64(t)+phase+float64(i)), float64(i*t)/10)
		}
	}
	p.Values[3] = math.NaN() // a missing reading is skipped, not drawn
	return p
}

func decodes(t *testing.T, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", file, err)
	}
	if r := img.Bounds(); r.Dx() < 100 || r.Dy() < 100 {
		t.Fatalf("%s is only %v", file, r)
	}
}

func TestPlotsWritePNGs(t *testing.T) {
	dir := t.TempDir()
	real, fake := wave(20, 0), wave(15, 0.5)
	if err := Paths(filepath.Join(dir, "paths.png"), real, fake, 10); err != nil {
		t.Fatal(err)
	}
	decodes(t, filepath.Join(dir, "paths.png"))
	if err := Marginals(filepath.Join(dir, "marginals.png"), real, fake, []int{0, 2, 5}); err != nil {
		t.Fatal(err)
	}
	decodes(t, filepath.Join(dir, "marginals.png"))
	curves := []Series{{Name: "loss", Step: []float64{1, 2, 3}, Values: []float64{3, 2, math.NaN()}}}
	if err := Curves(filepath.Join(dir, "curves.png"), curves); err != nil {
		t.Fatal(err)
	}
	decodes(t, filepath.Join(dir, "curves.png"))
}

func TestPlotsErrors(t *testing.T) {
	dir := t.TempDir()
	real := wave(3, 0)
	other := &dataset.Paths{Times: []float64{0, 1}, Channels: []string{"a"}, N: 1, Values: []float64{0, 1}}
	if err := Paths(filepath.Join(dir, "x.png"), real, other, 3); err == nil {
		t.Error("mismatched shapes accepted")
	}
	if err := Marginals(filepath.Join(dir, "x.png"), real, real, []int{9}); err == nil {
		t.Error("time index out of range accepted")
	}
	if err := Curves(filepath.Join(dir, "x.png"), []Series{{Name: "x", Step: []float64{1}}}); err == nil {
		t.Error("ragged curve accepted")
	}
	if err := Paths(filepath.Join(dir, "no", "such", "dir.png"), real, real, 2); err == nil {
		t.Error("unwritable path accepted")
	}
}

func TestChartsWritePNG(t *testing.T) {
	file := filepath.Join(t.TempDir(), "chart.png")
	c := Chart{Title: "cost", XLabel: "batch", YLabel: "µs", Lines: []Line{
		{Name: "a", X: []float64{16, 64, 256}, Y: []float64{100, 40, 30}},
		{Name: "b", X: []float64{16, 64, 256}, Y: []float64{150, 80, 60}},
	}}
	if err := Charts(file, []Chart{c, {Title: "narrow", LegendLeft: true, Lines: []Line{{Name: "c", X: []float64{1, 2}, Y: []float64{5, 5.5}}}}}); err != nil {
		t.Fatal(err)
	}
	decodes(t, file)
	for _, bad := range [][]Chart{
		nil,
		{{Title: "empty"}},
		{{Lines: []Line{{Name: "zero", X: []float64{0, 1}, Y: []float64{1, 2}}}}},
		{{Lines: []Line{{Name: "short", X: []float64{1, 2}, Y: []float64{1}}}}},
	} {
		if err := Charts(filepath.Join(t.TempDir(), "bad.png"), bad); err == nil {
			t.Errorf("Charts(%+v) drew a chart a log scale cannot show", bad)
		}
	}
}

func TestTickLabels(t *testing.T) {
	for x, want := range map[float64]string{16: "16", 1024: "1024", 16384: "16384", 10000: "10k", 100000: "100k", 0.5: "0.5", 1.5e7: "1.5e+07"} {
		if got := tickLabel(x); got != want {
			t.Errorf("tickLabel(%v) = %q, want %q", x, got, want)
		}
	}
}
