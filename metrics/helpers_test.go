package metrics

import (
	"math"
	"math/rand/v2"

	"github.com/gosde/gosde/dataset"
)

// brownian returns n paths of a C-channel Brownian motion with drift mu and volatility
// sigma on T equally spaced times in [0, 1], started at 0.
func brownian(n, T, C int, mu, sigma float64, seed uint64) *dataset.Paths {
	rng := rand.New(rand.NewPCG(seed, 7))
	p := &dataset.Paths{N: n, Times: make([]float64, T), Channels: make([]string, C), Values: make([]float64, n*T*C)}
	for t := range T {
		p.Times[t] = float64(t) / float64(T-1)
	}
	for c := range C {
		p.Channels[c] = string(rune('a' + c))
	}
	dt := 1 / float64(T-1)
	for i := range n {
		x := p.Path(i)
		for t := 1; t < T; t++ {
			for c := range C {
				x[t*C+c] = x[(t-1)*C+c] + mu*dt + sigma*math.Sqrt(dt)*rng.NormFloat64()
			}
		}
	}
	return p
}

func clonePaths(p *dataset.Paths) *dataset.Paths {
	q := *p
	q.Times = append([]float64(nil), p.Times...)
	q.Channels = append([]string(nil), p.Channels...)
	q.Values = append([]float64(nil), p.Values...)
	return &q
}
