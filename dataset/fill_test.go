package dataset

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

var nan = math.NaN()

// linearPaths is N paths of 2 channels, each path-channel a + b·t on irregular times.
func linearPaths(n int, seed uint64) (*Paths, []float64) {
	times := []float64{-1, 0, 0.5, 2, 3.25, 7, 7.5, 11, 20}
	p := &Paths{Times: times, Channels: []string{"u", "v"}, N: n, Values: make([]float64, n*len(times)*2)}
	rng := rand.New(rand.NewPCG(seed, 1))
	coef := make([]float64, n*2*2)
	for i := range coef {
		coef[i] = rng.NormFloat64() * 10
	}
	for i := 0; i < n; i++ {
		for ti, t := range times {
			for c := 0; c < 2; c++ {
				p.Values[(i*len(times)+ti)*2+c] = coef[(i*2+c)*2] + coef[(i*2+c)*2+1]*t
			}
		}
	}
	return p, coef
}

func TestFillLinearExactOnLinearData(t *testing.T) {
	p, _ := linearPaths(50, 3)
	want := slices.Clone(p.Values)
	T := p.T()
	// Drop interior readings at random, keeping each path-channel's first and last.
	rng := rand.New(rand.NewPCG(4, 4))
	for i := 0; i < p.N; i++ {
		for ti := 1; ti < T-1; ti++ {
			for c := 0; c < 2; c++ {
				if rng.Float64() < 0.5 {
					p.Values[(i*T+ti)*2+c] = nan
				}
			}
		}
	}
	kept := slices.Clone(p.Values)
	if err := FillLinear(p); err != nil {
		t.Fatal(err)
	}
	for i, v := range p.Values {
		if !math.IsNaN(kept[i]) && math.Float64bits(v) != math.Float64bits(kept[i]) {
			t.Fatalf("value %d: a reading changed from %v to %v", i, kept[i], v)
		}
		if math.Abs(v-want[i]) > 1e-12*math.Max(1, math.Abs(want[i])) {
			t.Fatalf("value %d: filled %v, linear %v", i, v, want[i])
		}
	}
}

func TestFillLinearCases(t *testing.T) {
	times := []float64{0, 1, 3, 4}
	for _, tc := range []struct {
		name      string
		in, want  []float64 // 2 paths × 4 times × 1 channel
		wantError string
	}{
		{"none missing", []float64{1, 2, 3, 4, 5, 6, 7, 8}, []float64{1, 2, 3, 4, 5, 6, 7, 8}, ""},
		{"interior uses times", []float64{0, nan, 6, 8, 1, 1, 1, 1}, []float64{0, 2, 6, 8, 1, 1, 1, 1}, ""},
		{"constant ends", []float64{nan, nan, 5, nan, nan, 2, nan, nan}, []float64{5, 5, 5, 5, 2, 2, 2, 2}, ""},
		{"whole path-channel missing takes the channel mean", []float64{1, 2, 3, nan, nan, nan, nan, nan}, []float64{1, 2, 3, 3, 2, 2, 2, 2}, ""},
		{"channel missing everywhere", []float64{nan, nan, nan, nan, nan, nan, nan, nan}, nil, `channel "x" has no reading`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Paths{Times: times, Channels: []string{"x"}, N: 2, Values: slices.Clone(tc.in)}
			err := FillLinear(p)
			if tc.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantError) {
					t.Fatalf("error %v, want %q", err, tc.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.Values, tc.want) {
				t.Errorf("filled %v, want %v", p.Values, tc.want)
			}
		})
	}
}

func TestFillLinearMultiChannel(t *testing.T) {
	p := &Paths{Times: []float64{0, 1, 2}, Channels: []string{"a", "b"}, N: 1, Values: []float64{0, nan, nan, 5, 2, nan}}
	if err := FillLinear(p); err != nil {
		t.Fatal(err)
	}
	if want := []float64{0, 5, 1, 5, 2, 5}; !slices.Equal(p.Values, want) {
		t.Errorf("got %v, want %v", p.Values, want)
	}
}

func TestValidate(t *testing.T) {
	good := func() *Paths {
		return &Paths{Times: []float64{0, 1}, Channels: []string{"a"}, N: 1, Values: []float64{1, 2}}
	}
	for _, tc := range []struct {
		name  string
		edit  func(p *Paths)
		error string
	}{
		{"good", func(p *Paths) {}, ""},
		{"no times", func(p *Paths) { p.Times = nil; p.Values = nil }, "no observation times"},
		{"decreasing", func(p *Paths) { p.Times = []float64{1, 0} }, "not strictly increasing"},
		{"repeated", func(p *Paths) { p.Times = []float64{1, 1} }, "not strictly increasing"},
		{"nan time", func(p *Paths) { p.Times[1] = nan }, "not finite"},
		{"no channels", func(p *Paths) { p.Channels = nil }, "no channels"},
		{"duplicate channel", func(p *Paths) { p.Channels = []string{"a", "a"}; p.Values = make([]float64, 4) }, "duplicate channel"},
		{"short values", func(p *Paths) { p.Values = p.Values[:1] }, "want N·T·C"},
	} {
		p := good()
		tc.edit(p)
		err := p.Validate()
		if (tc.error == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.error)) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.error)
		}
		if tc.error != "" {
			if err := FillLinear(p); err == nil {
				t.Errorf("%s: FillLinear accepted malformed paths", tc.name)
			}
		}
	}
}

func TestScaledTimes(t *testing.T) {
	p := &Paths{Times: []float64{10, 12, 13, 20}}
	if got, want := p.ScaledTimes(), []float64{0, 0.6, 0.9, 3}; math.Abs(got[1]-want[1]) > 1e-15 || math.Abs(got[2]-want[2]) > 1e-15 || got[0] != 0 || got[3] != 3 {
		t.Errorf("ScaledTimes %v, want %v", got, want)
	}
	if q := OU(1, 1); !slices.Equal(q.ScaledTimes(), q.Times) {
		t.Error("ScaledTimes is not the identity on 0…T−1")
	}
	if got := (&Paths{Times: []float64{5}}).ScaledTimes(); !slices.Equal(got, []float64{0}) {
		t.Errorf("single time: %v", got)
	}
}

func TestDrop(t *testing.T) {
	p := OU(1000, 2)
	Drop(p, 0.3, 9)
	missing := 0
	for _, v := range p.Values {
		if math.IsNaN(v) {
			missing++
		}
	}
	if f := float64(missing) / float64(len(p.Values)); math.Abs(f-0.3) > 0.01 {
		t.Errorf("dropped %.3f, want 0.3", f)
	}
	q := OU(1000, 2)
	Drop(q, 0.3, 9)
	for i := range p.Values {
		if math.IsNaN(p.Values[i]) != math.IsNaN(q.Values[i]) {
			t.Fatal("Drop is not deterministic")
		}
	}
	if err := FillLinear(p); err != nil {
		t.Fatal(err)
	}
}
