package latent

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gosde/gosde/brownian"
	"github.com/gosde/gosde/host"
	"github.com/gosde/gosde/internal/seeds"
	"github.com/gosde/gosde/internal/vec"
	"github.com/gosde/gosde/nn"
	"github.com/gosde/gosde/solver"
)

// Parameter groups, laid out one after the other in one flat vector. partF, partH and
// partG are contiguous: together they are the posterior field's parameter vector.
const (
	partEnc = iota // encoder MLP: flattened path (T·C) → [μ (d), log σ (d), context (k)]
	partF          // posterior drift f(t, z, c)
	partH          // prior drift h(t, z)
	partG          // diffusion σ(t, z) (raw output)
	partDec        // decoder: linear z → C
	partPZ0        // p(z₀): mean (d), then log std (d)
	numParts
)

var partNames = [numParts]string{"encoder", "posterior_drift", "prior_drift", "diffusion", "decoder", "pz0"}

const log2Pi = 1.8378770664093453 // log 2π

// engine is the latent SDE's computation in element type F: the encoder, the posterior
// solve, the decoder, the ELBO and its hand-chained gradient. Model is engine[float32]
// plus the optimiser; the gradient tests run engine[float64]. Not safe for concurrent
// use.
type engine[F solver.Float] struct {
	cfg   Config
	times []float64
	T, C  int
	d, k  int
	opt   solver.Options

	nets   *nets
	enc    *nn.MLP
	dec    *nn.MLP
	encNet *nn.Net[F]
	decNet *nn.Net[F]
	post   *posterior[F]
	pri    *prior[F]

	off    [numParts + 1]int
	params []F
	grad   []F

	// Buffers (resliced per call).
	x     []F // observed paths, b×T·C (path-major, as dataset.Paths)
	eo    []F // encoder output b×(2d+k)
	eps   []F // reparameterisation noise b×d
	y0    []F // b×D
	zs    []F // decoder input T·b×d (time-major)
	xh    []F // decoded T·b×C
	aXh   []F
	aZs   []F
	aYs   []F // T×b×D
	aEo   []F
	pcg   rand.PCG
	rng   *rand.Rand
	sampY []F

	// Results of the last lossGrad (means over the batch).
	lastLogLik, lastKL0, lastKLPath, lastRecon float64
	lastSol                                    *solver.Solution[F] // CPU solves only

	// dev solves the posterior on an engine's device (useEngine); nil: here.
	dev        host.LatentEngine
	devSolvers map[int]host.Solver
}

func newEngine[F solver.Float](cfg Config, times []float64) (*engine[F], error) {
	e := &engine[F]{cfg: cfg, times: append([]float64(nil), times...), T: len(times), C: cfg.DataChannels,
		d: cfg.LatentSize, k: cfg.ContextSize}
	e.opt = solver.Options{Method: cfg.Method, Adjoint: cfg.Adjoint, Dt: cfg.Dt}
	if e.opt.Dt == 0 {
		e.opt.Dt = minSpacing(times)
	}
	var err error
	mk := func(in, out, depth int) *nn.MLP {
		if err != nil {
			return nil
		}
		var m *nn.MLP
		m, err = nn.NewMLP(nn.Config{In: in, Out: out, Width: cfg.Width, Depth: depth, Hidden: cfg.Activation})
		return m
	}
	d, k := e.d, e.k
	e.enc = mk(e.T*e.C, 2*d+k, cfg.Depth)
	n := &nets{d: d, k: k, f: mk(1+d+k, d, cfg.Depth), h: mk(1+d, d, cfg.Depth), g: mk(1+d, d, cfg.Depth),
		sigMin: cfg.SigmaMin, sigSpan: cfg.SigmaMax - cfg.SigmaMin}
	e.dec = mk(d, e.C, 0)
	if err != nil {
		return nil, fmt.Errorf("latent: %w", err)
	}
	n.nf, n.nh, n.ng = n.f.NumParams(), n.h.NumParams(), n.g.NumParams()
	e.nets = n
	e.encNet, e.decNet = nn.NewNet[F](e.enc), nn.NewNet[F](e.dec)
	e.post, e.pri = newPosterior[F](n), newPrior[F](n)
	sizes := [numParts]int{e.enc.NumParams(), n.nf, n.nh, n.ng, e.dec.NumParams(), 2 * d}
	for i, s := range sizes {
		e.off[i+1] = e.off[i] + s
	}
	e.params = make([]F, e.off[numParts])
	e.grad = make([]F, e.off[numParts])
	// PyTorch's nn.Linear default for every MLP; p(z₀) = N(0, I) (mean and log std 0),
	// as torchsde's latent_sde.py.
	nn.Init(e.enc, e.part(e.params, partEnc), seeds.Derive(cfg.Seed, streamInitEnc, 0))
	nn.Init(n.f, e.part(e.params, partF), seeds.Derive(cfg.Seed, streamInitF, 0))
	nn.Init(n.h, e.part(e.params, partH), seeds.Derive(cfg.Seed, streamInitH, 0))
	nn.Init(n.g, e.part(e.params, partG), seeds.Derive(cfg.Seed, streamInitG, 0))
	nn.Init(e.dec, e.part(e.params, partDec), seeds.Derive(cfg.Seed, streamInitDec, 0))
	e.rng = rand.New(&e.pcg)
	return e, nil
}

func minSpacing(times []float64) float64 {
	m := math.Inf(1)
	for i := 1; i < len(times); i++ {
		m = min(m, times[i]-times[i-1])
	}
	return m
}

func (e *engine[F]) part(p []F, i int) []F { return p[e.off[i]:e.off[i+1]] }

// fieldParams is the posterior/prior fields' f|h|g vector within p.
func (e *engine[F]) fieldParams(p []F) []F { return p[e.off[partF]:e.off[partDec]] }

// ensure sizes the buffers for batch b.
func (e *engine[F]) ensure(b int) {
	T, C, d, k := e.T, e.C, e.d, e.k
	D := d + k + 1
	e.x = grow(e.x, b*T*C)
	e.eo = grow(e.eo, b*(2*d+k))
	e.eps = grow(e.eps, b*d)
	e.y0 = grow(e.y0, b*D)
	e.zs = grow(e.zs, T*b*d)
	e.xh = grow(e.xh, T*b*C)
	e.aXh = grow(e.aXh, T*b*C)
	e.aZs = grow(e.aZs, T*b*d)
	e.aYs = grow(e.aYs, T*b*D)
	e.aEo = grow(e.aEo, b*(2*d+k))
}

// noise fills dst (b×d) with N(0, 1) draws: path p's values depend only on
// (seed, first+p).
func (e *engine[F]) noise(dst []F, seed uint64, first int) {
	d := e.d
	for p := range len(dst) / d {
		e.pcg.Seed(seed, uint64(first+p))
		for i := range d {
			dst[p*d+i] = F(e.rng.NormFloat64())
		}
	}
}

func wrapSolve(who string, err error) error {
	if errors.Is(err, solver.ErrNonFinite) {
		return fmt.Errorf("%w: %s: %w", ErrNonFinite, who, err)
	}
	return fmt.Errorf("latent: %s: %w", who, err)
}

// lossGrad evaluates the negative ELBO, averaged over the b observed paths already in
// e.x[:b·T·C], with parameters p: reparameterisation noise ε of path j from
// (epsSeed, j), Brownian motion an Interval seeded by bmSeed. When grad is set it
// writes the gradient of
//
//	mean over paths of −[Σ_t log p(x_t | z_t) − w·KL(q(z₀)‖p(z₀)) − w·ℓ_T]
//
// into e.grad, w = klWeight (1 for the ELBO itself). The returned loss is always the
// unweighted −ELBO.
func (e *engine[F]) lossGrad(b int, p []F, epsSeed, bmSeed uint64, grad bool, klWeight float64) (float64, error) {
	e.ensure(b)
	eo, eps := e.encode(b, p, epsSeed)
	y0, kl0, err := e.initialState(b, p, eo, eps)
	if err != nil {
		return math.NaN(), err
	}
	solAt, solBackward, err := e.solvePosterior(b, p, y0, bmSeed, grad)
	if err != nil {
		return math.NaN(), err
	}
	xh := e.decode(b, p, solAt)
	logLik := e.logLikelihood(b, xh)
	klPath := e.pathKL(b, solAt)
	fb := float64(b)
	e.lastLogLik, e.lastKL0, e.lastKLPath = logLik/fb, kl0/fb, klPath/fb
	loss := -(logLik - kl0 - klPath) / fb
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, fmt.Errorf("%w: loss %v", ErrNonFinite, loss)
	}
	if !grad {
		return loss, nil
	}

	// Backward: decoder, posterior solve, q(z₀) and p(z₀), encoder.
	clear(e.grad)
	w := klWeight / fb
	g, err := solBackward(e.backwardDecoder(b, xh, w))
	if err != nil {
		return math.NaN(), wrapSolve("posterior backward", err)
	}
	e.lastRecon = g.ReconstructionError
	vec.AddTo(e.fieldParams(e.grad), g.Params)
	e.encNet.VJP(e.backwardInitialState(b, p, eo, eps, g.Y0, w), nil, e.part(e.grad, partEnc))
	return loss, nil
}

// encode runs the encoder with parameters p on the b observed paths in e.x and draws
// the reparameterisation noise ε of path j from (epsSeed, j). It returns the encoder's
// output, b×(2d+k): [μ, log σ, context] per path, and ε, b×d.
func (e *engine[F]) encode(b int, p []F, epsSeed uint64) (eo, eps []F) {
	eo = e.eo[:b*(2*e.d+e.k)]
	e.encNet.Forward(e.part(p, partEnc), e.x[:b*e.T*e.C], eo)
	eps = e.eps[:b*e.d]
	e.noise(eps, epsSeed, 0)
	return eo, eps
}

// initialState is the posterior's initial state y₀ = [z₀, context, 0] (b×D, D = d+k+1:
// the last component accumulates the path KL), with z₀ = μ + σ·ε drawn from
// q(z₀) = N(μ, diag σ²), and the sum over the batch of KL(q(z₀)‖p(z₀)).
func (e *engine[F]) initialState(b int, p, eo, eps []F) (y0 []F, kl0 float64, err error) {
	d, k := e.d, e.k
	D, E := d+k+1, 2*d+k
	pz := e.part(p, partPZ0)
	pm, pls := pz[:d], pz[d:]
	y0 = e.y0[:b*D]
	for j := range b {
		o := eo[j*E : (j+1)*E]
		u := y0[j*D : (j+1)*D]
		for i := range d {
			mq, lq := float64(o[i]), float64(o[d+i])
			sq := math.Exp(lq)
			u[i] = F(mq + sq*float64(eps[j*d+i]))
			mp, lp := float64(pm[i]), float64(pls[i])
			dm := mq - mp
			kl0 += lp - lq + (sq*sq+dm*dm)/(2*math.Exp(2*lp)) - 0.5
		}
		copy(u[d:d+k], o[2*d:])
		u[d+k] = 0
	}
	if !vec.AllFinite(y0) {
		return nil, 0, fmt.Errorf("%w: initial state (encoder output)", ErrNonFinite)
	}
	return y0, kl0, nil
}

// solvePosterior solves the posterior SDE with parameters p from y0, driven by an
// Interval seeded by bmSeed: the states at each output time, and, when grad is set, the
// backward pass of this solve.
func (e *engine[F]) solvePosterior(b int, p, y0 []F, bmSeed uint64, grad bool) (at func(t int) []F, backward func(aYs []F) (*solver.Gradients[F], error), err error) {
	mo, err := brownian.NewInterval(e.times[0], e.times[e.T-1], b, e.d+e.k+1, bmSeed)
	if err != nil {
		return nil, nil, fmt.Errorf("latent: Brownian motion: %w", err)
	}
	opt := e.opt
	opt.Motion = mo
	opt.ForwardOnly = !grad
	at, backward, err = e.posteriorSolve(b, e.fieldParams(p), y0, opt)
	if err != nil {
		return nil, nil, wrapSolve("posterior", err)
	}
	return at, backward, nil
}

// decode writes z_t of every output time into e.zs (time-major, T·b×d) and decodes it
// with parameters p into x̂ (T·b×C), which it returns.
func (e *engine[F]) decode(b int, p []F, solAt func(t int) []F) []F {
	T, C, d := e.T, e.C, e.d
	D := d + e.k + 1
	zs := e.zs[:T*b*d]
	for t := range T {
		yt := solAt(t)
		for j := range b {
			copy(zs[(t*b+j)*d:(t*b+j+1)*d], yt[j*D:j*D+d])
		}
	}
	xh := e.xh[:T*b*C]
	e.decNet.Forward(e.part(p, partDec), zs, xh)
	return xh
}

// logLikelihood scores the b observed paths in e.x against their decoded means xh:
// the sum of log N(x | x̂, s²) over every value, s = ObsStd.
func (e *engine[F]) logLikelihood(b int, xh []F) float64 {
	T, C := e.T, e.C
	x := e.x[:b*T*C]
	s := e.cfg.ObsStd
	inv2 := 1 / (s * s)
	var sq float64
	for t := range T {
		for j := range b {
			for c := range C {
				r := float64(x[(j*T+t)*C+c]) - float64(xh[(t*b+j)*C+c])
				sq += r * r
			}
		}
	}
	return -0.5*sq*inv2 - float64(b*T*C)*(math.Log(s)+0.5*log2Pi)
}

// pathKL is the sum over the batch of the path KL ℓ_T, the last component of the
// posterior's state at the final time.
func (e *engine[F]) pathKL(b int, solAt func(t int) []F) float64 {
	d, k := e.d, e.k
	D := d + k + 1
	var klPath float64
	last := solAt(e.T - 1)
	for j := range b {
		klPath += float64(last[j*D+d+k])
	}
	return klPath
}

// backwardDecoder chains the loss's gradient with respect to the decoded means xh back
// through the decoder (adding its parameters' gradient into e.grad) and returns the
// gradient with respect to the posterior's states at the output times (T×b×D): dL/dz_t,
// and w = klWeight/b for ℓ_T at the final time.
func (e *engine[F]) backwardDecoder(b int, xh []F, w float64) []F {
	T, C, d, k := e.T, e.C, e.d, e.k
	D := d + k + 1
	x := e.x[:b*T*C]
	s := e.cfg.ObsStd
	inv2 := 1 / (s * s)
	fb := float64(b)
	aXh := e.aXh[:T*b*C]
	for t := range T {
		for j := range b {
			for c := range C {
				r := float64(x[(j*T+t)*C+c]) - float64(xh[(t*b+j)*C+c])
				aXh[(t*b+j)*C+c] = F(-r * inv2 / fb)
			}
		}
	}
	aZs := e.aZs[:T*b*d]
	clear(aZs)
	e.decNet.VJP(aXh, aZs, e.part(e.grad, partDec))
	aYs := e.aYs[:T*b*D]
	clear(aYs)
	for t := range T {
		for j := range b {
			copy(aYs[(t*b+j)*D:(t*b+j)*D+d], aZs[(t*b+j)*d:(t*b+j+1)*d])
		}
	}
	for j := range b {
		aYs[((T-1)*b+j)*D+d+k] = F(w)
	}
	return aYs
}

// backwardInitialState chains ay0, the gradient with respect to the posterior's
// initial state, and the KL(q(z₀)‖p(z₀)) term (weight w) back through z₀ = μ + σ·ε:
// it adds p(z₀)'s gradient into e.grad and returns the gradient with respect to the
// encoder's output.
func (e *engine[F]) backwardInitialState(b int, p, eo, eps, ay0 []F, w float64) []F {
	d, k := e.d, e.k
	D, E := d+k+1, 2*d+k
	pz := e.part(p, partPZ0)
	pm, pls := pz[:d], pz[d:]
	aEo := e.aEo[:b*E]
	gpz := e.part(e.grad, partPZ0)
	for j := range b {
		o := eo[j*E : (j+1)*E]
		a := aEo[j*E : (j+1)*E]
		ay := ay0[j*D : (j+1)*D]
		for i := range d {
			mq, lq := float64(o[i]), float64(o[d+i])
			sq := math.Exp(lq)
			mp, lp := float64(pm[i]), float64(pls[i])
			vp := math.Exp(2 * lp)
			dm := mq - mp
			az := float64(ay[i])
			a[i] = F(az + w*dm/vp)
			a[d+i] = F(az*sq*float64(eps[j*d+i]) + w*(sq*sq/vp-1))
			gpz[i] += F(-w * dm / vp)
			gpz[d+i] += F(w * (1 - (sq*sq+dm*dm)/vp))
		}
		copy(a[2*d:], ay[d:d+k])
	}
	return aEo
}

// sample generates b paths from the prior with parameters p: z₀ ~ p(z₀) with noise of
// path j from (epsSeed, first+j), the prior SDE driven by an Interval seeded by bmSeed,
// decoded means written into e.xh[:T·b·C] (time-major: (t·b+j)·C+c).
func (e *engine[F]) sample(b int, p []F, epsSeed uint64, first int, bmSeed uint64) error {
	e.ensure(b)
	T, d := e.T, e.d
	eps := e.eps[:b*d]
	e.noise(eps, epsSeed, first)
	pz := e.part(p, partPZ0)
	z0 := e.zs[:b*d]
	for j := range b {
		for i := range d {
			z0[j*d+i] = F(float64(pz[i]) + math.Exp(float64(pz[d+i]))*float64(eps[j*d+i]))
		}
	}
	e.pri.params = e.fieldParams(p)
	mo, err := brownian.NewInterval(e.times[0], e.times[T-1], b, d, bmSeed)
	if err != nil {
		return fmt.Errorf("latent: Brownian motion: %w", err)
	}
	opt := e.opt
	opt.Motion = mo
	opt.Adjoint = solver.Backprop // forward only: the prior field is not Differentiable
	opt.ForwardOnly = true
	e.sampY = append(e.sampY[:0], z0...)
	sol, err := solver.Solve[F](e.pri, e.sampY, e.times, opt)
	if err != nil {
		return wrapSolve("prior", err)
	}
	e.decNet.Forward(e.part(p, partDec), sol.Ys, e.xh[:T*b*e.C])
	if !vec.AllFinite(e.xh[:T*b*e.C]) {
		return fmt.Errorf("%w: decoded sample", ErrNonFinite)
	}
	return nil
}

// Seed streams: every random quantity is drawn from seeds.Derive(seed, stream, k).
const (
	streamInitEnc uint64 = iota + 1
	streamInitF
	streamInitH
	streamInitG
	streamInitDec
	streamTrainEps
	streamTrainBM
	streamTrainData
	streamSampleEps
	streamSampleBM
	streamEvalEps
	streamEvalBM
)
