// Package plots draws the pictures a training run leaves behind, as PNG files: real
// against generated sample paths, marginal histograms at a few times, and training
// curves.
package plots

import (
	"errors"
	"fmt"
	"image/color"
	"math"

	"github.com/gosde/gosde/dataset"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

var (
	realColor = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	fakeColor = color.RGBA{R: 214, G: 39, B: 40, A: 255}
	// Paths are drawn thin and opaque: vgimg's translucent strokes blend into
	// misleading colours where many cross.
	realPath = realColor
	fakePath = fakeColor
)

// Paths draws up to n paths of real and generated data, one panel
// per channel, real in blue and generated in red, and writes the PNG to file.
func Paths(file string, real, fake *dataset.Paths, n int) error {
	if err := sameShape(real, fake); err != nil {
		return err
	}
	c := real.C()
	panels := make([][]*plot.Plot, c)
	for ch := 0; ch < c; ch++ {
		p := plot.New()
		p.Title.Text = fmt.Sprintf("%s: real (blue) and generated (red) paths", real.Channels[ch])
		p.X.Label.Text = "t"
		for _, set := range []struct {
			d   *dataset.Paths
			col color.Color
		}{{real, realPath}, {fake, fakePath}} {
			for i := 0; i < min(n, set.d.N); i++ {
				pts := make(plotter.XYs, 0, set.d.T())
				for t := range set.d.Times {
					if v := set.d.At(i, t, ch); !math.IsNaN(v) {
						pts = append(pts, plotter.XY{X: set.d.Times[t], Y: v})
					}
				}
				if len(pts) < 2 {
					continue
				}
				l, err := plotter.NewLine(pts)
				if err != nil {
					return err
				}
				l.Color = set.col
				l.Width = vg.Points(0.5)
				p.Add(l)
			}
		}
		panels[ch] = []*plot.Plot{p}
	}
	return save(file, panels, 8*vg.Inch, vg.Length(c)*3.5*vg.Inch)
}

// Marginals draws, for each of the given time indices and each channel, histograms of
// the real and generated values at that time, overlaid.
func Marginals(file string, real, fake *dataset.Paths, times []int) error {
	if err := sameShape(real, fake); err != nil {
		return err
	}
	if len(times) == 0 {
		return errors.New("plots: no times to draw marginals at")
	}
	panels := make([][]*plot.Plot, real.C())
	for ch := range panels {
		for _, ti := range times {
			if ti < 0 || ti >= real.T() {
				return fmt.Errorf("plots: time index %d outside 0..%d", ti, real.T()-1)
			}
			p := plot.New()
			p.Title.Text = fmt.Sprintf("%s at t=%g", real.Channels[ch], real.Times[ti])
			vals := [2][]float64{finiteAt(real, ti, ch), finiteAt(fake, ti, ch)}
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, vs := range vals {
				for _, v := range vs {
					lo, hi = math.Min(lo, v), math.Max(hi, v)
				}
			}
			if hi <= lo {
				lo, hi = lo-0.5, lo+0.5
			}
			for k, col := range []color.Color{realColor, fakeColor} {
				if len(vals[k]) == 0 {
					continue
				}
				var steps plotter.XYs
				for _, b := range densityBins(vals[k], lo, hi, 30) {
					steps = append(steps, plotter.XY{X: b.Min, Y: b.Weight}, plotter.XY{X: b.Max, Y: b.Weight})
				}
				l, err := plotter.NewLine(steps)
				if err != nil {
					return err
				}
				l.Color = col
				l.Width = vg.Points(1.5)
				p.Add(l)
				p.Legend.Add([]string{"real", "generated"}[k], l)
			}
			panels[ch] = append(panels[ch], p)
		}
	}
	return save(file, panels, vg.Length(len(times))*3*vg.Inch, vg.Length(real.C())*3*vg.Inch)
}

// finiteAt is the finite values of channel ch at time index ti over all paths.
func finiteAt(d *dataset.Paths, ti, ch int) []float64 {
	var vs []float64
	for i := 0; i < d.N; i++ {
		if v := d.At(i, ti, ch); !math.IsNaN(v) && !math.IsInf(v, 0) {
			vs = append(vs, v)
		}
	}
	return vs
}

// densityBins is a histogram of vs over [lo, hi] in n equal bins, normalised to unit
// area, so that real and generated sets of different sizes compare on the same bins;
// they are drawn as outlines, which stay readable where the two overlap.
func densityBins(vs []float64, lo, hi float64, n int) []plotter.HistogramBin {
	w := (hi - lo) / float64(n)
	bins := make([]plotter.HistogramBin, n)
	for i := range bins {
		bins[i] = plotter.HistogramBin{Min: lo + float64(i)*w, Max: lo + float64(i+1)*w}
	}
	for _, v := range vs {
		i := min(int((v-lo)/w), n-1)
		bins[i].Weight += 1 / (float64(len(vs)) * w)
	}
	return bins
}

// Series is one training curve.
type Series struct {
	Name   string
	Step   []float64
	Values []float64
}

// Curves draws training curves against the step, one panel per series.
func Curves(file string, series []Series) error {
	if len(series) == 0 {
		return errors.New("plots: no curves to draw")
	}
	panels := make([][]*plot.Plot, len(series))
	for i, s := range series {
		if len(s.Step) != len(s.Values) {
			return fmt.Errorf("plots: curve %q has %d steps and %d values", s.Name, len(s.Step), len(s.Values))
		}
		p := plot.New()
		p.Title.Text = s.Name
		p.X.Label.Text = "step"
		pts := make(plotter.XYs, 0, len(s.Step))
		for j := range s.Step {
			if !math.IsNaN(s.Values[j]) && !math.IsInf(s.Values[j], 0) {
				pts = append(pts, plotter.XY{X: s.Step[j], Y: s.Values[j]})
			}
		}
		if len(pts) > 0 {
			l, err := plotter.NewLine(pts)
			if err != nil {
				return err
			}
			l.Color = fakeColor
			p.Add(l)
		}
		panels[i] = []*plot.Plot{p}
	}
	return save(file, panels, 8*vg.Inch, vg.Length(len(series))*3*vg.Inch)
}

func sameShape(a, b *dataset.Paths) error {
	if a == nil || b == nil || a.N == 0 || b.N == 0 {
		return errors.New("plots: need real and generated paths")
	}
	if a.C() != b.C() || a.T() != b.T() {
		return fmt.Errorf("plots: real data has %d times × %d channels, generated %d × %d", a.T(), a.C(), b.T(), b.C())
	}
	return nil
}

// save tiles the panels (rows × columns) onto one PNG canvas and writes it atomically
// enough for a picture: to a temporary name, then renamed.
func save(file string, panels [][]*plot.Plot, w, h vg.Length) error {
	rows, cols := len(panels), 0
	for _, r := range panels {
		cols = max(cols, len(r))
	}
	for i := range panels {
		for len(panels[i]) < cols {
			panels[i] = append(panels[i], nil)
		}
	}
	img := vgimg.New(w, h)
	dc := draw.New(img)
	t := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(panels, t, dc)
	for i := range panels {
		for j, p := range panels[i] {
			if p != nil {
				p.Draw(canvases[i][j])
			}
		}
	}
	return writePNG(file, img)
}
