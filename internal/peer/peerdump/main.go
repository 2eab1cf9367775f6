// Command peerdump writes the solver cases of make peer-check (and, given a checkpoint,
// the case of its torchsde export) for scripts/peer_check.py:
//
//	go run ./internal/peer/peerdump -dir DIR [-checkpoint RUN_DIR]
//
// Solver cases: a neural SDE (drift and diffusion MLPs of [t, y], LipSwish, final
// tanh, as torchsde's examples/sde_gan.py builds them) under every noise type gosde
// has, solved by every method torchsde shares with it and differentiated by backprop
// and by both adjoints, in float64 and float32, on stored Brownian increments; each
// case holds the weights, y0, the increments, the outputs and the gradients of
// L = Σ cotangent·Ys.
//
// Export case: the generator of a gosde train run driven by given initial noise and
// increments (gan.Model.Generate), for comparison with the file gosde export wrote
// from the same run, loaded into the example's Generator.
package main

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/gosde/gosde/brownian"
	"github.com/gosde/gosde/gan"
	"github.com/gosde/gosde/internal/peer"
	"github.com/gosde/gosde/neuralsde"
	"github.com/gosde/gosde/nn"
	"github.com/gosde/gosde/solver"
	"github.com/gosde/gosde/training"
)

func main() {
	dir := flag.String("dir", "", "directory to write the cases into (required)")
	ckpt := flag.String("checkpoint", "", "a gosde train run directory (or its model.safetensors) whose generator to dump for the export check")
	flag.Parse()
	if err := run(*dir, *ckpt); err != nil {
		fmt.Fprintln(os.Stderr, "peerdump:", err)
		os.Exit(1)
	}
}

func run(dir, ckpt string) error {
	if dir == "" {
		return errors.New("-dir is required")
	}
	n := 0
	for _, nz := range noises {
		for _, sc := range schemes {
			if err := writeSDE[float64](dir, nz, sc); err != nil {
				return err
			}
			if err := writeSDE[float32](dir, nz, sc); err != nil {
				return err
			}
			n += 2
		}
	}
	fmt.Printf("peerdump: wrote %d solver cases to %s\n", n, dir)
	if ckpt != "" {
		if err := writeExport(dir, ckpt); err != nil {
			return err
		}
		fmt.Printf("peerdump: wrote the export case of %s\n", ckpt)
	}
	return nil
}

// noiseCase is a noise type with the Brownian size and MLP depth its cases use. The
// general-noise cases use two hidden layers, so that a Sequential index past 2 is
// exercised too.
type noiseCase struct {
	name  string // torchsde's noise_type
	noise solver.Noise
	m     int
	depth int
}

var noises = []noiseCase{
	{"diagonal", solver.Diagonal, sdeDim, 1},
	{"general", solver.General, 2, 2},
	{"scalar", solver.Scalar, 1, 1},
	{"additive", solver.Additive, 2, 1},
}

type scheme struct {
	name    string // torchsde's method
	method  solver.Method
	adjoint solver.Adjoint
}

var schemes = []scheme{
	{"euler", solver.EulerMaruyama, solver.Backprop},
	{"midpoint", solver.Midpoint, solver.Backprop},
	{"heun", solver.Heun, solver.Backprop},
	{"reversible_heun", solver.ReversibleHeun, solver.Backprop},
	{"reversible_heun", solver.ReversibleHeun, solver.Reversible},
	{"midpoint", solver.Midpoint, solver.Continuous},
}

// Sizes of the solver cases: small enough that torchsde runs all 48 in seconds, with
// uneven output intervals (2, 3, 3, 2, 2 and 4 steps of 0.25: dyadic, so that
// torchsde's accumulated step times land exactly on gosde's grid and the outputs).
const (
	sdeDim   = 3
	sdeBatch = 8
	sdeWidth = 8
	sdeDt    = 0.25
)

var sdeTimes = []float64{0, 0.5, 1.25, 2, 2.5, 3, 4}

// mlpArrays adds the weights and biases of an MLP (parameters params, flat as nn.MLP
// lays them out) under the state-dict names of the example's MLP at prefix.
func mlpArrays[F float32 | float64](c *peer.Case, key, prefix string, m *nn.MLP, params []F) {
	for l, L := range m.Layers() {
		p := fmt.Sprintf("%s%s._model.%d.", key, prefix, 2*l)
		peer.Add(c, p+"weight", []int{L.Out, L.In}, params[L.W:L.W+L.Out*L.In])
		peer.Add(c, p+"bias", []int{L.Out}, params[L.B:L.B+L.Out])
	}
}

func seedOf(nz noiseCase, sc scheme) uint64 {
	h := uint64(1469598103934665603)
	for _, b := range []byte(nz.name + "/" + sc.name + "/" + strings.ToLower(sc.adjoint.String())) {
		h = (h ^ uint64(b)) * 1099511628211
	}
	return h
}

func writeSDE[F float32 | float64](dir string, nz noiseCase, sc scheme) error {
	c := peer.NewCase[F](fmt.Sprintf("sde_%s_%s_%s_%s", nz.name, sc.name, strings.ToLower(sc.adjoint.String()), map[bool]string{true: "f32", false: "f64"}[isF32[F]()]), "sde")
	seed := seedOf(nz, sc)
	sde, err := neuralsde.New[F](neuralsde.Config{Dim: sdeDim, NoiseDim: nz.m, Noise: nz.noise, Width: sdeWidth, Depth: nz.depth, Hidden: nn.LipSwish}, seed)
	if err != nil {
		return err
	}
	m := sde.NoiseDim()
	grid, err := solver.StepGrid(sdeTimes, sdeDt)
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(seed, 2))
	y0 := make([]F, sdeBatch*sdeDim)
	for i := range y0 {
		y0[i] = F(r.NormFloat64())
	}
	inc := peer.Normals(grid, sdeBatch, m, seed)
	for i, v := range inc {
		inc[i] = float64(F(v)) // the values the solver computes with
	}
	mo, err := peer.NewTable(grid, sdeBatch, m, inc)
	if err != nil {
		return err
	}
	sol, err := solver.Solve(sde, y0, sdeTimes, solver.Options{Method: sc.method, Dt: sdeDt, Motion: mo, Adjoint: sc.adjoint})
	if err != nil {
		return fmt.Errorf("%s: %w", c.Name, err)
	}
	cot := make([]F, len(sol.Ys))
	for i := range cot {
		cot[i] = F(r.NormFloat64())
	}
	gr, err := sol.Backward(cot)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Name, err)
	}

	T := len(sdeTimes)
	sdeType := "stratonovich"
	if sc.method == solver.EulerMaruyama {
		sdeType = "ito"
	}
	c.Meta = map[string]any{
		"method": sc.name, "adjoint": strings.ToLower(sc.adjoint.String()), "noise_type": nz.name, "sde_type": sdeType,
		"dim": sdeDim, "noise_dim": m, "width": sdeWidth, "depth": nz.depth, "batch": sdeBatch,
		"ts": sdeTimes, "dt": sdeDt, "reconstruction_error": gr.ReconstructionError,
	}
	nd := sde.Drift().NumParams()
	mlpArrays(c, "param.", "_drift", sde.Drift(), sde.Params()[:nd])
	mlpArrays(c, "param.", "_diffusion", sde.Diffusion(), sde.Params()[nd:])
	mlpArrays(c, "grad.", "_drift", sde.Drift(), gr.Params[:nd])
	mlpArrays(c, "grad.", "_diffusion", sde.Diffusion(), gr.Params[nd:])
	peer.Add(c, "y0", []int{sdeBatch, sdeDim}, y0)
	peer.Add(c, "increments", []int{grid.Len(), sdeBatch, m}, inc)
	peer.Add(c, "step_times", []int{grid.Len(), 2}, peer.StepTimes(grid))
	peer.Add(c, "cotangent", []int{T, sdeBatch, sdeDim}, cot)
	peer.Add(c, "ys", []int{T, sdeBatch, sdeDim}, sol.Ys)
	peer.Add(c, "grad_y0", []int{sdeBatch, sdeDim}, gr.Y0)
	return peer.Write(dir, c)
}

func isF32[F float32 | float64]() bool {
	_, ok := any(F(0)).(float32)
	return ok
}

// exportPaths is the number of generated paths of the export case.
const exportPaths = 16

// generator is what the export case asks of a checkpoint's model (gan.Model's methods,
// which training's SDE-GAN model carries).
type generator interface {
	Generate(v []float32, mo brownian.Motion, averaged bool) ([]float32, error)
	Config() gan.Config
	Times() []float64
	SWACount() int
	Close() error
}

func writeExport(dir, path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, training.CheckpointFile)
	}
	ck, err := training.Load(path)
	if err != nil {
		return err
	}
	mod, err := ck.Model()
	if err != nil {
		return err
	}
	defer mod.Close()
	g, ok := mod.(generator)
	if !ok {
		return fmt.Errorf("%s holds a %s model, which has no torchsde export", path, ck.Config.Model)
	}
	cfg, ts := g.Config(), g.Times()
	grid, err := solver.StepGrid(ts, cfg.Dt)
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(11, 12))
	v := make([]float32, exportPaths*cfg.InitialNoise)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	inc := peer.Normals(grid, exportPaths, cfg.NoiseDim, 13)
	for i, x := range inc {
		inc[i] = float64(float32(x))
	}
	mo, err := peer.NewTable(grid, exportPaths, cfg.NoiseDim, inc)
	if err != nil {
		return err
	}
	averaged := g.SWACount() > 0
	ys, err := g.Generate(v, mo, averaged)
	if err != nil {
		return err
	}
	args, err := cfg.TorchsdeArgs(gan.TorchsdeGenerator)
	if err != nil {
		return err
	}
	c := peer.NewCase[float32]("export_generator", "export")
	c.Meta = map[string]any{"ts": ts, "dt": cfg.Dt, "averaged": averaged, "generator_args": args, "checkpoint": path}
	peer.Add(c, "v", []int{exportPaths, cfg.InitialNoise}, v)
	peer.Add(c, "increments", []int{grid.Len(), exportPaths, cfg.NoiseDim}, inc)
	peer.Add(c, "step_times", []int{grid.Len(), 2}, peer.StepTimes(grid))
	peer.Add(c, "ys", []int{exportPaths, len(ts), cfg.DataChannels}, ys)
	return peer.Write(dir, c)
}
