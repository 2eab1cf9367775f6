package cuda

import (
	"errors"
	"fmt"
	"math"

	"github.com/gosde/gosde/brownian"
	"github.com/gosde/gosde/host"
	"github.com/gosde/gosde/kernels"
	"github.com/gosde/gosde/nn"
)

// ganLoss is the GPU engine's host.GANLoss: the SDE-GAN's whole loss and gradient
// (package gan's lossGrad) as a sequence of launches on device buffers. Per call the
// host sends the parameters, the initial noise, the real minibatch and the Brownian
// increments, and receives two means, the reconstruction errors and the gradients;
// generated paths, controls, scores and every cotangent stay on the device.
type ganLoss struct {
	e          *Engine
	B, T, C, I int
	H, dc      int
	pg, pd     int    // parameters of the generator and the discriminator
	gOff, dOff [3]int // where the initial MLP, the field and the readout start
	gen, disc  *fieldSolve

	gInitN, gReadN, dInitN, dReadN int // parameters of each MLP
	hostV, hostReal                []float32
	means, checks                  []float32 // own allocations: cgo copies must not point into this struct
	bufs                           []buffer

	gInitD, gReadD, dInitD, dReadD buffer // MLP descriptors (absolute offsets)
	// gReadD0 is the generator readout's descriptor with its parameters from 0, for
	// its VJP at every output time, whose parameter cotangents per path and time
	// (gReadG, gReadN rows of T·B) gosde_sum_rows reduces over both at once.
	gReadD0, gReadG             buffer
	gp, dp, gg, dg, gsum, dsum  buffer // parameters (the device-held state), per-path gradients (gg: all but the readout's), gradients
	gpIn, dpIn                  buffer // parameters given to LossGrad
	gSq, gAcc, dSq, dAcc        buffer // Adadelta's accumulators
	gAvg, dAvg, check           buffer // weight averages; the gradients' sums, a finiteness check
	tsOut                       buffer // the output times, float32
	v, gInitAct, x0, gys        buffer
	gReadAct, yfake, yreal, xs  buffer
	dInitAct, h0, hys, dReadAct buffer
	score, meanBuf, aScore, aHs buffer
	adw, aH0, axs, ayfake       buffer
	aXs, aX0, tmp               buffer

	ahead [3]prefetch // increments of coming steps' generator motions (Prefetch)
	next  int         // the slot the next Prefetch fills
}

// prefetch is one coming step's generator increments, drawn on another goroutine
// while the device computes the steps before (the host would otherwise wait for the
// device, and the device for the host's Brownian Interval at the start of each step).
type prefetch struct {
	mo   brownian.Motion
	buf  []float32
	qbuf []float64
	done chan struct{} // closed when buf is ready, after err is set
	err  error
}

// wait returns once the slot's drawing (if any) has finished.
func (p *prefetch) wait() {
	if p.done != nil {
		<-p.done
	}
}

// Prefetch starts drawing mo's increments for every step of the generator's solve;
// see host.GANLoss. Only when they fit the device's buffer of increments at once
// (otherwise the solve streams them in chunks and re-queries them backwards).
func (l *ganLoss) Prefetch(mo brownian.Motion) {
	if mo == nil || mo.Batch() != l.B || mo.Dim() != l.gen.m || l.gen.chunk < l.gen.N {
		return
	}
	p := &l.ahead[l.next]
	l.next = (l.next + 1) % len(l.ahead)
	p.wait()
	f := l.gen
	if p.buf == nil {
		p.buf = make([]float32, f.N*f.m*f.B)
		p.qbuf = make([]float64, f.m*f.B)
	}
	p.mo, p.err = mo, nil
	done := make(chan struct{})
	p.done = done
	go func() {
		defer close(done)
		if pl, ok := mo.(brownian.Planner); ok {
			_ = pl.PlanGrid(f.grid.Plan) // a refused plan only costs speed
		}
		p.err = f.grid.MotionIncrements(mo, 0, f.N, false, p.qbuf, p.buf)
	}()
}

// prefetched returns mo's increments if Prefetch drew them (nil otherwise), and
// forgets them: a slot serves one step.
func (l *ganLoss) prefetched(mo brownian.Motion) []float32 {
	for i := range l.ahead {
		p := &l.ahead[i]
		if p.mo == nil || !sameMotion(p.mo, mo) {
			continue
		}
		p.wait()
		p.mo = nil
		if p.err != nil {
			return nil // drawn again, unprefetched, by the solve, which reports the error
		}
		l.e.prefetchHits++
		return p.buf
	}
	return nil
}

var _ host.GANLoss = (*ganLoss)(nil)

// NewGANLoss returns the SDE-GAN loss on the device; see host.GANEngine.
func (e *Engine) NewGANLoss(spec host.GANSpec, prob host.Problem) (host.GANLoss, error) {
	if e.closed {
		return nil, errors.New("cuda: the engine is closed")
	}
	if err := prob.Check(); err != nil {
		return nil, err
	}
	if spec.Generator.Kind != host.SDE || spec.Discriminator.Kind != host.CDE {
		return nil, errors.New("cuda: an SDE-GAN needs an SDE generator and a CDE discriminator")
	}
	gf, err := fieldLayout(spec.Generator)
	if err != nil {
		return nil, err
	}
	df, err := fieldLayout(spec.Discriminator)
	if err != nil {
		return nil, err
	}
	H, C := spec.Generator.Dim, spec.GenReadout.Out()
	switch {
	case spec.GenInitial.Out() != H || spec.GenReadout.In() != H:
		return nil, fmt.Errorf("cuda: the generator's initial MLP and readout must map to and from its state of size %d", H)
	case spec.Discriminator.NoiseDim != 1+C || spec.DiscInitial.In() != 1+C:
		return nil, fmt.Errorf("cuda: the discriminator's control must have 1 + %d channels", C)
	case spec.DiscInitial.Out() != spec.Discriminator.Dim || spec.DiscReadout.In() != spec.Discriminator.Dim || spec.DiscReadout.Out() != 1:
		return nil, errors.New("cuda: the discriminator's initial MLP and readout must map to and from its state, and to one score")
	}
	grid, err := kernels.NewGrid(prob.Ts, prob.Dt)
	if err != nil {
		return nil, err
	}
	B := prob.Batch
	l := &ganLoss{e: e, B: B, T: len(prob.Ts), C: C, I: spec.GenInitial.In(), H: H, dc: 1 + C,
		gInitN: spec.GenInitial.NumParams(), gReadN: spec.GenReadout.NumParams(),
		dInitN: spec.DiscInitial.NumParams(), dReadN: spec.DiscReadout.NumParams()}
	l.gOff = [3]int{0, l.gInitN, l.gInitN + gf.NumParams}
	l.dOff = [3]int{0, l.dInitN, l.dInitN + df.NumParams}
	l.pg, l.pd = l.gOff[2]+l.gReadN, l.dOff[2]+l.dReadN
	if l.gen, err = newFieldSolve(e, gf, grid, B); err != nil {
		return nil, err
	}
	if l.disc, err = newFieldSolve(e, df, grid, 2*B); err != nil {
		l.Close()
		return nil, err
	}
	l.hostV = make([]float32, B*l.I)
	l.means = make([]float32, 2)
	l.checks = make([]float32, 2)
	l.hostReal = make([]float32, l.T*B*C)
	if err := e.be.do(func() error { return l.allocate(spec, prob) }); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

func (l *ganLoss) allocate(spec host.GANSpec, prob host.Problem) error {
	B, T, C, I, H, dc := l.B, l.T, l.C, l.I, l.H, l.dc
	Hd := spec.Discriminator.Dim
	N := l.gen.N
	descs := [5][]int32{
		kernels.MLPDesc(spec.GenInitial, l.gOff[0], false), kernels.MLPDesc(spec.GenReadout, l.gOff[2], false),
		kernels.MLPDesc(spec.DiscInitial, l.dOff[0], false), kernels.MLPDesc(spec.DiscReadout, l.dOff[2], false),
		kernels.MLPDesc(spec.GenReadout, 0, false),
	}
	rows := func(m *nn.MLP) (int, int) { return kernels.MLPRows(m) }
	giA, giT := rows(spec.GenInitial)
	grA, grT := rows(spec.GenReadout)
	diA, diT := rows(spec.DiscInitial)
	drA, drT := rows(spec.DiscReadout)
	tmpWords := max(giT*B, grT*T*B, diT*2*B, drT*2*B)
	for _, a := range []struct {
		b *buffer
		n int
	}{
		{&l.gInitD, len(descs[0])}, {&l.gReadD, len(descs[1])}, {&l.dInitD, len(descs[2])}, {&l.dReadD, len(descs[3])},
		{&l.gReadD0, len(descs[4])}, {&l.gReadG, l.gReadN * T * B},
		{&l.gp, l.pg}, {&l.dp, l.pd}, {&l.gpIn, l.pg}, {&l.dpIn, l.pd}, {&l.gSq, l.pg}, {&l.gAcc, l.pg},
		{&l.dSq, l.pd}, {&l.dAcc, l.pd}, {&l.gAvg, l.pg}, {&l.dAvg, l.pd}, {&l.check, 2}, {&l.gg, l.gOff[2] * B}, {&l.dg, l.pd * 2 * B}, {&l.gsum, l.pg}, {&l.dsum, l.pd},
		{&l.tsOut, T}, {&l.v, I * B}, {&l.gInitAct, giA * B}, {&l.x0, H * B}, {&l.gys, T * H * B},
		{&l.gReadAct, T * grA * B}, {&l.yfake, T * C * B}, {&l.yreal, T * C * B}, {&l.xs, T * dc * 2 * B},
		{&l.dInitAct, diA * 2 * B}, {&l.h0, Hd * 2 * B}, {&l.hys, T * Hd * 2 * B}, {&l.dReadAct, drA * 2 * B},
		{&l.score, 2 * B}, {&l.meanBuf, 2}, {&l.aScore, 2 * B}, {&l.aHs, T * Hd * 2 * B},
		{&l.adw, N * dc * 2 * B}, {&l.aH0, Hd * 2 * B}, {&l.axs, T * dc * 2 * B}, {&l.ayfake, T * C * B},
		{&l.aXs, T * H * B}, {&l.aX0, H * B}, {&l.tmp, tmpWords},
	} {
		var err error
		if *a.b, err = reserve(l.e, &l.bufs, a.n); err != nil {
			return err
		}
	}
	// dL/dscore: 1/B for each generated path, −1/B for each real one.
	aScore := make([]float32, 2*B)
	ts := make([]float32, T)
	for p := range B {
		aScore[p], aScore[B+p] = 1/float32(B), -1/float32(B)
	}
	for i, t := range prob.Ts {
		ts[i] = float32(t)
	}
	be := l.e.be
	return errors.Join(upload(be, l.gInitD, descs[0]), upload(be, l.gReadD, descs[1]), upload(be, l.dInitD, descs[2]),
		upload(be, l.dReadD, descs[3]), upload(be, l.gReadD0, descs[4]), upload(be, l.aScore, aScore), upload(be, l.tsOut, ts))
}

// LossGrad runs one loss (and gradient) on the device, with the given parameters; see
// host.GANLoss. The device-held training state is left alone.
func (l *ganLoss) LossGrad(gen, disc, v, real []float32, mo brownian.Motion, grad bool, genGrad, discGrad []float32) (host.GANLossStats, error) {
	var st host.GANLossStats
	if len(gen) != l.pg || len(disc) != l.pd {
		return st, fmt.Errorf("cuda: %d generator and %d discriminator parameters, want %d and %d", len(gen), len(disc), l.pg, l.pd)
	}
	if grad && (len(genGrad) != l.pg || len(discGrad) != l.pd) {
		return st, errors.New("cuda: genGrad and discGrad must hold the generator's and discriminator's parameters")
	}
	if err := l.inputs(v, real, mo); err != nil {
		return st, err
	}
	be := l.e.be
	err := be.do(func() error {
		if err := errors.Join(upload(be, l.gpIn, gen), upload(be, l.dpIn, disc)); err != nil {
			return err
		}
		if err := l.run(l.gpIn, l.dpIn, mo, grad, 1, &st); err != nil || !grad {
			return err
		}
		return errors.Join(download(be, genGrad, l.gsum), download(be, discGrad, l.dsum))
	})
	return st, err
}

// Step is one training step on the device-held state; see host.GANLoss.
func (l *ganLoss) Step(v, real []float32, mo brownian.Motion, up host.GANUpdate) (host.GANLossStats, error) {
	var st host.GANLossStats
	if err := l.inputs(v, real, mo); err != nil {
		return st, err
	}
	for _, r := range up.Clip {
		if r.Off < 0 || r.Len < 0 || r.Off+r.Len > l.pd {
			return st, fmt.Errorf("cuda: clipping range [%d, %d) outside the discriminator's %d parameters", r.Off, r.Off+r.Len, l.pd)
		}
	}
	be := l.e.be
	err := be.do(func() error {
		// The generator ascends the loss: its gradient is summed with scale −1.
		if err := l.run(l.gp, l.dp, mo, true, -1, &st); err != nil {
			return err
		}
		// One scalar per network tells whether every gradient is finite: a NaN or an
		// infinity anywhere makes the sum non-finite.
		if err := be.sumRows(l.gsum, l.check, 1, int64(l.pg), 1, false); err != nil {
			return err
		}
		if err := be.sumRows(l.dsum, l.check.offset(1), 1, int64(l.pd), 1, false); err != nil {
			return err
		}
		if err := download(be, l.checks, l.check); err != nil {
			return err
		}
		st.Finite = finite(st.FakeMean) && finite(st.RealMean) && finite(float64(l.checks[0])) && finite(float64(l.checks[1]))
		if !st.Finite {
			return nil
		}
		g, d := up.Gen, up.Disc
		if !up.HoldGenerator {
			if err := be.adadelta(l.gp, l.gsum, l.gSq, l.gAcc, int64(l.pg), g.LR, g.Rho, g.Eps, g.WeightDecay); err != nil {
				return err
			}
		}
		if err := be.adadelta(l.dp, l.dsum, l.dSq, l.dAcc, int64(l.pd), d.LR, d.Rho, d.Eps, d.WeightDecay); err != nil {
			return err
		}
		for _, r := range up.Clip {
			if err := be.clip(l.dp.offset(r.Off), int64(r.Len), r.Limit); err != nil {
				return err
			}
		}
		if !up.Average {
			return nil
		}
		if err := be.swa(l.gAvg, l.gp, int64(l.pg), int64(up.AverageCount)); err != nil {
			return err
		}
		return be.swa(l.dAvg, l.dp, int64(l.pd), int64(up.AverageCount))
	})
	return st, err
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// stateBuffers pairs the device-held state with st's slices.
func (l *ganLoss) stateBuffers(st host.GANState) ([]buffer, [][]float32, error) {
	bufs := []buffer{l.gp, l.dp, l.gSq, l.gAcc, l.dSq, l.dAcc, l.gAvg, l.dAvg}
	vals := [][]float32{st.Gen, st.Disc, st.GenSquare, st.GenDelta, st.DiscSquare, st.DiscDelta, st.GenAverage, st.DiscAverage}
	wants := []int{l.pg, l.pd, l.pg, l.pg, l.pd, l.pd, l.pg, l.pd}
	for i, v := range vals {
		if want := wants[i]; len(v) != want {
			return nil, nil, fmt.Errorf("cuda: training state part %d has %d values, want %d", i, len(v), want)
		}
	}
	return bufs, vals, nil
}

// SetState copies a training state to the device; see host.GANLoss.
func (l *ganLoss) SetState(st host.GANState) error {
	bufs, vals, err := l.stateBuffers(st)
	if err != nil {
		return err
	}
	return l.e.be.do(func() error {
		for i, b := range bufs {
			if err := upload(l.e.be, b, vals[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// State copies the device-held training state into st; see host.GANLoss.
func (l *ganLoss) State(st host.GANState) error {
	bufs, vals, err := l.stateBuffers(st)
	if err != nil {
		return err
	}
	return l.e.be.do(func() error {
		for i, b := range bufs {
			if err := download(l.e.be, vals[i], b); err != nil {
				return err
			}
		}
		return nil
	})
}

// inputs checks a step's inputs and stages them feature-major.
func (l *ganLoss) inputs(v, real []float32, mo brownian.Motion) error {
	B, T, C := l.B, l.T, l.C
	switch {
	case len(v) != B*l.I:
		return fmt.Errorf("cuda: len(v) = %d, want batch×initial noise = %d", len(v), B*l.I)
	case len(real) != T*B*C:
		return fmt.Errorf("cuda: len(real) = %d, want times×batch×channels = %d", len(real), T*B*C)
	case mo == nil || mo.Batch() != B || mo.Dim() != l.gen.m:
		return fmt.Errorf("cuda: the generator needs Brownian motion of %d paths and %d channels", B, l.gen.m)
	}
	toFeatureMajor(l.hostV, v, B, l.I)
	for t := range T {
		toFeatureMajor(l.hostReal[t*C*B:(t+1)*C*B], real[t*B*C:(t+1)*B*C], B, C)
	}
	return nil
}

// run is the loss and, with grad, its gradient with parameters gp and dp (device
// buffers) into gsum (scaled by genScale) and dsum. Runs inside be.do.
func (l *ganLoss) run(gp, dp buffer, mo brownian.Motion, grad bool, genScale float64, st *host.GANLossStats) error {
	be := l.e.be
	B, T, H, dc := l.B, l.T, l.H, l.dc
	B64, B2, T64, C64 := int64(B), int64(2*B), int64(T), int64(l.C)
	Hd := l.disc.d
	if err := errors.Join(upload(be, l.v, l.hostV), upload(be, l.yreal, l.hostReal)); err != nil {
		return err
	}
	var genRecon, discRecon []float32
	var err error
	// Forward: generator, readout at every time, control [t, Y] of fake and real
	// paths, discriminator, scores, the two means.
	steps := []func() error{
		func() error { return be.mlpForward(l.gInitD, gp, l.v, l.gInitAct, l.x0, 1, B64) },
		func() error {
			return l.gen.forward(gp.offset(l.gOff[1]), l.x0, l.gys, drive{mo: mo, pre: l.prefetched(mo)})
		},
		func() error { return be.mlpForward(l.gReadD, gp, l.gys, l.gReadAct, l.yfake, T64, B64) },
		func() error { return be.ganControl(l.tsOut, l.yfake, l.yreal, l.xs, T64, C64, B64) },
		func() error { return be.mlpForward(l.dInitD, dp, l.xs, l.dInitAct, l.h0, 1, B2) },
		func() error { return l.disc.forward(dp.offset(l.dOff[1]), l.h0, l.hys, drive{xs: l.xs}) },
		func() error {
			return be.mlpForward(l.dReadD, dp, l.hys.offset((T-1)*Hd*2*B), l.dReadAct, l.score, 1, B2)
		},
		func() error { return be.sumRows(l.score, l.meanBuf, 2, B64, 1/float64(B), false) },
	}
	if grad {
		// Backward, in the reverse order, every network's per-path parameter
		// cotangents into its rows of gg or dg.
		steps = append(steps,
			func() error { return be.zero(l.aHs, int64(T*Hd*2*B)) },
			func() error {
				return be.mlpVJP(l.dReadD, dp, l.hys.offset((T-1)*Hd*2*B), l.dReadAct, l.aScore,
					l.aHs.offset((T-1)*Hd*2*B), l.dg, l.tmp, int64(l.dReadN), 1, B2)
			},
			func() error {
				discRecon, err = l.disc.backward(dp.offset(l.dOff[1]), l.hys, l.aHs, l.dg.offset(l.dOff[1]*2*B), l.adw, l.aH0, drive{xs: l.xs})
				return err
			},
			func() error { return be.zero(l.axs, int64(T*dc*2*B)) },
			func() error {
				return be.chainControl(l.adw, l.axs, l.disc.first, l.disc.steps, T64, int64(dc), B2)
			},
			func() error {
				return be.mlpVJP(l.dInitD, dp, l.xs, l.dInitAct, l.aH0, l.axs, l.dg, l.tmp, int64(l.dInitN), 1, B2)
			},
			func() error { return be.ganControlVJP(l.axs, l.ayfake, T64, C64, B64) },
			func() error { return be.zero(l.aXs, int64(T*H*B)) },
			func() error {
				return be.mlpVJP(l.gReadD0, gp.offset(l.gOff[2]), l.gys, l.gReadAct, l.ayfake, l.aXs, l.gReadG, l.tmp,
					int64(l.gReadN), T64, B64)
			},
			func() error {
				genRecon, err = l.gen.backward(gp.offset(l.gOff[1]), l.gys, l.aXs, l.gg.offset(l.gOff[1]*B), buffer{}, l.aX0, drive{mo: mo})
				return err
			},
			func() error {
				return be.mlpVJP(l.gInitD, gp, l.v, l.gInitAct, l.aX0, buffer{}, l.gg, l.tmp, int64(l.gInitN), 1, B64)
			},
			func() error { return be.sumRows(l.gg, l.gsum, int64(l.gOff[2]), B64, genScale, false) },
			func() error {
				return be.sumRows(l.gReadG, l.gsum.offset(l.gOff[2]), int64(l.gReadN), T64*B64, genScale, false)
			},
			func() error { return be.sumRows(l.dg, l.dsum, int64(l.pd), B2, 1, false) },
		)
	}
	// The means come back last: a copy to the host waits for the device, which would
	// otherwise idle between the forward pass and the backward launches.
	steps = append(steps, func() error { return download(be, l.means, l.meanBuf) })
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	st.FakeMean, st.RealMean = float64(l.means[0]), float64(l.means[1])
	if grad {
		st.GenReconstruction = maxRecon(genRecon[:1], nil)
		st.DiscReconstruction = maxRecon(discRecon[:1], nil)
	}
	return nil
}

// Close returns the loss's device memory to the engine's pool.
func (l *ganLoss) Close() error {
	for i := range l.ahead {
		l.ahead[i].wait()
	}
	release(l.e, &l.bufs)
	for _, f := range []*fieldSolve{l.gen, l.disc} {
		if f != nil {
			release(l.e, &f.bufs)
		}
	}
	return nil
}
