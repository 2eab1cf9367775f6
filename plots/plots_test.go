package plots

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
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

// channels is n paths of c channels at 10 times, channel k on the scale 10^k.
func channels(n, c int) *dataset.Paths {
	p := &dataset.Paths{N: n}
	for t := range 10 {
		p.Times = append(p.Times, float64(t))
	}
	for k := range c {
		p.Channels = append(p.Channels, fmt.Sprintf("channel %d", k))
	}
	for i := range n {
		for t := range 10 {
			for k := range c {
				p.Values = append(p.Values, math.Pow(10, float64(k))*math.Sin(float64(i+t+k)))
			}
		}
	}
	return p
}

func decodes(t *testing.T, file string) image.Rectangle {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", file, err)
	}
	r := img.Bounds()
	if r.Dx() < 100 || r.Dy() < 100 {
		t.Fatalf("%s is only %v", file, r)
	}
	if r.Dx() > MaxWidth || r.Dy() > MaxHeight {
		t.Fatalf("%s is %d×%d pixels, more than the bound %d×%d", file, r.Dx(), r.Dy(), MaxWidth, MaxHeight)
	}
	return r
}

func TestPlotsWritePNGs(t *testing.T) {
	dir := t.TempDir()
	real, fake := wave(20, 0), wave(15, 0.5)
	u := Units{Time: "days", Channels: map[string]string{"a": "m/s"}}
	if err := Paths(filepath.Join(dir, "paths.png"), real, fake, 10, u); err != nil {
		t.Fatal(err)
	}
	decodes(t, filepath.Join(dir, "paths.png"))
	if err := Marginals(filepath.Join(dir, "marginals.png"), real, fake, []int{0, 2, 5}, u); err != nil {
		t.Fatal(err)
	}
	decodes(t, filepath.Join(dir, "marginals.png"))
	curves := []Series{{Name: "loss", Step: []float64{1, 2, 3}, Values: []float64{3, 2, math.NaN()}}}
	if err := Curves(filepath.Join(dir, "curves.png"), curves); err != nil {
		t.Fatal(err)
	}
	decodes(t, filepath.Join(dir, "curves.png"))
}

// Many channels are laid out in a grid within the bounded picture, however many there
// are; channels beyond MaxChannels add only the header's note.
func TestPictureSizeBounded(t *testing.T) {
	dir := t.TempDir()
	var sizes []image.Rectangle
	for _, c := range []int{1, 4, MaxChannels, 30} {
		real, fake := channels(40, c), channels(35, c)
		file := filepath.Join(dir, fmt.Sprintf("paths%d.png", c))
		if err := Paths(file, real, fake, 30, Units{}); err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, decodes(t, file))
		file = filepath.Join(dir, fmt.Sprintf("marginals%d.png", c))
		if err := Marginals(file, real, fake, []int{0, 1, 2, 3, 4, 9}, Units{}); err != nil {
			t.Fatal(err)
		}
		decodes(t, file)
	}
	if sizes[2].Dx() != sizes[3].Dx() || sizes[3].Dy()-sizes[2].Dy() > 40 {
		t.Errorf("%d channels drew %v, 30 channels %v: only the first %d are drawn (the header notes it)", MaxChannels, sizes[2], sizes[3], MaxChannels)
	}
	if w := sizes[1].Dx(); w <= sizes[1].Dy() {
		t.Errorf("4 channels drew a %v picture: the pairs of panels should lie in a grid, not a column", sizes[1])
	}
}

func TestPlotsErrors(t *testing.T) {
	dir := t.TempDir()
	real := wave(3, 0)
	other := &dataset.Paths{Times: []float64{0, 1}, Channels: []string{"a"}, N: 1, Values: []float64{0, 1}}
	single := &dataset.Paths{Times: []float64{0}, Channels: []string{"a"}, N: 1, Values: []float64{0}}
	for name, err := range map[string]error{
		"mismatched shapes":    Paths(filepath.Join(dir, "x.png"), real, other, 3, Units{}),
		"no paths to draw":     Paths(filepath.Join(dir, "x.png"), real, real, 0, Units{}),
		"a single time":        Paths(filepath.Join(dir, "x.png"), single, single, 1, Units{}),
		"nil data":             Marginals(filepath.Join(dir, "x.png"), nil, real, []int{0}, Units{}),
		"time out of range":    Marginals(filepath.Join(dir, "x.png"), real, real, []int{9}, Units{}),
		"no times":             Marginals(filepath.Join(dir, "x.png"), real, real, nil, Units{}),
		"too many times":       Marginals(filepath.Join(dir, "x.png"), real, real, []int{0, 1, 2, 3, 4, 5, 0}, Units{}),
		"ragged curve":         Curves(filepath.Join(dir, "x.png"), []Series{{Name: "x", Step: []float64{1}}}),
		"no curves":            Curves(filepath.Join(dir, "x.png"), nil),
		"unwritable directory": Paths(filepath.Join(dir, "no", "such", "dir.png"), real, real, 2, Units{}),
	} {
		if err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed calls left %d files behind", len(entries))
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

func TestFormatTicks(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want []string
	}{
		{[]float64{0, 2500, 5000, 7500}, []string{"0", "2500", "5000", "7500"}},
		{[]float64{-20, 0, 20}, []string{"-20", "0", "20"}},
		{[]float64{0, 0.5, 1, 1.5}, []string{"0.0", "0.5", "1.0", "1.5"}},
		{[]float64{0.1, 0.2, 0.30000000000000004}, []string{"0.1", "0.2", "0.3"}},
		{[]float64{-0.05, -1e-17, 0.05}, []string{"-0.05", "0.00", "0.05"}},
		{[]float64{1005, 1010, 1015}, []string{"1005", "1010", "1015"}},
		{[]float64{0.005, 0.01, 0.015}, []string{"0.005", "0.010", "0.015"}},
		{[]float64{1e6, 2e6, 3e6}, []string{"1e6", "2e6", "3e6"}},
		{[]float64{2.5e6, 5e6}, []string{"2.5e6", "5.0e6"}},
		{[]float64{2e-5, 4e-5, 6e-5}, []string{"2e-5", "4e-5", "6e-5"}},
		{[]float64{42}, []string{"42"}},
		{[]float64{0}, []string{"0"}},
		{nil, []string{}},
	} {
		if got := formatTicks(c.in); !slices.Equal(got, c.want) {
			t.Errorf("formatTicks(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestFormatNumber(t *testing.T) {
	for x, want := range map[float64]string{1: "1", 1000: "1000", 200000: "200000", 0.002: "0.002", 5 * 0.1: "0.5",
		3 * 0.1: "0.3", 1e-5: "1e-5", 2e6: "2e6", -0.01: "-0.01", 0: "0",
		// A log axis's 5·10⁻⁶, computed, is 4.9999999999999996e-06.
		5 * math.Pow(10, float64(-6)): "5e-6", 2 * math.Pow(10, float64(7)): "2e7"} {
		if got := formatNumber(x); got != want {
			t.Errorf("formatNumber(%v) = %q, want %q", x, got, want)
		}
	}
}

func TestTickStep(t *testing.T) {
	for _, c := range []struct{ span, step, minor float64 }{
		{63, 20, 5}, {9.75, 2, 0.5}, {2.4, 0.5, 0.1}, {4000, 1000, 200}, {0.03, 0.01, 0.002},
	} {
		step, minor := tickStep(c.span)
		if math.Abs(step-c.step) > 1e-12*c.step || math.Abs(minor-c.minor) > 1e-12*c.minor {
			t.Errorf("tickStep(%v) = %v, %v; want %v, %v", c.span, step, minor, c.step, c.minor)
		}
	}
	var labels []string
	for _, tk := range (plainTicks{}).Ticks(-100, 5100) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if want := []string{"0", "1000", "2000", "3000", "4000", "5000"}; !slices.Equal(labels, want) {
		t.Errorf("labels over [-100, 5100]: %q, want %q", labels, want)
	}
}

func TestChooseScale(t *testing.T) {
	decay := make([]float64, 200) // 1e5 falling to 100: three decades
	for i := range decay {
		decay[i] = 1e5 * math.Pow(1e-3, float64(i)/199)
	}
	wasserstein := []float64{5, 2, -0.01, 0.02, -0.03, 0.01, 0.02, -0.02, 0.015} // spike, then near zero
	for _, c := range []struct {
		name   string
		vs     []float64
		kind   scaleKind
		linear float64
	}{
		{"narrow positive", []float64{3, 2.5, 2, 1.8}, linearScale, 0},
		{"positive over three decades", decay, logScale, 0},
		{"positive, NaN and Inf ignored", []float64{math.NaN(), 1000, math.Inf(1), 5}, logScale, 0},
		{"both signs, near zero after a spike", wasserstein, symLogScale, 0.01},
		{"zeros and positives over decades", []float64{0, 0, 1e-3, 2e-3, 1e-3, 1}, symLogScale, 0.001},
		{"both signs, one scale", []float64{-0.9, -0.8, 1.6, -0.85}, linearScale, 0},
		{"all zero", []float64{0, 0, 0}, linearScale, 0},
		{"empty", nil, linearScale, 0},
	} {
		got := chooseScale(c.vs)
		if got.kind != c.kind || math.Abs(got.linear-c.linear) > 1e-12 {
			t.Errorf("%s: chooseScale = %+v, want kind %d linear %v", c.name, got, c.kind, c.linear)
		}
	}
}

func TestSymLog(t *testing.T) {
	s := symLog{c: 0.01}
	if got := s.Normalize(-10, 10, 0); math.Abs(got-0.5) > 1e-15 {
		t.Errorf("0 on a symmetric axis at %v, want 0.5", got)
	}
	// log10(1 + |x|/c): 0.09 is one decade in, 0.99 two.
	if a, b := s.Normalize(0, 0.99, 0.09), 0.5; math.Abs(a-b) > 1e-12 {
		t.Errorf("0.09 on [0, 0.99] at %v, want %v", a, b)
	}
	var labels []string
	for _, tk := range s.Ticks(-0.5, 20) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if want := []string{"-0.1", "-0.01", "0", "0.01", "0.1", "1", "10"}; !slices.Equal(labels, want) {
		t.Errorf("symmetric log labels over [-0.5, 20]: %q, want %q", labels, want)
	}
}

func TestCurvePointsAndWarmUp(t *testing.T) {
	s := Series{Step: []float64{1, 2, 3, 4, 5}, Values: []float64{1, 2, math.NaN(), 4, 6}}
	raw, mean := curvePoints(s, 2)
	if len(raw) != 4 || raw[2].X != 4 {
		t.Fatalf("raw points %v: the NaN at step 3 should be skipped", raw)
	}
	var got []float64
	for _, p := range mean {
		got = append(got, p.Y)
	}
	if want := []float64{1.5, 3, 5}; !slices.Equal(got, want) {
		t.Errorf("trailing means %v, want %v", got, want)
	}

	// A first step at 1.6 over a run between −0.9 and −0.8: off the scale.
	var spike Series
	for i := range 200 {
		spike.Step = append(spike.Step, float64(i+1))
		spike.Values = append(spike.Values, -0.9+0.1*float64(i%2))
	}
	spike.Values[0] = 1.6
	raw, _ = curvePoints(spike, 1)
	cut := warmUpCut(raw)
	if cut == nil {
		t.Fatal("a first step 25 times the run's spread above it was kept on the scale")
	}
	if math.Abs(cut.lo-(-0.905)) > 1e-12 || math.Abs(cut.hi-(-0.795)) > 1e-12 || cut.note != "step 1 off the scale, reaching 1.6" {
		t.Errorf("cut %+v, want [-0.905, -0.795] and a note on step 1", *cut)
	}
	tiny := Series{Step: spike.Step, Values: make([]float64, len(spike.Step))}
	for i := range tiny.Values {
		tiny.Values[i] = 5e-7 + 1e-7*float64(i%2)
	}
	tiny.Values[0] = 3.9642e-6
	raw, _ = curvePoints(tiny, 1)
	if cut := warmUpCut(raw); cut == nil || cut.note != "step 1 off the scale, reaching 3.96e-6" {
		t.Errorf("a first step of 3.9642e-6 over a run near 5e-7: cut %+v", cut)
	}
	spike.Values[0] = -0.85
	raw, _ = curvePoints(spike, 1)
	if cut := warmUpCut(raw); cut != nil {
		t.Errorf("no outlier, yet cut %+v", *cut)
	}
}
