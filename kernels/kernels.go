// Package kernels holds the GPU engine's hand-written CUDA C (the .cu kernels and the
// .cuh headers with the per-path arithmetic), the PTX that nvcc makes of them (`make
// ptx`; committed, and embedded here so that building the GPU engine needs no nvcc),
// and the int32 descriptors that tell the kernels the shapes of a field.
//
// Nothing here talks to a GPU: package cuda loads the PTX and launches the kernels,
// and the tests of this package compile the same headers with the host's C++ compiler
// and hold them to the Go engine on the CPU.
package kernels

import (
	"embed"
	"fmt"
	"math"

	"github.com/gosde/gosde/brownian"
	"github.com/gosde/gosde/nn"
	"github.com/gosde/gosde/solver"
)

//go:embed *.ptx
var ptx embed.FS

// Modules lists the PTX modules, one per .cu source.
var Modules = []string{"control", "mlp", "optim", "reduce", "revheun", "sigkernel_grad", "sigkernel_pairs", "sigkernel_values"}

// PTX returns the PTX of module name (one of Modules).
func PTX(name string) (string, error) {
	b, err := ptx.ReadFile(name + ".ptx")
	if err != nil {
		return "", fmt.Errorf("kernels: no PTX module %q: %w", name, err)
	}
	return string(b), nil
}

// Layout constants of mlp.cuh's descriptor.
const (
	mlpLayers = iota
	mlpHasT
	mlpInY
	mlpMaxW
	mlpActRows
	mlpLayer0
	mlpLStride = 5
)

// MLPDesc is the descriptor of m for mlp.cuh, with m's parameters starting at base in
// the flat vector the kernel reads. With hasT the first input is the time t (a vector
// field of [t, y]); the other In − 1 inputs then come from the path's state.
func MLPDesc(m *nn.MLP, base int, hasT bool) []int32 {
	ls := m.Layers()
	d := make([]int32, mlpLayer0+mlpLStride*len(ls))
	d[mlpLayers] = int32(len(ls))
	inY := m.In()
	if hasT {
		d[mlpHasT] = 1
		inY--
	}
	d[mlpInY] = int32(inY)
	maxw, rows := 0, 0
	for i, l := range ls {
		maxw = max(maxw, l.In, l.Out)
		rows += 2 * l.Out
		o := mlpLayer0 + mlpLStride*i
		d[o], d[o+1], d[o+2] = int32(l.In), int32(l.Out), int32(l.Act)
		d[o+3], d[o+4] = int32(base+l.W), int32(base+l.B)
	}
	d[mlpMaxW] = int32(maxw)
	d[mlpActRows] = int32(rows)
	return d
}

// MLPRows returns the workspace rows per path that gosde_mlp_forward (activations) and
// gosde_mlp_vjp (scratch) need for m.
func MLPRows(m *nn.MLP) (act, tmp int) {
	d := MLPDesc(m, 0, false)
	return int(d[mlpActRows]), 2 * int(d[mlpMaxW])
}

// Field descriptor entries (revheun.cuh).
const (
	fD = iota
	fM
	fNoise
	fDrift
	fDiff
	fNParams
	fRows
	fGLen
	fY
	fZ
	fF
	fG
	fAY
	fAZ
	fW
	fDWP
	fAF
	fAG
	fS
	fActF
	fActG
	fTmp
	fKind
	fPrior
	fLatentD
	fSigMin
	fSigSpan
	fH
	fSig
	fCF
	fCH
	fCG
	fActH
	fLane
	fHeader
)

// MaxLanes is the most threads that work on one path (GOSDE_MAX_LANES): the rows the
// workspace keeps for the lanes' partial sums.
const MaxLanes = 32

// Field kinds (revheun.cuh's FieldKind).
const (
	fieldMLP = iota
	fieldLatent
)

// Field is the layout of a vector field for revheun.cuh.
type Field struct {
	// Desc is the descriptor the kernels read: sizes, noise type, the MLPs'
	// descriptors and the rows of the per-path workspace.
	Desc []int32
	// Dim, NoiseDim are d and m; NumParams the length of the flat parameters (drift
	// MLP's then diffusion MLP's, the layout of neuralsde's fields).
	Dim, NoiseDim, NumParams int
	// Rows is the workspace rows per path: the workspace holds Rows·batch floats.
	Rows int
	// Hidden is the widest hidden layer of the field's networks (a network without
	// one counts its output): the elements of the loops that cost the most, which the
	// lanes of a path share out.
	Hidden int
}

// hiddenWidth is the widest hidden layer of m, or its output without one.
func hiddenWidth(m *nn.MLP) int {
	ls := m.Layers()
	if len(ls) == 1 {
		return ls[0].Out
	}
	w := 0
	for _, l := range ls[:len(ls)-1] {
		w = max(w, l.Out)
	}
	return w
}

// NewField lays out the field dY = f(t,Y)dt + g(t,Y)∘dW with f = drift([t, y]) (nil:
// no drift, as the neural CDE) and g = diffusion([t, y]), or diffusion([t]) for
// Additive noise — the MLPs of neuralsde.NeuralSDE and NeuralCDE.
func NewField(dim, noiseDim int, noise solver.Noise, drift, diffusion *nn.MLP) (*Field, error) {
	if dim < 1 || noiseDim < 1 || diffusion == nil {
		return nil, fmt.Errorf("kernels: field needs dim ≥ 1, noise dim ≥ 1 and a diffusion network (got %d, %d)", dim, noiseDim)
	}
	glen := dim * noiseDim
	wantIn := 1 + dim
	switch noise {
	case solver.Diagonal:
		if noiseDim != dim {
			return nil, fmt.Errorf("kernels: diagonal noise needs noise dim %d = dim %d", noiseDim, dim)
		}
		glen = dim
	case solver.Scalar:
		if noiseDim != 1 {
			return nil, fmt.Errorf("kernels: scalar noise needs noise dim 1, got %d", noiseDim)
		}
		glen = dim
	case solver.General:
	case solver.Additive:
		wantIn = 1
	default:
		return nil, fmt.Errorf("kernels: unknown noise type %d", int(noise))
	}
	if diffusion.In() != wantIn || diffusion.Out() != glen {
		return nil, fmt.Errorf("kernels: diffusion network maps %d → %d, want %d → %d", diffusion.In(), diffusion.Out(), wantIn, glen)
	}
	if drift != nil && (drift.In() != 1+dim || drift.Out() != dim) {
		return nil, fmt.Errorf("kernels: drift network maps %d → %d, want %d → %d", drift.In(), drift.Out(), 1+dim, dim)
	}
	desc := make([]int32, fHeader)
	desc[fD], desc[fM], desc[fNoise], desc[fGLen] = int32(dim), int32(noiseDim), int32(noise), int32(glen)
	nparams, actF, tmp := 0, 0, 0
	if drift != nil {
		md := MLPDesc(drift, 0, true)
		desc[fDrift] = int32(len(desc))
		desc = append(desc, md...)
		nparams = drift.NumParams()
		actF = int(md[mlpActRows])
		tmp = 2 * int(md[mlpMaxW])
	}
	gd := MLPDesc(diffusion, nparams, true)
	desc[fDiff] = int32(len(desc))
	desc = append(desc, gd...)
	nparams += diffusion.NumParams()
	tmp = max(tmp, 2*int(gd[mlpMaxW]))

	// Workspace rows, in the order of revheun.cuh's F_Y … F_TMP, then F_LANE.
	sizes := []int{dim, dim, dim, glen, dim, dim, dim, noiseDim, dim, glen, dim, actF, int(gd[mlpActRows]), tmp}
	row := 0
	for i, n := range sizes {
		desc[fY+i] = int32(row)
		row += n
	}
	desc[fLane] = int32(row)
	row += MaxLanes
	desc[fNParams], desc[fRows] = int32(nparams), int32(row)
	hidden := hiddenWidth(diffusion)
	if drift != nil {
		hidden = max(hidden, hiddenWidth(drift))
	}
	return &Field{Desc: desc, Dim: dim, NoiseDim: noiseDim, NumParams: nparams, Rows: row, Hidden: hidden}, nil
}

// NewLatentField lays out the latent SDE's posterior (package latent) on the state
// u = (z ∈ ℝᵈ, c ∈ ℝᵏ, ℓ): drift (f([t, z, c]), 0, ½‖(f − h([t, z]))/σ‖²), diagonal
// diffusion (σ, 0, 0) with σ = sigMin + sigSpan·sigmoid(g([t, z])); parameters f's,
// then h's, then g's.
func NewLatentField(d, k int, f, h, g *nn.MLP, sigMin, sigSpan float64) (*Field, error) {
	if d < 1 || k < 0 || f == nil || h == nil || g == nil {
		return nil, fmt.Errorf("kernels: latent field needs d ≥ 1, k ≥ 0 and three networks")
	}
	if f.In() != 1+d+k || f.Out() != d || h.In() != 1+d || h.Out() != d || g.In() != 1+d || g.Out() != d {
		return nil, fmt.Errorf("kernels: latent networks map %d→%d, %d→%d, %d→%d; want %d→%d, %d→%d, %d→%d",
			f.In(), f.Out(), h.In(), h.Out(), g.In(), g.Out(), 1+d+k, d, 1+d, d, 1+d, d)
	}
	D := d + k + 1
	desc := make([]int32, fHeader)
	desc[fD], desc[fM], desc[fNoise], desc[fGLen] = int32(D), int32(D), int32(solver.Diagonal), int32(D)
	desc[fKind], desc[fLatentD] = fieldLatent, int32(d)
	desc[fSigMin] = int32(math.Float32bits(float32(sigMin)))
	desc[fSigSpan] = int32(math.Float32bits(float32(sigSpan)))
	descs := []struct {
		entry int
		m     *nn.MLP
	}{{fDrift, f}, {fPrior, h}, {fDiff, g}}
	base, tmp, hidden := 0, 0, 0
	act := make([]int, 3)
	for i, n := range descs {
		md := MLPDesc(n.m, base, true)
		desc[n.entry] = int32(len(desc))
		desc = append(desc, md...)
		base += n.m.NumParams()
		act[i] = int(md[mlpActRows])
		tmp = max(tmp, 2*int(md[mlpMaxW]))
		hidden = max(hidden, hiddenWidth(n.m))
	}
	// Workspace rows: the solver's (F_Y … F_TMP), then F_H … F_ACTH.
	rows := []struct {
		entry, n int
	}{
		{fY, D}, {fZ, D}, {fF, D}, {fG, D}, {fAY, D}, {fAZ, D}, {fW, D}, {fDWP, D}, {fAF, D}, {fAG, D}, {fS, D},
		{fActF, act[0]}, {fActG, act[2]}, {fTmp, tmp}, {fH, d}, {fSig, d}, {fCF, d}, {fCH, d}, {fCG, d}, {fActH, act[1]},
		{fLane, MaxLanes},
	}
	row := 0
	for _, r := range rows {
		desc[r.entry] = int32(row)
		row += r.n
	}
	desc[fNParams], desc[fRows] = int32(base), int32(row)
	return &Field{Desc: desc, Dim: D, NoiseDim: D, NumParams: base, Rows: row, Hidden: hidden}, nil
}

// Grid is a step grid in the form the kernels read (revheun.cuh's Solve): the step
// times and sizes in float32, computed as the Go engine computes them (times through
// brownian.Grid.Time, each size as the float64 difference rounded once), and for each
// step point the output index it is, or −1.
type Grid struct {
	Ts     []float32 // N+1 step times
	Hs     []float32 // N step sizes
	OutIdx []int32   // N+1 entries
	// Times are the step times in float64, for querying Brownian motion.
	Times []float64
	// Plan is the solver's grid (output times and steps per output interval), for
	// planning a brownian.Planner.
	Plan brownian.Grid
	// First[i] is the first step of output interval i.
	First []int
}

// NewGrid returns the kernels' form of the step grid of solver.StepGrid(ts, dt).
func NewGrid(ts []float64, dt float64) (*Grid, error) {
	g, err := solver.StepGrid(ts, dt)
	if err != nil {
		return nil, err
	}
	n := g.Len()
	k := &Grid{Ts: make([]float32, 0, n+1), Hs: make([]float32, 0, n), OutIdx: make([]int32, n+1), Times: make([]float64, 0, n+1), Plan: g}
	for i := range k.OutIdx {
		k.OutIdx[i] = -1
	}
	k.OutIdx[0] = 0
	k.Times = append(k.Times, ts[0])
	for i, steps := range g.Steps {
		k.First = append(k.First, len(k.Hs))
		for s := 0; s < steps; s++ {
			t0, t1 := g.Time(i, s), g.Time(i, s+1)
			k.Hs = append(k.Hs, float32(t1-t0))
			k.Times = append(k.Times, t1)
		}
		k.OutIdx[len(k.Times)-1] = int32(i + 1)
	}
	for _, t := range k.Times {
		k.Ts = append(k.Ts, float32(t))
	}
	return k, nil
}

// Steps is the number of steps N.
func (g *Grid) Steps() int { return len(g.Hs) }

// MotionIncrements writes the increments of mo (B paths, m channels) over steps
// n0…n1−1 into dst feature-major per step (step n, channel j, path p at
// ((n−n0)·m + j)·B + p), rounded to float32 as the Go engine rounds them. With reverse
// it queries the steps last to first, as a backward pass does. buf holds B·m values.
func (g *Grid) MotionIncrements(mo brownian.Motion, n0, n1 int, reverse bool, buf []float64, dst []float32) error {
	B, m := mo.Batch(), mo.Dim()
	for q := 0; q < n1-n0; q++ {
		n := n0 + q
		if reverse {
			n = n1 - 1 - q
		}
		if err := mo.Increment(buf[:B*m], g.Times[n], g.Times[n+1]); err != nil {
			return fmt.Errorf("kernels: Brownian increment of step %d: %w", n, err)
		}
		o := (n - n0) * m * B
		for p := 0; p < B; p++ {
			for j := 0; j < m; j++ {
				dst[o+j*B+p] = float32(buf[p*m+j])
			}
		}
	}
	return nil
}
