package bench

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/gosde/gosde/brownian"
	"github.com/gosde/gosde/host"
	"github.com/gosde/gosde/neuralsde"
)

// gpuSolveGoalMs is issue 4's target for the SDE-GAN generator's forward+adjoint solve
// (batch 1024, 64 steps) on one H200.
const gpuSolveGoalMs = 1

// generatorSpec is the SDE-GAN generator's vector field as an engine sees it.
func generatorSpec() (host.FieldSpec, neuralsde.Config) {
	gc := neuralsde.GeneratorConfig()
	return host.FieldSpec{Kind: host.SDE, Dim: gc.Dim, NoiseDim: gc.NoiseDim, Noise: gc.Noise,
		Width: gc.Width, Depth: gc.Depth, Hidden: gc.Hidden}, gc
}

// SolveTime is the median time of one forward solve plus algebraic adjoint
// (host.Solver Forward then Backward) of the SDE-GAN generator's neural SDE on eng:
// batch paths, outputs at every unit time over [0, 64], steps of 64/steps, parameters
// initialised like neuralsde's, a fixed random linear loss on the outputs. Each solve
// gets a fresh Brownian Interval (built outside the timing, queried inside it, as the
// engine must).
func SolveTime(eng host.Engine, batch, steps, repeats int, seed uint64) (time.Duration, error) {
	solve, closeSolver, err := newGeneratorSolve(eng, batch, steps, seed)
	if err != nil {
		return 0, err
	}
	d, err := Median(repeats, solve)
	return d, errors.Join(err, closeSolver())
}

// newGeneratorSolve sets up SolveTime's problem on eng and returns one timed solve,
// and what releases the solver.
func newGeneratorSolve(eng host.Engine, batch, steps int, seed uint64) (solve func() (time.Duration, error), closeSolver func() error, err error) {
	if batch < 1 || steps < 1 {
		return nil, nil, fmt.Errorf("bench: batch %d and steps %d must be positive", batch, steps)
	}
	spec, gc := generatorSpec()
	ts := make([]float64, 65)
	for i := range ts {
		ts[i] = float64(i)
	}
	sv, err := eng.NewSolver(spec, host.Problem{Ts: ts, Dt: 64 / float64(steps), Batch: batch})
	if err != nil {
		return nil, nil, fmt.Errorf("%s engine: %w", eng.Name(), err)
	}
	ref, err := neuralsde.New[float32](gc, seed)
	if err != nil {
		return nil, nil, errors.Join(err, sv.Close())
	}
	if len(ref.Params()) != sv.NumParams() {
		return nil, nil, errors.Join(fmt.Errorf("%s engine: %d parameters, neuralsde has %d", eng.Name(), sv.NumParams(), len(ref.Params())), sv.Close())
	}
	copy(sv.Params(), ref.Params())
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	y0 := make([]float32, batch*spec.Dim)
	for i := range y0 {
		y0[i] = float32(r.NormFloat64())
	}
	gradYs := make([]float32, len(ts)*batch*spec.Dim)
	for i := range gradYs {
		gradYs[i] = float32(r.NormFloat64() / float64(batch))
	}
	solve = func() (time.Duration, error) {
		bm, err := brownian.NewInterval(ts[0], ts[len(ts)-1], batch, spec.DrivingDim(), seed)
		if err != nil {
			return 0, err
		}
		start := time.Now()
		if _, err := sv.Forward(y0, bm, nil, false); err != nil {
			return 0, err
		}
		if _, err := sv.Backward(gradYs); err != nil {
			return 0, err
		}
		return time.Since(start), nil
	}
	return solve, sv.Close, nil
}

// engineGPU times the generator's forward+adjoint solve on the CPU engine and, where
// the GPU engine opens, on the GPU engine, and reports their ratio. Without a GPU
// engine the GPU figures are present, null, with the reason.
func engineGPU(s Settings, batch int) (Table, []Figure, error) {
	const steps = 64
	repeats := s.repeats(9)
	tab := Table{
		Title: fmt.Sprintf("Generator forward + adjoint solve (host.Solver Forward+Backward), batch %d, %d steps, float32, median of %d; CPU engine on %d cores",
			batch, steps, repeats, runtime.GOMAXPROCS(0)),
		Columns: []string{"engine", "time per solve", "path-solves/s", "÷ CPU throughput"},
	}
	goal := fmt.Sprintf("<= %d", gpuSolveGoalMs)
	eng, why := s.openGPU()
	engines := []host.Engine{host.NewCPU()}
	if eng != nil {
		engines = append(engines, eng)
	}
	// CPU and GPU solves are timed in turn (Medians), so a burst of other work on the
	// host slows both.
	var solves []func() (time.Duration, error)
	var closers []func() error
	ds, err := func() ([]time.Duration, error) {
		for _, e := range engines {
			solve, closeSolver, err := newGeneratorSolve(e, batch, steps, s.Seed)
			if err != nil {
				return nil, fmt.Errorf("%s engine: %w", e.Name(), err)
			}
			solves, closers = append(solves, solve), append(closers, closeSolver)
		}
		return Medians(repeats, solves...)
	}()
	for _, c := range closers {
		err = errors.Join(err, c())
	}
	if eng != nil {
		if cerr := eng.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("closing the GPU engine: %w", cerr))
		}
	}
	if err != nil {
		return tab, nil, err
	}
	cpu := ds[0]
	tab.Rows = append(tab.Rows, []string{"cpu", fmtDur(cpu), FormatValue(float64(batch) / cpu.Seconds()), "1"})
	figs := []Figure{NewFigure("engine.cpu_generator_solve_ms", ms(cpu), "ms", "reported")}
	if eng == nil {
		tab.Rows = append(tab.Rows, []string{"gpu", "not measured", "-", "-"})
		return tab, append(figs,
			NotMeasured("engine.gpu_generator_solve_ms", "ms", goal, why),
			NotMeasured("engine.gpu_over_cpu", "ratio", "reported", why)), nil
	}
	gpu := ds[1]
	ratio := cpu.Seconds() / gpu.Seconds()
	tab.Rows = append(tab.Rows, []string{eng.Name(), fmtDur(gpu), FormatValue(float64(batch) / gpu.Seconds()), FormatValue(ratio)})
	return tab, append(figs,
		NewFigure("engine.gpu_generator_solve_ms", ms(gpu), "ms", goal),
		NewFigure("engine.gpu_over_cpu", ratio, "ratio", "reported")), nil
}

func ms(d time.Duration) float64 { return d.Seconds() * 1e3 }
