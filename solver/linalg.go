package solver

import "unsafe"

// axpy: y += a·x.
func axpy[F Float](y []F, a F, x []F) {
	x = x[:len(y)]
	for j := range y {
		y[j] += a * x[j]
	}
}

// The per-path products below are the solver's own arithmetic between vector-field
// evaluations. They are written with the per-path slices hoisted and the common noise
// sizes (m = 1, 3) unrolled, because a general triple loop with a slice expression per
// row costs more than the MLP evaluation it sits between.

// gdw adds alpha·(g·dw) to dst (batch×d): the matrix–vector product per path, or the
// elementwise product for diagonal noise.
func (p *problem[F]) gdw(dst, g, dw []F, alpha F) {
	if p.diag {
		g, dw = g[:len(dst)], dw[:len(dst)]
		for j := range dst {
			dst[j] += alpha * g[j] * dw[j]
		}
		return
	}
	d, m := p.d, p.m
	for b := 0; b < p.batch; b++ {
		out := dst[b*d : b*d+d]
		gb := g[b*d*m : (b+1)*d*m]
		switch m {
		case 1:
			w0 := alpha * dw[b]
			gb = gb[:len(out)]
			for i := range out {
				out[i] += gb[i] * w0
			}
		case 3:
			w := dw[3*b : 3*b+3 : 3*b+3]
			w0, w1, w2 := alpha*w[0], alpha*w[1], alpha*w[2]
			for i := range out {
				r := gb[3*i : 3*i+3 : 3*i+3]
				out[i] += r[0]*w0 + r[1]*w1 + r[2]*w2
			}
		default:
			w := dw[b*m : b*m+m]
			for i := range out {
				row := gb[i*m : i*m+m]
				var s F
				for j, v := range w {
					s += row[j] * v
				}
				out[i] += alpha * s
			}
		}
	}
}

// outer adds alpha·a⊗dw to ag (alpha·a⊙dw for diagonal noise): the cotangent of g
// induced by a cotangent a of g·dw.
func (p *problem[F]) outer(ag, a, dw []F, alpha F) {
	if p.diag {
		ag, dw = ag[:len(a)], dw[:len(a)]
		for j := range a {
			ag[j] += alpha * a[j] * dw[j]
		}
		return
	}
	d, m := p.d, p.m
	for b := 0; b < p.batch; b++ {
		ab := a[b*d : b*d+d]
		gb := ag[b*d*m : (b+1)*d*m]
		switch m {
		case 1:
			w0 := alpha * dw[b]
			gb = gb[:len(ab)]
			for i, v := range ab {
				gb[i] += v * w0
			}
		case 3:
			w := dw[3*b : 3*b+3 : 3*b+3]
			w0, w1, w2 := alpha*w[0], alpha*w[1], alpha*w[2]
			for i, v := range ab {
				r := gb[3*i : 3*i+3 : 3*i+3]
				r[0] += v * w0
				r[1] += v * w1
				r[2] += v * w2
			}
		default:
			w := dw[b*m : b*m+m]
			for i, v := range ab {
				c := alpha * v
				row := gb[i*m : i*m+m]
				for j, x := range w {
					row[j] += c * x
				}
			}
		}
	}
}

// gT adds alpha·gᵀa to adw (batch×m): the cotangent of dw induced by a cotangent a of
// g·dw.
func (p *problem[F]) gT(adw, g, a []F, alpha F) {
	if p.diag {
		g, adw = g[:len(a)], adw[:len(a)]
		for j := range a {
			adw[j] += alpha * g[j] * a[j]
		}
		return
	}
	d, m := p.d, p.m
	for b := 0; b < p.batch; b++ {
		w := adw[b*m : b*m+m]
		ab := a[b*d : b*d+d]
		gb := g[b*d*m : (b+1)*d*m]
		for i, v := range ab {
			c := alpha * v
			row := gb[i*m : i*m+m]
			for j, x := range row {
				w[j] += c * x
			}
		}
	}
}

// paramAcc accumulates the parameter cotangent. VJP adds into buf; for float32 the
// per-call contributions are moved into a float64 sum after every call, so that long
// solves do not lose the small late contributions to rounding.
type paramAcc[F Float] struct {
	buf  []F
	wide []float64 // nil for float64
}

func newParamAcc[F Float](n int) *paramAcc[F] {
	a := &paramAcc[F]{buf: make([]F, n)}
	var zero F
	if unsafe.Sizeof(zero) < 8 {
		a.wide = make([]float64, n)
	}
	return a
}

func (a *paramAcc[F]) flush() {
	if a.wide == nil {
		return
	}
	for j, v := range a.buf {
		a.wide[j] += float64(v)
		a.buf[j] = 0
	}
}

func (a *paramAcc[F]) result() []F {
	if a.wide == nil {
		return a.buf
	}
	a.flush()
	for j, v := range a.wide {
		a.buf[j] = F(v)
	}
	return a.buf
}
