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
		{"non-numeric time", "id,t,a\nx,0,1\nx,one,2\n", CSVOptions{}, `line 3, column "t": "one" is not a number`},
		{"missing time", "id,t,a\nx,0,1\nx,NA,2\n", CSVOptions{}, `line 3, column "t": time "NA" is missing`},
		{"one time", "id,t,a\nx,0,1\ny,0,2\n", CSVOptions{}, "need at least two"},
		{"one time wide", "t,a\n0,1\n", CSVOptions{}, "need at least two"},
		{"duplicate series time", "id,t,a\nx,0,1\nx,1,2\nx,0.0,3\n", CSVOptions{}, `line 4: duplicate row for series "x" at time 0 (first on line 2)`},
		{"duplicate time wide", "t,a\n0,1\n1,2\n1,3\n", CSVOptions{}, "line 4: duplicate time 1 (first on line 3)"},
		{"all-missing channel", "id,t,a,b\nx,0,1,NA\nx,1,2,\n", CSVOptions{}, `channel "b" has no reading`},
		{"all-missing wide", "t,a,b\n0,,NA\n1,nan,\n", CSVOptions{}, `channel "y" has no reading`},
		{"unknown id", "id,t,a\nx,0,1\n", CSVOptions{ID: "series"}, `unknown id column "series"`},
		{"unknown time", "id,t,a\nx,0,1\n", CSVOptions{Time: "when"}, `unknown time column "when"`},
		{"unknown channel", "id,t,a\nx,0,1\n", CSVOptions{Columns: []string{"b"}}, `unknown value column "b"; the header has ["id" "t" "a"]`},
		{"channel is time", "id,t,a\nx,0,1\n", CSVOptions{Columns: []string{"t"}}, "is the id or time column"},
		{"channel twice", "id,t,a\nx,0,1\n", CSVOptions{Columns: []string{"a", "a"}}, "named twice"},
		{"no time column", "id,when,a\nx,0,1\n", CSVOptions{}, "no time column"},
		{"no id for long", "t,a\n0,1\n1,2\n", CSVOptions{Format: CSVLong}, "long format needs a series-id column"},
		{"id for wide", "id,t,a\nx,0,1\n", CSVOptions{Format: CSVWide, ID: "id"}, "wide format has no series-id column"},
		{"id is time", "id,t,a\nx,0,1\n", CSVOptions{ID: "t"}, "both the series id and the time"},
		{"no value columns", "id,t\nx,0\nx,1\n", CSVOptions{}, "no value columns"},
		{"empty column name", "id,t,\nx,0,1\n", CSVOptions{}, "column 3 has an empty name"},
		{"newline in a column name", "id,t,\"a\nb\"\nx,0,1\n", CSVOptions{}, `column 3 name "a\nb" contains a control character`},
		{"duplicate column name", "id,t,a,a\nx,0,1,2\n", CSVOptions{}, `duplicate column name "a"`},
		{"bare quote", "id,t,a\nx,0,1\"2\nx,1,2\n", CSVOptions{}, "line 2"},
		{"bad format", "id,t,a\nx,0,1\n", CSVOptions{Format: 7}, "unknown format"},
		{"huge sparse grid", sparseCSV(12000), CSVOptions{}, "exceeds"},
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

// sparseCSV is n series each seen at its own time, with 1 channel: an n×n grid.
func sparseCSV(n int) string {
	var b strings.Builder
	b.WriteString("id,t,a\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "s%d,%d,1\n", i, i)
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
	for _, bad := range []string{"path", "t"} {
		r := &Paths{Times: []float64{0, 1}, Channels: []string{bad}, N: 1, Values: []float64{1, 2}}
		if err := WriteCSV(&buf, r); err == nil || !strings.Contains(err.Error(), "clashes") {
			t.Errorf("channel %q: error %v", bad, err)
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

func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"id,t,a,b\nx,0,1,2\nx,1,3,4\ny,0,5,6\ny,1,7,8\n",
		"series,time,a\ns2,2,NA\ns1,1,1\ns2,0,\ns1,0,NaN\n",
		"t,s1,s2\n1,10,20\n0,11,\n2,12,22\n",
		"path,t,y\n0,0,0.5\n0,1,\n1,0,-1e-300\n1,1,3\n",
		"\"id\",\"t\",\"a\"\"b\"\n\"p,q\",0,1\n\"p,q\",1,2\n",
		"id,t,path\nx,0,1\nx,1,2\n",
		"ID,T,t\nx,-0,1\nx,0.5,2\n",
		"id,t,a\nx,0,1\nx,1\n",
		"0,1\n",
		"",
	} {
		for format := range uint8(3) {
			f.Add([]byte(s), format)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, format uint8) {
		p, err := ReadCSV(bytes.NewReader(data), CSVOptions{Format: CSVFormat(format % 3)})
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("ReadCSV gave malformed paths: %v", err)
		}
		if p.T() < 2 {
			t.Fatalf("%d times", p.T())
		}
		if len(p.Values) > 1<<16 {
			return // a sparse union grid, too big to write and reread at fuzzing speed
		}
		var buf bytes.Buffer
		if err := WriteCSV(&buf, p); err != nil {
			if slices.Contains(p.Channels, "path") || slices.Contains(p.Channels, "t") {
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
