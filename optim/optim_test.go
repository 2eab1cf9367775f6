package optim

import (
	"math"
	"testing"
)

// Quadratic loss ½Σ aᵢ(θᵢ − cᵢ)², gradient aᵢ(θᵢ − cᵢ).
var (
	qa = []float64{1, 4, 0.25}
	qc = []float64{0, -1, 3}
)

func quadGrad(theta []float64) []float64 {
	g := make([]float64, len(theta))
	for i := range theta {
		g[i] = qa[i] * (theta[i] - qc[i])
	}
	return g
}

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol*(1+math.Abs(want)) {
		t.Errorf("%s = %.12g, want %.12g", what, got, want)
	}
}

// TestAdamHandComputed: two steps on a scalar worked out by hand (lr 0.1, θ₀ = 1,
// gradient θ): step 1 moves by lr·g/(|g|+ε); step 2: m = 0.18, v = 0.001809,
// m̂ = 0.18/0.19, v̂ = 0.001809/0.001999.
func TestAdamHandComputed(t *testing.T) {
	opt, err := NewAdam[float64](1, AdamConfig{LR: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	th := []float64{1}
	opt.Step(th, []float64{th[0]})
	near(t, "θ₁", th[0], 1-0.1/(1+1e-8), 1e-15)
	g := th[0]
	opt.Step(th, []float64{g})
	m := 0.9*0.1 + 0.1*g
	v := 0.999*0.001 + 0.001*g*g
	want := g - 0.1*(m/0.19)/(math.Sqrt(v/0.001999)+1e-8)
	near(t, "θ₂", th[0], want, 1e-14)
	near(t, "θ₂ (decimal)", th[0], 0.80041228, 1e-7)
	if opt.Steps() != 2 {
		t.Errorf("Steps = %d", opt.Steps())
	}
}

// TestAdamTextbook runs 1000 steps on the quadratic against the textbook form of Adam
// (bias-corrected m̂, v̂) with weight decay, written independently here.
func TestAdamTextbook(t *testing.T) {
	const lr, b1, b2, eps, wd = 0.05, 0.8, 0.99, 1e-6, 0.1
	opt, _ := NewAdam[float64](3, AdamConfig{LR: lr, Beta1: b1, Beta2: b2, Eps: eps, WeightDecay: wd})
	th := []float64{2, 2, 2}
	ref := []float64{2, 2, 2}
	m, v := make([]float64, 3), make([]float64, 3)
	for step := 1; step <= 1000; step++ {
		opt.Step(th, quadGrad(th))
		g := quadGrad(ref)
		for i := range ref {
			gi := g[i] + wd*ref[i]
			m[i] = b1*m[i] + (1-b1)*gi
			v[i] = b2*v[i] + (1-b2)*gi*gi
			mh := m[i] / (1 - math.Pow(b1, float64(step)))
			vh := v[i] / (1 - math.Pow(b2, float64(step)))
			ref[i] -= lr * mh / (math.Sqrt(vh) + eps)
		}
	}
	for i := range th {
		near(t, "θ", th[i], ref[i], 1e-12)
	}
	// It minimises the decayed quadratic: a(θ−c) + wd·θ = 0.
	for i := range th {
		near(t, "θ*", th[i], qa[i]*qc[i]/(qa[i]+wd), 0.05)
	}
}

// TestAdadeltaHandComputed: one step worked by hand (ρ 0.9, ε 1e-6, lr 1, θ₀ = 1,
// gradient 1): s = 0.1, Δ = √1e-6/√0.100001, u = 0.1Δ²; and weight decay enters the
// gradient: with wd 0.5 and zero loss gradient at θ = 2 the effective gradient is 1.
func TestAdadeltaHandComputed(t *testing.T) {
	opt, _ := NewAdadelta[float64](1, AdadeltaConfig{})
	th := []float64{1}
	opt.Step(th, []float64{1})
	d1 := 0.001 / math.Sqrt(0.100001)
	near(t, "θ₁", th[0], 1-d1, 1e-15)
	near(t, "θ₁ (decimal)", th[0], 0.99683774, 1e-8)
	// Step 2 with gradient 0.5: s = 0.09 + 0.025, u = 0.1·d1².
	opt.Step(th, []float64{0.5})
	s2 := 0.9*0.1 + 0.1*0.25
	u1 := 0.1 * d1 * d1
	d2 := math.Sqrt(u1+1e-6) / math.Sqrt(s2+1e-6) * 0.5
	near(t, "θ₂", th[0], 1-d1-d2, 1e-15)

	wd, _ := NewAdadelta[float64](1, AdadeltaConfig{WeightDecay: 0.5})
	th = []float64{2}
	wd.Step(th, []float64{0})
	near(t, "θ₁ with weight decay", th[0], 2-d1, 1e-15)
}

// TestAdadeltaIndependent: 100 steps on the quadratic in float32 against a float64
// reference of the update rule, with the lr and weight decay of the SDE-GAN example.
func TestAdadeltaIndependent(t *testing.T) {
	const lr, rho, eps, wd = 1e-3, 0.9, 1e-6, 0.01
	opt, _ := NewAdadelta[float32](3, AdadeltaConfig{LR: lr, WeightDecay: wd})
	th := []float32{2, 2, 2}
	ref := []float64{2, 2, 2}
	s, u := make([]float64, 3), make([]float64, 3)
	for range 100 {
		g32 := quadGrad([]float64{float64(th[0]), float64(th[1]), float64(th[2])})
		opt.Step(th, []float32{float32(g32[0]), float32(g32[1]), float32(g32[2])})
		g := quadGrad(ref)
		for i := range ref {
			gi := g[i] + wd*ref[i]
			s[i] = rho*s[i] + (1-rho)*gi*gi
			d := math.Sqrt(u[i]+eps) / math.Sqrt(s[i]+eps) * gi
			u[i] = rho*u[i] + (1-rho)*d*d
			ref[i] -= lr * d
		}
	}
	for i := range th {
		near(t, "θ", float64(th[i]), ref[i], 1e-6)
	}
	if th[0] >= 2 || th[1] >= 2 || th[2] <= 2 {
		t.Errorf("Adadelta did not move downhill: %v", th)
	}
}

func TestSWA(t *testing.T) {
	s, err := NewSWA[float32](2, 3)
	if err != nil {
		t.Fatal(err)
	}
	seq := [][]float32{{1, 10}, {2, 20}, {3, 30}, {4, 40}, {8, 0}}
	for step, p := range seq {
		s.Observe(step+1, p)
	}
	// Steps 3, 4, 5 are averaged: ({3,30} + {4,40} + {8,0})/3.
	if s.N() != 3 {
		t.Fatalf("N = %d", s.N())
	}
	avg := s.Average()
	near(t, "avg[0]", float64(avg[0]), 5, 1e-7)
	near(t, "avg[1]", float64(avg[1]), 70.0/3, 1e-6)
	if e, _ := NewSWA[float64](1, 0); e.Average() != nil {
		t.Error("empty average not nil")
	}
	if s, err := NewSWA[float32](-1, 0); err == nil || s != nil {
		t.Errorf("NewSWA(-1) = %v, %v; want an error", s, err)
	}
}

func TestClip(t *testing.T) {
	x := []float32{-3, -0.5, 0, 0.25, 2}
	Clip(x, 1.0/16)
	want := []float32{-0.0625, -0.0625, 0, 0.0625, 0.0625}
	for i := range x {
		if x[i] != want[i] {
			t.Fatalf("Clip: %v", x)
		}
	}
	g := []float64{3, 4}
	if n := ClipNorm(g, 1); n != 5 || math.Abs(math.Hypot(g[0], g[1])-1) > 1e-6 {
		t.Errorf("ClipNorm: norm %g, g %v", n, g)
	}
	if _, err := NewAdam[float32](1, AdamConfig{}); err == nil {
		t.Error("Adam without a learning rate accepted")
	}
}

// Restoring Adadelta's and SWA's state into fresh ones (as a checkpoint does) and
// continuing gives bit-identically what continuing the originals gives.
func TestStateRestore(t *testing.T) {
	const n = 7
	a, _ := NewAdadelta[float32](n, AdadeltaConfig{LR: 1e-2, WeightDecay: 0.01})
	s, _ := NewSWA[float32](n, 0)
	p, g := make([]float32, n), make([]float32, n)
	for i := range p {
		p[i], g[i] = float32(i)-3, float32(i%3)-1
	}
	for range 3 {
		a.Step(p, g)
		s.Update(p)
	}
	b, _ := NewAdadelta[float32](n, AdadeltaConfig{LR: 1e-2, WeightDecay: 0.01})
	r, _ := NewSWA[float32](n, 0)
	as, au := a.State()
	bs, bu := b.State()
	copy(bs, as)
	copy(bu, au)
	b.SetSteps(a.Steps())
	copy(r.State(), s.State())
	r.SetN(s.N())
	q := append([]float32(nil), p...)
	a.Step(p, g)
	s.Update(p)
	b.Step(q, g)
	r.Update(q)
	for i := range p {
		if p[i] != q[i] || s.Average()[i] != r.Average()[i] {
			t.Fatalf("element %d: restored %v/%v, original %v/%v", i, q[i], r.Average()[i], p[i], s.Average()[i])
		}
	}
	if b.Steps() != 4 || r.N() != 4 {
		t.Fatalf("counts %d, %d; want 4, 4", b.Steps(), r.N())
	}
}

// Adam restored from its State continues bit-identically, and SetLR takes effect.
func TestAdamStateAndLR(t *testing.T) {
	const n = 5
	a, _ := NewAdam[float64](n, AdamConfig{LR: 0.1, WeightDecay: 0.01})
	p, g := make([]float64, n), make([]float64, n)
	for i := range p {
		p[i], g[i] = float64(i), 1-float64(i)/2
	}
	a.Step(p, g)
	a.Step(p, g)
	b, _ := NewAdam[float64](n, AdamConfig{LR: 0.1, WeightDecay: 0.01})
	am, av := a.State()
	bm, bv := b.State()
	copy(bm, am)
	copy(bv, av)
	b.SetSteps(a.Steps())
	q := append([]float64(nil), p...)
	a.Step(p, g)
	b.Step(q, g)
	for i := range p {
		if p[i] != q[i] {
			t.Fatalf("element %d: restored %v, original %v", i, q[i], p[i])
		}
	}
	// With the learning rate halved, the next step moves half as far (m and v are the
	// same either way).
	c, _ := NewAdam[float64](n, AdamConfig{LR: 0.1})
	d, _ := NewAdam[float64](n, AdamConfig{LR: 0.1})
	if err := d.SetLR(0.05); err != nil {
		t.Fatal(err)
	}
	pc, pd := []float64{1, 1, 1, 1, 1}, []float64{1, 1, 1, 1, 1}
	c.Step(pc, g)
	d.Step(pd, g)
	for i := range pc {
		if dc, dd := pc[i]-1, pd[i]-1; math.Abs(dd-dc/2) > 1e-15 {
			t.Fatalf("element %d: step %v with lr/2, %v with lr", i, dd, dc)
		}
	}
	if d.SetLR(-1) == nil || d.SetLR(math.Inf(1)) == nil {
		t.Fatal("bad learning rates accepted")
	}
}
