package kernels

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gosde/gosde/brownian"
	"github.com/gosde/gosde/internal/numtest"
	"github.com/gosde/gosde/internal/oracle"
	"github.com/gosde/gosde/neuralsde"
	"github.com/gosde/gosde/nn"
	"github.com/gosde/gosde/optim"
	"github.com/gosde/gosde/solver"
)

// The GPU kernels' per-path code, compiled by the host's C++ compiler into
// check/harness.cc, is held here to the Go engine on the same inputs: outputs and
// every gradient within relTol (relative to the largest magnitude of the Go value),
// in float32, for several shapes. The reversible Heun code is also held to package
// oracle (internal/oracle), the unfused float64 statement of the method and its
// adjoint, at the same tolerance. `make gpu-check` sets GOSDE_REQUIRE_CXX=1 so that a
// missing compiler fails instead of skipping.
const relTol = 1e-5

var harness struct {
	once sync.Once
	path string
	err  error
}

func harnessPath(t *testing.T) string {
	t.Helper()
	harness.once.Do(func() {
		cxx := os.Getenv("CXX")
		if cxx == "" {
			cxx = "g++"
		}
		if _, err := exec.LookPath(cxx); err != nil {
			harness.err = fmt.Errorf("no C++ compiler (%s): %w", cxx, err)
			return
		}
		dir, err := os.MkdirTemp("", "gosde-harness")
		if err != nil {
			harness.err = err
			return
		}
		harness.path = filepath.Join(dir, "harness")
		// -ffp-contract=off: no fused multiply-adds the Go engine's scalar code would
		// not make either; the comparison is about the algorithm, not the rounding.
		cmd := exec.Command(cxx, "-O2", "-std=c++17", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off",
			"-o", harness.path, filepath.Join("check", "harness.cc"))
		if out, err := cmd.CombinedOutput(); err != nil {
			harness.err = fmt.Errorf("compiling the harness: %v\n%s", err, out)
		}
	})
	if harness.err != nil {
		if os.Getenv("GOSDE_REQUIRE_CXX") == "" {
			t.Skipf("skipping: %v", harness.err)
		}
		t.Fatal(harness.err)
	}
	return harness.path
}

// request builds the harness's stdin.
type request struct{ bytes.Buffer }

func (r *request) i64(vs ...int) {
	for _, v := range vs {
		binary.Write(&r.Buffer, binary.LittleEndian, int64(v))
	}
}

func (r *request) put(v any) { binary.Write(&r.Buffer, binary.LittleEndian, v) }

// harnessOutput sends req to the harness and returns what it answered.
func harnessOutput(t *testing.T, req *request) []byte {
	t.Helper()
	cmd := exec.Command(harnessPath(t))
	cmd.Stdin = &req.Buffer
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("harness: %v\n%s", err, stderr.String())
	}
	return out
}

// run sends req to the harness and splits its answer into arrays of the given lengths.
func run(t *testing.T, req *request, lens ...int) [][]float32 {
	t.Helper()
	out := harnessOutput(t, req)
	total := 0
	for _, n := range lens {
		total += n
	}
	if len(out) != 4*total {
		t.Fatalf("harness answered %d bytes, want %d", len(out), 4*total)
	}
	all := make([]float32, total)
	binary.Read(bytes.NewReader(out), binary.LittleEndian, all)
	res := make([][]float32, len(lens))
	for i, n := range lens {
		res[i], all = all[:n], all[n:]
	}
	return res
}

func check(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	e := numtest.RelErr(got, want)
	t.Logf("%-40s %-8s rel. error %.2g", t.Name(), what, e)
	if !(e <= relTol) {
		t.Errorf("%s: relative error %.3g > %g", what, e, relTol)
	}
}

// soa turns B path-major rows of w values into the kernels' feature-major layout; aos
// back.
func soa(x []float32, B, w int) []float32 {
	y := make([]float32, len(x))
	nn.Transpose(x, w, y, B, B, w, false)
	return y
}

func aos(x []float32, B, w int) []float32 {
	y := make([]float32, len(x))
	nn.Transpose(x, B, y, w, w, B, false)
	return y
}

// timesSoA applies soa to each of T blocks of B·w values.
func timesSoA(x []float32, T, B, w int, f func([]float32, int, int) []float32) []float32 {
	var y []float32
	for i := 0; i < T; i++ {
		y = append(y, f(x[i*B*w:(i+1)*B*w], B, w)...)
	}
	return y
}

type fieldCase struct {
	name  string
	cde   bool
	cfg   neuralsde.Config
	batch int
	ts    []float64
	dt    float64
	chunk int // steps per harness chunk
}

func (c fieldCase) times() []float64 {
	if c.ts != nil {
		return c.ts
	}
	ts := make([]float64, 9)
	for i := range ts {
		ts[i] = float64(i)
	}
	return ts
}

func TestReversibleHeunMatchesGoEngine(t *testing.T) {
	irregular := []float64{0, 0.7, 1.5, 1.6, 3, 4.25}
	cases := []fieldCase{
		{name: "generator", cfg: neuralsde.GeneratorConfig(), batch: 37, dt: 0.5, chunk: 5},
		{name: "diagonal", cfg: neuralsde.Config{Dim: 8, Noise: solver.Diagonal, Width: 32, Depth: 2, Hidden: nn.Tanh}, batch: 5, ts: irregular, dt: 0.4, chunk: 3},
		{name: "scalar", cfg: neuralsde.Config{Dim: 4, Noise: solver.Scalar, Width: 8, Hidden: nn.Softplus}, batch: 7, dt: 1, chunk: 100},
		{name: "additive", cfg: neuralsde.Config{Dim: 6, NoiseDim: 2, Noise: solver.Additive, Width: 16}, batch: 4, ts: irregular, dt: 0.3, chunk: 4},
		{name: "hidden128", cfg: neuralsde.Config{Dim: 16, NoiseDim: 3, Noise: solver.General, Width: 128, Hidden: nn.LipSwish}, batch: 3, dt: 1, chunk: 2},
		{name: "affine", cfg: neuralsde.Config{Dim: 3, NoiseDim: 2, Noise: solver.General, Depth: -1}, batch: 2, dt: 1, chunk: 1},
		{name: "cde", cde: true, cfg: neuralsde.Config{Dim: 16, NoiseDim: 2, Width: 16}, batch: 9, dt: 1, chunk: 3},
		{name: "cde-substeps", cde: true, cfg: neuralsde.Config{Dim: 5, NoiseDim: 3, Width: 8, Hidden: nn.ReLU}, batch: 6, ts: irregular, dt: 0.5, chunk: 2},
	}
	for ci, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkField(t, c, uint64(ci)) })
	}
}

func checkField(t *testing.T, c fieldCase, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	ts := c.times()
	B := c.batch
	opt := solver.Options{Method: solver.ReversibleHeun, Adjoint: solver.Reversible, Dt: c.dt}

	// The Go engine.
	var (
		field  solver.Differentiable[float32]
		params []float32
		kf     *Field
		err    error
		xs     []float32
		sol    *solver.Solution[float32]
		d, m   int
	)
	if c.cde {
		cde, err := neuralsde.NewCDE[float32](neuralsde.CDEConfig{Dim: c.cfg.Dim, ControlDim: c.cfg.NoiseDim, Width: c.cfg.Width, Depth: c.cfg.Depth, Hidden: c.cfg.Hidden}, seed)
		if err != nil {
			t.Fatal(err)
		}
		field, params, d, m = cde, cde.Params(), cde.Dim(), cde.NoiseDim()
		kf, err = NewField(d, m, solver.General, nil, cde.MLP())
		if err != nil {
			t.Fatal(err)
		}
	} else {
		sde, err := neuralsde.New[float32](c.cfg, seed)
		if err != nil {
			t.Fatal(err)
		}
		field, params, d, m = sde, sde.Params(), sde.Dim(), sde.NoiseDim()
		kf, err = NewField(d, m, sde.Noise(), sde.Drift(), sde.Diffusion())
		if err != nil {
			t.Fatal(err)
		}
	}
	if kf.NumParams != len(params) {
		t.Fatalf("layout has %d parameters, the Go field %d", kf.NumParams, len(params))
	}
	T := len(ts)
	y0 := numtest.Normals(rng, B*d, 1)
	grid, err := NewGrid(ts, c.dt)
	if err != nil {
		t.Fatal(err)
	}
	N := grid.Steps()
	dw := make([]float32, N*m*B) // feature-major per step
	if c.cde {
		xs = numtest.Normals(rng, T*B*m, 1)
		sol, err = solver.SolveCDE(field, y0, ts, xs, opt)
		if err != nil {
			t.Fatal(err)
		}
		controlIncrements(grid, xs, B, m, 0, N, dw)
	} else {
		bmSeed := seed + 100
		mo, err := brownian.NewInterval(ts[0], ts[T-1], B, m, bmSeed)
		if err != nil {
			t.Fatal(err)
		}
		opt.Motion = mo
		sol, err = solver.Solve(field, y0, ts, opt)
		if err != nil {
			t.Fatal(err)
		}
		// The same increments, from an identical Interval planned on the same grid.
		q, err := brownian.NewInterval(ts[0], ts[T-1], B, m, bmSeed)
		if err != nil {
			t.Fatal(err)
		}
		if err := q.PlanGrid(grid.Plan); err != nil {
			t.Fatal(err)
		}
		if err := grid.MotionIncrements(q, 0, N, false, make([]float64, B*m), dw); err != nil {
			t.Fatal(err)
		}
	}
	if sol.Steps != N {
		t.Fatalf("grid has %d steps, the Go solve %d", N, sol.Steps)
	}
	cot := numtest.Normals(rng, T*B*d, 1)
	grads, err := sol.Backward(cot)
	if err != nil {
		t.Fatal(err)
	}

	// The kernels' code on the same inputs.
	var req request
	control := 0
	if c.cde {
		control = 1
	}
	req.i64(1, B, N, T, c.chunk, control, len(kf.Desc), kf.NumParams)
	req.put(kf.Desc)
	req.put(params)
	req.put(soa(y0, B, d))
	req.put(grid.Ts)
	req.put(grid.Hs)
	req.put(grid.OutIdx)
	req.put(dw)
	req.put(timesSoA(cot, T, B, d, soa))
	adwLen := 0
	if c.cde {
		adwLen = N * m * B
	}
	res := run(t, &req, T*d*B, d*B, kf.NumParams, adwLen, T)
	check(t, "outputs", timesSoA(res[0], T, B, d, aos), sol.Ys)
	check(t, "dL/dy0", aos(res[1], B, d), grads.Y0)
	check(t, "dL/dθ", res[2], grads.Params)
	if c.cde {
		ctl := chainControl(grid, res[3], B, m)
		check(t, "dL/dxs", ctl, grads.Control)
	}
	checkFieldOracle(t, c, seed, grid, params, y0, dw, cot, res)
	for i, e := range res[4] {
		if !(e < 1e-3) {
			t.Errorf("reconstruction error at output %d: %g", i, e)
		}
	}
	t.Logf("reconstruction error: kernels %.2g, Go %.2g", maxOf(res[4]), grads.ReconstructionError)
}

// checkFieldOracle holds the harness's answers res (outputs, dL/dy0, dL/dθ, the
// control increments' cotangents) to package oracle, the plain float64 statement of
// reversible Heun and its adjoint, on the same field (params), grid, y0, increments
// dw (feature-major per step) and output cotangents cot.
func checkFieldOracle(t *testing.T, c fieldCase, seed uint64, grid *Grid, params, y0, dw, cot []float32, res [][]float32) {
	t.Helper()
	var (
		fld  oracle.Batched
		p64  []float64
		diag bool
	)
	if c.cde {
		cde, err := neuralsde.NewCDE[float64](neuralsde.CDEConfig{Dim: c.cfg.Dim, ControlDim: c.cfg.NoiseDim, Width: c.cfg.Width, Depth: c.cfg.Depth, Hidden: c.cfg.Hidden}, seed)
		if err != nil {
			t.Fatal(err)
		}
		fld, p64 = cde, cde.Params()
	} else {
		sde, err := neuralsde.New[float64](c.cfg, seed)
		if err != nil {
			t.Fatal(err)
		}
		fld, p64, diag = sde, sde.Params(), sde.Noise() == solver.Diagonal
	}
	for j, v := range params { // the very parameters the harness ran with
		p64[j] = float64(v)
	}
	B, d, m, N := c.batch, fld.Dim(), fld.NoiseDim(), grid.Steps()
	steps := make([][]float64, N) // batch×m per step
	for n := range steps {
		steps[n] = make([]float64, B*m)
		for p := 0; p < B; p++ {
			for j := 0; j < m; j++ {
				steps[n][p*m+j] = float64(dw[(n*m+j)*B+p])
			}
		}
	}
	out := make([]int, len(grid.OutIdx))
	for n, i := range grid.OutIdx {
		out[n] = int(i)
	}
	want := oracle.Run(oracle.Path(fld, diag), f64(y0), grid.Times, out, steps, f64(cot))
	T := len(c.times())
	check(t, "outputs vs oracle", timesSoA(res[0], T, B, d, aos), f32(want.Ys))
	check(t, "dL/dy0 vs oracle", aos(res[1], B, d), f32(want.Y0))
	check(t, "dL/dθ vs oracle", res[2], f32(want.Theta))
	if c.cde {
		adw := make([]float32, N*m*B) // feature-major per step, as the harness writes it
		for n, v := range want.DW {
			for p := 0; p < B; p++ {
				for j := 0; j < m; j++ {
					adw[(n*m+j)*B+p] = float32(v[p*m+j])
				}
			}
		}
		check(t, "dL/dΔX vs oracle", res[3], adw)
	}
}

func f64(x []float32) []float64 {
	y := make([]float64, len(x))
	for j, v := range x {
		y[j] = float64(v)
	}
	return y
}

func f32(x []float64) []float32 {
	y := make([]float32, len(x))
	for j, v := range x {
		y[j] = float32(v)
	}
	return y
}

func maxOf(x []float32) float64 {
	m := 0.0
	for _, v := range x {
		m = math.Max(m, float64(v))
	}
	return m
}

func TestMLPMatchesGoEngine(t *testing.T) {
	cases := []struct {
		name string
		cfg  nn.Config
		B    int
	}{
		{"initial", nn.Config{In: 5, Out: 16, Width: 16, Depth: 1, Hidden: nn.LipSwish}, 33},
		{"readout", nn.Config{In: 16, Out: 1}, 9},
		{"deep-tanh", nn.Config{In: 3, Out: 4, Width: 64, Depth: 3, Hidden: nn.Tanh, FinalTanh: true}, 5},
		{"sigmoid", nn.Config{In: 2, Out: 2, Width: 8, Depth: 1, Hidden: nn.Sigmoid}, 3},
	}
	for ci, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(ci), 2))
			m := nn.MustMLP(c.cfg)
			params := make([]float32, m.NumParams())
			nn.Init(m, params, uint64(ci))
			x := numtest.Normals(rng, c.B*c.cfg.In, 1)
			cot := numtest.Normals(rng, c.B*c.cfg.Out, 1)
			net := nn.NewNet[float32](m)
			y := make([]float32, c.B*c.cfg.Out)
			net.Forward(params, x, y)
			ax := make([]float32, len(x))
			g := make([]float32, len(params))
			net.VJP(cot, ax, g)

			desc := MLPDesc(m, 0, false)
			var req request
			req.i64(2, c.B, c.cfg.In, c.cfg.Out, len(desc), len(params))
			req.put(desc)
			req.put(params)
			req.put(soa(x, c.B, c.cfg.In))
			req.put(soa(cot, c.B, c.cfg.Out))
			res := run(t, &req, c.B*c.cfg.Out, c.B*c.cfg.In, len(params))
			check(t, "outputs", aos(res[0], c.B, c.cfg.Out), y)
			check(t, "dL/dx", aos(res[1], c.B, c.cfg.In), ax)
			check(t, "dL/dθ", res[2], g)
		})
	}
}

// The parameter updates compute in float64 like the optim package, so they must agree
// bit for bit.
func TestOptimiserUpdatesMatchGo(t *testing.T) {
	const n, steps = 257, 6
	rng := rand.New(rand.NewPCG(9, 9))
	cfg := optim.AdadeltaConfig{LR: 1e-3, Rho: 0.9, Eps: 1e-6, WeightDecay: 0.01}
	const lim = 0.05
	p0 := numtest.Normals(rng, n, 0.1)
	grads := numtest.Normals(rng, n*steps, 1)

	p := append([]float32(nil), p0...)
	ad, err := optim.NewAdadelta[float32](n, cfg)
	if err != nil {
		t.Fatal(err)
	}
	swa, err := optim.NewSWA[float32](n, 0)
	if err != nil {
		t.Fatal(err)
	}
	for s := 0; s < steps; s++ {
		ad.Step(p, grads[s*n:(s+1)*n])
		optim.Clip(p, lim)
		swa.Update(p)
	}
	sq, acc := ad.State()

	var req request
	req.i64(3, n, steps)
	req.put([]float64{cfg.LR, cfg.Rho, cfg.Eps, cfg.WeightDecay, lim})
	req.put(p0)
	req.put(grads)
	res := run(t, &req, n, n, n, n)
	for i, pair := range []struct {
		name      string
		got, want []float32
	}{{"params", res[0], p}, {"square avg", res[1], sq}, {"acc delta", res[2], acc}, {"swa", res[3], swa.Average()}} {
		for j := range pair.want {
			if math.Float32bits(pair.got[j]) != math.Float32bits(pair.want[j]) {
				t.Fatalf("%d %s[%d] = %v, Go %v", i, pair.name, j, pair.got[j], pair.want[j])
			}
		}
	}
}

// interval returns the output interval of step n.
func interval(g *Grid, n int) int {
	i := 0
	for i+1 < len(g.First) && g.First[i+1] <= n {
		i++
	}
	return i
}

// The Go engine's control interpolation, the reference control.cuh is held to.

// controlIncrements writes the increments over steps n0…n1−1 of the control xs
// (len(Ts)×B×m, path-major per output time), linearly interpolated: each of the n_i
// steps of output interval i gets (X_{i+1} − X_i)/n_i, computed in float32 as the Go
// engine computes it. dst is laid out as in Grid.MotionIncrements.
func controlIncrements(g *Grid, xs []float32, B, m, n0, n1 int, dst []float32) {
	for n := n0; n < n1; n++ {
		i := interval(g, n)
		steps := float32(g.Plan.Steps[i])
		x0, x1 := xs[i*B*m:(i+1)*B*m], xs[(i+1)*B*m:(i+2)*B*m]
		o := (n - n0) * m * B
		for p := 0; p < B; p++ {
			for j := 0; j < m; j++ {
				dst[o+j*B+p] = (x1[p*m+j] - x0[p*m+j]) / steps
			}
		}
	}
}

// chainControl turns the cotangents of every step's control increment (adw, laid out
// as in Grid.MotionIncrements over all N steps) into the cotangent of xs (len(Ts)×B×m,
// path-major per time), through the interpolation of controlIncrements.
func chainControl(g *Grid, adw []float32, B, m int) []float32 {
	T := len(g.Plan.Ts)
	ctl := make([]float32, T*B*m)
	sum := make([]float32, B*m)
	for i, steps := range g.Plan.Steps {
		clear(sum)
		for n := g.First[i]; n < g.First[i]+steps; n++ {
			for j := 0; j < m; j++ {
				for p := 0; p < B; p++ {
					sum[p*m+j] += adw[(n*m+j)*B+p]
				}
			}
		}
		ns := float32(steps)
		for k, v := range sum {
			v /= ns
			ctl[(i+1)*B*m+k] += v
			ctl[i*B*m+k] -= v
		}
	}
	return ctl
}
