package oracle

// Batched is a batched vector field in the solver's layout: the method set of
// solver.Differentiable[float64], declared here rather than imported so that package
// solver's own tests can use this package. Eval writes f (batch×d) and g (batch×d for
// diagonal noise, batch×d×m row-major otherwise); VJP adds into ay and atheta.
type Batched interface {
	Dim() int
	NoiseDim() int
	NumParams() int
	Eval(t float64, y, f, g []float64)
	VJP(t float64, y, af, ag, ay, atheta []float64)
}

// Path is one path (batch 1) of b as a Field. With diagonal, b's g is the diagonal
// of the d×d matrix the oracle sees, and VJP passes b only the diagonal of the matrix
// cotangent: the other entries are constant zeros.
func Path(b Batched, diagonal bool) Field { return path{b, diagonal} }

type path struct {
	b        Batched
	diagonal bool
}

func (p path) Dim() int       { return p.b.Dim() }
func (p path) NoiseDim() int  { return p.b.NoiseDim() }
func (p path) NumParams() int { return p.b.NumParams() }

func (p path) glen() int {
	if p.diagonal {
		return p.b.Dim()
	}
	return p.b.Dim() * p.b.NoiseDim()
}

func (p path) Eval(t float64, y []float64) ([]float64, [][]float64) {
	d, m := p.b.Dim(), p.b.NoiseDim()
	f, flat := make([]float64, d), make([]float64, p.glen())
	p.b.Eval(t, y, f, flat)
	g := newMat(d, m)
	for i := range g {
		if p.diagonal {
			g[i][i] = flat[i]
			continue
		}
		copy(g[i], flat[i*m:(i+1)*m])
	}
	return f, g
}

func (p path) VJP(t float64, y, af []float64, ag [][]float64) ([]float64, []float64) {
	m := p.b.NoiseDim()
	flat := make([]float64, p.glen())
	for i, row := range ag {
		if p.diagonal {
			flat[i] = row[i]
			continue
		}
		copy(flat[i*m:(i+1)*m], row)
	}
	ay, at := make([]float64, p.b.Dim()), make([]float64, p.b.NumParams())
	p.b.VJP(t, y, af, flat, ay, at)
	return ay, at
}

// Batch is the result of Run, in the solver's layouts.
type Batch struct {
	// Ys holds the outputs (len(outputs)×batch×d), Y0 dL/dy₀ (batch×d), Theta dL/dθ
	// summed over the batch.
	Ys, Y0, Theta []float64
	// DW[n] is the cotangent of step n's increments (batch×m).
	DW [][]float64
}

// Run solves and differentiates a batch path by path: steps are the step points
// ts[0] < … < ts[N], out[n] the output index of step point n or −1 where it is not an
// output (out[0] = 0 and out[N] the last), dw[n] step n's increments (batch×m), and
// gradYs the outputs' cotangents (outputs×batch×d), y0 batch×d.
func Run(fld Field, y0, steps []float64, out []int, dw [][]float64, gradYs []float64) Batch {
	d, m := fld.Dim(), fld.NoiseDim()
	batch := len(y0) / d
	outputs := 0
	for _, i := range out {
		outputs = max(outputs, i+1)
	}
	r := Batch{Ys: make([]float64, outputs*batch*d), Y0: make([]float64, batch*d), Theta: make([]float64, fld.NumParams()), DW: make([][]float64, len(dw))}
	for n := range r.DW {
		r.DW[n] = make([]float64, batch*m)
	}
	for p := range batch {
		pdw := make([][]float64, len(dw))
		for n := range dw {
			pdw[n] = dw[n][p*m : (p+1)*m]
		}
		xs := Solve(fld, y0[p*d:(p+1)*d], steps, pdw)
		ys, cot := make([][]float64, len(xs)), make([][]float64, len(xs))
		for n, i := range out {
			if i < 0 {
				continue
			}
			ys[n] = xs[n].Y
			cot[n] = gradYs[(i*batch+p)*d : (i*batch+p+1)*d]
			copy(r.Ys[(i*batch+p)*d:], xs[n].Y)
		}
		g := Backward(fld, steps, pdw, xs[len(xs)-1], ys, cot)
		copy(r.Y0[p*d:], g.Y0)
		for k, v := range g.Theta {
			r.Theta[k] += v
		}
		for n, v := range g.DW {
			copy(r.DW[n][p*m:], v)
		}
	}
	return r
}
