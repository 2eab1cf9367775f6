package bench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/gosde/gosde/brownian"
	"github.com/gosde/gosde/neuralsde"
	"github.com/gosde/gosde/solver"
)

// solverCombo is a solver method with an adjoint.
type solverCombo struct {
	name    string
	method  solver.Method
	adjoint solver.Adjoint
}

// solverCombos are the (method, adjoint) pairs compared at equal step count.
var solverCombos = []solverCombo{
	{"ReversibleHeun+Reversible", solver.ReversibleHeun, solver.Reversible},
	{"Midpoint+Continuous", solver.Midpoint, solver.Continuous},
	{"Midpoint+Backprop", solver.Midpoint, solver.Backprop},
	{"ReversibleHeun+Backprop", solver.ReversibleHeun, solver.Backprop},
}

// gradProblem is one forward+gradient task: the SDE-GAN generator's vector fields on a
// batch of paths, outputs at every unit time, and a fixed random linear loss on them.
type gradProblem[F solver.Float] struct {
	sde    *neuralsde.NeuralSDE[F]
	y0     []F
	ts     []float64
	gradYs []F
	dt     float64
	batch  int
	seed   uint64
}

// newGradProblem sets up the generator's vector field (float F) with outputs at
// nOut+1 equally spaced times over [0, nOut] and steps of dt.
func newGradProblem[F solver.Float](batch, nOut int, dt float64, seed uint64) (*gradProblem[F], error) {
	sde, err := neuralsde.New[F](neuralsde.GeneratorConfig(), seed)
	if err != nil {
		return nil, err
	}
	d := sde.Dim()
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	p := &gradProblem[F]{sde: sde, dt: dt, batch: batch, seed: seed}
	p.y0 = make([]F, batch*d)
	for i := range p.y0 {
		p.y0[i] = F(r.NormFloat64())
	}
	p.ts = make([]float64, nOut+1)
	for i := range p.ts {
		p.ts[i] = float64(i)
	}
	p.gradYs = make([]F, len(p.ts)*batch*d)
	for i := range p.gradYs {
		p.gradYs[i] = F(r.NormFloat64() / float64(batch))
	}
	return p, nil
}

// motion is a fresh Brownian Interval over the problem's span, so every combination
// sees the same Brownian sample.
func (p *gradProblem[F]) motion() (*brownian.Interval, error) {
	return brownian.NewInterval(p.ts[0], p.ts[len(p.ts)-1], p.batch, p.sde.NoiseDim(), p.seed)
}

// run solves and differentiates once, returning the time it took and the gradient
// (dL/dy0 followed by dL/dθ).
func (p *gradProblem[F]) run(m solver.Method, a solver.Adjoint) (time.Duration, []F, error) {
	bm, err := p.motion()
	if err != nil {
		return 0, nil, err
	}
	start := time.Now()
	sol, err := solver.Solve[F](p.sde, p.y0, p.ts, solver.Options{Method: m, Adjoint: a, Dt: p.dt, Motion: bm})
	if err != nil {
		return 0, nil, err
	}
	g, err := sol.Backward(p.gradYs)
	if err != nil {
		return 0, nil, err
	}
	d := time.Since(start)
	return d, append(append([]F(nil), g.Y0...), g.Params...), nil
}

// runs are the timed forward+gradient runs of each combination, for Medians.
func (p *gradProblem[F]) runs(combos []solverCombo) []func() (time.Duration, error) {
	fs := make([]func() (time.Duration, error), len(combos))
	for i, c := range combos {
		fs[i] = func() (time.Duration, error) {
			d, _, err := p.run(c.method, c.adjoint)
			if err != nil {
				err = fmt.Errorf("%s: %w", c.name, err)
			}
			return d, err
		}
	}
	return fs
}

// relErr is ‖a − b‖₂ / ‖b‖₂ in float64.
func relErr[F solver.Float](a, b []F) float64 {
	var num, den float64
	for i := range a {
		e := float64(a[i]) - float64(b[i])
		num += e * e
		den += float64(b[i]) * float64(b[i])
	}
	return math.Sqrt(num / den)
}

// Solvers compares, on the SDE-GAN generator's neural SDE at batch 1024, the time of a
// forward solve plus gradient for each method and adjoint at equal step count, and each
// adjoint's gradient error against backpropagation through its own method.
func Solvers(s Settings) (Report, error) {
	var rep Report
	batch := 1024
	stepCounts := []int{64, 1000}
	if s.Quick {
		stepCounts = stepCounts[:1]
	}
	timing := Table{
		Title:   fmt.Sprintf("Forward solve + gradient, SDE-GAN generator (d=16, m=3, width 16), batch %d, float32, median", batch),
		Columns: []string{"steps", "method+adjoint", "time", "÷ ReversibleHeun+Reversible"},
	}
	for _, steps := range stepCounts {
		// Outputs at every unit time over [0, 64]; steps of 64/steps.
		p, err := newGradProblem[float32](batch, 64, 64/float64(steps), s.Seed)
		if err != nil {
			return rep, err
		}
		times, err := Medians(s.repeats(5), p.runs(solverCombos)...)
		if err != nil {
			return rep, err
		}
		for i, c := range solverCombos {
			timing.Rows = append(timing.Rows, []string{fmt.Sprint(steps), c.name, fmtDur(times[i]),
				FormatValue(times[i].Seconds() / times[0].Seconds())})
		}
		if steps == 64 {
			rep.Figures = append(rep.Figures, NewFigure("solvers.midpoint_over_revheun",
				times[1].Seconds()/times[0].Seconds(), "ratio", ">= 1.9"))
		}
	}
	rep.Tables = append(rep.Tables, timing)
	accuracy, figs, err := gradientErrors(s, batch)
	rep.Tables, rep.Figures = append(rep.Tables, accuracy), append(rep.Figures, figs...)
	return rep, err
}

// Memory is the memory experiment: what Solve+Backward allocates as the number of steps
// grows, for the reversible adjoint and for backpropagation.
func Memory(s Settings) (Report, error) {
	tab, figs, err := memoryGrowth(s)
	return Report{Tables: []Table{tab}, Figures: figs}, err
}

// Engine is the engine experiment: the CPU engine's throughput against the C yardstick,
// and the generator's forward+adjoint solve on the GPU engine against the CPU engine.
func Engine(s Settings) (Report, error) {
	tab, figs, err := engineVsLimit(s)
	if err != nil {
		return Report{}, err
	}
	gtab, gfigs, err := engineGPU(s, 1024)
	if err != nil {
		return Report{}, err
	}
	return Report{Tables: []Table{tab, gtab}, Figures: append(figs, gfigs...)}, nil
}

// gradientErrors measures each adjoint's gradient against the Backprop gradient of its
// own method on the same Brownian sample, in float32 and float64.
func gradientErrors(s Settings, batch int) (Table, []Figure, error) {
	tab := Table{
		Title:   fmt.Sprintf("Gradient error ‖g − g_backprop‖₂/‖g_backprop‖₂ (dL/dy0 and dL/dθ), batch %d, 64 steps", batch),
		Columns: []string{"adjoint", "float32", "float64"},
	}
	type pair struct {
		name    string
		method  solver.Method
		adjoint solver.Adjoint
	}
	pairs := []pair{
		{"ReversibleHeun: Reversible vs Backprop", solver.ReversibleHeun, solver.Reversible},
		{"Midpoint: Continuous vs Backprop", solver.Midpoint, solver.Continuous},
	}
	errs := make([][2]float64, len(pairs))
	for i, pr := range pairs {
		e32, err := adjointError[float32](batch, pr.method, pr.adjoint, s.Seed)
		if err != nil {
			return tab, nil, err
		}
		e64, err := adjointError[float64](batch, pr.method, pr.adjoint, s.Seed)
		if err != nil {
			return tab, nil, err
		}
		errs[i] = [2]float64{e32, e64}
		tab.Rows = append(tab.Rows, []string{pr.name, FormatValue(e32), FormatValue(e64)})
	}
	figs := []Figure{
		NewFigure("solvers.revheun_grad_relerr_f32", errs[0][0], "relative", "<= 1e-4"),
		NewFigure("solvers.revheun_grad_relerr_f64", errs[0][1], "relative", "<= 1e-9"),
		NewFigure("solvers.continuous_grad_relerr_f32", errs[1][0], "relative", "reported"),
		NewFigure("solvers.continuous_grad_relerr_f64", errs[1][1], "relative", "reported"),
	}
	return tab, figs, nil
}

func adjointError[F solver.Float](batch int, m solver.Method, a solver.Adjoint, seed uint64) (float64, error) {
	p, err := newGradProblem[F](batch, 64, 1, seed)
	if err != nil {
		return 0, err
	}
	_, ref, err := p.run(m, solver.Backprop)
	if err != nil {
		return 0, err
	}
	_, g, err := p.run(m, a)
	if err != nil {
		return 0, err
	}
	return relErr(g, ref), nil
}

// memoryCombos are the adjoints whose memory is measured against the number of steps.
var memoryCombos = []struct {
	name, figure string
	method       solver.Method
	adjoint      solver.Adjoint
}{
	{"Reversible (ReversibleHeun)", "memory.reversible_growth", solver.ReversibleHeun, solver.Reversible},
	{"Backprop (ReversibleHeun)", "memory.backprop_growth", solver.ReversibleHeun, solver.Backprop},
}

// memoryGrowth measures the bytes the solver allocates for Solve+Backward over one
// output interval split into 100, 1,000 and 10,000 steps. With nothing freed in
// between, that is the solve's peak memory. The Brownian Interval is swept once
// beforehand so that its tree and bounded cache (whose memory the Brownian benchmark
// reports) are already built and only the solver's own memory is counted.
func memoryGrowth(s Settings) (Table, []Figure, error) {
	batch := 256
	stepCounts := []int{100, 1000, 10000}
	tab := Table{
		Title:   fmt.Sprintf("Memory allocated by Solve+Backward, one output interval, batch %d, float32", batch),
		Columns: []string{"adjoint", "100 steps", "1,000 steps", "10,000 steps", "growth 100→10,000"},
	}
	var figs []Figure
	for _, c := range memoryCombos {
		row := []string{c.name}
		var bytes []float64
		for _, steps := range stepCounts {
			b, err := solveBytes(batch, steps, c.method, c.adjoint, s.Seed)
			if err != nil {
				return tab, nil, err
			}
			bytes = append(bytes, b)
			row = append(row, fmt.Sprintf("%.0f KiB", b/1024))
		}
		growth := bytes[len(bytes)-1] / bytes[0]
		row = append(row, FormatValue(growth))
		tab.Rows = append(tab.Rows, row)
		goal := "reported"
		if c.adjoint == solver.Reversible {
			goal = "<= 1.1"
		}
		figs = append(figs, NewFigure(c.figure, growth, "ratio", goal))
	}
	return tab, figs, nil
}

func solveBytes(batch, steps int, m solver.Method, a solver.Adjoint, seed uint64) (float64, error) {
	p, err := newGradProblem[float32](batch, 1, 1/float64(steps), seed)
	if err != nil {
		return 0, err
	}
	bm, err := p.motion()
	if err != nil {
		return 0, err
	}
	grid := make([]float64, steps+1)
	for i := range grid {
		grid[i] = float64(i) / float64(steps)
	}
	grid[steps] = 1
	if err := bm.Plan(grid); err != nil {
		return 0, err
	}
	if err := sweepMotion(bm, grid, make([]float64, batch*p.sde.NoiseDim())); err != nil {
		return 0, err
	}
	// Warm the vector field's worker pool and workspaces, which are not per solve.
	p.sde.Eval(0, p.y0, make([]float32, len(p.y0)), make([]float32, len(p.y0)*p.sde.NoiseDim()))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	sol, err := solver.Solve[float32](p.sde, p.y0, p.ts, solver.Options{Method: m, Adjoint: a, Dt: p.dt, Motion: bm})
	if err != nil {
		return 0, err
	}
	if _, err := sol.Backward(p.gradYs); err != nil {
		return 0, err
	}
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(sol)
	return float64(after.TotalAlloc - before.TotalAlloc), nil
}

// engineVsLimit compares the CPU engine's single-core evaluation throughput of the
// generator's vector fields with mlp_limit.c built by gcc in the same run.
func engineVsLimit(s Settings) (Table, []Figure, error) {
	tab := Table{
		Title:   "CPU engine vs shared/reference/mlp_limit.c, one core, batch 1024, float32 (drift 17→16→16 + diffusion 17→16→48)",
		Columns: []string{"implementation", "path-evals/s", "GFLOP/s"},
	}
	iters := 4000
	if s.Quick {
		iters = 1000
	}
	evals, gflops, err := evalThroughput(1024, iters, false)
	if err != nil {
		return tab, nil, err
	}
	tab.Rows = append(tab.Rows, []string{"gosde CPU engine (Eval)", fmt.Sprintf("%.3g", evals), FormatValue(gflops)})
	lim, err := MLPLimit(1)
	if err != nil {
		tab.Rows = append(tab.Rows, []string{"mlp_limit.c", "-", err.Error()})
		return tab, []Figure{NotMeasured("engine.cpu_over_limit", "ratio", ">= 0.4", "not measured: "+err.Error())}, nil
	}
	tab.Rows = append(tab.Rows, []string{"mlp_limit.c (gcc -O3 -march=native -ffast-math)", fmt.Sprintf("%.3g", lim.PathEvalsPerSec), FormatValue(lim.GFLOPs)})
	return tab, []Figure{NewFigure("engine.cpu_over_limit", gflops/lim.GFLOPs, "ratio", ">= 0.4")}, nil
}
