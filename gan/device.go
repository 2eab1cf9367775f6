package gan

import (
	"fmt"
	"math"

	"github.com/gosde/gosde/brownian"
	"github.com/gosde/gosde/host"
	"github.com/gosde/gosde/internal/seeds"
	"github.com/gosde/gosde/optim"
)

// lossGradDevice is lossGrad on an engine that runs the whole loss and gradient on
// its device (host.GANEngine): the model sends what a step draws — the initial noise,
// the real minibatch, the Brownian motion — and the parameters, and gets back the
// means and the gradients. It is only reachable for engine[float32] (useEngine).
func (e *engine[F]) lossGradDevice(b int, gp, dp []F, vSeed, bmSeed uint64, grad bool) (float64, error) {
	l, err := e.solvers.loss(e.ganSpec(), host.Problem{Ts: e.times, Dt: e.cfg.Dt, Batch: b})
	if err != nil {
		return math.NaN(), fmt.Errorf("gan: %w", err)
	}
	v, real := e.deviceInputs(b, vSeed)
	mo, err := e.trainMotion(b, bmSeed)
	if err != nil {
		return math.NaN(), err
	}
	st, err := l.LossGrad(f32(gp), f32(dp), v, real, mo, grad, f32(e.genG), f32(e.discG))
	if err != nil {
		return math.NaN(), fmt.Errorf("gan: %w", err)
	}
	e.lastFakeMean, e.lastRealMean = st.FakeMean, st.RealMean
	e.lastGenRecon, e.lastDiscRecon = st.GenReconstruction, st.DiscReconstruction
	return st.FakeMean - st.RealMean, nil
}

func f32[F any](x []F) []float32 { return any(x).([]float32) }

func (e *engine[F]) ganSpec() host.GANSpec {
	return host.GANSpec{Generator: e.genSpec, Discriminator: e.discSpec,
		GenInitial: e.gInit, GenReadout: e.gRead, DiscInitial: e.dInit, DiscReadout: e.dRead}
}

// deviceInputs draws what a device-side loss needs of the host for b paths besides
// the generator's Brownian motion (trainMotion): the initial noise and the real paths
// (already in the data channels of the second half of the control, see realSlot)
// time-major.
func (e *engine[F]) deviceInputs(b int, vSeed uint64) (v, real []float32) {
	e.ensure(b)
	T, C := e.T, e.C
	e.noise(b, vSeed, 0)
	r := e.aYs[:T*b*C] // free: the backward pass that uses it runs on the device
	for t := range T {
		for j := range b {
			copy(r[(t*b+j)*C:(t*b+j+1)*C], e.realSlot(b, t, j))
		}
	}
	return f32(e.v[:b*e.cfg.InitialNoise]), f32(r)
}

// trainMotion is the generator's Brownian motion of a loss on the device.
func (e *engine[F]) trainMotion(b int, seed uint64) (*brownian.Interval, error) {
	mo, err := brownian.NewInterval(e.times[0], e.times[e.T-1], b, e.cfg.NoiseDim, seed)
	if err != nil {
		return nil, fmt.Errorf("gan: Brownian motion: %w", err)
	}
	return mo, nil
}

// deviceState is the training state of a Model whose engine runs whole steps on its
// device (host.GANEngine): Step leaves parameters, optimiser state and averages there,
// and the host's copies are brought up to date only when something reads them (Sync).
type deviceState struct {
	loss  host.GANLoss // the training batch's; not in the solver cache, whose evictions would lose it
	fresh bool         // the device holds the host's state
	stale bool         // the host's copies are behind the device's
	err   error        // a failed Sync, returned by the next Step
	// ahead holds the generator's motions of the coming steps (by step), handed to
	// the engine's Prefetch by the steps before.
	ahead map[int]*brownian.Interval
}

// prefetchDepth is how many steps ahead a device step has its generator's Brownian
// increments drawn: drawing one step's takes the host longer than the device takes
// for the step (4.6–5.1 ms of one core against 3.7 ms of device time at the reference
// sizes on an H200 machine), so each draw gets two steps' time, side by side with the
// next one's.
const prefetchDepth = 2

// motionAhead returns the generator's Brownian motion of step k (the one a Prefetch
// already drew, when there is one) and makes sure the motions of the next
// prefetchDepth steps are being drawn. The motions are those the seed gives each step,
// so prefetching changes when they are drawn, never what they are.
func (m *Model) motionAhead(k int) (*brownian.Interval, error) {
	e, b := m.e, m.cfg.Batch
	if m.dev.ahead == nil {
		m.dev.ahead = make(map[int]*brownian.Interval, prefetchDepth+1)
	}
	for j := range m.dev.ahead {
		if j < k {
			delete(m.dev.ahead, j) // a step that was not taken (an error, a resume elsewhere)
		}
	}
	for j := k; j <= k+prefetchDepth; j++ {
		if m.dev.ahead[j] != nil {
			continue
		}
		iv, err := e.trainMotion(b, seeds.Derive(m.cfg.Seed, streamTrainBM, uint64(j)))
		if err != nil {
			return nil, err
		}
		m.dev.ahead[j] = iv
		if j > k {
			m.dev.loss.Prefetch(iv)
		}
	}
	mo := m.dev.ahead[k]
	delete(m.dev.ahead, k)
	return mo, nil
}

// state views the host's copies of the training state.
func (m *Model) state() host.GANState {
	gs, gu := m.gOpt.State()
	ds, du := m.dOpt.State()
	return host.GANState{Gen: m.e.genP, Disc: m.e.discP, GenSquare: gs, GenDelta: gu, DiscSquare: ds, DiscDelta: du,
		GenAverage: m.gSWA.State(), DiscAverage: m.dSWA.State()}
}

// Sync brings the host's copies of the training state up to date with the device,
// where Step keeps it on an engine that runs whole steps on its device (the GPU
// engine); otherwise it does nothing. Params, NetworkParams, Sample and Evaluate sync
// by themselves; Sync is for callers that want the error (a checkpoint writer: Params
// cannot return one, and after a failed sync it reports the last synced state).
func (m *Model) Sync() error {
	if !m.dev.stale {
		return nil
	}
	if err := m.dev.loss.State(m.state()); err != nil {
		m.dev.err = fmt.Errorf("gan: copying the training state from the %s engine: %w", m.e.solvers.ganEng.Name(), err)
		return m.dev.err
	}
	m.dev.stale = false
	return nil
}

func adadeltaUpdate(c optim.AdadeltaConfig) host.AdadeltaUpdate {
	return host.AdadeltaUpdate{LR: c.LR, Rho: c.Rho, Eps: c.Eps, WeightDecay: c.WeightDecay}
}

// stepDevice is Step on the device: the loss, gradients and updates of step k run
// there, on the state it keeps.
func (m *Model) stepDevice(k int, st StepStats) (StepStats, error) {
	if m.dev.err != nil {
		return st, m.dev.err
	}
	e, b := m.e, m.cfg.Batch
	if m.dev.loss == nil {
		l, err := e.solvers.ganEng.NewGANLoss(e.ganSpec(), host.Problem{Ts: e.times, Dt: e.cfg.Dt, Batch: b})
		if err != nil {
			return st, fmt.Errorf("gan: %s engine: %w", e.solvers.ganEng.Name(), err)
		}
		m.dev.loss = l
	}
	if !m.dev.fresh {
		if err := m.dev.loss.SetState(m.state()); err != nil {
			return st, fmt.Errorf("gan: copying the training state to the %s engine: %w", e.solvers.ganEng.Name(), err)
		}
		m.dev.fresh = true
	}
	v, real := e.deviceInputs(b, seeds.Derive(m.cfg.Seed, streamTrainV, uint64(k)))
	mo, err := m.motionAhead(k)
	if err != nil {
		return st, err
	}
	up := host.GANUpdate{Gen: adadeltaUpdate(m.gOpt.Config()), Disc: adadeltaUpdate(m.dOpt.Config()),
		HoldGenerator: !m.cfg.updatesGenerator(k),
		Clip:          e.discWeightRanges(), Average: k > m.cfg.SWAFrom(), AverageCount: m.gSWA.N()}
	ds, err := m.dev.loss.Step(v, real, mo, up)
	if err != nil {
		return st, fmt.Errorf("gan: %s engine: %w", e.solvers.ganEng.Name(), err)
	}
	loss := ds.FakeMean - ds.RealMean
	st.DiscLoss, st.GenLoss, st.FakeScore, st.RealScore = loss, -loss, ds.FakeMean, ds.RealMean
	st.GenReconstruction, st.DiscReconstruction = ds.GenReconstruction, ds.DiscReconstruction
	if !ds.Finite {
		return st, fmt.Errorf("%w at step %d (loss %v)", ErrNonFinite, m.step, loss)
	}
	m.dev.stale = true
	m.gOpt.SetSteps(m.gOpt.Steps() + 1)
	m.dOpt.SetSteps(m.dOpt.Steps() + 1)
	if up.Average {
		m.gSWA.SetN(m.gSWA.N() + 1)
		m.dSWA.SetN(m.dSWA.N() + 1)
		st.Averaged = true
	}
	return st, nil
}
