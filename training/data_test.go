package training

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// longSeries writes a CSV of one daily series of n days, semicolon-separated, with the
// day's index as its value: "day;x" rows "2020-01-01;0", ….
func longSeries(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("day;x\n")
	for i := range n {
		fmt.Fprintf(&b, "%s;%d\n", dayOf(i), i)
	}
	f := filepath.Join(t.TempDir(), "series.csv")
	if err := os.WriteFile(f, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func dayOf(i int) string {
	return time.Date(2020, 1, 1+i, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
}

// The windows of one long series are split by time: the held-out windows come after
// every training window, none overlaps one, and the sizes are those of the rule.
func TestLoadDataSplitsWindowsByTime(t *testing.T) {
	f := longSeries(t, 280)
	cfg := tiny()
	cfg.Data = f
	cfg.CSV = CSVConfig{Sep: ";", Time: "day", Window: 10, Stride: 5}
	d, err := LoadData(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// 55 windows (starts 0, 5, …, 270); round(0.8·55) = 44, so the boundary is the 45th
	// start, day 220: test starts 220…270 (11); training windows end before day 220,
	// starts 0…210 (43); the one starting at 215 straddles it.
	if d.Train.N != 43 || d.Test.N != 11 {
		t.Fatalf("%d training and %d test windows, want 43 and 11", d.Train.N, d.Test.N)
	}
	if !slices.Equal(d.Train.Times, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Errorf("times %v", d.Train.Times)
	}
	// Undo the normalisation to read the day indices back.
	d.Norm.Invert(d.Train)
	d.Norm.Invert(d.Test)
	lastTrain := d.Train.At(d.Train.N-1, 9, 0)
	firstTest := d.Test.At(0, 0, 0)
	if !(lastTrain < firstTest) || int(lastTrain+0.5) != 219 || int(firstTest+0.5) != 220 {
		t.Errorf("last training day %v, first test day %v; want 219 < 220", lastTrain, firstTest)
	}
	notes := strings.Join(d.Notes, "\n")
	for _, want := range []string{"days since the earliest, 2020-01-01", "windows: 55 of 10 points, 5 apart", "split by time", "11, held out", "43 for training, 1 overlapping both left out"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes %q lack %q", notes, want)
		}
	}
}

// Independent series keep the random 80/20 split by path, fixed by the seed.
func TestLoadDataSplitsSeriesAtRandom(t *testing.T) {
	var b strings.Builder
	b.WriteString("id\tt\ta\n")
	for s := range 40 {
		for i := range 3 {
			fmt.Fprintf(&b, "s%d\t%d\t%d\n", s, i, 10*s+i)
		}
	}
	f := filepath.Join(t.TempDir(), "s.tsv")
	os.WriteFile(f, []byte(b.String()), 0o644)
	cfg := tiny()
	cfg.Data, cfg.CSV.Sep = f, "tab"
	d, err := LoadData(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if d.Train.N != 32 || d.Test.N != 8 || !strings.Contains(strings.Join(d.Notes, "\n"), "at random (--seed)") {
		t.Errorf("%d + %d series, notes %q", d.Train.N, d.Test.N, d.Notes)
	}
}

func TestCSVConfigErrorsNameTheFlag(t *testing.T) {
	f := longSeries(t, 40)
	for _, tc := range []struct {
		name  string
		data  string
		csv   CSVConfig
		error string
	}{
		{"separator", f, CSVConfig{Sep: ":"}, "--csv-sep"},
		{"format", f, CSVConfig{Format: "tall"}, "--csv-format"},
		{"time format", f, CSVConfig{TimeFormat: "%Q"}, "--time-format"},
		{"window 1", f, CSVConfig{Window: 1}, "--window 1"},
		{"stride alone", f, CSVConfig{Stride: 3}, "--stride needs --window"},
		{"negative stride", f, CSVConfig{Window: 3, Stride: -1}, "--stride -1"},
		{"empty column", f, CSVConfig{Columns: []string{"x", ""}}, "--columns"},
		{"options for ou", "ou", CSVConfig{Window: 5}, "apply to a CSV file given with --data, not to ou"},
		{"no separator given", f, CSVConfig{Time: "day"}, "give --csv-sep"},
		// 40 days in windows of 10: 4 windows, 3 and 1.
		{"too few windows", f, CSVConfig{Sep: ";", Time: "day", Window: 10}, "4 windows, split by time: 3 for training and 1 held out (0 overlap both and are left out); the metrics need at least 8 held out and 4 for training: give a smaller --window or --stride"},
		// 8 windows, starts 0…7: the boundary at 6 leaves windows 6, 7 held out and
		// the rest overlapping it.
		{"windows all overlapping", f, CSVConfig{Sep: ";", Time: "day", Window: 33, Stride: 1}, "0 for training and 2 held out (6 overlap both"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tiny()
			cfg.Data, cfg.CSV = tc.data, tc.csv
			_, err := LoadData(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.error) || strings.Contains(err.Error(), "CSVOptions") {
				t.Errorf("error %v, want it to contain %q", err, tc.error)
			}
		})
	}
	cfg := tiny()
	cfg.CSV.Sep = "comma"
	if err := cfg.Check(); err == nil || !strings.Contains(err.Error(), "--csv-sep") {
		t.Errorf("Check: %v", err)
	}
}

// A run on windows keeps its CSV settings in config.json and the checkpoint, so that
// eval reads the data the same way (the same split, so the same test set).
func TestCSVSettingsTravelWithTheRun(t *testing.T) {
	f := longSeries(t, 300)
	cfg := tiny()
	cfg.Data = f
	cfg.CSV = CSVConfig{Sep: ";", Time: "day", Window: 7}
	dir := t.TempDir()
	var warnings []string
	if _, err := Run(context.Background(), cfg, dir, false, func(p Progress) {
		if p.Warning != "" {
			warnings = append(warnings, p.Warning)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "split by time") {
		t.Errorf("first progress report: %q, want the data's notes", warnings)
	}
	saved, err := ReadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slicesEqualCSV(saved.CSV, cfg.CSV) {
		t.Errorf("config.json has %+v, want %+v", saved.CSV, cfg.CSV)
	}
	ck, err := Load(filepath.Join(dir, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	if !slicesEqualCSV(ck.Config.CSV, cfg.CSV) {
		t.Errorf("checkpoint has %+v", ck.Config.CSV)
	}
	if _, err := ck.Evaluate(f, 64, 1); err != nil {
		t.Errorf("eval of the run's own CSV: %v", err)
	}
	// config.json carries the csv block; a run without CSV options has none.
	b, _ := os.ReadFile(filepath.Join(dir, ConfigFile))
	if !strings.Contains(string(b), `"csv"`) {
		t.Errorf("config.json lacks the csv block:\n%s", b)
	}
	def := t.TempDir()
	writeJSON(filepath.Join(def, ConfigFile), tiny())
	if b, _ := os.ReadFile(filepath.Join(def, ConfigFile)); strings.Contains(string(b), `"csv"`) {
		t.Errorf("a config without CSV options writes a csv block:\n%s", b)
	}
}

func slicesEqualCSV(a, b CSVConfig) bool {
	return slices.Equal(a.Columns, b.Columns) && a.Sep == b.Sep && a.Format == b.Format && a.ID == b.ID && a.Time == b.Time &&
		a.TimeFormat == b.TimeFormat && a.NoHeader == b.NoHeader && a.Window == b.Window && a.Stride == b.Stride
}
