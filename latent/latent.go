// Package latent is the latent SDE of Li, Wong, Chen & Duvenaud (2020), "Scalable
// Gradients for Stochastic Differential Equations", set up as torchsde's
// examples/latent_sde.py and trained with the exact gradients of Kidger et al. (2021):
// by default the posterior SDE is solved with reversible Heun and differentiated with its
// algebraic adjoint.
//
// Model, for an observed path x = (x_{t₀}, …, x_{t_{T−1}}) of C channels, latent size d
// and context size k:
//
//   - Encoder: [μ, log σ, c] = MLP(x flattened, T·C values), q(z₀) = N(μ, diag σ²), c the
//     context (k values). torchsde's example runs a GRU over the series backwards and
//     gives the drift the context at the current time; here one MLP reads the whole
//     series and the context is constant in time — a documented simplification.
//   - Posterior SDE on the augmented state u = (z ∈ ℝᵈ, c ∈ ℝᵏ, ℓ ∈ ℝ):
//     dz = f(t,z,c)dt + σ(t,z)∘dW, dc = 0, dℓ = ½‖(f(t,z,c) − h(t,z))/σ(t,z)‖² dt, with
//     Diagonal noise on all d+k+1 channels and zero diffusion on c and ℓ. ℓ_T is the KL
//     divergence between the posterior and prior path measures (Girsanov); carrying c in
//     the state makes the solver's dL/dy₀ deliver dL/dc to the encoder.
//   - Prior SDE: dz = h(t,z)dt + σ(t,z)∘dW, z₀ ~ p(z₀) = N(m, diag s²), m and log s
//     learned (initially 0).
//   - Diffusion σ(t,z) = SigmaMin + (SigmaMax − SigmaMin)·sigmoid(MLP([t,z])), diagonal and
//     shared by posterior and prior (positive and bounded away from 0, so the KL rate is
//     finite). torchsde's example uses one MLP per latent channel of that channel alone
//     (commutative noise); here σ_i may depend on all of z, which reversible Heun and
//     midpoint (Stratonovich, order ½) handle all the same.
//   - f = MLP([t,z,c]) → d, h = MLP([t,z]) → d, every MLP with Depth hidden layers of Width
//     units and the Activation (LipSwish by default; torchsde uses Softplus, which the nn
//     engine computes without SIMD).
//   - Decoder: linear z → C channels; likelihood N(x_t | decoder(z_t), ObsStd² I) with a
//     fixed observation noise ObsStd (in normalised units; not learned, so that ELBOs of
//     different runs are comparable).
//
// ELBO per path = Σ_t log p(x_t | z_t) − KL(q(z₀)‖p(z₀)) − ℓ_T, estimated with one
// reparameterised sample (z₀ = μ + σ·ε and one Brownian path). The loss is −mean ELBO
// over the minibatch, optionally with the KL terms weighted by a linear warm-up
// (KLAnneal), as the example. The SDEs are Stratonovich for Midpoint, Heun and
// ReversibleHeun and Itô for EulerMaruyama; the KL rate is the same in both (the two
// drifts share σ).
//
// Optimiser: Adam (PyTorch's semantics, β = 0.9, 0.999, ε = 1e-8) with learning rate
// LR·LRDecay^steps (torchsde's ExponentialLR). optim.Adam exposes no state to
// checkpoint, so the package carries its own copy of the same update (bit-identical to
// optim.Adam, see the tests) whose moments Params saves. Optional stochastic weight
// averaging (SWAStart) as the SDE-GAN.
//
// Randomness: everything derives from Config.Seed. Step k draws the minibatch, ε and the
// Brownian Interval from seeds hashed from (Seed, k), so a run is reproducible bit for
// bit and resumable from Params.
//
// The model computes in float32; the same code runs in float64 in the tests, where its
// gradient is checked against finite differences.
package latent

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/gosde/gosde/dataset"
	"github.com/gosde/gosde/internal/seeds"
	"github.com/gosde/gosde/internal/vec"
	"github.com/gosde/gosde/nn"
	"github.com/gosde/gosde/optim"
	"github.com/gosde/gosde/solver"
)

// ErrNonFinite is wrapped by the error Step returns when the loss, a gradient or a solve
// is not finite; the step is then not applied.
var ErrNonFinite = errors.New("latent: non-finite loss or gradient")

// Config configures a latent SDE.
type Config struct {
	DataChannels int           // C, channels of the data (1)
	LatentSize   int           // d, latent state size (4)
	ContextSize  int           // k, context vector size (8)
	Width        int           // MLP width (32)
	Depth        int           // hidden layers of every MLP (1); 0 is an affine map
	Activation   nn.Activation // hidden activation of every MLP (LipSwish)
	Batch        int           // paths per step (256)
	// Steps is the intended length of training; Step does not stop there. It only sets
	// the SWA start when SWAStart is −2.
	Steps   int
	LR      float64 // Adam learning rate (1e-2, as torchsde's latent_sde.py)
	LRDecay float64 // learning rate multiplier per step, in (0, 1] (1: none; the example 0.997)
	// WeightDecay is Adam's weight decay (0).
	WeightDecay float64
	// KLAnneal: the KL terms of the training loss are weighted by min(1, (k+1)/KLAnneal)
	// at step index k (the example's linear warm-up over 1000 steps); 0 disables it. The
	// reported losses are always the unweighted −ELBO.
	KLAnneal int
	// ObsStd is the fixed observation noise standard deviation of the Gaussian
	// likelihood, in normalised units (0.1).
	ObsStd float64
	// SigmaMin and SigmaMax bound the diffusion: σ = SigmaMin + (SigmaMax−SigmaMin)·
	// sigmoid(MLP) (0.01 and 1).
	SigmaMin, SigmaMax float64
	// Method and Adjoint of the posterior solve (ReversibleHeun and Reversible; Midpoint
	// with Continuous is the baseline of Li et al.; Backprop works with every method).
	Method  solver.Method
	Adjoint solver.Adjoint
	// Dt is the solvers' largest step; 0 means the smallest spacing of the times.
	Dt float64
	// SWAStart: the weight average is updated after step index s when s > SWAStart;
	// −1 disables averaging (default), −2 means Steps/2.
	SWAStart int
	Seed     uint64
}

// DefaultConfig is the reference setting: d = 4, k = 8, width 32, one hidden layer,
// LipSwish, batch 256, 5000 steps, Adam 1e-2 without decay, ObsStd 0.1, σ ∈ (0.01, 1),
// reversible Heun with its algebraic adjoint, Dt the smallest spacing of the times, no
// weight averaging, one data channel.
func DefaultConfig() Config {
	return Config{
		DataChannels: 1, LatentSize: 4, ContextSize: 8, Width: 32, Depth: 1, Activation: nn.LipSwish,
		Batch: 256, Steps: 5000, LR: 1e-2, LRDecay: 1, ObsStd: 0.1, SigmaMin: 0.01, SigmaMax: 1,
		Method: solver.ReversibleHeun, Adjoint: solver.Reversible, SWAStart: -1,
	}
}

// SWAFrom is the resolved SWAStart (−1: never).
func (c Config) SWAFrom() int {
	switch {
	case c.SWAStart == -2:
		return c.Steps / 2
	case c.SWAStart < 0:
		return -1
	}
	return c.SWAStart
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func (c Config) check() error {
	if c.DataChannels < 1 || c.LatentSize < 1 || c.ContextSize < 0 || c.Width < 1 || c.Depth < 0 || c.Batch < 1 || c.Steps < 0 || c.KLAnneal < 0 || c.SWAStart < -2 {
		return fmt.Errorf("latent: invalid sizes in %+v", c)
	}
	if !c.Activation.Valid() {
		return fmt.Errorf("latent: invalid activation %v", c.Activation)
	}
	if err := optim.CheckRates("learning rate", c.LR, c.WeightDecay); err != nil {
		return fmt.Errorf("latent: %w", err)
	}
	if !(c.LRDecay > 0 && c.LRDecay <= 1) {
		return fmt.Errorf("latent: learning-rate decay %v per step is out of range (0, 1]", c.LRDecay)
	}
	if !(c.ObsStd > 0) || !finite(c.ObsStd) {
		return fmt.Errorf("latent: invalid ObsStd %v", c.ObsStd)
	}
	if !(c.SigmaMin > 0) || !(c.SigmaMax > c.SigmaMin) || !finite(c.SigmaMax) {
		return fmt.Errorf("latent: need 0 < SigmaMin < SigmaMax, got %v, %v", c.SigmaMin, c.SigmaMax)
	}
	if !(c.Dt >= 0) || !finite(c.Dt) {
		return fmt.Errorf("latent: invalid Dt %v", c.Dt)
	}
	switch {
	case c.Method < solver.EulerMaruyama || c.Method > solver.ReversibleHeun:
		return fmt.Errorf("latent: unknown method %v", c.Method)
	case c.Adjoint == solver.Reversible && c.Method != solver.ReversibleHeun:
		return fmt.Errorf("latent: the Reversible adjoint needs ReversibleHeun, not %v", c.Method)
	case c.Adjoint == solver.Continuous && c.Method != solver.Midpoint:
		return fmt.Errorf("latent: the Continuous adjoint needs Midpoint, not %v", c.Method)
	case c.Adjoint < solver.Backprop || c.Adjoint > solver.Continuous:
		return fmt.Errorf("latent: unknown adjoint %v", c.Adjoint)
	}
	return nil
}

// StepStats reports one training step; the losses are means over the minibatch.
type StepStats struct {
	Step   int     // steps taken so far, this one included
	Loss   float64 // −ELBO = −LogLik + KL0 + KLPath (unweighted by KLAnneal)
	LogLik float64 // Σ_t log p(x_t | z_t)
	KL0    float64 // KL(q(z₀)‖p(z₀))
	KLPath float64 // ℓ_T, the KL between the posterior and prior path measures
	// Reconstruction is the adjoint's largest reconstruction error of the initial state
	// (Reversible, Continuous; 0 for Backprop).
	Reconstruction float64
	LR             float64 // learning rate of the update
	Averaged       bool    // whether the weight average was updated
	Seconds        float64 // wall time of the step
}

// Model is a latent SDE with its optimiser. It is not safe for concurrent use.
type Model struct {
	cfg     Config
	e       *engine[float32]
	opt     *optim.Adam[float32]
	swa     *optim.SWA[float32]
	step    int
	perm    []int
	tensors []tensor
}

// New returns a latent SDE for data observed at times (strictly increasing, at least 2),
// initialised from cfg.Seed.
func New(cfg Config, times []float64, opts ...Option) (*Model, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if len(times) < 2 {
		return nil, fmt.Errorf("latent: need at least 2 times, got %d", len(times))
	}
	for i, t := range times {
		if !finite(t) || (i > 0 && !(t > times[i-1])) {
			return nil, fmt.Errorf("latent: times must be finite and strictly increasing (times[%d] = %v)", i, t)
		}
	}
	e, err := newEngine[float32](cfg, times)
	if err != nil {
		return nil, err
	}
	if o.engine != nil {
		if err := e.useEngine(o.engine); err != nil {
			return nil, err
		}
	}
	m := &Model{cfg: cfg, e: e}
	if m.opt, err = optim.NewAdam[float32](len(e.params), optim.AdamConfig{LR: cfg.LR, WeightDecay: cfg.WeightDecay}); err != nil {
		return nil, err
	}
	if m.swa, err = optim.NewSWA[float32](len(e.params), 0); err != nil {
		return nil, err
	}
	m.tensors = e.layout()
	return m, nil
}

// Config returns the configuration.
func (m *Model) Config() Config { return m.cfg }

// Times returns the output times (a copy).
func (m *Model) Times() []float64 { return append([]float64(nil), m.e.times...) }

// Steps is the number of steps taken (including any that failed with ErrNonFinite).
func (m *Model) Steps() int { return m.step }

// SWACount is the number of parameter sets averaged so far.
func (m *Model) SWACount() int { return m.swa.N() }

// NumParams is the number of network parameters (encoder, vector fields, decoder, p(z₀)).
func (m *Model) NumParams() int { return len(m.e.params) }

// Dt is the solvers' step in use (Config.Dt, or the smallest spacing of the times).
func (m *Model) Dt() float64 { return m.e.opt.Dt }

func (m *Model) checkData(real *dataset.Paths) error {
	if err := real.Fits(m.e.times, m.cfg.DataChannels); err != nil {
		return fmt.Errorf("latent: %w", err)
	}
	return nil
}

// fill writes the paths idx of real into the engine's observation buffer.
func (m *Model) fill(real *dataset.Paths, idx []int) error {
	e := m.e
	w := e.T * e.C
	e.ensure(len(idx))
	for j, n := range idx {
		dst := e.x[j*w : (j+1)*w]
		for i, v := range real.Path(n) {
			if !finite(v) {
				return fmt.Errorf("latent: path %d has value %v at time %d, channel %d; interpolate missing values first", n, v, i/e.C, i%e.C)
			}
			dst[i] = float32(v)
		}
	}
	return nil
}

// minibatch draws step k's paths: Batch distinct paths uniformly (with replacement when
// the data set has fewer than Batch paths), from a seed hashed from (Seed, k).
func (m *Model) minibatch(n, k int) []int {
	m.perm = dataset.MinibatchIndices(m.perm, n, m.cfg.Batch, seeds.Derive(m.cfg.Seed, streamTrainData, uint64(k)))
	return m.perm
}

// klWeight is the KL annealing weight at step index k.
func (m *Model) klWeight(k int) float64 {
	if m.cfg.KLAnneal <= 0 {
		return 1
	}
	return min(1, float64(k+1)/float64(m.cfg.KLAnneal))
}

// Step takes one training step on a minibatch of real (normalised, no missing values;
// its times must be the model's): one gradient of the loss and one Adam update, and the
// weight average's update when due. If the loss or the gradient is not finite it
// returns an error wrapping ErrNonFinite and leaves parameters, optimiser state and
// average untouched; the step's noise is consumed all the same.
func (m *Model) Step(real *dataset.Paths) (StepStats, error) {
	start := time.Now()
	if err := m.checkData(real); err != nil {
		return StepStats{}, err
	}
	e := m.e
	k := m.step
	b := m.cfg.Batch
	if err := m.fill(real, m.minibatch(real.N, k)); err != nil {
		return StepStats{Step: m.step}, err
	}
	m.step++
	loss, err := e.lossGrad(b, e.params, seeds.Derive(m.cfg.Seed, streamTrainEps, uint64(k)), seeds.Derive(m.cfg.Seed, streamTrainBM, uint64(k)), true, m.klWeight(k))
	st := StepStats{Step: m.step, Loss: loss, LogLik: e.lastLogLik, KL0: e.lastKL0, KLPath: e.lastKLPath, Reconstruction: e.lastRecon}
	if err == nil && !vec.AllFinite(e.grad) {
		err = fmt.Errorf("%w at step %d (loss %v)", ErrNonFinite, m.step, loss)
	}
	if err != nil {
		st.Seconds = time.Since(start).Seconds()
		return st, err
	}
	st.LR = m.cfg.LR * math.Pow(m.cfg.LRDecay, float64(m.opt.Steps()))
	if err := m.opt.SetLR(st.LR); err != nil {
		return st, err
	}
	m.opt.Step(e.params, e.grad)
	if s := m.cfg.SWAFrom(); s >= 0 && k > s {
		m.swa.Update(e.params)
		st.Averaged = true
	}
	st.Seconds = time.Since(start).Seconds()
	return st, nil
}

// SampleChunk is the number of paths Sample solves at once. It is fixed so that the
// noise of path p depends only on (seed, p).
const SampleChunk = 2048

func (m *Model) params(averaged bool) []float32 {
	if averaged && m.swa.N() > 0 {
		return m.swa.State()
	}
	return m.e.params
}

// Sample generates n paths from the prior at the model's times: z₀ ~ p(z₀), the prior
// SDE dz = h dt + σ∘dW (with the configured Method and Dt), decoded to the mean
// observation (no observation noise added), in the units of the training data
// (normalised), with channels named "y0", "y1", …. averaged selects the weight average
// (the current parameters when there is none). Path p depends only on (seed, p) and the
// parameters, not on n.
func (m *Model) Sample(n int, seed uint64, averaged bool) (*dataset.Paths, error) {
	if n < 1 {
		return nil, fmt.Errorf("latent: Sample of %d paths", n)
	}
	e := m.e
	T, C := e.T, e.C
	out := &dataset.Paths{Times: m.Times(), N: n, Values: make([]float64, n*T*C)}
	for c := range C {
		out.Channels = append(out.Channels, fmt.Sprintf("y%d", c))
	}
	p := m.params(averaged)
	epsSeed := seeds.Derive(seed, streamSampleEps, 0)
	for k := 0; k*SampleChunk < n; k++ {
		p0 := k * SampleChunk
		b := min(SampleChunk, n-p0)
		if err := e.sample(b, p, epsSeed, p0, seeds.Derive(seed, streamSampleBM, uint64(k))); err != nil {
			return nil, err
		}
		for t := range T {
			for j := range b {
				src := e.xh[(t*b+j)*C : (t*b+j+1)*C]
				dst := out.Values[((p0+j)*T+t)*C:]
				for c, v := range src {
					dst[c] = float64(v)
				}
			}
		}
	}
	return out, nil
}

// Evaluate returns the mean negative ELBO over all of real with the current parameters,
// in batches of Config.Batch paths in order, the noise (ε and Brownian motion) from seed:
// the test-set loss. It computes no gradient.
func (m *Model) Evaluate(real *dataset.Paths, seed uint64) (float64, error) {
	if err := m.checkData(real); err != nil {
		return math.NaN(), err
	}
	var total float64
	idx := make([]int, 0, m.cfg.Batch)
	for k := 0; k*m.cfg.Batch < real.N; k++ {
		p0 := k * m.cfg.Batch
		b := min(m.cfg.Batch, real.N-p0)
		idx = idx[:0]
		for j := range b {
			idx = append(idx, p0+j)
		}
		if err := m.fill(real, idx); err != nil {
			return math.NaN(), err
		}
		loss, err := m.e.lossGrad(b, m.e.params, seeds.Derive(seed, streamEvalEps, uint64(k)), seeds.Derive(seed, streamEvalBM, uint64(k)), false, 1)
		if err != nil {
			return math.NaN(), err
		}
		total += loss * float64(b)
	}
	return total / float64(real.N), nil
}
