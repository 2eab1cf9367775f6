package nn

import "fmt"

// NetChunk is the number of paths Net processes per workspace.
const NetChunk = 256

// Net evaluates one MLP on path-major batches (x: batch×In, y: batch×Out) of any size,
// chunk by chunk on the calling goroutine, and keeps the activations of the last Forward
// so that VJP needs no recomputation. It is not safe for concurrent use.
type Net[F Float] struct {
	m      *MLP
	packed *Packed[F]
	grad   *Grad[F]
	chunks []netChunk[F]
	batch  int
}

type netChunk[F Float] struct {
	ws    *Workspace[F]
	x, ax []F
}

// NewNet returns a Net for m.
func NewNet[F Float](m *MLP) *Net[F] {
	p, _ := NewPacked[F](m, 0)
	return &Net[F]{m: m, packed: p, grad: NewGrad(p), batch: -1}
}

// MLP returns the shape.
func (n *Net[F]) MLP() *MLP { return n.m }

// Forward evaluates y = MLP(x) for the batch x (len(x) = batch·In, path-major) with
// parameters params, writing y (batch·Out, path-major).
func (n *Net[F]) Forward(params, x, y []F) {
	in, out := n.m.cfg.In, n.m.cfg.Out
	if len(x)%in != 0 {
		panic(fmt.Sprintf("nn: Net.Forward: input length %d not a multiple of %d", len(x), in))
	}
	batch := len(x) / in
	if len(y) != batch*out {
		panic(fmt.Sprintf("nn: Net.Forward: output length %d, want %d", len(y), batch*out))
	}
	n.packed.Load(params, nil)
	for len(n.chunks)*NetChunk < batch {
		ws := NewWorkspace[F](n.m, 0, NetChunk)
		s := ws.Stride()
		n.chunks = append(n.chunks, netChunk[F]{ws: ws, x: make([]F, in*s), ax: make([]F, roundUp(in, 4)*s)})
	}
	for c := 0; c*NetChunk < batch; c++ {
		ch := &n.chunks[c]
		p0, np := c*NetChunk, min(NetChunk, batch-c*NetChunk)
		s := ch.ws.Stride()
		transpose(x[p0*in:], in, ch.x, s, np, in, false)
		Forward(n.packed, ch.ws, ch.x, s, np)
		o, os := ch.ws.Output()
		transpose(o, os, y[p0*out:], out, out, np, false)
	}
	n.batch = batch
}

// VJP backpropagates the output cotangent ay (batch·Out) through the last Forward: it
// adds the input cotangent into ax (batch·In; nil to skip) and the parameter cotangent,
// summed over the batch, into grad (NumParams). It uses the parameters of that Forward.
func (n *Net[F]) VJP(ay, ax, grad []F) {
	in, out := n.m.cfg.In, n.m.cfg.Out
	batch := n.batch
	if batch < 0 {
		panic("nn: Net.VJP before Forward")
	}
	if len(ay) != batch*out || (ax != nil && len(ax) != batch*in) {
		panic("nn: Net.VJP: cotangent lengths do not match the last Forward")
	}
	n.grad.Zero()
	for c := 0; c*NetChunk < batch; c++ {
		ch := &n.chunks[c]
		p0, np := c*NetChunk, min(NetChunk, batch-c*NetChunk)
		cot, cs := ch.ws.OutputCotangent()
		transpose(ay[p0*out:], out, cot, cs, np, out, false)
		var axc []F
		if ax != nil {
			axc = ch.ax
		}
		s := ch.ws.Stride()
		Backward(n.packed, ch.ws, ch.x, s, np, n.grad, axc, s, false)
		if ax != nil {
			transpose(ch.ax, s, ax[p0*in:], in, in, np, true)
		}
	}
	n.packed.AddGrad(grad, n.grad)
}
