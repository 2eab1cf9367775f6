package gan

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/gosde/gosde/dataset"
	"github.com/gosde/gosde/host"
	"github.com/gosde/gosde/internal/seeds"
	"github.com/gosde/gosde/internal/vec"
	"github.com/gosde/gosde/optim"
	"github.com/gosde/gosde/sigkernel"
)

// Objectives a Model trains its generator by.
const (
	// ObjectiveWasserstein is the SDE-GAN: the Wasserstein loss against a neural-CDE
	// discriminator (the default, also written as "").
	ObjectiveWasserstein = "wasserstein"
	// ObjectiveSigKer trains the generator alone, without a discriminator, by the
	// signature-kernel scoring rule of Issa, Horvath, Lemercier & Salvi (NeurIPS 2023):
	// each step minimises E k(X, X′) − 2 E k(X, y) over a batch of generated paths X and
	// real paths y, with k the signature kernel (package sigkernel), by Adam.
	ObjectiveSigKer = "sigker"
)

// SigKerConfig configures the signature-kernel objective (Config.Objective "sigker").
// The defaults (DefaultSigKerConfig) were chosen by measurement on the OU data set;
// README.md has the runs.
type SigKerConfig struct {
	// Static is the static kernel: "rbf" (default) or "linear".
	Static string `json:"static"`
	// Sigma2Scale sets the RBF kernel's σ² as this multiple of the median squared
	// distance between the real training set's points (time-augmented, normalised).
	Sigma2Scale float64 `json:"sigma2_scale"`
	// Refine is the kernel's dyadic refinement level (0: the grid of the times).
	Refine int `json:"refine"`
	// Times is how many of the data's times each step scores: both ends and Times − 2
	// interior times drawn afresh each step (0, or at least the data's, scores all).
	Times int `json:"times"`
	// TimeScale is the length of the time channel: a path enters the kernel as
	// [TimeScale·(t − t₀)/(t_end − t₀), y normalised per time and channel].
	TimeScale float64 `json:"time_scale"`
	// LeadLag enters each channel twice, as a lead and a lag coordinate, so that the
	// kernel sees the paths' quadratic variation (their roughness), at twice the
	// points per path.
	LeadLag bool `json:"lead_lag"`
	// LR is Adam's learning rate; Schedule "constant" keeps it, "cosine" decays it to
	// zero along a half cosine over Config.Steps.
	LR       float64 `json:"lr"`
	Schedule string  `json:"schedule"`
}

// DefaultSigKerConfig: RBF with σ² a quarter of the median squared distance, no
// refinement, 16 times per step, lead-lag, time channel of length 3, Adam 3e-3 with a
// cosine decay.
func DefaultSigKerConfig() SigKerConfig {
	return SigKerConfig{Static: "rbf", Sigma2Scale: 0.25, Times: 16, TimeScale: 3, LeadLag: true, LR: 3e-3, Schedule: "cosine"}
}

func (c SigKerConfig) check() error {
	if _, err := sigkernel.ParseStatic(c.Static); err != nil {
		return fmt.Errorf("gan: %w", err)
	}
	if err := optim.CheckRates("learning rate", c.LR, 0); err != nil {
		return fmt.Errorf("gan: %w", err)
	}
	switch {
	case c.Static == "rbf" && (!(c.Sigma2Scale > 0) || math.IsInf(c.Sigma2Scale, 0)):
		return fmt.Errorf("gan: the RBF static kernel's σ² scale must be positive, got %v", c.Sigma2Scale)
	case c.Refine < 0 || c.Refine > sigkernel.MaxRefine:
		return fmt.Errorf("gan: signature-kernel refinement %d, need 0…%d", c.Refine, sigkernel.MaxRefine)
	case c.Times < 0 || c.Times == 1:
		return fmt.Errorf("gan: %d times per step; give 0 (all) or at least 2", c.Times)
	case !(c.TimeScale > 0) || math.IsInf(c.TimeScale, 0):
		return fmt.Errorf("gan: time scale must be positive, got %v", c.TimeScale)
	case c.Schedule != "constant" && c.Schedule != "cosine":
		return fmt.Errorf("gan: unknown learning-rate schedule %q: choose constant or cosine", c.Schedule)
	}
	return nil
}

// sigKer is a Model's state for the signature-kernel objective.
type sigKer struct {
	// The real training set's statistics, from the first Step's data: per time and
	// channel mean and scale (time-major), and the kernel's σ².
	mean, scale []float64
	opt         sigkernel.Options
	ready       bool
	scorers     map[int]host.SigScorer // by path length and batch (see scorer)
	eng         host.SigKernelEngine
	gen, real   []float64
	grad        []float64
	// path and pt are scratch for one generated path and one embedded point.
	path, pt []float64
}

// lrAt is the learning rate of step index k (0-based).
func (c Config) lrAt(k int) float64 {
	lr := c.SigKer.LR
	if c.SigKer.Schedule == "cosine" && c.Steps > 0 {
		f := min(float64(k)/float64(c.Steps), 1)
		// Never zero: Adam refuses a zero rate, and the last steps still move a little.
		lr *= max(0.5*(1+math.Cos(math.Pi*f)), 1e-3)
	}
	return lr
}

// prepareSigKer computes the normalisation and σ² from the real training set.
func (m *Model) prepareSigKer(real *dataset.Paths) error {
	s := &m.sig
	if s.ready {
		return nil
	}
	T, C := m.e.T, m.e.C
	s.mean, s.scale = make([]float64, T*C), make([]float64, T*C)
	for t := range T {
		for c := range C {
			var sum, sq float64
			for n := range real.N {
				v := real.Path(n)[t*C+c]
				sum += v
				sq += v * v
			}
			mu := sum / float64(real.N)
			sd := math.Sqrt(max(sq/float64(real.N)-mu*mu, 0))
			s.mean[t*C+c], s.scale[t*C+c] = mu, sd
		}
	}
	// A channel that does not vary at some time (a fixed start) is scaled by its
	// spread over the other times, so that it neither divides by zero nor dominates.
	for c := range C {
		var top float64
		for t := range T {
			top = max(top, s.scale[t*C+c])
		}
		if top == 0 {
			top = 1
		}
		for t := range T {
			s.scale[t*C+c] = max(s.scale[t*C+c], 1e-3*top)
		}
	}
	st, _ := sigkernel.ParseStatic(m.cfg.SigKer.Static)
	s.opt = sigkernel.Options{Static: st, Refine: m.cfg.SigKer.Refine}
	if st == sigkernel.RBF {
		s.opt.Sigma2 = m.cfg.SigKer.Sigma2Scale * m.medianSquaredDistance(real)
		if !(s.opt.Sigma2 > 0) {
			return fmt.Errorf("gan: the real paths' points are all equal; the RBF kernel has no scale (use --static linear)")
		}
	}
	s.ready = true
	return nil
}

// medianSquaredDistance is the median squared distance between two points (any times)
// of the real training set, time-augmented and normalised, over 4,000 pairs drawn from
// the seed.
func (m *Model) medianSquaredDistance(real *dataset.Paths) float64 {
	rng := rand.New(rand.NewPCG(seeds.Derive(m.cfg.Seed, streamSigBandwidth, 0), 0))
	T, C := m.e.T, m.e.C
	a, b := make([]float64, 1+C), make([]float64, 1+C)
	d := make([]float64, 4000)
	for i := range d {
		m.point(a, real.Path(rng.IntN(real.N)), rng.IntN(T))
		m.point(b, real.Path(rng.IntN(real.N)), rng.IntN(T))
		for c := range a {
			d[i] += (a[c] - b[c]) * (a[c] - b[c])
			if c > 0 && m.cfg.SigKer.LeadLag {
				d[i] += (a[c] - b[c]) * (a[c] - b[c]) // the lag coordinate, equal at a time
			}
		}
	}
	slices.Sort(d)
	return d[len(d)/2]
}

// point writes the kernel's point of time index t of a path (T·C values, time-major).
func (m *Model) point(dst []float64, path []float64, t int) {
	e, C := m.e, m.e.C
	t0, t1 := e.times[0], e.times[e.T-1]
	dst[0] = m.cfg.SigKer.TimeScale * (e.times[t] - t0) / (t1 - t0)
	for c := range C {
		dst[1+c] = (path[t*C+c] - m.sig.mean[t*C+c]) / m.sig.scale[t*C+c]
	}
}

// scoredTimes returns the time indices step k scores: all, or both ends and
// Times − 2 distinct interior times drawn from (seed, k), in order.
func (m *Model) scoredTimes(seed uint64, k int) []int {
	T, K := m.e.T, m.cfg.SigKer.Times
	all := make([]int, T)
	for i := range all {
		all[i] = i
	}
	if K == 0 || K >= T {
		return all
	}
	rng := rand.New(rand.NewPCG(seeds.Derive(seed, streamSigTimes, uint64(k)), 0))
	inner := all[1 : T-1]
	rng.Shuffle(len(inner), func(i, j int) { inner[i], inner[j] = inner[j], inner[i] })
	ts := append([]int{0, T - 1}, inner[:K-2]...)
	slices.Sort(ts)
	return ts
}

// scorer returns the scorer for batches of b generated and b real paths of L points
// of dimension D.
func (m *Model) scorer(b, L, D int) (host.SigScorer, error) {
	s := &m.sig
	key := L*1<<20 + b
	if sc, ok := s.scorers[key]; ok {
		return sc, nil
	}
	spec := host.SigScoreSpec{M: b, N: b, Len: L, Dim: D, Kernel: s.opt, RealWithin: true}
	var sc host.SigScorer
	var err error
	if s.eng != nil {
		sc, err = s.eng.NewSigScorer(spec)
	} else {
		sc, err = host.NewCPUSigScorer(spec)
	}
	if err != nil {
		return nil, fmt.Errorf("gan: signature-kernel scorer: %w", err)
	}
	if s.scorers == nil {
		s.scorers = map[int]host.SigScorer{}
	}
	if len(s.scorers) >= maxSolvers {
		if err := m.closeScorers(); err != nil {
			return nil, errors.Join(err, sc.Close())
		}
	}
	s.scorers[key] = sc
	return sc, nil
}

func (m *Model) closeScorers() error {
	var err error
	for k, sc := range m.sig.scorers {
		err = errors.Join(err, sc.Close())
		delete(m.sig.scorers, k)
	}
	return err
}

// shape is the kernel's path for K scored times: K points [τ, z], or with lead-lag
// 2K−1 points [τ, z_lead, z_lag].
func (m *Model) shape(K int) (length, dim int) {
	if m.cfg.SigKer.LeadLag {
		return 2*K - 1, 1 + 2*m.e.C
	}
	return K, 1 + m.e.C
}

// embed writes the kernel's path of a data path (T·C values, time-major) at the time
// indices ts into dst. With lead-lag the path steps the lead coordinate first, then
// the lag: (τᵢ, zᵢ, zᵢ), (τᵢ₊₁, zᵢ₊₁, zᵢ), (τᵢ₊₁, zᵢ₊₁, zᵢ₊₁), … — its Lévy area
// between lead and lag is the quadratic variation, which the signature of the plain
// piecewise-linear path does not see.
func (m *Model) embed(dst []float64, path []float64, ts []int, pt []float64) {
	C := m.e.C
	_, D := m.shape(len(ts))
	if !m.cfg.SigKer.LeadLag {
		for i, t := range ts {
			m.point(dst[i*D:(i+1)*D], path, t)
		}
		return
	}
	for i, t := range ts {
		m.point(pt, path, t)
		if i > 0 {
			// (τᵢ, zᵢ, zᵢ₋₁): the lag still holds the previous point's values.
			q := dst[(2*i-1)*D : 2*i*D]
			q[0] = pt[0]
			copy(q[1:1+C], pt[1:])
			copy(q[1+C:], dst[(2*i-2)*D+1+C:(2*i-1)*D])
		}
		q := dst[2*i*D : (2*i+1)*D]
		q[0] = pt[0]
		copy(q[1:1+C], pt[1:])
		copy(q[1+C:], pt[1:])
	}
}

// scoreBatch generates b paths with parameters gp (noise from vSeed and bmSeed),
// scores them against the real paths idx at the times ts, and, when grad is set, adds
// the gradient of the score's Value into e.genG.
func (m *Model) scoreBatch(real *dataset.Paths, idx, ts []int, gp []float32, vSeed, bmSeed uint64, grad bool) (sigkernel.Score, error) {
	e, s := m.e, &m.sig
	b, K, C := len(idx), len(ts), m.e.C
	L, D := m.shape(K)
	e.ensure(b)
	gsol, _, err := e.generate(b, gp, vSeed, 0, bmSeed, !grad)
	if err != nil {
		return sigkernel.Score{}, err
	}
	n := b * L * D
	s.gen = slices.Grow(s.gen[:0], n)[:n]
	s.real = slices.Grow(s.real[:0], n)[:n]
	s.path = slices.Grow(s.path[:0], e.T*C)[:e.T*C]
	s.pt = slices.Grow(s.pt[:0], 1+C)[:1+C]
	path, pt := s.path, s.pt
	for p := range b {
		for t := range e.T {
			for c := range C {
				path[t*C+c] = float64(e.ys[(t*b+p)*C+c])
			}
		}
		m.embed(s.gen[p*L*D:(p+1)*L*D], path, ts, pt)
		m.embed(s.real[p*L*D:(p+1)*L*D], real.Path(idx[p]), ts, pt)
	}
	for i, v := range s.real {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return sigkernel.Score{}, fmt.Errorf("gan: real path %d has a missing or infinite value; interpolate missing values first", idx[i/(L*D)])
		}
	}
	sc, err := m.scorer(b, L, D)
	if err != nil {
		return sigkernel.Score{}, err
	}
	var g []float64
	if grad {
		s.grad = slices.Grow(s.grad[:0], n)[:n]
		g = s.grad
	}
	score, err := sc.Score(s.gen, s.real, g)
	if err != nil {
		return score, fmt.Errorf("gan: signature-kernel score: %w", err)
	}
	if !grad {
		return score, nil
	}
	// ∂Value/∂Y: the time channel is not the generator's; a value enters through its
	// lead and lag coordinates (lead-lag), each divided by the real set's scale at its
	// time.
	aYs := e.aYs[:e.T*b*C]
	clear(aYs)
	ll := m.cfg.SigKer.LeadLag
	for p := range b {
		gi := g[p*L*D : (p+1)*L*D]
		for i, t := range ts {
			for c := range C {
				var v float64
				if !ll {
					v = gi[i*D+1+c]
				} else {
					v = gi[2*i*D+1+c] + gi[2*i*D+1+C+c] // point 2i: lead and lag
					if i > 0 {
						v += gi[(2*i-1)*D+1+c] // point 2i−1: lead
					}
					if i < K-1 {
						v += gi[(2*i+1)*D+1+C+c] // point 2i+1: lag
					}
				}
				aYs[(t*b+p)*C+c] = float32(v / s.scale[t*C+c])
			}
		}
	}
	clear(e.genG)
	if err := e.backwardGenerator(gsol, b, aYs); err != nil {
		return score, err
	}
	return score, nil
}

// stepSigKer is Step for the signature-kernel objective.
func (m *Model) stepSigKer(real *dataset.Paths, start time.Time) (StepStats, error) {
	if err := m.prepareSigKer(real); err != nil {
		return StepStats{Step: m.step}, err
	}
	e, k := m.e, m.step
	idx := m.minibatch(real.N, k)
	m.step++
	st := StepStats{Step: m.step}
	score, err := m.scoreBatch(real, idx, m.scoredTimes(m.cfg.Seed, k), e.genP,
		seeds.Derive(m.cfg.Seed, streamTrainV, uint64(k)), seeds.Derive(m.cfg.Seed, streamTrainBM, uint64(k)), true)
	st.Score, st.GenReconstruction = score, e.lastGenRecon
	st.GenLoss = score.MMD2()
	if err == nil && (math.IsNaN(score.Value()) || math.IsInf(score.Value(), 0) || !vec.AllFinite(e.genG)) {
		err = fmt.Errorf("%w at step %d (score %v)", ErrNonFinite, m.step, score.Value())
	}
	if err != nil {
		st.Seconds = time.Since(start).Seconds()
		return st, err
	}
	if err := m.gAdam.SetLR(m.cfg.lrAt(k)); err != nil {
		return st, fmt.Errorf("gan: %w", err)
	}
	m.gAdam.Step(e.genP, e.genG)
	if k > m.cfg.SWAFrom() {
		m.gSWA.Update(e.genP)
		st.Averaged = true
	}
	st.Seconds = time.Since(start).Seconds()
	return st, nil
}

// EvaluateScore returns the unbiased squared MMD of the signature kernel (the
// objective's Value plus the real set's constant) between generated paths (noise
// from seed) and the real paths of test, in batches of Config.Batch, at evenly spaced
// times (Config.SigKer.Times of them, ends included), with the current or (averaged)
// the averaged generator; the mean over batches. The normalisation and σ² are those
// of the training set, which must have been seen by Step (or SetParams's resume).
func (m *Model) EvaluateScore(train, test *dataset.Paths, averaged bool, seed uint64) (float64, error) {
	if m.cfg.Objective != ObjectiveSigKer {
		return math.NaN(), fmt.Errorf("gan: EvaluateScore is for the %q objective", ObjectiveSigKer)
	}
	if err := m.checkData(test); err != nil {
		return math.NaN(), err
	}
	if err := m.checkData(train); err != nil {
		return math.NaN(), err
	}
	if err := m.prepareSigKer(train); err != nil {
		return math.NaN(), err
	}
	T, K := m.e.T, m.cfg.SigKer.Times
	if K == 0 || K > T {
		K = T
	}
	ts := make([]int, K)
	for i := range ts {
		ts[i] = int(math.Round(float64(i) * float64(T-1) / float64(K-1)))
	}
	gp, _ := m.params(averaged)
	b := min(m.cfg.Batch, test.N)
	if b < 2 {
		return math.NaN(), fmt.Errorf("gan: the test set has %d paths; the score needs at least 2", test.N)
	}
	var total float64
	batches := test.N / b
	idx := make([]int, b)
	for k := range batches {
		for j := range idx {
			idx[j] = k*b + j
		}
		s, err := m.scoreBatch(test, idx, ts, gp, seeds.Derive(seed, streamEvalV, uint64(k)), seeds.Derive(seed, streamEvalBM, uint64(k)), false)
		if err != nil {
			return math.NaN(), err
		}
		total += s.MMD2()
	}
	return total / float64(batches), nil
}
