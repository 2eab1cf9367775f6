package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

var allActs = []Activation{LipSwish, Tanh, Softplus, Sigmoid, ReLU, Identity}

// withAsm runs f with the assembly kernels on and, where they exist, off.
func withAsm(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	old := useAsm
	defer func() { useAsm = old }()
	modes := []bool{false}
	if asmAvailable {
		modes = append(modes, true)
	}
	for _, a := range modes {
		useAsm = a
		t.Run(fmt.Sprintf("asm=%v", a), f)
	}
}

func randSlice[F Float](rng *rand.Rand, n int, scale float64) []F {
	s := make([]F, n)
	for i := range s {
		s[i] = F((2*rng.Float64() - 1) * scale)
	}
	return s
}

// naiveMLP evaluates the MLP for one path straight from the flat parameters, in float64.
func naiveMLP(m *MLP, params []float64, x []float64) []float64 {
	h := append([]float64(nil), x...)
	for _, l := range m.Layers() {
		o := make([]float64, l.Out)
		for j := range o {
			s := params[l.B+j]
			for k := 0; k < l.In; k++ {
				s += params[l.W+j*l.In+k] * h[k]
			}
			o[j], _ = l.Act.Eval64(s)
		}
		h = o
	}
	return h
}

func TestActivationDerivatives(t *testing.T) {
	xs := []float64{-30, -7.5, -3, -1.3, -0.4, -1e-3, 2e-3, 0.25, 0.9, 1.7, 4, 9, 25}
	for _, a := range allActs {
		for _, x := range xs {
			const h = 1e-6
			yp, _ := a.Eval64(x + h)
			ym, _ := a.Eval64(x - h)
			fd := (yp - ym) / (2 * h)
			_, d := a.Eval64(x)
			if math.Abs(fd-d) > 1e-7*(1+math.Abs(d)) {
				t.Errorf("%v'(%g) = %g, finite difference %g", a, x, d, fd)
			}
			// float32 derivative against the float64 one.
			_, d32 := a.Eval32(float32(x))
			if math.Abs(float64(d32)-d) > 2e-6*(1+math.Abs(d)) {
				t.Errorf("%v'(%g) float32 = %g, float64 %g", a, x, d32, d)
			}
		}
	}
	if y, _ := LipSwish.Eval64(2); math.Abs(y-0.909*2/(1+math.Exp(-2))) > 1e-15 {
		t.Errorf("LipSwish(2) = %g", y)
	}
}

// TestFastActivationAccuracy measures the fast float32 activations (scalar Go and
// assembly) against float64 math on a dense grid.
func TestFastActivationAccuracy(t *testing.T) {
	const n = 1 << 16
	xs := make([]float32, n)
	for i := range xs {
		xs[i] = float32(-40 + 80*float64(i)/n)
	}
	xs[0], xs[1], xs[2], xs[3] = 1e-7, -3e-9, 0, 100
	for _, a := range allActs {
		t.Run(a.String(), func(t *testing.T) {
			withAsm(t, func(t *testing.T) {
				z := append([]float32(nil), xs...)
				d := make([]float32, n)
				applyAct(a, z, d)
				maxRel, maxAbsD := 0.0, 0.0
				for i, x := range xs {
					y, dy := a.Eval64(float64(x))
					if math.Abs(y) > 1e-30 {
						maxRel = max(maxRel, math.Abs(float64(z[i])-y)/math.Abs(y))
					} else if math.Abs(float64(z[i])-y) > 1e-37 {
						t.Errorf("%v(%g) = %g, want %g", a, x, z[i], y)
					}
					maxAbsD = max(maxAbsD, math.Abs(float64(d[i])-dy)/(1+math.Abs(dy)))
				}
				if maxRel > 1e-6 || maxAbsD > 1e-6 {
					t.Errorf("%v: max relative error %.3g, derivative error %.3g", a, maxRel, maxAbsD)
				}
				t.Logf("%v: max relative error %.3g, derivative error %.3g", a, maxRel, maxAbsD)
			})
		})
	}
	// NaN propagates.
	for _, a := range allActs {
		withAsm(t, func(t *testing.T) {
			z := make([]float32, 8)
			z[3] = float32(math.NaN())
			applyAct(a, z, make([]float32, 8))
			if z[3] == z[3] {
				t.Errorf("%v(NaN) = %g", a, z[3])
			}
		})
	}
}

func naiveGemm(w, b, x []float64, xs, kin int, out []float64, os int, mul []float64, ms, rows, n, mode int) {
	for r := 0; r < rows; r++ {
		for p := 0; p < n; p++ {
			var s float64
			switch mode &^ gemmMul {
			case gemmBias:
				s = b[r]
			case gemmAcc:
				s = out[r*os+p]
			}
			for k := 0; k < kin; k++ {
				s += w[(r/4*kin+k)*4+r%4] * x[k*xs+p]
			}
			if mode&gemmMul != 0 {
				s *= mul[r*ms+p]
			}
			out[r*os+p] = s
		}
	}
}

func to64(s []float32) []float64 {
	r := make([]float64, len(s))
	for i, v := range s {
		r[i] = float64(v)
	}
	return r
}

func closeTo(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	for i := range want {
		if d := math.Abs(float64(got[i]) - want[i]); d > tol*(1+math.Abs(want[i])) || d != d {
			t.Fatalf("%s[%d] = %g, want %g", what, i, got[i], want[i])
		}
	}
}

// TestKernels checks each kernel (assembly and portable) against a naive float64
// reference on awkward sizes.
func TestKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	withAsm(t, func(t *testing.T) {
		for _, sz := range []struct{ kin, rowTiles, pathTiles int }{{0, 1, 1}, {1, 1, 1}, {17, 4, 3}, {16, 12, 2}, {5, 2, 16}} {
			for _, mode := range []int{gemmZero, gemmBias, gemmAcc, gemmZero | gemmMul} {
				xs, os, ms := sz.pathTiles*16+3, sz.pathTiles*16+5, sz.pathTiles*16+1
				rows, n := sz.rowTiles*4, sz.pathTiles*16
				w := randSlice[float32](rng, rows*sz.kin+1, 1)
				b := randSlice[float32](rng, rows, 1)
				x := randSlice[float32](rng, max(sz.kin, 1)*xs, 1)
				mul := randSlice[float32](rng, rows*ms, 1)
				out := randSlice[float32](rng, rows*os, 1)
				want := to64(out)
				naiveGemm(to64(w), to64(b), to64(x), xs, sz.kin, want, os, to64(mul), ms, rows, n, mode)
				gemm(w, b, x, xs, sz.kin, out, os, mul, ms, sz.rowTiles, sz.pathTiles, mode)
				closeTo(t, fmt.Sprintf("gemm %v mode %d", sz, mode), out, want, 1e-5)
			}
		}
		for _, sz := range []struct{ rowTiles, npairs, n8 int }{{1, 1, 1}, {4, 9, 32}, {12, 9, 3}, {2, 3, 0}} {
			dzs := sz.n8*8 + 7
			dz := randSlice[float32](rng, sz.rowTiles*4*dzs+1, 1)
			rows := make([][]float32, 2*sz.npairs)
			for i := range rows {
				rows[i] = randSlice[float32](rng, sz.n8*8+1, 1)
			}
			out := randSlice[float32](rng, sz.rowTiles*sz.npairs*8, 1)
			want := to64(out)
			for rt := 0; rt < sz.rowTiles; rt++ {
				for q := 0; q < sz.npairs; q++ {
					for i := 0; i < 4; i++ {
						for kk := 0; kk < 2; kk++ {
							var s float64
							for p := 0; p < sz.n8*8; p++ {
								s += float64(dz[(4*rt+i)*dzs+p]) * float64(rows[2*q+kk][p])
							}
							want[(rt*sz.npairs+q)*8+2*i+kk] += s
						}
					}
				}
			}
			dw(dz, dzs, sz.rowTiles, rows, make([]uintptr, len(rows)), sz.n8, out)
			closeTo(t, fmt.Sprintf("dw %v", sz), out, want, 1e-5)
		}
		for _, sz := range [][2]int{{1, 1}, {8, 8}, {16, 48}, {13, 21}, {256, 17}, {3, 40}} {
			for _, add := range []bool{false, true} {
				nr, nc := sz[0], sz[1]
				ss, ds := nc+3, nr+5
				src := randSlice[float32](rng, nr*ss, 1)
				dst := randSlice[float32](rng, nc*ds, 1)
				want := append([]float32(nil), dst...)
				for r := 0; r < nr; r++ {
					for c := 0; c < nc; c++ {
						if add {
							want[c*ds+r] += src[r*ss+c]
						} else {
							want[c*ds+r] = src[r*ss+c]
						}
					}
				}
				Transpose(src, ss, dst, ds, nr, nc, add)
				closeTo(t, fmt.Sprintf("transpose %v add %v", sz, add), dst, to64(want), 0)
			}
		}
		a := randSlice[float32](rng, 37, 1)
		d := randSlice[float32](rng, 37, 1)
		want := make([]float64, 37)
		for i := range want {
			want[i] = float64(d[i] * a[i])
		}
		mulInPlace(d, a)
		closeTo(t, "mul", d, want, 0)
	})
}

var testConfigs = []Config{
	{In: 17, Out: 16, Width: 16, Depth: 1, Hidden: LipSwish, FinalTanh: true},
	{In: 17, Out: 48, Width: 16, Depth: 1, Hidden: LipSwish, FinalTanh: true},
	{In: 3, Out: 5, Width: 7, Depth: 2, Hidden: Tanh},
	{In: 1, Out: 2, Width: 9, Depth: 3, Hidden: Softplus, FinalTanh: true},
	{In: 6, Out: 1, Width: 4, Depth: 1, Hidden: Sigmoid},
	{In: 4, Out: 9, Width: 12, Depth: 2, Hidden: ReLU},
	{In: 5, Out: 3, Depth: 0},
	{In: 2, Out: 4, Width: 3, Depth: 1, Hidden: Identity},
}

func TestForwardAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	withAsm(t, func(t *testing.T) {
		for _, cfg := range testConfigs {
			m := MustMLP(cfg)
			p64 := make([]float64, m.NumParams())
			Init(m, p64, 7)
			for i := range p64 { // larger weights than the init so activations are exercised
				p64[i] *= 2
			}
			p32 := make([]float32, len(p64))
			for i, v := range p64 {
				p32[i] = float32(v)
			}
			for _, batch := range []int{1, 13, 256, 300} {
				x64 := randSlice[float64](rng, batch*cfg.In, 2)
				x32 := make([]float32, len(x64))
				for i, v := range x64 {
					x64[i] = float64(float32(v))
					x32[i] = float32(v)
				}
				y64 := make([]float64, batch*cfg.Out)
				y32 := make([]float32, batch*cfg.Out)
				NewNet[float64](m).Forward(p64, x64, y64)
				NewNet[float32](m).Forward(p32, x32, y32)
				for p := 0; p < batch; p++ {
					want := naiveMLP(m, p64, x64[p*cfg.In:(p+1)*cfg.In])
					for j, w := range want {
						if d := math.Abs(y64[p*cfg.Out+j] - w); d > 1e-12*(1+math.Abs(w)) {
							t.Fatalf("%+v batch %d: float64 y[%d][%d] = %g, want %g", cfg, batch, p, j, y64[p*cfg.Out+j], w)
						}
						if d := math.Abs(float64(y32[p*cfg.Out+j]) - w); d > 2e-5*(1+math.Abs(w)) {
							t.Fatalf("%+v batch %d: float32 y[%d][%d] = %g, want %g", cfg, batch, p, j, y32[p*cfg.Out+j], w)
						}
					}
				}
			}
		}
	})
}

// TestVJPFiniteDifferences checks the input and parameter cotangents of Net (float64)
// against central finite differences of L = Σ ay·y.
func TestVJPFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, cfg := range testConfigs {
		m := MustMLP(cfg)
		params := make([]float64, m.NumParams())
		Init(m, params, 11)
		for i := range params {
			params[i] *= 1.5
		}
		const batch = 19
		x := randSlice[float64](rng, batch*cfg.In, 1.5)
		ay := randSlice[float64](rng, batch*cfg.Out, 1)
		net := NewNet[float64](m)
		y := make([]float64, batch*cfg.Out)
		loss := func() float64 {
			net.Forward(params, x, y)
			var s float64
			for i, v := range y {
				s += ay[i] * v
			}
			return s
		}
		loss()
		ax := randSlice[float64](rng, len(x), 1) // VJP adds into ax and grad
		ax0 := append([]float64(nil), ax...)
		grad := randSlice[float64](rng, len(params), 1)
		g0 := append([]float64(nil), grad...)
		net.VJP(ay, ax, grad)
		const h = 1e-6
		check := func(what string, v []float64, i int, got float64) {
			old := v[i]
			v[i] = old + h
			lp := loss()
			v[i] = old - h
			lm := loss()
			v[i] = old
			fd := (lp - lm) / (2 * h)
			if math.Abs(fd-got) > 1e-6*(1+math.Abs(fd)) {
				t.Errorf("%+v: d/d%s[%d] = %g, finite difference %g", cfg, what, i, got, fd)
			}
		}
		for i := range x {
			check("x", x, i, ax[i]-ax0[i])
		}
		for i := range params {
			check("θ", params, i, grad[i]-g0[i])
		}
	}
}

// TestFloat32AgreesWithFloat64 compares a float32 forward and VJP with float64.
func TestFloat32AgreesWithFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	withAsm(t, func(t *testing.T) {
		for _, cfg := range testConfigs[:3] {
			m := MustMLP(cfg)
			p64 := make([]float64, m.NumParams())
			Init(m, p64, 13)
			p32 := make([]float32, len(p64))
			for i, v := range p64 {
				p32[i] = float32(v)
				p64[i] = float64(p32[i])
			}
			const batch = 333
			x32 := randSlice[float32](rng, batch*cfg.In, 1)
			ay32 := randSlice[float32](rng, batch*cfg.Out, 1)
			x64, ay64 := to64(x32), to64(ay32)
			n32, n64 := NewNet[float32](m), NewNet[float64](m)
			y32, y64 := make([]float32, batch*cfg.Out), make([]float64, batch*cfg.Out)
			n32.Forward(p32, x32, y32)
			n64.Forward(p64, x64, y64)
			closeTo(t, "y", y32, y64, 1e-5)
			ax32, ax64 := make([]float32, len(x32)), make([]float64, len(x64))
			g32, g64 := make([]float32, len(p32)), make([]float64, len(p64))
			n32.VJP(ay32, ax32, g32)
			n64.VJP(ay64, ax64, g64)
			closeTo(t, "ax", ax32, ax64, 1e-5)
			// Parameter cotangents are sums over the batch: compare relative to its scale.
			var scale float64
			for _, v := range g64 {
				scale = max(scale, math.Abs(v))
			}
			for i := range g64 {
				if math.Abs(float64(g32[i])-g64[i]) > 1e-5*scale {
					t.Fatalf("grad[%d] = %g, float64 %g", i, g32[i], g64[i])
				}
			}
		}
	})
}

// TestConstantInputsFolded checks that folding the leading constant inputs (the time of
// a vector field) into the bias gives the same outputs and gradients as feeding them.
func TestConstantInputsFolded(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	m := MustMLP(Config{In: 6, Out: 7, Width: 8, Depth: 2, Hidden: LipSwish, FinalTanh: true})
	params := make([]float64, m.NumParams())
	Init(m, params, 3)
	const batch, nconst = 40, 2
	consts := []float64{0.7, -1.3}
	y := randSlice[float64](rng, batch*(m.In()-nconst), 1)
	full := make([]float64, 0, batch*m.In())
	for p := 0; p < batch; p++ {
		full = append(full, consts...)
		full = append(full, y[p*(m.In()-nconst):(p+1)*(m.In()-nconst)]...)
	}
	net := NewNet[float64](m)
	want := make([]float64, batch*m.Out())
	net.Forward(params, full, want)
	ay := randSlice[float64](rng, len(want), 1)
	wantAx := make([]float64, len(full))
	wantG := make([]float64, len(params))
	net.VJP(ay, wantAx, wantG)

	pk, err := NewPacked[float64](m, nconst)
	if err != nil {
		t.Fatal(err)
	}
	pk.Load(params, consts)
	ws := NewWorkspace[float64](m, nconst, 64)
	s := ws.Stride()
	x := make([]float64, (m.In()-nconst)*s)
	Transpose(y, m.In()-nconst, x, s, batch, m.In()-nconst, false)
	Forward(pk, ws, x, s, batch)
	out, os := ws.Output()
	got := make([]float64, len(want))
	Transpose(out, os, got, m.Out(), m.Out(), batch, false)
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-13 {
			t.Fatalf("y[%d] = %g, want %g", i, got[i], want[i])
		}
	}
	cot, cs := ws.OutputCotangent()
	Transpose(ay, m.Out(), cot, cs, batch, m.Out(), false)
	g := NewGrad(pk)
	ax := make([]float64, pk.InputCotangentRows()*s)
	Backward(pk, ws, x, s, batch, g, ax, s, false)
	gotG := make([]float64, len(params))
	pk.AddGrad(gotG, g)
	for i := range wantG {
		if math.Abs(gotG[i]-wantG[i]) > 1e-12*(1+math.Abs(wantG[i])) {
			t.Fatalf("grad[%d] = %g, want %g", i, gotG[i], wantG[i])
		}
	}
	for p := 0; p < batch; p++ {
		for i := 0; i < m.In()-nconst; i++ {
			if w := wantAx[p*m.In()+nconst+i]; math.Abs(ax[i*s+p]-w) > 1e-13 {
				t.Fatalf("ax[%d][%d] = %g, want %g", p, i, ax[i*s+p], w)
			}
		}
	}
}

func TestInitAndClip(t *testing.T) {
	m := MustMLP(Config{In: 17, Out: 48, Width: 16, Depth: 1})
	a := make([]float32, m.NumParams())
	b := make([]float32, m.NumParams())
	Init(m, a, 42)
	Init(m, b, 42)
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("Init not deterministic")
		}
	}
	for _, l := range m.Layers() {
		lim := float32(1 / math.Sqrt(float64(l.In)))
		var mx float32
		for _, v := range a[l.W : l.B+l.Out] {
			if v > lim || v < -lim {
				t.Fatalf("init value %g outside ±%g", v, lim)
			}
			mx = max(mx, v)
		}
		if mx < 0.8*lim {
			t.Errorf("init values do not fill the range: max %g of %g", mx, lim)
		}
	}
	if m.NumParams() != 17*16+16+16*48+48 || m.FLOPs() != 2*(17*16+16*48) {
		t.Fatalf("NumParams %d FLOPs %d", m.NumParams(), m.FLOPs())
	}
	for i := range a {
		a[i] *= 10
	}
	ClipWeights(m, a)
	for _, r := range m.WeightRanges() {
		for _, v := range a[r.Off : r.Off+r.Len] {
			if math.Abs(float64(v)) > r.Limit*(1+1e-7) {
				t.Fatalf("clipped weight %g beyond %g", v, r.Limit)
			}
		}
	}
	if l := m.Layers()[1]; math.Abs(float64(a[l.B])) <= 1.0/48 && math.Abs(float64(b[l.B]*10)) > 1.0/48 {
		t.Error("bias was clipped")
	}
	if _, err := NewMLP(Config{In: 0, Out: 1}); err == nil {
		t.Error("NewMLP accepted In = 0")
	}
	if _, err := NewMLP(Config{In: 1, Out: 1, Depth: 1}); err == nil {
		t.Error("NewMLP accepted Width = 0 with a hidden layer")
	}
}

// TestAsmMatchesPortable runs the whole float32 forward and VJP with the assembly
// kernels and with the portable Go ones and compares them.
func TestAsmMatchesPortable(t *testing.T) {
	if !asmAvailable {
		t.Skip("no assembly kernels on this CPU")
	}
	defer func(old bool) { useAsm = old }(useAsm)
	rng := rand.New(rand.NewPCG(12, 13))
	for _, cfg := range testConfigs {
		m := MustMLP(cfg)
		params := make([]float32, m.NumParams())
		Init(m, params, 21)
		const batch = 517
		x := randSlice[float32](rng, batch*cfg.In, 2)
		ay := randSlice[float32](rng, batch*cfg.Out, 1)
		var ys, axs, gs [2][]float32
		for i, asm := range []bool{false, true} {
			useAsm = asm
			net := NewNet[float32](m)
			ys[i] = make([]float32, batch*cfg.Out)
			net.Forward(params, x, ys[i])
			axs[i], gs[i] = make([]float32, len(x)), make([]float32, len(params))
			net.VJP(ay, axs[i], gs[i])
		}
		closeTo(t, fmt.Sprintf("%+v y", cfg), ys[1], to64(ys[0]), 2e-6)
		closeTo(t, fmt.Sprintf("%+v ax", cfg), axs[1], to64(axs[0]), 1e-5)
		var scale float64
		for _, v := range gs[0] {
			scale = max(scale, math.Abs(float64(v)))
		}
		for i := range gs[0] {
			if math.Abs(float64(gs[1][i]-gs[0][i])) > 1e-5*scale {
				t.Fatalf("%+v grad[%d]: asm %g, portable %g", cfg, i, gs[1][i], gs[0][i])
			}
		}
	}
}

// TestClipBoundIsOneOverFanOut holds ClipWeights to torchsde's example literally: each
// nn.Linear's weight is clamped to ±1/out_features. The MLP 3 → 5 → 5 → 2 has first
// and last layers whose fan-in and fan-out differ, so a bound of 1/in shows.
func TestClipBoundIsOneOverFanOut(t *testing.T) {
	m := MustMLP(Config{In: 3, Out: 2, Width: 5, Depth: 2, Hidden: LipSwish})
	// The shapes are read from the MLP; the bounds are written out.
	shapes := [][2]int{}
	for _, l := range m.Layers() {
		shapes = append(shapes, [2]int{l.In, l.Out})
	}
	want := map[[2]int]float32{{3, 5}: 1.0 / 5, {5, 5}: 1.0 / 5, {5, 2}: 1.0 / 2}
	p := make([]float32, m.NumParams())
	for i := range p {
		p[i] = 100
		if i%2 == 1 {
			p[i] = -100
		}
	}
	ClipWeights(m, p)
	for i, l := range m.Layers() {
		lim, ok := want[shapes[i]]
		if !ok {
			t.Fatalf("layer %d has shape %v, not one this test knows", i, shapes[i])
		}
		w := p[l.W : l.W+l.In*l.Out]
		if w[0] != lim || w[1] != -lim {
			t.Errorf("layer %d (%d → %d): weights clipped to %g, %g; want ±1/%d = ±%g", i, l.In, l.Out, w[0], w[1], l.Out, lim)
		}
		if b := p[l.B]; b != 100 && b != -100 {
			t.Errorf("layer %d: bias clipped to %g", i, b)
		}
	}
}
