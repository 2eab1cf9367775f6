package nn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// Config is the shape of a multilayer perceptron:
//
//	In → Width → … → Width → Out
//
// with Depth hidden layers of Width units, each followed by Hidden, and an optional
// final tanh (torchsde's MLP(in, out, mlp_size=Width, num_layers=Depth, tanh=FinalTanh)).
// Depth 0 is a single affine layer In → Out.
type Config struct {
	In, Out   int
	Width     int
	Depth     int
	Hidden    Activation
	FinalTanh bool
}

// Layer describes one affine layer of an MLP and where its parameters live in the flat
// parameter vector: W (Out×In, row-major) at W, then b (Out) at B = W + Out·In.
type Layer struct {
	In, Out int
	W, B    int
	Act     Activation // applied after the affine map (Identity for a plain output)
}

// MLP is the shape of a multilayer perceptron; it holds no parameters. It is immutable
// and safe for concurrent use.
type MLP struct {
	cfg    Config
	layers []Layer
	n      int
}

// NewMLP checks cfg and returns the MLP shape.
func NewMLP(cfg Config) (*MLP, error) {
	if cfg.In < 1 || cfg.Out < 1 {
		return nil, fmt.Errorf("nn: MLP needs In ≥ 1 and Out ≥ 1, got %d, %d", cfg.In, cfg.Out)
	}
	if cfg.Depth < 0 {
		return nil, fmt.Errorf("nn: negative MLP depth %d", cfg.Depth)
	}
	if cfg.Depth > 0 && cfg.Width < 1 {
		return nil, fmt.Errorf("nn: MLP with %d hidden layers needs Width ≥ 1, got %d", cfg.Depth, cfg.Width)
	}
	if !cfg.Hidden.Valid() {
		return nil, fmt.Errorf("nn: invalid hidden activation %v", cfg.Hidden)
	}
	const maxSize = 1 << 16
	if cfg.In > maxSize || cfg.Out > maxSize || cfg.Width > maxSize || cfg.Depth > 1024 {
		return nil, errors.New("nn: MLP too large")
	}
	m := &MLP{cfg: cfg}
	in := cfg.In
	for l := 0; l <= cfg.Depth; l++ {
		out, act := cfg.Width, cfg.Hidden
		if l == cfg.Depth {
			out, act = cfg.Out, Identity
			if cfg.FinalTanh {
				act = Tanh
			}
		}
		m.layers = append(m.layers, Layer{In: in, Out: out, W: m.n, B: m.n + out*in, Act: act})
		m.n += out*in + out
		in = out
	}
	return m, nil
}

// MustMLP is NewMLP that panics on error, for fixed shapes.
func MustMLP(cfg Config) *MLP {
	m, err := NewMLP(cfg)
	if err != nil {
		panic(err)
	}
	return m
}

// Config returns the shape the MLP was built from.
func (m *MLP) Config() Config { return m.cfg }

// In is the input size.
func (m *MLP) In() int { return m.cfg.In }

// Out is the output size.
func (m *MLP) Out() int { return m.cfg.Out }

// NumParams is the length of the flat parameter vector.
func (m *MLP) NumParams() int { return m.n }

// Layers returns the affine layers, input first. The slice must not be modified.
func (m *MLP) Layers() []Layer { return m.layers }

// FLOPs is the nominal cost of one forward evaluation of one path: 2 FLOPs per
// multiply-add of the weight matrices (biases and activations not counted), the
// convention of shared/reference/mlp_limit.c.
func (m *MLP) FLOPs() int {
	f := 0
	for _, l := range m.layers {
		f += 2 * l.In * l.Out
	}
	return f
}

// Init fills params (length NumParams) like PyTorch's nn.Linear default: every weight and
// bias of a layer with fan-in n is drawn from U(−1/√n, 1/√n). The draws come from a PCG
// generator seeded by seed, layer by layer, W (row-major) then b, so the result depends
// only on the shape and the seed.
func Init[F Float](m *MLP, params []F, seed uint64) {
	if len(params) != m.n {
		panic(fmt.Sprintf("nn: Init: %d parameters, want %d", len(params), m.n))
	}
	rng := rand.New(rand.NewPCG(seed, 0x6e6e2e496e6974)) // "nn.Init"
	for _, l := range m.layers {
		lim := 1 / math.Sqrt(float64(l.In))
		for i := l.W; i < l.B+l.Out; i++ {
			params[i] = F((2*rng.Float64() - 1) * lim)
		}
	}
}

// WeightRange is the span of one weight matrix in the flat parameter vector, with the
// clipping limit the SDE-GAN uses for it: 1/Out (torchsde's example clamps every
// nn.Linear weight to ±1/out_features; biases are not clipped).
type WeightRange struct {
	Off, Len int
	Limit    float64
}

// WeightRanges lists the weight matrices (not the biases), input layer first, with
// offsets relative to the start of this MLP's parameters.
func (m *MLP) WeightRanges() []WeightRange {
	r := make([]WeightRange, len(m.layers))
	for i, l := range m.layers {
		r[i] = WeightRange{Off: l.W, Len: l.In * l.Out, Limit: 1 / float64(l.Out)}
	}
	return r
}

// ClipWeights clamps every weight of params (this MLP's flat parameters) entrywise to
// ±1/Out of its layer, leaving the biases alone.
func ClipWeights[F Float](m *MLP, params []F) {
	if len(params) != m.n {
		panic(fmt.Sprintf("nn: ClipWeights: %d parameters, want %d", len(params), m.n))
	}
	for _, r := range m.WeightRanges() {
		lim := F(r.Limit)
		for i, v := range params[r.Off : r.Off+r.Len] {
			if v > lim {
				params[r.Off+i] = lim
			} else if v < -lim {
				params[r.Off+i] = -lim
			}
		}
	}
}
