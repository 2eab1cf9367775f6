package dataset

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// FillLinear replaces every missing (NaN) reading in place, path by path and channel by
// channel: linear interpolation in Times between the nearest readings before and after,
// and constant extrapolation (the first or last reading) before the first and after the
// last. This is the linearly interpolated control path the discriminator and encoder are
// driven by, so no series is ever dropped: a path whose channel has no reading at all
// is filled with that channel's mean over all paths and times. It is an error (naming
// the channel) only when a channel has no reading in any path, or when p is malformed
// (see Paths.Validate). Readings already present are left bit-for-bit unchanged.
func FillLinear(p *Paths) error {
	if err := p.Validate(); err != nil {
		return err
	}
	T, C := p.T(), p.C()
	mean := make([]float64, C)
	for c := 0; c < C; c++ {
		var sum float64
		var cnt int
		for i := c; i < len(p.Values); i += C {
			if v := p.Values[i]; !math.IsNaN(v) {
				sum += v
				cnt++
			}
		}
		if cnt == 0 {
			return fmt.Errorf("dataset: fill: channel %q has no reading in any path", p.Channels[c])
		}
		mean[c] = sum / float64(cnt)
	}
	ts := p.Times
	for n := 0; n < p.N; n++ {
		x := p.Path(n)
		for c := 0; c < C; c++ {
			prev := -1 // index of the last reading seen
			for t := 0; t < T; t++ {
				v := x[t*C+c]
				if math.IsNaN(v) {
					continue
				}
				switch {
				case prev < 0:
					for s := 0; s < t; s++ {
						x[s*C+c] = v
					}
				case prev < t-1:
					a, ta := x[prev*C+c], ts[prev]
					d, span := v-a, ts[t]-ta
					for s := prev + 1; s < t; s++ {
						x[s*C+c] = a + d*((ts[s]-ta)/span)
					}
				}
				prev = t
			}
			fillFrom, fill := prev+1, mean[c]
			if prev >= 0 {
				fill = x[prev*C+c]
			}
			for s := fillFrom; s < T; s++ {
				x[s*C+c] = fill
			}
		}
	}
	return nil
}

// Drop marks each reading of p missing (NaN) independently with probability frac, in
// place, seeded (math/rand/v2 PCG): the torchsde SDE-GAN example makes its OU data
// irregular by dropping 30% of the points this way. Readings already missing stay
// missing.
func Drop(p *Paths, frac float64, seed uint64) {
	if !(frac > 0) {
		return
	}
	rng := rand.New(rand.NewPCG(seed, 0x64726f70)) // "drop"
	for i := range p.Values {
		if rng.Float64() < frac {
			p.Values[i] = math.NaN()
		}
	}
}
