package neuralsde

import (
	"fmt"
	"unsafe"

	"github.com/gosde/gosde/nn"
	"github.com/gosde/gosde/solver"
)

// Stats counts the work done by a vector field since creation or the last ResetStats.
type Stats struct {
	Evals int64 // Eval calls
	VJPs  int64 // VJP calls
	// Recomputes counts VJP calls that had to re-run the forward pass because (t, y) or
	// the parameters differed from those of the most recent Eval. A reversible-adjoint
	// backward pass that evaluates at (tₙ, zₙ) and then asks for the VJP there has none.
	Recomputes int64
}

// head is one MLP of [t, y] whose outputs are written path-major into one of the
// field's outputs (f or g).
type head[F solver.Float] struct {
	m      *nn.MLP
	off    int // offset of its parameters in the field's flat vector
	packed *nn.Packed[F]
	total  *nn.Grad[F]
	out    int // outputs per path
}

type block[F solver.Float] struct {
	p0, n int
	x, ax []F
	ws    []*nn.Workspace[F]
	g     []*nn.Grad[F]
	cs    []F // additive diffusion: Σ over the block's paths of ag
}

// field is the engine shared by NeuralSDE and NeuralCDE: heads of [t, y] evaluated in
// fixed blocks of paths on the worker pool, activations kept per block for the VJP.
type field[F solver.Float] struct {
	d         int
	heads     []*head[F]
	params    []F
	blockSize int
	workers   int
	blocks    []*block[F]
	stride    int

	// Constant output (additive noise): value cv (width len(cv)) copied to every path of
	// cdst in Eval; in VJP the cotangent ccot is summed over paths into cs.
	cv, cdst, ccot []F

	packedP []F // parameters at the last pack
	packedT float64
	havePk  bool

	// The state of the most recent forward pass, for reuse by VJP.
	valid bool
	lastT float64
	lastY []F
	lastP []F
	batch int

	// Arguments of the call in progress, read by the block functions.
	y     []F
	outs  [][]F
	cots  [][]F
	ay    []F
	write bool

	fwdJob, bwdJob job
	stats          Stats
}

func (e *field[F]) init(d int, heads []*head[F], nparams, blockSize, workers int) {
	e.d, e.heads, e.blockSize, e.workers = d, heads, blockSize, workers
	e.params = make([]F, nparams)
	e.packedP = make([]F, nparams)
	e.lastP = make([]F, nparams)
	e.outs = make([][]F, len(heads))
	e.cots = make([][]F, len(heads))
	e.fwdJob.fn = e.forwardBlock
	e.bwdJob.fn = e.backwardBlock
	for _, h := range heads {
		h.packed, _ = nn.NewPacked[F](h.m, 1)
		h.total = nn.NewGrad(h.packed)
		h.out = h.m.Out()
	}
	e.stride = nn.NewWorkspace[F](heads[0].m, 1, blockSize).Stride()
}

// ensure grows the block list to cover batch paths.
func (e *field[F]) ensure(batch int) {
	nb := (batch + e.blockSize - 1) / e.blockSize
	for len(e.blocks) < nb {
		b := &block[F]{
			x:  make([]F, e.d*e.stride),
			ax: make([]F, (e.d+3)/4*4*e.stride),
		}
		for _, h := range e.heads {
			b.ws = append(b.ws, nn.NewWorkspace[F](h.m, 1, e.blockSize))
			b.g = append(b.g, nn.NewGrad(h.packed))
		}
		if e.cv != nil {
			b.cs = make([]F, len(e.cv))
		}
		e.blocks = append(e.blocks, b)
	}
	for i := 0; i < nb; i++ {
		b := e.blocks[i]
		b.p0 = i * e.blockSize
		b.n = min(e.blockSize, batch-b.p0)
	}
	if cap(e.lastY) < batch*e.d {
		e.lastY = make([]F, batch*e.d)
	}
}

func bits[F solver.Float](s []F) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(s[0])))
}

// equal compares bit patterns (so NaNs compare equal to themselves), fast.
func equal[F solver.Float](a, b []F) bool { return string(bits(a)) == string(bits(b)) }

// pack brings the packed weights up to date with the parameters and time t.
func (e *field[F]) pack(t float64) {
	tt := []F{F(t)}
	if !e.havePk || !equal(e.params, e.packedP) {
		for _, h := range e.heads {
			h.packed.Load(e.params[h.off:h.off+h.m.NumParams()], tt[:])
		}
		copy(e.packedP, e.params)
		e.havePk = true
	} else if e.packedT != t {
		for _, h := range e.heads {
			h.packed.SetConsts(tt[:])
		}
	}
	e.packedT = t
}

func (e *field[F]) batchOf(y []F) int {
	if len(y)%e.d != 0 {
		panic(fmt.Sprintf("neuralsde: state length %d not a multiple of the dimension %d", len(y), e.d))
	}
	return len(y) / e.d
}

// forward evaluates every head on every block at (t, y), writing the outputs given in
// e.outs (nil entries skipped) when write is set, and records (t, y, θ) for VJP.
func (e *field[F]) forward(t float64, y []F, write bool) {
	batch := e.batchOf(y)
	e.ensure(batch)
	e.pack(t)
	e.y, e.write = y, write
	if batch > 0 {
		helpers.run(&e.fwdJob, (batch+e.blockSize-1)/e.blockSize, e.workers)
	}
	e.y = nil
	e.valid, e.lastT, e.batch = true, t, batch
	e.lastY = e.lastY[:batch*e.d]
	copy(e.lastY, y)
	copy(e.lastP, e.params)
}

func (e *field[F]) forwardBlock(bi int) {
	b := e.blocks[bi]
	d, s := e.d, e.stride
	nn.Transpose(e.y[b.p0*d:], d, b.x, s, b.n, d, false)
	for i, h := range e.heads {
		nn.Forward(h.packed, b.ws[i], b.x, s, b.n)
		if dst := e.outs[i]; e.write && dst != nil {
			o, os := b.ws[i].Output()
			nn.Transpose(o, os, dst[b.p0*h.out:], h.out, h.out, b.n, false)
		}
	}
	if e.write && e.cdst != nil {
		w := len(e.cv)
		for p := b.p0; p < b.p0+b.n; p++ {
			copy(e.cdst[p*w:(p+1)*w], e.cv)
		}
	}
}

// vjp runs the backward pass for cotangents e.cots (nil entries: zero), adding into ay
// and atheta. It reuses the last forward pass when (t, y, θ) match it.
func (e *field[F]) vjp(t float64, y, ay, atheta []F) {
	batch := e.batchOf(y)
	if len(ay) != len(y) {
		panic(fmt.Sprintf("neuralsde: VJP: ay has length %d, want %d", len(ay), len(y)))
	}
	if len(atheta) != len(e.params) {
		panic(fmt.Sprintf("neuralsde: VJP: atheta has length %d, want %d", len(atheta), len(e.params)))
	}
	if !(e.valid && e.lastT == t && e.batch == batch && equal(y, e.lastY) && equal(e.params, e.lastP)) {
		e.stats.Recomputes++
		e.forward(t, y, false)
	}
	e.ay = ay
	nb := (batch + e.blockSize - 1) / e.blockSize
	if batch > 0 {
		helpers.run(&e.bwdJob, nb, e.workers)
	}
	e.ay = nil
	// Reduce the per-block parameter cotangents in block order: the result does not
	// depend on how many goroutines ran the blocks.
	for i, h := range e.heads {
		if e.cots[i] == nil {
			continue
		}
		h.total.Zero()
		for _, b := range e.blocks[:nb] {
			h.total.Add(b.g[i])
		}
		h.packed.AddGrad(atheta[h.off:h.off+h.m.NumParams()], h.total)
	}
}

func (e *field[F]) backwardBlock(bi int) {
	b := e.blocks[bi]
	d, s := e.d, e.stride
	first := true
	for i, h := range e.heads {
		src := e.cots[i]
		if src == nil {
			continue
		}
		cot, cs := b.ws[i].OutputCotangent()
		nn.Transpose(src[b.p0*h.out:], h.out, cot, cs, b.n, h.out, false)
		b.g[i].Zero()
		nn.Backward(h.packed, b.ws[i], b.x, s, b.n, b.g[i], b.ax, s, !first)
		first = false
	}
	if !first {
		nn.Transpose(b.ax, s, e.ay[b.p0*d:], d, d, b.n, true)
	}
	if e.ccot != nil {
		w := len(b.cs)
		clear(b.cs)
		for p := b.p0; p < b.p0+b.n; p++ {
			for k, v := range e.ccot[p*w : (p+1)*w] {
				b.cs[k] += v
			}
		}
	}
}

// weightRanges lists the weight matrices of every head, offsets into the flat vector.
func weightRanges(ms []*nn.MLP, offs []int) []nn.WeightRange {
	var r []nn.WeightRange
	for i, m := range ms {
		for _, w := range m.WeightRanges() {
			w.Off += offs[i]
			r = append(r, w)
		}
	}
	return r
}
