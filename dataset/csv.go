package dataset

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// CSVFormat is the layout of a CSV file of time series.
type CSVFormat int

const (
	// CSVAuto is long format when the header has a series-id column (CSVOptions.ID,
	// or one detected), wide format otherwise.
	CSVAuto CSVFormat = iota
	// CSVLong: one row per (series, time): a series-id column, a time column and one
	// column per channel. Many paths of many channels.
	CSVLong
	// CSVWide: one row per time: a time column and one column per series, all of a
	// single channel (CSVOptions.Channel). Many paths of one channel.
	CSVWide
)

func (f CSVFormat) String() string {
	switch f {
	case CSVAuto:
		return "auto"
	case CSVLong:
		return "long"
	case CSVWide:
		return "wide"
	}
	return fmt.Sprintf("CSVFormat(%d)", int(f))
}

// CSVOptions configures ReadCSV. The zero value reads either format with the default
// column names.
type CSVOptions struct {
	// Format is CSVAuto (the default), CSVLong or CSVWide.
	Format CSVFormat
	// ID names the series-id column of long format. Default: the first header column
	// named id, series or path (case-insensitive), so WriteCSV's output reads back.
	ID string
	// Time names the time column. Default: the first header column named t or time
	// (case-insensitive).
	Time string
	// Columns names the value columns to read, in the order wanted: channels in long
	// format, series in wide format. Default: every column but the id and time ones,
	// in header order.
	Columns []string
	// Channel is the name of the single channel of wide format. Default "y".
	Channel string
	// Comma is the field separator. Default ','.
	Comma rune
}

// maxCSVValues bounds the dense N·T·C grid ReadCSV will allocate (long format fills
// the union of all series' times, which can be far larger than the file).
const maxCSVValues = 1 << 27

// ReadCSV reads time series from CSV with a header row (encoding/csv quoting; cells are
// trimmed of surrounding space; a leading UTF-8 byte-order mark is skipped).
//
// Long format (see CSVLong) gives one path per distinct series id, in order of first
// appearance, with the channels as columns. The paths share one time grid: the sorted
// union of every series' times; a series with no row at some time has NaN there.
// Wide format (see CSVWide) gives one path per value column, in column order, of one
// channel named CSVOptions.Channel; rows may come in any order and are sorted by time.
//
// A value cell that is empty, NA, NaN, N/A or null (case-insensitive) is a missing
// reading (NaN). Times must be present and finite; values finite or missing.
//
// Errors, with line numbers where a line is to blame (it never panics): no header (an
// empty input, or a first row that is all numbers), empty or duplicate column names or
// names with control characters (a quoted newline, say),
// unknown column names in the options, no id column in long format, no time column,
// no value column, ragged rows, non-numeric or infinite cells, a missing time, a
// duplicate (series, time) (or a duplicate time in wide format), fewer than two
// distinct times, a channel with no reading at all, and a dense grid of more than
// 2²⁷ values.
func ReadCSV(r io.Reader, opt CSVOptions) (*Paths, error) {
	br := bufio.NewReader(r)
	if bom, _ := br.Peek(3); string(bom) == "\ufeff" {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	if opt.Comma != 0 {
		cr.Comma = opt.Comma
	}
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("dataset: csv: empty input: no header")
	}
	if err != nil {
		return nil, csvErr(err)
	}
	names := make([]string, len(header))
	allNumeric := true
	for i, h := range header {
		h = strings.TrimSpace(h)
		if h == "" {
			return nil, fmt.Errorf("dataset: csv: line 1: column %d has an empty name", i+1)
		}
		if strings.ContainsFunc(h, unicode.IsControl) {
			return nil, fmt.Errorf("dataset: csv: line 1: column %d name %q contains a control character", i+1, h)
		}
		if j := slices.Index(names[:i], h); j >= 0 {
			return nil, fmt.Errorf("dataset: csv: line 1: duplicate column name %q (columns %d and %d)", h, j+1, i+1)
		}
		if _, err := strconv.ParseFloat(h, 64); err != nil {
			allNumeric = false
		}
		names[i] = h
	}
	if allNumeric {
		return nil, fmt.Errorf("dataset: csv: no header: the first row %q is all numbers; the first row must name the columns", names)
	}

	col := func(what, name string) (int, error) {
		if i := slices.Index(names, name); i >= 0 {
			return i, nil
		}
		return -1, fmt.Errorf("dataset: csv: unknown %s column %q; the header has %q", what, name, names)
	}
	detect := func(cands ...string) int {
		return slices.IndexFunc(names, func(h string) bool {
			return slices.ContainsFunc(cands, func(c string) bool { return strings.EqualFold(h, c) })
		})
	}

	idCol := -1
	if opt.ID != "" {
		if idCol, err = col("id", opt.ID); err != nil {
			return nil, err
		}
	} else if opt.Format != CSVWide {
		idCol = detect("id", "series", "path")
	}
	format := opt.Format
	switch format {
	case CSVAuto:
		format = CSVWide
		if idCol >= 0 {
			format = CSVLong
		}
	case CSVLong:
		if idCol < 0 {
			return nil, fmt.Errorf("dataset: csv: long format needs a series-id column: none of id, series, path in the header %q; name it with CSVOptions.ID", names)
		}
	case CSVWide:
		if opt.ID != "" {
			return nil, fmt.Errorf("dataset: csv: wide format has no series-id column, but CSVOptions.ID is %q", opt.ID)
		}
	default:
		return nil, fmt.Errorf("dataset: csv: unknown format %v", format)
	}

	timeCol := -1
	if opt.Time != "" {
		if timeCol, err = col("time", opt.Time); err != nil {
			return nil, err
		}
	} else if timeCol = detect("t", "time"); timeCol < 0 {
		return nil, fmt.Errorf("dataset: csv: no time column: none of t, time in the header %q; name it with CSVOptions.Time", names)
	}
	if timeCol == idCol {
		return nil, fmt.Errorf("dataset: csv: column %q cannot be both the series id and the time", names[timeCol])
	}

	var valCols []int
	if opt.Columns != nil {
		for _, name := range opt.Columns {
			i, err := col("value", name)
			if err != nil {
				return nil, err
			}
			if i == idCol || i == timeCol {
				return nil, fmt.Errorf("dataset: csv: column %q is the id or time column, not a value column", name)
			}
			if slices.Contains(valCols, i) {
				return nil, fmt.Errorf("dataset: csv: value column %q named twice", name)
			}
			valCols = append(valCols, i)
		}
	} else {
		for i := range names {
			if i != idCol && i != timeCol {
				valCols = append(valCols, i)
			}
		}
	}
	if len(valCols) == 0 {
		return nil, fmt.Errorf("dataset: csv: no value columns besides id and time in the header %q", names)
	}

	if format == CSVLong {
		return readLong(cr, names, idCol, timeCol, valCols)
	}
	channel := opt.Channel
	if channel == "" {
		channel = "y"
	}
	return readWide(cr, names, timeCol, valCols, channel)
}

// csvErr wraps an encoding/csv error (which carries the line) as ours.
func csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
		return fmt.Errorf("dataset: csv: ragged row: line %d has a different number of fields from the header", pe.Line)
	}
	return fmt.Errorf("dataset: csv: %w", err)
}

// parseCell parses a value cell: missing spellings give NaN.
func parseCell(s string) (float64, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "", "na", "nan", "n/a", "null":
		return math.NaN(), nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return 0, fmt.Errorf("%q is out of range", s)
		}
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not finite", s)
	}
	return v, nil
}

// parseTime parses a time cell: it must be a finite number.
func parseTime(s string) (float64, error) {
	v, err := parseCell(s)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(v) {
		return 0, fmt.Errorf("time %q is missing", strings.TrimSpace(s))
	}
	return v, nil
}

func readLong(cr *csv.Reader, names []string, idCol, timeCol int, valCols []int) (*Paths, error) {
	C := len(valCols)
	type key struct {
		series int
		t      float64
	}
	seriesOf := map[string]int{}
	var ids []string
	seen := map[key]int{} // → line
	var rows []key
	var vals []float64
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvErr(err)
		}
		line, _ := cr.FieldPos(0)
		id := strings.TrimSpace(rec[idCol])
		s, ok := seriesOf[id]
		if !ok {
			s = len(ids)
			seriesOf[id] = s
			ids = append(ids, id)
		}
		t, err := parseTime(rec[timeCol])
		if err != nil {
			l, _ := cr.FieldPos(timeCol)
			return nil, fmt.Errorf("dataset: csv: line %d, column %q: %v", l, names[timeCol], err)
		}
		k := key{s, t}
		if prev, dup := seen[k]; dup {
			return nil, fmt.Errorf("dataset: csv: line %d: duplicate row for series %q at time %v (first on line %d)", line, id, t, prev)
		}
		seen[k] = line
		rows = append(rows, k)
		for _, c := range valCols {
			v, err := parseCell(rec[c])
			if err != nil {
				l, _ := cr.FieldPos(c)
				return nil, fmt.Errorf("dataset: csv: line %d, column %q: %v", l, names[c], err)
			}
			vals = append(vals, v)
		}
	}
	if len(rows) == 0 {
		return nil, errors.New("dataset: csv: no data rows after the header")
	}
	times := make([]float64, len(rows))
	for i, k := range rows {
		times[i] = k.t
	}
	slices.Sort(times)
	times = slices.Compact(times) // -0 and +0 compare equal, as they do as map keys
	T, N := len(times), len(ids)
	if T < 2 {
		return nil, fmt.Errorf("dataset: csv: %d distinct time(s); need at least two", T)
	}
	if float64(N)*float64(T)*float64(C) > maxCSVValues {
		return nil, fmt.Errorf("dataset: csv: %d series × %d distinct times × %d channels exceeds %d values", N, T, C, maxCSVValues)
	}
	p := &Paths{Times: times, Channels: pick(names, valCols), N: N, Values: make([]float64, N*T*C)}
	for i := range p.Values {
		p.Values[i] = math.NaN()
	}
	for i, k := range rows {
		t, _ := slices.BinarySearch(times, k.t)
		copy(p.Values[(k.series*T+t)*C:(k.series*T+t+1)*C], vals[i*C:(i+1)*C])
	}
	return p, checkChannels(p)
}

func readWide(cr *csv.Reader, names []string, timeCol int, valCols []int, channel string) (*Paths, error) {
	N := len(valCols)
	type row struct {
		t    float64
		line int
		vals []float64
	}
	var rows []row
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvErr(err)
		}
		line, _ := cr.FieldPos(0)
		t, err := parseTime(rec[timeCol])
		if err != nil {
			l, _ := cr.FieldPos(timeCol)
			return nil, fmt.Errorf("dataset: csv: line %d, column %q: %v", l, names[timeCol], err)
		}
		r := row{t: t, line: line, vals: make([]float64, N)}
		for j, c := range valCols {
			v, err := parseCell(rec[c])
			if err != nil {
				l, _ := cr.FieldPos(c)
				return nil, fmt.Errorf("dataset: csv: line %d, column %q: %v", l, names[c], err)
			}
			r.vals[j] = v
		}
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		return nil, errors.New("dataset: csv: no data rows after the header")
	}
	slices.SortStableFunc(rows, func(a, b row) int {
		switch {
		case a.t < b.t:
			return -1
		case a.t > b.t:
			return 1
		}
		return a.line - b.line
	})
	for i := 1; i < len(rows); i++ {
		if rows[i].t == rows[i-1].t {
			return nil, fmt.Errorf("dataset: csv: line %d: duplicate time %v (first on line %d)", rows[i].line, rows[i].t, rows[i-1].line)
		}
	}
	T := len(rows)
	if T < 2 {
		return nil, fmt.Errorf("dataset: csv: %d distinct time(s); need at least two", T)
	}
	p := &Paths{Times: make([]float64, T), Channels: []string{channel}, N: N, Values: make([]float64, N*T)}
	for t, r := range rows {
		p.Times[t] = r.t
		for n, v := range r.vals {
			p.Values[n*T+t] = v
		}
	}
	return p, checkChannels(p)
}

func pick(names []string, cols []int) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = names[c]
	}
	return out
}

// checkChannels errs on a channel with no reading in any path.
func checkChannels(p *Paths) error {
	C := p.C()
	for c := 0; c < C; c++ {
		found := false
		for i := c; i < len(p.Values); i += C {
			if !math.IsNaN(p.Values[i]) {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("dataset: csv: channel %q has no reading in any series", p.Channels[c])
		}
	}
	return nil
}

// LoadCSV is ReadCSV of the named file.
func LoadCSV(path string, opt CSVOptions) (*Paths, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := ReadCSV(f, opt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// WriteCSV writes p in long format: the header path,t,<channel names>, then one row per
// path and time (path-major, all N·T rows, so ReadCSV gives p back exactly), the path
// as its index 0…N−1, times and values in the shortest form that reads back exactly,
// a missing value as an empty cell. A channel may not be named path or t.
func WriteCSV(w io.Writer, p *Paths) error {
	if err := p.Validate(); err != nil {
		return err
	}
	for _, c := range p.Channels {
		if c == "path" || c == "t" {
			return fmt.Errorf("dataset: csv: channel name %q clashes with the path/t columns", c)
		}
	}
	cw := csv.NewWriter(w)
	T, C := p.T(), p.C()
	rec := make([]string, 2+C)
	rec[0], rec[1] = "path", "t"
	copy(rec[2:], p.Channels)
	if err := cw.Write(rec); err != nil {
		return err
	}
	times := make([]string, T)
	for t, v := range p.Times {
		times[t] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	for n := 0; n < p.N; n++ {
		rec[0] = strconv.Itoa(n)
		x := p.Path(n)
		for t := 0; t < T; t++ {
			rec[1] = times[t]
			for c := 0; c < C; c++ {
				if v := x[t*C+c]; math.IsNaN(v) {
					rec[2+c] = ""
				} else {
					rec[2+c] = strconv.FormatFloat(v, 'g', -1, 64)
				}
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
