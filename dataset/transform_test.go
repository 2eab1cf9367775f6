package dataset

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func positive() *Paths {
	// Two paths, two times, channels price (positive), volume (with a zero) and r (signed).
	return &Paths{Times: []float64{0, 1}, Channels: []string{"price", "volume", "r"}, N: 2,
		Values: []float64{
			100, 0, -0.5, 101.5, 3e6, 0.25,
			math.E, 1e-300, math.NaN(), math.NaN(), 7, -2,
		}}
}

func TestTransformsApplyAndInvert(t *testing.T) {
	p := positive()
	orig := slices.Clone(p.Values)
	ts := Transforms{{Kind: "log", Channel: "price"}, {Kind: "log", Channel: "volume", Offset: 1}}
	if err := ts.Apply(p); err != nil {
		t.Fatal(err)
	}
	// Independent values (Python's math.log): ln 100, ln(3e6 + 1), ln e = 1, ln(1 + 1e-300) = 0 in float64.
	for _, c := range []struct {
		i    int
		want float64
	}{{0, 4.605170185988092}, {1, 0}, {2, -0.5}, {4, 14.914123179965662}, {5, 0.25}, {6, 1}, {7, 0}, {10, math.Log(8)}, {11, -2}} {
		if got := p.Values[c.i]; math.Abs(got-c.want) > 1e-15*math.Max(1, math.Abs(c.want)) {
			t.Errorf("value %d: got %v, want %v", c.i, got, c.want)
		}
	}
	if !math.IsNaN(p.Values[8]) || !math.IsNaN(p.Values[9]) {
		t.Error("a missing reading did not stay missing")
	}
	if err := ts.Invert(p); err != nil {
		t.Fatal(err)
	}
	for i, want := range orig {
		got := p.Values[i]
		if math.IsNaN(want) {
			if !math.IsNaN(got) {
				t.Errorf("value %d: %v, want NaN", i, got)
			}
			continue
		}
		// exp(log(x + o)) − o is x to the rounding of log(x + o), amplified by exp:
		// a relative error of about |log(x + o)|·2⁻⁵³ in x + o.
		o := []float64{0, 1, 0}[i%3]
		if math.Abs(got-want) > 4e-16*(1+math.Abs(math.Log(math.Abs(want+o))))*math.Abs(want+o) {
			t.Errorf("round trip of value %d: %v, want %v", i, got, want)
		}
	}
	// Whatever a model generates maps into the channel's range: never below −offset
	// (at −offset only where exp underflows or rounds).
	q := &Paths{Times: []float64{0}, Channels: []string{"price", "volume", "r"}, N: 1, Values: []float64{-800, -40, -3}}
	if err := ts.Invert(q); err != nil {
		t.Fatal(err)
	}
	if q.Values[0] < 0 || q.Values[1] < -1 || q.Values[2] != -3 {
		t.Errorf("inverted far-negative values: %v", q.Values)
	}
}

func TestTransformsRefuse(t *testing.T) {
	for _, c := range []struct {
		name string
		ts   Transforms
		want []string
	}{
		{"zero without offset", Transforms{{Kind: "log", Channel: "volume"}}, []string{`"volume"`, "reading 0", "--log volume=OFFSET", "OFFSET > 0 "}},
		{"negative", Transforms{{Kind: "log", Channel: "r", Offset: 0.1}}, []string{`"r"`, "reading -0.5", "--log r=OFFSET", "OFFSET > 0.5"}},
		{"unknown channel", Transforms{{Kind: "log", Channel: "Close"}}, []string{`"Close"`, "price, volume, r"}},
		{"twice", Transforms{{Kind: "log", Channel: "price"}, {Kind: "log", Channel: "price", Offset: 1}}, []string{"twice"}},
		{"unknown kind", Transforms{{Kind: "sqrt", Channel: "price"}}, []string{`"sqrt"`, "[log]"}},
		{"negative offset", Transforms{{Kind: "log", Channel: "price", Offset: -1}}, []string{"offset -1"}},
	} {
		p := positive()
		orig := slices.Clone(p.Values)
		err := c.ts.Apply(p)
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q lacks %q", c.name, err, w)
			}
		}
		for i := range orig {
			if math.Float64bits(p.Values[i]) != math.Float64bits(orig[i]) {
				t.Fatalf("%s: a refused Apply changed value %d", c.name, i)
			}
		}
		if err := c.ts.Invert(positive()); c.name != "zero without offset" && c.name != "negative" && err == nil {
			t.Errorf("%s: Invert accepted", c.name)
		}
	}
}

func TestParseLog(t *testing.T) {
	got, err := ParseLog([]string{"Close", " Volume = 1 ", "PM2.5=0.5"})
	want := Transforms{{Kind: "log", Channel: "Close"}, {Kind: "log", Channel: "Volume", Offset: 1}, {Kind: "log", Channel: "PM2.5", Offset: 0.5}}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("ParseLog: %v, %v", got, err)
	}
	if s := got.String(); s != "Close,Volume=1,PM2.5=0.5" {
		t.Errorf("String %q", s)
	}
	for _, bad := range [][]string{{""}, {"=1"}, {"a=-1"}, {"a=x"}, {"a=NaN"}, {"a=Inf"}, {"a", "a=2"}, {"a="}} {
		if ts, err := ParseLog(bad); err == nil || !strings.Contains(err.Error(), "--log") && !strings.Contains(err.Error(), "offset") {
			t.Errorf("ParseLog(%q) = %v, %v", bad, ts, err)
		}
	}
}

// FuzzParseLog: the parser of --log never panics, and what it accepts is well formed
// and spelled back by String to the same transforms.
func FuzzParseLog(f *testing.F) {
	for _, s := range []string{"Close", "Volume=1", "a=1e-3,b", "=", "a==1", "x=-0", "PM2.5=0x1p-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := ParseLog(strings.Split(s, ","))
		if err != nil {
			return
		}
		if err := ts.Check(nil); err != nil {
			t.Fatalf("ParseLog(%q) accepted %v: %v", s, ts, err)
		}
		back, err := ParseLog(strings.Split(ts.String(), ","))
		if err != nil || !slices.Equal(back, ts) {
			t.Fatalf("%q → %v → %q → %v, %v", s, ts, ts.String(), back, err)
		}
	})
}

func TestTimeMap(t *testing.T) {
	// The same 120-point monthly grid written in months, years (decimal text, as a CSV
	// holds it) and seconds gives exactly the model times 0…119.
	months, years, secs := make([]float64, 120), make([]float64, 120), make([]float64, 120)
	for k := range months {
		months[k] = float64(k)
		years[k], _ = strconv.ParseFloat(strconv.FormatFloat(float64(k)/12, 'g', 12, 64), 64)
		secs[k] = 1.7e9 + float64(k)*2629800
	}
	want := slices.Clone(months)
	for name, ts := range map[string][]float64{"months": months, "years": years, "seconds": secs} {
		tm := TimeMapOf(ts)
		if err := tm.Check(); err != nil {
			t.Fatal(err)
		}
		if got := tm.ToModel(ts); !slices.Equal(got, want) {
			t.Errorf("%s: model times %v", name, got)
		}
		back := tm.ToData(want)
		for i := range ts {
			if math.Abs(back[i]-ts[i]) > 1e-9*math.Max(1, math.Abs(ts[i])) {
				t.Fatalf("%s: time %d back as %v, was %v", name, i, back[i], ts[i])
			}
		}
	}
	if tm := TimeMapOf(OU(1, 1).Times); tm != IdentityTimeMap {
		t.Errorf("OU's times 0…63 map by %+v, want the identity", tm)
	}
	// An uneven grid keeps its shape.
	if got := TimeMapOf([]float64{2, 2.5, 4, 8}).ToModel([]float64{2, 2.5, 4, 8}); !slices.Equal(got, []float64{0, 0.25, 1, 3}) {
		t.Errorf("uneven grid: %v", got)
	}
	// Compressed onto a shorter horizon, the grid's k-th step is k·Step in every unit.
	for name, ts := range map[string][]float64{"months": months, "years": years, "seconds": secs} {
		tm := TimeMapOnto(ts, 23)
		got := tm.ToModel(ts)
		for k, v := range got {
			if v != float64(k)*(23.0/119) {
				t.Fatalf("%s onto [0, 23]: time %d is %v, want %v", name, k, v, float64(k)*(23.0/119))
			}
		}
		if math.Abs(got[119]-23) > 1e-14 {
			t.Errorf("%s: last time %v, want 23", name, got[119])
		}
		back := tm.ToData(got)
		for i := range ts {
			if math.Abs(back[i]-ts[i]) > 1e-9*math.Max(1, math.Abs(ts[i])) {
				t.Fatalf("%s onto [0, 23]: time %d back as %v, was %v", name, i, back[i], ts[i])
			}
		}
	}
	for _, bad := range []TimeMap{{0, 0, 1}, {0, -1, 1}, {math.NaN(), 1, 1}, {0, math.Inf(1), 1}, {0, 1, 0}, {0, 1, math.NaN()}} {
		if bad.Check() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
