package gan

import (
	"math"
	"testing"

	"github.com/gosde/gosde/nn"
)

// TestDiscriminatorForward recomputes the discriminator's score of each real path by
// hand — H₀ = ξ([t₀, Y₀]), reversible Heun on dH = g(t,H)·dX̂ with X̂ = [t, Y] and one
// step per interval, score m·H_T — and compares it with the engine's.
func TestDiscriminatorForward(t *testing.T) {
	cfg := tinyConfig(2, 1)
	times := []float64{0, 1, 2, 3.5, 4, 5}
	e, err := newEngine[float64](cfg, times)
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.Batch
	fillRealTest(e, b, 9)
	if _, err := e.lossGrad(b, e.genP, e.discP, 1, 2, false); err != nil {
		t.Fatal(err)
	}
	H, dc, T := e.hid, e.dc, e.T
	ctl := func(t, p int) []float64 { return e.xs[(t*2*b+p)*dc : (t*2*b+p+1)*dc] }
	mlp := func(m *nn.MLP, params, x []float64) []float64 {
		y := make([]float64, m.Out())
		nn.NewNet[float64](m).Forward(params, x, y)
		return y
	}
	gv := func(tt float64, h []float64) []float64 {
		g := make([]float64, H*dc)
		e.cde.Eval(tt, h, make([]float64, H), g)
		return g
	}
	var fake, real float64
	for p := range 2 * b {
		if ctl(0, p)[0] != times[0] || ctl(T-1, p)[0] != times[T-1] {
			t.Fatalf("time channel of path %d: %v … %v", p, ctl(0, p)[0], ctl(T-1, p)[0])
		}
		y := mlp(e.dInit, e.dPart(e.discP, partInitial), ctl(0, p))
		z := append([]float64(nil), y...)
		g0 := gv(times[0], z)
		for i := 1; i < T; i++ {
			n := int(math.Ceil(times[i] - times[i-1])) // Dt = 1
			for k := range n {
				tk := times[i-1] + (times[i]-times[i-1])*float64(k+1)/float64(n)
				dx := make([]float64, dc)
				for c := range dc {
					dx[c] = (ctl(i, p)[c] - ctl(i-1, p)[c]) / float64(n)
				}
				for r := range H {
					s := 0.0
					for c := range dc {
						s += g0[r*dc+c] * dx[c]
					}
					z[r] = 2*y[r] - z[r] + s
				}
				g1 := gv(tk, z)
				for r := range H {
					s := 0.0
					for c := range dc {
						s += 0.5 * (g0[r*dc+c] + g1[r*dc+c]) * dx[c]
					}
					y[r] += s
				}
				g0 = g1
			}
		}
		score := mlp(e.dRead, e.dPart(e.discP, partReadout), y)[0]
		if d := math.Abs(score - e.score[p]); d > 1e-12 {
			t.Errorf("path %d: score %v by hand, %v by the engine", p, score, e.score[p])
		}
		if p < b {
			fake += score / float64(b)
		} else {
			real += score / float64(b)
		}
	}
	if math.Abs(fake-e.lastFakeMean) > 1e-12 || math.Abs(real-e.lastRealMean) > 1e-12 {
		t.Errorf("means %v, %v by hand; %v, %v by the engine", fake, real, e.lastFakeMean, e.lastRealMean)
	}
	// The fake paths' data channels are the generator's readout of its states.
	Y := make([]float64, T*b*e.C)
	nn.NewNet[float64](e.gRead).Forward(e.gPart(e.genP, partReadout), e.lastGenSol.Ys, Y)
	for tt := range T {
		for p := range b {
			for c := range e.C {
				if got, want := ctl(tt, p)[1+c], Y[(tt*b+p)*e.C+c]; got != want {
					t.Fatalf("fake path %d at time %d channel %d: %v, want %v", p, tt, c, got, want)
				}
			}
		}
	}
}
