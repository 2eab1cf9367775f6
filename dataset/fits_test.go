package dataset

import "testing"

func TestFits(t *testing.T) {
	good := func() *Paths {
		return &Paths{Times: []float64{0, 1, 2}, Channels: []string{"a", "b"}, N: 2, Values: make([]float64, 12)}
	}
	times := []float64{0, 1, 2}
	if err := good().Fits(times, 2); err != nil {
		t.Fatalf("matching data refused: %v", err)
	}
	if err := good().Fits([]float64{0, 1, 2 + 1e-12}, 2); err != nil {
		t.Fatalf("times equal to rounding refused: %v", err)
	}
	cases := map[string]func(p *Paths) (*Paths, []float64, int){
		"nil":           func(p *Paths) (*Paths, []float64, int) { return nil, times, 2 },
		"no paths":      func(p *Paths) (*Paths, []float64, int) { p.N, p.Values = 0, nil; return p, times, 2 },
		"channels":      func(p *Paths) (*Paths, []float64, int) { return p, times, 3 },
		"times count":   func(p *Paths) (*Paths, []float64, int) { return p, []float64{0, 1}, 2 },
		"times differ":  func(p *Paths) (*Paths, []float64, int) { return p, []float64{0, 1, 2.5}, 2 },
		"values ragged": func(p *Paths) (*Paths, []float64, int) { p.Values = p.Values[:11]; return p, times, 2 },
	}
	for name, mk := range cases {
		p, ts, c := mk(good())
		if err := p.Fits(ts, c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
