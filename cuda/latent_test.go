//go:build cgo

package cuda

import (
	"fmt"
	"math"
	"testing"

	"github.com/gosde/gosde/dataset"
	"github.com/gosde/gosde/host"
	"github.com/gosde/gosde/internal/numtest"
	"github.com/gosde/gosde/latent"
	"github.com/gosde/gosde/solver"
)

func newLatent(t *testing.T, eng host.Engine, data *dataset.Paths) *latent.Model {
	t.Helper()
	cfg := latent.DefaultConfig()
	cfg.Batch, cfg.Seed, cfg.Width = 48, 5, 16
	var opts []latent.Option
	if eng != nil {
		opts = append(opts, latent.WithEngine(eng))
	}
	m, err := latent.New(cfg, data.Times, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// The latent SDE's posterior solved on the GPU engine trains like the CPU engine's, up
// to float rounding: the losses of the first steps (each computed before its update)
// and the network after them.
// With 4 lanes per path (the emulator's lanes in both orders) the KL channel's sum
// over the lanes is checked too.
func TestLatentStepsAgreeWithCPUEngine(t *testing.T) {
	defer func(l int) { gpu.lanes = l }(gpu.lanes)
	defer setLaneOrder(false)
	for _, c := range []struct {
		lanes   int
		reverse bool
	}{{0, false}, {4, false}, {4, true}} {
		gpu.lanes = c.lanes
		setLaneOrder(c.reverse)
		t.Run(fmt.Sprintf("lanes%d/reverse-%v", c.lanes, c.reverse), latentStepsAgree)
	}
}

func latentStepsAgree(t *testing.T) {
	data := dataset.OU(200, 4)
	data.Times = data.Times[:16]
	vals := make([]float64, 0, data.N*16)
	for n := range data.N {
		vals = append(vals, data.Values[n*64:n*64+16]...)
	}
	data.Values = vals
	mc := newLatent(t, nil, data)
	mg := newLatent(t, gpu, data)
	for s := range 3 {
		sc, err := mc.Step(data)
		if err != nil {
			t.Fatal(err)
		}
		sg, err := mg.Step(data)
		if err != nil {
			t.Fatal(err)
		}
		d := math.Abs(sc.Loss-sg.Loss) / math.Abs(sc.Loss)
		t.Logf("step %d: −ELBO CPU %.7g, %s %.7g (rel. %.2g); KL path %.4g vs %.4g", s+1, sc.Loss, gpu.Name(), sg.Loss, d, sc.KLPath, sg.KLPath)
		if !(d <= 1e-4) {
			t.Errorf("step %d: losses differ: CPU %v, engine %v", s+1, sc.Loss, sg.Loss)
		}
	}
	pc, pg := mc.NetworkParams(false), mg.NetworkParams(false)
	worst := 0.0
	for name, want := range pc {
		worst = math.Max(worst, numtest.RelErr(pg[name], want))
	}
	t.Logf("largest relative difference of a network tensor after 3 steps: %.2g", worst)
	if !(worst <= 1e-2) {
		t.Errorf("networks differ by %.3g after 3 steps", worst)
	}
}

// The GPU engine has reversible Heun and its adjoint only; asking it for the paper's
// baseline is an error that says so.
func TestLatentOtherSchemesRefused(t *testing.T) {
	data := dataset.OU(10, 1)
	cfg := latent.DefaultConfig()
	cfg.Method, cfg.Adjoint = solver.Midpoint, solver.Continuous
	if _, err := latent.New(cfg, data.Times, latent.WithEngine(gpu)); err == nil {
		t.Error("midpoint + continuous on the GPU engine: no error")
	}
}
