package dataset

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// airQualityDir finds the real data beside the checkout (../shared from the module
// root, so ../../shared from this package), or skips.
func airQualityDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "data", "beijing_air_quality")
	if m, _ := filepath.Glob(filepath.Join(dir, "PRSA_Data_*.csv")); len(m) == 12 {
		return dir
	}
	if d, err := DefaultAirQualityDir(); err == nil {
		return d
	}
	t.Skip("Beijing air-quality data not found beside the checkout")
	return ""
}

var aqOnce struct {
	sync.Once
	train, test *Paths
	err         error
}

// defaultAQ is AirQuality(dir) with the default options, read once per test binary.
func defaultAQ(dir string) (train, test *Paths, err error) {
	aqOnce.Do(func() { aqOnce.train, aqOnce.test, aqOnce.err = AirQuality(dir, AirQualityOptions{}) })
	return aqOnce.train, aqOnce.test, aqOnce.err
}

// referenceWindows reads one station's file with encoding/csv and strconv and cuts it
// into days independently of AirQuality: the rows are consecutive hours from 00:00.
func referenceWindows(t *testing.T, file string, channels []string) [][]float64 {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	cols := make([]int, len(channels))
	for c, ch := range channels {
		cols[c] = slices.Index(rows[0], ch)
	}
	rows = rows[1:]
	if len(rows) != 35064 {
		t.Fatalf("%d rows", len(rows))
	}
	var out [][]float64
	for d := 0; d < len(rows)/24; d++ {
		w := make([]float64, 24*len(channels))
		seen := make([]bool, len(channels))
		for h := 0; h < 24; h++ {
			r := rows[d*24+h]
			if r[4] != strconv.Itoa(h) {
				t.Fatalf("day %d hour %d: row hour %s", d, h, r[4])
			}
			for c, i := range cols {
				w[h*len(channels)+c] = math.NaN()
				if r[i] != "NA" {
					v, err := strconv.ParseFloat(r[i], 64)
					if err != nil {
						t.Fatal(err)
					}
					w[h*len(channels)+c] = v
					seen[c] = true
				}
			}
		}
		if !slices.Contains(seen, false) {
			out = append(out, w)
		}
	}
	return out
}

func TestAirQualityDefault(t *testing.T) {
	dir := airQualityDir(t)
	start := time.Now()
	train, test, err := defaultAQ(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("read 12 stations in %v", time.Since(start))
	for _, p := range []*Paths{train, test} {
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(p.Channels, []string{"PM2.5", "NO2", "O3", "TEMP"}) || p.T() != 24 || p.Times[0] != 0 || p.Times[23] != 23 {
			t.Fatalf("channels %q, %d times", p.Channels, p.T())
		}
	}
	// 1461 days per station, a few dropped for a channel missing all day.
	if train.N > 9*1461 || train.N < 9*1400 || test.N > 3*1461 || test.N < 3*1400 {
		t.Errorf("%d train and %d test windows", train.N, test.N)
	}
	t.Logf("%d train, %d test windows", train.N, test.N)

	// The first test station alphabetically is Tiantan: its windows lead the test set
	// and must match an independent reading of its file exactly.
	files, _ := filepath.Glob(filepath.Join(dir, "PRSA_Data_Tiantan_*.csv"))
	if len(files) != 1 {
		t.Fatalf("Tiantan file: %v", files)
	}
	ref := referenceWindows(t, files[0], test.Channels)
	if len(ref) > test.N {
		t.Fatalf("%d Tiantan windows, %d test windows", len(ref), test.N)
	}
	for i, w := range ref {
		got := test.Path(i)
		for j := range w {
			if got[j] != w[j] && !(math.IsNaN(got[j]) && math.IsNaN(w[j])) {
				t.Fatalf("Tiantan window %d value %d: %v, reference %v", i, j, got[j], w[j])
			}
		}
	}
	// Some readings are missing, and they stay NaN; FillLinear then fills them all.
	missing := 0
	for _, v := range train.Values {
		if math.IsNaN(v) {
			missing++
		}
	}
	if missing == 0 {
		t.Error("no missing readings in the train set")
	}
	q := train.Clone()
	if err := FillLinear(q); err != nil {
		t.Fatal(err)
	}
	nz, err := Fit(q)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("train mean %.2f std %.2f (PM2.5, NO2, O3, TEMP), %.1f%% missing", nz.Mean, nz.Std, 100*float64(missing)/float64(len(train.Values)))
}

func TestAirQualityOptions(t *testing.T) {
	dir := airQualityDir(t)
	three := []string{"dongsi", "Tiantan", "Aotizhongxin"}

	// By time, a half-day window every 6 hours, lower-case channel names.
	train, test, err := AirQuality(dir, AirQualityOptions{
		Channels: []string{"temp", "pm10"}, Window: 12, Stride: 6, Split: SplitByTime, TrainFraction: 0.5, Stations: three,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(train.Channels, []string{"TEMP", "PM10"}) || train.T() != 12 {
		t.Errorf("channels %q, %d times", train.Channels, train.T())
	}
	// 35064 hours: windows start every 6 h, (35064−12)/6+1 = 5843 per station; the cut
	// is at hour 17532, so 2921 train and 2921 test windows start clear of it and one
	// straddles it.
	if train.N > 3*2921 || test.N > 3*2921 || train.N < 3*2800 || test.N < 3*2800 {
		t.Errorf("by time: %d train, %d test windows", train.N, test.N)
	}
	// Overlap: the second half of window k is the first half of window k+1 (Dongsi's
	// first windows, if complete, are the first in train: stations are sorted).
	a, b := train.Path(0), train.Path(1)
	if !slices.EqualFunc(a[6*2:], b[:6*2], func(x, y float64) bool { return x == y || (math.IsNaN(x) && math.IsNaN(y)) }) {
		t.Error("stride 6 windows do not overlap by 6 hours")
	}

	// By station, chosen test stations.
	train, test, err = AirQuality(dir, AirQualityOptions{Stations: three, TestStations: []string{"aotizhongxin"}})
	if err != nil {
		t.Fatal(err)
	}
	if train.N < 2*1400 || train.N > 2*1461 || test.N < 1400 || test.N > 1461 {
		t.Errorf("by station: %d train, %d test windows", train.N, test.N)
	}

	for _, tc := range []struct {
		name  string
		opt   AirQualityOptions
		error string
	}{
		{"unknown channel", AirQualityOptions{Channels: []string{"PM25"}}, `unknown channel "PM25"; valid channels are PM2.5, PM10, SO2, NO2, CO, O3, TEMP, PRES, DEWP, RAIN, WSPM`},
		{"categorical channel", AirQualityOptions{Channels: []string{"wd"}}, "unknown channel"},
		{"channel twice", AirQualityOptions{Channels: []string{"O3", "o3"}}, "named twice"},
		{"no channels", AirQualityOptions{Channels: []string{}}, "no channels"},
		{"bad window", AirQualityOptions{Window: -1}, "window"},
		{"bad stride", AirQualityOptions{Stride: -2}, "stride"},
		{"huge window", AirQualityOptions{Window: 1 << 40, Stations: three}, "longer than the record (35064 hours)"},
		{"bad fraction", AirQualityOptions{TrainFraction: 1.5}, "train fraction"},
		{"unknown station", AirQualityOptions{Stations: []string{"Paris"}}, `unknown station "Paris"`},
		{"unknown test station", AirQualityOptions{Stations: three, TestStations: []string{"Wanliu"}}, `unknown test station "Wanliu"`},
		{"empty train", AirQualityOptions{Stations: three}, "leaves 0 train"},
		{"bad split", AirQualityOptions{Split: 9}, "unknown split"},
	} {
		if _, _, err := AirQuality(dir, tc.opt); err == nil || !strings.Contains(err.Error(), tc.error) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.error)
		}
	}
}

func TestAirQualityFiles(t *testing.T) {
	// Synthetic files: parsing, gaps, duplicates and bad rows.
	header := `"No","year","month","day","hour","PM2.5","PM10","SO2","NO2","CO","O3","TEMP","PRES","DEWP","RAIN","wd","WSPM","station"` + "\n"
	row := func(h int, pm string) string {
		return "1,2013,3,1," + strconv.Itoa(h) + "," + pm + ",4,4,7,300,77,-0.7,1023,-18.8,0,\"NNW\",4.4,\"X\"\n"
	}
	write := func(t *testing.T, files map[string]string) string {
		dir := t.TempDir()
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, "PRSA_Data_"+name+"_20130301-20170228.csv"), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	t.Run("gap and NA", func(t *testing.T) {
		var a, b strings.Builder
		a.WriteString(header)
		b.WriteString(header)
		for h := 0; h < 24; h++ {
			if h != 5 { // no row for 05:00
				a.WriteString(row(h, strconv.Itoa(h)))
			}
			b.WriteString(row(h, "NA")) // PM2.5 missing all day: dropped
		}
		dir := write(t, map[string]string{"A": a.String(), "B": b.String()})
		train, test, err := AirQuality(dir, AirQualityOptions{Channels: []string{"PM2.5", "TEMP"}, Window: 8, TestStations: []string{"B"}})
		if err == nil || !strings.Contains(err.Error(), "leaves 3 train and 0 test") {
			t.Fatalf("error %v (train %v, test %v)", err, train, test)
		}
		train, _, err = AirQuality(dir, AirQualityOptions{Channels: []string{"TEMP", "PM2.5"}, Window: 8, TestStations: []string{"B"}, Stations: []string{"A", "B"}, Split: SplitByTime})
		if err != nil {
			t.Fatal(err)
		}
		// By time with 24 hours and window 8: cut at 16, so windows 0–7 and 8–15 of A
		// train (B's are all dropped).
		if train.N != 2 || !math.IsNaN(train.At(0, 5, 1)) || train.At(0, 4, 1) != 4 || train.At(1, 0, 1) != 8 || train.At(1, 3, 0) != -0.7 {
			t.Errorf("train %+v", train)
		}
	})
	for _, tc := range []struct{ name, body, error string }{
		{"duplicate hour", header + row(0, "1") + row(1, "1") + row(0, "2"), "A_20130301-20170228.csv:4: a second row for the same hour"},
		{"bad number", header + row(0, "1") + row(1, "x1"), `:3: non-numeric reading "x1"`},
		{"bad hour", header + row(0, "1") + row(24, "1"), ":3: bad date"},
		{"ragged", header + row(0, "1") + "1,2013,3,1,1,5\n", ":3: 6 fields, header has 18"},
		{"unterminated quote", header + row(0, "1") + "1,2013,3,1,1,5,\"x\n", ":3: unterminated quote"},
		{"no rows", header, "no data rows"},
		{"missing column", "year,month,day,hour,PM2.5\n2013,3,1,0,1\n", "header lacks column NO2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := write(t, map[string]string{"A": tc.body, "B": header + row(0, "1")})
			_, _, err := AirQuality(dir, AirQualityOptions{TestStations: []string{"B"}})
			if err == nil || !strings.Contains(err.Error(), tc.error) {
				t.Errorf("error %v, want %q", err, tc.error)
			}
		})
	}
	if _, _, err := AirQuality(t.TempDir(), AirQualityOptions{}); err == nil || !strings.Contains(err.Error(), "no PRSA_Data_*.csv") {
		t.Errorf("empty dir: %v", err)
	}
}

func TestDefaultAirQualityDir(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(AirQualityEnv, dir)
	if _, err := DefaultAirQualityDir(); err == nil || !strings.Contains(err.Error(), AirQualityEnv) {
		t.Errorf("empty $%s: %v", AirQualityEnv, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "PRSA_Data_X_1.csv"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := DefaultAirQualityDir(); err != nil || got != dir {
		t.Errorf("$%s: %q, %v", AirQualityEnv, got, err)
	}
	t.Setenv(AirQualityEnv, "")
	real := airQualityDir(t)
	got, err := DefaultAirQualityDir()
	if err != nil {
		t.Fatal(err)
	}
	a, _ := filepath.Abs(real)
	if b, _ := filepath.Abs(got); a != b {
		t.Errorf("found %s, want %s", b, a)
	}
}

func TestParseDecimal(t *testing.T) {
	for _, s := range []string{"0", "-0.7", "1023.2", "300", "+5", "5.", ".5", "0.1", "123456789012345", "1234567890123456789", "1e3", "-0.000001", "3.14159265358979"} {
		want, _ := strconv.ParseFloat(s, 64)
		got, ok := parseDecimal([]byte(s))
		if !ok || math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("parseDecimal(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"", ".", "-", "1.2.3", "abc", "NaN", "Inf", "1e999"} {
		if v, ok := parseDecimal([]byte(s)); ok {
			t.Errorf("parseDecimal(%q) = %v, ok", s, v)
		}
	}
	if d := daysFromCivil(2013, 3, 1); d != int(time.Date(2013, 3, 1, 0, 0, 0, 0, time.UTC).Unix()/86400) {
		t.Errorf("daysFromCivil(2013-03-01) = %d", d)
	}
	if d := daysFromCivil(2016, 2, 29) + 1; d != daysFromCivil(2016, 3, 1) {
		t.Error("leap day")
	}
}

func BenchmarkAirQuality(b *testing.B) {
	dir := airQualityDir(b)
	for b.Loop() {
		if _, _, err := AirQuality(dir, AirQualityOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
