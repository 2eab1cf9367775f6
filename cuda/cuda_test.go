//go:build cgo

package cuda

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gosde/gosde/brownian"
	"github.com/gosde/gosde/dataset"
	"github.com/gosde/gosde/gan"
	"github.com/gosde/gosde/host"
	"github.com/gosde/gosde/internal/numtest"
	"github.com/gosde/gosde/nn"
	"github.com/gosde/gosde/solver"
)

// These tests hold the GPU engine to the CPU engine (llm.c's habit: the plain
// implementation is the reference for the fast one) on outputs and every gradient,
// then time it. Built with -tags cuda they run on the GPU (`make gpu-test-binary`
// makes one binary that runs on a GPU machine without Go); otherwise on the emulator,
// which runs the same kernel bodies on the CPU, at smaller batches.

var gpu *Engine

func TestMain(m *testing.M) {
	var err error
	if gpu, err = openTestEngine(); err != nil {
		fmt.Fprintln(os.Stderr, "cuda tests:", err)
		os.Exit(1)
	}
	fmt.Println("engine:", gpu.Name())
	code := m.Run()
	if err := gpu.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "closing the GPU engine:", err)
		code = 1
	}
	os.Exit(code)
}

// Tolerances, relative to the largest magnitude of the CPU engine's value: the GPU's
// expf/tanhf and its summation orders differ from Go's in the last bits only.
const (
	outputTol = 1e-5
	gradTol   = 1e-4
)

func seqTimes(n int) []float64 {
	ts := make([]float64, n)
	for i := range ts {
		ts[i] = float64(i)
	}
	return ts
}

type agreeCase struct {
	spec  host.FieldSpec
	batch int
	ts    []float64
	dt    float64
}

func (c agreeCase) String() string {
	return fmt.Sprintf("%v/noise%d/d%d-m%d-w%d/B%d", c.spec.Kind, c.spec.Noise, c.spec.Dim, c.spec.NoiseDim, c.spec.Width, c.batch)
}

func TestAgreesWithCPUEngine(t *testing.T) {
	var cases []agreeCase
	for _, B := range []int{1, 7, 300, 1024, bigBatch} {
		for _, w := range []int{16, 128} {
			if w == 128 && B > wideMaxBatch {
				continue
			}
			gen := host.FieldSpec{Kind: host.SDE, Dim: 16, NoiseDim: 3, Noise: solver.General, Width: w, Hidden: nn.LipSwish}
			cases = append(cases, agreeCase{gen, B, seqTimes(17), 1})
			disc := host.FieldSpec{Kind: host.CDE, Dim: 16, NoiseDim: 2, Width: w, Hidden: nn.LipSwish}
			cases = append(cases, agreeCase{disc, B, seqTimes(17), 1})
		}
		for _, nz := range []solver.Noise{solver.Diagonal, solver.Scalar, solver.Additive} {
			m := 3
			if nz == solver.Diagonal {
				m = 8
			} else if nz == solver.Scalar {
				m = 1
			}
			spec := host.FieldSpec{Kind: host.SDE, Dim: 8, NoiseDim: m, Noise: nz, Width: 32, Depth: 2, Hidden: nn.Tanh}
			cases = append(cases, agreeCase{spec, B, []float64{0, 0.5, 1.75, 3}, 0.3})
		}
	}
	for i, c := range cases {
		t.Run(c.String(), func(t *testing.T) {
			if testing.Short() && c.batch > 300 {
				t.Skip("large batches are skipped in -short mode")
			}
			agree(t, c, uint64(i))
		})
	}
}

// Increments stream in chunks of steps, double-buffered, in reverse for the adjoint:
// with chunks of 1, 2 and 5 steps (of 16 or 9 steps in all) the answers must not
// change.
func TestChunkedIncrementsAgree(t *testing.T) {
	defer func(c int) { gpu.chunk = c }(gpu.chunk)
	gen := host.FieldSpec{Kind: host.SDE, Dim: 16, NoiseDim: 3, Noise: solver.General, Width: 16, Hidden: nn.LipSwish}
	disc := host.FieldSpec{Kind: host.CDE, Dim: 8, NoiseDim: 2, Width: 16, Hidden: nn.LipSwish}
	for _, steps := range []int{1, 2, 5} {
		for i, c := range []agreeCase{{gen, 33, seqTimes(17), 1}, {disc, 20, []float64{0, 0.5, 1.75, 3}, 0.4}} {
			gpu.chunk = steps * 4 * c.batch * c.spec.DrivingDim()
			t.Run(fmt.Sprintf("%d-steps/%v", steps, c), func(t *testing.T) { agree(t, c, uint64(100+i)) })
		}
	}
}

// Every lane count gives the CPU engine's answers: the kernels share each path's
// loops out among its lanes and meet at barriers where one lane reads what another
// wrote. The emulator runs the lanes as coroutines, each up to its next barrier in
// turn, forwards and then backwards, so that a missing barrier changes the answer
// (a lane reads a value its owner has not yet written, or has already overwritten);
// batches of 7 and 33 leave the last block partly empty, and chunks of 3 steps make
// the shared-memory rows travel between launches.
func TestLanesAgree(t *testing.T) {
	defer func(l, c int) { gpu.lanes, gpu.chunk = l, c }(gpu.lanes, gpu.chunk)
	defer setLaneOrder(false)
	gen := host.FieldSpec{Kind: host.SDE, Dim: 16, NoiseDim: 3, Noise: solver.General, Width: 16, Hidden: nn.LipSwish}
	disc := host.FieldSpec{Kind: host.CDE, Dim: 8, NoiseDim: 2, Width: 16, Hidden: nn.LipSwish}
	cases := []agreeCase{{gen, 7, seqTimes(9), 1}, {disc, 33, []float64{0, 0.5, 1.75, 3}, 0.4}}
	for _, nz := range []solver.Noise{solver.Diagonal, solver.Scalar, solver.Additive} {
		m := map[solver.Noise]int{solver.Diagonal: 5, solver.Scalar: 1, solver.Additive: 3}[nz]
		spec := host.FieldSpec{Kind: host.SDE, Dim: 5, NoiseDim: m, Noise: nz, Width: 12, Depth: 2, Hidden: nn.Tanh}
		cases = append(cases, agreeCase{spec, 7, []float64{0, 0.5, 1.75, 3}, 0.3})
	}
	for _, lanes := range []int{2, 4, 16, 32} {
		for _, reverse := range []bool{false, true} {
			for i, c := range cases {
				for _, chunkSteps := range []int{0, 3} {
					gpu.lanes, gpu.chunk = lanes, chunkSteps*4*c.batch*c.spec.DrivingDim()
					setLaneOrder(reverse)
					name := fmt.Sprintf("lanes%d/reverse-%v/chunk%d/%v", lanes, reverse, chunkSteps, c)
					t.Run(name, func(t *testing.T) { agree(t, c, uint64(200+i)) })
				}
			}
		}
	}
}

func agree(t *testing.T, c agreeCase, seed uint64) {
	prob := host.Problem{Ts: c.ts, Dt: c.dt, Batch: c.batch}
	cpu, err := host.NewCPUSolver[float32](c.spec, prob)
	if err != nil {
		t.Fatal(err)
	}
	defer cpu.Close()
	g, err := gpu.NewSolver(c.spec, prob)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	rng := rand.New(rand.NewPCG(seed, 3))
	// Weights of the size PyTorch's default initialisation gives (std ~ 1/√width):
	// larger ones make the fields so steep that float32 rounding is amplified far
	// beyond what the comparison is about.
	params := numtest.Normals(rng, cpu.NumParams(), 0.2*math.Sqrt(16/float64(c.spec.Width)))
	copy(cpu.Params(), params)
	copy(g.Params(), params)
	d, T := c.spec.Dim, len(c.ts)
	y0 := numtest.Normals(rng, c.batch*d, 1)

	var moC, moG brownian.Motion
	var xs []float32
	if c.spec.Kind == host.SDE {
		for _, mo := range []*brownian.Motion{&moC, &moG} {
			iv, err := brownian.NewInterval(c.ts[0], c.ts[T-1], c.batch, c.spec.DrivingDim(), seed+7)
			if err != nil {
				t.Fatal(err)
			}
			*mo = iv
		}
	} else {
		xs = numtest.Normals(rng, T*c.batch*c.spec.NoiseDim, 1)
	}
	ysC, err := cpu.Forward(y0, moC, xs, false)
	if err != nil {
		t.Fatal(err)
	}
	ysG, err := g.Forward(y0, moG, xs, false)
	if err != nil {
		t.Fatal(err)
	}
	cot := numtest.Normals(rng, len(ysC), 1)
	gc, err := cpu.Backward(cot)
	if err != nil {
		t.Fatal(err)
	}
	gg, err := g.Backward(cot)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		name      string
		got, want []float32
		tol       float64
	}{
		{"outputs", ysG, ysC, outputTol},
		{"dL/dy0", gg.Y0, gc.Y0, gradTol},
		{"dL/dθ", gg.Params, gc.Params, gradTol},
		{"dL/dxs", gg.Control, gc.Control, gradTol},
	} {
		if x.want == nil && x.got == nil {
			continue // dL/dxs of an SDE
		}
		if len(x.got) != len(x.want) {
			t.Fatalf("%s: %d values, CPU %d", x.name, len(x.got), len(x.want))
		}
		e := numtest.RelErr(x.got, x.want)
		t.Logf("%-8s rel. error %.2g", x.name, e)
		if !(e <= x.tol) {
			t.Errorf("%s: GPU vs CPU relative error %.3g > %g", x.name, e, x.tol)
		}
	}
	t.Logf("reconstruction error: GPU %.2g, CPU %.2g", gg.ReconstructionError, gc.ReconstructionError)
}

// benchField is the SDE-GAN generator's field (hidden 16, noise 3, width w) solved
// over 64 steps at batch B, with random weights, initial values and output
// cotangents, and the MLP FLOPs of one forward+adjoint (2 per multiply-add; forward
// N+1 evaluations, backward N+1 evaluations and N+1 VJPs of twice the forward's cost).
type benchField struct {
	s       *gpuSolver
	y0, cot []float32
	flops   float64
}

func newBenchField(b *testing.B, B, w int) benchField {
	spec := host.FieldSpec{Kind: host.SDE, Dim: 16, NoiseDim: 3, Noise: solver.General, Width: w, Hidden: nn.LipSwish}
	ts := seqTimes(64)
	s, err := gpu.NewSolver(spec, host.Problem{Ts: ts, Dt: 1, Batch: B})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	rng := rand.New(rand.NewPCG(1, 1))
	copy(s.Params(), numtest.Normals(rng, s.NumParams(), 0.1))
	drift := nn.MustMLP(nn.Config{In: 17, Out: 16, Width: w, Depth: 1})
	diff := nn.MustMLP(nn.Config{In: 17, Out: 48, Width: w, Depth: 1})
	N := float64(len(ts) - 1)
	return benchField{
		s:     s.(*gpuSolver),
		y0:    numtest.Normals(rng, B*16, 1),
		cot:   numtest.Normals(rng, len(ts)*B*16, 1e-3),
		flops: float64(B) * float64(drift.FLOPs()+diff.FLOPs()) * ((N + 1) + (N+1)*3),
	}
}

func (bf benchField) motion(b *testing.B, seed uint64) brownian.Motion {
	mo, err := brownian.NewInterval(0, 63, bf.s.B, 3, seed)
	if err != nil {
		b.Fatal(err)
	}
	return mo
}

// benchSolve times forward+adjoint through the host.Solver API, as a caller on the
// host sees it: Brownian increments drawn on the host, outputs copied back and
// transposed to path-major, cotangents copied in, gradients summed and copied back.
func benchSolve(b *testing.B, B, w int) {
	bf := newBenchField(b, B, w)
	mo := bf.motion(b, 5)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := bf.s.Forward(bf.y0, mo, nil, false); err != nil {
			b.Fatal(err)
		}
		if _, err := bf.s.Backward(bf.cot); err != nil {
			b.Fatal(err)
		}
	}
	per := time.Since(start).Seconds() / float64(b.N)
	b.ReportMetric(per*1e3, "ms/solve")
	b.ReportMetric(flops(bf, per), "GFLOP/s")
	b.ReportMetric(float64(bf.s.f.bwd.lanes), "lanes")
	b.Logf("forward %v; adjoint %v", bf.s.f.fwd, bf.s.f.bwd)
}

func flops(bf benchField, seconds float64) float64 { return bf.flops / seconds / 1e9 }

// BenchmarkSolveParts splits benchSolve's time (width 16) into its parts: the
// kernels alone (forward, adjoint and the gradient sum, increments already on the
// device, no copies: what the 1 ms at batch 1024 is about), and the host's
// Brownian increments for every step of a fresh Interval (what a training step adds).
func BenchmarkSolveParts(b *testing.B) {
	for _, B := range []int{1024, bigBatch} {
		b.Run(fmt.Sprintf("batch%d/kernels", B), func(b *testing.B) {
			bf := newBenchField(b, B, 16)
			if _, err := bf.s.Forward(bf.y0, bf.motion(b, 5), nil, false); err != nil {
				b.Fatal(err)
			}
			if _, err := bf.s.Backward(bf.cot); err != nil {
				b.Fatal(err)
			}
			s, f := bf.s, bf.s.f
			N := int64(f.N)
			if f.chunk < f.N {
				b.Skip("increments do not fit one chunk")
			}
			b.ResetTimer()
			start := time.Now()
			err := gpu.be.do(func() error {
				for i := 0; i < b.N; i++ {
					if err := f.be.revheunForward(f.desc, s.theta, f.ws, s.y0, f.ts, f.hs, f.outidx, f.dw[0], s.dys, int64(B), 0, N, N, f.fwd); err != nil {
						return err
					}
					if err := f.be.revheunBackward(f.desc, s.theta, f.ws, f.ts, f.hs, f.outidx, f.dw[0], s.dys, s.cot, s.gtheta, buffer{},
						f.recon, s.ay0, int64(B), 0, N, N, f.bwd); err != nil {
						return err
					}
					if err := f.be.sumRows(s.gtheta, s.sum, int64(len(s.params)), int64(B), 1, false); err != nil {
						return err
					}
				}
				var x [1]float32
				return download(f.be, x[:], s.sum) // waits for the launches
			})
			if err != nil {
				b.Fatal(err)
			}
			per := time.Since(start).Seconds() / float64(b.N)
			b.ReportMetric(per*1e3, "ms/solve")
			b.ReportMetric(flops(bf, per), "GFLOP/s")
			b.ReportMetric(float64(f.bwd.lanes), "lanes")
		})
		b.Run(fmt.Sprintf("batch%d/increments", B), func(b *testing.B) {
			bf := newBenchField(b, B, 16)
			f := bf.s.f
			h := make([]float32, f.N*f.m*f.B)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := f.grid.MotionIncrements(bf.motion(b, uint64(i)), 0, f.N, false, f.qbuf, h); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)*1e3, "ms/solve")
		})
	}
}

// BenchmarkGeneratorForwardAdjoint sweeps the lanes per path (0: the engine's own
// choice, autoLanes) at each batch and width, the measurements that autoLanes'
// constants come from.
func BenchmarkGeneratorForwardAdjoint(b *testing.B) {
	defer func(l int) { gpu.lanes = l }(gpu.lanes)
	for _, B := range []int{1024, bigBatch} {
		for _, w := range []int{16, 128} {
			for _, lanes := range []int{0, 1, 2, 4, 8, 16, 32} {
				gpu.lanes = lanes
				b.Run(fmt.Sprintf("batch%d/width%d/lanes%d", B, w, lanes), func(b *testing.B) { benchSolve(b, B, w) })
			}
		}
	}
}

// gosde's SDE-GAN at the reference sizes (batch 1024, 64 times) on OU data, on the
// given engine (nil: CPU).
func newGAN(tb testing.TB, eng host.Engine, batch int, tweaks ...func(*gan.Config)) (*gan.Model, *dataset.Paths) {
	tb.Helper()
	data := dataset.OU(4096, 11)
	cfg := gan.DefaultConfig()
	cfg.Batch, cfg.Seed = batch, 3
	for _, tweak := range tweaks {
		tweak(&cfg)
	}
	cfg.SWAStart = 2 // so that a few steps exercise the weight averages too
	var opts []gan.Option
	if eng != nil {
		opts = append(opts, gan.WithEngine(eng))
	}
	m, err := gan.New(cfg, data.Times, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	return m, data
}

// A few SDE-GAN training steps give the same losses and parameters on either engine,
// up to float rounding (issue: "the same results up to float rounding").
func TestGANStepsAgreeWithCPUEngine(t *testing.T) {
	defer func(c int) { gpu.chunk = c }(gpu.chunk)
	// Default chunks (one chunk of increments per solve), then chunks of 3 steps.
	for _, chunkSteps := range []int{0, 3} {
		gpu.chunk = chunkSteps * 4 * 2 * ganBatch * 2 // the discriminator's 2B paths of 2 channels
		t.Run(fmt.Sprintf("chunk%d", chunkSteps), func(t *testing.T) { ganStepsAgree(t, 1) })
	}
	// Discriminator-only steps leave the generator alone on the device as on the CPU.
	gpu.chunk = 0
	t.Run("disc-steps2", func(t *testing.T) { ganStepsAgree(t, 2) })
}

func ganStepsAgree(t *testing.T, discSteps int) {
	const steps = 5
	tweak := func(c *gan.Config) { c.DiscSteps = discSteps }
	mc, data := newGAN(t, nil, ganBatch, tweak)
	mg, _ := newGAN(t, gpu, ganBatch, tweak)
	// Each step after the first uses the increments the step before had drawn ahead,
	// when a solve's increments fit one chunk (otherwise they stream).
	wantHits := steps - 1
	if gpu.chunk > 0 {
		wantHits = 0
	}
	defer func(h int) {
		if got := gpu.prefetchHits - h; got != wantHits {
			t.Errorf("%d steps used prefetched increments, want %d", got, wantHits)
		}
	}(gpu.prefetchHits)
	for s := 0; s < steps; s++ {
		sc, sg := stepBoth(t, mc, mg, data)
		d := math.Abs(sc.DiscLoss-sg.DiscLoss) / math.Max(math.Abs(sc.DiscLoss), 1e-3)
		t.Logf("step %d: loss CPU %.7g, %s %.7g (rel. %.2g); step %.2f ms", s+1, sc.DiscLoss, gpu.Name(), sg.DiscLoss, d, sg.Seconds*1e3)
		// Measured: ≤ 2.3e-6 on an H200, ≤ 7.5e-7 on the emulator; dropping all but
		// one time's share of the readout's gradient gives 3.4e-5.
		if !(d <= 2e-5) {
			t.Errorf("step %d: losses differ: CPU %v, GPU %v", s+1, sc.DiscLoss, sg.DiscLoss)
		}
	}
	// The networks, not the optimiser state: Adadelta's accumulators of parameters
	// whose gradient is near zero amplify rounding differences, as they do between any
	// two summation orders.
	pc, pg := mc.NetworkParams(false), mg.NetworkParams(false)
	worst := 0.0
	for name, want := range pc {
		e := numtest.RelErr(pg[name], want)
		worst = math.Max(worst, e)
		if !(e <= 5e-6) { // measured ≤ 1.8e-7 (H200 and emulator)
			t.Errorf("%s after %d steps: GPU vs CPU relative difference %.3g", name, steps, e)
		}
	}
	t.Logf("largest relative difference of a network tensor after %d steps: %.2g", steps, worst)
	if mg.SWACount() != mc.SWACount() || mg.SWACount() == 0 {
		t.Errorf("weight averages: %d on the device engine, %d on the CPU (want equal, > 0)", mg.SWACount(), mc.SWACount())
	}
	for _, name := range mc.Names() {
		if !strings.HasPrefix(name, "swa.") {
			continue
		}
		if e := numtest.RelErr(mg.Params()[name], mc.Params()[name]); !(e <= 1e-4) {
			t.Errorf("%s: relative difference %.3g", name, e)
		}
	}
}

// stepBoth takes one training step of the CPU engine's model mc and the device's mg.
func stepBoth(t *testing.T, mc, mg *gan.Model, data *dataset.Paths) (sc, sg gan.StepStats) {
	t.Helper()
	var err error
	if sc, err = mc.Step(data); err != nil {
		t.Fatal(err)
	}
	if sg, err = mg.Step(data); err != nil {
		t.Fatal(err)
	}
	return sc, sg
}

// The training state a device keeps survives a checkpoint: Params (which copies it
// back) into a fresh model (which copies it up at its first step) continues exactly
// as the original does. And a non-finite step leaves the state as it was.
func TestGANDeviceStateCheckpointAndNonFinite(t *testing.T) {
	a, data := newGAN(t, gpu, ganBatch)
	for range 3 {
		if _, err := a.Step(data); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := newGAN(t, gpu, ganBatch)
	if err := b.SetParams(a.Params()); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		sa, err := a.Step(data)
		if err != nil {
			t.Fatal(err)
		}
		sb, err := b.Step(data)
		if err != nil {
			t.Fatal(err)
		}
		if sa.DiscLoss != sb.DiscLoss {
			t.Fatalf("resumed loss %v, original %v", sb.DiscLoss, sa.DiscLoss)
		}
	}
	pa, pb := a.Params(), b.Params()
	for name, want := range pa {
		for i := range want {
			if math.Float32bits(pb[name][i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s[%d]: resumed %v, original %v", name, i, pb[name][i], want[i])
			}
		}
	}

	// A NaN weight makes the loss NaN: the step must fail and change nothing.
	bad := b.Params()
	bad["generator.readout.weight"][0] = float32(math.NaN())
	if err := b.SetParams(bad); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Step(data); !errors.Is(err, gan.ErrNonFinite) {
		t.Fatalf("step with a NaN weight: %v, want ErrNonFinite", err)
	}
	after := b.Params()
	for name, want := range bad {
		if strings.HasPrefix(name, "state.") {
			continue // the step counter counts the failed step, as on the CPU engine
		}
		for i := range want {
			if math.Float32bits(after[name][i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s[%d] changed by a failed step: %v → %v", name, i, want[i], after[name][i])
			}
		}
	}
}

// BenchmarkGANStep times a full SDE-GAN training step (generator, discriminator on
// real and fake, both adjoints, updates) at batch 1024, 64 steps, with the solves on
// the GPU engine; the target is ≤ 5 ms.
func BenchmarkGANStep(b *testing.B) {
	m, data := newGAN(b, gpu, 1024)
	if _, err := m.Step(data); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Step(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)*1e3, "ms/step")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
}

// What a caller can get wrong is an error that says so, not a crash.
func TestSolverAndLossErrors(t *testing.T) {
	spec := host.FieldSpec{Kind: host.SDE, Dim: 4, NoiseDim: 2, Noise: solver.General, Width: 8}
	prob := host.Problem{Ts: seqTimes(5), Dt: 1, Batch: 3}
	s, err := gpu.NewSolver(spec, prob)
	if err != nil {
		t.Fatal(err)
	}
	mo, _ := brownian.NewInterval(0, 4, 3, 2, 1)
	wrongMo, _ := brownian.NewInterval(0, 4, 2, 2, 1)
	shortMo, _ := brownian.NewInterval(0, 2, 3, 2, 1)
	y0 := make([]float32, 12)
	cases := []struct {
		name string
		call func() error
		want string
	}{
		{"backward first", func() error { _, err := s.Backward(make([]float32, 60)); return err }, "preceding Forward"},
		{"short y0", func() error { _, err := s.Forward(y0[:5], mo, nil, false); return err }, "len(y0)"},
		{"no motion", func() error { _, err := s.Forward(y0, nil, nil, false); return err }, "driven by Brownian motion"},
		{"motion batch", func() error { _, err := s.Forward(y0, wrongMo, nil, false); return err }, "paths"},
		{"motion span", func() error { _, err := s.Forward(y0, shortMo, nil, false); return err }, "does not cover"},
		{"forward only", func() error {
			if _, err := s.Forward(y0, mo, nil, true); err != nil {
				return err
			}
			_, err := s.Backward(make([]float32, 60))
			return err
		}, "preceding Forward"},
		{"cotangent length", func() error {
			if _, err := s.Forward(y0, mo, nil, false); err != nil {
				return err
			}
			_, err := s.Backward(make([]float32, 7))
			return err
		}, "len(gradYs)"},
		{"closed", func() error { s.Close(); _, err := s.Forward(y0, mo, nil, false); return err }, "closed"},
		{"bad spec", func() error { _, err := gpu.NewSolver(host.FieldSpec{Kind: host.SDE, Dim: 0}, prob); return err }, ""},
		{"bad problem", func() error {
			_, err := gpu.NewSolver(spec, host.Problem{Ts: []float64{0}, Dt: 1, Batch: 3})
			return err
		}, ""},
	}
	for _, c := range cases {
		err := c.call()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
		}
	}

	// The SDE-GAN loss checks its inputs too.
	cde := host.FieldSpec{Kind: host.CDE, Dim: 4, NoiseDim: 3, Width: 8}
	mk := func(in, out int) *nn.MLP { return nn.MustMLP(nn.Config{In: in, Out: out, Width: 8, Depth: 1}) }
	gs := host.GANSpec{Generator: spec, Discriminator: cde, GenInitial: mk(5, 4), GenReadout: mk(4, 2), DiscInitial: mk(3, 4), DiscReadout: mk(4, 1)}
	bad := gs
	bad.GenReadout = mk(4, 5) // 5 data channels, but the control has 1 + 2
	if _, err := gpu.NewGANLoss(bad, prob); err == nil || !strings.Contains(err.Error(), "control") {
		t.Errorf("inconsistent channels: %v", err)
	}
	l, err := gpu.NewGANLoss(gs, prob)
	if err != nil {
		t.Fatalf("a consistent SDE-GAN: %v", err)
	}
	defer l.Close()
	if _, err := l.LossGrad(nil, nil, nil, nil, mo, false, nil, nil); err == nil || !strings.Contains(err.Error(), "parameters") {
		t.Errorf("missing parameters: %v", err)
	}
	if err := l.SetState(host.GANState{}); err == nil || !strings.Contains(err.Error(), "training state") {
		t.Errorf("empty state: %v", err)
	}
}

// Prefetching the next step's Brownian increments changes when the host draws them,
// not what the step computes: two losses from the same state, one told the second
// motion in advance, give bit-identical steps, and the second step used the drawn
// increments.
func TestGANPrefetchChangesNothing(t *testing.T) {
	spec := host.FieldSpec{Kind: host.SDE, Dim: 4, NoiseDim: 2, Noise: solver.General, Width: 8, Hidden: nn.LipSwish}
	cde := host.FieldSpec{Kind: host.CDE, Dim: 4, NoiseDim: 3, Width: 8, Hidden: nn.LipSwish}
	mk := func(in, out int) *nn.MLP { return nn.MustMLP(nn.Config{In: in, Out: out, Width: 8, Depth: 1}) }
	gs := host.GANSpec{Generator: spec, Discriminator: cde, GenInitial: mk(5, 4), GenReadout: mk(4, 2), DiscInitial: mk(3, 4), DiscReadout: mk(4, 1)}
	B, T := 9, 6
	prob := host.Problem{Ts: seqTimes(T), Dt: 0.5, Batch: B}
	rng := rand.New(rand.NewPCG(4, 4))
	pg := gs.GenInitial.NumParams() + gs.GenReadout.NumParams()
	pd := gs.DiscInitial.NumParams() + gs.DiscReadout.NumParams()
	for _, f := range []host.FieldSpec{spec, cde} {
		drift, diffusion, _, _, err := host.FieldShapes(f)
		if err != nil {
			t.Fatal(err)
		}
		n := diffusion.NumParams()
		if drift != nil {
			n += drift.NumParams()
		}
		if f.Kind == host.SDE {
			pg += n
		} else {
			pd += n
		}
	}
	state := host.GANState{Gen: numtest.Normals(rng, pg, 0.3), Disc: numtest.Normals(rng, pd, 0.3),
		GenSquare: make([]float32, pg), GenDelta: make([]float32, pg), DiscSquare: make([]float32, pd), DiscDelta: make([]float32, pd),
		GenAverage: make([]float32, pg), DiscAverage: make([]float32, pd)}
	v := numtest.Normals(rng, B*5, 1)
	real := numtest.Normals(rng, T*B*2, 1)
	up := host.GANUpdate{Gen: host.AdadeltaUpdate{LR: 1e-2, Rho: 0.9, Eps: 1e-6}, Disc: host.AdadeltaUpdate{LR: 1e-2, Rho: 0.9, Eps: 1e-6}}
	motions := func() []brownian.Motion {
		var ms []brownian.Motion
		for s := range 3 {
			iv, err := brownian.NewInterval(0, float64(T-1), B, 2, uint64(30+s))
			if err != nil {
				t.Fatal(err)
			}
			ms = append(ms, iv)
		}
		return ms
	}
	run := func(prefetch bool) []host.GANLossStats {
		l, err := gpu.NewGANLoss(gs, prob)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if err := l.SetState(state); err != nil {
			t.Fatal(err)
		}
		ms := motions()
		var out []host.GANLossStats
		for s, mo := range ms {
			if prefetch && s+1 < len(ms) {
				l.Prefetch(ms[s+1])
			}
			st, err := l.Step(v, real, mo, up)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, st)
		}
		return out
	}
	h := gpu.prefetchHits
	plain := run(false)
	hits0 := gpu.prefetchHits - h
	ahead := run(true)
	hits := gpu.prefetchHits - h - hits0
	if hits0 != 0 || hits != 2 {
		t.Errorf("prefetched increments used by %d steps without Prefetch and %d with, want 0 and 2", hits0, hits)
	}
	for s := range plain {
		if plain[s] != ahead[s] {
			t.Errorf("step %d: %+v without prefetching, %+v with", s+1, plain[s], ahead[s])
		}
	}
}
