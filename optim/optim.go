// Package optim holds first-order optimisers with PyTorch's semantics (torch.optim.Adam,
// torch.optim.Adadelta, including weight_decay added to the gradient), stochastic weight
// averaging (torch.optim.swa_utils.AveragedModel's running mean) and entrywise clipping.
//
// Parameters and gradients are flat vectors []F; the optimiser state is kept in F, like
// PyTorch keeps it in the parameters' dtype, while each update is computed in float64
// and rounded once.
package optim

import (
	"fmt"
	"math"
)

// MaxRate bounds learning rates and weight decays. It is far above any rate that trains
// (PyTorch's defaults are 1e-3 to 1) and keeps the float32 state finite: with weight
// decay λ the second-moment state holds (λθ)², which passes float32's 3.4e38 once
// λ|θ| > 1.8e19; at λ = 1e308 every update left it infinite and the weights frozen,
// without an error.
const MaxRate = 1e6

// checkRate reports a learning rate (positive) or weight decay (zero too) outside
// (0, MaxRate] or [0, MaxRate].
func checkRate(what string, v float64, zeroOK bool) error {
	if (v > 0 || zeroOK && v == 0) && v <= MaxRate {
		return nil
	}
	lo := "(0"
	if zeroOK {
		lo = "[0"
	}
	return fmt.Errorf("%s %v is out of range %s, %g]", what, v, lo, float64(MaxRate))
}

// CheckRates reports a learning rate outside (0, MaxRate] or a weight decay outside
// [0, MaxRate], naming them as lrName and "weight decay".
func CheckRates(lrName string, lr, weightDecay float64) error {
	if err := checkRate(lrName, lr, false); err != nil {
		return err
	}
	return checkRate("weight decay", weightDecay, true)
}

// Float is the element type of parameters (identical to solver.Float and nn.Float).
type Float interface{ ~float32 | ~float64 }

// Optimizer updates parameters in place from their gradient.
type Optimizer[F Float] interface {
	// Step applies one update to params given grad (same length). grad is not modified.
	Step(params, grad []F)
	// Steps is the number of updates applied so far.
	Steps() int
}

// AdamConfig are torch.optim.Adam's hyperparameters. Zero values of Beta1, Beta2 and Eps
// select PyTorch's defaults (0.9, 0.999, 1e-8); LR has no default.
type AdamConfig struct {
	LR, Beta1, Beta2, Eps, WeightDecay float64
}

// Adam is torch.optim.Adam (amsgrad=False, maximize=False):
//
//	g ← grad + wd·θ;  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²
//	θ ← θ − (lr/(1−β₁ᵗ)) · m / (√v/√(1−β₂ᵗ) + ε)
type Adam[F Float] struct {
	cfg  AdamConfig
	m, v []F
	t    int
}

// NewAdam returns Adam for n parameters.
func NewAdam[F Float](n int, cfg AdamConfig) (*Adam[F], error) {
	if cfg.Beta1 == 0 {
		cfg.Beta1 = 0.9
	}
	if cfg.Beta2 == 0 {
		cfg.Beta2 = 0.999
	}
	if cfg.Eps == 0 {
		cfg.Eps = 1e-8
	}
	if err := CheckRates("learning rate", cfg.LR, cfg.WeightDecay); err != nil {
		return nil, fmt.Errorf("optim: Adam: %w", err)
	}
	if !(cfg.Beta1 >= 0 && cfg.Beta1 < 1) || !(cfg.Beta2 >= 0 && cfg.Beta2 < 1) || !(cfg.Eps >= 0) || math.IsInf(cfg.Eps, 0) {
		return nil, fmt.Errorf("optim: invalid Adam config %+v", cfg)
	}
	return &Adam[F]{cfg: cfg, m: make([]F, n), v: make([]F, n)}, nil
}

// Steps is the number of updates so far.
func (a *Adam[F]) Steps() int { return a.t }

// SetLR changes the learning rate of the updates to come (a schedule such as an
// exponential decay sets it before each Step, like torch's lr_scheduler).
func (a *Adam[F]) SetLR(lr float64) error {
	if err := checkRate("learning rate", lr, false); err != nil {
		return fmt.Errorf("optim: Adam: %w", err)
	}
	a.cfg.LR = lr
	return nil
}

// State returns Adam's moment vectors, torch's exp_avg and exp_avg_sq, as views of its
// own storage: a checkpoint saves them, and restores them by copying into them and
// calling SetSteps.
func (a *Adam[F]) State() (expAvg, expAvgSq []F) { return a.m, a.v }

// SetSteps sets the update count (which the bias corrections use), when restoring a
// checkpoint.
func (a *Adam[F]) SetSteps(n int) { a.t = n }

// Step applies one Adam update.
func (a *Adam[F]) Step(params, grad []F) {
	checkLen(len(a.m), params, grad)
	a.t++
	c := a.cfg
	bc1 := 1 - math.Pow(c.Beta1, float64(a.t))
	bc2sqrt := math.Sqrt(1 - math.Pow(c.Beta2, float64(a.t)))
	stepSize := c.LR / bc1
	for i, p := range params {
		g := float64(grad[i])
		if c.WeightDecay != 0 {
			g += c.WeightDecay * float64(p)
		}
		m := c.Beta1*float64(a.m[i]) + (1-c.Beta1)*g
		v := c.Beta2*float64(a.v[i]) + (1-c.Beta2)*g*g
		a.m[i], a.v[i] = F(m), F(v)
		params[i] = F(float64(p) - stepSize*m/(math.Sqrt(v)/bc2sqrt+c.Eps))
	}
}

// AdadeltaConfig are torch.optim.Adadelta's hyperparameters. Zero values of LR, Rho and
// Eps select PyTorch's defaults (1.0, 0.9, 1e-6).
type AdadeltaConfig struct {
	LR, Rho, Eps, WeightDecay float64
}

// Adadelta is torch.optim.Adadelta:
//
//	g ← grad + wd·θ;  s ← ρs + (1−ρ)g²;  Δ ← √(u+ε)/√(s+ε) · g;  u ← ρu + (1−ρ)Δ²;  θ ← θ − lr·Δ
type Adadelta[F Float] struct {
	cfg  AdadeltaConfig
	s, u []F
	t    int
}

// NewAdadelta returns Adadelta for n parameters.
func NewAdadelta[F Float](n int, cfg AdadeltaConfig) (*Adadelta[F], error) {
	if cfg.LR == 0 {
		cfg.LR = 1
	}
	if cfg.Rho == 0 {
		cfg.Rho = 0.9
	}
	if cfg.Eps == 0 {
		cfg.Eps = 1e-6
	}
	if err := CheckRates("learning rate", cfg.LR, cfg.WeightDecay); err != nil {
		return nil, fmt.Errorf("optim: Adadelta: %w", err)
	}
	if !(cfg.Rho >= 0 && cfg.Rho <= 1) || !(cfg.Eps >= 0) || math.IsInf(cfg.Eps, 0) {
		return nil, fmt.Errorf("optim: invalid Adadelta config %+v", cfg)
	}
	return &Adadelta[F]{cfg: cfg, s: make([]F, n), u: make([]F, n)}, nil
}

// Steps is the number of updates so far.
func (a *Adadelta[F]) Steps() int { return a.t }

// Config returns the hyperparameters with PyTorch's defaults filled in, for engines
// that apply the same update on another device.
func (a *Adadelta[F]) Config() AdadeltaConfig { return a.cfg }

// Step applies one Adadelta update.
func (a *Adadelta[F]) Step(params, grad []F) {
	checkLen(len(a.s), params, grad)
	a.t++
	c := a.cfg
	for i, p := range params {
		g := float64(grad[i])
		if c.WeightDecay != 0 {
			g += c.WeightDecay * float64(p)
		}
		s := c.Rho*float64(a.s[i]) + (1-c.Rho)*g*g
		std := math.Sqrt(s + c.Eps)
		delta := math.Sqrt(float64(a.u[i])+c.Eps) / std * g
		u := c.Rho*float64(a.u[i]) + (1-c.Rho)*delta*delta
		a.s[i], a.u[i] = F(s), F(u)
		params[i] = F(float64(p) - c.LR*delta)
	}
}

// State returns the optimiser's state vectors, torch's square_avg and acc_delta, as
// views of its own storage: a checkpoint saves them, and restores them by copying into
// them and calling SetSteps.
func (a *Adadelta[F]) State() (squareAvg, accDelta []F) { return a.s, a.u }

// SetSteps sets the update count, when restoring a checkpoint.
func (a *Adadelta[F]) SetSteps(n int) { a.t = n }

func checkLen[F Float](n int, params, grad []F) {
	if len(params) != n || len(grad) != n {
		panic(fmt.Sprintf("optim: %d parameters and %d gradients for an optimiser of %d", len(params), len(grad), n))
	}
}

// SWA is a stochastic weight average (torch.optim.swa_utils.AveragedModel with its
// default running mean): the first Update copies the parameters, the k-th sets
// avg ← avg + (θ − avg)/k.
type SWA[F Float] struct {
	avg   []F
	n     int
	start int
}

// NewSWA returns an average of n ≥ 0 parameters that Observe starts updating at step
// start.
func NewSWA[F Float](n, start int) (*SWA[F], error) {
	if n < 0 {
		return nil, fmt.Errorf("optim: an average of %d parameters", n)
	}
	return &SWA[F]{avg: make([]F, n), start: start}, nil
}

// Update folds params into the average.
func (s *SWA[F]) Update(params []F) {
	if len(params) != len(s.avg) {
		panic(fmt.Sprintf("optim: SWA of %d parameters updated with %d", len(s.avg), len(params)))
	}
	if s.n == 0 {
		copy(s.avg, params)
	} else {
		k := float64(s.n + 1)
		for i, p := range params {
			a := float64(s.avg[i])
			s.avg[i] = F(a + (float64(p)-a)/k)
		}
	}
	s.n++
}

// Observe updates the average when step ≥ the start step given to NewSWA and reports
// whether it did. (torchsde's SDE-GAN example averages when step > swa_step_start: pass
// start = swa_step_start + 1 for that.)
func (s *SWA[F]) Observe(step int, params []F) bool {
	if step < s.start {
		return false
	}
	s.Update(params)
	return true
}

// N is the number of parameter vectors averaged.
func (s *SWA[F]) N() int { return s.n }

// State returns the average's storage (meaningful once N > 0) as a view, and SetN the
// count, so that a checkpoint can save and restore an average in progress.
func (s *SWA[F]) State() []F { return s.avg }

// SetN sets the number of parameter vectors averaged, when restoring a checkpoint.
func (s *SWA[F]) SetN(n int) { s.n = n }

// Average returns the averaged parameters (nil before the first update). The slice is
// the SWA's own storage: copy it to keep it across updates.
func (s *SWA[F]) Average() []F {
	if s.n == 0 {
		return nil
	}
	return s.avg
}

// Clip clamps every element of x to [−lim, lim] (lim ≥ 0).
func Clip[F Float](x []F, lim float64) {
	ClipRange(x, -lim, lim)
}

// ClipRange clamps every element of x to [lo, hi].
func ClipRange[F Float](x []F, lo, hi float64) {
	l, h := F(lo), F(hi)
	for i, v := range x {
		if v < l {
			x[i] = l
		} else if v > h {
			x[i] = h
		}
	}
}

// ClipNorm scales g in place so that its Euclidean norm is at most maxNorm
// (torch.nn.utils.clip_grad_norm_ with norm_type 2 and eps 1e-6) and returns the norm
// before clipping.
func ClipNorm[F Float](g []F, maxNorm float64) float64 {
	var s float64
	for _, v := range g {
		s += float64(v) * float64(v)
	}
	norm := math.Sqrt(s)
	if coef := maxNorm / (norm + 1e-6); coef < 1 {
		for i, v := range g {
			g[i] = F(float64(v) * coef)
		}
	}
	return norm
}
