package gan

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gosde/gosde/brownian"
	"github.com/gosde/gosde/host"
	"github.com/gosde/gosde/internal/seeds"
	"github.com/gosde/gosde/internal/vec"
	"github.com/gosde/gosde/neuralsde"
	"github.com/gosde/gosde/nn"
	"github.com/gosde/gosde/optim"
	"github.com/gosde/gosde/solver"
)

// torchsde's examples/sde_gan.py scales the generator's initial MLP by init_mult1 = 3
// and its vector fields by init_mult2 = 0.5 after PyTorch's default initialisation.
const (
	initMultInitial = 3
	initMultField   = 0.5
)

// Parameter groups: each network's parameters are one flat vector made of three parts
// (initial MLP, vector field, readout) laid out one after the other.
const (
	partInitial = iota
	partField
	partReadout
	numParts
)

// engine is the SDE-GAN's computation in element type F: the generator and the
// discriminator, their forward passes and the hand-chained backward pass of the
// Wasserstein loss. Model is engine[float32] plus optimisers; the gradient tests run
// engine[float64]. Not safe for concurrent use.
//
// The two differential equations are solved by a host.FieldSolver (CPU by default, or
// the Engine given to New); the MLPs around them (initial maps and readouts) run here.
type engine[F solver.Float] struct {
	cfg   Config
	times []float64
	T, C  int // output times, data channels
	dc    int // control channels 1 + C
	hid   int

	gInit, gRead, dInit, dRead *nn.MLP
	// sde and cde are never solved: they define the fields' parameter layout, names,
	// initialisation and weight ranges, which every engine shares.
	sde                *neuralsde.NeuralSDE[F]
	cde                *neuralsde.NeuralCDE[F]
	genSpec, discSpec  host.FieldSpec
	solvers            solverCache[F]
	gInitNet, gReadNet *nn.Net[F]
	dInitNet, dReadNet *nn.Net[F]

	// gOff/dOff[i] is where part i starts in genP/discP; [numParts] is the length.
	gOff, dOff  [numParts + 1]int
	genP, discP []F
	genG, discG []F

	// Buffers, grown to the largest batch b seen (len ≥ what b needs; resliced per call).
	capB, capG                  int
	v, x0, ys, xs, h0, score    []F
	aScore, aHT, aHs, aYs, aXs  []F
	pcg                         rand.PCG
	rng                         *rand.Rand
	lastGenRecon, lastDiscRecon float64
	lastFakeMean, lastRealMean  float64
	// lastGenSol holds the generator's states of the last lossGrad, for tests.
	lastGenSol struct{ Ys []F }
	aHsB       int // batch for which aHs is zero before its final block
}

func newEngine[F solver.Float](cfg Config, times []float64) (*engine[F], error) {
	e := &engine[F]{cfg: cfg, times: append([]float64(nil), times...), T: len(times), C: cfg.DataChannels, dc: 1 + cfg.DataChannels, hid: cfg.Hidden}
	e.solvers.open = cpuSolver[F]
	depth := cfg.Depth
	nsdeDepth := depth
	if depth == 0 {
		nsdeDepth = -1 // neuralsde: < 0 means no hidden layer
	}
	var err error
	mk := func(in, out, depth int) *nn.MLP {
		if err != nil {
			return nil
		}
		var m *nn.MLP
		m, err = nn.NewMLP(nn.Config{In: in, Out: out, Width: cfg.Width, Depth: depth, Hidden: nn.LipSwish})
		return m
	}
	e.gInit = mk(cfg.InitialNoise, cfg.Hidden, depth)
	e.gRead = mk(cfg.Hidden, e.C, 0)
	e.dInit = mk(e.dc, cfg.Hidden, depth)
	e.dRead = mk(cfg.Hidden, 1, 0)
	if err != nil {
		return nil, fmt.Errorf("gan: %w", err)
	}
	sc := neuralsde.GeneratorConfig()
	sc.Dim, sc.NoiseDim, sc.Width, sc.Depth, sc.Hidden = cfg.Hidden, cfg.NoiseDim, cfg.Width, nsdeDepth, nn.LipSwish
	if e.sde, err = neuralsde.New[F](sc, seeds.Derive(cfg.Seed, streamInitGenField, 0)); err != nil {
		return nil, fmt.Errorf("gan: generator vector field: %w", err)
	}
	cc := neuralsde.CDEConfig{Dim: cfg.Hidden, ControlDim: e.dc, Width: cfg.Width, Depth: nsdeDepth, Hidden: nn.LipSwish}
	if e.cde, err = neuralsde.NewCDE[F](cc, seeds.Derive(cfg.Seed, streamInitDiscField, 0)); err != nil {
		return nil, fmt.Errorf("gan: discriminator vector field: %w", err)
	}
	e.genSpec = host.FieldSpec{Kind: host.SDE, Dim: sc.Dim, NoiseDim: sc.NoiseDim, Noise: sc.Noise, Width: sc.Width, Depth: sc.Depth, Hidden: sc.Hidden}
	e.discSpec = host.FieldSpec{Kind: host.CDE, Dim: cc.Dim, NoiseDim: cc.ControlDim, Width: cc.Width, Depth: cc.Depth, Hidden: cc.Hidden}
	e.gInitNet, e.gReadNet = nn.NewNet[F](e.gInit), nn.NewNet[F](e.gRead)
	e.dInitNet, e.dReadNet = nn.NewNet[F](e.dInit), nn.NewNet[F](e.dRead)

	sizes := func(off *[numParts + 1]int, a, b, c int) {
		off[1] = a
		off[2] = a + b
		off[3] = a + b + c
	}
	sizes(&e.gOff, e.gInit.NumParams(), e.sde.NumParams(), e.gRead.NumParams())
	sizes(&e.dOff, e.dInit.NumParams(), e.cde.NumParams(), e.dRead.NumParams())
	e.genP, e.genG = make([]F, e.gOff[numParts]), make([]F, e.gOff[numParts])
	e.discP, e.discG = make([]F, e.dOff[numParts]), make([]F, e.dOff[numParts])

	// Initialise like torchsde's example: PyTorch's nn.Linear defaults, then the
	// generator's initial MLP ×3 and its vector fields ×0.5.
	nn.Init(e.gInit, e.gPart(e.genP, partInitial), seeds.Derive(cfg.Seed, streamInitGenInitial, 0))
	for i := range e.gPart(e.genP, partInitial) {
		e.genP[i] *= initMultInitial
	}
	gf := e.gPart(e.genP, partField)
	copy(gf, e.sde.Params())
	for i := range gf {
		gf[i] *= initMultField
	}
	nn.Init(e.gRead, e.gPart(e.genP, partReadout), seeds.Derive(cfg.Seed, streamInitGenReadout, 0))
	nn.Init(e.dInit, e.dPart(e.discP, partInitial), seeds.Derive(cfg.Seed, streamInitDiscInitial, 0))
	copy(e.dPart(e.discP, partField), e.cde.Params())
	nn.Init(e.dRead, e.dPart(e.discP, partReadout), seeds.Derive(cfg.Seed, streamInitDiscReadout, 0))
	e.rng = rand.New(&e.pcg)
	return e, nil
}

func (e *engine[F]) gPart(p []F, i int) []F { return p[e.gOff[i]:e.gOff[i+1]] }
func (e *engine[F]) dPart(p []F, i int) []F { return p[e.dOff[i]:e.dOff[i+1]] }

// ensureGen grows the generator's buffers to batch b.
func (e *engine[F]) ensureGen(b int) {
	if b <= e.capG {
		return
	}
	e.capG = b
	e.v = make([]F, b*e.cfg.InitialNoise)
	e.x0 = make([]F, b*e.hid)
	e.ys = make([]F, e.T*b*e.C)
}

// ensure grows every buffer to batch b.
func (e *engine[F]) ensure(b int) {
	e.ensureGen(b)
	if b <= e.capB {
		return
	}
	T, C, H, dc := e.T, e.C, e.hid, e.dc
	e.capB = b
	e.xs = make([]F, T*2*b*dc)
	e.h0 = make([]F, 2*b*H)
	e.score = make([]F, 2*b)
	e.aScore = make([]F, 2*b)
	e.aHT = make([]F, 2*b*H)
	e.aHs = make([]F, T*2*b*H)
	e.aHsB = b
	e.aYs = make([]F, T*b*C)
	e.aXs = make([]F, T*b*H)
}

// noise fills e.v[:b·I] with the initial noise V ~ N(0, I): path p's values depend only
// on (seed, first+p), not on the batch.
func (e *engine[F]) noise(b int, seed uint64, first int) {
	I := e.cfg.InitialNoise
	for p := range b {
		e.pcg.Seed(seed, uint64(first+p))
		for k := range I {
			e.v[p*I+k] = F(e.rng.NormFloat64())
		}
	}
}

// generate runs the generator on b paths with parameters gp: V from (vSeed, first+p),
// Brownian motion an Interval seeded by bmSeed. It writes Y = ℓ(X) into e.ys[:T·b·C]
// (time-major: (t·b+p)·C+c) and returns the solver that solved for X, whose Backward
// differentiates this solve (unless forwardOnly), and X at the output times.
func (e *engine[F]) generate(b int, gp []F, vSeed uint64, first int, bmSeed uint64, forwardOnly bool) (host.FieldSolver[F], []F, error) {
	e.ensureGen(b)
	e.noise(b, vSeed, first)
	mo, err := brownian.NewInterval(e.times[0], e.times[e.T-1], b, e.cfg.NoiseDim, bmSeed)
	if err != nil {
		return nil, nil, fmt.Errorf("gan: Brownian motion: %w", err)
	}
	return e.generateFrom(b, gp, mo, forwardOnly)
}

// generateFrom runs the generator on b paths with parameters gp from the initial noise
// already in e.v[:b·InitialNoise], driven by mo, as generate does.
func (e *engine[F]) generateFrom(b int, gp []F, mo brownian.Motion, forwardOnly bool) (host.FieldSolver[F], []F, error) {
	x0 := e.x0[:b*e.hid]
	e.gInitNet.Forward(e.gPart(gp, partInitial), e.v[:b*e.cfg.InitialNoise], x0)
	if !vec.AllFinite(x0) {
		return nil, nil, fmt.Errorf("%w: generator initial state X₀", ErrNonFinite)
	}
	sv, err := e.solvers.get(&e.solvers.gen, e.genSpec, host.Problem{Ts: e.times, Dt: e.cfg.Dt, Batch: b}, e.sde.NumParams())
	if err != nil {
		return nil, nil, fmt.Errorf("gan: generator solver: %w", err)
	}
	copy(sv.Params(), e.gPart(gp, partField))
	xs, err := sv.Forward(x0, mo, nil, forwardOnly)
	if err != nil {
		return nil, nil, wrapSolve("generator", err)
	}
	ys := e.ys[:e.T*b*e.C]
	e.gReadNet.Forward(e.gPart(gp, partReadout), xs, ys)
	if !vec.AllFinite(ys) {
		return nil, nil, fmt.Errorf("%w: generator output Y", ErrNonFinite)
	}
	return sv, xs, nil
}

func wrapSolve(who string, err error) error {
	if errors.Is(err, solver.ErrNonFinite) {
		return fmt.Errorf("%w: %s: %w", ErrNonFinite, who, err)
	}
	return fmt.Errorf("gan: %s: %w", who, err)
}

// lossGrad evaluates the Wasserstein loss L = mean D(fake) − mean D(real) on b generated
// paths against the b real paths already written in the data channels of the second
// half of e.xs (see realSlot), and, when grad is set, its gradient with respect to the
// generator's parameters (into e.genG, not negated) and the discriminator's (into
// e.discG). gp and dp are the parameters to use (e.genP, e.discP or averages).
func (e *engine[F]) lossGrad(b int, gp, dp []F, vSeed, bmSeed uint64, grad bool) (float64, error) {
	if e.solvers.ganEng != nil {
		return e.lossGradDevice(b, gp, dp, vSeed, bmSeed, grad)
	}
	e.ensure(b)
	gsol, gxs, err := e.generate(b, gp, vSeed, 0, bmSeed, !grad)
	if err != nil {
		return math.NaN(), err
	}
	e.fakeControls(b)
	dsol, score, err := e.discriminate(b, dp, !grad)
	if err != nil {
		return math.NaN(), err
	}
	loss := e.wasserstein(b, score)
	e.lastGenSol.Ys = gxs
	if !grad {
		return loss, nil
	}
	clear(e.genG)
	clear(e.discG)
	ctl, err := e.backwardDiscriminator(dsol, b)
	if err != nil {
		return math.NaN(), err
	}
	if err := e.backwardGenerator(gsol, b, e.fakeGrad(b, ctl)); err != nil {
		return math.NaN(), err
	}
	return loss, nil
}

// fakeControls writes the discriminator's controls X̂ = [t, Y] of the b generated paths
// (e.ys) into paths 0…b−1 of e.xs, and the time channel of the real paths b…2b−1.
func (e *engine[F]) fakeControls(b int) {
	T, C, dc := e.T, e.C, e.dc
	xs := e.xs[:T*2*b*dc]
	for t := range T {
		tt := F(e.times[t])
		for p := range 2 * b {
			xs[(t*2*b+p)*dc] = tt
		}
		for p := range b {
			copy(xs[(t*2*b+p)*dc+1:(t*2*b+p+1)*dc], e.ys[(t*b+p)*C:(t*b+p+1)*C])
		}
	}
}

// discriminate runs the discriminator with parameters dp on the 2b controls in e.xs:
// initial MLP, CDE, readout of the final state. It returns the solver that solved the
// CDE, whose Backward differentiates this solve (unless forwardOnly), and the scores
// (fake paths, then real).
func (e *engine[F]) discriminate(b int, dp []F, forwardOnly bool) (host.FieldSolver[F], []F, error) {
	T, H, dc := e.T, e.hid, e.dc
	xs := e.xs[:T*2*b*dc]
	h0 := e.h0[:2*b*H]
	e.dInitNet.Forward(e.dPart(dp, partInitial), xs[:2*b*dc], h0)
	if !vec.AllFinite(h0) {
		return nil, nil, fmt.Errorf("%w: discriminator initial state H₀", ErrNonFinite)
	}
	dsol, err := e.solvers.get(&e.solvers.disc, e.discSpec, host.Problem{Ts: e.times, Dt: e.cfg.Dt, Batch: 2 * b}, e.cde.NumParams())
	if err != nil {
		return nil, nil, fmt.Errorf("gan: discriminator solver: %w", err)
	}
	copy(dsol.Params(), e.dPart(dp, partField))
	hs, err := dsol.Forward(h0, nil, xs, forwardOnly)
	if err != nil {
		return nil, nil, wrapSolve("discriminator", err)
	}
	score := e.score[:2*b]
	e.dReadNet.Forward(e.dPart(dp, partReadout), hs[(T-1)*2*b*H:T*2*b*H], score)
	return dsol, score, nil
}

// wasserstein is the loss mean D(fake) − mean D(real) of the 2b scores (fake first),
// keeping the two means for the training log.
func (e *engine[F]) wasserstein(b int, score []F) float64 {
	var fake, real float64
	for p := range b {
		fake += float64(score[p])
		real += float64(score[b+p])
	}
	fake /= float64(b)
	real /= float64(b)
	e.lastFakeMean, e.lastRealMean = fake, real
	return fake - real
}

// backwardDiscriminator chains dL/dscore back through the discriminator's readout, the
// CDE's adjoint and the initial MLP, adding the parameters' gradient into e.discG, and
// returns dL/dX̂, the gradient with respect to the controls (T×2b×dc).
func (e *engine[F]) backwardDiscriminator(dsol host.FieldSolver[F], b int) ([]F, error) {
	T, H, dc := e.T, e.hid, e.dc
	aScore := e.aScore[:2*b]
	inv := 1 / F(b)
	for p := range b {
		aScore[p], aScore[b+p] = inv, -inv
	}
	aHT := e.aHT[:2*b*H]
	clear(aHT)
	e.dReadNet.VJP(aScore, aHT, e.dPart(e.discG, partReadout))
	// dL/dHs is zero except at the final time: clear it only when the layout changes.
	aHs := e.aHs[:T*2*b*H]
	if e.aHsB != b {
		clear(e.aHs)
		e.aHsB = b
	}
	copy(aHs[(T-1)*2*b*H:], aHT)
	dg, err := dsol.Backward(aHs)
	if err != nil {
		return nil, wrapSolve("discriminator backward", err)
	}
	e.lastDiscRecon = dg.ReconstructionError
	vec.AddTo(e.dPart(e.discG, partField), dg.Params)
	ctl := dg.Control
	e.dInitNet.VJP(dg.Y0, ctl[:2*b*dc], e.dPart(e.discG, partInitial))
	return ctl, nil
}

// fakeGrad is dL/dY of the generated paths (T×b×C time-major): the data channels of the
// fake paths' control gradient ctl.
func (e *engine[F]) fakeGrad(b int, ctl []F) []F {
	T, C, dc := e.T, e.C, e.dc
	aYs := e.aYs[:T*b*C]
	for t := range T {
		for p := range b {
			copy(aYs[(t*b+p)*C:(t*b+p+1)*C], ctl[(t*2*b+p)*dc+1:(t*2*b+p+1)*dc])
		}
	}
	return aYs
}

// backwardGenerator chains dL/dY (aYs, T×b×C time-major) of the generator's last
// solve gsol through the readout, the SDE's adjoint and the initial network, adding
// the parameters' gradient into e.genG.
func (e *engine[F]) backwardGenerator(gsol host.FieldSolver[F], b int, aYs []F) error {
	aXs := e.aXs[:e.T*b*e.hid]
	clear(aXs)
	e.gReadNet.VJP(aYs, aXs, e.gPart(e.genG, partReadout))
	gg, err := gsol.Backward(aXs)
	if err != nil {
		return wrapSolve("generator backward", err)
	}
	e.lastGenRecon = gg.ReconstructionError
	vec.AddTo(e.gPart(e.genG, partField), gg.Params)
	e.gInitNet.VJP(gg.Y0, nil, e.gPart(e.genG, partInitial))
	return nil
}

// realSlot returns where real path j's values at output time t go: C values.
func (e *engine[F]) realSlot(b, t, j int) []F {
	o := (t*2*b + b + j) * e.dc
	return e.xs[o+1 : o+e.dc]
}

// clipDisc clamps every discriminator weight matrix (initial MLP, CDE field, readout)
// entrywise to ±1/out_features, biases untouched.
func (e *engine[F]) clipDisc(dp []F) {
	nn.ClipWeights(e.dInit, e.dPart(dp, partInitial))
	f := e.dPart(dp, partField)
	for _, r := range e.cde.WeightRanges() {
		optim.Clip(f[r.Off:r.Off+r.Len], r.Limit)
	}
	nn.ClipWeights(e.dRead, e.dPart(dp, partReadout))
}

// discWeightRanges lists the discriminator's weight matrices as offsets into discP.
func (e *engine[F]) discWeightRanges() []nn.WeightRange {
	var rs []nn.WeightRange
	add := func(part int, ws []nn.WeightRange) {
		for _, w := range ws {
			w.Off += e.dOff[part]
			rs = append(rs, w)
		}
	}
	add(partInitial, e.dInit.WeightRanges())
	add(partField, e.cde.WeightRanges())
	add(partReadout, e.dRead.WeightRanges())
	return rs
}

// Seed streams: every random quantity is drawn from seeds.Derive(seed, stream, k).
const (
	streamInitGenInitial uint64 = iota + 1
	streamInitGenField
	streamInitGenReadout
	streamInitDiscInitial
	streamInitDiscField
	streamInitDiscReadout
	streamTrainV
	streamTrainBM
	streamTrainData
	streamSampleV
	streamSampleBM
	streamEvalV
	streamEvalBM
	streamSigBandwidth
	streamSigTimes
)
