// Package sigkernel computes the signature kernel of two piecewise-linear paths by its
// Goursat PDE (Salvi, Cass, Foster, Lyons & Yang 2021), its exact gradient with respect
// to every point of either path, Gram matrices of many paths, and the signature-kernel
// scoring rule of Issa, Horvath, Lemercier & Salvi (NeurIPS 2023) with which a neural SDE
// generator is trained without a discriminator.
//
// The kernel of x: [0, S] → ℝᵈ and y: [0, T] → ℝᵈ is k(x, y) = u(S, T) where
// ∂²u/∂s∂t = ⟨ẋ(s), ẏ(t)⟩ u and u = 1 on both axes. On the grid of the two paths' points
// the increment inner product is constant on each cell (i, j): ⟨Δxᵢ, Δyⱼ⟩ for the linear
// static kernel, κ(xᵢ₊₁, yⱼ₊₁) − κ(xᵢ₊₁, yⱼ) − κ(xᵢ, yⱼ₊₁) + κ(xᵢ, yⱼ) for a static
// kernel κ (RBF). Each cell is solved explicitly from its three known corners by the
// second-order scheme of the sigkernel library,
//
//	u₁₁ = (u₁₀ + u₀₁)(1 + p/2 + p²/12) − u₀₀(1 − p²/12),   p the cell's inner product,
//
// and dyadic refinement (Options.Refine) splits every segment of both paths into 2^r
// pieces first, which makes the scheme converge to the PDE's solution (the error falls
// about fourfold per level). Gradients are those of this discrete scheme, by
// backpropagation through the sweep, so they are exact for what is computed.
//
// The kernel is computed in float64; results are bit-identical whatever GOMAXPROCS is
// (every pair is computed by one goroutine and sums run in a fixed order).
package sigkernel

import (
	"errors"
	"fmt"
	"math"
)

// Static is the static kernel on points that the signature kernel lifts to paths.
type Static int

const (
	// Linear is κ(a, b) = ⟨a, b⟩: the signature kernel is then the inner product of the
	// paths' full signatures.
	Linear Static = iota
	// RBF is κ(a, b) = exp(−|a − b|²/(2σ²)) with σ² = Options.Sigma2.
	RBF
)

// String names the static kernel as the command line does.
func (s Static) String() string {
	switch s {
	case Linear:
		return "linear"
	case RBF:
		return "rbf"
	}
	return fmt.Sprintf("Static(%d)", int(s))
}

// ParseStatic maps "linear" and "rbf" to their Static.
func ParseStatic(name string) (Static, error) {
	switch name {
	case "linear":
		return Linear, nil
	case "rbf":
		return RBF, nil
	}
	return 0, fmt.Errorf("unknown static kernel %q: choose linear or rbf", name)
}

// MaxRefine bounds Options.Refine: each level multiplies the grid's cells by four.
const MaxRefine = 8

// Options configures the kernel.
type Options struct {
	Static Static
	// Sigma2 is the RBF static kernel's σ² (unused by Linear); it must be positive.
	Sigma2 float64
	// Refine is the dyadic refinement level r ≥ 0: every segment of both paths is split
	// into 2^r equal pieces before solving.
	Refine int
}

// ErrInput is wrapped by the errors of malformed arguments.
var ErrInput = errors.New("sigkernel: invalid input")

// Check reports an invalid option (wrapping ErrInput).
func (o Options) Check() error {
	switch {
	case o.Static != Linear && o.Static != RBF:
		return fmt.Errorf("%w: unknown static kernel %d", ErrInput, int(o.Static))
	case o.Static == RBF && (!(o.Sigma2 > 0) || math.IsInf(o.Sigma2, 0)):
		return fmt.Errorf("%w: the RBF static kernel needs a finite σ² > 0, got %v", ErrInput, o.Sigma2)
	case o.Refine < 0 || o.Refine > MaxRefine:
		return fmt.Errorf("%w: refinement level %d, need 0…%d", ErrInput, o.Refine, MaxRefine)
	}
	return nil
}

// checkPath validates a path of len(x)/d points of dimension d.
func checkPath(name string, x []float64, d int) (int, error) {
	if d < 1 {
		return 0, fmt.Errorf("%w: dimension %d", ErrInput, d)
	}
	if len(x)%d != 0 || len(x)/d < 2 {
		return 0, fmt.Errorf("%w: %s has %d values, need at least 2 points of dimension %d", ErrInput, name, len(x), d)
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("%w: %s has %v at point %d, coordinate %d", ErrInput, name, v, i/d, i%d)
		}
	}
	return len(x) / d, nil
}

// Kernel returns k(x, y) for paths x and y given as points of dimension d, row-major
// (point i is x[i·d : (i+1)·d]), each of at least two points.
func Kernel(x, y []float64, d int, opt Options) (float64, error) {
	return KernelGrad(x, y, d, opt, nil, nil)
}

// KernelGrad returns k(x, y) and adds ∂k/∂x into gx and ∂k/∂y into gy (each nil or as
// long as its path).
func KernelGrad(x, y []float64, d int, opt Options, gx, gy []float64) (float64, error) {
	if err := opt.Check(); err != nil {
		return math.NaN(), err
	}
	lx, err := checkPath("x", x, d)
	if err != nil {
		return math.NaN(), err
	}
	ly, err := checkPath("y", y, d)
	if err != nil {
		return math.NaN(), err
	}
	if (gx != nil && len(gx) != len(x)) || (gy != nil && len(gy) != len(y)) {
		return math.NaN(), fmt.Errorf("%w: gradient buffers of %d and %d values for paths of %d and %d", ErrInput, len(gx), len(gy), len(x), len(y))
	}
	w := newWork(d, opt)
	if gx == nil && gy == nil {
		return w.value(x, lx, y, ly), nil
	}
	return w.grad(x, lx, y, ly, 1, gx, gy), nil
}

// work holds one goroutine's buffers for solving pairs of paths of dimension d.
type work struct {
	d   int
	opt Options
	// Refined paths (points), their gradients, the static Gram grid, the solution grid,
	// the cells' inner products, and the adjoints of the solution and of the cells.
	rx, ry, grx, gry []float64
	g, u, p, a, dp   []float64
	dg               []float64
}

func newWork(d int, opt Options) *work { return &work{d: d, opt: opt} }

func grow(b []float64, n int) []float64 {
	if cap(b) < n {
		return make([]float64, n)
	}
	return b[:n]
}

// refine returns x with every segment split into 2^Refine equal pieces (x itself when
// Refine is 0), in buf.
func (w *work) refine(x []float64, l int, buf []float64) ([]float64, int) {
	if w.opt.Refine == 0 {
		return x, l
	}
	q, d := 1<<w.opt.Refine, w.d
	n := (l-1)*q + 1
	r := grow(buf, n*d)
	for i := range l - 1 {
		a, b := x[i*d:(i+1)*d], x[(i+1)*d:(i+2)*d]
		for s := range q {
			t := float64(s) / float64(q)
			dst := r[(i*q+s)*d:]
			for c := range d {
				dst[c] = a[c] + t*(b[c]-a[c])
			}
		}
	}
	copy(r[(n-1)*d:], x[(l-1)*d:])
	return r, n
}

// unrefine adds the gradient gr of a refined path into the gradient gx of the path it
// was refined from (the transpose of refine's linear map).
func (w *work) unrefine(gr []float64, l int, gx []float64) {
	q, d := 1<<w.opt.Refine, w.d
	n := (l-1)*q + 1
	for i := range l - 1 {
		ga, gb := gx[i*d:(i+1)*d], gx[(i+1)*d:(i+2)*d]
		for s := range q {
			t := float64(s) / float64(q)
			src := gr[(i*q+s)*d:]
			for c := range d {
				ga[c] += (1 - t) * src[c]
				gb[c] += t * src[c]
			}
		}
	}
	for c := range d {
		gx[(l-1)*d+c] += gr[(n-1)*d+c]
	}
}

// cells fills w.p with the (nx−1)×(ny−1) cells' inner products of refined paths x, y
// (and w.g with the static Gram grid for RBF).
func (w *work) cells(x []float64, nx int, y []float64, ny int) {
	d := w.d
	w.p = grow(w.p, (nx-1)*(ny-1))
	p := w.p
	if w.opt.Static == Linear {
		for i := range nx - 1 {
			x0, x1 := x[i*d:(i+1)*d], x[(i+1)*d:(i+2)*d]
			row := p[i*(ny-1) : (i+1)*(ny-1)]
			for j := range ny - 1 {
				y0, y1 := y[j*d:(j+1)*d], y[(j+1)*d:(j+2)*d]
				var s float64
				for c := range d {
					s += (x1[c] - x0[c]) * (y1[c] - y0[c])
				}
				row[j] = s
			}
		}
		return
	}
	w.g = grow(w.g, nx*ny)
	g := w.g
	inv := -0.5 / w.opt.Sigma2
	for i := range nx {
		xi := x[i*d : (i+1)*d]
		for j := range ny {
			yj := y[j*d : (j+1)*d]
			var s float64
			for c := range d {
				e := xi[c] - yj[c]
				s += e * e
			}
			g[i*ny+j] = math.Exp(inv * s)
		}
	}
	for i := range nx - 1 {
		for j := range ny - 1 {
			// Grouped so that swapping the paths gives the same bits.
			p[i*(ny-1)+j] = (g[(i+1)*ny+j+1] + g[i*ny+j]) - (g[(i+1)*ny+j] + g[i*ny+j+1])
		}
	}
}

// sweep solves the grid: w.u[i·ny+j] is the solution at point (i, j); it returns the
// last. keep says whether the whole grid is kept (for the backward sweep) or only two
// rows.
func (w *work) sweep(nx, ny int, keep bool) float64 {
	p := w.p
	if !keep {
		w.u = grow(w.u, 2*ny)
		prev, cur := w.u[:ny], w.u[ny:]
		for j := range prev {
			prev[j] = 1
		}
		for i := range nx - 1 {
			cur[0] = 1
			row := p[i*(ny-1) : (i+1)*(ny-1)]
			for j, pc := range row {
				p2 := pc * pc
				cur[j+1] = (cur[j]+prev[j+1])*(1+0.5*pc+p2/12) - prev[j]*(1-p2/12)
			}
			prev, cur = cur, prev
		}
		return prev[ny-1]
	}
	w.u = grow(w.u, nx*ny)
	u := w.u
	for j := range ny {
		u[j] = 1
	}
	for i := range nx - 1 {
		cur, prev := u[(i+1)*ny:(i+2)*ny], u[i*ny:(i+1)*ny]
		cur[0] = 1
		row := p[i*(ny-1) : (i+1)*(ny-1)]
		for j, pc := range row {
			p2 := pc * pc
			cur[j+1] = (cur[j]+prev[j+1])*(1+0.5*pc+p2/12) - prev[j]*(1-p2/12)
		}
	}
	return u[nx*ny-1]
}

// value returns k(x, y) for paths of lx and ly points.
func (w *work) value(x []float64, lx int, y []float64, ly int) float64 {
	rx, nx, ry, ny := w.prepare(x, lx, y, ly)
	w.cells(rx, nx, ry, ny)
	return w.sweep(nx, ny, false)
}

// prepare refines both paths (when asked) into the work's buffers.
func (w *work) prepare(x []float64, lx int, y []float64, ly int) (rx []float64, nx int, ry []float64, ny int) {
	if w.opt.Refine == 0 {
		return x, lx, y, ly
	}
	w.rx, nx = w.refine(x, lx, w.rx)
	w.ry, ny = w.refine(y, ly, w.ry)
	return w.rx, nx, w.ry, ny
}

// grad returns k(x, y) and adds scale·∂k/∂x into gx and scale·∂k/∂y into gy (either
// may be nil).
func (w *work) grad(x []float64, lx int, y []float64, ly int, scale float64, gx, gy []float64) float64 {
	rx, nx, ry, ny := w.prepare(x, lx, y, ly)
	w.cells(rx, nx, ry, ny)
	k := w.sweep(nx, ny, true)

	// Backward sweep: a is ∂k/∂u, dp is ∂k/∂p, each cell visited after every cell that
	// reads its top-right corner.
	u, p := w.u, w.p
	w.a = grow(w.a, nx*ny)
	a := w.a
	clear(a)
	a[nx*ny-1] = scale
	w.dp = grow(w.dp, (nx-1)*(ny-1))
	dp := w.dp
	for i := nx - 2; i >= 0; i-- {
		for j := ny - 2; j >= 0; j-- {
			c := a[(i+1)*ny+j+1]
			pc := p[i*(ny-1)+j]
			u10, u01, u00 := u[(i+1)*ny+j], u[i*ny+j+1], u[i*ny+j]
			ca := c * (1 + 0.5*pc + pc*pc/12)
			a[(i+1)*ny+j] += ca
			a[i*ny+j+1] += ca
			a[i*ny+j] -= c * (1 - pc*pc/12)
			dp[i*(ny-1)+j] = c * ((u10+u01)*(0.5+pc/6) + u00*pc/6)
		}
	}

	// From the cells' inner products to the (refined) points.
	d := w.d
	grx, gry := gx, gy
	if w.opt.Refine > 0 {
		w.grx = grow(w.grx, nx*d)
		w.gry = grow(w.gry, ny*d)
		clear(w.grx)
		clear(w.gry)
		grx, gry = w.grx, w.gry
		if gx == nil {
			grx = nil
		}
		if gy == nil {
			gry = nil
		}
	}
	if w.opt.Static == Linear {
		w.linearPointGrad(rx, nx, ry, ny, grx, gry)
	} else {
		w.rbfPointGrad(rx, nx, ry, ny, grx, gry)
	}
	if w.opt.Refine > 0 {
		if gx != nil {
			w.unrefine(grx, lx, gx)
		}
		if gy != nil {
			w.unrefine(gry, ly, gy)
		}
	}
	return k
}

// linearPointGrad adds ∂k/∂x and ∂k/∂y from ∂k/∂p for p = ⟨Δxᵢ, Δyⱼ⟩.
func (w *work) linearPointGrad(x []float64, nx int, y []float64, ny int, gx, gy []float64) {
	d, dp := w.d, w.dp
	for i := range nx - 1 {
		row := dp[i*(ny-1) : (i+1)*(ny-1)]
		x0, x1 := x[i*d:(i+1)*d], x[(i+1)*d:(i+2)*d]
		for j, c := range row {
			if c == 0 {
				continue
			}
			y0, y1 := y[j*d:(j+1)*d], y[(j+1)*d:(j+2)*d]
			for k := range d {
				if gx != nil {
					dy := c * (y1[k] - y0[k])
					gx[(i+1)*d+k] += dy
					gx[i*d+k] -= dy
				}
				if gy != nil {
					dx := c * (x1[k] - x0[k])
					gy[(j+1)*d+k] += dx
					gy[j*d+k] -= dx
				}
			}
		}
	}
}

// rbfPointGrad adds ∂k/∂x and ∂k/∂y from ∂k/∂p through the static Gram grid.
func (w *work) rbfPointGrad(x []float64, nx int, y []float64, ny int, gx, gy []float64) {
	d, dp, g := w.d, w.dp, w.g
	w.dg = grow(w.dg, nx*ny)
	dg := w.dg
	clear(dg)
	for i := range nx - 1 {
		for j := range ny - 1 {
			c := dp[i*(ny-1)+j]
			dg[(i+1)*ny+j+1] += c
			dg[(i+1)*ny+j] -= c
			dg[i*ny+j+1] -= c
			dg[i*ny+j] += c
		}
	}
	inv := 1 / w.opt.Sigma2
	for i := range nx {
		xi := x[i*d : (i+1)*d]
		for j := range ny {
			// ∂κ(xᵢ, yⱼ)/∂xᵢ = κ·(yⱼ − xᵢ)/σ², and the opposite for yⱼ.
			c := dg[i*ny+j] * g[i*ny+j] * inv
			if c == 0 {
				continue
			}
			yj := y[j*d : (j+1)*d]
			for k := range d {
				e := c * (yj[k] - xi[k])
				if gx != nil {
					gx[i*d+k] += e
				}
				if gy != nil {
					gy[j*d+k] -= e
				}
			}
		}
	}
}
