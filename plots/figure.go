package plots

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Bounds of a picture, in pixels at vgimg's 96 dots per inch: the most panels any
// figure lays out (MaxChannels channels of paths, two panels each, or of marginals at
// MaxTimes times) fit within them.
const (
	MaxWidth  = 1600
	MaxHeight = 1800
	// MaxChannels is the number of channels a figure draws; data with more has its
	// first MaxChannels drawn and the header says so.
	MaxChannels = 8
	// MaxTimes is the number of times Marginals draws histograms at.
	MaxTimes = 6
)

var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// newPlot is a panel in the figures' style: sans-serif text, plain tick labels.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(sans, 11)
	p.Title.Padding = vg.Points(4)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, 10)
		a.Tick.Label.Font = font.From(sans, 9)
		a.Tick.Marker = plainTicks{}
	}
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	p.Legend.TextStyle.Font = font.From(sans, 9)
	return p
}

// legendItem is one entry of a figure's legend: a sample of the line or area and what
// it stands for.
type legendItem struct {
	label  string
	thumbs []plot.Thumbnailer
}

// figure is a grid of panels under a header that holds the title, the legend (so that
// no legend covers data) and a note; it is drawn at a size that grows with the number
// of panels up to MaxWidth × MaxHeight pixels.
type figure struct {
	title  string
	legend []legendItem
	note   string
	// panels are laid out row by row, cols to a row; nil leaves a cell empty.
	panels         []*plot.Plot
	cols           int
	panelW, panelH vg.Length
}

const dpi = vgimg.DefaultDPI

// size is the picture's size: the panels' cells, shrunk alike where they would pass
// the bounds, and the header.
func (f *figure) size() (w, h, header vg.Length) {
	rows := (len(f.panels) + f.cols - 1) / f.cols
	pw, ph := f.panelW, f.panelH
	maxW, maxH := vg.Length(MaxWidth)*vg.Inch/dpi, vg.Length(MaxHeight)*vg.Inch/dpi
	if s := maxW / (vg.Length(f.cols) * pw); s < 1 {
		pw *= s
	}
	header = f.headerHeight(vg.Length(f.cols) * pw)
	if s := (maxH - header) / (vg.Length(rows) * ph); s < 1 {
		ph *= s
	}
	return vg.Length(f.cols) * pw, header + vg.Length(rows)*ph, header
}

func headerStyles() (title, small draw.TextStyle) {
	title = plot.New().Title.TextStyle
	title.Font = font.From(sans, 13)
	small = title
	small.Font = font.From(sans, 10)
	small.XAlign, small.YAlign = draw.XLeft, draw.YCenter
	return title, small
}

const (
	headerPad  = 6 * vg.Millimeter / 4 // 1.5 mm above, below and between the lines
	thumbWidth = vg.Length(24)
)

func (f *figure) headerHeight(width vg.Length) vg.Length {
	title, small := headerStyles()
	h := headerPad + title.Height(f.title) + headerPad
	h += vg.Length(len(f.legendRows(width))) * small.Height("M") * 1.5
	if f.note != "" {
		h += small.Height("M") * 1.5
	}
	return h + headerPad
}

// save draws the figure and writes it as a PNG.
func (f *figure) save(file string) error {
	if f.cols < 1 || len(f.panels) == 0 {
		return fmt.Errorf("plots: nothing to draw in %s", file)
	}
	w, h, header := f.size()
	img := vgimg.New(w, h)
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	f.drawHeader(draw.Crop(dc, 0, 0, h-header, 0))

	rows := (len(f.panels) + f.cols - 1) / f.cols
	grid := make([][]*plot.Plot, rows)
	for r := range grid {
		grid[r] = make([]*plot.Plot, f.cols)
		for c := range grid[r] {
			if i := r*f.cols + c; i < len(f.panels) {
				grid[r][c] = f.panels[i]
			}
		}
	}
	t := draw.Tiles{Rows: rows, Cols: f.cols, PadX: vg.Millimeter * 5, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
	canvases := plot.Align(grid, t, draw.Crop(dc, 0, 0, 0, -header))
	for r := range grid {
		for c, p := range grid[r] {
			if p != nil {
				p.Draw(canvases[r][c])
			}
		}
	}
	return writePNG(file, img)
}

const legendGap = vg.Length(16)

func (it legendItem) width(sty draw.TextStyle) vg.Length {
	return thumbWidth + 4 + sty.Width(it.label)
}

// legendRows splits the legend into centred rows that fit within width.
func (f *figure) legendRows(width vg.Length) [][]legendItem {
	_, small := headerStyles()
	var rows [][]legendItem
	var used vg.Length
	for _, it := range f.legend {
		w := it.width(small)
		if n := len(rows); n == 0 || used+legendGap+w > width-2*legendGap {
			rows = append(rows, []legendItem{it})
			used = w
			continue
		}
		rows[len(rows)-1] = append(rows[len(rows)-1], it)
		used += legendGap + w
	}
	return rows
}

// drawHeader writes the title, then the legend's entries in centred rows, then the
// note, from the top of c down.
func (f *figure) drawHeader(c draw.Canvas) {
	title, small := headerStyles()
	mid := (c.Min.X + c.Max.X) / 2
	y := c.Max.Y - headerPad
	c.FillText(title, vg.Point{X: mid, Y: y}, f.title)
	y -= title.Height(f.title) + headerPad
	line := small.Height("M") * 1.5
	for _, row := range f.legendRows(c.Max.X - c.Min.X) {
		total := -legendGap
		for _, it := range row {
			total += it.width(small) + legendGap
		}
		x := mid - total/2
		yc := y - line/2
		for _, it := range row {
			th := small.Height("M")
			box := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
				Min: vg.Point{X: x, Y: yc - th/2}, Max: vg.Point{X: x + thumbWidth, Y: yc + th/2}}}
			for _, t := range it.thumbs {
				t.Thumbnail(&box)
			}
			x += thumbWidth + 4
			c.FillText(small, vg.Point{X: x, Y: yc}, it.label)
			x += small.Width(it.label) + legendGap
		}
		y -= line
	}
	if f.note != "" {
		note := small
		note.XAlign = draw.XCenter
		note.Color = color.Gray{Y: 80}
		c.FillText(note, vg.Point{X: mid, Y: y - line/2}, f.note)
	}
}
