// Package plots draws the pictures a training run leaves behind, as PNG files: real
// against generated sample paths, marginal histograms at a few times, and training
// curves; and the charts of the benchmarks. Every axis is labelled with what it
// measures and its unit where known, legends sit in a header above the panels rather
// than over data, and several channels are laid out in a grid of bounded size.
package plots

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/gosde/gosde/dataset"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Units says what a data set's numbers measure, for the axis labels.
type Units struct {
	// Time is the unit of the time axis ("hours"); empty leaves the axis "time".
	Time string
	// Channels maps a channel's name to its unit ("µg/m³"); a channel without one is
	// labelled by its name alone.
	Channels map[string]string
}

func withUnit(name, unit string) string {
	if unit == "" {
		return name
	}
	return name + " (" + unit + ")"
}

func (u Units) timeAxis() string         { return withUnit("time", u.Time) }
func (u Units) channel(ch string) string { return withUnit(ch, u.Channels[ch]) }

// at names the time t: "t = 6 hours".
func (u Units) at(t float64) string {
	s := "t = " + formatNumber(t)
	if u.Time != "" {
		s += " " + u.Time
	}
	return s
}

var (
	realColor = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	fakeColor = color.RGBA{R: 214, G: 39, B: 40, A: 255}
	// The real data's range is a light band under the paths with dark dashed edges
	// over them, so that it stays visible where the paths cover the band. Everything
	// is opaque: vgimg's translucent strokes blend into misleading colours where many
	// cross.
	bandFill  = color.Gray{Y: 222}
	bandEdge  = color.Gray{Y: 60}
	bandDash  = []vg.Length{vg.Points(4), vg.Points(2)}
	realFill  = color.RGBA{R: 174, G: 205, B: 229, A: 255}
	pathWidth = vg.Points(0.6)
)

// Band quantiles of the real data drawn behind the paths.
const bandLo, bandHi = 0.05, 0.95

// Paths draws up to n paths of real and of generated data side by side, a pair of
// panels per channel sharing one y range, over the real data's 5–95% range at each
// time (from all its paths), and writes the PNG to file.
func Paths(file string, real, fake *dataset.Paths, n int, u Units) error {
	if err := sameShape(real, fake); err != nil {
		return err
	}
	if n < 1 {
		return fmt.Errorf("plots: %d paths to draw; draw at least 1", n)
	}
	shown := min(real.C(), MaxChannels)
	nr, nf := min(n, real.N), min(n, fake.N)
	f := &figure{
		title: "Real and generated paths",
		legend: []legendItem{
			{fmt.Sprintf("real: %d of %d held-out paths", nr, real.N), []plot.Thumbnailer{lineStyle(realColor, 1.5)}},
			{fmt.Sprintf("generated: %d of %d paths", nf, fake.N), []plot.Thumbnailer{lineStyle(fakeColor, 1.5)}},
			{"5–95% of all real paths at each time", []plot.Thumbnailer{fillStyle(bandFill), dashStyle()}},
		},
		note: channelNote(real.C(), shown),
		cols: 2, panelW: 4.5 * vg.Inch, panelH: 3.2 * vg.Inch,
	}
	if shown > 1 {
		f.cols, f.panelW, f.panelH = 4, 3.6*vg.Inch, 2.6*vg.Inch
	}
	for ch := range shown {
		lo, hi := quantileBand(real, ch)
		band, loLine, hiLine, err := bandPlotters(real.Times, lo, hi)
		if err != nil {
			return err
		}
		var pair [2]*plot.Plot
		for k, set := range []struct {
			d    *dataset.Paths
			n    int
			col  color.Color
			name string
		}{{real, nr, realColor, "real"}, {fake, nf, fakeColor, "generated"}} {
			p := newPlot(real.Channels[ch]+": "+set.name, u.timeAxis(), u.channel(real.Channels[ch]))
			p.Add(band)
			for i := range set.n {
				pts := make(plotter.XYs, 0, set.d.T())
				for t := range set.d.Times {
					if v := set.d.At(i, t, ch); !math.IsNaN(v) && !math.IsInf(v, 0) {
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
				l.Color, l.Width = set.col, pathWidth
				p.Add(l)
			}
			p.Add(loLine, hiLine)
			pair[k] = p
		}
		// One y range for the pair, so that heights compare across the two panels.
		lo2, hi2 := math.Min(pair[0].Y.Min, pair[1].Y.Min), math.Max(pair[0].Y.Max, pair[1].Y.Max)
		pad := 0.04 * (hi2 - lo2)
		if pad == 0 {
			pad = 0.5
		}
		for _, p := range pair {
			p.Y.Min, p.Y.Max = lo2-pad, hi2+pad
			p.X.Min, p.X.Max = real.Times[0], real.Times[real.T()-1]
		}
		f.panels = append(f.panels, pair[0], pair[1])
	}
	return f.save(file)
}

// quantileBand is the real data's bandLo and bandHi quantiles of channel ch at each
// time (NaN where it has no finite value).
func quantileBand(d *dataset.Paths, ch int) (lo, hi []float64) {
	lo, hi = make([]float64, d.T()), make([]float64, d.T())
	for t := range d.Times {
		vs := finiteAt(d, t, ch)
		if len(vs) == 0 {
			lo[t], hi[t] = math.NaN(), math.NaN()
			continue
		}
		slices.Sort(vs)
		lo[t], hi[t] = stat.Quantile(bandLo, stat.LinInterp, vs, nil), stat.Quantile(bandHi, stat.LinInterp, vs, nil)
	}
	return lo, hi
}

// bandPlotters are the filled band between lo and hi and its two dashed edges, over
// the times where both are known.
func bandPlotters(times, lo, hi []float64) (plot.Plotter, plot.Plotter, plot.Plotter, error) {
	var los, his plotter.XYs
	for t := range times {
		if !math.IsNaN(lo[t]) && !math.IsNaN(hi[t]) {
			los = append(los, plotter.XY{X: times[t], Y: lo[t]})
			his = append(his, plotter.XY{X: times[t], Y: hi[t]})
		}
	}
	if len(los) < 2 {
		return nil, nil, nil, errors.New("plots: the real data has fewer than two times with a value to draw")
	}
	ring := append(slices.Clone(los), his...)
	slices.Reverse(ring[len(los):])
	poly, err := plotter.NewPolygon(ring)
	if err != nil {
		return nil, nil, nil, err
	}
	poly.Color, poly.LineStyle.Width = bandFill, 0
	var edges [2]*plotter.Line
	for i, pts := range []plotter.XYs{los, his} {
		if edges[i], err = plotter.NewLine(pts); err != nil {
			return nil, nil, nil, err
		}
		edges[i].Color, edges[i].Width, edges[i].Dashes = bandEdge, vg.Points(1), bandDash
	}
	return poly, edges[0], edges[1], nil
}

// Marginals draws, for each channel (a row) and each of the given time indices (a
// column), the histograms of the real and the generated values at that time: the
// real one filled, the generated one as an outline over it.
func Marginals(file string, real, fake *dataset.Paths, times []int, u Units) error {
	if err := sameShape(real, fake); err != nil {
		return err
	}
	if len(times) == 0 || len(times) > MaxTimes {
		return fmt.Errorf("plots: marginals at %d times; give 1 to %d", len(times), MaxTimes)
	}
	for _, ti := range times {
		if ti < 0 || ti >= real.T() {
			return fmt.Errorf("plots: time index %d outside 0..%d", ti, real.T()-1)
		}
	}
	shown := min(real.C(), MaxChannels)
	f := &figure{
		title: "Marginal distributions at " + fmt.Sprint(len(times)) + " times",
		legend: []legendItem{
			{fmt.Sprintf("real: %d held-out paths", real.N), []plot.Thumbnailer{fillStyle(realFill), lineStyle(realColor, 1)}},
			{fmt.Sprintf("generated: %d paths", fake.N), []plot.Thumbnailer{lineStyle(fakeColor, 1.8)}},
		},
		note: channelNote(real.C(), shown),
		cols: len(times), panelW: 2.9 * vg.Inch, panelH: 2.2 * vg.Inch,
	}
	for ch := range shown {
		for j, ti := range times {
			yLabel := ""
			if j == 0 {
				yLabel = "density"
			}
			p := newPlot(real.Channels[ch]+", "+u.at(real.Times[ti]), u.channel(real.Channels[ch]), yLabel)
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
			for k, vs := range vals {
				if len(vs) == 0 {
					continue
				}
				steps := plotter.XYs{{X: lo, Y: 0}}
				for _, b := range densityBins(vs, lo, hi, 30) {
					steps = append(steps, plotter.XY{X: b.Min, Y: b.Weight}, plotter.XY{X: b.Max, Y: b.Weight})
				}
				steps = append(steps, plotter.XY{X: hi, Y: 0})
				if k == 0 {
					poly, err := plotter.NewPolygon(steps)
					if err != nil {
						return err
					}
					poly.Color, poly.LineStyle.Color, poly.LineStyle.Width = realFill, realColor, vg.Points(1)
					p.Add(poly)
					continue
				}
				l, err := plotter.NewLine(steps)
				if err != nil {
					return err
				}
				l.Color, l.Width = fakeColor, vg.Points(1.8)
				p.Add(l)
			}
			if math.IsInf(p.X.Min, 0) { // neither set has a value here
				p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
			}
			p.Y.Min, p.Y.Max = 0, p.Y.Max*1.05
			f.panels = append(f.panels, p)
		}
	}
	return f.save(file)
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
// area, so that real and generated sets of different sizes compare on the same bins.
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
	// Name titles the curve's panel; YLabel labels its values (with their unit).
	Name, YLabel string
	Step         []float64
	Values       []float64
}

// Curves draws training curves against the step, a panel per series, three to a row:
// each step's value thin and a trailing mean over about a fiftieth of the run thick,
// on the axis chooseScale picks (logarithmic where the values span decades).
func Curves(file string, series []Series) error {
	if len(series) == 0 {
		return errors.New("plots: no curves to draw")
	}
	longest := 0
	for _, s := range series {
		if len(s.Step) != len(s.Values) {
			return fmt.Errorf("plots: curve %q has %d steps and %d values", s.Name, len(s.Step), len(s.Values))
		}
		longest = max(longest, len(s.Step))
	}
	window := smoothingWindow(longest)
	f := &figure{title: "Training", cols: min(len(series), 3), panelW: 4.4 * vg.Inch, panelH: 3.2 * vg.Inch}
	f.legend = []legendItem{{"each step", []plot.Thumbnailer{lineStyle(rawColor, 0.8)}}}
	if window > 1 {
		f.legend = append(f.legend, legendItem{fmt.Sprintf("mean of the last %d steps", window), []plot.Thumbnailer{lineStyle(fakeColor, 1.8)}})
	}
	for _, s := range series {
		sc := chooseScale(s.Values)
		var notes []string
		switch sc.kind {
		case logScale:
			notes = append(notes, "log scale")
		case symLogScale:
			notes = append(notes, "log scale beyond ±"+formatNumber(sc.linear))
		}
		raw, mean := curvePoints(s, window)
		var cut *steadyRange
		if sc.kind == linearScale {
			if cut = warmUpCut(raw); cut != nil {
				notes = append(notes, cut.note)
			}
		}
		title := s.Name
		if len(notes) > 0 {
			title += "\n(" + strings.Join(notes, "; ") + ")"
		}
		p := newPlot(title, "step", s.YLabel)
		for k, pts := range []plotter.XYs{raw, mean} {
			if len(pts) == 0 || (k == 1 && window == 1) {
				continue
			}
			l, err := plotter.NewLine(pts)
			if err != nil {
				return err
			}
			l.Color, l.Width = rawColor, vg.Points(0.8)
			if k == 1 {
				l.Color, l.Width = fakeColor, vg.Points(1.8)
			}
			p.Add(l)
		}
		switch {
		case sc.kind == logScale:
			p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, logTicks{}
		case sc.kind == symLogScale:
			p.Y.Scale, p.Y.Tick.Marker = symLog{sc.linear}, symLog{sc.linear}
		case cut != nil:
			p.Y.Min, p.Y.Max = cut.lo, cut.hi
		}
		if len(raw) == 0 { // nothing finite to draw: an empty panel, not a broken axis
			p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
		}
		f.panels = append(f.panels, p)
	}
	return f.save(file)
}

var rawColor = color.RGBA{R: 240, G: 160, B: 150, A: 255}

// smoothingWindow is the trailing mean's length for a run of n steps: a fiftieth of
// it, 1 (no mean) for runs under 100 steps.
func smoothingWindow(n int) int { return max(1, n/50) }

// steadyRange is a linear axis's range that leaves out the first steps' values.
type steadyRange struct {
	lo, hi float64
	note   string
}

// warmUpCut is the axis range of a curve without its first 1% of points, when those
// lie so far outside the rest's range that including them would squeeze the rest into
// less than half of the axis (a Wasserstein estimate's first step); nil otherwise, or
// for curves under 100 points. The note says which steps are off the scale.
func warmUpCut(raw plotter.XYs) *steadyRange {
	if len(raw) < 100 {
		return nil
	}
	warm := (len(raw) + 99) / 100
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range raw[warm:] {
		lo, hi = math.Min(lo, p.Y), math.Max(hi, p.Y)
	}
	allLo, allHi := lo, hi
	for _, p := range raw[:warm] {
		allLo, allHi = math.Min(allLo, p.Y), math.Max(allHi, p.Y)
	}
	if hi-lo <= 0 || (allHi-allLo) < 2*(hi-lo) {
		return nil
	}
	pad := 0.05 * (hi - lo)
	lo, hi = lo-pad, hi+pad
	var off []float64
	last := 0.0
	for _, p := range raw[:warm] {
		if p.Y < lo || p.Y > hi {
			off = append(off, p.Y)
			last = p.X
		}
	}
	steps := "step " + formatNumber(raw[0].X)
	if last != raw[0].X {
		steps = "steps up to " + formatNumber(last)
	}
	extreme := off[0]
	for _, v := range off {
		if math.Abs(v) > math.Abs(extreme) {
			extreme = v
		}
	}
	extreme, _ = strconv.ParseFloat(strconv.FormatFloat(extreme, 'g', 3, 64), 64)
	return &steadyRange{lo: lo, hi: hi, note: fmt.Sprintf("%s off the scale, reaching %s", steps, formatNumber(extreme))}
}

// curvePoints is the finite points of s and their trailing mean over the last window
// finite values, the mean starting once it has a full window.
func curvePoints(s Series, window int) (raw, mean plotter.XYs) {
	var sum float64
	for i := range s.Step {
		v := s.Values[i]
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		raw = append(raw, plotter.XY{X: s.Step[i], Y: v})
		sum += v
		if n := len(raw); n > window {
			sum -= raw[n-1-window].Y
		}
		if len(raw) >= window {
			mean = append(mean, plotter.XY{X: s.Step[i], Y: sum / float64(window)})
		}
	}
	return raw, mean
}

// channelNote says which channels a figure leaves out.
func channelNote(channels, shown int) string {
	if shown == channels {
		return ""
	}
	return fmt.Sprintf("the first %d of %d channels", shown, channels)
}

func lineStyle(c color.Color, width float64) plot.Thumbnailer {
	return thumb(func(cv *draw.Canvas) {
		y := (cv.Min.Y + cv.Max.Y) / 2
		cv.StrokeLine2(draw.LineStyle{Color: c, Width: vg.Points(width)}, cv.Min.X, y, cv.Max.X, y)
	})
}

func dashStyle() plot.Thumbnailer {
	return thumb(func(cv *draw.Canvas) {
		for _, y := range []vg.Length{cv.Min.Y, cv.Max.Y} {
			cv.StrokeLine2(draw.LineStyle{Color: bandEdge, Width: vg.Points(1), Dashes: bandDash}, cv.Min.X, y, cv.Max.X, y)
		}
	})
}

func fillStyle(c color.Color) plot.Thumbnailer {
	return thumb(func(cv *draw.Canvas) {
		cv.SetColor(c)
		cv.Fill(cv.Rectangle.Path())
	})
}

// thumb is a legend sample drawn by a function.
type thumb func(*draw.Canvas)

func (t thumb) Thumbnail(c *draw.Canvas) { t(c) }

func sameShape(a, b *dataset.Paths) error {
	if a == nil || b == nil || a.N == 0 || b.N == 0 {
		return errors.New("plots: need real and generated paths")
	}
	if a.C() != b.C() || a.T() != b.T() {
		return fmt.Errorf("plots: real data has %d times × %d channels, generated %d × %d", a.T(), a.C(), b.T(), b.C())
	}
	if a.T() < 2 {
		return fmt.Errorf("plots: paths of %d time; drawing them needs at least 2", a.T())
	}
	return nil
}
