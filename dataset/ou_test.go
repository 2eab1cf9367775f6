package dataset

import (
	"math"
	"slices"
	"testing"
)

// ouMomentODE integrates the first two moments of the OU set (docs/DESIGN.md, "The OU
// data set"),
// m' = 0.02t − 0.1m and v' = −0.2v + σ(t)² with σ(t) = 0.4·2t/64, from m(0) = 0 and
// v(0) = 1/3 (Y₀ ~ U(−1, 1)), by RK4, and returns them at t = 0, 1, …, 63.
func ouMomentODE() (mean, variance []float64) {
	sigma := func(t float64) float64 { return 0.4 * 2 * t / 64 }
	f := func(t, m, v float64) (float64, float64) {
		s := sigma(t)
		return 0.02*t - 0.1*m, -0.2*v + s*s
	}
	const sub = 1000
	h := 1.0 / sub
	m, v := 0.0, 1.0/3
	mean, variance = []float64{m}, []float64{v}
	for k := 0; k < 63; k++ {
		for j := 0; j < sub; j++ {
			t := float64(k) + float64(j)*h
			m1, v1 := f(t, m, v)
			m2, v2 := f(t+h/2, m+h/2*m1, v+h/2*v1)
			m3, v3 := f(t+h/2, m+h/2*m2, v+h/2*v2)
			m4, v4 := f(t+h, m+h*m3, v+h*v3)
			m += h / 6 * (m1 + 2*m2 + 2*m3 + m4)
			v += h / 6 * (v1 + 2*v2 + 2*v3 + v4)
		}
		mean, variance = append(mean, m), append(variance, v)
	}
	return mean, variance
}

// The transition the simulation uses must carry the moments exactly: no sampling here.
func TestOUTransitionMoments(t *testing.T) {
	wantM, wantV := ouMomentODE()
	m, v := 0.0, 1.0/3
	for k := 0; k < 63; k++ {
		d, s, q := ouTransition(float64(k), 1)
		m, v = d*m+s, d*d*v+q
		if math.Abs(m-wantM[k+1]) > 1e-9*math.Max(1, math.Abs(wantM[k+1])) ||
			math.Abs(v-wantV[k+1]) > 1e-9*math.Max(1, wantV[k+1]) {
			t.Fatalf("t=%d: transition moments (%.12g, %.12g), ODE (%.12g, %.12g)", k+1, m, v, wantM[k+1], wantV[k+1])
		}
	}
	// Composing two half steps is one whole step.
	d1, s1, q1 := ouTransition(10, 0.5)
	d2, s2, q2 := ouTransition(10.5, 0.5)
	d, s, q := ouTransition(10, 1)
	if math.Abs(d1*d2-d) > 1e-14 || math.Abs(d2*s1+s2-s) > 1e-12 || math.Abs(d2*d2*q1+q2-q) > 1e-12 {
		t.Errorf("half steps (%g, %g, %g) ≠ whole step (%g, %g, %g)", d1*d2, d2*s1+s2, d2*d2*q1+q2, d, s, q)
	}
}

func TestOUMoments(t *testing.T) {
	const n = 100000
	p := OU(n, 1)
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if p.N != n || p.T() != 64 || p.C() != 1 || p.Channels[0] != "y" || p.Times[63] != 63 {
		t.Fatalf("shape: N=%d T=%d C=%d %q last time %v", p.N, p.T(), p.C(), p.Channels, p.Times[63])
	}
	wantM, wantV := ouMomentODE()
	for _, tt := range []int{0, 1, 5, 16, 32, 48, 63} {
		var s float64
		for i := 0; i < n; i++ {
			s += p.At(i, tt, 0)
		}
		mean := s / n
		var s2, s4 float64
		for i := 0; i < n; i++ {
			d := p.At(i, tt, 0) - mean
			s2 += d * d
			s4 += d * d * d * d
		}
		v := s2 / (n - 1)
		m4 := s4 / n
		seM := math.Sqrt(wantV[tt] / n)
		seV := math.Sqrt((m4 - v*v) / n)
		if d := math.Abs(mean - wantM[tt]); d > 5*seM {
			t.Errorf("t=%d: mean %.5f, ODE %.5f (|Δ| = %.2f SE)", tt, mean, wantM[tt], d/seM)
		}
		if d := math.Abs(v - wantV[tt]); d > 5*seV {
			t.Errorf("t=%d: variance %.5f, ODE %.5f (|Δ| = %.2f SE)", tt, v, wantV[tt], d/seV)
		}
	}
	// Y₀ ~ U(−1, 1).
	for i := 0; i < n; i++ {
		if y := p.At(i, 0, 0); !(y >= -1 && y < 1) {
			t.Fatalf("path %d: Y₀ = %v outside [−1, 1)", i, y)
		}
	}
}

func TestOUDeterministic(t *testing.T) {
	a, b := OU(100, 7), OU(100, 7)
	if !slices.Equal(a.Values, b.Values) {
		t.Error("same seed, different paths")
	}
	if c := OU(30, 7); !slices.Equal(c.Values, a.Values[:30*64]) {
		t.Error("OU(30, seed) is not the first 30 paths of OU(100, seed)")
	}
	if d := OU(100, 8); slices.Equal(d.Values, a.Values) {
		t.Error("different seeds, same paths")
	}
	if e := OU(0, 1); e.N != 0 || len(e.Values) != 0 || e.T() != 64 {
		t.Errorf("OU(0): N=%d, %d values", e.N, len(e.Values))
	}
}
