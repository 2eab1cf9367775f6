package solver

import (
	"errors"
	"fmt"
	"math"
	"unsafe"
)

// Backward returns dL/dy0 and dL/dθ (and dL/dxs for SolveCDE) for a loss L whose
// gradient with respect to Ys is gradYs (same layout as Ys; gradYs[:batch*d], the
// cotangent of y0 itself, is added to Y0), computed with the Adjoint the solve ran
// with. The SDE must implement Differentiable. The Brownian increments are re-queried
// from the Motion, in reverse order. Backward may be called any number of times.
func (s *Solution[F]) Backward(gradYs []F) (*Gradients[F], error) {
	s.use.Enter("*solver.Solution")
	defer s.use.Exit()
	p := s.p
	if p == nil {
		return nil, errors.New("solver: Backward on a Solution that Solve or SolveCDE did not return")
	}
	diff, ok := p.sde.(Differentiable[F])
	if !ok {
		return nil, fmt.Errorf("solver: Backward needs an SDE that implements Differentiable (NumParams and VJP); %T does not", p.sde)
	}
	if !s.canBwd {
		return nil, errors.New("solver: this Solution was computed with Options.ForwardOnly, so it cannot be differentiated; solve again without ForwardOnly")
	}
	if len(gradYs) != len(s.Ys) {
		return nil, fmt.Errorf("solver: len(gradYs) = %d, want len(Ys) = len(ts)×batch×Dim() = %d×%d×%d = %d", len(gradYs), len(s.Ts), s.Batch, s.Dim, len(s.Ys))
	}
	if j := firstNonFinite(gradYs); j >= 0 {
		return nil, fmt.Errorf("solver: gradYs[%d] = %v is not finite", j, gradYs[j])
	}
	np := diff.NumParams()
	if np < 0 {
		return nil, fmt.Errorf("solver: NumParams() = %d is negative", np)
	}
	bd := p.batch * p.d
	b := &backward[F]{
		s: s, p: p, sde: diff, gradYs: gradYs, bd: bd,
		dw: make([]F, p.batch*p.m), th: newParamAcc[F](np),
		g: &Gradients[F]{ReconstructionErrors: make([]float64, len(p.ts))},
	}
	if cd, ok := p.drv.(*controlDriver[F]); ok {
		b.ctl = cd
		b.adw = make([]F, p.batch*p.m)
		b.g.Control = make([]F, len(cd.xs))
	}
	var err error
	switch {
	case p.adjoint == Reversible:
		err = b.reversible()
	case p.adjoint == Continuous:
		err = b.continuous()
	case p.method == EulerMaruyama:
		err = b.backpropEuler()
	case p.method == Midpoint:
		err = b.backpropMidpoint()
	case p.method == Heun:
		err = b.backpropHeun()
	default:
		err = b.backpropReversibleHeun()
	}
	if err != nil {
		return nil, err
	}
	b.g.Params = b.th.result()
	b.g.ReconstructionError = b.g.ReconstructionErrors[0]
	return b.g, nil
}

type backward[F Float] struct {
	s      *Solution[F]
	p      *problem[F]
	sde    Differentiable[F]
	g      *Gradients[F]
	gradYs []F
	bd     int
	dw     []F // the current step's driving increment
	adw    []F // control only: adjoint of the increments of the current interval
	ctl    *controlDriver[F]
	th     *paramAcc[F]
}

func (b *backward[F]) eval(t float64, y, f, g []F) {
	b.sde.Eval(t, y, f, g)
	b.g.Evals++
}

func (b *backward[F]) vjp(t float64, y, af, ag, ay []F) {
	b.sde.VJP(t, y, af, ag, ay, b.th.buf)
	b.th.flush()
	b.g.VJPs++
}

// cotangent returns gradYs at output time i.
func (b *backward[F]) cotangent(i int) []F { return b.gradYs[i*b.bd : (i+1)*b.bd] }

// stored returns Ys at output time i.
func (b *backward[F]) stored(i int) []F { return b.s.Ys[i*b.bd : (i+1)*b.bd] }

// sweep visits the steps from last to first. For each it fetches the driving
// increment into b.dw and calls step with the output interval i, the global step
// index n and the step's times; after the first step of interval i it chains the
// control adjoint of the interval and calls output(i) for output time ts[i].
func (b *backward[F]) sweep(step func(n int, t0, t1 float64), output func(i int)) error {
	p := b.p
	n := p.total
	for i := len(p.steps) - 1; i >= 0; i-- {
		for k := p.steps[i] - 1; k >= 0; k-- {
			n--
			t0, t1 := p.stepTime(i, k), p.stepTime(i, k+1)
			if err := p.drv.increment(b.dw, i, t0, t1); err != nil {
				return err
			}
			step(n, t0, t1)
		}
		if b.adw != nil {
			b.ctl.addGrad(b.g.Control, i, b.adw)
			clear(b.adw)
		}
		output(i)
	}
	return nil
}

// maxAbsDiff is max_j |x_j − y_j|, NaN if any difference is NaN. It compares the bit
// patterns of the magnitudes, which order non-negative floats as their values do and
// put NaN above +Inf: that keeps the loop free of data-dependent branches.
func maxAbsDiff[F Float](x, y []F) float64 {
	y = y[:len(x)]
	if unsafe.Sizeof(F(0)) == 4 {
		var e uint32
		for j, v := range x {
			e = max(e, math.Float32bits(float32(v-y[j]))&^(1<<31))
		}
		return float64(math.Float32frombits(e))
	}
	var e uint64
	for j, v := range x {
		e = max(e, math.Float64bits(float64(v-y[j]))&^(1<<63))
	}
	return math.Float64frombits(e)
}

// scale sets dst = a·x.
func scale[F Float](dst []F, a F, x []F) {
	x = x[:len(dst)]
	for j := range dst {
		dst[j] = a * x[j]
	}
}

func add[F Float](dst, x []F) {
	x = x[:len(dst)]
	for j := range dst {
		dst[j] += x[j]
	}
}

// backpropEuler: y₁ = y₀ + f₀h + g₀ΔW, so a_y₀ = a_y₁ + VJP(t₀,y₀)(h·a_y₁, a_y₁⊗ΔW).
func (b *backward[F]) backpropEuler() error {
	p, bd, rec := b.p, b.bd, b.s.rec
	a := append([]F(nil), b.cotangent(len(p.ts)-1)...)
	f, g := make([]F, bd), make([]F, p.glen)
	af, ag := make([]F, bd), make([]F, p.glen)
	err := b.sweep(func(n int, t0, t1 float64) {
		h := F(t1 - t0)
		y := rec[n*bd : (n+1)*bd]
		b.eval(t0, y, f, g)
		if b.adw != nil {
			p.gT(b.adw, g, a, 1)
		}
		scale(af, h, a)
		p.outerSet(ag, a, b.dw, 1)
		b.vjp(t0, y, af, ag, a)
	}, func(i int) { add(a, b.cotangent(i)) })
	b.g.Y0 = a
	return err
}

// backpropMidpoint: y½ = y₀ + ½(f₀h + g₀ΔW), y₁ = y₀ + f½h + g½ΔW, so
// a_y½ = VJP(t½,y½)(h·a_y₁, a_y₁⊗ΔW) and a_y₀ = a_y₁ + a_y½ + VJP(t₀,y₀)(½h·a_y½, ½a_y½⊗ΔW).
func (b *backward[F]) backpropMidpoint() error {
	p, bd, rec := b.p, b.bd, b.s.rec
	a := append([]F(nil), b.cotangent(len(p.ts)-1)...)
	am := make([]F, bd)
	f, g := make([]F, bd), make([]F, p.glen)
	af, ag := make([]F, bd), make([]F, p.glen)
	err := b.sweep(func(n int, t0, t1 float64) {
		h := F(t1 - t0)
		y := rec[2*n*bd : (2*n+1)*bd]
		u := rec[(2*n+1)*bd : (2*n+2)*bd]
		tm := t0 + 0.5*(t1-t0)
		b.eval(tm, u, f, g)
		if b.adw != nil {
			p.gT(b.adw, g, a, 1)
		}
		scale(af, h, a)
		p.outerSet(ag, a, b.dw, 1)
		clear(am)
		b.vjp(tm, u, af, ag, am)
		b.eval(t0, y, f, g)
		if b.adw != nil {
			p.gT(b.adw, g, am, 0.5)
		}
		scale(af, h/2, am)
		p.outerSet(ag, am, b.dw, 0.5)
		b.vjp(t0, y, af, ag, a)
		add(a, am)
	}, func(i int) { add(a, b.cotangent(i)) })
	b.g.Y0 = a
	return err
}

// backpropHeun: ỹ = y₀ + f₀h + g₀ΔW, y₁ = y₀ + ½(f₀+f̃)h + ½(g₀+g̃)ΔW, so
// a_ỹ = VJP(t₁,ỹ)(½h·a_y₁, ½a_y₁⊗ΔW), w = ½a_y₁ + a_ỹ and
// a_y₀ = a_y₁ + a_ỹ + VJP(t₀,y₀)(h·w, w⊗ΔW).
func (b *backward[F]) backpropHeun() error {
	p, bd, rec := b.p, b.bd, b.s.rec
	a := append([]F(nil), b.cotangent(len(p.ts)-1)...)
	au, w := make([]F, bd), make([]F, bd)
	f, g := make([]F, bd), make([]F, p.glen)
	af, ag := make([]F, bd), make([]F, p.glen)
	err := b.sweep(func(n int, t0, t1 float64) {
		h := F(t1 - t0)
		y := rec[2*n*bd : (2*n+1)*bd]
		u := rec[(2*n+1)*bd : (2*n+2)*bd]
		b.eval(t1, u, f, g)
		if b.adw != nil {
			p.gT(b.adw, g, a, 0.5)
		}
		scale(af, h/2, a)
		p.outerSet(ag, a, b.dw, 0.5)
		clear(au)
		b.vjp(t1, u, af, ag, au)
		b.eval(t0, y, f, g)
		for j := range w {
			w[j] = a[j]/2 + au[j]
			af[j] = h * w[j]
		}
		if b.adw != nil {
			p.gT(b.adw, g, w, 1)
		}
		p.outerSet(ag, w, b.dw, 1)
		b.vjp(t0, y, af, ag, a)
		add(a, au)
	}, func(i int) { add(a, b.cotangent(i)) })
	b.g.Y0 = a
	return err
}

// backpropReversibleHeun differentiates the stored solve with the state taken to be
// (y, z) and f, g recomputed from z — an arrangement independent of the algebraic
// adjoint (which carries the cotangents of f and g instead), so the two check each
// other. For z₁ = 2y₀ − z₀ + f(z₀)h + g(z₀)ΔW, y₁ = y₀ + ½(f(z₀)+f(z₁))h + ½(g(z₀)+g(z₁))ΔW:
//
//	ã = a_z₁ + VJP(t₁,z₁)(½h·a_y₁, ½a_y₁⊗ΔW),  w = ½a_y₁ + ã,
//	a_y₀ = a_y₁ + 2ã,  a_z₀ = −ã + VJP(t₀,z₀)(h·w, w⊗ΔW),
//
// and dL/dy₀ = a_y₀ + a_z₀ at t₀, where z₀ = y₀. Its gradient is also held to
// oracle.Backward (TestReversibleHeunMatchesOracle).
func (b *backward[F]) backpropReversibleHeun() error {
	p, bd, rec, total := b.p, b.bd, b.s.rec, b.p.total
	ay := append([]F(nil), b.cotangent(len(p.ts)-1)...)
	az, w := make([]F, bd), make([]F, bd)
	f := make([]F, bd)
	g0, g1 := make([]F, p.glen), make([]F, p.glen)
	af, ag := make([]F, bd), make([]F, p.glen)
	b.eval(p.ts[len(p.ts)-1], b.s.zN, f, g1)
	err := b.sweep(func(n int, t0, t1 float64) {
		h := F(t1 - t0)
		z0 := rec[n*bd : (n+1)*bd]
		z1 := b.s.zN
		if n+1 < total {
			z1 = rec[(n+1)*bd : (n+2)*bd]
		}
		// The most recent Eval was at (t₁, z₁): before the sweep, or the previous
		// (later) step's second one.
		scale(af, h/2, ay)
		p.outerSet(ag, ay, b.dw, 0.5)
		b.vjp(t1, z1, af, ag, az)
		b.eval(t0, z0, f, g0)
		if b.adw != nil {
			p.gT(b.adw, g0, ay, 0.5)
			p.gT(b.adw, g1, ay, 0.5)
			p.gT(b.adw, g0, az, 1)
		}
		for j := range w {
			w[j] = ay[j]/2 + az[j]
			af[j] = h * w[j]
			ay[j] += 2 * az[j]
			az[j] = -az[j]
		}
		p.outerSet(ag, w, b.dw, 1)
		b.vjp(t0, z0, af, ag, az)
		g0, g1 = g1, g0
	}, func(i int) { add(ay, b.cotangent(i)) })
	add(ay, az)
	b.g.Y0 = ay
	return err
}

// reversible is the algebraic adjoint of reversible Heun (docs/DESIGN.md, "The
// reversible adjoint"; unfused, step by step, in oracle.Inverse, oracle.AdjointStep
// and oracle.Backward of internal/oracle, which TestReversibleHeunMatchesOracle holds
// it to): it runs the
// method backwards from (y_N, z_N), reconstructing (yₙ, zₙ, fₙ, gₙ), and carries the
// cotangents (a_y, a_z, a_f, a_g) of the four parts of the state. Per step, in this
// order, so that each VJP is at the point of the most recent Eval:
//
//	ã_f = a_f + ½h·a_y,  ã_g = a_g + ½a_y⊗ΔW,  ã_z = a_z + VJP(t₁,z₁)(ã_f, ã_g)
//	z₀ = 2y₁ − z₁ − f₁h − g₁ΔW;  (f₀, g₀) = Eval(t₀, z₀);  y₀ = y₁ − ½(f₀+f₁)h − ½(g₀+g₁)ΔW
//	a_ΔW += ½(g₀+g₁)ᵀa_y + g₀ᵀã_z   (controls only)
//	a_f ← ½h·a_y + h·ã_z,  a_g ← (½a_y + ã_z)⊗ΔW,  a_y ← a_y + 2ã_z,  a_z ← −ã_z
//
// At an output time the reconstructed y is compared with the stored output, then
// reset to it, and the output's cotangent is added to a_y. On the very first step z₀
// is known exactly (z₀ = y₀), so the stored y₀ is used instead of the reconstruction.
// At t₀: dL/dy₀ = a_y + a_z + VJP(t₀,y₀)(a_f, a_g). The backward pass first
// re-evaluates at (t_N, z_N) (f_N, g_N are not stored, and the VJP that follows must be
// at the point of the most recent Eval), so it costs N+1 evaluations and N+1 VJPs, and
// its memory does not depend on N.
func (b *backward[F]) reversible() error {
	p, bd := b.p, b.bd
	last := len(p.ts) - 1
	y := append([]F(nil), b.stored(last)...)
	z := append([]F(nil), b.s.zN...)
	ay := append([]F(nil), b.cotangent(last)...)
	az, af, ag := make([]F, bd), make([]F, bd), make([]F, p.glen)
	f0, f1 := make([]F, bd), make([]F, bd)
	g0, g1 := make([]F, p.glen), make([]F, p.glen)
	// s0, s1: g₀ΔW and g₁ΔW, each used twice.
	s0, s1 := make([]F, bd), make([]F, bd)
	// a_f and a_g are kept implicitly between steps: a_f = hₙ·w and a_g = w⊗ΔWₙ with
	// w = ½a_y + ã_z (hₙ, ΔWₙ: the step just done), so that ã_f and ã_g of the next
	// step are each built in one pass instead of accumulated in three.
	w, dwPrev, hPrev := make([]F, bd), make([]F, p.batch*p.m), F(0)
	dwHalf := make([]F, p.batch*p.m)
	b.eval(p.ts[last], z, f1, g1)
	err := b.sweep(func(n int, t0, t1 float64) {
		h := F(t1 - t0)
		// ã_f = a_f + ½h·a_y,  ã_g = a_g + ½a_y⊗ΔW
		hh, ay := h/2, ay[:len(af)]
		for j, v := range w[:len(af)] {
			af[j] = hPrev*v + hh*ay[j]
		}
		scale(dwHalf, 0.5, b.dw)
		p.outer2(ag, w, dwPrev, ay, dwHalf)
		b.vjp(t1, z, af, ag, az)
		// z₀ = 2y₁ − z₁ − f₁h − g₁ΔW, keeping s1 = g₁ΔW for y₀
		if n == 0 {
			copy(z, b.stored(0))
			p.prod(s1, g1, b.dw)
		} else {
			p.reflectG(z, y, f1, g1, b.dw, s1, -h, -1)
		}
		b.eval(t0, z, f0, g0)
		// y₀ = y₁ − ½(f₀+f₁)h − ½(g₀+g₁)ΔW
		p.heunCorrectG(y, f1, f0, s1, g0, b.dw, s0, -h, -0.5)
		if b.adw != nil {
			p.gT(b.adw, g0, ay, 0.5)
			p.gT(b.adw, g1, ay, 0.5)
			p.gT(b.adw, g0, az, 1)
		}
		adjointStep(w, ay, az)
		hPrev = h
		copy(dwPrev, b.dw)
		f0, f1 = f1, f0
		g0, g1 = g1, g0
	}, func(i int) {
		out := b.stored(i)
		b.g.ReconstructionErrors[i] = maxAbsDiff(y, out)
		copy(y, out)
		add(ay, b.cotangent(i))
	})
	if err != nil {
		return err
	}
	// z holds y₀ and the most recent Eval was at (t₀, z).
	scale(af, hPrev, w)
	p.outerSet(ag, w, dwPrev, 1)
	add(ay, az)
	b.vjp(p.ts[0], z, af, ag, ay)
	b.g.Y0 = ay
	return nil
}

// adjointStep moves the reversible adjoint's cotangents from n+1 to n, given a_z = ã_z:
// w = ½a_y + ã_z (so that a_f = h·w and a_g = w⊗ΔW), a_y ← a_y + 2ã_z, a_z ← −ã_z:
// the last line of oracle.AdjointStep, with a_f and a_g left implicit.
func adjointStep[F Float](w, ay, az []F) {
	w, az = w[:len(ay)], az[:len(ay)]
	for j := range ay {
		w[j] = ay[j]/2 + az[j]
		ay[j] += 2 * az[j]
		az[j] = -az[j]
	}
}

// continuous solves the adjoint SDE of Li et al. (2020) for the Stratonovich SDE
// backwards in time with the midpoint method, on the augmented state (y, a, a_θ):
//
//	dy = f dt + g∘dW,  da = −a·∂f/∂y dt − a·∂(g∘dW)/∂y,  da_θ = −a·∂f/∂θ dt − a·∂(g∘dW)/∂θ.
//
// With V(t,y,a) = VJP(t,y)(h·a, a⊗ΔW) (its y part; V_θ its θ part), one step from t₁
// back to t₀ = t₁ − h over the re-queried increment ΔW = W(t₁) − W(t₀) is
//
//	(f₁,g₁) = Eval(t₁,y₁);  a½ = a₁ + ½V(t₁,y₁,a₁);  y½ = y₁ − ½(f₁h + g₁ΔW)
//	(f½,g½) = Eval(t½,y½);  a₀ = a₁ + V(t½,y½,a½);  a_θ += V_θ(t½,y½,a½)
//	y₀ = y₁ − (f½h + g½ΔW)
//
// (the θ part of the first VJP is discarded: a_θ does not feed back). For controls,
// the adjoint of the step's increment is g½ᵀa½. At each output time, as torchsde's
// adjoint does (adjoint.py: aug_state[0] = ys[i-1]), the backward y is compared with
// the stored output (ReconstructionErrors), then reset to it, and the output's
// cotangent is added to a: so y's backward drift, which the adjoint SDE cannot avoid
// (y is solved, not reconstructed), builds up over one output interval at a time, not
// over the whole solve. Costs 2 evaluations and 2 VJPs per step.
func (b *backward[F]) continuous() error {
	p, bd := b.p, b.bd
	last := len(p.ts) - 1
	y := append([]F(nil), b.stored(last)...)
	a := append([]F(nil), b.cotangent(last)...)
	am, u := make([]F, bd), make([]F, bd)
	f, g := make([]F, bd), make([]F, p.glen)
	af, ag := make([]F, bd), make([]F, p.glen)
	scratch := make([]F, len(b.th.buf))
	err := b.sweep(func(n int, t0, t1 float64) {
		h := F(t1 - t0)
		tm := t0 + 0.5*(t1-t0)
		b.eval(t1, y, f, g)
		copy(am, a)
		scale(af, h/2, a)
		p.outerSet(ag, a, b.dw, 0.5)
		clear(scratch)
		b.sde.VJP(t1, y, af, ag, am, scratch)
		b.g.VJPs++
		p.advance(u, y, f, g, b.dw, -h/2, -0.5)
		b.eval(tm, u, f, g)
		if b.adw != nil {
			p.gT(b.adw, g, am, 1)
		}
		scale(af, h, am)
		p.outerSet(ag, am, b.dw, 1)
		b.vjp(tm, u, af, ag, a)
		p.advance(y, y, f, g, b.dw, -h, -1)
	}, func(i int) {
		out := b.stored(i)
		b.g.ReconstructionErrors[i] = maxAbsDiff(y, out)
		copy(y, out)
		add(a, b.cotangent(i))
	})
	b.g.Y0 = a
	return err
}
