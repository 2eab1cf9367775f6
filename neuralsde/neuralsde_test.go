package neuralsde

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/gosde/gosde/nn"
	"github.com/gosde/gosde/solver"
)

func randVec[F solver.Float](rng *rand.Rand, n int) []F {
	v := make([]F, n)
	for i := range v {
		v[i] = F(rng.NormFloat64())
	}
	return v
}

// gLen is the length of g for a batch.
func gLen(s solver.SDE[float64], batch int) int {
	if s.Noise() == solver.Diagonal {
		return batch * s.Dim()
	}
	return batch * s.Dim() * s.NoiseDim()
}

type diffField[F solver.Float] interface {
	solver.Differentiable[F]
	Params() []F
	Stats() Stats
}

// checkVJP compares VJP with central finite differences of L = af·f + ag·g.
func checkVJP(t *testing.T, name string, s diffField[float64], batch int) {
	rng := rand.New(rand.NewPCG(uint64(batch), 7))
	d := s.Dim()
	tm := 0.37
	y := randVec[float64](rng, batch*d)
	af := randVec[float64](rng, batch*d)
	ag := randVec[float64](rng, gLen(s, batch))
	f, g := make([]float64, len(af)), make([]float64, len(ag))
	theta := s.Params()
	// Scale the parameters up so the nonlinearities are exercised.
	for i := range theta {
		theta[i] *= 2
	}
	loss := func() float64 {
		s.Eval(tm, y, f, g)
		var l float64
		for i := range f {
			l += af[i] * f[i]
		}
		for i := range g {
			l += ag[i] * g[i]
		}
		return l
	}
	loss()
	ay := randVec[float64](rng, len(y))
	ay0 := append([]float64(nil), ay...)
	at := randVec[float64](rng, len(theta))
	at0 := append([]float64(nil), at...)
	s.VJP(tm, y, af, ag, ay, at)
	if st := s.Stats(); st.Recomputes != 0 {
		t.Errorf("%s: VJP right after Eval recomputed (%+v)", name, st)
	}
	const h = 1e-6
	check := func(what string, v []float64, i int, got float64) {
		old := v[i]
		v[i] = old + h
		lp := loss()
		v[i] = old - h
		lm := loss()
		v[i] = old
		fd := (lp - lm) / (2 * h)
		if math.Abs(fd-got) > 2e-6*(1+math.Abs(fd)) {
			t.Errorf("%s: dL/d%s[%d] = %.10g, finite difference %.10g", name, what, i, got, fd)
		}
	}
	for i := range y {
		check("y", y, i, ay[i]-ay0[i])
	}
	for i := range theta {
		check("θ", theta, i, at[i]-at0[i])
	}
}

func TestVJPFiniteDifferences(t *testing.T) {
	for _, noise := range []solver.Noise{solver.Diagonal, solver.General, solver.Additive, solver.Scalar} {
		for _, depth := range []int{1, 2} {
			cfg := Config{Dim: 5, NoiseDim: 2, Noise: noise, Width: 6, Depth: depth, BlockSize: 16, Hidden: nn.LipSwish}
			if depth == 2 {
				cfg.Hidden = nn.Tanh
			}
			s, err := New[float64](cfg, 3)
			if err != nil {
				t.Fatal(err)
			}
			checkVJP(t, fmt.Sprintf("noise %d depth %d", noise, depth), s, 37)
		}
	}
	c, err := NewCDE[float64](CDEConfig{Dim: 6, ControlDim: 3, Width: 7, BlockSize: 16}, 5)
	if err != nil {
		t.Fatal(err)
	}
	checkVJP(t, "CDE", c, 21)
}

// TestGeneratorShapes checks sizes, defaults and the zero drift of the CDE.
func TestGeneratorShapes(t *testing.T) {
	s, err := New[float32](GeneratorConfig(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if s.Dim() != 16 || s.NoiseDim() != 3 || s.Noise() != solver.General {
		t.Fatalf("generator: d %d m %d noise %d", s.Dim(), s.NoiseDim(), s.Noise())
	}
	want := (17*16 + 16 + 16*16 + 16) + (17*16 + 16 + 16*48 + 48)
	if s.NumParams() != want || len(s.Params()) != want {
		t.Fatalf("NumParams %d, want %d", s.NumParams(), want)
	}
	if s.FLOPsPerPath() != 3136 {
		t.Fatalf("FLOPsPerPath %d", s.FLOPsPerPath())
	}
	wr := s.WeightRanges()
	if len(wr) != 4 || wr[2].Off != s.Drift().NumParams() || wr[3].Limit != 1.0/48 {
		t.Fatalf("WeightRanges %+v", wr)
	}
	for _, tc := range []struct {
		noise solver.Noise
		m     int
	}{{solver.Diagonal, 4}, {solver.Scalar, 1}, {solver.General, 2}, {solver.Additive, 2}} {
		s, err := New[float64](Config{Dim: 4, NoiseDim: 2, Noise: tc.noise}, 1)
		if err != nil {
			t.Fatal(err)
		}
		if s.NoiseDim() != tc.m {
			t.Errorf("noise %d: NoiseDim %d, want %d", tc.noise, s.NoiseDim(), tc.m)
		}
	}
	c, _ := NewCDE[float32](CDEConfig{ControlDim: 2}, 1)
	y := make([]float32, 3*16)
	f := make([]float32, len(y))
	for i := range f {
		f[i] = 1
	}
	g := make([]float32, 3*16*2)
	c.Eval(0.5, y, f, g)
	for _, v := range f {
		if v != 0 {
			t.Fatal("CDE drift not zero")
		}
	}
	for _, bad := range []Config{{Dim: -1}, {Width: -2}, {BlockSize: -1}, {Noise: solver.Noise(9)}, {Hidden: nn.Activation(42)}} {
		if _, err := New[float32](bad, 1); err == nil {
			t.Errorf("New accepted %+v", bad)
		}
	}
	if _, err := NewCDE[float32](CDEConfig{}, 1); err == nil {
		t.Error("NewCDE accepted ControlDim 0")
	}
}

// TestAdditiveConstantInY: the additive diffusion is the same for every path.
func TestAdditiveConstantInY(t *testing.T) {
	s, _ := New[float64](Config{Dim: 3, NoiseDim: 2, Noise: solver.Additive}, 2)
	rng := rand.New(rand.NewPCG(1, 1))
	y := randVec[float64](rng, 5*3)
	f, g := make([]float64, 15), make([]float64, 5*6)
	s.Eval(1.5, y, f, g)
	for p := 1; p < 5; p++ {
		for k := 0; k < 6; k++ {
			if g[p*6+k] != g[k] {
				t.Fatalf("g differs between paths: %v", g)
			}
		}
	}
}

// run evaluates and differentiates a float32 generator with the current GOMAXPROCS.
func run(workers int) (f, g, ay, at []float32) {
	cfg := GeneratorConfig()
	cfg.Workers = workers
	s, _ := New[float32](cfg, 9)
	rng := rand.New(rand.NewPCG(2, 3))
	const batch = 1000 // 3 full blocks and a partial one
	y := randVec[float32](rng, batch*16)
	f, g = make([]float32, batch*16), make([]float32, batch*48)
	af, ag := randVec[float32](rng, batch*16), randVec[float32](rng, batch*48)
	ay, at = make([]float32, batch*16), make([]float32, s.NumParams())
	s.Eval(0.25, y, f, g)
	s.VJP(0.25, y, af, ag, ay, at)
	return
}

func identical(t *testing.T, what string, a, b []float32) {
	t.Helper()
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("%s[%d]: %g vs %g", what, i, a[i], b[i])
		}
	}
}

func TestBitIdenticalAcrossGOMAXPROCS(t *testing.T) {
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	f1, g1, ay1, at1 := run(0)
	runtime.GOMAXPROCS(2)
	f2, g2, ay2, at2 := run(0)
	runtime.GOMAXPROCS(4)
	f4, g4, ay4, at4 := run(0)
	for _, c := range []struct {
		name string
		a, b []float32
	}{{"f", f1, f2}, {"g", g1, g2}, {"ay", ay1, ay2}, {"atheta", at1, at2}, {"f4", f1, f4}, {"g4", g1, g4}, {"ay4", ay1, ay4}, {"atheta4", at1, at4}} {
		identical(t, c.name, c.a, c.b)
	}
}

// TestReuse checks that VJP reuses the last Eval exactly when (t, y, θ) match, and that
// reuse and recomputation give bit-identical results.
func TestReuse(t *testing.T) {
	s, _ := New[float32](Config{Dim: 4, NoiseDim: 2, Noise: solver.General, BlockSize: 32}, 4)
	rng := rand.New(rand.NewPCG(4, 4))
	const batch = 70
	y := randVec[float32](rng, batch*4)
	f, g := make([]float32, batch*4), make([]float32, batch*8)
	af, ag := randVec[float32](rng, batch*4), randVec[float32](rng, batch*8)
	vjp := func(tm float64) ([]float32, []float32) {
		ay, at := make([]float32, len(y)), make([]float32, s.NumParams())
		s.VJP(tm, y, af, ag, ay, at)
		return ay, at
	}
	s.Eval(0.5, y, f, g)
	ayR, atR := vjp(0.5)
	if st := s.Stats(); st != (Stats{Evals: 1, VJPs: 1}) {
		t.Fatalf("after Eval+VJP: %+v", st)
	}
	// Another time: recompute, then a second VJP there reuses the recomputation.
	s.Eval(0.5, y, f, g)
	vjp(0.7)
	vjp(0.7)
	if st := s.Stats(); st.Recomputes != 1 {
		t.Fatalf("VJP at another t: %+v", st)
	}
	// Back at t = 0.5 (recompute) must equal the reused result bit for bit.
	ayC, atC := vjp(0.5)
	identical(t, "ay", ayR, ayC)
	identical(t, "atheta", atR, atC)
	if st := s.Stats(); st.Recomputes != 2 {
		t.Fatalf("%+v", st)
	}
	// Changed state contents (same slice) and changed parameters both force a recompute.
	s.Eval(0.5, y, f, g)
	y[17] += 1
	vjp(0.5)
	if st := s.Stats(); st.Recomputes != 3 {
		t.Fatalf("changed y not detected: %+v", st)
	}
	s.Eval(0.5, y, f, g)
	s.Params()[3] += 0.5
	vjp(0.5)
	if st := s.Stats(); st.Recomputes != 4 {
		t.Fatalf("changed parameters not detected: %+v", st)
	}
	s.ResetStats()
	if s.Stats() != (Stats{}) {
		t.Fatal("ResetStats")
	}
}

func TestFloat32AgreesWithFloat64(t *testing.T) {
	for _, noise := range []solver.Noise{solver.General, solver.Diagonal, solver.Additive} {
		cfg := Config{Dim: 16, NoiseDim: 3, Noise: noise}
		s32, _ := New[float32](cfg, 6)
		s64, _ := New[float64](cfg, 6)
		for i, v := range s32.Params() {
			s64.Params()[i] = float64(v)
		}
		rng := rand.New(rand.NewPCG(6, 6))
		const batch = 300
		gl := batch * s32.Diffusion().Out()
		y := randVec[float64](rng, batch*16)
		af, ag := randVec[float64](rng, batch*16), randVec[float64](rng, gl)
		to32 := func(v []float64) []float32 {
			r := make([]float32, len(v))
			for i, x := range v {
				r[i] = float32(x)
			}
			return r
		}
		f64, g64 := make([]float64, batch*16), make([]float64, gl)
		f32, g32 := make([]float32, batch*16), make([]float32, gl)
		s64.Eval(0.3, y, f64, g64)
		s32.Eval(0.3, to32(y), f32, g32)
		ay64, at64 := make([]float64, len(y)), make([]float64, s64.NumParams())
		ay32, at32 := make([]float32, len(y)), make([]float32, s32.NumParams())
		s64.VJP(0.3, y, af, ag, ay64, at64)
		s32.VJP(0.3, to32(y), to32(af), to32(ag), ay32, at32)
		cmp := func(what string, a []float32, b []float64, rel bool) {
			scale := 1.0
			if rel {
				for _, v := range b {
					scale = max(scale, math.Abs(v))
				}
			}
			for i := range b {
				if math.Abs(float64(a[i])-b[i]) > 2e-5*scale*(1+math.Abs(b[i])) {
					t.Fatalf("noise %d %s[%d]: float32 %g, float64 %g", noise, what, i, a[i], b[i])
				}
			}
		}
		cmp("f", f32, f64, false)
		cmp("g", g32, g64, false)
		cmp("ay", ay32, ay64, false)
		cmp("atheta", at32, at64, true)
	}
}

func TestNoAllocations(t *testing.T) {
	for _, noise := range []solver.Noise{solver.General, solver.Additive} {
		cfg := GeneratorConfig()
		cfg.Noise = noise
		s, _ := New[float32](cfg, 1)
		const batch = 600
		rng := rand.New(rand.NewPCG(1, 9))
		gl := batch * s.Diffusion().Out()
		y := randVec[float32](rng, batch*16)
		f, g := make([]float32, batch*16), make([]float32, gl)
		af, ag := randVec[float32](rng, batch*16), randVec[float32](rng, gl)
		ay, at := make([]float32, len(y)), make([]float32, s.NumParams())
		tm := 0.0
		step := func() {
			tm += 0.125
			s.Eval(tm, y, f, g)
			s.VJP(tm, y, af, ag, ay, at)
			s.VJP(tm+1, y, af, ag, ay, at) // with recomputation
		}
		step()
		if a := testing.AllocsPerRun(20, step); a != 0 {
			t.Errorf("noise %d: %.1f allocations per Eval+2 VJP", noise, a)
		}
		// AllocsPerRun runs with GOMAXPROCS 1; count again with the helpers working.
		old := runtime.GOMAXPROCS(2)
		for range 5 {
			step()
		}
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		for range 50 {
			step()
		}
		runtime.ReadMemStats(&m1)
		runtime.GOMAXPROCS(old)
		// Parked helpers waking can make the runtime itself allocate now and then; an
		// allocation of ours would show at least once per call.
		if d := m1.Mallocs - m0.Mallocs; d >= 50 {
			t.Errorf("noise %d: %d allocations in 50 parallel Eval+2 VJP", noise, d)
		}
	}
}

func benchSDE(b *testing.B, workers int, vjp bool) {
	cfg := GeneratorConfig()
	cfg.Workers = workers
	s, _ := New[float32](cfg, 1)
	const batch = 1024
	rng := rand.New(rand.NewPCG(1, 9))
	y := randVec[float32](rng, batch*16)
	f, g := make([]float32, batch*16), make([]float32, batch*48)
	af, ag := randVec[float32](rng, batch*16), randVec[float32](rng, batch*48)
	ay, at := make([]float32, len(y)), make([]float32, s.NumParams())
	tm := 0.0
	for b.Loop() {
		tm += 0.01
		s.Eval(tm, y, f, g)
		if vjp {
			s.VJP(tm, y, af, ag, ay, at)
		}
	}
	fl := float64(s.FLOPsPerPath())
	if vjp {
		fl = 3*fl - 64
	}
	b.ReportMetric(fl*batch*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	b.ReportMetric(batch*float64(b.N)/b.Elapsed().Seconds(), "paths/s")
}

// Generator vector fields, batch 1024, float32: one worker, and all cores.
func BenchmarkEval1Core(b *testing.B)       { benchSDE(b, 1, false) }
func BenchmarkEvalVJP1Core(b *testing.B)    { benchSDE(b, 1, true) }
func BenchmarkEvalAllCores(b *testing.B)    { benchSDE(b, 0, false) }
func BenchmarkEvalVJPAllCores(b *testing.B) { benchSDE(b, 0, true) }
