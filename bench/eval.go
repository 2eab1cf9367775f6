package bench

import (
	"errors"
	"math/rand/v2"
	"time"

	"github.com/gosde/gosde/neuralsde"
)

// evalThroughput times Eval of the SDE-GAN generator's vector fields (drift MLP
// 17→16→16 and diffusion MLP 17→16→48, float32) on one core (a single worker, whatever
// GOMAXPROCS is) for iters evaluations of batch paths after a short warm-up. It returns
// path evaluations per second and GFLOP/s counted like shared/reference/mlp_limit.c:
// 2 FLOPs per multiply-add of the four weight matrices (3136 per path), activations and
// the path-major↔feature-major transposes included in the time but not in the count.
//
// With vjp, each evaluation is followed by one VJP at the same point (one backward step
// of the reversible adjoint), reusing the Eval's activations; the count is then the
// forward FLOPs, the same again for the parameter cotangent, and those of the input
// cotangent (the forward's minus the t column): 9344 per path, and the rate is
// path-(Eval+VJP)s per second.
func evalThroughput(batch, iters int, vjp bool) (rate, gflops float64, err error) {
	if batch < 1 || iters < 1 {
		return 0, 0, errors.New("bench: batch and iters must be positive")
	}
	cfg := neuralsde.GeneratorConfig()
	cfg.Workers = 1
	s, err := neuralsde.New[float32](cfg, 1)
	if err != nil {
		return 0, 0, err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	d, m := s.Dim(), s.NoiseDim()
	y := make([]float32, batch*d)
	for i := range y {
		y[i] = float32(rng.NormFloat64())
	}
	f := make([]float32, batch*d)
	g := make([]float32, batch*d*m)
	af, ag, ay := make([]float32, len(f)), make([]float32, len(g)), make([]float32, len(y))
	for i := range af {
		af[i] = float32(rng.NormFloat64())
	}
	for i := range ag {
		ag[i] = float32(rng.NormFloat64())
	}
	at := make([]float32, s.NumParams())
	step := func(i int) {
		t := float64(i%64) * 0.01
		s.Eval(t, y, f, g)
		if vjp {
			s.VJP(t, y, af, ag, ay, at)
		}
	}
	for i := range min(iters, 20) {
		step(i)
	}
	start := time.Now()
	for i := range iters {
		step(i)
	}
	el := time.Since(start).Seconds()
	rate = float64(batch) * float64(iters) / el
	fl := float64(s.FLOPsPerPath())
	if vjp {
		fl = 3*fl - float64(2*(s.Drift().Layers()[0].Out+s.Diffusion().Layers()[0].Out))
	}
	return rate, rate * fl / 1e9, nil
}
