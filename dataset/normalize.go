package dataset

import (
	"fmt"
	"math"
)

// Normalization is a per-channel affine map to normalised units: x ↦ (x − Mean[c]) / Std[c].
// Times are never normalised; see Paths.ScaledTimes for a solver-friendly time axis.
type Normalization struct {
	Mean, Std []float64
}

// relStdFloor is the smallest standard deviation, relative to max(1, |mean|), that Fit
// treats as variation; anything smaller is a constant channel.
const relStdFloor = 1e-12

// Fit computes each channel's mean and standard deviation over every observed (non-NaN)
// reading of every path at every time. The standard deviation is the sample one
// (divisor count − 1, as torch.std), and the population one when a channel has a
// single reading. A channel with no reading at all is an error naming it. A
// constant channel (standard deviation below 1e-12·max(1, |mean|)) gets Std = 1, so
// Apply only centres it and Invert restores it exactly.
func Fit(p *Paths) (Normalization, error) {
	return fit(p, 0, p.T())
}

// FitInitial is Fit over the readings at the first time only: the torchsde SDE-GAN
// example normalises its OU data with the mean and standard deviation of Y₀ this way.
func FitInitial(p *Paths) (Normalization, error) {
	return fit(p, 0, min(1, p.T()))
}

func fit(p *Paths, t0, t1 int) (Normalization, error) {
	T, C := p.T(), p.C()
	nz := Normalization{Mean: make([]float64, C), Std: make([]float64, C)}
	for c := 0; c < C; c++ {
		// Two passes (mean, then squared deviations) for accuracy.
		var sum float64
		var cnt int
		for n := 0; n < p.N; n++ {
			for t := t0; t < t1; t++ {
				if v := p.Values[(n*T+t)*C+c]; !math.IsNaN(v) {
					sum += v
					cnt++
				}
			}
		}
		if cnt == 0 {
			return Normalization{}, fmt.Errorf("dataset: normalisation: channel %q has no reading", p.Channels[c])
		}
		mean := sum / float64(cnt)
		var ss float64
		for n := 0; n < p.N; n++ {
			for t := t0; t < t1; t++ {
				if v := p.Values[(n*T+t)*C+c]; !math.IsNaN(v) {
					d := v - mean
					ss += d * d
				}
			}
		}
		div := float64(cnt - 1)
		if cnt == 1 {
			div = 1
		}
		std := math.Sqrt(ss / div)
		if math.IsInf(mean, 0) || math.IsInf(std, 0) || math.IsNaN(std) {
			return Normalization{}, fmt.Errorf("dataset: normalisation: channel %q has non-finite statistics (mean %v, std %v)", p.Channels[c], mean, std)
		}
		if std < relStdFloor*math.Max(1, math.Abs(mean)) {
			std = 1
		}
		nz.Mean[c], nz.Std[c] = mean, std
	}
	return nz, nil
}

func (nz Normalization) check(p *Paths) {
	if len(nz.Mean) != p.C() || len(nz.Std) != p.C() {
		panic(fmt.Sprintf("dataset: normalisation of %d/%d channels applied to %d channels", len(nz.Mean), len(nz.Std), p.C()))
	}
}

// Apply maps p's values to normalised units in place; NaN stays NaN. It panics if the
// number of channels differs from p's.
func (nz Normalization) Apply(p *Paths) {
	nz.check(p)
	C := p.C()
	for i, v := range p.Values {
		c := i % C
		p.Values[i] = (v - nz.Mean[c]) / nz.Std[c]
	}
}

// Invert maps p's values from normalised units back to the data's own units in place
// (the inverse of Apply); NaN stays NaN. It panics if the number of channels differs.
func (nz Normalization) Invert(p *Paths) {
	nz.check(p)
	C := p.C()
	for i, v := range p.Values {
		c := i % C
		p.Values[i] = v*nz.Std[c] + nz.Mean[c]
	}
}
