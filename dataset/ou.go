package dataset

import (
	"math"
	"math/rand/v2"
)

// The time-dependent Ornstein–Uhlenbeck data set of the SDE-GAN (docs/DESIGN.md, "The
// OU data set"; as the torchsde sde_gan example sets it up):
//
//	dY = (μt − θY) dt + σ·(2t/T) dW   (Itô, scalar noise),  Y₀ ~ U(−1, 1),  t = 0, 1, …, T−1,
//
// with μ = 0.02, θ = 0.1, σ = 0.4, T = 64, and 8192 paths in the reference setting.
const (
	OUMu    = 0.02
	OUTheta = 0.1
	OUSigma = 0.4
	// OUTimes is the number of observation times, t = 0, 1, …, 63.
	OUTimes = 64
	// OUPaths is the data-set size of the reference setting.
	OUPaths = 8192
)

// ouSigma is the diffusion coefficient σ(t) = OUSigma·2t/OUTimes = ouSlope·t.
const ouSlope = OUSigma * 2 / OUTimes

// OU simulates n paths of the SDE-GAN's time-dependent Ornstein–Uhlenbeck data set
// (see OUMu): one channel "y" observed at Times 0, 1, …, 63, no missing readings.
//
// The scheme is the exact Gaussian transition of this linear SDE between consecutive
// observation times, not a discretisation: over [s, s+h],
//
//	Y(s+h) = e^{−θh} Y(s) + μ ∫₀ʰ e^{−θτ}(s+h−τ) dτ + sd·Z,  sd² = ∫₀ʰ e^{−2θτ} σ(s+h−τ)² dτ,
//
// Z ~ N(0, 1), both integrals in closed form. So the law of the observed path is exact
// (torchsde's example approximates it with steps of 0.1); one normal per step.
//
// Randomness is math/rand/v2's PCG seeded with seed, drawn path by path (Y₀, then the
// 63 normals), so the result is deterministic and OU(m, seed) is the first m paths of
// OU(n, seed) for m ≤ n.
func OU(n int, seed uint64) *Paths {
	n = max(n, 0)
	p := &Paths{
		Times:    make([]float64, OUTimes),
		Channels: []string{"y"},
		N:        n,
		Values:   make([]float64, n*OUTimes),
	}
	for t := range p.Times {
		p.Times[t] = float64(t)
	}
	decay := make([]float64, OUTimes-1)
	shift := make([]float64, OUTimes-1)
	sd := make([]float64, OUTimes-1)
	for k := range decay {
		d, m, v := ouTransition(float64(k), 1)
		decay[k], shift[k], sd[k] = d, m, math.Sqrt(v)
	}
	rng := rand.New(rand.NewPCG(seed, 0x4f55)) // "OU"
	for i := 0; i < n; i++ {
		x := p.Values[i*OUTimes : (i+1)*OUTimes]
		y := 2*rng.Float64() - 1
		x[0] = y
		for k := range decay {
			y = decay[k]*y + shift[k] + sd[k]*rng.NormFloat64()
			x[k+1] = y
		}
	}
	return p
}

// ouTransition is the exact transition of the OU SDE over [s, s+h]:
// Y(s+h) | Y(s) ~ N(decay·Y(s) + shift, variance).
func ouTransition(s, h float64) (decay, shift, variance float64) {
	th := OUTheta * h
	decay = math.Exp(-th)
	b := s + h
	// I0 = ∫₀ʰ e^{−θτ} dτ, I1 = ∫₀ʰ τ e^{−θτ} dτ.
	i0 := -math.Expm1(-th) / OUTheta
	i1 := (-math.Expm1(-th) - th*decay) / (OUTheta * OUTheta)
	shift = OUMu * (b*i0 - i1)
	// J_k = ∫₀ʰ τᵏ e^{−κτ} dτ with κ = 2θ; σ(b−τ)² = slope²(b−τ)².
	k := 2 * OUTheta
	kh := k * h
	f := math.Exp(-kh)
	j0 := -math.Expm1(-kh) / k
	j1 := (-math.Expm1(-kh) - kh*f) / (k * k)
	j2 := (2*(-math.Expm1(-kh)) - f*(2*kh+kh*kh)) / (k * k * k)
	variance = ouSlope * ouSlope * (b*b*j0 - 2*b*j1 + j2)
	return decay, shift, variance
}
