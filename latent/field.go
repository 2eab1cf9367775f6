package latent

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/gosde/gosde/nn"
	"github.com/gosde/gosde/solver"
)

// nets are the three MLPs of the latent SDE's vector fields. Their parameters are one
// flat vector, posterior drift f then prior drift h then diffusion g (see nn.MLP for
// each one's layout):
//
//	f = MLP([t, z, c]) → d   (posterior drift)
//	h = MLP([t, z]) → d      (prior drift)
//	g = MLP([t, z]) → d      (raw diffusion; σ = σmin + (σmax − σmin)·sigmoid(g))
type nets struct {
	d, k       int
	f, h, g    *nn.MLP
	nf, nh, ng int
	sigMin     float64
	sigSpan    float64
}

func (n *nets) numParams() int { return n.nf + n.nh + n.ng }

// sigma maps the raw diffusion output to σ and dσ/draw.
func (n *nets) sigma(raw float64) (s, ds float64) {
	sg := 1 / (1 + math.Exp(-raw))
	return n.sigMin + n.sigSpan*sg, n.sigSpan * sg * (1 - sg)
}

// posterior is the posterior SDE on the augmented state u = (z ∈ ℝᵈ, c ∈ ℝᵏ, ℓ ∈ ℝ):
//
//	dz = f(t, z, c)dt + σ(t, z)∘dW,  dc = 0,  dℓ = ½‖(f(t,z,c) − h(t,z))/σ(t,z)‖² dt
//
// with Diagonal noise on all d+k+1 channels (zero diffusion on c and ℓ). ℓ accumulates
// the KL divergence between the posterior and prior path measures. It implements
// solver.Differentiable[F]; VJP reuses the activations of the last Eval when (t, y) and
// the parameters match it. Not safe for concurrent use.
type posterior[F solver.Float] struct {
	*nets
	// params is the flat f|h|g parameter vector in use (set by the engine; a view).
	params []F

	fNet, hNet, gNet *nn.Net[F]

	// Activations of the last forward pass.
	valid        bool
	lastT        float64
	lastY, lastP []F
	batch        int
	xf, xg       []F // inputs [t, z, c] and [t, z]
	fo, ho, gr   []F // outputs f, h, raw g (batch×d)
	sg, dsg      []F // σ and dσ/draw (batch×d)

	// VJP buffers.
	cf, ch, cg []F
	axf, axg   []F

	evals, vjps, recomputes int
}

func newPosterior[F solver.Float](n *nets) *posterior[F] {
	return &posterior[F]{nets: n, fNet: nn.NewNet[F](n.f), hNet: nn.NewNet[F](n.h), gNet: nn.NewNet[F](n.g)}
}

func (p *posterior[F]) Dim() int            { return p.d + p.k + 1 }
func (p *posterior[F]) NoiseDim() int       { return p.d + p.k + 1 }
func (p *posterior[F]) Noise() solver.Noise { return solver.Diagonal }
func (p *posterior[F]) NumParams() int      { return p.numParams() }

func grow[F solver.Float](s []F, n int) []F {
	if cap(s) < n {
		return make([]F, n)
	}
	return s[:n]
}

func (p *posterior[F]) batchOf(y []F) int {
	D := p.Dim()
	if len(y)%D != 0 {
		panic(fmt.Sprintf("latent: state length %d not a multiple of the dimension %d", len(y), D))
	}
	return len(y) / D
}

// forward evaluates the three MLPs at (t, y) and records (t, y, θ) for VJP.
func (p *posterior[F]) forward(t float64, y []F) {
	if len(p.params) != p.numParams() {
		panic("latent: posterior parameters not set")
	}
	b := p.batchOf(y)
	d, k, D := p.d, p.k, p.Dim()
	p.xf = grow(p.xf, b*(1+d+k))
	p.xg = grow(p.xg, b*(1+d))
	p.fo, p.ho, p.gr = grow(p.fo, b*d), grow(p.ho, b*d), grow(p.gr, b*d)
	p.sg, p.dsg = grow(p.sg, b*d), grow(p.dsg, b*d)
	tt := F(t)
	for j := range b {
		u := y[j*D : (j+1)*D]
		xf := p.xf[j*(1+d+k) : (j+1)*(1+d+k)]
		xf[0] = tt
		copy(xf[1:], u[:d+k])
		xg := p.xg[j*(1+d) : (j+1)*(1+d)]
		xg[0] = tt
		copy(xg[1:], u[:d])
	}
	p.fNet.Forward(p.params[:p.nf], p.xf, p.fo)
	p.hNet.Forward(p.params[p.nf:p.nf+p.nh], p.xg, p.ho)
	p.gNet.Forward(p.params[p.nf+p.nh:], p.xg, p.gr)
	for i, r := range p.gr {
		s, ds := p.sigma(float64(r))
		p.sg[i], p.dsg[i] = F(s), F(ds)
	}
	p.valid, p.lastT, p.batch = true, t, b
	p.lastY = append(p.lastY[:0], y...)
	p.lastP = append(p.lastP[:0], p.params...)
}

// Eval writes the drift (f, 0, ½‖(f−h)/σ‖²) and the diagonal diffusion (σ, 0, 0).
func (p *posterior[F]) Eval(t float64, y, f, g []F) {
	p.evals++
	p.forward(t, y)
	d, k, D := p.d, p.k, p.Dim()
	for j := range p.batch {
		fj, gj := f[j*D:(j+1)*D], g[j*D:(j+1)*D]
		var kl F
		for i := range d {
			q := j*d + i
			u := (p.fo[q] - p.ho[q]) / p.sg[q]
			kl += u * u
			fj[i], gj[i] = p.fo[q], p.sg[q]
		}
		for i := d; i < d+k; i++ {
			fj[i], gj[i] = 0, 0
		}
		fj[d+k], gj[d+k] = kl/2, 0
	}
}

func bitsOf[F solver.Float](s []F) string {
	if len(s) == 0 {
		return ""
	}
	return unsafe.String((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(s[0])))
}

// VJP adds af·∂f/∂y + ag·∂g/∂y into ay and the parameter part into atheta.
func (p *posterior[F]) VJP(t float64, y, af, ag, ay, atheta []F) {
	p.vjps++
	b := p.batchOf(y)
	if len(af) != len(y) || len(ag) != len(y) || len(ay) != len(y) || len(atheta) != p.numParams() {
		panic("latent: posterior VJP: slice lengths do not match")
	}
	if !(p.valid && p.lastT == t && p.batch == b && bitsOf(y) == bitsOf(p.lastY) && bitsOf(p.params) == bitsOf(p.lastP)) {
		p.recomputes++
		p.forward(t, y)
	}
	d, k, D := p.d, p.k, p.Dim()
	p.cf, p.ch, p.cg = grow(p.cf, b*d), grow(p.ch, b*d), grow(p.cg, b*d)
	for j := range b {
		al := af[j*D+d+k]
		for i := range d {
			q := j*d + i
			s := p.sg[q]
			u := (p.fo[q] - p.ho[q]) / s
			// ∂ℓ'/∂f = u/σ, ∂ℓ'/∂h = −u/σ, ∂ℓ'/∂σ = −u²/σ.
			p.cf[q] = af[j*D+i] + al*u/s
			p.ch[q] = -al * u / s
			p.cg[q] = (ag[j*D+i] - al*u*u/s) * p.dsg[q]
		}
	}
	p.axf = grow(p.axf, b*(1+d+k))
	p.axg = grow(p.axg, b*(1+d))
	clear(p.axf)
	clear(p.axg)
	p.fNet.VJP(p.cf, p.axf, atheta[:p.nf])
	p.hNet.VJP(p.ch, p.axg, atheta[p.nf:p.nf+p.nh])
	p.gNet.VJP(p.cg, p.axg, atheta[p.nf+p.nh:])
	for j := range b {
		ayj := ay[j*D : (j+1)*D]
		axf := p.axf[j*(1+d+k)+1 : (j+1)*(1+d+k)]
		axg := p.axg[j*(1+d)+1 : (j+1)*(1+d)]
		for i := range d + k {
			ayj[i] += axf[i]
		}
		for i := range d {
			ayj[i] += axg[i]
		}
	}
}

// prior is the prior SDE dz = h(t, z)dt + σ(t, z)∘dW on ℝᵈ (Diagonal noise), sharing h
// and σ with the posterior. It is used forward only (sampling), so it implements
// solver.SDE, not Differentiable.
type prior[F solver.Float] struct {
	*nets
	params     []F // the flat f|h|g vector (only h and g are used)
	hNet, gNet *nn.Net[F]
	xg, ho, gr []F
}

func newPrior[F solver.Float](n *nets) *prior[F] {
	return &prior[F]{nets: n, hNet: nn.NewNet[F](n.h), gNet: nn.NewNet[F](n.g)}
}

func (p *prior[F]) Dim() int            { return p.d }
func (p *prior[F]) NoiseDim() int       { return p.d }
func (p *prior[F]) Noise() solver.Noise { return solver.Diagonal }

func (p *prior[F]) Eval(t float64, y, f, g []F) {
	d := p.d
	b := len(y) / d
	p.xg = grow(p.xg, b*(1+d))
	p.gr = grow(p.gr, b*d)
	for j := range b {
		xg := p.xg[j*(1+d) : (j+1)*(1+d)]
		xg[0] = F(t)
		copy(xg[1:], y[j*d:(j+1)*d])
	}
	p.hNet.Forward(p.params[p.nf:p.nf+p.nh], p.xg, f)
	p.gNet.Forward(p.params[p.nf+p.nh:], p.xg, p.gr)
	for i, r := range p.gr {
		s, _ := p.sigma(float64(r))
		g[i] = F(s)
	}
}
