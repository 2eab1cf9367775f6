package latent

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gosde/gosde/brownian"
	"github.com/gosde/gosde/solver"
)

var _ solver.Differentiable[float32] = (*posterior[float32])(nil)
var _ solver.SDE[float64] = (*prior[float64])(nil)

func randVec(r *rand.Rand, n int, s float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = s * r.NormFloat64()
	}
	return v
}

// TestPosteriorVJP checks the vector field's VJP, with respect to the state and the
// parameters, against central differences of φ = Σ af·f + ag·g, both right after an
// Eval at the same point (activation reuse) and at another point (recomputation).
func TestPosteriorVJP(t *testing.T) {
	e := newTinyEngine(t, tinyConfig(solver.ReversibleHeun, solver.Reversible))
	p := e.post
	p.params = e.fieldParams(e.params)
	r := rand.New(rand.NewPCG(5, 6))
	const b = 4
	D := p.Dim()
	y := randVec(r, b*D, 1)
	af, ag := randVec(r, b*D, 1), randVec(r, b*D, 1)
	const tt = 0.7
	phi := func() float64 {
		f, g := make([]float64, b*D), make([]float64, b*D)
		p.Eval(tt, y, f, g)
		var s float64
		for i := range f {
			s += af[i]*f[i] + ag[i]*g[i]
		}
		return s
	}
	fd := func(x []float64, i int) float64 {
		const h = 1e-5
		v := x[i]
		x[i] = v + h
		fp := phi()
		x[i] = v - h
		fm := phi()
		x[i] = v
		return (fp - fm) / (2 * h)
	}
	wantY := make([]float64, b*D)
	for i := range y {
		wantY[i] = fd(y, i)
	}
	wantP := make([]float64, p.NumParams())
	for i := range wantP {
		wantP[i] = fd(p.params, i)
	}
	for _, reuse := range []bool{true, false} {
		f, g := make([]float64, b*D), make([]float64, b*D)
		if reuse {
			p.Eval(tt, y, f, g)
		} else {
			p.Eval(tt+1, randVec(r, b*D, 1), f, g)
		}
		rec := p.recomputes
		ay, ath := make([]float64, b*D), make([]float64, p.NumParams())
		ay[0], ath[0] = 1, 1 // VJP adds
		p.VJP(tt, y, af, ag, ay, ath)
		ay[0]--
		ath[0]--
		if got := p.recomputes - rec; got != map[bool]int{true: 0, false: 1}[reuse] {
			t.Errorf("reuse %v: %d recomputations", reuse, got)
		}
		if re := relErr(ay, wantY); re > 1e-8 {
			t.Errorf("reuse %v: state VJP relative error %.3e", reuse, re)
		}
		if re := relErr(ath, wantP); re > 1e-8 {
			t.Errorf("reuse %v: parameter VJP relative error %.3e", reuse, re)
		}
		// The context and ℓ channels have zero diffusion and ℓ does not feed back.
		for j := range b {
			if ay[j*D+D-1] != 0 {
				t.Errorf("dφ/dℓ = %v, want 0", ay[j*D+D-1])
			}
			for i := p.d; i < D; i++ {
				if g[j*D+i] != 0 {
					t.Errorf("diffusion of channel %d is %v, want 0", i, g[j*D+i])
				}
			}
		}
	}
}

// TestKLChannel checks that ℓ is the quadrature of ½‖(f−h)/σ‖² along the solved path: with
// Euler–Maruyama and the output times on the step grid, ℓ_{n+1} − ℓ_n = r(t_n, z_n)·Δt
// exactly, r computed here from the networks directly. It also checks ℓ ≥ 0 and that ℓ
// stays 0 when the posterior drift equals the prior drift.
func TestKLChannel(t *testing.T) {
	cfg := tinyConfig(solver.EulerMaruyama, solver.Backprop)
	cfg.Dt = 10 // one step per output interval
	e := newTinyEngine(t, cfg)
	p := e.post
	p.params = e.fieldParams(e.params)
	b, d, k, D := 3, e.d, e.k, p.Dim()
	r := rand.New(rand.NewPCG(8, 9))
	y0 := randVec(r, b*D, 1)
	for j := range b {
		y0[j*D+D-1] = 0
	}
	solve := func() *solver.Solution[float64] {
		mo, err := brownian.NewInterval(tinyTimes[0], tinyTimes[len(tinyTimes)-1], b, D, 5)
		if err != nil {
			t.Fatal(err)
		}
		sol, err := solver.Solve[float64](p, y0, tinyTimes, solver.Options{Method: cfg.Method, Dt: cfg.Dt, Motion: mo, ForwardOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		return sol
	}
	sol := solve()
	if sol.Steps != len(tinyTimes)-1 {
		t.Fatalf("%d steps", sol.Steps)
	}
	// r(t, z, c) = ½‖(f − h)/σ‖² from the MLPs directly, one path at a time.
	rate := func(tt float64, u []float64) float64 {
		xf := append([]float64{tt}, u[:d+k]...)
		xg := append([]float64{tt}, u[:d]...)
		f, h, g := make([]float64, d), make([]float64, d), make([]float64, d)
		p.fNet.Forward(p.params[:p.nf], xf, f)
		p.hNet.Forward(p.params[p.nf:p.nf+p.nh], xg, h)
		p.gNet.Forward(p.params[p.nf+p.nh:], xg, g)
		var s float64
		for i := range d {
			sg, _ := p.sigma(g[i])
			s += (f[i] - h[i]) * (f[i] - h[i]) / (sg * sg)
		}
		return s / 2
	}
	for j := range b {
		var want float64
		for n := range len(tinyTimes) - 1 {
			want += rate(tinyTimes[n], sol.At(n)[j*D:(j+1)*D]) * (tinyTimes[n+1] - tinyTimes[n])
			got := sol.At(n + 1)[j*D+D-1]
			if math.Abs(got-want) > 1e-12*math.Max(1, want) {
				t.Errorf("path %d, time %d: ℓ = %v, quadrature %v", j, n+1, got, want)
			}
			for i := d; i < d+k; i++ {
				if c := sol.At(n + 1)[j*D+i]; c != y0[j*D+i] {
					t.Errorf("context changed: %v → %v", y0[j*D+i], c)
				}
			}
		}
		if !(want > 0) {
			t.Errorf("path %d: KL %v not positive", j, want)
		}
	}

	// f ≡ h: copy h's weights into f, with zero weights on the context inputs.
	hp := p.params[p.nf : p.nf+p.nh]
	fp := p.params[:p.nf]
	lf, lh := p.f.Layers(), p.h.Layers()
	for l := range lf {
		for o := range lf[l].Out {
			for i := range lf[l].In {
				v := 0.0
				if l > 0 || i < lh[l].In {
					v = hp[lh[l].W+o*lh[l].In+i]
				}
				fp[lf[l].W+o*lf[l].In+i] = v
			}
			fp[lf[l].B+o] = hp[lh[l].B+o]
		}
	}
	for _, m := range []solver.Method{solver.EulerMaruyama, solver.ReversibleHeun, solver.Midpoint} {
		cfg.Method = m
		sol := solve()
		last := sol.At(len(tinyTimes) - 1)
		for j := range b {
			if v := last[j*D+D-1]; v != 0 {
				t.Errorf("%v: KL %v with f ≡ h, want 0", m, v)
			}
		}
	}
}
