package oracle

import (
	"math"
	"math/rand/v2"
	"testing"
)

// field is a small nonlinear, time-dependent field with a hand-written VJP:
//
//	f_i = Σ_j A_ij tanh(y_j) + b_i cos t,   g_ij = S_ij sin(y_{(i+j) mod d}) + c_ij,
//
// θ = [A (d×d), b (d), S (d×m), c (d×m)].
type field struct {
	d, m  int
	theta []float64
}

func newField(d, m int, seed uint64) *field {
	r := rand.New(rand.NewPCG(seed, 3))
	f := &field{d: d, m: m, theta: make([]float64, d*d+d+2*d*m)}
	for k := range f.theta {
		f.theta[k] = r.Float64() - 0.5
	}
	return f
}

func (f *field) Dim() int       { return f.d }
func (f *field) NoiseDim() int  { return f.m }
func (f *field) NumParams() int { return len(f.theta) }

func (f *field) parts() (A, b, S, c []float64) {
	d, dm, th := f.d, f.d*f.m, f.theta
	return th[:d*d], th[d*d : d*d+d], th[d*d+d : d*d+d+dm], th[d*d+d+dm:]
}

func (f *field) Eval(t float64, y []float64) ([]float64, [][]float64) {
	A, b, S, c := f.parts()
	fv, g := make([]float64, f.d), newMat(f.d, f.m)
	for i := range fv {
		for j := range y {
			fv[i] += A[i*f.d+j] * math.Tanh(y[j])
		}
		fv[i] += b[i] * math.Cos(t)
		for j := range g[i] {
			g[i][j] = S[i*f.m+j]*math.Sin(y[(i+j)%f.d]) + c[i*f.m+j]
		}
	}
	return fv, g
}

func (f *field) VJP(t float64, y, af []float64, ag [][]float64) ([]float64, []float64) {
	A, _, S, _ := f.parts()
	ay, at := make([]float64, f.d), make([]float64, len(f.theta))
	dA, db, dS, dc := at[:f.d*f.d], at[f.d*f.d:f.d*f.d+f.d], at[f.d*f.d+f.d:f.d*f.d+f.d+f.d*f.m], at[f.d*f.d+f.d+f.d*f.m:]
	for i := range af {
		for j := range y {
			th := math.Tanh(y[j])
			ay[j] += af[i] * A[i*f.d+j] * (1 - th*th)
			dA[i*f.d+j] += af[i] * th
		}
		db[i] += af[i] * math.Cos(t)
		for j := 0; j < f.m; j++ {
			k := (i + j) % f.d
			ay[k] += ag[i][j] * S[i*f.m+j] * math.Cos(y[k])
			dS[i*f.m+j] += ag[i][j] * math.Sin(y[k])
			dc[i*f.m+j] += ag[i][j]
		}
	}
	return ay, at
}

func normals(r *rand.Rand, n int, scale float64) []float64 {
	v := make([]float64, n)
	for k := range v {
		v[k] = scale * r.NormFloat64()
	}
	return v
}

// problem is a solve over irregular steps with outputs at some of the step points.
type problem struct {
	fld     *field
	y0, ts  []float64
	dW      [][]float64
	outputs []bool
	cot     [][]float64
}

func newProblem(seed uint64) *problem {
	r := rand.New(rand.NewPCG(seed, 4))
	p := &problem{fld: newField(3, 2, seed), y0: normals(r, 3, 1), ts: []float64{0, 0.3, 0.5, 0.9, 1, 1.4, 1.5}}
	p.outputs = []bool{true, false, true, true, false, false, true}
	for n := 1; n < len(p.ts); n++ {
		p.dW = append(p.dW, normals(r, 2, math.Sqrt(p.ts[n]-p.ts[n-1])))
	}
	for _, out := range p.outputs {
		var c []float64
		if out {
			c = normals(r, 3, 1)
		}
		p.cot = append(p.cot, c)
	}
	return p
}

// loss is Σ ⟨cot[n], y at step point n⟩ over the outputs.
func (p *problem) loss() float64 {
	xs := Solve(p.fld, p.y0, p.ts, p.dW)
	l := 0.0
	for n, c := range p.cot {
		for i, v := range c {
			l += v * xs[n].Y[i]
		}
	}
	return l
}

func (p *problem) gradient() Gradient {
	xs := Solve(p.fld, p.y0, p.ts, p.dW)
	ys := make([][]float64, len(xs))
	for n, x := range xs {
		if p.outputs[n] {
			ys[n] = x.Y
		}
	}
	return Backward(p.fld, p.ts, p.dW, xs[len(xs)-1], ys, p.cot)
}

// finiteDiff is the central difference of loss with respect to each entry of x.
func finiteDiff(x []float64, loss func() float64) []float64 {
	const eps = 1e-6
	g := make([]float64, len(x))
	for k := range x {
		v := x[k]
		x[k] = v + eps
		lp := loss()
		x[k] = v - eps
		lm := loss()
		x[k] = v
		g[k] = (lp - lm) / (2 * eps)
	}
	return g
}

func relErr(got, want []float64) float64 {
	var num, den float64
	for k := range want {
		num = math.Max(num, math.Abs(got[k]-want[k]))
		den = math.Max(den, math.Abs(want[k]))
	}
	return num / den
}

// The oracle's adjoint is the gradient of its own forward solve: held to finite
// differences in y₀, θ and every increment.
func TestBackwardMatchesFiniteDifferences(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		p := newProblem(seed)
		g := p.gradient()
		checks := []struct {
			name      string
			got, want []float64
		}{
			{"dL/dy0", g.Y0, finiteDiff(p.y0, p.loss)},
			{"dL/dθ", g.Theta, finiteDiff(p.fld.theta, p.loss)},
		}
		for n := range p.dW {
			checks = append(checks, struct {
				name      string
				got, want []float64
			}{"dL/dΔW", g.DW[n], finiteDiff(p.dW[n], p.loss)})
		}
		for _, c := range checks {
			if e := relErr(c.got, c.want); !(e < 1e-7) {
				t.Errorf("seed %d, %s: relative error %.3g vs finite differences\n got %v\nwant %v", seed, c.name, e, c.got, c.want)
			}
		}
		for n, e := range g.Recon {
			if !(e < 1e-13) {
				t.Errorf("seed %d: reconstruction error %.3g at step point %d", seed, e, n)
			}
		}
	}
}

// Inverse undoes Step: the state, f and g come back to rounding.
func TestInverseUndoesStep(t *testing.T) {
	p := newProblem(7)
	xs := Solve(p.fld, p.y0, p.ts, p.dW)
	for n := len(p.dW) - 1; n >= 0; n-- {
		back := Inverse(p.fld, xs[n+1], p.ts[n], p.ts[n+1]-p.ts[n], p.dW[n])
		want := xs[n]
		e := math.Max(maxAbsDiff(back.Y, want.Y), math.Max(maxAbsDiff(back.Z, want.Z), maxAbsDiff(back.F, want.F)))
		for i := range want.G {
			e = math.Max(e, maxAbsDiff(back.G[i], want.G[i]))
		}
		if !(e < 1e-14) {
			t.Errorf("step %d: Inverse(Step(x)) differs from x by %.3g", n, e)
		}
		if n > 0 && maxAbsDiff(want.Y, want.Z) < 1e-3 {
			t.Fatalf("step point %d: y and z coincide (%v, %v): the check would not see z's coefficient", n, want.Y, want.Z)
		}
	}
}
