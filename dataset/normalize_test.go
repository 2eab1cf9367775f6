package dataset

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestNormalizationRoundTrip(t *testing.T) {
	p := OU(500, 5)
	// A second, shifted and scaled channel, and some missing readings.
	q := &Paths{Times: p.Times, Channels: []string{"y", "z"}, N: p.N, Values: make([]float64, 2*len(p.Values))}
	for i, v := range p.Values {
		q.Values[2*i], q.Values[2*i+1] = v, 1000+300*v
	}
	Drop(q, 0.2, 1)
	orig := slices.Clone(q.Values)
	nz, err := Fit(q)
	if err != nil {
		t.Fatal(err)
	}
	nz.Apply(q)
	got, err := Fit(q)
	if err != nil {
		t.Fatal(err)
	}
	for c := range 2 {
		if math.Abs(got.Mean[c]) > 1e-12 || math.Abs(got.Std[c]-1) > 1e-12 {
			t.Errorf("channel %d after Apply: mean %g, std %g", c, got.Mean[c], got.Std[c])
		}
	}
	nz.Invert(q)
	for i, v := range q.Values {
		if math.IsNaN(orig[i]) != math.IsNaN(v) || math.Abs(v-orig[i]) > 1e-12*math.Max(1, math.Abs(orig[i])) {
			t.Fatalf("value %d: %v after the round trip, was %v", i, v, orig[i])
		}
	}
}

func TestFitCases(t *testing.T) {
	times := []float64{0, 1, 2}
	for _, tc := range []struct {
		name      string
		values    []float64 // 1 path × 3 times × 1 channel
		mean, std float64
		error     string
	}{
		{"sample std", []float64{1, 2, 3}, 2, 1, ""},
		{"ignores NaN", []float64{1, nan, 3}, 2, math.Sqrt2, ""},
		{"single reading", []float64{nan, 4, nan}, 4, 1, ""},
		{"constant channel", []float64{7, 7, 7}, 7, 1, ""},
		{"all missing", []float64{nan, nan, nan}, 0, 0, `channel "x" has no reading`},
	} {
		p := &Paths{Times: times, Channels: []string{"x"}, N: 1, Values: tc.values}
		nz, err := Fit(p)
		if tc.error != "" {
			if err == nil || !strings.Contains(err.Error(), tc.error) {
				t.Errorf("%s: error %v, want %q", tc.name, err, tc.error)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if math.Abs(nz.Mean[0]-tc.mean) > 1e-15 || math.Abs(nz.Std[0]-tc.std) > 1e-15 {
			t.Errorf("%s: mean %v std %v, want %v %v", tc.name, nz.Mean[0], nz.Std[0], tc.mean, tc.std)
		}
		nz.Apply(p)
		for _, v := range p.Values {
			if math.IsInf(v, 0) {
				t.Errorf("%s: Apply gave %v", tc.name, v)
			}
		}
	}
}

func TestFitInitial(t *testing.T) {
	p := OU(20000, 3)
	nz, err := FitInitial(p)
	if err != nil {
		t.Fatal(err)
	}
	// Y₀ ~ U(−1, 1): mean 0, std 1/√3.
	if math.Abs(nz.Mean[0]) > 0.02 || math.Abs(nz.Std[0]-1/math.Sqrt(3)) > 0.01 {
		t.Errorf("FitInitial: mean %g, std %g; want 0, %g", nz.Mean[0], nz.Std[0], 1/math.Sqrt(3))
	}
}

func TestApplyPanicsOnChannelMismatch(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	Normalization{Mean: []float64{0, 0}, Std: []float64{1, 1}}.Apply(OU(1, 1))
}
