package dataset

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

// series writes a one-series CSV "t,a" with times t0 + i·h and values i, i = 0…n−1.
func seriesCSV(n int, t0, h float64) string {
	var b strings.Builder
	b.WriteString("t,a\n")
	for i := range n {
		fmt.Fprintf(&b, "%v,%d\n", t0+float64(i)*h, i)
	}
	return b.String()
}

// The layouts people have, each read to the paths it holds, with where the paths came
// from and the notes the user is shown.
func TestReadCSVLayouts(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		opt     CSVOptions
		want    *Paths
		origins []Origin
		notes   []string // substrings, one per note, in order
	}{
		{"semicolons, decimal points", "id;t;a\nx;0;1.5\nx;1;2\n", CSVOptions{Comma: ';'},
			&Paths{Times: []float64{0, 1}, Channels: []string{"a"}, N: 1, Values: []float64{1.5, 2}}, nil, nil},
		{"tabs", "id\tt\ta\nx\t0\t1\nx\t1\t2\n", CSVOptions{Comma: '\t'},
			&Paths{Times: []float64{0, 1}, Channels: []string{"a"}, N: 1, Values: []float64{1, 2}}, nil, nil},
		{"pipes", "t|s1|s2\n0|1|2\n1|3|4\n", CSVOptions{Comma: '|'},
			&Paths{Times: []float64{0, 1}, Channels: []string{"y"}, N: 2, Values: []float64{1, 3, 2, 4}}, nil, nil},
		{"time column of another name", "station,hour,pm25\nA,0,10\nA,1,11\n", CSVOptions{ID: "station", Time: "hour"},
			&Paths{Times: []float64{0, 1}, Channels: []string{"pm25"}, N: 1, Values: []float64{10, 11}}, nil, nil},
		{"dates, detected in a column named date", "date,a\n2012-01-03,2\n2012-01-01,1\n", CSVOptions{},
			&Paths{Times: []float64{0, 2}, Channels: []string{"y"}, N: 1, Values: []float64{1, 2}}, nil,
			[]string{`the dates in column "date" are read as days since the earliest, 2012-01-01`}},
		{"datetimes", "id,time,a\nx,2012-01-01 18:00:00,2\nx,2012-01-01 06:00:00,1\n", CSVOptions{},
			&Paths{Times: []float64{0, 0.5}, Channels: []string{"a"}, N: 1, Values: []float64{1, 2}}, nil,
			[]string{"days since the earliest, 2012-01-01 06:00:00"}},
		{"RFC 3339 with zones", "t,a\n2012-01-01T00:00:00+01:00,1\n2012-01-01T05:00:00Z,2\n", CSVOptions{},
			&Paths{Times: []float64{0, 0.25}, Channels: []string{"y"}, N: 1, Values: []float64{1, 2}}, nil, []string{"days since"}},
		{"a strftime layout", "t,a\n02/01/2012,1\n31/12/2011,2\n", CSVOptions{TimeFormat: "%d/%m/%Y"},
			&Paths{Times: []float64{0, 2}, Channels: []string{"y"}, N: 1, Values: []float64{2, 1}}, nil, []string{"31/12/2011"}},
		{"numbers forced", "t,a\n10,1\n11,2\n", CSVOptions{TimeFormat: "number"},
			&Paths{Times: []float64{10, 11}, Channels: []string{"y"}, N: 1, Values: []float64{1, 2}}, nil, nil},
		{"no header, wide", "0,1,2\n1,3,4\n", CSVOptions{NoHeader: true, Time: "1"},
			&Paths{Times: []float64{0, 1}, Channels: []string{"y"}, N: 2, Values: []float64{1, 3, 2, 4}}, nil, nil},
		{"no header, long", "x,1,5,6\ny,0,7,8\nx,0,1,2\ny,1,3,4\n", CSVOptions{NoHeader: true, ID: "1", Time: "2", Columns: []string{"4"}},
			&Paths{Times: []float64{0, 1}, Channels: []string{"4"}, N: 2, Values: []float64{2, 6, 8, 4}}, nil, nil},
		{"one long series in windows", seriesCSV(10, 0, 1), CSVOptions{Window: 4},
			&Paths{Times: []float64{0, 1, 2, 3}, Channels: []string{"a"}, N: 2, Values: []float64{0, 1, 2, 3, 4, 5, 6, 7}},
			[]Origin{{"", 0, 3}, {"", 4, 7}}, []string{"windows: 2 of 4 points, 4 apart, from 1 series"}},
		{"overlapping windows, absolute times, spacing 0.5", seriesCSV(7, 100, 0.5), CSVOptions{Window: 3, Stride: 2},
			&Paths{Times: []float64{0, 0.5, 1}, Channels: []string{"a"}, N: 3, Values: []float64{0, 1, 2, 2, 3, 4, 4, 5, 6}},
			[]Origin{{"", 100, 101}, {"", 101, 102}, {"", 102, 103}}, []string{"windows: 3 of 3 points, 2 apart"}},
		{"windows of several series, one too short", "id,t,a,b\nx,0,1,2\nx,1,3,4\nx,2,5,6\ny,5,7,8\ny,6,9,10\nz,0,0,0\n", CSVOptions{Window: 2, Stride: 1},
			&Paths{Times: []float64{0, 1}, Channels: []string{"a", "b"}, N: 3, Values: []float64{1, 2, 3, 4, 3, 4, 5, 6, 7, 8, 9, 10}},
			[]Origin{{"x", 0, 1}, {"x", 1, 2}, {"y", 5, 6}}, []string{"(1 series shorter than --window 2 left out)"}},
		{"windows of one series without an id column: channels", "t,a,b\n0,1,2\n1,3,4\n2,5,6\n3,7,8\n", CSVOptions{Window: 2},
			&Paths{Times: []float64{0, 1}, Channels: []string{"a", "b"}, N: 2, Values: []float64{1, 2, 3, 4, 5, 6, 7, 8}},
			[]Origin{{"", 0, 1}, {"", 2, 3}}, []string{"no series-id column, so the file is one series of 2 channel(s)", "windows"}},
		{"windows of wide columns, empty ends trimmed", "t,s1,s2\n0,1,\n1,2,\n2,3,7\n3,4,8\n4,,9\n5,,10\n", CSVOptions{Format: CSVWide, Window: 2},
			&Paths{Times: []float64{0, 1}, Channels: []string{"y"}, N: 4, Values: []float64{1, 2, 3, 4, 7, 8, 9, 10}},
			[]Origin{{"s1", 0, 1}, {"s1", 2, 3}, {"s2", 2, 3}, {"s2", 4, 5}}, []string{"windows"}},
		{"windows of daily dates", "date,a\n2012-01-01,1\n2012-01-02,2\n2012-01-03,3\n2012-01-04,4\n", CSVOptions{Window: 2},
			&Paths{Times: []float64{0, 1}, Channels: []string{"a"}, N: 2, Values: []float64{1, 2, 3, 4}},
			[]Origin{{"", 0, 1}, {"", 2, 3}}, []string{"days since", "spacing 1"}},
		{"absolute-time windows aligned", "w,t,a\nw0,0,1\nw0,1,2\nw0,2,3\nw1,10,4\nw1,11,5\nw1,12,6\nw2,20,7\nw2,21,8\nw2,22,9\n", CSVOptions{ID: "w"},
			&Paths{Times: []float64{0, 1, 2}, Channels: []string{"a"}, N: 3, Values: []float64{1, 2, 3, 4, 5, 6, 7, 8, 9}},
			[]Origin{{"", 0, 2}, {"", 10, 12}, {"", 20, 22}}, []string{"aligned: the 3 series lie in (nearly) disjoint stretches of time (9 distinct times in all, each spanning 33% of them on average)"}},
		{"wide columns in disjoint stretches aligned", "t,s1,s2\n0,1,\n1,2,\n2,,3\n3,,4\n", CSVOptions{},
			&Paths{Times: []float64{0, 1}, Channels: []string{"y"}, N: 2, Values: []float64{1, 2, 3, 4}},
			[]Origin{{"", 0, 1}, {"", 2, 3}}, []string{"aligned"}},
		{"half-overlapping series are a shared grid", "id,t,a\nx,0,1\nx,1,2\ny,1,3\ny,2,4\n", CSVOptions{},
			&Paths{Times: []float64{0, 1, 2}, Channels: []string{"a"}, N: 2, Values: []float64{1, 2, nan, nan, 3, 4}}, nil, nil},
		{"interleaved irregular series are a shared grid", "id,t,a\nx,0,1\nx,2,2\ny,1,3\ny,3,4\nz,0.5,5\nz,2.5,6\n", CSVOptions{},
			&Paths{Times: []float64{0, 0.5, 1, 2, 2.5, 3}, Channels: []string{"a"}, N: 3, Values: []float64{
				1, nan, nan, 2, nan, nan, nan, nan, 3, nan, nan, 4, nan, 5, nan, nan, 6, nan}}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ReadCSVData(strings.NewReader(tc.in), tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if !samePaths(d.Paths, tc.want) {
				t.Errorf("got %+v\nwant %+v", d.Paths, tc.want)
			}
			if !slices.Equal(d.Origins, tc.origins) {
				t.Errorf("origins %v, want %v", d.Origins, tc.origins)
			}
			if len(d.Notes) != len(tc.notes) {
				t.Fatalf("notes %q, want %d", d.Notes, len(tc.notes))
			}
			for i, n := range tc.notes {
				if !strings.Contains(d.Notes[i], n) {
					t.Errorf("note %q, want it to contain %q", d.Notes[i], n)
				}
			}
		})
	}
}

// Every mistake a user can make with the options is an error that names the flag
// that fixes it, never a Go field.
func TestReadCSVOptionErrors(t *testing.T) {
	gap := "t,a\n0,0\n1,1\n2,2\n4,4\n5,5\n6,6\n"
	for _, tc := range []struct {
		name, in string
		opt      CSVOptions
		error    []string
	}{
		{"a decimal comma in a semicolon file", "id;t;a\nx;0;1,5\nx;1;2\n", CSVOptions{Comma: ';'}, []string{`line 2, column "a": "1,5" is not a number`}},
		{"semicolons without --csv-sep", "id;t;a\nx;0;1\nx;1;2\n", CSVOptions{}, []string{"--csv-sep"}},
		{"tabs without --csv-sep", "t\ta\n0\t1\n1\t2\n", CSVOptions{}, []string{"--csv-sep"}},
		{"a quote as separator", "t,a\n0,1\n", CSVOptions{Comma: '"'}, []string{"--csv-sep"}},
		{"no header: numbers", "0,0,1.5\n0,1,2\n", CSVOptions{}, []string{"no header", "--no-header", "--time-col 1"}},
		{"no header: dates and numbers", "2012-01-01,1,2\n2012-01-02,3,4\n", CSVOptions{}, []string{"--no-header"}},
		{"no header: an id, then numbers", "x,0,0\nx,1,1\n", CSVOptions{}, []string{`duplicate column name "0"`, "--no-header"}},
		{"no header: no time column", "x,0,1\nx,1,2\n", CSVOptions{}, []string{"no time column", "--time-col", "--no-header"}},
		{"no time column", "id,when,a\nx,0,1\n", CSVOptions{}, []string{"no time column", "--time-col"}},
		{"--no-header without --time-col", "0,1\n1,2\n", CSVOptions{NoHeader: true}, []string{"--time-col 1"}},
		{"--no-header with a name", "0,1\n1,2\n", CSVOptions{NoHeader: true, Time: "t"}, []string{`--time-col "t"`, "named by position, 1 to 2"}},
		{"--no-header, ragged", "0,1\n1,2,3\n", CSVOptions{NoHeader: true, Time: "1"}, []string{"ragged row: line 2"}},
		{"a date layout not detected", "t,a\n01/02/2012,1\n02/02/2012,2\n", CSVOptions{}, []string{`"01/02/2012" is neither a number nor an ISO date`, "--time-format"}},
		{"a date that does not match --time-format", "t,a\n2012-01-01,1\n2012-01-01 10:00,2\n", CSVOptions{TimeFormat: "date"}, []string{`line 3, column "t": time "2012-01-01 10:00" does not match --time-format`}},
		{"a date under --time-format number", "t,a\n2012-01-01,1\n", CSVOptions{TimeFormat: "number"}, []string{"--time-format number"}},
		{"a number after a date", "t,a\n2012-01-01,1\n5,2\n", CSVOptions{}, []string{`line 3, column "t": time "5" is not a date in the layout 2006-01-02 of the first row`, "--time-format"}},
		{"an unknown directive", "t,a\n0,1\n", CSVOptions{TimeFormat: "%Q"}, []string{"--time-format", "%Q is not a directive"}},
		{"a letter in a layout", "t,a\n0,1\n", CSVOptions{TimeFormat: "%Y Mon"}, []string{"--time-format", `'M' may not stand`}},
		{"a word that is no format", "t,a\n0,1\n", CSVOptions{TimeFormat: "iso"}, []string{"--time-format", "use auto, number"}},
		{"a window of 1", seriesCSV(5, 0, 1), CSVOptions{Window: 1}, []string{"--window 1"}},
		{"a negative window", seriesCSV(5, 0, 1), CSVOptions{Window: -3}, []string{"--window -3"}},
		{"a stride without a window", seriesCSV(5, 0, 1), CSVOptions{Stride: 2}, []string{"--stride 2 needs --window"}},
		{"a window longer than the series", seriesCSV(5, 0, 1), CSVOptions{Window: 6}, []string{"--window 6", "the longest has 5", "smaller --window"}},
		{"a missing time in a window", gap, CSVOptions{Window: 4}, []string{"--window needs equally spaced times", "steps from 2 to 4 (lines 4 and 5), 2 apart where the spacing is 1", "add a row with empty values"}},
		{"an extra time in a window", "t,a\n0,0\n1,1\n1.5,1\n2,2\n3,3\n", CSVOptions{Window: 5}, []string{"equally spaced", "lines 3 and 4"}},
		{"dates written as numbers", "t,a\n20120130,1\n20120131,2\n20120201,3\n20120202,4\n", CSVOptions{Window: 4}, []string{"equally spaced", "--time-format, e.g. %Y%m%d"}},
		{"one series with repeated dates", "date,a\n2012-01-01,1\n2012-01-02,2\n2012-01-01,3\n", CSVOptions{Window: 2},
			[]string{"line 4: duplicate time 2012-01-01 (first on line 2); if the file holds several series, name their id column with --id-col"}},
		{"a missing date", "date,a\n2012-01-01,1\n2012-01-02,2\n2012-01-04,3\n2012-01-05,4\n", CSVOptions{Window: 4},
			[]string{"the series steps from 2012-01-02 to 2012-01-04 (lines 3 and 4), 2 apart where the spacing is 1 (days): add a row"}},
		{"a missing datetime", "id,time,a\nx,2012-01-01 00:00:00,1\nx,2012-01-01 06:00:00,2\nx,2012-01-01 12:00:00,3\nx,2012-01-02 00:00:00,4\n", CSVOptions{Window: 4},
			[]string{`series "x" steps from 2012-01-01 12:00:00 to 2012-01-02 00:00:00 (lines 4 and 5), 0.5 apart where the spacing is 0.25 (days)`}},
		{"a text column", "date,a,weather\n2012-01-01,1,rain\n", CSVOptions{}, []string{`line 2, column "weather": "rain" is not a number; name the value columns to read with --columns`}},
		{"series of different spacings", "id,t,a\nx,0,1\nx,1,2\nx,2,3\ny,0,1\ny,2,2\ny,4,3\nz,0,1\nz,1,1\nz,2,2\n", CSVOptions{Window: 3}, []string{`series "y" steps from 0 to 2`}},
		{"absolute-time windows of different lengths", "w,t,a\nw0,0,1\nw0,1,2\nw0,2,3\nw1,10,4\nw1,11,5\n", CSVOptions{ID: "w"},
			[]string{"disjoint stretches of time", "relative to its own start", "--window N", `series "w0" has 3 times and series "w1" 2`}},
		{"absolute-time windows spaced differently", "w,t,a\nw0,0,1\nw0,1,2\nw0,2,3\nw1,10,4\nw1,11,5\nw1,13,6\n", CSVOptions{ID: "w"},
			[]string{"disjoint", `series "w1" is spaced differently from series "w0" (line 7)`}},
		{"two disjoint halves", "id,t,a\nx,0,1\nx,1,2\ny,2,3\ny,3,4\ny,4,5\n", CSVOptions{}, []string{"disjoint", "each spans 50% of them"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ReadCSVData(strings.NewReader(tc.in), tc.opt)
			if err == nil {
				t.Fatalf("no error; got %+v", d.Paths)
			}
			for _, want := range tc.error {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q, want it to contain %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "CSVOptions") {
				t.Errorf("error %q names a Go field", err)
			}
		})
	}
}

func TestParseTimeFormat(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "auto": "", "AUTO": "", "number": "number", "date": "2006-01-02", "datetime": "2006-01-02 15:04:05",
		"rfc3339": "2006-01-02T15:04:05.999999999Z07:00", "%d/%m/%Y": "02/01/2006", "%Y-%m-%dT%H:%M:%S": "2006-01-02T15:04:05",
		"%d %b %y %I:%M %p": "02 Jan 06 03:04 PM", "%Y%m%d": "20060102", "%j,%Y %z": "002,2006 -0700",
	} {
		got, err := ParseTimeFormat(in)
		if err != nil || got != want {
			t.Errorf("ParseTimeFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"iso", "%", "%Y%", "%Y1", "%q", "yyyy-mm-dd"} {
		if got, err := ParseTimeFormat(bad); err == nil || !strings.Contains(err.Error(), "--time-format") {
			t.Errorf("ParseTimeFormat(%q) = %q, %v; want an error naming --time-format", bad, got, err)
		}
	}
}

// Windows cut from a series with a gap between windows (stride > window) need equal
// spacing only inside the windows.
func TestWindowsIgnoreGapsBetweenThem(t *testing.T) {
	in := "t,a\n0,0\n1,1\n5,2\n6,3\n10,4\n11,5\n"
	d, err := ReadCSVData(strings.NewReader(in), CSVOptions{Window: 2, Stride: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := &Paths{Times: []float64{0, 1}, Channels: []string{"a"}, N: 3, Values: []float64{0, 1, 2, 3, 4, 5}}
	if !samePaths(d.Paths, want) {
		t.Errorf("got %+v", d.Paths)
	}
}

// The window grid is exact multiples of the spacing, whatever rounding the file's
// times carry.
func TestWindowGridIsExact(t *testing.T) {
	d, err := ReadCSVData(strings.NewReader(seriesCSV(30, 0.1, 0.1)), CSVOptions{Window: 10, Stride: 7})
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 3 {
		t.Fatalf("%d windows, want (30−10)/7+1 = 3", d.N)
	}
	for i, tm := range d.Times {
		if tm != float64(i)*d.Times[1] || math.Abs(d.Times[1]-0.1) > 1e-15 {
			t.Fatalf("times %v", d.Times)
		}
	}
	for n := range d.N {
		if got := d.At(n, 0, 0); got != float64(7*n) {
			t.Errorf("window %d starts at point %v, want %d", n, got, 7*n)
		}
	}
}
