package dataset

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestReadCSVBounds: inputs that would exhaust memory, or make a message of their size,
// end in a short error that names the bound.
func TestReadCSVBounds(t *testing.T) {
	header := func(n int, last string) string {
		var b strings.Builder
		b.WriteString("t")
		for i := 1; i < n; i++ {
			fmt.Fprintf(&b, ",c%d", i)
		}
		b.WriteString(last)
		return b.String()
	}
	long := strings.Repeat("7", maxCSVRecord+1)
	for _, tc := range []struct {
		name, in, error string
	}{
		{"record beyond the bound", "t,a\n0,1\n1," + long + "\n", "line 3: a record longer than 16777216 bytes"},
		{"quoted record beyond the bound", "t,a\n0,\"" + strings.Repeat("\n", maxCSVRecord) + "\"\n", "line 2: a record longer than"},
		{"header beyond the bound", "t,\"" + long + "\"\n0,1\n", "line 1: a record longer than"},
		{"long cell", "t,a\n0,1\n1," + strings.Repeat("1", maxCSVField+1) + "\n", "line 3, column 2: a cell of 4097 bytes"},
		{"long column name", "t," + strings.Repeat("a", maxCSVField+1) + "\n0,1\n", "line 1, column 2: a cell of 4097 bytes"},
		{"too many columns", header(maxCSVColumns+1, "") + "\n", "line 1 has 100001 columns; gosde reads at most 100000"},
		{"duplicate among many columns", header(maxCSVColumns-1, ",c7") + "\n", "duplicate column name \"c7\" (columns 8 and 100000)"},
		{"long unreadable value", "t,a\n0,1\n1," + strings.Repeat("x", 4000) + "\n", "line 3, column \"a\": \"" + strings.Repeat("x", 80) + "\"… (4000 bytes) is not a number"},
		{"long unreadable time", "t,a\n0,1\n" + strings.Repeat("y", 4000) + ",1\n", "(4000 bytes) is not a number"},
		{"long series id", "id,t,a\n" + strings.Repeat("s", 3000) + ",0,1\n" + strings.Repeat("s", 3000) + ",0,2\n", "(3000 bytes) at time 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadCSV(strings.NewReader(tc.in), CSVOptions{})
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.error) {
				t.Errorf("error %.300q…, want it to contain %.300q", err, tc.error)
			}
			if len(err.Error()) > 600 {
				t.Errorf("error of %d bytes", len(err.Error()))
			}
		})
	}
}

func TestReadCSVBoundsTheValuesRead(t *testing.T) {
	defer func(n int) { valuesLimit = n }(valuesLimit)
	valuesLimit = 12
	for _, tc := range []struct{ in, error string }{
		{"t,a,b\n0,1,2\n1,1,2\n2,1,2\n3,1,2\n4,1,2\n5,1,2\n6,1,2\n", "line 8: more than 12 values"},
		{"id,t,a,b\nx,0,1,2\nx,1,1,2\ny,0,1,2\ny,1,1,2\nz,0,1,2\nz,1,1,2\nw,0,1,2\n", "line 8: more than 12 values"},
	} {
		if _, err := ReadCSV(strings.NewReader(tc.in), CSVOptions{}); err == nil || !strings.Contains(err.Error(), tc.error) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.error)
		}
		// One row fewer is within the bound.
		short := tc.in[:strings.LastIndex(tc.in[:len(tc.in)-1], "\n")+1]
		if _, err := ReadCSV(strings.NewReader(short), CSVOptions{}); err != nil {
			t.Errorf("%q: %v", short, err)
		}
	}
}

// TestReadCSVNumbers: only decimal numbers are numbers; Go's other spellings are not.
func TestReadCSVNumbers(t *testing.T) {
	for _, cell := range []string{"1", "-1", "+1.5", ".5", "5.", "1e3", "1E-3", "-2.5e+10", "0"} {
		in := "t,a\n0,1\n1," + cell + "\n"
		if _, err := ReadCSV(strings.NewReader(in), CSVOptions{}); err != nil {
			t.Errorf("value %q: %v", cell, err)
		}
		in = "t,a\n" + cell + ",1\n" + cell + "1,2\n"
		if _, err := ReadCSV(strings.NewReader(in), CSVOptions{}); err != nil && !strings.Contains(err.Error(), "duplicate") {
			t.Errorf("time %q: %v", cell, err)
		}
	}
	for _, tc := range []struct{ cell, error string }{
		{"1_000", `"1_000" is not a number`},
		{"0x10", `"0x10" is not a number`},
		{"0x1p-2", `"0x1p-2" is not a number`},
		{"1e", `"1e" is not a number`},
		{".", `"." is not a number`},
		{"+-1", `"+-1" is not a number`},
		{"1 000", `"1 000" is not a number`},
		{"infinity", `"infinity" is not finite`},
		{"-Inf", `"-Inf" is not finite`},
		{"1e400", `"1e400" is out of range`},
	} {
		in := "t,a\n0,1\n1," + tc.cell + "\n"
		if _, err := ReadCSV(strings.NewReader(in), CSVOptions{}); err == nil || !strings.Contains(err.Error(), tc.error) {
			t.Errorf("value %q: error %v, want %q", tc.cell, err, tc.error)
		}
		in = "t,a\n0,1\n" + tc.cell + ",2\n"
		if _, err := ReadCSV(strings.NewReader(in), CSVOptions{}); err == nil || !strings.Contains(err.Error(), "time "+tc.error) {
			t.Errorf("time %q: error %v, want %q", tc.cell, err, "time "+tc.error)
		}
	}
}

// TestLoadCSVRefusesWhatIsNotAFile: a device or a pipe is refused before it is read
// (reading /dev/zero never ends), and so is a directory.
func TestLoadCSVRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.csv")
	paths := map[string]string{"directory": dir}
	if err := syscall.Mkfifo(fifo, 0o600); err == nil {
		paths["named pipe"] = fifo // opening it would wait for a writer
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		paths["device"] = "/dev/zero"
	}
	for name, path := range paths {
		_, err := LoadCSVData(path, CSVOptions{})
		want := "not a regular file"
		if name == "directory" {
			want = "is a directory"
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", name, err, want)
		}
	}
}

func TestQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"abc", `"abc"`},
		{strings.Repeat("é", 80), `"` + strings.Repeat("é", 80) + `"`},
		{strings.Repeat("é", 81), `"` + strings.Repeat("é", 80) + `"… (162 bytes)`},
		{"a\nb", `"a\nb"`},
	} {
		if got := quote(tc.in); got != tc.want {
			t.Errorf("quote(%.20q…) = %q, want %q", tc.in, got, tc.want)
		}
	}
	names := make([]string, 12)
	for i := range names {
		names[i] = fmt.Sprint(i)
	}
	if got, want := quoteList(names), `["0" "1" "2" "3" "4" "5" "6" "7" "8" "9" … (12 columns)]`; got != want {
		t.Errorf("quoteList = %s, want %s", got, want)
	}
}
