package dataset

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// samePaths reports whether a and b are equal, NaN matching NaN.
func samePaths(a, b *Paths) bool {
	if a.N != b.N || !slices.Equal(a.Times, b.Times) || !slices.Equal(a.Channels, b.Channels) || len(a.Values) != len(b.Values) {
		return false
	}
	for i, v := range a.Values {
		if w := b.Values[i]; v != w && !(math.IsNaN(v) && math.IsNaN(w)) {
			return false
		}
	}
	return true
}

func TestReadCSV(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		opt  CSVOptions
		want *Paths
	}{
		{"long", "id,t,a,b\nx,0,1,2\nx,1,3,4\ny,0,5,6\ny,1,7,8\n", CSVOptions{},
			&Paths{Times: []float64{0, 1}, Channels: []string{"a", "b"}, N: 2, Values: []float64{1, 2, 3, 4, 5, 6, 7, 8}}},
		{"long, unsorted, union of times, missing spellings", "series , time,a\ns2,2,NA\ns1,1,1\ns2,0,\ns1,0, NaN\ns1,2,n/a\ns2,1,  3 \n", CSVOptions{},
			&Paths{Times: []float64{0, 1, 2}, Channels: []string{"a"}, N: 2, Values: []float64{nan, 3, nan, nan, 1, nan}}}, // s2 first
		{"long, series missing a time", "path,t,a\n0,0,1\n0,1,2\n1,1,3\n", CSVOptions{},
			&Paths{Times: []float64{0, 1}, Channels: []string{"a"}, N: 2, Values: []float64{1, 2, nan, 3}}},
		{"long, named columns, chosen channels in order", "who;when;a;b;c\nx;0.5;1;2;3\nx;1.5;4;5;6\n", CSVOptions{ID: "who", Time: "when", Columns: []string{"c", "a"}, Comma: ';'},
			&Paths{Times: []float64{0.5, 1.5}, Channels: []string{"c", "a"}, N: 1, Values: []float64{3, 1, 6, 4}}},
		{"long, quoted and BOM", "\ufeff\"id\",\"t\",\"a,b\"\n\"p q\",0,1e-3\n\"p q\",1,-2\n", CSVOptions{},
			&Paths{Times: []float64{0, 1}, Channels: []string{"a,b"}, N: 1, Values: []float64{1e-3, -2}}},
		{"wide", "t,s1,s2\n1,10,20\n0,11,\n2,12,22\n", CSVOptions{},
			&Paths{Times: []float64{0, 1, 2}, Channels: []string{"y"}, N: 2, Values: []float64{11, 10, 12, nan, 20, 22}}},
		{"wide, forced, named channel, id column is a series", "time,id,z\n0,1,2\n1,3,4\n", CSVOptions{Format: CSVWide, Channel: "temp"},
			&Paths{Times: []float64{0, 1}, Channels: []string{"temp"}, N: 2, Values: []float64{1, 3, 2, 4}}},
		{"long without an id column: one series", "t,a,b\n0,1,2\n1,3,4\n", CSVOptions{Format: CSVLong},
			&Paths{Times: []float64{0, 1}, Channels: []string{"a", "b"}, N: 1, Values: []float64{1, 2, 3, 4}}},
		{"CRLF", "id,t,a\r\nx,0,1\r\nx,1,2\r\n", CSVOptions{},
			&Paths{Times: []float64{0, 1}, Channels: []string{"a"}, N: 1, Values: []float64{1, 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ReadCSV(strings.NewReader(tc.in), tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if !samePaths(p, tc.want) {
				t.Errorf("got %+v\nwant %+v", p, tc.want)
			}
		})
	}
}

func TestReadCSVErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		opt      CSVOptions
		error    string
	}{
		{"empty", "", CSVOptions{}, "no header"},
		{"numeric header", "0,1,2\n1,2,3\n", CSVOptions{}, "no header"},
		{"header only", "id,t,a\n", CSVOptions{}, "no data rows"},
		{"ragged", "id,t,a\nx,0,1\nx,1\n", CSVOptions{}, "line 3"},
		{"ragged long row", "t,a\n0,1\n1,2,3\n", CSVOptions{}, "ragged row: line 3"},
		{"non-numeric value", "id,t,a\nx,0,1\nx,1,abc\n", CSVOptions{}, `line 3, column "a": "abc" is not a number`},
		{"infinite value", "id,t,a\nx,0,1\nx,1,Inf\n", CSVOptions{}, `line 3, column "a": "Inf" is not finite`},
		{"out of range", "id,t,a\nx,0,1\nx,1,1e999\n", CSVOptions{}, `line 3, column "a": "1e999" is out of range`},
		{"non-numeric time", "id,t,a\nx,0,1\nx,one,2\n", CSVOptions{}, `line 3, column "t": time "one" is not a number`},
		{"missing time", "id,t,a\nx,0,1\nx,NA,2\n", CSVOptions{}, `line 3, column "t": time "NA" is missing`},
		{"one time", "id,t,a\nx,0,1\ny,0,2\n", CSVOptions{}, "need at least two"},
		{"one time wide", "t,a\n0,1\n", CSVOptions{}, "need at least two"},
		{"duplicate series time", "id,t,a\nx,0,1\nx,1,2\nx,0.0,3\n", CSVOptions{}, `line 4: duplicate row for series "x" at time 0 (first on line 2)`},
		{"duplicate time wide", "t,a\n0,1\n1,2\n1,3\n", CSVOptions{}, "line 4: duplicate time 1 (first on line 3)"},
		{"all-missing channel", "id,t,a,b\nx,0,1,NA\nx,1,2,\n", CSVOptions{}, `channel "b" has no reading`},
		{"all-missing wide", "t,a,b\n0,,NA\n1,nan,\n", CSVOptions{}, `channel "y" has no reading`},
		{"unknown id", "id,t,a\nx,0,1\n", CSVOptions{ID: "series"}, `--id-col "series": no id column of that name`},
		{"unknown time", "id,t,a\nx,0,1\n", CSVOptions{Time: "when"}, `--time-col "when": no time column of that name`},
		{"unknown channel", "id,t,a\nx,0,1\n", CSVOptions{Columns: []string{"b"}}, `--columns "b": no value column of that name; the header has ["id" "t" "a"]`},
		{"channel is time", "id,t,a\nx,0,1\n", CSVOptions{Columns: []string{"t"}}, "is the id or time column"},
		{"channel twice", "id,t,a\nx,0,1\n", CSVOptions{Columns: []string{"a", "a"}}, `--columns names "a" twice`},
		{"no time column", "id,when,a\nx,0,1\n", CSVOptions{}, "no time column"},
		{"id for wide", "id,t,a\nx,0,1\n", CSVOptions{Format: CSVWide, ID: "id"}, "wide format (--csv-format wide) has no series-id column, but --id-col"},
		{"id is time", "id,t,a\nx,0,1\n", CSVOptions{ID: "t"}, "both the series id (--id-col) and the time (--time-col)"},
		{"no value columns", "id,t\nx,0\nx,1\n", CSVOptions{}, "no value columns"},
		{"empty column name", "id,t,\nx,0,1\n", CSVOptions{}, "column 3 has an empty name"},
		{"newline in a column name", "id,t,\"a\nb\"\nx,0,1\n", CSVOptions{}, `column 3 name "a\nb" contains a control character`},
		{"duplicate column name", "id,t,a,a\nx,0,1,2\n", CSVOptions{}, `duplicate column name "a"`},
		{"bare quote", "id,t,a\nx,0,1\"2\nx,1,2\n", CSVOptions{}, "line 2"},
		{"bad format", "id,t,a\nx,0,1\n", CSVOptions{Format: 7}, "unknown format"},
		{"huge sparse grid", sparseCSV(8200), CSVOptions{}, "exceeds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ReadCSV(strings.NewReader(tc.in), tc.opt)
			if err == nil {
				t.Fatalf("no error; got %+v", p)
			}
			if !strings.Contains(err.Error(), tc.error) {
				t.Errorf("error %q, want it to contain %q", err, tc.error)
			}
		})
	}
}

// sparseCSV is n series interleaved in time, series i seen at times i and n+i, with 1
// channel: an n×2n grid that every series spans more than half of.
func sparseCSV(n int) string {
	var b strings.Builder
	b.WriteString("id,t,a\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "s%d,%d,1\ns%d,%d,2\n", i, i, i, n+i)
	}
	return b.String()
}

func TestWriteCSVRoundTrip(t *testing.T) {
	p := OU(20, 3)
	Drop(p, 0.3, 4)
	p.Times[5] = 5.123456789012345 // not a round number
	var buf bytes.Buffer
	if err := WriteCSV(&buf, p); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "path,t,y\n0,0,") {
		t.Errorf("header: %q", buf.String()[:20])
	}
	q, err := ReadCSV(&buf, CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !samePaths(p, q) {
		t.Error("WriteCSV then ReadCSV changed the paths")
	}
	// Channels named like the path and time columns: the columns take other names
	// that ReadCSV finds first, so the paths read back.
	for _, tc := range []struct {
		channels []string
		header   string
	}{
		{[]string{"path"}, "series,t,path\n"},
		{[]string{"t"}, "path,time,t\n"},
		{[]string{"t", "path", "series"}, "id,time,t,path,series\n"},
		{[]string{"time", "id", "T"}, "path,t,time,id,T\n"},
	} {
		C := len(tc.channels)
		r := &Paths{Times: []float64{0, 1.5}, Channels: tc.channels, N: 2, Values: make([]float64, 2*2*C)}
		for i := range r.Values {
			r.Values[i] = float64(i) - 0.25
		}
		var b bytes.Buffer
		if err := WriteCSV(&b, r); err != nil {
			t.Errorf("channels %q: %v", tc.channels, err)
			continue
		}
		if !strings.HasPrefix(b.String(), tc.header) {
			t.Errorf("channels %q: header %q, want %q", tc.channels, strings.SplitAfter(b.String(), "\n")[0], tc.header)
		}
		q, err := ReadCSV(&b, CSVOptions{})
		if err != nil || !samePaths(r, q) {
			t.Errorf("channels %q do not read back: %v", tc.channels, err)
		}
	}
	for _, bad := range [][]string{{"t", "time"}, {"id", "path", "series"}} {
		r := &Paths{Times: []float64{0, 1}, Channels: bad, N: 1, Values: []float64{1, 2, 3, 4}}
		if len(bad) == 3 {
			r.Values = append(r.Values, 5, 6)
		}
		if err := WriteCSV(&buf, r); err == nil || !strings.Contains(err.Error(), "rename one") {
			t.Errorf("channels %q: error %v", bad, err)
		}
	}
	if err := WriteCSV(&buf, &Paths{}); err == nil {
		t.Error("WriteCSV of malformed paths: no error")
	}
}

func TestLoadCSV(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "x.csv")
	if err := os.WriteFile(f, []byte("t,a\n0,1\n1,oops\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCSV(f, CSVOptions{}); err == nil || !strings.Contains(err.Error(), "x.csv") || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("error %v, want the file and line", err)
	}
	if _, err := LoadCSV(filepath.Join(dir, "none.csv"), CSVOptions{}); err == nil {
		t.Error("missing file: no error")
	}
}

// fuzzOptions decodes the fuzzer's option bytes: separator, header, time format,
// window and stride.
func fuzzOptions(format, opts, window, stride uint8) CSVOptions {
	o := CSVOptions{
		Format:     CSVFormat(format % 3),
		Comma:      []rune{',', ';', '\t', '|'}[opts&3],
		TimeFormat: []string{"", "number", "date", "%d/%m/%Y %H:%M"}[opts>>3&3],
		Window:     int(window % 8),
		Stride:     int(stride % 5),
	}
	if opts&4 != 0 {
		o.NoHeader, o.Time = true, "1"
	}
	return o
}

func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"id,t,a,b\nx,0,1,2\nx,1,3,4\ny,0,5,6\ny,1,7,8\n",
		"series,time,a\ns2,2,NA\ns1,1,1\ns2,0,\ns1,0,NaN\n",
		"t,s1,s2\n1,10,20\n0,11,\n2,12,22\n",
		"path,t,y\n0,0,0.5\n0,1,\n1,0,-1e-300\n1,1,3\n",
		"\"id\",\"t\",\"a\"\"b\"\n\"p,q\",0,1\n\"p,q\",1,2\n",
		"id,t,path\nx,0,1\nx,1,2\n",
		"id,time,t,series\nx,0,1,2\nx,1,2,3\n",
		"t,a\n0,1_000\n1,0x1p-2\n",
		"ID,T,t\nx,-0,1\nx,0.5,2\n",
		"id,t,a\nx,0,1\nx,1\n",
		"0,1\n",
		"",
		"t,a\n0,0\n1,1\n2,2\n3,3\n4,4\n5,5\n6,6\n7,7\n",
		"w,t,a\nw0,0,1\nw0,1,2\nw1,10,4\nw1,11,5\n",
		"date;a;b\n2012-01-01;1;2\n2012-01-02;3;4\n2012-01-03;5;\n2012-01-04;7;8\n",
		"0\t1\t2\n1\t3\t4\n2\t5\t6\n3\t7\t8\n",
		"t|a\n01/02/2012 10:00|1\n02/02/2012 10:00|2\n03/02/2012 10:00|3\n",
	} {
		for format := range uint8(3) {
			for _, opts := range []uint8{0, 1, 2, 3, 4, 6, 8, 16, 25} {
				f.Add([]byte(s), format, opts, uint8(0), uint8(0))
				f.Add([]byte(s), format, opts, uint8(3), uint8(1))
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, format, opts, window, stride uint8) {
		opt := fuzzOptions(format, opts, window, stride)
		d, err := ReadCSVData(bytes.NewReader(data), opt)
		if err != nil {
			if strings.Contains(err.Error(), "CSVOptions") {
				t.Fatalf("error names a Go field: %v", err)
			}
			return
		}
		p := d.Paths
		if err := p.Validate(); err != nil {
			t.Fatalf("ReadCSV gave malformed paths: %v", err)
		}
		if p.T() < 2 {
			t.Fatalf("%d times", p.T())
		}
		if d.Origins != nil {
			if len(d.Origins) != p.N || p.Times[0] != 0 {
				t.Fatalf("%d origins for %d paths, first time %v", len(d.Origins), p.N, p.Times[0])
			}
			for _, o := range d.Origins {
				if !(o.Start < o.End) {
					t.Fatalf("origin %+v", o)
				}
			}
			a, b, dropped, err := SplitBlocks(p, d.Origins, 0.8)
			if err != nil || a.N+b.N+dropped != p.N {
				t.Fatalf("SplitBlocks: %d + %d + %d dropped of %d: %v", a.N, b.N, dropped, p.N, err)
			}
		}
		if opt.Window > 0 {
			if p.T() != opt.Window || d.Origins == nil {
				t.Fatalf("--window %d gave %d times", opt.Window, p.T())
			}
			for i, tm := range p.Times {
				if tm != float64(i)*p.Times[1] {
					t.Fatalf("window times %v are not a grid", p.Times)
				}
			}
		}
		if len(p.Values) > 1<<16 {
			return // a sparse union grid, too big to write and reread at fuzzing speed
		}
		var buf bytes.Buffer
		if err := WriteCSV(&buf, p); err != nil {
			if slices.Contains(p.Channels, "t") && slices.Contains(p.Channels, "time") ||
				slices.Contains(p.Channels, "path") && slices.Contains(p.Channels, "series") && slices.Contains(p.Channels, "id") {
				return
			}
			t.Fatalf("WriteCSV: %v", err)
		}
		q, err := ReadCSV(bytes.NewReader(buf.Bytes()), CSVOptions{})
		if err != nil {
			t.Fatalf("reading WriteCSV's output: %v\n%s", err, buf.Bytes())
		}
		if !samePaths(p, q) {
			t.Fatalf("round trip changed the paths:\n%+v\n%+v", p, q)
		}
	})
}
