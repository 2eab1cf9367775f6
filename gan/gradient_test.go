package gan

import (
	"math"
	"math/rand/v2"
	"testing"
)

// tinyConfig is the finite-difference configuration: batch 4, hidden 3, width 4.
func tinyConfig(channels int, dt float64) Config {
	c := DefaultConfig()
	c.DataChannels, c.Hidden, c.Width, c.NoiseDim, c.InitialNoise = channels, 3, 4, 2, 5
	c.Batch, c.Steps, c.Dt, c.Seed = 4, 10, dt, 7
	return c
}

// fillRealTest writes fixed pseudo-random real paths into the engine's control buffer.
func fillRealTest[F float32 | float64](e *engine[F], b int, seed uint64) {
	e.ensure(b)
	r := rand.New(rand.NewPCG(seed, 1))
	for j := range b {
		for t := range e.T {
			for c, dst := 0, e.realSlot(b, t, j); c < len(dst); c++ {
				dst[c] = F(0.3*float64(t) - 0.5 + 0.7*r.NormFloat64())
			}
		}
	}
}

type group struct {
	name  string
	disc  bool
	part  int
	lo, n int
}

func groups[F float32 | float64](e *engine[F]) []group {
	names := [numParts]string{"initial", "field", "readout"}
	var gs []group
	for p := range numParts {
		gs = append(gs, group{"generator." + names[p], false, p, e.gOff[p], e.gOff[p+1] - e.gOff[p]})
	}
	for p := range numParts {
		gs = append(gs, group{"discriminator." + names[p], true, p, e.dOff[p], e.dOff[p+1] - e.dOff[p]})
	}
	return gs
}

func relErr(a, b []float64) float64 {
	var num, den float64
	for i := range a {
		num += (a[i] - b[i]) * (a[i] - b[i])
		den += b[i] * b[i]
	}
	return math.Sqrt(num / den)
}

// TestGradientFiniteDifferences checks the gradient of the whole SDE-GAN loss
// L = mean D(fake) − mean D(real) — generator (initial MLP, SDE vector fields, readout)
// through the discriminator's control, discriminator (initial MLP, CDE field, readout)
// — against central finite differences, in float64, for every parameter.
func TestGradientFiniteDifferences(t *testing.T) {
	cases := []struct {
		name     string
		channels int
		dt       float64
		times    []float64
	}{
		{"uniform dt=1", 1, 1, []float64{0, 1, 2, 3, 4, 5}},
		{"irregular dt=0.3 two channels", 2, 0.3, []float64{0, 0.5, 1.2, 2, 2.5, 3.1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tinyConfig(tc.channels, tc.dt)
			e, err := newEngine[float64](cfg, tc.times)
			if err != nil {
				t.Fatal(err)
			}
			b := cfg.Batch
			fillRealTest(e, b, 3)
			const vSeed, bmSeed = 11, 12
			loss, err := e.lossGrad(b, e.genP, e.discP, vSeed, bmSeed, true)
			if err != nil {
				t.Fatal(err)
			}
			if e.lastGenRecon > 1e-10 || e.lastDiscRecon > 1e-10 {
				t.Errorf("reconstruction errors %g (generator), %g (discriminator)", e.lastGenRecon, e.lastDiscRecon)
			}
			genG := append([]float64(nil), e.genG...)
			discG := append([]float64(nil), e.discG...)
			f := func() float64 {
				l, err := e.lossGrad(b, e.genP, e.discP, vSeed, bmSeed, false)
				if err != nil {
					t.Fatal(err)
				}
				return l
			}
			if l := f(); l != loss {
				t.Fatalf("forward-only loss %v differs from %v", l, loss)
			}
			const h = 1e-6
			for _, g := range groups(e) {
				p, an := e.genP, genG
				if g.disc {
					p, an = e.discP, discG
				}
				fd := make([]float64, g.n)
				for i := range g.n {
					k := g.lo + i
					old := p[k]
					p[k] = old + h
					lp := f()
					p[k] = old - h
					lm := f()
					p[k] = old
					fd[i] = (lp - lm) / (2 * h)
				}
				re := relErr(an[g.lo:g.lo+g.n], fd)
				t.Logf("%-24s %3d params  |grad| %.3e  rel err %.2e", g.name, g.n, norm(fd), re)
				if !(re < 1e-6) {
					t.Errorf("%s: relative error %g", g.name, re)
				}
			}
			t.Logf("loss %.6g", loss)
		})
	}
}

func norm(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return math.Sqrt(s)
}

// TestFloat32MatchesFloat64 checks that the float32 engine (what Model runs) computes
// the same loss and gradients as the float64 one, to float32 accuracy.
func TestFloat32MatchesFloat64(t *testing.T) {
	cfg := tinyConfig(2, 0.5)
	cfg.Hidden, cfg.Width, cfg.Batch = 8, 8, 32
	times := []float64{0, 1, 2, 3, 4, 5, 6, 7}
	e64, err := newEngine[float64](cfg, times)
	if err != nil {
		t.Fatal(err)
	}
	e32, err := newEngine[float32](cfg, times)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range e32.genP {
		e64.genP[i] = float64(v)
	}
	for i, v := range e32.discP {
		e64.discP[i] = float64(v)
	}
	b := cfg.Batch
	fillRealTest(e64, b, 5)
	fillRealTest(e32, b, 5)
	l64, err := e64.lossGrad(b, e64.genP, e64.discP, 1, 2, true)
	if err != nil {
		t.Fatal(err)
	}
	l32, err := e32.lossGrad(b, e32.genP, e32.discP, 1, 2, true)
	if err != nil {
		t.Fatal(err)
	}
	if d := math.Abs(l64 - l32); d > 1e-5*math.Max(1, math.Abs(l64)) {
		t.Errorf("loss %v (float64) vs %v (float32)", l64, l32)
	}
	to64 := func(x []float32) []float64 {
		y := make([]float64, len(x))
		for i, v := range x {
			y[i] = float64(v)
		}
		return y
	}
	g32, d32 := to64(e32.genG), to64(e32.discG)
	for _, g := range groups(e64) {
		a, ref := g32, e64.genG
		if g.disc {
			a, ref = d32, e64.discG
		}
		re := relErr(a[g.lo:g.lo+g.n], ref[g.lo:g.lo+g.n])
		t.Logf("%-24s rel err float32 vs float64 %.2e", g.name, re)
		if !(re < 1e-3) {
			t.Errorf("%s: float32 gradient differs from float64 by %g", g.name, re)
		}
	}
}
