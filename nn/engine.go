package nn

import (
	"fmt"
	"unsafe"
)

// lplan is one layer in kernel layout.
type lplan struct {
	src           Layer
	in, out       int // in excludes the folded constant inputs (layer 0)
	c0            int // number of folded constant inputs (layer 0 only)
	inPad, outPad int // rounded up to multiples of 4
	npairs        int // input rows + a ones row (bias), rounded up to even, halved
	act           Activation
	wf, wb, b     int // offsets in Packed.buf: forward tiles, transposed tiles, bias
	g             int // offset in Grad.data
}

func roundUp(n, k int) int { return (n + k - 1) / k * k }

func makePlan(m *MLP, nconst int) (plan []lplan, packed, grad int) {
	for l, src := range m.layers {
		p := lplan{src: src, in: src.In, out: src.Out, act: src.Act}
		if l == 0 {
			p.c0 = nconst
			p.in -= nconst
		}
		p.inPad, p.outPad = roundUp(p.in, 4), roundUp(p.out, 4)
		p.npairs = (p.in + 2) / 2
		p.wf = packed
		packed += p.outPad * p.in
		p.wb = packed
		packed += p.inPad * p.out
		p.b = packed
		packed += p.outPad
		p.g = grad
		grad += p.outPad / 4 * p.npairs * 8
		plan = append(plan, p)
	}
	return plan, packed, grad
}

// Packed is an MLP's parameters in kernel layout, ready for Forward and Backward. The
// first NConst inputs of the MLP are constants shared by every path (such as the time t
// of a vector field f(t, y)); they are folded into the first layer's bias by Load, and
// the engine's inputs are the remaining In−NConst features.
//
// Load once per change of parameters or constants; a Packed is then read-only and may be
// shared by concurrent Forward/Backward calls on different workspaces.
type Packed[F Float] struct {
	m      *MLP
	nconst int
	plan   []lplan
	buf    []F
	consts []F
	gsize  int
	b0, wc []F // layer 0: unfolded bias (outPad) and constant columns (out×nconst)
}

// NewPacked returns an empty Packed for m with nconst constant leading inputs.
func NewPacked[F Float](m *MLP, nconst int) (*Packed[F], error) {
	if nconst < 0 || nconst > m.cfg.In {
		return nil, fmt.Errorf("nn: %d constant inputs for an MLP with %d inputs", nconst, m.cfg.In)
	}
	plan, np, ng := makePlan(m, nconst)
	return &Packed[F]{m: m, nconst: nconst, plan: plan, buf: make([]F, np), consts: make([]F, nconst), gsize: ng,
		b0: make([]F, plan[0].outPad), wc: make([]F, plan[0].out*nconst)}, nil
}

// MLP returns the shape.
func (p *Packed[F]) MLP() *MLP { return p.m }

// NConst is the number of constant leading inputs.
func (p *Packed[F]) NConst() int { return p.nconst }

// Inputs is the number of per-path inputs (In − NConst), the rows of the engine's input.
func (p *Packed[F]) Inputs() int { return p.plan[0].in }

// InputCotangentRows is the number of rows Backward writes into its input cotangent:
// Inputs rounded up to a multiple of 4 (rows past Inputs receive zeros).
func (p *Packed[F]) InputCotangentRows() int { return p.plan[0].inPad }

// Load packs params (this MLP's flat parameter vector) and the constant inputs consts
// (length NConst).
func (p *Packed[F]) Load(params, consts []F) {
	if len(params) != p.m.n {
		panic(fmt.Sprintf("nn: Packed.Load: %d parameters, want %d", len(params), p.m.n))
	}
	if len(consts) != p.nconst {
		panic(fmt.Sprintf("nn: Packed.Load: %d constants, want %d", len(consts), p.nconst))
	}
	for _, l := range p.plan {
		W := params[l.src.W:l.src.B]
		b := params[l.src.B : l.src.B+l.out]
		ld := l.src.In
		wf := p.buf[l.wf : l.wf+l.outPad*l.in]
		for rt := 0; rt < l.outPad/4; rt++ {
			for k := 0; k < l.in; k++ {
				for i := 0; i < 4; i++ {
					var v F
					if j := rt*4 + i; j < l.out {
						v = W[j*ld+l.c0+k]
					}
					wf[(rt*l.in+k)*4+i] = v
				}
			}
		}
		wb := p.buf[l.wb : l.wb+l.inPad*l.out]
		for it := 0; it < l.inPad/4; it++ {
			for j := 0; j < l.out; j++ {
				for i := 0; i < 4; i++ {
					var v F
					if k := it*4 + i; k < l.in {
						v = W[j*ld+l.c0+k]
					}
					wb[(it*l.out+j)*4+i] = v
				}
			}
		}
		bb := p.buf[l.b : l.b+l.outPad]
		copy(bb, b)
		if l.c0 > 0 {
			copy(p.b0, b)
			for j := 0; j < l.out; j++ {
				copy(p.wc[j*l.c0:(j+1)*l.c0], W[j*ld:j*ld+l.c0])
			}
		}
	}
	p.SetConsts(consts)
}

// SetConsts changes the constant inputs (length NConst) without repacking the weights:
// only the first layer's folded bias is recomputed.
func (p *Packed[F]) SetConsts(consts []F) {
	if len(consts) != p.nconst {
		panic(fmt.Sprintf("nn: Packed.SetConsts: %d constants, want %d", len(consts), p.nconst))
	}
	copy(p.consts, consts)
	if p.nconst == 0 {
		return
	}
	l := &p.plan[0]
	bb := p.buf[l.b : l.b+l.out]
	for j := range bb {
		v := p.b0[j]
		for c, w := range p.wc[j*l.c0 : (j+1)*l.c0] {
			v += consts[c] * w
		}
		bb[j] = v
	}
}

// AddGrad adds the parameter cotangent accumulated in g into grad, this MLP's flat
// gradient vector (same layout as the parameters). The cotangent of the weights of the
// constant inputs uses the constants of the last Load.
func (p *Packed[F]) AddGrad(grad []F, g *Grad[F]) {
	if len(grad) != p.m.n {
		panic(fmt.Sprintf("nn: Packed.AddGrad: %d parameters, want %d", len(grad), p.m.n))
	}
	if len(g.data) != p.gsize {
		panic("nn: Packed.AddGrad: Grad of another shape")
	}
	for _, l := range p.plan {
		G := g.data[l.g:]
		ld := l.src.In
		for j := 0; j < l.out; j++ {
			base := (j / 4) * l.npairs * 8
			r := (j % 4) * 2
			row := grad[l.src.W+j*ld : l.src.W+(j+1)*ld]
			for k := 0; k < l.in; k++ {
				row[l.c0+k] += G[base+(k/2)*8+r+k%2]
			}
			db := G[base+(l.in/2)*8+r+l.in%2]
			grad[l.src.B+j] += db
			for c := 0; c < l.c0; c++ {
				row[c] += p.consts[c] * db
			}
		}
	}
}

// Grad accumulates a parameter cotangent in kernel layout (see Packed.AddGrad).
type Grad[F Float] struct {
	data []F
}

// NewGrad returns a zero accumulator for p's shape.
func NewGrad[F Float](p *Packed[F]) *Grad[F] { return &Grad[F]{data: make([]F, p.gsize)} }

// Zero clears the accumulator.
func (g *Grad[F]) Zero() { clear(g.data) }

// Add adds o into g.
func (g *Grad[F]) Add(o *Grad[F]) {
	if len(o.data) != len(g.data) {
		panic("nn: Grad.Add: different shapes")
	}
	addTo(g.data, o.data)
}

// Workspace holds the activations of one block of at most Cap paths, in feature-major
// layout (row stride Stride), between a Forward and the Backward that reuses them. One
// workspace serves one MLP (with a given number of constant inputs); it is not safe for
// concurrent use.
type Workspace[F Float] struct {
	m        *MLP
	nconst   int
	plan     []lplan
	cap, s   int
	buf      []F
	h, d, gc []int // per layer: outputs, derivatives (−1 for Identity), cotangents
	ones     int
	zero     int
	xr       [][]F
	xp       []uintptr
	n        int // paths of the last Forward, −1 before the first
}

// NewWorkspace returns a workspace for blocks of up to maxPaths paths.
func NewWorkspace[F Float](m *MLP, nconst, maxPaths int) *Workspace[F] {
	if maxPaths < 1 {
		panic("nn: NewWorkspace: maxPaths < 1")
	}
	plan, _, _ := makePlan(m, nconst)
	ws := &Workspace[F]{m: m, nconst: nconst, plan: plan, cap: maxPaths, s: strideFor(maxPaths), n: -1}
	off, maxPairs := 0, 0
	for _, l := range plan {
		ws.h = append(ws.h, off)
		off += l.outPad * ws.s
		if l.act == Identity {
			ws.d = append(ws.d, -1)
		} else {
			ws.d = append(ws.d, off)
			off += l.outPad * ws.s
		}
		ws.gc = append(ws.gc, off)
		off += l.outPad * ws.s
		maxPairs = max(maxPairs, l.npairs)
	}
	ws.ones, ws.zero = off, off+ws.s
	off += 2 * ws.s
	ws.buf = make([]F, off)
	for i := range ws.s {
		ws.buf[ws.ones+i] = 1
	}
	ws.xr = make([][]F, 2*maxPairs)
	ws.xp = make([]uintptr, 2*maxPairs)
	return ws
}

// Cap is the largest number of paths per block.
func (ws *Workspace[F]) Cap() int { return ws.cap }

// Stride is the row stride of the workspace's feature-major buffers: Cap rounded up to
// a multiple of 16. Input buffers passed to Forward need at least roundUp(n, 16) lanes
// per row.
func (ws *Workspace[F]) Stride() int { return ws.s }

// Output returns the last layer's outputs of the last Forward: row j (output j) holds
// the paths at out[j*stride : j*stride+n].
func (ws *Workspace[F]) Output() (out []F, stride int) {
	l := len(ws.plan) - 1
	return ws.buf[ws.h[l] : ws.h[l]+ws.plan[l].out*ws.s], ws.s
}

// OutputCotangent returns the buffer into which the caller writes the cotangent of the
// outputs before Backward, same layout as Output. Lanes from n on are ignored.
func (ws *Workspace[F]) OutputCotangent() (cot []F, stride int) {
	l := len(ws.plan) - 1
	return ws.buf[ws.gc[l] : ws.gc[l]+ws.plan[l].out*ws.s], ws.s
}

func (ws *Workspace[F]) check(p *Packed[F], x []F, xs, n int) {
	if p.m != ws.m || p.nconst != ws.nconst {
		panic("nn: Packed and Workspace of different MLPs")
	}
	if n < 1 || n > ws.cap {
		panic(fmt.Sprintf("nn: %d paths for a workspace of %d", n, ws.cap))
	}
	if in := ws.plan[0].in; in > 0 {
		n16 := roundUp(n, 16)
		if xs < n16 || len(x) < (in-1)*xs+n16 {
			panic(fmt.Sprintf("nn: input buffer of %d with stride %d too small for %d rows of %d paths", len(x), xs, in, n16))
		}
	}
}

// Forward evaluates the MLP on n paths (1 ≤ n ≤ Cap) whose per-path inputs are the
// rows of x (feature-major, row i at x[i*xs:], Inputs() rows), keeping every layer's
// activations and derivatives in ws. x needs roundUp(n,16) lanes per row; lanes from n
// on are set to zero. The outputs are in ws.Output().
func Forward[F Float](p *Packed[F], ws *Workspace[F], x []F, xs, n int) {
	ws.check(p, x, xs, n)
	n16 := roundUp(n, 16)
	plan := p.plan
	if n16 > n {
		for i := 0; i < plan[0].in; i++ {
			clear(x[i*xs+n : i*xs+n16])
		}
	}
	s := ws.s
	in, is := x, xs
	for l := range plan {
		lp := &plan[l]
		out := ws.buf[ws.h[l]:]
		gemm(p.buf[lp.wf:], p.buf[lp.b:], in, is, lp.in, out, s, nil, 0, lp.outPad/4, n16/16, gemmBias)
		var d []F
		if ws.d[l] >= 0 {
			d = ws.buf[ws.d[l]:]
		}
		if lp.act != Identity {
			if (s-n16)*8 <= s { // few padding lanes: one call over the whole rows
				var dd []F
				if d != nil {
					dd = d[:lp.outPad*s]
				}
				applyAct(lp.act, out[:lp.outPad*s], dd)
			} else {
				for r := 0; r < lp.outPad; r++ {
					var dd []F
					if d != nil {
						dd = d[r*s : r*s+n16]
					}
					applyAct(lp.act, out[r*s:r*s+n16], dd)
				}
			}
		}
		in, is = out, s
	}
	ws.n = n
}

// Backward propagates the output cotangent (written into ws.OutputCotangent()) back
// through the activations of the last Forward, which must have been on the same x and n:
// it adds the parameter cotangent, summed over the n paths, into g, and, when ax is not
// nil, writes (accumulate false) or adds (accumulate true) the cotangent of the per-path
// inputs into ax (feature-major, stride axs, InputCotangentRows() rows of
// roundUp(n,16) lanes; lanes past n receive zeros or are left unchanged plus zero).
func Backward[F Float](p *Packed[F], ws *Workspace[F], x []F, xs, n int, g *Grad[F], ax []F, axs int, accumulate bool) {
	ws.check(p, x, xs, n)
	if n != ws.n {
		panic(fmt.Sprintf("nn: Backward on %d paths after a Forward on %d", n, ws.n))
	}
	if len(g.data) != p.gsize {
		panic("nn: Backward: Grad of another shape")
	}
	plan := p.plan
	n16 := roundUp(n, 16)
	s := ws.s
	L := len(plan) - 1
	if ax != nil {
		if rows := plan[0].inPad; rows > 0 && (axs < n16 || len(ax) < (rows-1)*axs+n16) {
			panic("nn: Backward: input cotangent buffer too small")
		}
	}
	// Output cotangent: zero the lanes and rows the caller does not own, multiply by
	// the output activation's derivative.
	gL := ws.buf[ws.gc[L]:]
	for r := 0; r < plan[L].outPad; r++ {
		row := gL[r*s : r*s+n16]
		if r >= plan[L].out {
			clear(row)
		} else if n16 > n {
			clear(row[n:])
		}
		if ws.d[L] >= 0 {
			mulInPlace(row, ws.buf[ws.d[L]+r*s:ws.d[L]+r*s+n16])
		}
	}
	for l := L; l >= 0; l-- {
		lp := &plan[l]
		dz := ws.buf[ws.gc[l]:]
		// Rows of this layer's input for the parameter cotangent: the inputs, a row of
		// ones (bias) and, for an even count, a row of zeros.
		var in []F
		is := s
		if l == 0 {
			in, is = x, xs
		} else {
			in = ws.buf[ws.h[l-1]:]
		}
		k := 0
		for ; k < lp.in; k++ {
			ws.xr[k] = in[k*is : k*is+n16]
		}
		ws.xr[k] = ws.buf[ws.ones : ws.ones+n16]
		k++
		if k%2 == 1 {
			ws.xr[k] = ws.buf[ws.zero : ws.zero+n16]
		}
		dw(dz, s, lp.outPad/4, ws.xr[:2*lp.npairs], ws.xp[:2*lp.npairs], n16/8, g.data[lp.g:lp.g+lp.outPad/4*lp.npairs*8])
		if l > 0 {
			prev := &plan[l-1]
			var mul []F
			mode := gemmZero
			if ws.d[l-1] >= 0 {
				mul, mode = ws.buf[ws.d[l-1]:], gemmZero|gemmMul
			}
			gemm(p.buf[lp.wb:], nil, dz, s, lp.out, ws.buf[ws.gc[l-1]:], s, mul, s, prev.outPad/4, n16/16, mode)
		} else if ax != nil && lp.inPad > 0 {
			mode := gemmZero
			if accumulate {
				mode = gemmAcc
			}
			gemm(p.buf[lp.wb:], nil, dz, s, lp.out, ax, axs, nil, 0, lp.inPad/4, n16/16, mode)
		}
	}
}

// Transpose writes (add false) or adds (add true) the transpose of the nr×nc matrix src
// (row stride ss) into dst (nc×nr, row stride ds): dst[c*ds+r] = src[r*ss+c]. It is the
// boundary between path-major (paths × features) and the engine's feature-major layout.
func Transpose[F Float](src []F, ss int, dst []F, ds int, nr, nc int, add bool) {
	if nr == 0 || nc == 0 {
		return
	}
	if ss < nc || ds < nr || len(src) < (nr-1)*ss+nc || len(dst) < (nc-1)*ds+nr {
		panic("nn: Transpose: buffers too small")
	}
	transpose(src, ss, dst, ds, nr, nc, add)
}

func is32[F Float]() bool {
	var z F
	return unsafe.Sizeof(z) == 4
}

func f32[F Float](s []F) []float32 {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// strideFor is the row stride for blocks of n paths: n rounded up to 16, plus 16 when
// that is a multiple of 256 (1 KiB for float32), so that consecutive rows do not all
// fall in the same L1 sets.
func strideFor(n int) int {
	s := roundUp(n, 16)
	if s%256 == 0 {
		s += 16
	}
	return s
}
