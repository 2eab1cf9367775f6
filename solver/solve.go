package solver

import (
	"errors"
	"fmt"
	"math"

	"github.com/gosde/gosde/brownian"
	"github.com/gosde/gosde/internal/guard"
)

// ErrNonFinite is wrapped by the error Solve returns when the state stops being finite
// (the solve diverged): reduce Dt, or bound the vector fields.
var ErrNonFinite = errors.New("solver: state became non-finite")

// maxSteps bounds the total number of steps of one solve.
const maxSteps = math.MaxInt32

// Solution is the result of Solve or SolveCDE, and what Backward differentiates.
//
// Concurrency: a Solution is not safe for concurrent use: Backward reuses the solve's
// workspace and re-queries its Motion and SDE, which are not safe for concurrent use
// either. Call Backward from one goroutine at a time (the fields may be read
// concurrently when no Backward is running). Overlapping Backward calls from two
// goroutines are detected (one atomic flag per call) and panic rather than corrupt it.
// Solve and SolveCDE themselves are safe to call concurrently only with distinct SDE
// and Motion values: one per goroutine.
type Solution[F Float] struct {
	// Ys holds the state at every output time: len(ts)×batch×d, path-major within each
	// time; Ys[:batch*d] is y0.
	Ys []F
	// Ts is a copy of the output times.
	Ts []float64
	// Batch, Dim and NoiseDim are the number of paths, the state size d and the
	// Brownian (or control) size m.
	Batch, Dim, NoiseDim int
	// Steps is the total number of steps N; StepsPer[i] the steps in [Ts[i], Ts[i+1]].
	Steps    int
	StepsPer []int
	// Evals counts the Eval calls of the forward solve.
	Evals int
	// Method and Adjoint are the options the solve ran with.
	Method  Method
	Adjoint Adjoint

	p      *problem[F]
	rec    []F // Backprop: stage inputs of every step
	zN     []F // ReversibleHeun: z at the final time
	canBwd bool
	use    guard.InUse
}

// Gradients is the result of Backward.
type Gradients[F Float] struct {
	// Y0 is dL/dy0 (batch×d); Params is dL/dθ (NumParams()), summed over the batch.
	Y0, Params []F
	// Control is dL/dxs for SolveCDE solutions (len(ts)×batch×m, like xs); nil for Solve.
	Control []F
	// ReconstructionError is, for the Reversible and Continuous adjoints, the largest
	// |y0 reconstructed by the backward pass − y0| over all paths and components; 0 for
	// Backprop. ReconstructionErrors[i] is the same at output time Ts[i], measured
	// before both adjoints reset their backward y to the stored output there, so each
	// entry is the drift built up over the one interval (Ts[i], Ts[i+1]): rounding for
	// Reversible, the backward solve's discretisation error for Continuous. Its last
	// entry is 0.
	ReconstructionError  float64
	ReconstructionErrors []float64
	// Evals and VJPs count the Eval and VJP calls of the backward pass.
	Evals, VJPs int
}

// problem is what a forward and a backward pass share.
type problem[F Float] struct {
	sde         SDE[F]
	batch, d, m int
	diag        bool
	glen        int // length of g: batch·d (Diagonal) or batch·d·m
	ts          []float64
	steps       []int // steps per output interval
	total       int
	method      Method
	adjoint     Adjoint
	drv         driver[F]
}

// driver supplies the increments that drive the equation: Brownian increments from a
// Motion (Solve) or increments of a piecewise-linear control (SolveCDE). Stepping code
// sees only this, so both share every solver loop.
type driver[F Float] interface {
	// increment writes the driving increment (batch×m) of the step [s, t], which lies
	// in output interval i.
	increment(dw []F, i int, s, t float64) error
}

type motionDriver[F Float] struct {
	mo  brownian.Motion
	buf []float64
}

func (d *motionDriver[F]) increment(dw []F, _ int, s, t float64) error {
	if err := d.mo.Increment(d.buf, s, t); err != nil {
		return fmt.Errorf("solver: Brownian increment over [%v, %v]: %w", s, t, err)
	}
	for j, v := range d.buf {
		dw[j] = F(v)
	}
	return nil
}

// controlDriver interpolates xs linearly: each of the n_i steps of interval i gets
// ΔX = (X_{i+1} − X_i)/n_i.
type controlDriver[F Float] struct {
	xs    []F
	bm    int
	steps []int
}

func (d *controlDriver[F]) increment(dw []F, i int, _, _ float64) error {
	x0 := d.xs[i*d.bm : (i+1)*d.bm]
	x1 := d.xs[(i+1)*d.bm : (i+2)*d.bm]
	n := F(d.steps[i])
	for j := range dw {
		dw[j] = (x1[j] - x0[j]) / n
	}
	return nil
}

// addGrad chains the summed adjoint adw of the increments of interval i through the
// interpolation into dL/dxs.
func (d *controlDriver[F]) addGrad(ctl []F, i int, adw []F) {
	n := F(d.steps[i])
	c0 := ctl[i*d.bm : (i+1)*d.bm]
	c1 := ctl[(i+1)*d.bm : (i+2)*d.bm]
	for j, v := range adw {
		v /= n
		c1[j] += v
		c0[j] -= v
	}
}

// Solve integrates sde from y0 (batch×d, path-major; batch = len(y0)/Dim()) over the
// output times ts with the method and step of opt, driven by opt.Motion, and returns
// the states at every output time. With Options.Adjoint it prepares the gradient
// computed by Solution.Backward. The SDE is Stratonovich for Midpoint, Heun and
// ReversibleHeun, Itô for EulerMaruyama.
func Solve[F Float](sde SDE[F], y0 []F, ts []float64, opt Options) (*Solution[F], error) {
	p, err := newProblem(sde, y0, ts, opt)
	if err != nil {
		return nil, err
	}
	mo := opt.Motion
	if mo == nil {
		return nil, errors.New("solver: Options.Motion is nil; pass a Brownian motion, e.g. brownian.NewInterval(ts[0], ts[len(ts)-1], batch, NoiseDim(), seed)")
	}
	if mo.Batch() != p.batch || mo.Dim() != p.m {
		return nil, fmt.Errorf("solver: Options.Motion has Batch %d and Dim %d, want Batch %d (len(y0)/Dim()) and Dim %d (NoiseDim())", mo.Batch(), mo.Dim(), p.batch, p.m)
	}
	m0, m1 := mo.Span()
	if ts[0] < m0 || ts[len(ts)-1] > m1 {
		return nil, fmt.Errorf("solver: output times [%v, %v] are outside the Motion's span [%v, %v]; create the motion over a span that covers ts", ts[0], ts[len(ts)-1], m0, m1)
	}
	p.drv = &motionDriver[F]{mo: mo, buf: make([]float64, p.batch*p.m)}
	if pl, ok := mo.(brownian.Planner); ok {
		// A motion that was already queried may refuse a plan; it still answers
		// queries, only less efficiently, so any error here is not fatal.
		_ = pl.PlanGrid(p.grid())
	}
	return p.solve(y0, opt)
}

// SolveCDE integrates the controlled differential equation dY = f(t,Y)dt + g(t,Y)·dX,
// where the control X (batch × m channels, m = field.NoiseDim()) is given at the output
// times, xs being len(ts)×batch×m, and is interpolated linearly between them: each of
// the n_i steps of [ts[i], ts[i+1]] is driven by ΔX = (X_{i+1} − X_i)/n_i in place of a
// Brownian increment. opt.Motion must be nil. Backward additionally returns dL/dxs in
// Gradients.Control.
func SolveCDE[F Float](field SDE[F], y0 []F, ts []float64, xs []F, opt Options) (*Solution[F], error) {
	if opt.Motion != nil {
		return nil, errors.New("solver: SolveCDE is driven by the control xs; Options.Motion must be nil")
	}
	p, err := newProblem(field, y0, ts, opt)
	if err != nil {
		return nil, err
	}
	if want := len(ts) * p.batch * p.m; len(xs) != want {
		return nil, fmt.Errorf("solver: len(xs) = %d, want len(ts)×batch×NoiseDim() = %d×%d×%d = %d", len(xs), len(ts), p.batch, p.m, want)
	}
	if j := firstNonFinite(xs); j >= 0 {
		return nil, fmt.Errorf("solver: xs[%d] = %v is not finite", j, xs[j])
	}
	p.drv = &controlDriver[F]{xs: append([]F(nil), xs...), bm: p.batch * p.m, steps: p.steps}
	return p.solve(y0, opt)
}

func newProblem[F Float](sde SDE[F], y0 []F, ts []float64, opt Options) (*problem[F], error) {
	if sde == nil {
		return nil, errors.New("solver: the SDE is nil")
	}
	if err := opt.check(); err != nil {
		return nil, err
	}
	d, m, nz := sde.Dim(), sde.NoiseDim(), sde.Noise()
	if d <= 0 || m <= 0 {
		return nil, fmt.Errorf("solver: the SDE has Dim %d and NoiseDim %d; both must be positive", d, m)
	}
	switch nz {
	case Diagonal:
		if m != d {
			return nil, fmt.Errorf("solver: Diagonal noise needs NoiseDim() == Dim(), got %d and %d", m, d)
		}
	case Scalar:
		if m != 1 {
			return nil, fmt.Errorf("solver: Scalar noise needs NoiseDim() == 1, got %d", m)
		}
	case General, Additive:
	default:
		return nil, fmt.Errorf("solver: unknown Noise %d; use Diagonal, General, Additive or Scalar", int(nz))
	}
	if len(y0) == 0 {
		return nil, errors.New("solver: y0 is empty; it must hold batch×Dim() values")
	}
	if len(y0)%d != 0 {
		return nil, fmt.Errorf("solver: len(y0) = %d is not a multiple of Dim() = %d; y0 must hold batch×Dim() values", len(y0), d)
	}
	if j := firstNonFinite(y0); j >= 0 {
		return nil, fmt.Errorf("solver: y0[%d] = %v is not finite", j, y0[j])
	}
	if len(ts) < 2 {
		return nil, fmt.Errorf("solver: need at least 2 output times, got %d", len(ts))
	}
	for i, t := range ts {
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return nil, fmt.Errorf("solver: ts[%d] = %v is not finite", i, t)
		}
		if i > 0 && !(t > ts[i-1]) {
			return nil, fmt.Errorf("solver: ts must be strictly increasing, but ts[%d] = %v ≤ ts[%d] = %v", i, t, i-1, ts[i-1])
		}
	}
	p := &problem[F]{
		sde: sde, batch: len(y0) / d, d: d, m: m, diag: nz == Diagonal,
		ts: append([]float64(nil), ts...), method: opt.Method, adjoint: opt.Adjoint,
	}
	p.glen = p.batch * d
	if !p.diag {
		p.glen *= m
	}
	grid, err := StepGrid(ts, opt.Dt)
	if err != nil {
		return nil, err
	}
	p.steps = grid.Steps
	p.total = grid.Len()
	return p, nil
}

// stepTime is the k-th of the steps[i]+1 grid times of output interval i. Forward and
// backward passes both compute every time through it, so their grids coincide exactly.
// It is brownian.Grid's, so that a planned Interval's leaves are exactly the steps.
func (p *problem[F]) stepTime(i, k int) float64 { return p.grid().Time(i, k) }

// grid is the step grid as a brownian.Grid (no per-step storage).
func (p *problem[F]) grid() brownian.Grid { return brownian.Grid{Ts: p.ts, Steps: p.steps} }

// stages is the number of batch×d stage inputs Backprop stores per step.
func (m Method) stages() int {
	switch m {
	case Midpoint, Heun:
		return 2
	}
	return 1
}

func (p *problem[F]) solve(y0 []F, opt Options) (*Solution[F], error) {
	bd := p.batch * p.d
	s := &Solution[F]{
		Ys: make([]F, len(p.ts)*bd), Ts: append([]float64(nil), p.ts...),
		Batch: p.batch, Dim: p.d, NoiseDim: p.m,
		Steps: p.total, StepsPer: append([]int(nil), p.steps...),
		Method: p.method, Adjoint: p.adjoint, p: p,
	}
	_, diff := p.sde.(Differentiable[F])
	s.canBwd = diff && !opt.ForwardOnly
	if s.canBwd && p.adjoint == Backprop {
		n := float64(p.total) * float64(p.method.stages()) * float64(bd)
		if n > math.MaxInt32*float64(1<<16) || int(n) < 0 {
			return nil, fmt.Errorf("solver: Backprop would store %.3g values (%d steps × %d paths × %d); use the Reversible adjoint with ReversibleHeun, a larger Dt, or ForwardOnly", n, p.total, p.batch, p.d)
		}
		s.rec = make([]F, int(n))
	}
	copy(s.Ys, y0)
	if err := s.forward(); err != nil {
		return nil, err
	}
	return s, nil
}

// forward runs the solve, filling Ys (and the Backprop records).
func (s *Solution[F]) forward() error {
	p := s.p
	bd := p.batch * p.d
	y := append([]F(nil), s.Ys[:bd]...)
	f0, f1 := make([]F, bd), make([]F, bd)
	g0, g1 := make([]F, p.glen), make([]F, p.glen)
	dw := make([]F, p.batch*p.m)
	rec := s.rec
	var z, u, s0, s1 []F // s0, s1: g₀ΔW and g₁ΔW, each used twice per step
	switch p.method {
	case ReversibleHeun:
		z = append([]F(nil), y...)
		s0, s1 = make([]F, bd), make([]F, bd)
		p.sde.Eval(p.ts[0], z, f0, g0)
		s.Evals++
	case Midpoint:
		u = make([]F, bd)
	case Heun:
		u = make([]F, bd)
		s0, s1 = make([]F, bd), make([]F, bd)
	}
	n := 0
	for i := range p.steps {
		for k := 0; k < p.steps[i]; k++ {
			t0, t1 := p.stepTime(i, k), p.stepTime(i, k+1)
			h := F(t1 - t0)
			if err := p.drv.increment(dw, i, t0, t1); err != nil {
				return err
			}
			switch p.method {
			case EulerMaruyama:
				if rec != nil {
					copy(rec[n*bd:(n+1)*bd], y)
				}
				p.sde.Eval(t0, y, f0, g0)
				s.Evals++
				p.advance(y, y, f0, g0, dw, h, 1)
			case Midpoint:
				p.sde.Eval(t0, y, f0, g0)
				s.Evals++
				p.advance(u, y, f0, g0, dw, h/2, 0.5)
				if rec != nil {
					copy(rec[2*n*bd:(2*n+1)*bd], y)
					copy(rec[(2*n+1)*bd:(2*n+2)*bd], u)
				}
				p.sde.Eval(t0+0.5*(t1-t0), u, f0, g0)
				s.Evals++
				p.advance(y, y, f0, g0, dw, h, 1)
			case Heun:
				p.sde.Eval(t0, y, f0, g0)
				s.Evals++
				p.prod(s0, g0, dw)
				heunPredict(u, y, f0, s0, h)
				if rec != nil {
					copy(rec[2*n*bd:(2*n+1)*bd], y)
					copy(rec[(2*n+1)*bd:(2*n+2)*bd], u)
				}
				p.sde.Eval(t1, u, f1, g1)
				s.Evals++
				p.heunCorrectG(y, f0, f1, s0, g1, dw, s1, h, 0.5)
			case ReversibleHeun:
				// oracle.Step (internal/oracle) is this step unfused, the reference
				// TestReversibleHeunMatchesOracle holds it to.
				if rec != nil {
					copy(rec[n*bd:(n+1)*bd], z)
				}
				p.reflectG(z, y, f0, g0, dw, s0, h, 1)
				p.sde.Eval(t1, z, f1, g1)
				s.Evals++
				p.heunCorrectG(y, f0, f1, s0, g1, dw, s1, h, 0.5)
				f0, f1 = f1, f0
				g0, g1 = g1, g0
			}
			n++
		}
		if j := firstNonFinite(y); j >= 0 {
			return fmt.Errorf("%w: component %d of path %d is %v at output time ts[%d] = %v; reduce Dt or bound the vector fields",
				ErrNonFinite, j%p.d, j/p.d, y[j], i+1, p.ts[i+1])
		}
		copy(s.Ys[(i+1)*bd:(i+2)*bd], y)
	}
	if s.canBwd && p.method == ReversibleHeun {
		s.zN = z
	}
	return nil
}

// heunPredict sets u = y + f₀h + s₀ (s₀ = g₀ΔW): Heun's Euler predictor.
func heunPredict[F Float](u, y, f0, s0 []F, h F) {
	y, f0, s0 = y[:len(u)], f0[:len(u)], s0[:len(u)]
	for j := range u {
		u[j] = y[j] + h*f0[j] + s0[j]
	}
}

// reflectG is prod(s, g, dw) followed by reflect(z, y, f, s, h, c), fused into one
// pass per path for three-channel general noise (the SDE-GAN's), where the separate
// passes cost about as much as an evaluation. Its plain form is z₁ in oracle.Step
// (forward) and z₀ in oracle.Inverse (backward), internal/oracle.
func (p *problem[F]) reflectG(z, y, f, g, dw, s []F, h, c F) {
	if p.diag || p.m != 3 {
		p.prod(s, g, dw)
		reflect(z, y, f, s, h, c)
		return
	}
	d := p.d
	n := len(z) / d
	y, f, s, g, dw = y[:n*d], f[:n*d], s[:n*d], g[:3*n*d], dw[:3*n]
	for b := range n {
		zb, yb, fb, sb := z[b*d:b*d+d], y[b*d:b*d+d], f[b*d:b*d+d], s[b*d:b*d+d]
		gb := g[3*b*d : 3*(b+1)*d]
		w := dw[3*b : 3*b+3 : 3*b+3]
		w0, w1, w2 := w[0], w[1], w[2]
		for i := range zb {
			r := gb[3*i : 3*i+3 : 3*i+3]
			v := r[0]*w0 + r[1]*w1 + r[2]*w2
			sb[i] = v
			zb[i] = 2*yb[i] - zb[i] + h*fb[i] + c*v
		}
	}
}

// heunCorrectG is prod(s1, g1, dw) followed by heunCorrect(y, f0, f1, s0, s1, h, c),
// fused like reflectG; s1 is not stored. Its plain form is y₁ in oracle.Step and y₀
// in oracle.Inverse.
func (p *problem[F]) heunCorrectG(y, f0, f1, s0, g1, dw, s1 []F, h, c F) {
	if p.diag || p.m != 3 {
		p.prod(s1, g1, dw)
		heunCorrect(y, f0, f1, s0, s1, h, c)
		return
	}
	d := p.d
	n := len(y) / d
	hh := h / 2
	f0, f1, s0, g1, dw = f0[:n*d], f1[:n*d], s0[:n*d], g1[:3*n*d], dw[:3*n]
	for b := range n {
		yb, f0b, f1b, s0b := y[b*d:b*d+d], f0[b*d:b*d+d], f1[b*d:b*d+d], s0[b*d:b*d+d]
		gb := g1[3*b*d : 3*(b+1)*d]
		w := dw[3*b : 3*b+3 : 3*b+3]
		w0, w1, w2 := w[0], w[1], w[2]
		for i := range yb {
			r := gb[3*i : 3*i+3 : 3*i+3]
			v := r[0]*w0 + r[1]*w1 + r[2]*w2
			yb[i] = yb[i] + hh*(f0b[i]+f1b[i]) + c*s0b[i] + c*v
		}
	}
}

// reflect sets z ← 2y − z + h·f + c·s (s = gΔW, c = ±1), reversible Heun's z update:
// forward with (f₀, s₀, h, 1), backward with (f₁, s₁, −h, −1).
func reflect[F Float](z, y, f, s []F, h, c F) {
	y, f, s = y[:len(z)], f[:len(z)], s[:len(z)]
	for j := range z {
		z[j] = 2*y[j] - z[j] + h*f[j] + c*s[j]
	}
}

// heunCorrect sets y ← y + ½(f₀ + f₁)h + c·(s₀ + s₁), given s₀ = g₀ΔW and s₁ = g₁ΔW:
// the trapezoidal update of Heun and reversible Heun in one pass, forward with c = ½,
// backward (−h, c = −½) its exact algebraic reverse.
func heunCorrect[F Float](y, f0, f1, s0, s1 []F, h, c F) {
	f0, f1, s0, s1 = f0[:len(y)], f1[:len(y)], s0[:len(y)], s1[:len(y)]
	hh := h / 2
	for j := range y {
		y[j] = y[j] + hh*(f0[j]+f1[j]) + c*s0[j] + c*s1[j]
	}
}

// At returns the states at output time Ts[i] (batch×d), a view into Ys.
func (s *Solution[F]) At(i int) []F {
	bd := s.Batch * s.Dim
	return s.Ys[i*bd : (i+1)*bd]
}

func isInf(x float64) bool { return math.IsInf(x, 0) }

// firstNonFinite is the index of the first NaN or ±Inf in x, or −1. v−v is 0 for every
// finite v and NaN otherwise, so a sum of them is 0 exactly when all are finite: the
// common all-finite case costs a subtraction and an addition per value, in four
// independent sums, and only a non-finite x is searched for the index.
func firstNonFinite[F Float](x []F) int {
	var s0, s1, s2, s3 F
	j := 0
	for ; j+4 <= len(x); j += 4 {
		v := x[j : j+4 : j+4]
		s0 += v[0] - v[0]
		s1 += v[1] - v[1]
		s2 += v[2] - v[2]
		s3 += v[3] - v[3]
	}
	for ; j < len(x); j++ {
		s0 += x[j] - x[j]
	}
	if s0+s1+s2+s3 == 0 {
		return -1
	}
	for j, v := range x {
		if v-v != 0 {
			return j
		}
	}
	return -1
}

// StepGrid returns the step grid Solve and SolveCDE use for output times ts and largest
// step dt: each output interval [ts[i], ts[i+1]] is split into ⌈(ts[i+1]−ts[i])/dt⌉
// equal steps (with a relative tolerance of 1e-9). Engines that solve on other devices
// use it so that their steps, and the Brownian queries over them, are the Go engine's.
// ts must be strictly increasing (Solve checks it first).
func StepGrid(ts []float64, dt float64) (brownian.Grid, error) {
	if !(dt > 0) || math.IsInf(dt, 0) {
		return brownian.Grid{}, fmt.Errorf("solver: Dt = %v; it must be positive and finite", dt)
	}
	g := brownian.Grid{Ts: ts, Steps: make([]int, max(len(ts)-1, 0))}
	total := 0
	for i := range g.Steps {
		span := ts[i+1] - ts[i]
		r := span / dt
		if r > maxSteps {
			return brownian.Grid{}, fmt.Errorf("solver: Dt = %v makes more than %d steps in [%v, %v]; use a larger Dt", dt, maxSteps, ts[i], ts[i+1])
		}
		n := int(math.Ceil(r - 1e-9*r))
		if n < 1 {
			n = 1
		}
		scale := math.Max(math.Abs(ts[i]), math.Abs(ts[i+1]))
		if span/float64(n) <= 64*(math.Nextafter(scale, math.Inf(1))-scale) {
			return brownian.Grid{}, fmt.Errorf("solver: Dt = %v is too small for times near %v: the steps would not be representable; use a larger Dt", dt, scale)
		}
		g.Steps[i] = n
		total += n
		if total > maxSteps {
			return brownian.Grid{}, fmt.Errorf("solver: Dt = %v makes more than %d steps in all; use a larger Dt", dt, maxSteps)
		}
	}
	return g, nil
}
