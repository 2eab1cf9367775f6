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
	"unicode/utf8"
)

// CSVFormat is the layout of a CSV file of time series.
type CSVFormat int

const (
	// CSVAuto is long format when the file has a series-id column (CSVOptions.ID, or
	// one detected); otherwise wide format, or, when the file is cut into windows
	// (CSVOptions.Window), one series with the value columns as channels.
	CSVAuto CSVFormat = iota
	// CSVLong: one row per (series, time): a series-id column, a time column and one
	// column per channel. Many paths of many channels. Without an id column the whole
	// file is one series.
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
// column names. Each option is a flag of gosde train, named in brackets; the reader's
// errors name those flags, since that is where its users set them.
type CSVOptions struct {
	// Format is CSVAuto (the default), CSVLong or CSVWide (--csv-format).
	Format CSVFormat
	// ID names the series-id column of long format (--id-col). Default: the first
	// header column named id, series or path (case-insensitive), so WriteCSV's output
	// reads back.
	ID string
	// Time names the time column (--time-col). Default: the first header column named
	// t, time, date or datetime (case-insensitive).
	Time string
	// Columns names the value columns to read, in the order wanted: channels in long
	// format, series in wide format (--columns). Default: every column but the id and
	// time ones, in header order.
	Columns []string
	// Channel is the name of the single channel of wide format. Default "y".
	Channel string
	// Comma is the field separator (--csv-sep). Default ','.
	Comma rune
	// NoHeader reads a file without a header row (--no-header): its columns are named
	// by position, "1", "2", …, and the time column must be named (Time).
	NoHeader bool
	// TimeFormat says how to read the time column (--time-format): see ParseTimeFormat.
	// Default "auto": numbers, or ISO dates and datetimes, recognised from the first row.
	// Dates become days since the earliest time in the file (fractions of a day for
	// times of day).
	TimeFormat string
	// Window, when at least 2, cuts every series into windows of this many consecutive
	// points (--window), each with times relative to its own first point, so that all
	// windows share one grid; the series' times must be equally spaced. Stride is the
	// number of points from one window's start to the next (--stride; default Window:
	// windows that do not overlap). Window 0 reads whole series.
	Window, Stride int
}

// CSVData is a CSV file as ReadCSVData reads it: the paths, where each came from, and
// what the reader decided on the user's behalf.
type CSVData struct {
	*Paths
	// Origins, when not nil, says where in time each path lies in its series (path n
	// is Origins[n]): set when the paths are windows cut from longer series (Window),
	// or series in absolute time that were aligned, so that a train/test split can keep
	// them from overlapping (SplitBlocks). Nil for paths that are independent series.
	Origins []Origin
	// Notes are what the reader decided that the user should be told: how dates were
	// converted, that series were aligned, how a file without an id column was read.
	Notes []string
}

// Origin places a path in the time of the series it was cut from.
type Origin struct {
	// Series is the id of the series (the paths of one series can overlap in time;
	// those of different series cannot).
	Series string
	// Start and End are the times, in the file's own time unit, of the path's first and
	// last points.
	Start, End float64
}

// Bounds on what ReadCSVData reads, so that a mistaken or hostile input (/dev/zero, a
// line of a gigabyte, a header of a million columns) ends in an error that says so, not
// in exhausted memory. maxCSVValues bounds both the values read and the dense N·T·C grid
// built from them (long format fills the union of all series' times, which can be far
// larger than the file): 1 GiB of float64.
const (
	maxCSVValues  = 1 << 27
	maxCSVRecord  = 16 << 20 // bytes of one record (a line, or several within quotes)
	maxCSVField   = 4 << 10  // bytes of one cell or column name
	maxCSVColumns = 100_000
	maxCSVFile    = 4 << 30 // bytes of a file LoadCSVData reads
)

// valuesLimit is maxCSVValues where the reader counts the values it reads: a variable,
// so that the tests can lower it instead of writing gigabytes.
var valuesLimit = maxCSVValues

// MaxCSVValues is the most values (cells of the dense N·T·C grid) that ReadCSVData
// accepts: a model trained on a CSV file sees at most this many.
const MaxCSVValues = maxCSVValues

// ReadCSV is ReadCSVData's paths.
func ReadCSV(r io.Reader, opt CSVOptions) (*Paths, error) {
	d, err := ReadCSVData(r, opt)
	if err != nil {
		return nil, err
	}
	return d.Paths, nil
}

// ReadCSVData reads time series from CSV (encoding/csv quoting; cells are trimmed of
// surrounding space; a leading UTF-8 byte-order mark is skipped), with a header row
// unless opt.NoHeader.
//
// Long format (see CSVLong) gives one series per distinct id, in order of first
// appearance, with the channels as columns; wide format (see CSVWide) one series per
// value column, of one channel named opt.Channel. Rows may come in any order.
//
// Whole series (Window 0) share one time grid: the sorted union of every series' times;
// a series with no row at some time has NaN there. When the series lie in (nearly)
// disjoint stretches of time — on average each covers at most half of the shared grid,
// so that most of every path would be constant extrapolation — they are aligned if they
// can be (every series has the same number of times, laid out alike: each is shifted
// to start at 0, with a note saying so, and Origins set) and refused with a message
// saying how to lay the file out otherwise. Series interleaved in time (irregular
// sampling) are not: that is what the shared grid and interpolation are for.
//
// Windows (Window ≥ 2) are cut from each series, from its first to its last row with
// a reading; the times within every window must be equally spaced (to 0.1% of the
// spacing, the same in every series), and each window's times are its offsets from
// its first point, on the exact grid 0, h, 2h, ….
//
// A value cell that is empty, NA, NaN, N/A or null (case-insensitive) is a missing
// reading (NaN). Times must be present; values finite or missing.
//
// Errors, with line numbers where a line is to blame (it never panics), name the
// command-line flag that fixes them where one does.
func ReadCSVData(r io.Reader, opt CSVOptions) (*CSVData, error) {
	tf, err := checkCSVOptions(opt)
	if err != nil {
		return nil, err
	}
	rows, names, err := readHeader(r, opt)
	if err != nil {
		return nil, err
	}
	lay, err := findColumns(names, opt)
	if err != nil {
		return nil, err
	}
	tp := &timeParser{format: tf}
	series, err := lay.readSeries(rows, tp)
	if err != nil {
		return nil, err
	}
	tp.toDays(series)
	d := &CSVData{Notes: lay.notes(tp, opt)}
	if err := shapeSeries(d, series, lay.channels(opt), tp, opt); err != nil {
		return nil, err
	}
	return d, checkChannels(d.Paths)
}

// checkCSVOptions checks the options that do not depend on the file, and returns the
// time format.
func checkCSVOptions(opt CSVOptions) (string, error) {
	if opt.Window < 0 || opt.Window == 1 {
		return "", fmt.Errorf("dataset: csv: --window %d: a window needs at least 2 points (0: whole series)", opt.Window)
	}
	if opt.Stride < 0 || (opt.Stride > 0 && opt.Window == 0) {
		return "", fmt.Errorf("dataset: csv: --stride %d needs --window (and must be at least 1)", opt.Stride)
	}
	return ParseTimeFormat(opt.TimeFormat)
}

// readHeader sets up the bounded row reader on r and reads the first record: the
// column names, or, with opt.NoHeader, the first data row (left pending for the rows
// to come), the columns then named by position.
func readHeader(r io.Reader, opt CSVOptions) (*rowReader, []string, error) {
	bounded := &boundedReader{r: r, line: 1, start: 1}
	br := bufio.NewReader(bounded)
	if bom, _ := br.Peek(3); string(bom) == "\ufeff" {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	if opt.Comma != 0 {
		cr.Comma = opt.Comma
		if !validComma(opt.Comma) {
			return nil, nil, fmt.Errorf("dataset: csv: --csv-sep %q cannot separate fields", opt.Comma)
		}
	}
	cr.ReuseRecord = true
	rows := &rowReader{cr: cr, in: bounded}
	if opt.Columns == nil {
		rows.valueHint = "; name the value columns to read with --columns (and a series-id column with --id-col)"
	}
	first, err := cr.Read()
	if err == io.EOF {
		return nil, nil, errors.New("dataset: csv: empty input: no header")
	}
	if err != nil {
		return nil, nil, rows.csvErr(err)
	}
	if len(first) > maxCSVColumns {
		return nil, nil, fmt.Errorf("dataset: csv: line 1 has %d columns; gosde reads at most %d (in wide format, one column per series: give the series in long format, one row per series and time, with an id column)", len(first), maxCSVColumns)
	}
	if err := checkFields(first, 1); err != nil {
		return nil, nil, err
	}
	if !opt.NoHeader {
		names, err := headerNames(first, opt)
		return rows, names, err
	}
	names := make([]string, len(first))
	for i := range names {
		names[i] = strconv.Itoa(i + 1)
	}
	rows.pending = slices.Clone(first)
	rows.pendingLine, _ = cr.FieldPos(0)
	return rows, names, nil
}

// csvLayout is where the series are in a file: its format and the positions of its
// series-id (−1 if none), time and value columns among names.
type csvLayout struct {
	names   []string
	format  CSVFormat
	idCol   int
	timeCol int
	valCols []int
}

// findColumns finds the id, time and value columns among the column names (those opt
// names, else those detected) and settles the format.
func findColumns(names []string, opt CSVOptions) (*csvLayout, error) {
	index := make(map[string]int, len(names)) // names are unique (headerNames)
	for i, h := range names {
		index[h] = i
	}
	col := func(what, flag, name string) (int, error) {
		if i, ok := index[name]; ok {
			return i, nil
		}
		if opt.NoHeader {
			return -1, fmt.Errorf("dataset: csv: %s %s: with --no-header, columns are named by position, 1 to %d", flag, quote(name), len(names))
		}
		return -1, fmt.Errorf("dataset: csv: %s %s: no %s column of that name; the header has %s", flag, quote(name), what, quoteList(names))
	}
	detect := func(cands ...string) int {
		if opt.NoHeader {
			return -1
		}
		return slices.IndexFunc(names, func(h string) bool {
			return slices.ContainsFunc(cands, func(c string) bool { return strings.EqualFold(h, c) })
		})
	}
	lay := &csvLayout{names: names, idCol: -1, timeCol: -1}
	var err error
	if lay.idCol, lay.format, err = idAndFormat(col, detect, opt); err != nil {
		return nil, err
	}
	if lay.timeCol, err = timeColumn(col, detect, names, lay.idCol, opt); err != nil {
		return nil, err
	}
	if lay.valCols, err = valueColumns(col, names, lay.idCol, lay.timeCol, opt); err != nil {
		return nil, err
	}
	return lay, nil
}

// columnFinder and columnDetector are findColumns' look-ups of a column by the name a
// flag gives and among candidate names: the column's position, or −1.
type (
	columnFinder   func(what, flag, name string) (int, error)
	columnDetector func(cands ...string) int
)

// idAndFormat finds the series-id column (−1 if none) and settles the format: auto is
// long when there is an id column or windows are cut, wide otherwise.
func idAndFormat(col columnFinder, detect columnDetector, opt CSVOptions) (int, CSVFormat, error) {
	idCol := -1
	if opt.ID != "" {
		var err error
		if idCol, err = col("id", "--id-col", opt.ID); err != nil {
			return -1, 0, err
		}
	} else if opt.Format != CSVWide {
		idCol = detect("id", "series", "path")
	}
	format := opt.Format
	switch format {
	case CSVAuto:
		format = CSVWide
		if idCol >= 0 || opt.Window > 0 {
			format = CSVLong
		}
	case CSVLong:
	case CSVWide:
		if opt.ID != "" {
			return -1, 0, fmt.Errorf("dataset: csv: wide format (--csv-format wide) has no series-id column, but --id-col is %s", quote(opt.ID))
		}
	default:
		return -1, 0, fmt.Errorf("dataset: csv: unknown format %v: use --csv-format auto, long or wide", format)
	}
	return idCol, format, nil
}

// timeColumn finds the time column: the one opt names, else t or time, else date or
// datetime.
func timeColumn(col columnFinder, detect columnDetector, names []string, idCol int, opt CSVOptions) (int, error) {
	timeCol := -1
	if opt.Time != "" {
		var err error
		if timeCol, err = col("time", "--time-col", opt.Time); err != nil {
			return -1, err
		}
	} else if opt.NoHeader {
		return -1, errors.New("dataset: csv: with --no-header, give the time column's position with --time-col (e.g. --time-col 1)")
	} else if timeCol = detect("t", "time"); timeCol < 0 {
		timeCol = detect("date", "datetime")
	}
	if timeCol < 0 {
		msg := fmt.Sprintf("dataset: csv: no time column: none of t, time, date, datetime in the header %s; name it with --time-col", quoteList(names))
		if looksLikeData(names) {
			msg += "; if the file has no header, give --no-header"
		}
		return -1, errors.New(msg)
	}
	if timeCol == idCol {
		return -1, fmt.Errorf("dataset: csv: column %s cannot be both the series id (--id-col) and the time (--time-col)", quote(names[timeCol]))
	}
	return timeCol, nil
}

// valueColumns finds the value columns: those opt names, in its order, else every
// column but the id and time ones.
func valueColumns(col columnFinder, names []string, idCol, timeCol int, opt CSVOptions) ([]int, error) {
	var valCols []int
	if opt.Columns != nil {
		named := make(map[int]bool, len(opt.Columns))
		for _, name := range opt.Columns {
			i, err := col("value", "--columns", name)
			if err != nil {
				return nil, err
			}
			if i == idCol || i == timeCol {
				return nil, fmt.Errorf("dataset: csv: --columns %s is the id or time column, not a value column", quote(name))
			}
			if named[i] {
				return nil, fmt.Errorf("dataset: csv: --columns names %s twice", quote(name))
			}
			named[i] = true
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
		return nil, fmt.Errorf("dataset: csv: no value columns besides id and time in the header %s", quoteList(names))
	}
	return valCols, nil
}

// readSeries reads the rows into series, in the layout's format.
func (l *csvLayout) readSeries(rows *rowReader, tp *timeParser) ([]csvSeries, error) {
	if l.format == CSVLong {
		return readLong(rows, l.names, l.idCol, l.timeCol, l.valCols, tp)
	}
	return readWide(rows, l.names, l.timeCol, l.valCols, tp)
}

// channels names the channels of the paths: the value columns in long format, the
// single opt.Channel (default "y") in wide format.
func (l *csvLayout) channels(opt CSVOptions) []string {
	if l.format == CSVLong {
		return pick(l.names, l.valCols)
	}
	if opt.Channel == "" {
		return []string{"y"}
	}
	return []string{opt.Channel}
}

// notes are what the reader decided that the user should be told: how the dates were
// read, and how a file with several value columns but no id column was read.
func (l *csvLayout) notes(tp *timeParser, opt CSVOptions) []string {
	var notes []string
	if tp.dates {
		notes = append(notes, fmt.Sprintf("times: the dates in column %s are read as days since the earliest, %s",
			quote(l.names[l.timeCol]), tp.earliest()))
	}
	if l.format == CSVLong && l.idCol < 0 && len(l.valCols) > 1 && opt.Format == CSVAuto {
		notes = append(notes, fmt.Sprintf("layout: no series-id column, so the file is one series of %d channel(s) %s "+
			"(--csv-format wide reads each column as a series instead)", len(l.valCols), quoteList(pick(l.names, l.valCols))))
	}
	return notes
}

// shapeSeries puts the series into d's paths: windows cut from each series
// (opt.Window), or whole series on one shared grid.
func shapeSeries(d *CSVData, series []csvSeries, channels []string, tp *timeParser, opt CSVOptions) error {
	if opt.Window == 0 {
		return shareGrid(d, series, channels)
	}
	stride := opt.Stride
	if stride == 0 {
		stride = opt.Window
	}
	return cutWindows(d, series, channels, opt.Window, stride, tp)
}

// validComma reports whether encoding/csv accepts r as a separator.
func validComma(r rune) bool {
	return r != 0 && r != '"' && r != '\r' && r != '\n' && utf8.ValidRune(r) && r != utf8.RuneError
}

// headerNames checks a header row.
func headerNames(header []string, opt CSVOptions) ([]string, error) {
	names := make([]string, len(header))
	for i, h := range header {
		names[i] = strings.TrimSpace(h)
	}
	if len(names) == 1 && opt.Comma == 0 && strings.ContainsAny(names[0], ";\t|") {
		return nil, fmt.Errorf("dataset: csv: the header %s is one column: if the file is separated by ';', tab or '|', give --csv-sep", quote(names[0]))
	}
	hint := ""
	if looksLikeData(names) {
		// A header-less file would otherwise be blamed for duplicate or odd names.
		if !slices.ContainsFunc(names, func(h string) bool { return !isNumber(h) && !isISODate(h) }) {
			return nil, fmt.Errorf("dataset: csv: no header: the first row %s is all numbers or dates; if the file has no header, give --no-header (the columns are then named by position: --time-col 1, --columns 2,3, …)", quoteList(names))
		}
		hint = " (if the file has no header, give --no-header)"
	}
	// A map, not a search of the names before each: a header of 100,000 columns took 48 s.
	first := make(map[string]int, len(names))
	for i, h := range names {
		if h == "" {
			return nil, fmt.Errorf("dataset: csv: line 1: column %d has an empty name%s", i+1, hint)
		}
		if strings.ContainsFunc(h, unicode.IsControl) {
			return nil, fmt.Errorf("dataset: csv: line 1: column %d name %s contains a control character%s", i+1, quote(h), hint)
		}
		if j, ok := first[h]; ok {
			return nil, fmt.Errorf("dataset: csv: line 1: duplicate column name %s (columns %d and %d)%s", quote(h), j+1, i+1, hint)
		}
		first[h] = i
	}
	return names, nil
}

// looksLikeData reports whether any header cell is a number or an ISO date.
func looksLikeData(names []string) bool {
	return slices.ContainsFunc(names, func(h string) bool { return isNumber(h) || isISODate(h) })
}

func isNumber(s string) bool {
	_, err := parseNumber(s)
	return err == nil
}

var (
	errNotNumber = errors.New("not a number")
	errNotFinite = errors.New("not finite")
	errRange     = errors.New("out of range")
)

// parseNumber parses s as a decimal number as CSV files write them: an optional sign,
// digits with an optional decimal point, an optional exponent. strconv.ParseFloat also
// takes Go's own spellings — digits separated by underscores (1_000), hexadecimal
// (0x1p-2) — which no spreadsheet writes and which would turn a mistyped cell into a
// number; Inf and Infinity are refused as not finite.
func parseNumber(s string) (float64, error) {
	if !isDecimal(s) {
		switch strings.ToLower(strings.TrimLeft(s, "+-")) {
		case "inf", "infinity":
			return 0, errNotFinite
		}
		return 0, errNotNumber
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, errRange // the syntax is right, so only the range can be wrong
	}
	return v, nil
}

// isDecimal reports whether s is [+-]digits[.digits][(e|E)[+-]digits], with a digit
// before or after the point.
func isDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := func() int {
		j := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		return i - j
	}
	n := digits()
	if i < len(s) && s[i] == '.' {
		i++
		n += digits()
	}
	if n == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// quote is s quoted for a message, cut to its first 80 characters: a cell or a name can
// be thousands of bytes long, and a message that repeats them helps no one.
func quote(s string) string {
	const most = 80
	n := 0
	for i := range s {
		if n == most {
			return fmt.Sprintf("%q… (%d bytes)", s[:i], len(s))
		}
		n++
	}
	return strconv.Quote(s)
}

// quoteList is names quoted for a message: the first 10, each cut as quote cuts it.
func quoteList(names []string) string {
	const most = 10
	qs := make([]string, 0, min(len(names), most)+1)
	for _, n := range names[:min(len(names), most)] {
		qs = append(qs, quote(n))
	}
	if len(names) > most {
		qs = append(qs, fmt.Sprintf("… (%d columns)", len(names)))
	}
	return "[" + strings.Join(qs, " ") + "]"
}

// checkFields refuses a record with a cell longer than maxCSVField bytes: no number,
// date, id or column name is, and every message that quotes a cell stays short.
func checkFields(rec []string, line int) error {
	for i, f := range rec {
		if len(f) > maxCSVField {
			return fmt.Errorf("dataset: csv: line %d, column %d: a cell of %d bytes (%s); gosde reads cells of at most %d bytes", line, i+1, len(f), quote(f), maxCSVField)
		}
	}
	return nil
}

// errRecordTooLong is boundedReader's error (wrapped with the line).
var errRecordTooLong = fmt.Errorf("longer than %d bytes", maxCSVRecord)

// boundedReader passes a CSV file through, failing once one record (a line, or several
// within quotes) exceeds maxCSVRecord bytes, before encoding/csv has buffered it whole.
type boundedReader struct {
	r      io.Reader
	line   int  // the current physical line
	start  int  // the line the current record began on
	run    int  // bytes of the current record so far
	quoted bool // inside a quoted field (a quote toggles; an escaped "" toggles twice)
	err    error
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.r.Read(p)
	for i, c := range p[:n] {
		switch c {
		case '"':
			b.quoted = !b.quoted
		case '\n':
			b.line++
			if !b.quoted {
				b.run, b.start = 0, b.line
				continue
			}
		}
		if b.run++; b.run > maxCSVRecord {
			b.err = fmt.Errorf("dataset: csv: line %d: a record %w; is it a CSV file of time series?", b.start, errRecordTooLong)
			return i, b.err
		}
	}
	return n, err
}

// rowReader yields the data rows: the header-less file's first row, then the rest.
type rowReader struct {
	cr          *csv.Reader
	in          *boundedReader
	valueHint   string // for a value cell that is not a number
	pending     []string
	pendingLine int
}

// next returns the next row and the line it starts on.
func (r *rowReader) next() ([]string, int, error) {
	if r.pending != nil {
		rec := r.pending
		r.pending = nil
		return rec, r.pendingLine, nil
	}
	rec, err := r.cr.Read()
	if err != nil {
		if err == io.EOF {
			return nil, 0, err
		}
		return nil, 0, r.csvErr(err)
	}
	line, _ := r.cr.FieldPos(0)
	return rec, line, checkFields(rec, line)
}

// csvErr wraps an encoding/csv error (which carries the line) as ours; the bound on a
// record's length is ours already.
func (r *rowReader) csvErr(err error) error {
	if errors.Is(err, errRecordTooLong) {
		return r.in.err
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
		return fmt.Errorf("dataset: csv: ragged row: line %d has a different number of fields from the header", pe.Line)
	}
	return fmt.Errorf("dataset: csv: %w", err)
}

// isMissing reports whether a (trimmed) cell spells a missing reading.
func isMissing(s string) bool {
	switch strings.ToLower(s) {
	case "", "na", "nan", "n/a", "null":
		return true
	}
	return false
}

// parseCell parses a value cell: missing spellings give NaN.
func parseCell(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if isMissing(s) {
		return math.NaN(), nil
	}
	v, err := parseNumber(s)
	if err != nil {
		return 0, fmt.Errorf("%s is %w", quote(s), err)
	}
	return v, nil
}

// csvSeries is one series as read: its rows sorted by time.
type csvSeries struct {
	id    string
	times []float64
	lines []int
	vals  []float64 // len(times)·C, NaN where missing
	// own is the range of rows [own[0], own[1]] that are the series' own times: all
	// its rows in long format; in wide format, where every column has every row, those
	// from its first reading to its last.
	own [2]int
}

func readLong(rows *rowReader, names []string, idCol, timeCol int, valCols []int, tp *timeParser) ([]csvSeries, error) {
	C := len(valCols)
	seriesOf := map[string]int{}
	var series []csvSeries
	read := 0
	for {
		rec, line, err := rows.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if read += len(valCols); read > valuesLimit {
			return nil, tooManyValues(line)
		}
		id := ""
		if idCol >= 0 {
			id = strings.TrimSpace(rec[idCol])
		}
		s, ok := seriesOf[id]
		if !ok {
			s = len(series)
			seriesOf[id] = s
			series = append(series, csvSeries{id: id})
		}
		t, err := tp.parse(rec[timeCol])
		if err != nil {
			return nil, fmt.Errorf("dataset: csv: line %d, column %s: %v", line, quote(names[timeCol]), err)
		}
		sr := &series[s]
		sr.times = append(sr.times, t)
		sr.lines = append(sr.lines, line)
		for _, c := range valCols {
			v, err := parseCell(rec[c])
			if err != nil {
				return nil, fmt.Errorf("dataset: csv: line %d, column %s: %v%s", line, quote(names[c]), err, rows.valueHint)
			}
			sr.vals = append(sr.vals, v)
		}
	}
	if len(series) == 0 {
		return nil, errors.New("dataset: csv: no data rows after the header")
	}
	for i := range series {
		if err := sortSeries(&series[i], C, idCol >= 0, tp, "; if the file holds several series, name their id column with --id-col"); err != nil {
			return nil, err
		}
		series[i].own = [2]int{0, len(series[i].times) - 1}
	}
	return series, nil
}

// sortSeries orders a series' rows by time (stably) and refuses a repeated time.
func sortSeries(s *csvSeries, C int, named bool, tp *timeParser, hintID string) error {
	idx := make([]int, len(s.times))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch ta, tb := s.times[a], s.times[b]; {
		case ta < tb:
			return -1
		case ta > tb:
			return 1
		}
		return 0
	})
	times, lines, vals := make([]float64, len(idx)), make([]int, len(idx)), make([]float64, len(s.vals))
	for j, i := range idx {
		times[j], lines[j] = s.times[i], s.lines[i]
		copy(vals[j*C:(j+1)*C], s.vals[i*C:(i+1)*C])
		if j > 0 && times[j] == times[j-1] {
			if named {
				return fmt.Errorf("dataset: csv: line %d: duplicate row for series %s at time %s (first on line %d)", lines[j], quote(s.id), tp.show(times[j]), lines[j-1])
			}
			return fmt.Errorf("dataset: csv: line %d: duplicate time %s (first on line %d)%s", lines[j], tp.show(times[j]), lines[j-1], hintID)
		}
	}
	s.times, s.lines, s.vals = times, lines, vals
	return nil
}

func readWide(rows *rowReader, names []string, timeCol int, valCols []int, tp *timeParser) ([]csvSeries, error) {
	N := len(valCols)
	// Read as one series of N channels, then deal it out column by column.
	all := csvSeries{}
	for {
		rec, line, err := rows.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(all.vals)+len(valCols) > valuesLimit {
			return nil, tooManyValues(line)
		}
		t, err := tp.parse(rec[timeCol])
		if err != nil {
			return nil, fmt.Errorf("dataset: csv: line %d, column %s: %v", line, quote(names[timeCol]), err)
		}
		all.times = append(all.times, t)
		all.lines = append(all.lines, line)
		for _, c := range valCols {
			v, err := parseCell(rec[c])
			if err != nil {
				return nil, fmt.Errorf("dataset: csv: line %d, column %s: %v%s", line, quote(names[c]), err, rows.valueHint)
			}
			all.vals = append(all.vals, v)
		}
	}
	if len(all.times) == 0 {
		return nil, errors.New("dataset: csv: no data rows after the header")
	}
	if err := sortSeries(&all, N, false, tp, ""); err != nil {
		return nil, err
	}
	T := len(all.times)
	series := make([]csvSeries, N)
	for n := range series {
		s := csvSeries{id: names[valCols[n]], times: all.times, lines: all.lines, vals: make([]float64, T)}
		for t := range s.vals {
			s.vals[t] = all.vals[t*N+n]
		}
		a, b, ok := readingSpan(s, 1)
		if !ok {
			a, b = 0, -1
		}
		s.own = [2]int{a, b}
		series[n] = s
	}
	return series, nil
}

func tooManyValues(line int) error {
	return fmt.Errorf("dataset: csv: line %d: more than %d values; gosde reads at most that many (name fewer columns with --columns, or train on part of the file)", line, valuesLimit)
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
			return fmt.Errorf("dataset: csv: channel %s has no reading in any series", quote(p.Channels[c]))
		}
	}
	return nil
}

// LoadCSV is ReadCSV of the named file.
func LoadCSV(path string, opt CSVOptions) (*Paths, error) {
	d, err := LoadCSVData(path, opt)
	if err != nil {
		return nil, err
	}
	return d.Paths, nil
}

// LoadCSVData is ReadCSVData of the named file, which must be a regular file of at most
// 4 GiB: a run reads its data again to resume and to be evaluated, which a device or a
// pipe cannot give.
func LoadCSVData(path string, opt CSVOptions) (*CSVData, error) {
	// Stat before opening: opening a named pipe waits for a writer.
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	switch {
	case st.IsDir():
		return nil, fmt.Errorf("%s is a directory, not a CSV file", path)
	case !st.Mode().IsRegular():
		return nil, fmt.Errorf("%s is not a regular file (a device or a pipe?): gosde reads its data again to resume a run and to evaluate it, so save the data to a file and give that", path)
	case st.Size() > maxCSVFile:
		return nil, fmt.Errorf("%s is %d bytes; gosde reads CSV files of at most %d bytes", path, st.Size(), int64(maxCSVFile))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, err := ReadCSVData(f, opt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// WriteCSV writes p in long format: the header path,t,<channel names>, then one row per
// path and time (path-major, all N·T rows, so ReadCSV gives p back exactly), the path
// as its index 0…N−1, times and values in the shortest form that reads back exactly,
// a missing value as an empty cell. A channel named path takes the id column's name
// series (or id), one named t the time column's time, so that every channel ReadCSV
// can read is written back readably; channels named both t and time, or path, series
// and id, are refused.
func WriteCSV(w io.Writer, p *Paths) error {
	if err := p.Validate(); err != nil {
		return err
	}
	free := func(cands ...string) string {
		for _, c := range cands {
			if !slices.Contains(p.Channels, c) {
				return c
			}
		}
		return ""
	}
	// ReadCSV takes the first column named one of these, and these come first.
	idName, timeName := free("path", "series", "id"), free("t", "time")
	if idName == "" || timeName == "" {
		return fmt.Errorf("dataset: csv: channels named %s leave no name for the path or time column that reads back; rename one", quoteList(p.Channels))
	}
	cw := csv.NewWriter(w)
	T, C := p.T(), p.C()
	rec := make([]string, 2+C)
	rec[0], rec[1] = idName, timeName
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
