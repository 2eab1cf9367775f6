// Package neuralsde provides neural vector fields that implement
// solver.Differentiable: the neural SDE of an SDE-GAN generator (or latent SDE),
// dY = f(t,Y)dt + g(t,Y)∘dW with f, g MLPs of [t, y], and the neural CDE of an SDE-GAN
// discriminator, dH = g(t,H)·dX.
//
// Evaluation runs on all cores: the batch is cut into blocks of a fixed number of paths
// (Config.BlockSize, 256 by default), the blocks are processed on a persistent worker
// pool, each block keeps its own activations and parameter-cotangent partial, and the
// partials are summed in block order. Results are therefore bit-identical whatever
// GOMAXPROCS is. Steady-state Eval and VJP calls allocate nothing.
//
// A VJP at the (t, y) of the most recent Eval (with unchanged parameters) reuses that
// Eval's activations instead of recomputing them, which is what makes the reversible
// adjoint's backward pass cost N evaluations + N VJPs. Stats counts both cases.
package neuralsde

import (
	"fmt"

	"github.com/gosde/gosde/internal/guard"
	"github.com/gosde/gosde/nn"
	"github.com/gosde/gosde/solver"
)

// Config describes a neural SDE. Zero values select the SDE-GAN generator's sizes from
// docs/DESIGN.md ("The SDE-GAN"): hidden state 16, noise 3, MLP width 16 with one
// hidden layer, LipSwish.
type Config struct {
	Dim      int          // state size d (default 16)
	NoiseDim int          // Brownian size m for General and Additive noise (default 3); Diagonal uses d, Scalar 1
	Noise    solver.Noise // how g acts on dW (zero value: Diagonal)
	Width    int          // hidden width of both MLPs (default 16)
	Depth    int          // hidden layers of both MLPs (default 1; a value < 0 means none, an affine map)
	Hidden   nn.Activation
	// BlockSize is the number of paths per block (default 256). It fixes the order of the
	// reductions over paths, so results depend on it but not on the number of workers.
	BlockSize int
	// Workers caps the goroutines one call uses (default GOMAXPROCS at the call).
	Workers int
}

func (c *Config) defaults() {
	if c.Dim == 0 {
		c.Dim = 16
	}
	if c.NoiseDim == 0 {
		c.NoiseDim = 3
	}
	if c.Width == 0 {
		c.Width = 16
	}
	if c.Depth == 0 {
		c.Depth = 1
	} else if c.Depth < 0 {
		c.Depth = 0
	}
	if c.BlockSize == 0 {
		c.BlockSize = 256
	}
}

func (c *Config) check() error {
	if c.Dim < 1 || c.NoiseDim < 1 || c.Width < 1 || c.BlockSize < 1 || c.Workers < 0 {
		return fmt.Errorf("neuralsde: invalid sizes in %+v", *c)
	}
	if !c.Hidden.Valid() {
		return fmt.Errorf("neuralsde: invalid activation %v", c.Hidden)
	}
	return nil
}

// NeuralSDE is dY = f(t,Y)dt + g(t,Y)∘dW with
//
//	f = MLP([t, y]) → d, final tanh
//	g = MLP([t, y]) → d (Diagonal), d×m (General), d×1 (Scalar), final tanh
//	g = MLP([t]) → d×m (Additive: no dependence on y), final tanh
//
// Its parameters are one flat vector, the drift MLP's then the diffusion MLP's (see
// nn.MLP for each one's layout). It implements solver.Differentiable[F].
//
// Concurrency: a NeuralSDE is not safe for concurrent use: Eval and VJP share its
// workspace (each call may itself run on several goroutines of a process-wide helper
// pool; see Config.Workers). Use one per goroutine, copying Params between them.
// Overlapping Eval or VJP calls from two goroutines are detected (one atomic flag per
// call) and panic rather than corrupt it; Params, Stats and ResetStats must not race
// with them either, but are not checked.
type NeuralSDE[F solver.Float] struct {
	cfg         Config
	m           int
	drift, diff *nn.MLP
	e           field[F]
	add         *nn.Net[F] // Additive: the diffusion net of [t]
	addT        [1]F
	addG        []F
	addSum      []F
	use         guard.InUse
}

var _ solver.Differentiable[float32] = (*NeuralSDE[float32])(nil)

// New returns a neural SDE with parameters initialised like PyTorch's nn.Linear default
// from seed.
func New[F solver.Float](cfg Config, seed uint64) (*NeuralSDE[F], error) {
	cfg.defaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	s := &NeuralSDE[F]{cfg: cfg}
	d := cfg.Dim
	var gin, gout int
	switch cfg.Noise {
	case solver.Diagonal:
		s.m, gin, gout = d, 1+d, d
	case solver.Scalar:
		s.m, gin, gout = 1, 1+d, d
	case solver.General:
		s.m, gin, gout = cfg.NoiseDim, 1+d, d*cfg.NoiseDim
	case solver.Additive:
		s.m, gin, gout = cfg.NoiseDim, 1, d*cfg.NoiseDim
	default:
		return nil, fmt.Errorf("neuralsde: unknown noise type %d", cfg.Noise)
	}
	var err error
	s.drift, err = nn.NewMLP(nn.Config{In: 1 + d, Out: d, Width: cfg.Width, Depth: cfg.Depth, Hidden: cfg.Hidden, FinalTanh: true})
	if err != nil {
		return nil, err
	}
	s.diff, err = nn.NewMLP(nn.Config{In: gin, Out: gout, Width: cfg.Width, Depth: cfg.Depth, Hidden: cfg.Hidden, FinalTanh: true})
	if err != nil {
		return nil, err
	}
	nd := s.drift.NumParams()
	heads := []*head[F]{{m: s.drift, off: 0}}
	if cfg.Noise != solver.Additive {
		heads = append(heads, &head[F]{m: s.diff, off: nd})
	}
	s.e.init(d, heads, nd+s.diff.NumParams(), cfg.BlockSize, cfg.Workers)
	if cfg.Noise == solver.Additive {
		s.add = nn.NewNet[F](s.diff)
		s.addG = make([]F, gout)
		s.addSum = make([]F, gout)
		s.e.cv = s.addG
	}
	nn.Init(s.drift, s.e.params[:nd], seed)
	nn.Init(s.diff, s.e.params[nd:], seed^0x9e3779b97f4a7c15)
	return s, nil
}

// Config returns the configuration with defaults filled in.
func (s *NeuralSDE[F]) Config() Config { return s.cfg }

// Dim is the state size d.
func (s *NeuralSDE[F]) Dim() int { return s.cfg.Dim }

// NoiseDim is the Brownian size m.
func (s *NeuralSDE[F]) NoiseDim() int { return s.m }

// Noise is the noise type.
func (s *NeuralSDE[F]) Noise() solver.Noise { return s.cfg.Noise }

// NumParams is the length of Params.
func (s *NeuralSDE[F]) NumParams() int { return len(s.e.params) }

// Params is the flat parameter vector, drift MLP then diffusion MLP. It is the field's
// own storage: optimisers update it in place.
func (s *NeuralSDE[F]) Params() []F { return s.e.params }

// Drift and Diffusion return the two MLP shapes; the diffusion's parameters start at
// Drift().NumParams() in Params.
func (s *NeuralSDE[F]) Drift() *nn.MLP     { return s.drift }
func (s *NeuralSDE[F]) Diffusion() *nn.MLP { return s.diff }

// WeightRanges lists every weight matrix (not bias) with offsets into Params and the
// SDE-GAN clipping limit 1/out_features.
func (s *NeuralSDE[F]) WeightRanges() []nn.WeightRange {
	return weightRanges([]*nn.MLP{s.drift, s.diff}, []int{0, s.drift.NumParams()})
}

// FLOPsPerPath is the nominal cost of one evaluation of one path (2 FLOPs per
// multiply-add of the weight matrices, inputs including t).
func (s *NeuralSDE[F]) FLOPsPerPath() int {
	if s.cfg.Noise == solver.Additive {
		return s.drift.FLOPs()
	}
	return s.drift.FLOPs() + s.diff.FLOPs()
}

// Stats returns the work counters.
func (s *NeuralSDE[F]) Stats() Stats { return s.e.stats }

// ResetStats zeroes the work counters.
func (s *NeuralSDE[F]) ResetStats() { s.e.stats = Stats{} }

func (s *NeuralSDE[F]) gLen(batch int) int { return batch * s.diff.Out() }

// Eval writes f (batch×d) and g (batch×d for Diagonal, batch×d×m otherwise) at (t, y).
// Either output may be nil to skip writing it.
func (s *NeuralSDE[F]) Eval(t float64, y, f, g []F) {
	s.use.Enter("*neuralsde.NeuralSDE")
	defer s.use.Exit()
	batch := s.e.batchOf(y)
	if f != nil && len(f) != len(y) {
		panic(fmt.Sprintf("neuralsde: Eval: f has length %d, want %d", len(f), len(y)))
	}
	if g != nil && len(g) != s.gLen(batch) {
		panic(fmt.Sprintf("neuralsde: Eval: g has length %d, want %d", len(g), s.gLen(batch)))
	}
	s.e.stats.Evals++
	s.e.outs[0] = f
	if s.add != nil {
		s.evalAdditive(t)
		s.e.cdst = g
	} else {
		s.e.outs[1] = g
	}
	s.e.forward(t, y, true)
	s.e.outs[0], s.e.cdst = nil, nil
	if s.add == nil {
		s.e.outs[1] = nil
	}
}

func (s *NeuralSDE[F]) evalAdditive(t float64) {
	s.addT[0] = F(t)
	s.add.Forward(s.e.params[s.drift.NumParams():], s.addT[:], s.addG)
}

// VJP adds af·∂f/∂y + ag·∂g/∂y at (t, y) into ay and the parameter cotangent, summed
// over the batch, into atheta (NumParams). af or ag may be nil (zero).
func (s *NeuralSDE[F]) VJP(t float64, y, af, ag, ay, atheta []F) {
	s.use.Enter("*neuralsde.NeuralSDE")
	defer s.use.Exit()
	batch := s.e.batchOf(y)
	if af != nil && len(af) != len(y) {
		panic(fmt.Sprintf("neuralsde: VJP: af has length %d, want %d", len(af), len(y)))
	}
	if ag != nil && len(ag) != s.gLen(batch) {
		panic(fmt.Sprintf("neuralsde: VJP: ag has length %d, want %d", len(ag), s.gLen(batch)))
	}
	s.e.stats.VJPs++
	s.e.cots[0] = af
	if s.add != nil {
		s.e.ccot = ag
	} else {
		s.e.cots[1] = ag
	}
	s.e.vjp(t, y, ay, atheta)
	if s.add != nil && ag != nil {
		// g is the same for every path: its parameter cotangent is that of one
		// evaluation at the cotangent summed over the paths (block by block, in order).
		clear(s.addSum)
		nb := (batch + s.cfg.BlockSize - 1) / s.cfg.BlockSize
		for _, b := range s.e.blocks[:nb] {
			for k, v := range b.cs {
				s.addSum[k] += v
			}
		}
		s.evalAdditive(t)
		s.add.VJP(s.addSum, nil, atheta[s.drift.NumParams():])
	}
	s.e.cots[0], s.e.ccot = nil, nil
	if s.add == nil {
		s.e.cots[1] = nil
	}
}

// GeneratorConfig is the SDE-GAN generator's vector field from docs/DESIGN.md ("The
// SDE-GAN"): hidden state 16, noise 3 (General), MLP width 16 with one hidden layer, LipSwish, tanh outputs.
func GeneratorConfig() Config {
	return Config{Dim: 16, NoiseDim: 3, Noise: solver.General, Width: 16, Depth: 1}
}
