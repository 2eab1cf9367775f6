package host

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gosde/gosde/brownian"
	"github.com/gosde/gosde/neuralsde"
	"github.com/gosde/gosde/nn"
	"github.com/gosde/gosde/solver"
)

var testTs = []float64{0, 0.5, 1.25, 2}

// randoms returns n values ~ scale·N(0, 1) from seed.
func randoms[F solver.Float](n int, scale float64, seed uint64) []F {
	r := rand.New(rand.NewPCG(seed, 99))
	x := make([]F, n)
	for i := range x {
		x[i] = F(scale * r.NormFloat64())
	}
	return x
}

// direct is a field built and solved without host: what the CPU engine must reproduce.
type direct[F solver.Float] struct {
	field interface {
		solver.Differentiable[F]
		Params() []F
	}
}

func newDirect[F solver.Float](t *testing.T, spec FieldSpec, seed uint64) direct[F] {
	t.Helper()
	var d direct[F]
	var err error
	switch spec.Kind {
	case SDE:
		d.field, err = neuralsde.New[F](neuralsde.Config{Dim: spec.Dim, NoiseDim: spec.NoiseDim, Noise: spec.Noise,
			Width: spec.Width, Depth: spec.Depth, Hidden: spec.Hidden}, seed)
	case CDE:
		d.field, err = neuralsde.NewCDE[F](neuralsde.CDEConfig{Dim: spec.Dim, ControlDim: spec.NoiseDim,
			Width: spec.Width, Depth: spec.Depth, Hidden: spec.Hidden}, seed)
	}
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// inputs are one solve's data: y0, a Brownian motion (SDE) or a control (CDE), and the
// cotangent of the outputs.
type inputs[F solver.Float] struct {
	y0, xs, gradYs []F
	bmSeed         uint64
}

func makeInputs[F solver.Float](spec FieldSpec, prob Problem, seed uint64) inputs[F] {
	in := inputs[F]{
		y0:     randoms[F](prob.Batch*spec.Dim, 0.5, seed),
		gradYs: randoms[F](len(prob.Ts)*prob.Batch*spec.Dim, 1, seed+1),
		bmSeed: seed + 2,
	}
	if spec.Kind == CDE {
		in.xs = randoms[F](len(prob.Ts)*prob.Batch*spec.NoiseDim, 0.7, seed+3)
	}
	return in
}

func (in inputs[F]) motion(t *testing.T, spec FieldSpec, prob Problem) brownian.Motion {
	t.Helper()
	if spec.Kind == CDE {
		return nil
	}
	mo, err := brownian.NewInterval(prob.Ts[0], prob.Ts[len(prob.Ts)-1], prob.Batch, spec.DrivingDim(), in.bmSeed)
	if err != nil {
		t.Fatal(err)
	}
	return mo
}

// solveDirect is the solve the CPU engine stands for, called without it.
func (d direct[F]) solve(t *testing.T, spec FieldSpec, prob Problem, in inputs[F]) ([]F, *solver.Gradients[F]) {
	t.Helper()
	opt := solver.Options{Method: solver.ReversibleHeun, Adjoint: solver.Reversible, Dt: prob.Dt}
	var sol *solver.Solution[F]
	var err error
	if spec.Kind == SDE {
		opt.Motion = in.motion(t, spec, prob)
		sol, err = solver.Solve[F](d.field, in.y0, prob.Ts, opt)
	} else {
		sol, err = solver.SolveCDE[F](d.field, in.y0, prob.Ts, in.xs, opt)
	}
	if err != nil {
		t.Fatal(err)
	}
	g, err := sol.Backward(in.gradYs)
	if err != nil {
		t.Fatal(err)
	}
	return sol.Ys, g
}

func solveCPU[F solver.Float](t *testing.T, s FieldSolver[F], spec FieldSpec, prob Problem, in inputs[F]) ([]F, *solver.Gradients[F]) {
	t.Helper()
	ys, err := s.Forward(in.y0, in.motion(t, spec, prob), in.xs, false)
	if err != nil {
		t.Fatal(err)
	}
	ys = append([]F(nil), ys...)
	g, err := s.Backward(in.gradYs)
	if err != nil {
		t.Fatal(err)
	}
	return ys, g
}

func sameBits[F solver.Float](t *testing.T, what string, got, want []F) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: length %d, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Float64bits(float64(got[i])) != math.Float64bits(float64(want[i])) {
			t.Fatalf("%s[%d] = %v, want %v (bit for bit)", what, i, got[i], want[i])
		}
	}
}

var matchCases = []struct {
	name string
	spec FieldSpec
	prob Problem
}{
	{"sde general", FieldSpec{Kind: SDE, Dim: 3, NoiseDim: 2, Noise: solver.General, Width: 5, Hidden: nn.LipSwish}, Problem{Ts: testTs, Dt: 0.3, Batch: 4}},
	{"sde diagonal depth 2", FieldSpec{Kind: SDE, Dim: 3, Noise: solver.Diagonal, Width: 4, Depth: 2, Hidden: nn.Tanh}, Problem{Ts: testTs, Dt: 0.25, Batch: 3}},
	{"sde additive affine", FieldSpec{Kind: SDE, Dim: 2, NoiseDim: 3, Noise: solver.Additive, Width: 4, Depth: -1, Hidden: nn.LipSwish}, Problem{Ts: testTs, Dt: 0.5, Batch: 5}},
	{"sde scalar", FieldSpec{Kind: SDE, Dim: 2, NoiseDim: 1, Noise: solver.Scalar, Width: 3, Hidden: nn.LipSwish}, Problem{Ts: testTs, Dt: 1, Batch: 2}},
	// More paths than one block of neuralsde's worker pool, so its reductions run.
	{"sde many paths", FieldSpec{Kind: SDE, Dim: 4, NoiseDim: 3, Noise: solver.General, Width: 6, Hidden: nn.LipSwish}, Problem{Ts: testTs, Dt: 0.5, Batch: 300}},
	{"cde", FieldSpec{Kind: CDE, Dim: 3, NoiseDim: 2, Width: 5, Hidden: nn.LipSwish}, Problem{Ts: testTs, Dt: 0.3, Batch: 4}},
	{"cde many paths", FieldSpec{Kind: CDE, Dim: 4, NoiseDim: 3, Noise: solver.General, Width: 6, Hidden: nn.LipSwish}, Problem{Ts: testTs, Dt: 0.4, Batch: 520}},
}

// The CPU engine is neuralsde solved by package solver: with the same parameters and
// the same Brownian seed, its outputs and gradients are those of calling them directly,
// bit for bit.
func TestCPUSolverMatchesDirectSolve(t *testing.T) {
	for _, c := range matchCases {
		t.Run(c.name+"/float32", func(t *testing.T) { testMatch[float32](t, c.spec, c.prob, true) })
		t.Run(c.name+"/float64", func(t *testing.T) { testMatch[float64](t, c.spec, c.prob, false) })
	}
}

func testMatch[F solver.Float](t *testing.T, spec FieldSpec, prob Problem, viaEngine bool) {
	d := newDirect[F](t, spec, 5)
	var s FieldSolver[F]
	if viaEngine {
		// float32: through the Engine interface, as models use it.
		e, err := Open("cpu")
		if err != nil {
			t.Fatal(err)
		}
		sv, err := e.NewSolver(spec, prob)
		if err != nil {
			t.Fatal(err)
		}
		s = any(sv).(FieldSolver[F])
	} else {
		sv, err := NewCPUSolver[F](spec, prob)
		if err != nil {
			t.Fatal(err)
		}
		s = sv
	}
	defer s.Close()
	if s.NumParams() != d.field.NumParams() || len(s.Params()) != s.NumParams() {
		t.Fatalf("NumParams %d, len(Params) %d; neuralsde has %d", s.NumParams(), len(s.Params()), d.field.NumParams())
	}
	for i, v := range s.Params() {
		if v != 0 {
			t.Fatalf("Params()[%d] = %v before being set; every engine starts at zero", i, v)
		}
	}
	copy(s.Params(), d.field.Params())
	in := makeInputs[F](spec, prob, 17)
	wantYs, wantG := d.solve(t, spec, prob, in)
	for round := range 2 { // a second solve must not depend on the first
		ys, g := solveCPU(t, s, spec, prob, in)
		sameBits(t, "Ys", ys, wantYs)
		sameBits(t, "dL/dy0", g.Y0, wantG.Y0)
		sameBits(t, "dL/dθ", g.Params, wantG.Params)
		sameBits(t, "dL/dxs", g.Control, wantG.Control)
		if g.ReconstructionError != wantG.ReconstructionError {
			t.Fatalf("round %d: reconstruction error %g, want %g", round, g.ReconstructionError, wantG.ReconstructionError)
		}
	}
	if spec.Kind == CDE && len(wantG.Control) != len(in.xs) {
		t.Fatalf("CDE control gradient has %d values, want %d", len(wantG.Control), len(in.xs))
	}
}

// lossFD is L = Σ w·Ys for fixed weights w, evaluated by a forward-only solve.
func lossFD(t *testing.T, s *CPUSolver[float64], spec FieldSpec, prob Problem, in inputs[float64]) float64 {
	t.Helper()
	ys, err := s.Forward(in.y0, in.motion(t, spec, prob), in.xs, true)
	if err != nil {
		t.Fatal(err)
	}
	var l float64
	for i, y := range ys {
		l += in.gradYs[i] * y
	}
	return l
}

// The gradients of the CPU engine against central finite differences of the loss
// L = Σ w·Ys, in float64: parameters and y0 of an SDE, parameters, y0 and the control
// of a CDE.
func TestCPUSolverGradientsMatchFiniteDifferences(t *testing.T) {
	prob := Problem{Ts: []float64{0, 0.4, 1.1, 1.5}, Dt: 0.2, Batch: 3}
	for _, spec := range []FieldSpec{
		{Kind: SDE, Dim: 2, NoiseDim: 2, Noise: solver.General, Width: 3, Hidden: nn.LipSwish},
		{Kind: CDE, Dim: 2, NoiseDim: 3, Width: 3, Hidden: nn.LipSwish},
	} {
		t.Run(spec.Kind.String(), func(t *testing.T) {
			s, err := NewCPUSolver[float64](spec, prob)
			if err != nil {
				t.Fatal(err)
			}
			copy(s.Params(), newDirect[float64](t, spec, 8).field.Params())
			in := makeInputs[float64](spec, prob, 23)
			_, g := solveCPU(t, FieldSolver[float64](s), spec, prob, in)
			vars := map[string]struct{ x, grad []float64 }{
				"θ":  {s.Params(), g.Params},
				"y0": {in.y0, g.Y0},
			}
			if spec.Kind == CDE {
				vars["xs"] = struct{ x, grad []float64 }{in.xs, g.Control}
			}
			const h = 1e-6
			for name, v := range vars {
				var num, den float64
				for k := range v.x {
					old := v.x[k]
					v.x[k] = old + h
					lp := lossFD(t, s, spec, prob, in)
					v.x[k] = old - h
					lm := lossFD(t, s, spec, prob, in)
					v.x[k] = old
					fd := (lp - lm) / (2 * h)
					num += (fd - v.grad[k]) * (fd - v.grad[k])
					den += fd * fd
				}
				re := math.Sqrt(num / den)
				t.Logf("dL/d%s: %d values, |grad| %.3e, rel err vs finite differences %.2e", name, len(v.x), math.Sqrt(den), re)
				if !(den > 0) || !(re < 1e-6) {
					t.Errorf("dL/d%s: relative error %g against finite differences (|fd| %g)", name, re, math.Sqrt(den))
				}
			}
		})
	}
}

func TestCPUSolverErrors(t *testing.T) {
	okSDE := FieldSpec{Kind: SDE, Dim: 2, NoiseDim: 3, Noise: solver.General, Width: 4, Hidden: nn.LipSwish}
	okCDE := FieldSpec{Kind: CDE, Dim: 2, NoiseDim: 3, Width: 4, Hidden: nn.LipSwish}
	okProb := Problem{Ts: []float64{0, 1, 2}, Dt: 0.5, Batch: 2}
	newCases := []struct {
		name string
		spec FieldSpec
		prob Problem
		want string
	}{
		{"unknown kind", FieldSpec{Kind: 7, Dim: 2, NoiseDim: 3, Width: 4}, okProb, "unknown field Kind"},
		{"zero dim", FieldSpec{Kind: SDE, NoiseDim: 3, Noise: solver.General, Width: 4}, okProb, "Dim"},
		{"zero width", FieldSpec{Kind: SDE, Dim: 2, NoiseDim: 3, Noise: solver.General}, okProb, "Width"},
		{"bad activation", FieldSpec{Kind: SDE, Dim: 2, NoiseDim: 3, Noise: solver.General, Width: 4, Hidden: 99}, okProb, "activation"},
		{"general without noise", FieldSpec{Kind: SDE, Dim: 2, Noise: solver.General, Width: 4}, okProb, "NoiseDim"},
		{"diagonal with other noise size", FieldSpec{Kind: SDE, Dim: 2, NoiseDim: 3, Noise: solver.Diagonal, Width: 4}, okProb, "Diagonal"},
		{"scalar with noise size 2", FieldSpec{Kind: SDE, Dim: 2, NoiseDim: 2, Noise: solver.Scalar, Width: 4}, okProb, "Scalar"},
		{"unknown noise", FieldSpec{Kind: SDE, Dim: 2, NoiseDim: 2, Noise: 9, Width: 4}, okProb, "unknown Noise"},
		{"cde without channels", FieldSpec{Kind: CDE, Dim: 2, Width: 4}, okProb, "control channels"},
		{"cde with additive noise", FieldSpec{Kind: CDE, Dim: 2, NoiseDim: 2, Noise: solver.Additive, Width: 4}, okProb, "CDE"},
		{"batch 0", okSDE, Problem{Ts: okProb.Ts, Dt: 0.5}, "Batch"},
		{"one time", okSDE, Problem{Ts: []float64{0}, Dt: 0.5, Batch: 2}, "at least 2"},
		{"times not increasing", okSDE, Problem{Ts: []float64{0, 1, 1}, Dt: 0.5, Batch: 2}, "strictly increasing"},
		{"time NaN", okSDE, Problem{Ts: []float64{0, math.NaN()}, Dt: 0.5, Batch: 2}, "not finite"},
		{"dt 0", okSDE, Problem{Ts: okProb.Ts, Batch: 2}, "Dt"},
		{"dt inf", okSDE, Problem{Ts: okProb.Ts, Dt: math.Inf(1), Batch: 2}, "Dt"},
	}
	for _, c := range newCases {
		_, err := NewCPUSolver[float32](c.spec, c.prob)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: NewCPUSolver error %v, want one mentioning %q", c.name, err, c.want)
		}
		// Through the engine, a failure is a nil interface, not a nil pointer in one.
		if s, err := NewCPU().NewSolver(c.spec, c.prob); err == nil || s != nil {
			t.Errorf("%s: CPU.NewSolver returned %v, %v", c.name, s, err)
		}
	}

	mo := func(batch, dim int, t1 float64) brownian.Motion {
		m, err := brownian.NewInterval(0, t1, batch, dim, 1)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	y0 := make([]float32, okProb.Batch*2)
	xs := make([]float32, 3*okProb.Batch*3)
	grad := make([]float32, 3*okProb.Batch*2)
	type step func(s *CPUSolver[float32]) error
	fwd := func(y0 []float32, m brownian.Motion, xs []float32, fo bool) step {
		return func(s *CPUSolver[float32]) error { _, err := s.Forward(y0, m, xs, fo); return err }
	}
	bwd := func(g []float32) step {
		return func(s *CPUSolver[float32]) error { _, err := s.Backward(g); return err }
	}
	closeS := func(s *CPUSolver[float32]) error { return s.Close() }
	useCases := []struct {
		name  string
		spec  FieldSpec
		steps []step // all but the last must succeed
		want  string
	}{
		{"short y0", okSDE, []step{fwd(y0[:3], mo(2, 3, 2), nil, false)}, "len(y0)"},
		{"non-finite y0", okSDE, []step{fwd([]float32{0, 0, float32(math.NaN()), 0}, mo(2, 3, 2), nil, false)}, "not finite"},
		{"sde without motion", okSDE, []step{fwd(y0, nil, nil, false)}, "mo is nil"},
		{"sde with xs", okSDE, []step{fwd(y0, mo(2, 3, 2), xs, false)}, "xs must be nil"},
		{"motion batch", okSDE, []step{fwd(y0, mo(3, 3, 2), nil, false)}, "3 paths"},
		{"motion channels", okSDE, []step{fwd(y0, mo(2, 2, 2), nil, false)}, "2 channels"},
		{"motion span", okSDE, []step{fwd(y0, mo(2, 3, 1.5), nil, false)}, "span"},
		{"cde with motion", okCDE, []step{fwd(y0, mo(2, 3, 2), xs, false)}, "mo must be nil"},
		{"cde without xs", okCDE, []step{fwd(y0, nil, nil, false)}, "len(xs)"},
		{"cde short xs", okCDE, []step{fwd(y0, nil, xs[1:], false)}, "len(xs)"},
		{"backward first", okSDE, []step{bwd(grad)}, "Backward needs a successful Forward"},
		{"backward after forward-only", okSDE, []step{fwd(y0, mo(2, 3, 2), nil, true), bwd(grad)}, "forwardOnly"},
		{"short y0 after a solve", okSDE, []step{fwd(y0, mo(2, 3, 2), nil, false), bwd(grad), fwd(y0[:1], mo(2, 3, 2), nil, false)}, "len(y0)"},
		{"backward after failed forward", okSDE, []step{fwd(y0, mo(2, 3, 2), nil, false), func(s *CPUSolver[float32]) error {
			s.Forward(y0, nil, nil, false)
			_, err := s.Backward(grad)
			return err
		}}, "Backward needs a successful Forward"},
		{"short gradYs", okSDE, []step{fwd(y0, mo(2, 3, 2), nil, false), bwd(grad[1:])}, "len(gradYs)"},
		{"cde gradYs", okCDE, []step{fwd(y0, nil, xs, false), bwd(grad[:4])}, "len(gradYs)"},
		{"forward after close", okSDE, []step{closeS, fwd(y0, mo(2, 3, 2), nil, false)}, "closed"},
		{"backward after close", okSDE, []step{fwd(y0, mo(2, 3, 2), nil, false), closeS, bwd(grad)}, "closed"},
	}
	for _, c := range useCases {
		s, err := NewCPUSolver[float32](c.spec, okProb)
		if err != nil {
			t.Fatal(err)
		}
		for i, st := range c.steps {
			err := st(s)
			if i < len(c.steps)-1 {
				if err != nil {
					t.Fatalf("%s: step %d: %v", c.name, i, err)
				}
				continue
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
			}
		}
	}
}

func TestCPUEngine(t *testing.T) {
	e := NewCPU()
	if e.Name() != "cpu" || e.Fallback() != nil {
		t.Fatalf("Name %q, Fallback %v", e.Name(), e.Fallback())
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if got := (FieldSpec{Kind: SDE, Dim: 4, Noise: solver.Diagonal}).DrivingDim(); got != 4 {
		t.Errorf("Diagonal DrivingDim %d, want Dim", got)
	}
	if got := (FieldSpec{Kind: SDE, Dim: 4, Noise: solver.Scalar}).DrivingDim(); got != 1 {
		t.Errorf("Scalar DrivingDim %d, want 1", got)
	}
	if got := (FieldSpec{Kind: CDE, Dim: 4, NoiseDim: 3}).DrivingDim(); got != 3 {
		t.Errorf("CDE DrivingDim %d, want 3", got)
	}
}
