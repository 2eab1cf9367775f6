// Package oracle is the reversible Heun method, its algebraic inverse and its
// algebraic adjoint written as plainly as docs/DESIGN.md states them ("Reversible
// Heun", "The reversible adjoint"): one path, float64, a dense d×m diffusion matrix,
// one statement per equation, nothing fused and no buffer reused. It is slow on
// purpose and used only by tests: it is the reference that every fused or specialised
// variant is held to — the solver's forward and backward loops (solver/solve.go,
// solver/backward.go, solver/linalg.go, for each noise type and the unrolled m = 1
// and m = 3 products) and the GPU kernels' per-path code (kernels/revheun.cuh).
//
// Every noise type is a General one here: diagonal noise is the d×d matrix with g on
// its diagonal, scalar noise a d×1 matrix. A test adapts its field to Field (see
// Field's documentation).
package oracle

// Field is the vector field of one path: the drift f(t, y) ∈ ℝᵈ and the diffusion
// g(t, y) ∈ ℝᵈˣᵐ, g[i][j] acting on channel j of the increment, with its
// vector–Jacobian product.
type Field interface {
	Dim() int      // d
	NoiseDim() int // m
	NumParams() int
	// Eval returns f(t, y) and g(t, y) (d rows of m), newly allocated.
	Eval(t float64, y []float64) (f []float64, g [][]float64)
	// VJP returns a_f·∂f/∂y + a_g·∂g/∂y at (t, y) and its parameter part
	// a_f·∂f/∂θ + a_g·∂g/∂θ, newly allocated.
	VJP(t float64, y, af []float64, ag [][]float64) (ay, atheta []float64)
}

// State is what reversible Heun carries from step to step: (y, z, f, g), with
// (f, g) = (f, g)(t, z).
type State struct {
	Y, Z, F []float64
	G       [][]float64
}

// Start is the state at t₀: z₀ = y₀, (f₀, g₀) = (f, g)(t₀, y₀).
func Start(fld Field, t0 float64, y0 []float64) State {
	f0, g0 := fld.Eval(t0, y0)
	return State{Y: clone(y0), Z: clone(y0), F: f0, G: g0}
}

// Step is one step of reversible Heun from t₀ to t₁ = t₀ + h over the increment ΔW:
//
//	z₁ = 2y₀ − z₀ + f₀h + g₀ΔW
//	(f₁, g₁) = (f, g)(t₁, z₁)
//	y₁ = y₀ + ½(f₀ + f₁)h + ½(g₀ + g₁)ΔW
func Step(fld Field, x0 State, t1, h float64, dW []float64) State {
	d := len(x0.Y)
	g0dW := matVec(x0.G, dW)
	z1 := make([]float64, d)
	for i := range z1 {
		z1[i] = 2*x0.Y[i] - x0.Z[i] + x0.F[i]*h + g0dW[i]
	}
	f1, g1 := fld.Eval(t1, z1)
	g1dW := matVec(g1, dW)
	y1 := make([]float64, d)
	for i := range y1 {
		y1[i] = x0.Y[i] + 0.5*(x0.F[i]+f1[i])*h + 0.5*(g0dW[i]+g1dW[i])
	}
	return State{Y: y1, Z: z1, F: f1, G: g1}
}

// Inverse is Step's algebraic inverse, from t₁ back to t₀ = t₁ − h over the same ΔW:
//
//	z₀ = 2y₁ − z₁ − f₁h − g₁ΔW
//	(f₀, g₀) = (f, g)(t₀, z₀)
//	y₀ = y₁ − ½(f₀ + f₁)h − ½(g₀ + g₁)ΔW
func Inverse(fld Field, x1 State, t0, h float64, dW []float64) State {
	d := len(x1.Y)
	g1dW := matVec(x1.G, dW)
	z0 := make([]float64, d)
	for i := range z0 {
		z0[i] = 2*x1.Y[i] - x1.Z[i] - x1.F[i]*h - g1dW[i]
	}
	f0, g0 := fld.Eval(t0, z0)
	g0dW := matVec(g0, dW)
	y0 := make([]float64, d)
	for i := range y0 {
		y0[i] = x1.Y[i] - 0.5*(f0[i]+x1.F[i])*h - 0.5*(g0dW[i]+g1dW[i])
	}
	return State{Y: y0, Z: z0, F: f0, G: g0}
}

// Cotangents are the cotangents (a_y, a_z, a_f, a_g) of a State, and a_θ, the
// parameters' cotangent summed so far.
type Cotangents struct {
	Y, Z, F []float64
	G       [][]float64
	Theta   []float64
}

// AdjointStep carries the cotangents a of the state x₁ at t₁ back to the state x₀ at
// t₀ = t₁ − h (x₀ = Inverse(x₁), or the known start), and returns them with the
// cotangent a_ΔW of the step's increment:
//
//	ã_f = a_f + ½h·a_y          ã_g = a_g + ½a_y ⊗ ΔW
//	ã_z = a_z + VJP(t₁, z₁)(ã_f, ã_g)          a_θ += VJP_θ(t₁, z₁)(ã_f, ã_g)
//	a_ΔW = ½(g₀ + g₁)ᵀa_y + g₀ᵀã_z
//	a_f ← ½h·a_y + h·ã_z     a_g ← (½a_y + ã_z) ⊗ ΔW     a_y ← a_y + 2ã_z     a_z ← −ã_z
//
// (every right-hand side uses a_y at t₁). It is the chain rule through Step: y₁
// depends on (f₁, g₁) with weights ½h and ½ΔW, z₁ on (y₀, z₀, f₀, g₀) with weights
// (2, −1, h, ΔW) and y₁ on (y₀, f₀, g₀) with weights (1, ½h, ½ΔW).
func AdjointStep(fld Field, t1, h float64, dW []float64, x0, x1 State, a Cotangents) (Cotangents, []float64) {
	d, m := len(x1.Y), len(dW)
	tf := make([]float64, d)
	for i := range tf {
		tf[i] = a.F[i] + 0.5*h*a.Y[i]
	}
	tg := newMat(d, m)
	for i := range tg {
		for j := range tg[i] {
			tg[i][j] = a.G[i][j] + 0.5*a.Y[i]*dW[j]
		}
	}
	vy, vth := fld.VJP(t1, x1.Z, tf, tg)
	tz := make([]float64, d)
	for i := range tz {
		tz[i] = a.Z[i] + vy[i]
	}
	adw := make([]float64, m)
	for j := range adw {
		for i := 0; i < d; i++ {
			adw[j] += 0.5*(x0.G[i][j]+x1.G[i][j])*a.Y[i] + x0.G[i][j]*tz[i]
		}
	}
	b := Cotangents{Y: make([]float64, d), Z: make([]float64, d), F: make([]float64, d), G: newMat(d, m), Theta: clone(a.Theta)}
	for i := 0; i < d; i++ {
		b.F[i] = 0.5*h*a.Y[i] + h*tz[i]
		for j := 0; j < m; j++ {
			b.G[i][j] = (0.5*a.Y[i] + tz[i]) * dW[j]
		}
		b.Y[i] = a.Y[i] + 2*tz[i]
		b.Z[i] = -tz[i]
	}
	for k, v := range vth {
		b.Theta[k] += v
	}
	return b, adw
}

// Finish returns dL/dy₀ and the final a_θ from the cotangents a at t₀, where z₀ = y₀
// and (f₀, g₀) = (f, g)(t₀, y₀):
//
//	dL/dy₀ = a_y + a_z + VJP(t₀, y₀)(a_f, a_g),   a_θ += VJP_θ(t₀, y₀)(a_f, a_g)
func Finish(fld Field, t0 float64, y0 []float64, a Cotangents) (ay0, atheta []float64) {
	vy, vth := fld.VJP(t0, y0, a.F, a.G)
	ay0 = make([]float64, len(y0))
	for i := range ay0 {
		ay0[i] = a.Y[i] + a.Z[i] + vy[i]
	}
	atheta = clone(a.Theta)
	for k, v := range vth {
		atheta[k] += v
	}
	return ay0, atheta
}

// Solve runs Step over the step points ts[0] < … < ts[N] from y₀, with dW[n] the
// increment of step n (over [ts[n], ts[n+1]]), and returns the state at every step
// point: N + 1 evaluations.
func Solve(fld Field, y0, ts []float64, dW [][]float64) []State {
	xs := []State{Start(fld, ts[0], y0)}
	for n := range dW {
		xs = append(xs, Step(fld, xs[n], ts[n+1], ts[n+1]-ts[n], dW[n]))
	}
	return xs
}

// Gradient is the result of Backward.
type Gradient struct {
	Y0, Theta []float64
	// DW[n] is the cotangent of step n's increment.
	DW [][]float64
	// Recon[n] is max_i |y reconstructed at step point n − ys[n]| where ys[n] is set.
	Recon []float64
}

// Backward is the reversible adjoint of Solve (docs/DESIGN.md, "The reversible
// adjoint"), run backwards from xN, the state Solve reached at ts[N]. ys[n] and cot[n]
// are the stored output at step point n and its cotangent, or nil where step point n
// is not an output time; ts[N] and ts[0] must be outputs. At an output time the
// reconstructed y is compared with the stored output and reset to it, and the
// output's cotangent is added to a_y. On the first step z₀ = y₀ is known, so the
// adjoint step uses the exact start state rather than the reconstruction.
func Backward(fld Field, ts []float64, dW [][]float64, xN State, ys, cot [][]float64) Gradient {
	N := len(dW)
	d, m := fld.Dim(), fld.NoiseDim()
	a := Cotangents{Y: clone(cot[N]), Z: make([]float64, d), F: make([]float64, d), G: newMat(d, m), Theta: make([]float64, fld.NumParams())}
	r := Gradient{DW: make([][]float64, N), Recon: make([]float64, N+1)}
	x1 := xN
	for n := N - 1; n >= 0; n-- {
		h := ts[n+1] - ts[n]
		x0 := Inverse(fld, x1, ts[n], h, dW[n])
		if ys[n] != nil {
			r.Recon[n] = maxAbsDiff(x0.Y, ys[n])
			x0.Y = clone(ys[n])
		}
		if n == 0 {
			x0 = Start(fld, ts[0], ys[0])
		}
		a, r.DW[n] = AdjointStep(fld, ts[n+1], h, dW[n], x0, x1, a)
		if cot[n] != nil {
			for i := range a.Y {
				a.Y[i] += cot[n][i]
			}
		}
		x1 = x0
	}
	r.Y0, r.Theta = Finish(fld, ts[0], ys[0], a)
	return r
}

func matVec(g [][]float64, w []float64) []float64 {
	s := make([]float64, len(g))
	for i, row := range g {
		for j, v := range row {
			s[i] += v * w[j]
		}
	}
	return s
}

func newMat(d, m int) [][]float64 {
	g := make([][]float64, d)
	for i := range g {
		g[i] = make([]float64, m)
	}
	return g
}

func clone(x []float64) []float64 { return append([]float64(nil), x...) }

func maxAbsDiff(x, y []float64) float64 {
	e := 0.0
	for i := range x {
		if v := x[i] - y[i]; v > e {
			e = v
		} else if -v > e {
			e = -v
		}
	}
	return e
}
