package plots

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Line is one named series of a Chart: Y against X, both positive.
type Line struct {
	Name string
	X, Y []float64
}

// Chart is a line chart on logarithmic axes, for measurements that span decades
// (cost against batch size, memory against steps). The x axis is ticked at the data's
// x values.
type Chart struct {
	Title, XLabel, YLabel string
	Lines                 []Line
	// LegendLeft puts the legend in the top left corner instead of the top right.
	LegendLeft bool
}

// Palette and markers for up to six lines: distinct in colour, dash and glyph, so a
// chart still reads in grey.
var (
	chartColors = []color.Color{
		color.RGBA{R: 31, G: 119, B: 180, A: 255},
		color.RGBA{R: 214, G: 39, B: 40, A: 255},
		color.RGBA{R: 44, G: 160, B: 44, A: 255},
		color.RGBA{R: 148, G: 103, B: 189, A: 255},
		color.RGBA{R: 255, G: 127, B: 14, A: 255},
		color.RGBA{R: 23, G: 190, B: 207, A: 255},
	}
	chartDashes = [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(2), vg.Points(2)},
		{vg.Points(8), vg.Points(3), vg.Points(2), vg.Points(3)}}
	chartGlyphs = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{},
		draw.CrossGlyph{}, draw.PlusGlyph{}, draw.RingGlyph{}}
)

// Charts draws the charts side by side on one PNG canvas and writes it to file.
func Charts(file string, charts []Chart) error {
	if len(charts) == 0 {
		return errors.New("plots: no charts to draw")
	}
	row := make([]*plot.Plot, len(charts))
	for i, c := range charts {
		p, err := c.plot()
		if err != nil {
			return err
		}
		row[i] = p
	}
	return save(file, [][]*plot.Plot{row}, vg.Length(len(charts))*5.5*vg.Inch, 4.5*vg.Inch)
}

func (c Chart) plot() (*plot.Plot, error) {
	if len(c.Lines) == 0 {
		return nil, fmt.Errorf("plots: chart %q has no lines", c.Title)
	}
	p := plot.New()
	p.Title.Text = c.Title
	p.Title.TextStyle.Font.Size = vg.Points(12)
	p.X.Label.Text, p.Y.Label.Text = c.XLabel, c.YLabel
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
	p.Add(plotter.NewGrid())
	var xs []float64
	for i, l := range c.Lines {
		if len(l.X) != len(l.Y) || len(l.X) == 0 {
			return nil, fmt.Errorf("plots: line %q has %d x and %d y values", l.Name, len(l.X), len(l.Y))
		}
		pts := make(plotter.XYs, len(l.X))
		for j := range l.X {
			if !(l.X[j] > 0 && l.Y[j] > 0) || math.IsInf(l.X[j], 0) || math.IsInf(l.Y[j], 0) {
				return nil, fmt.Errorf("plots: line %q has (%v, %v), not positive and finite as a log scale needs", l.Name, l.X[j], l.Y[j])
			}
			pts[j] = plotter.XY{X: l.X[j], Y: l.Y[j]}
			xs = append(xs, l.X[j])
		}
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		col := chartColors[i%len(chartColors)]
		line.Color, line.Width, line.Dashes = col, vg.Points(1.5), chartDashes[i%len(chartDashes)]
		points.Color, points.Shape, points.Radius = col, chartGlyphs[i%len(chartGlyphs)], vg.Points(3)
		p.Add(line, points)
		p.Legend.Add(l.Name, line, points)
	}
	slices.Sort(xs)
	xs = slices.Compact(xs)
	ticks := make([]plot.Tick, len(xs))
	for i, x := range xs {
		ticks[i] = plot.Tick{Value: x, Label: tickLabel(x)}
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.Legend.Top, p.Legend.Left = true, c.LegendLeft
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(-6), vg.Points(-6)
	if c.LegendLeft {
		p.Legend.XOffs = vg.Points(6)
	}
	// Keep the end points off the axes, and leave room above the data for the legend.
	pad := func(lo, hi *float64, below, above float64) {
		decades := math.Max(0.5, math.Log10(*hi / *lo))
		*lo /= math.Pow(10, below*decades)
		*hi *= math.Pow(10, above*decades)
	}
	pad(&p.X.Min, &p.X.Max, 0.04, 0.04)
	pad(&p.Y.Min, &p.Y.Max, 0.08, 0.08+0.1*float64(len(c.Lines)))
	if p.Y.Max/p.Y.Min < 10 {
		// A narrow axis starts at a tick (a digit times a power of ten), so that the
		// lowest line has a number beside it.
		e := math.Pow(10, math.Floor(math.Log10(p.Y.Min)))
		p.Y.Min = math.Floor(p.Y.Min/e) * e
	}
	return p, nil
}

// tickLabel prints x compactly: 16, 1024, 16384, 10k, 0.5.
func tickLabel(x float64) string {
	switch {
	case x >= 10000 && x < 1e6 && math.Mod(x, 1000) == 0:
		return strconv.FormatFloat(x/1000, 'f', -1, 64) + "k"
	case x == math.Trunc(x) && x < 1e7:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return strconv.FormatFloat(x, 'g', 4, 64)
}

// logTicks labels the axis at 1, 2 and 5 times each power of ten when it spans up to
// three decades, at every integer multiple when it spans less than one, and at the
// powers of ten alone (with 2× and 5× marked) when it spans more, so that every
// axis has a few numbers however narrow it is.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	mantissas, labelAll := []float64{1, 2, 5}, hi/lo <= 1000
	if hi/lo < 10 {
		mantissas = []float64{1, 2, 3, 4, 5, 6, 7, 8, 9}
	}
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		base := math.Pow(10, e)
		for _, m := range mantissas {
			v := m * base
			if v < lo || v > hi {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || labelAll {
				t.Label = formatNumber(v)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// save tiles the panels (rows × columns) onto one PNG canvas of w × h and writes it.
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
