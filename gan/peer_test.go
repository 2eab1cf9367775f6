package gan

import (
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/gosde/gosde/brownian"
	"github.com/gosde/gosde/host"
	"github.com/gosde/gosde/internal/peer"
	"github.com/gosde/gosde/solver"
)

// TestPeerDump builds the SDE-GAN case of make peer-check: the loss and gradient that
// lossGrad computes at the example's sizes (5/16/3/16, one hidden layer, times 0…63,
// dt 1; batch 16), with the Brownian increments of the generator's solve replayed from
// its Interval. It checks that the replay is exact — the generator re-solved on the
// replayed increments, through a motion that answers nothing but the stored steps,
// gives bit for bit the states lossGrad used — and, when GOSDE_PEER_DIR names a
// directory, writes the case there for scripts/peer_check.py, in float64 and float32.
func TestPeerDump(t *testing.T) {
	dir := os.Getenv("GOSDE_PEER_DIR")
	t.Run("float64", func(t *testing.T) { peerDumpGAN[float64](t, dir) })
	t.Run("float32", func(t *testing.T) { peerDumpGAN[float32](t, dir) })
}

func peerDumpGAN[F float32 | float64](t *testing.T, dir string) {
	cfg := DefaultConfig()
	cfg.Batch, cfg.Seed = 16, 3
	times := make([]float64, 64)
	for i := range times {
		times[i] = float64(i)
	}
	e, err := newEngine[F](cfg, times)
	if err != nil {
		t.Fatal(err)
	}
	b, T, C, I, m := cfg.Batch, e.T, e.C, cfg.InitialNoise, cfg.NoiseDim
	// Real paths like normalised OU data: an AR(1) walk from U(−1, 1).
	e.ensure(b)
	r := rand.New(rand.NewPCG(5, 6))
	real := make([]F, b*T*C)
	for j := range b {
		for c := range C {
			x := 2*r.Float64() - 1
			for k := range T {
				real[(j*T+k)*C+c] = F(x)
				e.realSlot(b, k, j)[c] = F(x)
				x = 0.95*x + 0.3*r.NormFloat64()
			}
		}
	}
	const vSeed, bmSeed = 21, 22
	loss, err := e.lossGrad(b, e.genP, e.discP, vSeed, bmSeed, true)
	if err != nil {
		t.Fatal(err)
	}
	xs := append([]F(nil), e.lastGenSol.Ys...)
	x0 := append([]F(nil), e.x0[:b*e.hid]...)

	// Replay the generator's noise: a fresh Interval from the same seed, planned with
	// the same grid and asked for the steps in the solver's order, answers the same.
	grid, err := solver.StepGrid(times, cfg.Dt)
	if err != nil {
		t.Fatal(err)
	}
	mo, err := brownian.NewInterval(times[0], times[T-1], b, m, bmSeed)
	if err != nil {
		t.Fatal(err)
	}
	if err := mo.PlanGrid(grid); err != nil {
		t.Fatal(err)
	}
	inc := make([]float64, 0, grid.Len()*b*m)
	buf := make([]float64, b*m)
	st := peer.StepTimes(grid)
	for k := 0; k < len(st); k += 2 {
		if err := mo.Increment(buf, st[k], st[k+1]); err != nil {
			t.Fatal(err)
		}
		for _, v := range buf {
			inc = append(inc, float64(F(v)))
		}
	}
	tab, err := peer.NewTable(grid, b, m, inc)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := host.NewCPUSolver[F](e.genSpec, host.Problem{Ts: times, Dt: cfg.Dt, Batch: b})
	if err != nil {
		t.Fatal(err)
	}
	defer sv.Close()
	copy(sv.Params(), e.gPart(e.genP, partField))
	xs2, err := sv.Forward(x0, tab, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	for i := range xs {
		if xs2[i] != xs[i] && !(math.IsNaN(float64(xs[i])) && math.IsNaN(float64(xs2[i]))) {
			t.Fatalf("the replayed increments do not reproduce the generator's solve: X[%d] = %v, replayed %v", i, xs[i], xs2[i])
		}
	}

	name := map[bool]string{true: "gan_f32", false: "gan_f64"}[isFloat32[F]()]
	c := peer.NewCase[F](name, "gan")
	gargs, err := cfg.TorchsdeArgs(TorchsdeGenerator)
	if err != nil {
		t.Fatal(err)
	}
	dargs, err := cfg.TorchsdeArgs(TorchsdeDiscriminator)
	if err != nil {
		t.Fatal(err)
	}
	c.Meta = map[string]any{"ts": times, "dt": cfg.Dt, "generator_args": gargs, "discriminator_args": dargs,
		"generator_reconstruction": e.lastGenRecon, "discriminator_reconstruction": e.lastDiscRecon}
	for _, tn := range e.layout() {
		module, key, err := TorchsdeName(tn.name)
		if err != nil {
			t.Fatal(err)
		}
		p, g, prefix := e.genP, e.genG, "gen"
		if module == TorchsdeDiscriminator {
			p, g, prefix = e.discP, e.discG, "disc"
		}
		peer.Add(c, prefix+"."+key, tn.shape, p[tn.off:tn.off+tn.len])
		peer.Add(c, "grad_"+prefix+"."+key, tn.shape, g[tn.off:tn.off+tn.len])
	}
	ys := make([]F, b*T*C)
	for k := range T {
		for j := range b {
			copy(ys[(j*T+k)*C:(j*T+k+1)*C], e.ys[(k*b+j)*C:(k*b+j+1)*C])
		}
	}
	peer.Add(c, "v", []int{b, I}, e.v[:b*I])
	peer.Add(c, "increments", []int{grid.Len(), b, m}, inc)
	peer.Add(c, "step_times", []int{grid.Len(), 2}, st)
	peer.Add(c, "real", []int{b, T, C}, real)
	peer.Add(c, "ys", []int{b, T, C}, ys)
	peer.Add(c, "scores", []int{2}, []float64{e.lastFakeMean, e.lastRealMean})
	peer.Add(c, "loss", []int{}, []float64{loss})
	if dir == "" {
		return
	}
	if err := peer.Write(dir, c); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (loss %.6g)", c.Name, loss)
}

func isFloat32[F float32 | float64]() bool {
	_, ok := any(F(0)).(float32)
	return ok
}
