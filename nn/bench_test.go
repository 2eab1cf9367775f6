package nn

import (
	"math/rand/v2"
	"testing"
)

// genFields is the SDE-GAN generator's pair of vector fields at batch 1024 in blocks of
// 256 paths: drift MLP [t,y] 17→16→16 and diffusion 17→16→48, LipSwish hidden, tanh
// out, with t folded into the bias. Path-major state in and out, as a solver sees it.
type genFields struct {
	drift, diff   *MLP
	pd, pg        *Packed[float32]
	wd, wg        []*Workspace[float32]
	x, ax         [][]float32
	gd, gg        *Grad[float32]
	y, f, g       []float32
	af, ag, ay    []float32
	td, tg        []float32
	batch, blocks int
}

const genBlock = 256

func newGenFields(batch int) *genFields {
	rng := rand.New(rand.NewPCG(1, 1))
	c := &genFields{batch: batch, blocks: (batch + genBlock - 1) / genBlock}
	c.drift = MustMLP(Config{In: 17, Out: 16, Width: 16, Depth: 1, Hidden: LipSwish, FinalTanh: true})
	c.diff = MustMLP(Config{In: 17, Out: 48, Width: 16, Depth: 1, Hidden: LipSwish, FinalTanh: true})
	c.pd, _ = NewPacked[float32](c.drift, 1)
	c.pg, _ = NewPacked[float32](c.diff, 1)
	c.td = make([]float32, c.drift.NumParams())
	c.tg = make([]float32, c.diff.NumParams())
	Init(c.drift, c.td, 1)
	Init(c.diff, c.tg, 2)
	c.pd.Load(c.td, []float32{0.5})
	c.pg.Load(c.tg, []float32{0.5})
	c.gd, c.gg = NewGrad(c.pd), NewGrad(c.pg)
	for range c.blocks {
		wd := NewWorkspace[float32](c.drift, 1, genBlock)
		c.wd = append(c.wd, wd)
		c.wg = append(c.wg, NewWorkspace[float32](c.diff, 1, genBlock))
		c.x = append(c.x, make([]float32, 16*wd.Stride()))
		c.ax = append(c.ax, make([]float32, 16*wd.Stride()))
	}
	c.y = randSlice[float32](rng, batch*16, 1)
	c.f = make([]float32, batch*16)
	c.g = make([]float32, batch*48)
	c.af = randSlice[float32](rng, batch*16, 1)
	c.ag = randSlice[float32](rng, batch*48, 1)
	c.ay = make([]float32, batch*16)
	return c
}

func (c *genFields) flopsPerPath() int { return c.drift.FLOPs() + c.diff.FLOPs() }

// vjpFLOPsPerPath: the parameter cotangent costs as much as the forward, the input
// cotangent as much minus the t column (folded, never multiplied).
func (c *genFields) vjpFLOPsPerPath() int { return 2*c.flopsPerPath() - 2*(16+16) }

func (c *genFields) eval() {
	for b := range c.blocks {
		p0, n := b*genBlock, min(genBlock, c.batch-b*genBlock)
		s := c.wd[b].Stride()
		transpose(c.y[p0*16:], 16, c.x[b], s, n, 16, false)
		Forward(c.pd, c.wd[b], c.x[b], s, n)
		o, os := c.wd[b].Output()
		transpose(o, os, c.f[p0*16:], 16, 16, n, false)
		Forward(c.pg, c.wg[b], c.x[b], s, n)
		o, os = c.wg[b].Output()
		transpose(o, os, c.g[p0*48:], 48, 48, n, false)
	}
}

func (c *genFields) vjp() {
	c.gd.Zero()
	c.gg.Zero()
	for b := range c.blocks {
		p0, n := b*genBlock, min(genBlock, c.batch-b*genBlock)
		s := c.wd[b].Stride()
		cot, cs := c.wd[b].OutputCotangent()
		transpose(c.af[p0*16:], 16, cot, cs, n, 16, false)
		Backward(c.pd, c.wd[b], c.x[b], s, n, c.gd, c.ax[b], s, false)
		cot, cs = c.wg[b].OutputCotangent()
		transpose(c.ag[p0*48:], 48, cot, cs, n, 48, false)
		Backward(c.pg, c.wg[b], c.x[b], s, n, c.gg, c.ax[b], s, true)
		transpose(c.ax[b], s, c.ay[p0*16:], 16, 16, n, true)
	}
}

func reportGFLOPs(b *testing.B, flops float64) {
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkGeneratorEval: forward of both generator fields, batch 1024, float32, one
// goroutine, including the path-major↔feature-major transposes. GFLOP/s counts 2 FLOPs
// per multiply-add of the four weight matrices (17 inputs), like mlp_limit.c.
func BenchmarkGeneratorEval(b *testing.B) {
	c := newGenFields(1024)
	b.ResetTimer()
	for b.Loop() {
		c.eval()
	}
	reportGFLOPs(b, float64(c.flopsPerPath()*c.batch))
}

// BenchmarkGeneratorVJP: the VJP of both fields reusing the stored activations.
func BenchmarkGeneratorVJP(b *testing.B) {
	c := newGenFields(1024)
	c.eval()
	b.ResetTimer()
	for b.Loop() {
		c.vjp()
	}
	reportGFLOPs(b, float64(c.vjpFLOPsPerPath()*c.batch))
}

// BenchmarkGeneratorEvalVJP: one evaluation and one VJP (a backward step of the
// reversible adjoint); GFLOP/s counts forward + VJP FLOPs.
func BenchmarkGeneratorEvalVJP(b *testing.B) {
	c := newGenFields(1024)
	b.ResetTimer()
	for b.Loop() {
		c.eval()
		c.vjp()
	}
	reportGFLOPs(b, float64((c.flopsPerPath()+c.vjpFLOPsPerPath())*c.batch))
}

func BenchmarkGeneratorEvalPortable(b *testing.B) {
	old := useAsm
	useAsm = false
	defer func() { useAsm = old }()
	BenchmarkGeneratorEval(b)
}

func BenchmarkGeneratorEvalFloat64(b *testing.B) {
	m1 := MustMLP(Config{In: 17, Out: 16, Width: 16, Depth: 1, Hidden: LipSwish, FinalTanh: true})
	m2 := MustMLP(Config{In: 17, Out: 48, Width: 16, Depth: 1, Hidden: LipSwish, FinalTanh: true})
	n1, n2 := NewNet[float64](m1), NewNet[float64](m2)
	p1, p2 := make([]float64, m1.NumParams()), make([]float64, m2.NumParams())
	Init(m1, p1, 1)
	Init(m2, p2, 2)
	x := randSlice[float64](rand.New(rand.NewPCG(1, 1)), 1024*17, 1)
	y1, y2 := make([]float64, 1024*16), make([]float64, 1024*48)
	for b.Loop() {
		n1.Forward(p1, x, y1)
		n2.Forward(p2, x, y2)
	}
	reportGFLOPs(b, float64((m1.FLOPs()+m2.FLOPs())*1024))
}
