//go:build cgo

package cuda

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gosde/gosde/internal/numtest"
	"github.com/gosde/gosde/kernels"
	"github.com/gosde/gosde/nn"
	"github.com/gosde/gosde/optim"
)

// deviceFloats uploads xs into fresh pooled buffers, given back at the end of the
// test. Must run inside gpu.be.do.
func deviceFloats(t *testing.T, xs ...[]float32) []buffer {
	t.Helper()
	bufs := make([]buffer, len(xs))
	for i, x := range xs {
		b, err := gpu.pool.alloc(gpu.be, int64(4*max(len(x), 1)))
		if err != nil {
			t.Fatal(err)
		}
		if err := upload(gpu.be, b, x); err != nil {
			t.Fatal(err)
		}
		bufs[i] = b
	}
	t.Cleanup(func() {
		for _, b := range bufs {
			gpu.pool.release(b)
		}
	})
	return bufs
}

// The batch-MLP kernels (initial networks and readouts of a training step) against
// nn.Net.
func TestMLPKernelsAgreeWithGo(t *testing.T) {
	for _, B := range []int{1, 7, 300, 1024} {
		m := nn.MustMLP(nn.Config{In: 5, Out: 16, Width: 16, Depth: 1, Hidden: nn.LipSwish})
		rng := rand.New(rand.NewPCG(uint64(B), 4))
		params := make([]float32, m.NumParams())
		nn.Init(m, params, 1)
		x := numtest.Normals(rng, B*5, 1)
		cot := numtest.Normals(rng, B*16, 1)
		net := nn.NewNet[float32](m)
		y := make([]float32, B*16)
		net.Forward(params, x, y)
		ax := make([]float32, len(x))
		g := make([]float32, len(params))
		net.VJP(cot, ax, g)

		desc := kernels.MLPDesc(m, 0, false)
		actRows, tmpRows := kernels.MLPRows(m)
		gotY, gotAx, gotG := make([]float32, B*16), make([]float32, B*5), make([]float32, len(params))
		err := gpu.be.do(func() error {
			d := gpu.be
			descF := make([]float32, len(desc)) // reinterpreted below: same 4-byte words
			for i, v := range desc {
				descF[i] = math.Float32frombits(uint32(v))
			}
			b := deviceFloats(t, descF, params, toFeatureMajor(make([]float32, len(x)), x, B, 5), make([]float32, actRows*B),
				make([]float32, 16*B), toFeatureMajor(make([]float32, len(cot)), cot, B, 16), make([]float32, 5*B),
				make([]float32, len(params)*B), make([]float32, tmpRows*B), make([]float32, len(params)))
			if err := d.mlpForward(b[0], b[1], b[2], b[3], b[4], 1, int64(B)); err != nil {
				return err
			}
			if err := d.mlpVJP(b[0], b[1], b[2], b[3], b[5], b[6], b[7], b[8], int64(len(params)), 1, int64(B)); err != nil {
				return err
			}
			if err := d.sumRows(b[7], b[9], int64(len(params)), int64(B), 1, false); err != nil {
				return err
			}
			ys, axs := make([]float32, B*16), make([]float32, B*5)
			if err := download(d, ys, b[4]); err != nil {
				return err
			}
			if err := download(d, axs, b[6]); err != nil {
				return err
			}
			fromFeatureMajor(gotY, ys, B, 16)
			fromFeatureMajor(gotAx, axs, B, 5)
			return download(d, gotG, b[9])
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name      string
			got, want []float32
		}{{"y", gotY, y}, {"dL/dx", gotAx, ax}, {"dL/dθ", gotG, g}} {
			if e := numtest.RelErr(c.got, c.want); !(e <= gradTol) {
				t.Errorf("B=%d %s: relative error %.3g", B, c.name, e)
			}
		}
	}
}

// Adadelta, clipping and weight averaging compute in float64 on float32 storage like
// package optim: they must agree bit for bit.
func TestOptimiserKernelsMatchGo(t *testing.T) {
	const n, steps, lim = 3001, 5, 0.05
	cfg := optim.AdadeltaConfig{LR: 2e-4, Rho: 0.9, Eps: 1e-6, WeightDecay: 0.01}
	rng := rand.New(rand.NewPCG(2, 2))
	p0 := numtest.Normals(rng, n, 0.1)
	grads := numtest.Normals(rng, n*steps, 1)
	p := append([]float32(nil), p0...)
	ad, _ := optim.NewAdadelta[float32](n, cfg)
	swa, _ := optim.NewSWA[float32](n, 0)
	for s := 0; s < steps; s++ {
		ad.Step(p, grads[s*n:(s+1)*n])
		optim.Clip(p, lim)
		swa.Update(p)
	}
	got, avg := make([]float32, n), make([]float32, n)
	err := gpu.be.do(func() error {
		d := gpu.be
		b := deviceFloats(t, p0, make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n))
		for s := 0; s < steps; s++ {
			if err := upload(d, b[1], grads[s*n:(s+1)*n]); err != nil {
				return err
			}
			if err := d.adadelta(b[0], b[1], b[2], b[3], n, cfg.LR, cfg.Rho, cfg.Eps, cfg.WeightDecay); err != nil {
				return err
			}
			if err := d.clip(b[0], n, lim); err != nil {
				return err
			}
			if err := d.swa(b[4], b[0], n, int64(s)); err != nil {
				return err
			}
		}
		if err := download(d, got, b[0]); err != nil {
			return err
		}
		return download(d, avg, b[4])
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range p {
		if math.Float32bits(got[i]) != math.Float32bits(p[i]) || math.Float32bits(avg[i]) != math.Float32bits(swa.Average()[i]) {
			t.Fatalf("parameter %d: GPU %v (avg %v), Go %v (avg %v)", i, got[i], avg[i], p[i], swa.Average()[i])
		}
	}
}
