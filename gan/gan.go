// Package gan is the SDE-GAN of Kidger et al. (2021), "Efficient and Accurate Gradients
// for Neural SDEs", set up as torchsde's examples/sde_gan.py: a neural SDE generator
// and a neural CDE discriminator, both solved with reversible Heun and its algebraic
// adjoint, trained on the Wasserstein loss with weight clipping, Adadelta and
// stochastic weight averaging.
//
// Generator: V ~ N(0, I) (InitialNoise channels), X₀ = ζ(V) (MLP, LipSwish, no final
// tanh), dX = μ(t,X)dt + σ(t,X)∘dW (neuralsde.GeneratorConfig sizes: tanh outputs,
// General noise of NoiseDim channels), Y = ℓ(X) (linear readout) at every output time.
//
// Discriminator: over the path X̂ = [t, Y] (linearly interpolated), H₀ = ξ(X̂₀),
// dH = g(t,H)·dX̂ (neuralsde.NeuralCDE), score m·H_T (linear); D(batch) = mean score.
//
// Loss L = mean D(fake) − mean D(real). One step computes ∇L for both networks in one
// pass (the gradient reaches the generator through the control of the discriminator's
// CDE); the discriminator descends L, the generator descends −L. After the update every
// discriminator weight matrix (not bias) is clipped entrywise to ±1/out_features.
//
// Initialisation as the example: PyTorch's nn.Linear default, then the generator's
// initial MLP ×3 and its vector fields ×0.5.
//
// Randomness: everything derives from Config.Seed. Step k draws the initial noise, the
// Brownian Interval and the real minibatch from seeds hashed from (Seed, k), so a run is
// reproducible bit for bit (whatever GOMAXPROCS is) and resumable from Params.
//
// The model computes in float32; the same code runs in float64 in the tests, where its
// gradient is checked against finite differences.
package gan

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/gosde/gosde/dataset"
	"github.com/gosde/gosde/host"
	"github.com/gosde/gosde/internal/seeds"
	"github.com/gosde/gosde/internal/vec"
	"github.com/gosde/gosde/optim"
	"github.com/gosde/gosde/sigkernel"
)

// ErrNonFinite is wrapped by the error Step returns when the loss, a gradient or a solve
// is not finite; the step is then not applied.
var ErrNonFinite = errors.New("gan: non-finite loss or gradient")

// Config configures an SDE-GAN.
type Config struct {
	DataChannels int // C, channels of the data (the discriminator's control has 1 + C)
	InitialNoise int // size of V (5)
	Hidden       int // hidden state of the generator's SDE and the discriminator's CDE (16)
	NoiseDim     int // Brownian channels of the generator (3)
	Width        int // MLP width (16)
	Depth        int // hidden layers of every MLP (1); 0 is an affine map
	Batch        int // paths per step, generated and real each (1024)
	// Steps is the intended length of training. Step does not stop there; it only sets
	// the default SWA start.
	Steps       int
	GenLR       float64 // Adadelta learning rate of the generator (2e-4)
	DiscLR      float64 // Adadelta learning rate of the discriminator (1e-3)
	WeightDecay float64 // Adadelta weight decay, both networks (0.01)
	// DiscSteps is the number of discriminator updates per generator update (WGAN's
	// n_critic); 0 or 1 updates both every step, as the example does. With n > 1 every
	// step computes the loss and updates the discriminator, and the generator is
	// updated on step indices n−1, 2n−1, … only (0-based), so 10,000 steps make 10,000
	// discriminator and 10,000/n generator updates.
	DiscSteps int
	// SWAStart: the averages of both networks are updated after step index s (0-based)
	// when s > SWAStart, as the example does (torch's `if step > swa_step_start`). A
	// negative value means Steps/2 (5000 for the default 10,000 steps).
	SWAStart int
	// Dt is the solvers' largest step (1, as the example with times 0…63); each interval
	// between output times is split into ⌈Δt/Dt⌉ equal steps.
	Dt   float64
	Seed uint64
	// Objective is what the generator is trained by: ObjectiveWasserstein ("" too),
	// the SDE-GAN, or ObjectiveSigKer, the signature-kernel scoring rule (no
	// discriminator: DiscLR, WeightDecay and DiscSteps are then unused, GenLR too, the
	// rate being SigKer.LR).
	Objective string `json:",omitempty"`
	// SigKer configures the signature-kernel objective.
	SigKer SigKerConfig `json:",omitzero"`
}

// sigKer reports whether the generator is trained by the signature-kernel objective.
func (c Config) sigKer() bool { return c.Objective == ObjectiveSigKer }

// DefaultSigKer is DefaultConfig with the signature-kernel objective and its defaults:
// batch 64 generated and 64 real paths, 3,000 steps, weight averaging from half way.
func DefaultSigKer() Config {
	c := DefaultConfig()
	c.Objective, c.SigKer = ObjectiveSigKer, DefaultSigKerConfig()
	c.Batch, c.Steps = 64, 3000
	return c
}

// DefaultConfig is the reference setting of docs/DESIGN.md ("The SDE-GAN") and
// torchsde's example, for one data channel: sizes 5/16/3/16/1, batch 1024, 10,000 steps, Adadelta 2e-4 and 1e-3 with
// weight decay 0.01, both networks updated every step, SWA from step 5,000 (SWAStart
// −1: half of Steps), Dt 1.
func DefaultConfig() Config {
	return Config{
		DataChannels: 1, InitialNoise: 5, Hidden: 16, NoiseDim: 3, Width: 16, Depth: 1,
		Batch: 1024, Steps: 10000, GenLR: 2e-4, DiscLR: 1e-3, WeightDecay: 0.01,
		DiscSteps: 1, SWAStart: -1, Dt: 1,
	}
}

// SWAFrom is the resolved SWAStart.
func (c Config) SWAFrom() int {
	if c.SWAStart < 0 {
		return c.Steps / 2
	}
	return c.SWAStart
}

// updatesGenerator reports whether step index k (0-based) updates the generator.
func (c Config) updatesGenerator(k int) bool {
	n := max(c.DiscSteps, 1)
	return k%n == n-1
}

func (c Config) check() error {
	if c.DataChannels < 1 || c.InitialNoise < 1 || c.Hidden < 1 || c.NoiseDim < 1 || c.Width < 1 || c.Depth < 0 || c.Batch < 1 || c.Steps < 0 {
		return fmt.Errorf("gan: invalid sizes in %+v", c)
	}
	if c.DiscSteps < 0 {
		return fmt.Errorf("gan: %d discriminator steps per generator step; give 1 or more", c.DiscSteps)
	}
	if err := optim.CheckRates("generator learning rate", c.GenLR, c.WeightDecay); err != nil {
		return fmt.Errorf("gan: %w", err)
	}
	if err := optim.CheckRates("discriminator learning rate", c.DiscLR, 0); err != nil {
		return fmt.Errorf("gan: %w", err)
	}
	if !(c.Dt > 0) || math.IsInf(c.Dt, 0) {
		return fmt.Errorf("gan: invalid Dt %v", c.Dt)
	}
	switch c.Objective {
	case "", ObjectiveWasserstein:
	case ObjectiveSigKer:
		if c.Batch < 2 {
			return fmt.Errorf("gan: the signature-kernel score needs a batch of at least 2 paths, got %d", c.Batch)
		}
		return c.SigKer.check()
	default:
		return fmt.Errorf("gan: unknown objective %q: choose %s or %s", c.Objective, ObjectiveWasserstein, ObjectiveSigKer)
	}
	return nil
}

// StepStats reports one training step.
type StepStats struct {
	Step int // steps taken so far, this one included
	// DiscLoss is L = mean D(fake) − mean D(real), what the discriminator descends;
	// GenLoss = −L = mean D(real) − mean D(fake), what the generator descends, is the
	// Wasserstein-1 estimate (with a 1-Lipschitz discriminator).
	DiscLoss, GenLoss    float64
	FakeScore, RealScore float64 // mean D(fake), mean D(real)
	// GenReconstruction and DiscReconstruction are the reversible adjoints' largest
	// reconstruction errors of the initial states in the backward passes.
	GenReconstruction, DiscReconstruction float64
	Averaged                              bool    // whether the SWA averages were updated
	Seconds                               float64 // wall time of the step
	// Score is the signature-kernel objective's batch score (ObjectiveSigKer; GenLoss
	// is then its squared-MMD reading, Score.MMD2(), and the discriminator's fields
	// are zero).
	Score sigkernel.Score
}

// Model is an SDE-GAN with its optimisers and weight averages. It is not safe for
// concurrent use.
type Model struct {
	cfg        Config
	e          *engine[float32]
	gOpt, dOpt *optim.Adadelta[float32]
	gSWA, dSWA *optim.SWA[float32]
	step       int
	perm       []int
	tensors    []tensor
	dev        deviceState
	// gAdam and sig are the generator's optimiser and state under ObjectiveSigKer
	// (gOpt, dOpt and dSWA are then unused).
	gAdam *optim.Adam[float32]
	sig   sigKer
}

// Option configures New.
type Option func(*options)

type options struct {
	engine host.Engine
}

// WithEngine solves the generator's SDE and the discriminator's CDE on eng instead of
// the CPU engine (nil keeps the CPU). The model does not own eng: Close the model
// first, then the engine.
func WithEngine(eng host.Engine) Option {
	return func(o *options) { o.engine = eng }
}

// New returns an SDE-GAN for data observed at times (strictly increasing, at least 2),
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
		return nil, fmt.Errorf("gan: need at least 2 times, got %d", len(times))
	}
	for i, t := range times {
		if math.IsNaN(t) || math.IsInf(t, 0) || (i > 0 && !(t > times[i-1])) {
			return nil, fmt.Errorf("gan: times must be finite and strictly increasing (times[%d] = %v)", i, t)
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
	if m.gOpt, err = optim.NewAdadelta[float32](len(e.genP), optim.AdadeltaConfig{LR: cfg.GenLR, WeightDecay: cfg.WeightDecay}); err != nil {
		return nil, fmt.Errorf("gan: generator optimiser: %w", err)
	}
	if m.dOpt, err = optim.NewAdadelta[float32](len(e.discP), optim.AdadeltaConfig{LR: cfg.DiscLR, WeightDecay: cfg.WeightDecay}); err != nil {
		return nil, fmt.Errorf("gan: discriminator optimiser: %w", err)
	}
	// SWA's start is applied by Step (torch's "step > swa_step_start"), so the
	// averages are updated unconditionally when called.
	if m.gSWA, err = optim.NewSWA[float32](len(e.genP), 0); err != nil {
		return nil, err
	}
	if m.dSWA, err = optim.NewSWA[float32](len(e.discP), 0); err != nil {
		return nil, err
	}
	m.tensors = e.layout()
	if cfg.sigKer() {
		if m.gAdam, err = optim.NewAdam[float32](len(e.genP), optim.AdamConfig{LR: cfg.SigKer.LR}); err != nil {
			return nil, fmt.Errorf("gan: generator optimiser: %w", err)
		}
		m.tensors = slices.DeleteFunc(m.tensors, func(t tensor) bool { return t.disc })
		if o.engine != nil {
			m.sig.eng, _ = o.engine.(host.SigKernelEngine)
		}
	}
	return m, nil
}

// Config returns the configuration.
func (m *Model) Config() Config { return m.cfg }

// Close releases the solvers the model holds on its engine (device memory on a GPU),
// after copying a device-held training state back to the host. A model used after
// Close makes new ones, so Close the engine only after its models.
func (m *Model) Close() error {
	err := errors.Join(m.Sync(), m.closeScorers())
	if m.dev.loss != nil {
		err = errors.Join(err, m.dev.loss.Close())
		m.dev = deviceState{}
	}
	return errors.Join(err, m.e.solvers.close())
}

// Times returns the output times (a copy).
func (m *Model) Times() []float64 { return append([]float64(nil), m.e.times...) }

// Steps is the number of steps taken (including any that failed with ErrNonFinite).
func (m *Model) Steps() int { return m.step }

// SetSWAStart moves the start of the weight averages (Config.SWAStart) to after step
// index s, for a caller that decides it as training goes (half of a time budget); the
// steps already taken are not averaged retroactively.
func (m *Model) SetSWAStart(s int) error {
	if s < 0 {
		return fmt.Errorf("gan: SWA start %d; give a step index ≥ 0", s)
	}
	m.cfg.SWAStart = s
	return nil
}

// SWACount is the number of parameter sets averaged so far (0 before SWA starts).
func (m *Model) SWACount() int { return m.gSWA.N() }

// NumParams returns the number of parameters of the generator and the discriminator.
func (m *Model) NumParams() (gen, disc int) { return len(m.e.genP), len(m.e.discP) }

func (m *Model) checkData(real *dataset.Paths) error {
	if err := real.Fits(m.e.times, m.cfg.DataChannels); err != nil {
		return fmt.Errorf("gan: %w", err)
	}
	return nil
}

// fillReal writes the real paths idx into the engine's control buffer (batch len(idx)).
func (m *Model) fillReal(real *dataset.Paths, idx []int) error {
	b := len(idx)
	e := m.e
	e.ensure(b)
	for j, n := range idx {
		path := real.Path(n)
		for t := range e.T {
			dst := e.realSlot(b, t, j)
			for c := range dst {
				v := path[t*e.C+c]
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return fmt.Errorf("gan: real path %d has value %v at time %d, channel %d; interpolate missing values first", n, v, t, c)
				}
				dst[c] = float32(v)
			}
		}
	}
	return nil
}

// minibatch draws step k's real paths: Batch distinct paths uniformly (with replacement
// when the data set has fewer than Batch paths), from a seed hashed from (Seed, k).
func (m *Model) minibatch(n, k int) []int {
	m.perm = dataset.MinibatchIndices(m.perm, n, m.cfg.Batch, seeds.Derive(m.cfg.Seed, streamTrainData, uint64(k)))
	return m.perm
}

// Step takes one training step on a minibatch of real (normalised, no missing values;
// its times must be the model's): one gradient of the loss for both networks, one
// Adadelta update of the discriminator and, when due (Config.DiscSteps), of the
// generator, weight clipping of the discriminator, and the SWA update when due. If the
// loss or a gradient is not finite it returns an error wrapping ErrNonFinite and leaves
// parameters, optimiser state and averages untouched; the step's noise is consumed all
// the same, so the next Step draws afresh.
func (m *Model) Step(real *dataset.Paths) (StepStats, error) {
	start := time.Now()
	if err := m.checkData(real); err != nil {
		return StepStats{}, err
	}
	if m.cfg.sigKer() {
		return m.stepSigKer(real, start)
	}
	e := m.e
	k := m.step
	b := m.cfg.Batch
	if err := m.fillReal(real, m.minibatch(real.N, k)); err != nil {
		return StepStats{Step: m.step}, err
	}
	m.step++
	if e.solvers.ganEng != nil {
		st, err := m.stepDevice(k, StepStats{Step: m.step})
		st.Seconds = time.Since(start).Seconds()
		return st, err
	}
	loss, err := e.lossGrad(b, e.genP, e.discP, seeds.Derive(m.cfg.Seed, streamTrainV, uint64(k)), seeds.Derive(m.cfg.Seed, streamTrainBM, uint64(k)), true)
	st := StepStats{Step: m.step, DiscLoss: loss, GenLoss: -loss, FakeScore: e.lastFakeMean, RealScore: e.lastRealMean,
		GenReconstruction: e.lastGenRecon, DiscReconstruction: e.lastDiscRecon}
	if err == nil && (math.IsNaN(loss) || math.IsInf(loss, 0) || !vec.AllFinite(e.genG) || !vec.AllFinite(e.discG)) {
		err = fmt.Errorf("%w at step %d (loss %v)", ErrNonFinite, m.step, loss)
	}
	if err != nil {
		st.Seconds = time.Since(start).Seconds()
		return st, err
	}
	if m.cfg.updatesGenerator(k) {
		for i := range e.genG {
			e.genG[i] = -e.genG[i]
		}
		m.gOpt.Step(e.genP, e.genG)
	} else {
		// A discriminator-only step. The counter is the checkpoint's count of
		// completed steps, which Adadelta's arithmetic does not use.
		m.gOpt.SetSteps(m.gOpt.Steps() + 1)
	}
	m.dOpt.Step(e.discP, e.discG)
	e.clipDisc(e.discP)
	if k > m.cfg.SWAFrom() {
		m.gSWA.Update(e.genP)
		m.dSWA.Update(e.discP)
		st.Averaged = true
	}
	st.Seconds = time.Since(start).Seconds()
	return st, nil
}

// SampleChunk is the number of paths Sample solves at once. It is fixed so that the
// noise of path p depends only on (seed, p).
const SampleChunk = 2048

func (m *Model) params(averaged bool) (gen, disc []float32) {
	m.Sync() // on failure: the last synced state, and the error is kept for the next Step
	if averaged && m.gSWA.N() > 0 {
		return m.gSWA.State(), m.dSWA.State()
	}
	return m.e.genP, m.e.discP
}

// Sample generates n paths at the model's times, in the units of the training data
// (normalised), with channels named "y0", "y1", … (rename them). averaged selects the
// SWA average of the generator (the current parameters before SWA has started, see
// SWACount). Path p depends only on (seed, p) and the parameters, not on n.
func (m *Model) Sample(n int, seed uint64, averaged bool) (*dataset.Paths, error) {
	if n < 1 {
		return nil, fmt.Errorf("gan: Sample of %d paths", n)
	}
	if err := m.Sync(); err != nil {
		return nil, err
	}
	e := m.e
	T, C := e.T, e.C
	out := &dataset.Paths{Times: m.Times(), N: n, Values: make([]float64, n*T*C)}
	for c := range C {
		out.Channels = append(out.Channels, fmt.Sprintf("y%d", c))
	}
	gp, _ := m.params(averaged)
	vSeed := seeds.Derive(seed, streamSampleV, 0)
	for k := 0; k*SampleChunk < n; k++ {
		p0 := k * SampleChunk
		b := min(SampleChunk, n-p0)
		if _, _, err := e.generate(b, gp, vSeed, p0, seeds.Derive(seed, streamSampleBM, uint64(k)), true); err != nil {
			return nil, err
		}
		for t := range T {
			for j := range b {
				src := e.ys[(t*b+j)*C : (t*b+j+1)*C]
				dst := out.Values[((p0+j)*T+t)*C:]
				for c, v := range src {
					dst[c] = float64(v)
				}
			}
		}
	}
	return out, nil
}

// Evaluate returns the loss mean D(fake) − mean D(real) over all of real, in batches of
// Config.Batch paths in order, each against as many generated paths (noise from seed),
// with the current or (averaged) the SWA-averaged networks: the example's
// evaluate_loss. Its negative is the Wasserstein estimate.
func (m *Model) Evaluate(real *dataset.Paths, averaged bool, seed uint64) (float64, error) {
	if err := m.checkData(real); err != nil {
		return 0, err
	}
	if err := m.Sync(); err != nil {
		return math.NaN(), err
	}
	gp, dp := m.params(averaged)
	var total float64
	idx := make([]int, 0, m.cfg.Batch)
	for k := 0; k*m.cfg.Batch < real.N; k++ {
		p0 := k * m.cfg.Batch
		b := min(m.cfg.Batch, real.N-p0)
		idx = idx[:0]
		for j := range b {
			idx = append(idx, p0+j)
		}
		if err := m.fillReal(real, idx); err != nil {
			return math.NaN(), err
		}
		loss, err := m.e.lossGrad(b, gp, dp, seeds.Derive(seed, streamEvalV, uint64(k)), seeds.Derive(seed, streamEvalBM, uint64(k)), false)
		if err != nil {
			return math.NaN(), err
		}
		total += loss * float64(b)
	}
	return total / float64(real.N), nil
}
