package latent

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gosde/gosde/solver"
)

// tinyConfig is the finite-difference configuration: 2 channels, d 2, k 2, width 3.
func tinyConfig(method solver.Method, adj solver.Adjoint) Config {
	c := DefaultConfig()
	c.DataChannels, c.LatentSize, c.ContextSize, c.Width = 2, 2, 2, 3
	c.Batch, c.Steps, c.Dt, c.Seed = 3, 10, 0.25, 7
	c.ObsStd, c.SigmaMin, c.SigmaMax = 0.5, 0.2, 1
	c.Method, c.Adjoint = method, adj
	return c
}

var tinyTimes = []float64{0, 0.5, 1.2, 1.7, 2.5}

func newTinyEngine(t *testing.T, cfg Config) *engine[float64] {
	t.Helper()
	e, err := newEngine[float64](cfg, tinyTimes)
	if err != nil {
		t.Fatal(err)
	}
	// Move every parameter a little off its initialisation (p(z₀) included, so that its
	// gradient is generic), deterministically.
	r := rand.New(rand.NewPCG(3, 4))
	for i := range e.params {
		e.params[i] += 0.3 * r.NormFloat64()
	}
	fillObs(e, cfg.Batch, 11)
	return e
}

// fillObs writes fixed pseudo-random observed paths into the engine's buffer.
func fillObs[F float32 | float64](e *engine[F], b int, seed uint64) {
	e.ensure(b)
	r := rand.New(rand.NewPCG(seed, 1))
	for j := range b {
		for t := range e.T {
			for c := range e.C {
				e.x[(j*e.T+t)*e.C+c] = F(math.Sin(float64(t)+float64(c)) + 0.5*r.NormFloat64())
			}
		}
	}
}

func relErr(a, b []float64) float64 {
	var num, den float64
	for i := range a {
		num += (a[i] - b[i]) * (a[i] - b[i])
		den += b[i] * b[i]
	}
	return math.Sqrt(num / den)
}

const epsSeed, bmSeed = 101, 202

// fdGrad is the fourth-order central difference of the loss w.r.t. p[lo:lo+n].
func fdGrad(t *testing.T, e *engine[float64], lo, n int, h float64) []float64 {
	t.Helper()
	b := e.cfg.Batch
	loss := func() float64 {
		l, err := e.lossGrad(b, e.params, epsSeed, bmSeed, false, 1)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	out := make([]float64, n)
	for i := range n {
		p := &e.params[lo+i]
		x := *p
		var f [4]float64
		for s, dx := range []float64{-2 * h, -h, h, 2 * h} {
			*p = x + dx
			f[s] = loss()
		}
		*p = x
		out[i] = (f[0] - 8*f[1] + 8*f[2] - f[3]) / (12 * h)
	}
	return out
}

// TestGradientFiniteDifferences checks the gradient of the whole loss (−mean ELBO) with
// respect to every parameter group against finite differences, with the noise (ε and
// the Brownian motion) fixed by seed, for reversible Heun with its algebraic adjoint and
// for midpoint with backpropagation.
func TestGradientFiniteDifferences(t *testing.T) {
	for _, mc := range []struct {
		m solver.Method
		a solver.Adjoint
	}{{solver.ReversibleHeun, solver.Reversible}, {solver.Midpoint, solver.Backprop}} {
		e := newTinyEngine(t, tinyConfig(mc.m, mc.a))
		b := e.cfg.Batch
		loss, err := e.lossGrad(b, e.params, epsSeed, bmSeed, true, 1)
		if err != nil {
			t.Fatal(err)
		}
		if e.lastSol.Steps != 11 {
			t.Fatalf("%d solver steps, want 11", e.lastSol.Steps)
		}
		grad := append([]float64(nil), e.grad...)
		t.Logf("%v/%v: log-likelihood %.4f, KL0 %.4f, KL path %.4f", mc.m, mc.a, e.lastLogLik, e.lastKL0, e.lastKLPath)
		for p := range numParts {
			lo, n := e.off[p], e.off[p+1]-e.off[p]
			fd := fdGrad(t, e, lo, n, 1e-4)
			re := relErr(grad[lo:lo+n], fd)
			t.Logf("%v/%v: loss %.6f, %s (%d params): relative error %.2e", mc.m, mc.a, loss, partNames[p], n, re)
			if re > 1e-6 || math.IsNaN(re) {
				t.Errorf("%v/%v: %s gradient relative error %.3e", mc.m, mc.a, partNames[p], re)
			}
		}
	}
}

// TestReversibleEqualsBackprop checks that the algebraic adjoint of reversible Heun gives
// the full model's gradient of the discrete solve to rounding.
func TestReversibleEqualsBackprop(t *testing.T) {
	cfg := tinyConfig(solver.ReversibleHeun, solver.Reversible)
	cfg.Batch, cfg.Width, cfg.LatentSize, cfg.ContextSize = 5, 8, 3, 4
	cfg.Dt = 0.05
	er := newTinyEngine(t, cfg)
	cfg.Adjoint = solver.Backprop
	eb := newTinyEngine(t, cfg)
	lr, err := er.lossGrad(cfg.Batch, er.params, epsSeed, bmSeed, true, 1)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := eb.lossGrad(cfg.Batch, eb.params, epsSeed, bmSeed, true, 1)
	if err != nil {
		t.Fatal(err)
	}
	if lr != lb {
		t.Errorf("losses differ: %v vs %v", lr, lb)
	}
	for p := range numParts {
		re := relErr(er.part(er.grad, p), eb.part(eb.grad, p))
		t.Logf("%s: reversible vs backprop relative difference %.2e", partNames[p], re)
		if re > 1e-9 || math.IsNaN(re) {
			t.Errorf("%s: reversible vs backprop relative difference %.3e", partNames[p], re)
		}
	}
	if er.lastRecon > 1e-10 {
		t.Errorf("reconstruction error %v", er.lastRecon)
	}
	t.Logf("reconstruction error %.2e", er.lastRecon)
}

// TestContinuousAdjointClose checks that midpoint with the continuous adjoint gives
// nearly the discrete gradient (they differ by a discretisation error).
func TestContinuousAdjointClose(t *testing.T) {
	cfg := tinyConfig(solver.Midpoint, solver.Continuous)
	cfg.Dt = 0.01
	ec := newTinyEngine(t, cfg)
	cfg.Adjoint = solver.Backprop
	eb := newTinyEngine(t, cfg)
	if _, err := ec.lossGrad(cfg.Batch, ec.params, epsSeed, bmSeed, true, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.lossGrad(cfg.Batch, eb.params, epsSeed, bmSeed, true, 1); err != nil {
		t.Fatal(err)
	}
	re := relErr(ec.grad, eb.grad)
	t.Logf("continuous vs discrete gradient relative difference %.2e, reconstruction error %.2e", re, ec.lastRecon)
	if re > 0.05 || math.IsNaN(re) {
		t.Errorf("continuous adjoint relative difference %.3e", re)
	}
}

// TestKLAnnealGradient checks that the KL weight scales exactly the KL part of the
// gradient: grad(w) = grad(0) + w·(grad(1) − grad(0)).
func TestKLAnnealGradient(t *testing.T) {
	e := newTinyEngine(t, tinyConfig(solver.ReversibleHeun, solver.Backprop))
	g := func(w float64) []float64 {
		if _, err := e.lossGrad(3, e.params, epsSeed, bmSeed, true, w); err != nil {
			t.Fatal(err)
		}
		return append([]float64(nil), e.grad...)
	}
	g0, g1, gw := g(0), g(1), g(0.3)
	want := make([]float64, len(g0))
	for i := range want {
		want[i] = g0[i] + 0.3*(g1[i]-g0[i])
	}
	if re := relErr(gw, want); re > 1e-12 {
		t.Errorf("KL-weighted gradient relative error %.3e", re)
	}
}
