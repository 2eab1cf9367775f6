package solver

import "unsafe"

// The per-path products below are the solver's own arithmetic between vector-field
// evaluations, and at batch 1024 they cost about as much as an evaluation: each is a
// pass of scalar multiply–adds over batch×d×m values. So they are written with the
// per-path slices hoisted and the common noise sizes (m = 1, 3) unrolled, and the
// steps fuse what they can into one pass (advance, prod, outerSet, outer2) instead of
// clearing and accumulating in several. Each path's values are computed by the same
// expressions, in the same order, as the formulas of docs/DESIGN.md ("Solvers") read
// left to right. For reversible Heun, internal/oracle states those formulas unfused
// (dense g, one path, float64), and TestReversibleHeunMatchesOracle holds every
// noise type and each unrolled m to it.

// advance sets dst = y + h·f + alpha·(g·dw) (batch×d) in one pass: an Euler-type
// update of y with drift f and diffusion g, the matrix–vector product per path or the
// elementwise product for diagonal noise. dst may be y.
func (p *problem[F]) advance(dst, y, f, g, dw []F, h, alpha F) {
	y, f = y[:len(dst)], f[:len(dst)]
	if p.diag {
		g, dw = g[:len(dst)], dw[:len(dst)]
		for j := range dst {
			dst[j] = y[j] + h*f[j] + alpha*g[j]*dw[j]
		}
		return
	}
	d, m := p.d, p.m
	switch m {
	case 1:
		advance1(dst, y, f, g, dw, h, alpha, d)
	case 3:
		advance3(dst, y, f, g, dw, h, alpha, d)
	default:
		for b := range len(dst) / d {
			out, yb, fb := dst[b*d:b*d+d], y[b*d:b*d+d], f[b*d:b*d+d]
			gb := g[b*d*m : (b+1)*d*m]
			w := dw[b*m : b*m+m]
			for i := range out {
				row := gb[i*m : i*m+m]
				var s F
				for j, v := range w {
					s += row[j] * v
				}
				out[i] = yb[i] + h*fb[i] + alpha*s
			}
		}
	}
}

func advance1[F Float](dst, y, f, g, dw []F, h, alpha F, d int) {
	g, dw = g[:len(dst)], dw[:len(dst)/d]
	for b, w := range dw {
		w0 := alpha * w
		out, yb, fb, gb := dst[b*d:b*d+d], y[b*d:b*d+d], f[b*d:b*d+d], g[b*d:b*d+d]
		for i := range out {
			out[i] = yb[i] + h*fb[i] + gb[i]*w0
		}
	}
}

func advance3[F Float](dst, y, f, g, dw []F, h, alpha F, d int) {
	n := len(dst) / d
	g, dw = g[:3*n*d], dw[:3*n]
	for b := range n {
		out, yb, fb := dst[b*d:b*d+d], y[b*d:b*d+d], f[b*d:b*d+d]
		gb := g[3*b*d : 3*(b+1)*d]
		w := dw[3*b : 3*b+3 : 3*b+3]
		w0, w1, w2 := alpha*w[0], alpha*w[1], alpha*w[2]
		for i := range out {
			r := gb[3*i : 3*i+3 : 3*i+3]
			out[i] = yb[i] + h*fb[i] + (r[0]*w0 + r[1]*w1 + r[2]*w2)
		}
	}
}

// prod sets s = g·dw (batch×d), to be combined with other terms by the caller when a
// step needs the same product twice.
func (p *problem[F]) prod(s, g, dw []F) {
	if p.diag {
		g, dw = g[:len(s)], dw[:len(s)]
		for j := range s {
			s[j] = g[j] * dw[j]
		}
		return
	}
	d, m := p.d, p.m
	switch m {
	case 1:
		g, dw = g[:len(s)], dw[:len(s)/d]
		for b, w := range dw {
			out, gb := s[b*d:b*d+d], g[b*d:b*d+d]
			for i := range out {
				out[i] = gb[i] * w
			}
		}
	case 3:
		prod3(s, g, dw, d)
	default:
		for b := range len(s) / d {
			out := s[b*d : b*d+d]
			gb := g[b*d*m : (b+1)*d*m]
			w := dw[b*m : b*m+m]
			for i := range out {
				row := gb[i*m : i*m+m]
				var v F
				for j, x := range w {
					v += row[j] * x
				}
				out[i] = v
			}
		}
	}
}

func prod3[F Float](s, g, dw []F, d int) {
	n := len(s) / d
	g, dw = g[:3*n*d], dw[:3*n]
	for b := range n {
		out := s[b*d : b*d+d]
		gb := g[3*b*d : 3*(b+1)*d]
		w := dw[3*b : 3*b+3 : 3*b+3]
		w0, w1, w2 := w[0], w[1], w[2]
		for i := range out {
			r := gb[3*i : 3*i+3 : 3*i+3]
			out[i] = r[0]*w0 + r[1]*w1 + r[2]*w2
		}
	}
}

// outerSet sets ag = alpha·a⊗dw (alpha·a⊙dw for diagonal noise): the cotangent of g
// induced by a cotangent a of g·dw, written over ag (no separate pass to clear it).
func (p *problem[F]) outerSet(ag, a, dw []F, alpha F) {
	if p.diag {
		ag, dw = ag[:len(a)], dw[:len(a)]
		for j := range a {
			ag[j] = alpha * a[j] * dw[j]
		}
		return
	}
	d, m := p.d, p.m
	n := len(a) / d
	ag, dw = ag[:n*d*m], dw[:n*m]
	for b := range n {
		ab := a[b*d : b*d+d]
		gb := ag[b*d*m : (b+1)*d*m]
		w := dw[b*m : b*m+m]
		if m == 3 {
			w0, w1, w2 := alpha*w[0], alpha*w[1], alpha*w[2]
			for i, v := range ab {
				r := gb[3*i : 3*i+3 : 3*i+3]
				r[0] = v * w0
				r[1] = v * w1
				r[2] = v * w2
			}
			continue
		}
		for i, v := range ab {
			c := alpha * v
			row := gb[i*m : i*m+m]
			for j, x := range w {
				row[j] = c * x
			}
		}
	}
}

// outer2 sets ag = a⊗da + c⊗dc (a⊙da + c⊙dc for diagonal noise): two outer products
// with different increments, in one pass.
func (p *problem[F]) outer2(ag, a, da, c, dc []F) {
	if p.diag {
		ag, da, c, dc = ag[:len(a)], da[:len(a)], c[:len(a)], dc[:len(a)]
		for j := range a {
			ag[j] = a[j]*da[j] + c[j]*dc[j]
		}
		return
	}
	d, m := p.d, p.m
	n := len(a) / d
	ag, c = ag[:n*d*m], c[:n*d]
	for b := range n {
		ab, cb := a[b*d:b*d+d], c[b*d:b*d+d]
		gb := ag[b*d*m : (b+1)*d*m]
		u, v := da[b*m:b*m+m], dc[b*m:b*m+m]
		if m == 3 {
			u0, u1, u2 := u[0], u[1], u[2]
			v0, v1, v2 := v[0], v[1], v[2]
			cb = cb[:len(ab)]
			for i, x := range ab {
				y := cb[i]
				r := gb[3*i : 3*i+3 : 3*i+3]
				r[0] = x*u0 + y*v0
				r[1] = x*u1 + y*v1
				r[2] = x*u2 + y*v2
			}
			continue
		}
		for i, x := range ab {
			y := cb[i]
			row := gb[i*m : i*m+m]
			for j := range row {
				row[j] = x*u[j] + y*v[j]
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
	for b := range len(a) / d {
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
