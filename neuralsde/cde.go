package neuralsde

import (
	"fmt"

	"github.com/gosde/gosde/internal/guard"
	"github.com/gosde/gosde/nn"
	"github.com/gosde/gosde/solver"
)

// CDEConfig describes a neural CDE. Zero values select the SDE-GAN discriminator's
// sizes: hidden state 16, MLP width 16 with one hidden layer, LipSwish. ControlDim (the
// channels of the control path X, 1 + data dimension for [t, Y]) is required.
type CDEConfig struct {
	Dim        int // hidden state size d (default 16)
	ControlDim int // control channels c
	Width      int // default 16
	Depth      int // hidden layers (default 1; < 0 means none)
	Hidden     nn.Activation
	BlockSize  int // paths per block (default 256)
	Workers    int // goroutines per call (default GOMAXPROCS)
}

// NeuralCDE is the discriminator's vector field dH = g(t,H)·dX with g = MLP([t, H]) → d×c
// with a final tanh, reshaped d×c row-major, and zero drift. As a solver.SDE it has
// General noise with NoiseDim = c: a solver driving it with the control increments ΔX in
// place of ΔW solves the CDE. Its parameters are those of the one MLP.
//
// Concurrency: a NeuralCDE is not safe for concurrent use, like NeuralSDE: use one per
// goroutine. Overlapping Eval or VJP calls from two goroutines are detected (one atomic
// flag per call) and panic rather than corrupt it.
type NeuralCDE[F solver.Float] struct {
	cfg CDEConfig
	g   *nn.MLP
	e   field[F]
	use guard.InUse
}

var _ solver.Differentiable[float64] = (*NeuralCDE[float64])(nil)

// NewCDE returns a neural CDE with parameters initialised like PyTorch's nn.Linear
// default from seed.
func NewCDE[F solver.Float](cfg CDEConfig, seed uint64) (*NeuralCDE[F], error) {
	sc := Config{Dim: cfg.Dim, NoiseDim: cfg.ControlDim, Width: cfg.Width, Depth: cfg.Depth, Hidden: cfg.Hidden, BlockSize: cfg.BlockSize, Workers: cfg.Workers}
	if cfg.ControlDim < 1 {
		return nil, fmt.Errorf("neuralsde: CDE control dimension %d < 1", cfg.ControlDim)
	}
	sc.defaults()
	if err := sc.check(); err != nil {
		return nil, err
	}
	cfg = CDEConfig{Dim: sc.Dim, ControlDim: sc.NoiseDim, Width: sc.Width, Depth: sc.Depth, Hidden: sc.Hidden, BlockSize: sc.BlockSize, Workers: sc.Workers}
	m, err := nn.NewMLP(nn.Config{In: 1 + cfg.Dim, Out: cfg.Dim * cfg.ControlDim, Width: cfg.Width, Depth: cfg.Depth, Hidden: cfg.Hidden, FinalTanh: true})
	if err != nil {
		return nil, err
	}
	c := &NeuralCDE[F]{cfg: cfg, g: m}
	c.e.init(cfg.Dim, []*head[F]{{m: m}}, m.NumParams(), cfg.BlockSize, cfg.Workers)
	nn.Init(m, c.e.params, seed)
	return c, nil
}

// Config returns the configuration with defaults filled in.
func (c *NeuralCDE[F]) Config() CDEConfig { return c.cfg }

// Dim is the hidden state size d.
func (c *NeuralCDE[F]) Dim() int { return c.cfg.Dim }

// NoiseDim is the control dimension c.
func (c *NeuralCDE[F]) NoiseDim() int { return c.cfg.ControlDim }

// Noise is General.
func (c *NeuralCDE[F]) Noise() solver.Noise { return solver.General }

// NumParams is the length of Params.
func (c *NeuralCDE[F]) NumParams() int { return len(c.e.params) }

// Params is the flat parameter vector of the MLP (the field's own storage).
func (c *NeuralCDE[F]) Params() []F { return c.e.params }

// MLP returns the shape of g.
func (c *NeuralCDE[F]) MLP() *nn.MLP { return c.g }

// WeightRanges lists the weight matrices with their clipping limits 1/out_features.
func (c *NeuralCDE[F]) WeightRanges() []nn.WeightRange {
	return weightRanges([]*nn.MLP{c.g}, []int{0})
}

// FLOPsPerPath is the nominal cost of one evaluation of one path.
func (c *NeuralCDE[F]) FLOPsPerPath() int { return c.g.FLOPs() }

// Stats returns the work counters.
func (c *NeuralCDE[F]) Stats() Stats { return c.e.stats }

// ResetStats zeroes the work counters.
func (c *NeuralCDE[F]) ResetStats() { c.e.stats = Stats{} }

// Eval writes f = 0 (batch×d) and g (batch×d×c) at (t, y). Either may be nil.
func (c *NeuralCDE[F]) Eval(t float64, y, f, g []F) {
	c.use.Enter("*neuralsde.NeuralCDE")
	defer c.use.Exit()
	batch := c.e.batchOf(y)
	if f != nil && len(f) != len(y) {
		panic(fmt.Sprintf("neuralsde: Eval: f has length %d, want %d", len(f), len(y)))
	}
	if g != nil && len(g) != batch*c.g.Out() {
		panic(fmt.Sprintf("neuralsde: Eval: g has length %d, want %d", len(g), batch*c.g.Out()))
	}
	c.e.stats.Evals++
	clear(f)
	c.e.outs[0] = g
	c.e.forward(t, y, true)
	c.e.outs[0] = nil
}

// VJP adds ag·∂g/∂y at (t, y) into ay and the parameter cotangent into atheta; af is
// ignored (the drift is zero).
func (c *NeuralCDE[F]) VJP(t float64, y, af, ag, ay, atheta []F) {
	c.use.Enter("*neuralsde.NeuralCDE")
	defer c.use.Exit()
	batch := c.e.batchOf(y)
	if ag != nil && len(ag) != batch*c.g.Out() {
		panic(fmt.Sprintf("neuralsde: VJP: ag has length %d, want %d", len(ag), batch*c.g.Out()))
	}
	c.e.stats.VJPs++
	c.e.cots[0] = ag
	c.e.vjp(t, y, ay, atheta)
	c.e.cots[0] = nil
}
