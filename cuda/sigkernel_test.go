//go:build cgo

package cuda

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gosde/gosde/gan"
	"github.com/gosde/gosde/host"
	"github.com/gosde/gosde/internal/numtest"
	"github.com/gosde/gosde/sigkernel"
)

// The signature-kernel scorer computes in float64 on the device what
// sigkernel.ScoreRule computes on the CPU, by the same scheme: only summation orders
// (and, on the GPU, fused multiply-adds and exp's last bit) differ, so the two agree to
// within sigTol relative to the largest magnitude of the CPU's value.
const sigTol = 1e-11

// sigPaths returns k time-augmented paths [3·t/(l−1), z] of l points with dim−1
// random-walk channels of step sd from a random start.
func sigPaths(rng *rand.Rand, k, l, dim int, sd float64) []float64 {
	x := make([]float64, k*l*dim)
	for p := range k {
		for t := range l {
			pt := x[(p*l+t)*dim : (p*l+t+1)*dim]
			pt[0] = 3 * float64(t) / float64(l-1)
			for c := 1; c < dim; c++ {
				if t == 0 {
					pt[c] = 0.5 * rng.NormFloat64()
				} else {
					pt[c] = x[(p*l+t-1)*dim+c] + sd*rng.NormFloat64()
				}
			}
		}
	}
	return x
}

// relErr64 is max |got − want| over max |want|.
func relErr64(got, want []float64) float64 {
	var d, m float64
	for i := range want {
		d = max(d, math.Abs(got[i]-want[i]))
		m = max(m, math.Abs(want[i]))
	}
	if m == 0 {
		return d
	}
	return d / m
}

type sigCase struct {
	spec host.SigScoreSpec
	// threads and global shape the launch (0, false: the engine's plan).
	threads int
	global  bool
}

func (c sigCase) String() string {
	s := c.spec
	name := fmt.Sprintf("%v-r%d/m%d-n%d/L%d-d%d", s.Kernel.Static, s.Kernel.Refine, s.M, s.N, s.Len, s.Dim)
	if s.RealWithin {
		name += "/realwithin"
	}
	if c.threads > 0 {
		name += fmt.Sprintf("/t%d", c.threads)
	}
	if c.global {
		name += "/global"
	}
	return name
}

func sigSpec(st sigkernel.Static, refine, m, n, l, d int, realWithin bool) host.SigScoreSpec {
	opt := sigkernel.Options{Static: st, Refine: refine}
	if st == sigkernel.RBF {
		opt.Sigma2 = 0.6
	}
	return host.SigScoreSpec{M: m, N: n, Len: l, Dim: d, Kernel: opt, RealWithin: realWithin}
}

// sigCases are the agreement cases: both static kernels, refinement 0 to 2 (and the
// largest on two-point paths), m ≠ n, lengths 2 to 22, dimensions 2 and 3, with and
// without the real set's constant; grids in shared and in global memory (L22 at
// refinement 1 and 2 does not fit 48 KB), one or several rows per thread.
func sigCases() []sigCase {
	L, R := sigkernel.Linear, sigkernel.RBF
	return []sigCase{
		{spec: sigSpec(L, 0, 5, 4, 22, 2, true)},
		{spec: sigSpec(R, 0, 5, 4, 22, 3, true)},
		{spec: sigSpec(L, 0, 3, 2, 2, 2, false)},
		{spec: sigSpec(R, 0, 2, 1, 2, 3, false)},
		{spec: sigSpec(L, 1, 3, 2, 22, 3, false)},
		{spec: sigSpec(R, 1, 3, 2, 22, 2, true)},
		{spec: sigSpec(L, 2, 2, 3, 22, 2, true)},
		{spec: sigSpec(R, 2, 3, 2, 9, 3, true)},
		{spec: sigSpec(R, sigkernel.MaxRefine, 2, 2, 2, 2, true)},
		{spec: sigSpec(L, 3, 2, 2, 3, 3, false)},
		// Launch shapes: one thread (no barriers), a few threads with many rows each, the
		// grid in global memory, and blocks larger than the grid.
		{spec: sigSpec(R, 0, 4, 3, 12, 2, true), threads: 1},
		{spec: sigSpec(L, 1, 3, 3, 12, 3, true), threads: 5, global: true},
		{spec: sigSpec(R, 0, 3, 3, 22, 3, false), threads: 64, global: true},
	}
}

// scoreBoth returns the CPU's and the device's score and gradient for c on random
// paths.
func scoreBoth(t *testing.T, c sigCase, seed uint64) (want, got sigkernel.Score, wantG, gotG []float64) {
	t.Helper()
	s := c.spec
	rng := rand.New(rand.NewPCG(seed, 17))
	gen := sigPaths(rng, s.M, s.Len, s.Dim, 0.35)
	real := sigPaths(rng, s.N, s.Len, s.Dim, 0.3)
	wantG = make([]float64, len(gen))
	var err error
	want, err = sigkernel.ScoreRule(sigkernel.Paths{X: gen, N: s.M, Len: s.Len, Dim: s.Dim},
		sigkernel.Paths{X: real, N: s.N, Len: s.Len, Dim: s.Dim}, s.Kernel, s.RealWithin, wantG)
	if err != nil {
		t.Fatal(err)
	}
	defer func(th int, g bool) { gpu.sigThreads, gpu.sigGlobal = th, g }(gpu.sigThreads, gpu.sigGlobal)
	gpu.sigThreads, gpu.sigGlobal = c.threads, c.global
	sc, err := gpu.NewSigScorer(s)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	gotG = make([]float64, len(gen))
	if got, err = sc.Score(gen, real, gotG); err != nil {
		t.Fatal(err)
	}
	// Without a gradient buffer the values are the same bits.
	v, err := sc.Score(gen, real, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !sameScore(v, got) {
		t.Errorf("without the gradient: %+v, with it %+v", v, got)
	}
	return want, got, wantG, gotG
}

func sameScore(a, b sigkernel.Score) bool {
	return math.Float64bits(a.Within) == math.Float64bits(b.Within) && math.Float64bits(a.Cross) == math.Float64bits(b.Cross) &&
		math.Float64bits(a.RealWithin) == math.Float64bits(b.RealWithin)
}

func TestSigScorerAgreesWithCPU(t *testing.T) {
	defer setLaneOrder(false)
	var worstV, worstG float64
	for i, c := range sigCases() {
		for _, reverse := range []bool{false, true} {
			name := c.String()
			if reverse {
				name += "/reverse"
			}
			t.Run(name, func(t *testing.T) {
				setLaneOrder(reverse) // the emulator's threads in reverse order at each barrier
				want, got, wantG, gotG := scoreBoth(t, c, uint64(i))
				vals := []float64{want.Within, want.Cross}
				gvals := []float64{got.Within, got.Cross}
				if c.spec.RealWithin {
					vals, gvals = append(vals, want.RealWithin), append(gvals, got.RealWithin)
				} else if !math.IsNaN(got.RealWithin) {
					t.Errorf("RealWithin %v, want NaN without it", got.RealWithin)
				}
				ev := 0.0
				for k := range vals {
					ev = max(ev, math.Abs(gvals[k]-vals[k])/math.Abs(vals[k]))
				}
				eg := relErr64(gotG, wantG)
				worstV, worstG = max(worstV, ev), max(worstG, eg)
				t.Logf("values rel. error %.2g, gradient %.2g (score %.6g, MMD² %.3g)", ev, eg, want.Value(), want.MMD2())
				if !(ev <= sigTol) || !(eg <= sigTol) {
					t.Errorf("values %+v, want %+v (rel. error %.3g); gradient rel. error %.3g", got, want, ev, eg)
				}
			})
		}
	}
	t.Logf("largest relative errors: values %.2g, gradients %.2g", worstV, worstG)
}

// Every launch shape computes every sum in the same order: the same bits whatever the
// threads per block, the blocks and where the grids sit, and on every call.
func TestSigScorerIsDeterministic(t *testing.T) {
	defer func(th int, g bool) { gpu.sigThreads, gpu.sigGlobal = th, g }(gpu.sigThreads, gpu.sigGlobal)
	for _, spec := range []host.SigScoreSpec{sigSpec(sigkernel.RBF, 1, 4, 3, 10, 3, true), sigSpec(sigkernel.Linear, 0, 4, 3, 22, 2, true)} {
		rng := rand.New(rand.NewPCG(7, 7))
		gen := sigPaths(rng, spec.M, spec.Len, spec.Dim, 0.4)
		real := sigPaths(rng, spec.N, spec.Len, spec.Dim, 0.4)
		var first sigkernel.Score
		var firstG []float64
		for k, shape := range []struct {
			threads int
			global  bool
		}{{0, false}, {0, false}, {1, false}, {3, true}, {64, false}, {0, true}} {
			gpu.sigThreads, gpu.sigGlobal = shape.threads, shape.global
			sc, err := gpu.NewSigScorer(spec)
			if err != nil {
				t.Fatal(err)
			}
			g := make([]float64, len(gen))
			for rep := range 2 {
				s, err := sc.Score(gen, real, g)
				if err != nil {
					t.Fatal(err)
				}
				if k == 0 && rep == 0 {
					first, firstG = s, slices.Clone(g)
					continue
				}
				if !sameScore(s, first) || !slices.EqualFunc(g, firstG, func(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }) {
					t.Errorf("%v, %d threads, global %v, call %d: %+v, first %+v, or another gradient", spec.Kernel.Static, shape.threads, shape.global, rep, s, first)
				}
			}
			if err := sc.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestSigScorerErrors(t *testing.T) {
	good := sigSpec(sigkernel.RBF, 0, 3, 2, 4, 2, true)
	for name, mod := range map[string]func(*host.SigScoreSpec){
		"one generated path":      func(s *host.SigScoreSpec) { s.M = 1 },
		"no real path":            func(s *host.SigScoreSpec) { s.N, s.RealWithin = 0, false },
		"one real with its pairs": func(s *host.SigScoreSpec) { s.N = 1 },
		"one point":               func(s *host.SigScoreSpec) { s.Len = 1 },
		"dimension 0":             func(s *host.SigScoreSpec) { s.Dim = 0 },
		"σ² 0":                    func(s *host.SigScoreSpec) { s.Kernel.Sigma2 = 0 },
		"σ² NaN":                  func(s *host.SigScoreSpec) { s.Kernel.Sigma2 = math.NaN() },
		"refinement too deep":     func(s *host.SigScoreSpec) { s.Kernel.Refine = sigkernel.MaxRefine + 1 },
		"negative refinement":     func(s *host.SigScoreSpec) { s.Kernel.Refine = -1 },
		"unknown static kernel":   func(s *host.SigScoreSpec) { s.Kernel.Static = 7 },
	} {
		s := good
		mod(&s)
		if sc, err := gpu.NewSigScorer(s); err == nil {
			sc.Close()
			t.Errorf("%s: no error", name)
		}
	}

	sc, err := gpu.NewSigScorer(good)
	if err != nil {
		t.Fatal(err)
	}
	ld := good.Len * good.Dim
	gen, real := make([]float64, good.M*ld), make([]float64, good.N*ld)
	for name, args := range map[string][3][]float64{
		"short generated":  {gen[1:], real, nil},
		"long real":        {gen, append(slices.Clone(real), 0), nil},
		"short gradient":   {gen, real, make([]float64, len(gen)-1)},
		"NaN generated":    {append(slices.Clone(gen[1:]), math.NaN()), real, nil},
		"infinite real":    {gen, append(slices.Clone(real[1:]), math.Inf(-1)), nil},
		"NaN with a grad.": {append([]float64{math.NaN()}, gen[1:]...), real, make([]float64, len(gen))},
	} {
		if _, err := sc.Score(args[0], args[1], args[2]); !errors.Is(err, sigkernel.ErrInput) {
			t.Errorf("%s: error %v, want one wrapping sigkernel.ErrInput", name, err)
		}
	}
	if _, err := sc.Score(gen, real, nil); err != nil {
		t.Errorf("after refused inputs: %v", err)
	}
	if err := sc.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sc.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := sc.Score(gen, real, nil); err == nil {
		t.Error("Score after Close: no error")
	}
}

// The plan keeps a pair's grid in shared memory when it fits 48 KB, and bounds the
// global workspace otherwise.
func TestPlanSig(t *testing.T) {
	for _, c := range []struct {
		spec      host.SigScoreSpec
		sms       int
		stage     bool
		threads   int
		maxBlocks int
	}{
		{sigSpec(sigkernel.RBF, 0, 64, 64, 22, 2, true), 132, true, 32, 64*63/2 + 64*64 + 64*63/2},
		{sigSpec(sigkernel.Linear, 0, 64, 64, 64, 2, true), 132, false, 64, 132 * sigBlocksPerSM},
		{sigSpec(sigkernel.RBF, 2, 64, 64, 22, 2, true), 132, false, 96, 132 * sigBlocksPerSM},
		{sigSpec(sigkernel.RBF, sigkernel.MaxRefine, 64, 64, 22, 2, true), 132, false, sigMaxThreads, 2},
		{sigSpec(sigkernel.RBF, 0, 64, 64, 22, 2, true), 0, true, sigEmulatorThreads, 64*63/2 + 64*64 + 64*63/2},
		{sigSpec(sigkernel.RBF, 2, 64, 64, 22, 2, true), 0, false, sigEmulatorThreads, sigEmulatorBlocks},
	} {
		s := c.spec
		P := s.M*(s.M-1)/2 + s.M*s.N + s.N*(s.N-1)/2
		p := planSig(s, P, c.sms, 0, false)
		if p.stage != c.stage || p.threads != c.threads || p.blocks > c.maxBlocks || p.blocks < 1 ||
			p.stage && (p.sharedBytes != int(8*p.wsDoubles) || p.sharedBytes > sharedLimit || p.blocks != P) ||
			!p.stage && int64(p.blocks)*8*p.wsDoubles > max(sigWorkspaceBytes, 8*p.wsDoubles) {
			t.Errorf("%v/r%d L%d on %d SMs: %v", s.Kernel.Static, s.Kernel.Refine, s.Len, c.sms, p)
		}
	}
}

// BenchmarkSigScore times one scoring rule with its gradient, on the engine and on the
// CPU (sigkernel.ScoreRule on every core), at the settings the PyTorch prototype found
// best (RBF, m = n, 22 of 64 times, no refinement: the pairs' grids in shared memory),
// at all 64 times (grids in global memory) and refined twice.
func BenchmarkSigScore(b *testing.B) {
	for _, c := range []struct{ l, refine int }{{22, 0}, {64, 0}, {22, 2}} {
		spec := sigSpec(sigkernel.RBF, c.refine, sigBenchBatch, sigBenchBatch, c.l, 2, true)
		rng := rand.New(rand.NewPCG(1, 1))
		gen := sigPaths(rng, spec.M, spec.Len, spec.Dim, 0.3)
		real := sigPaths(rng, spec.N, spec.Len, spec.Dim, 0.3)
		grad := make([]float64, len(gen))
		name := fmt.Sprintf("m%d-n%d-L%d-r%d", spec.M, spec.N, spec.Len, spec.Kernel.Refine)
		b.Run(name+"/engine", func(b *testing.B) {
			sc, err := gpu.NewSigScorer(spec)
			if err != nil {
				b.Fatal(err)
			}
			defer sc.Close()
			for b.Loop() {
				if _, err := sc.Score(gen, real, grad); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)*1e3, "ms/score")
		})
		b.Run(name+"/cpu", func(b *testing.B) {
			for b.Loop() {
				if _, err := sigkernel.ScoreRule(sigkernel.Paths{X: gen, N: spec.M, Len: spec.Len, Dim: spec.Dim},
					sigkernel.Paths{X: real, N: spec.N, Len: spec.Len, Dim: spec.Dim}, spec.Kernel, true, grad); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)*1e3, "ms/score")
		})
	}
}

// Training the generator by the signature-kernel score gives the same scores and
// networks on the device engine (generator solves and the scorer on the device) as on
// the CPU engine, up to the generator's float32 rounding.
func TestSigKerStepsAgreeWithCPUEngine(t *testing.T) {
	const steps = 4
	sig := func(c *gan.Config) {
		c.Objective, c.SigKer = gan.ObjectiveSigKer, gan.DefaultSigKerConfig()
		c.Batch, c.SigKer.Times = 24, 10
	}
	mc, data := newGAN(t, nil, 24, sig)
	mg, _ := newGAN(t, gpu, 24, sig)
	for s := range steps {
		sc, sg := stepBoth(t, mc, mg, data)
		d := math.Abs(sc.Score.Value()-sg.Score.Value()) / math.Abs(sc.Score.Value())
		t.Logf("step %d: score CPU %.9g, %s %.9g (rel. %.2g)", s+1, sc.Score.Value(), gpu.Name(), sg.Score.Value(), d)
		if !(d <= 1e-5) {
			t.Errorf("step %d: scores differ: CPU %v, GPU %v", s+1, sc.Score.Value(), sg.Score.Value())
		}
	}
	worst := 0.0
	for name, want := range mc.NetworkParams(false) {
		e := numtest.RelErr(mg.NetworkParams(false)[name], want)
		worst = math.Max(worst, e)
		if !(e <= 1e-4) {
			t.Errorf("%s after %d steps: GPU vs CPU relative difference %.3g", name, steps, e)
		}
	}
	t.Logf("largest relative difference of a network tensor after %d steps: %.2g", steps, worst)
}
