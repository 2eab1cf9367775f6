package sigkernel

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// Paths is a set of N paths of Len points of dimension Dim, path-major and row-major:
// point t of path i is X[(i·Len+t)·Dim : (i·Len+t+1)·Dim].
type Paths struct {
	X           []float64
	N, Len, Dim int
}

func (p Paths) path(i int) []float64 { return p.X[i*p.Len*p.Dim : (i+1)*p.Len*p.Dim] }

// Check reports a malformed set (wrapping ErrInput): fewer than minN paths, too
// short paths, a length that does not match, or a value that is not finite.
func (p Paths) Check(name string, minN int) error {
	switch {
	case p.N < minN:
		return fmt.Errorf("%w: %s has %d paths, need at least %d", ErrInput, name, p.N, minN)
	case p.Len < 2 || p.Dim < 1:
		return fmt.Errorf("%w: %s has paths of %d points of dimension %d, need at least 2 points of dimension ≥ 1", ErrInput, name, p.Len, p.Dim)
	case len(p.X) != p.N*p.Len*p.Dim:
		return fmt.Errorf("%w: %s holds %d values, %d paths of %d points of dimension %d need %d", ErrInput, name, len(p.X), p.N, p.Len, p.Dim, p.N*p.Len*p.Dim)
	}
	for i, v := range p.X {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			d := p.Len * p.Dim
			return fmt.Errorf("%w: %s path %d has %v at point %d, coordinate %d", ErrInput, name, i/d, v, i%d/p.Dim, i%p.Dim)
		}
	}
	return nil
}

// blocks is the number of fixed blocks n rows are split into: it depends on n only, so
// that sums (made per block, then over blocks in order) do not depend on GOMAXPROCS.
func blocks(n int) int { return min(n, 16) }

// parallel runs fn(b) for b = 0…nb−1 on up to GOMAXPROCS goroutines.
func parallel(nb int, fn func(b int)) {
	workers := min(nb, runtime.GOMAXPROCS(0))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				b := int(next.Add(1)) - 1
				if b >= nb {
					return
				}
				fn(b)
			}
		}()
	}
	wg.Wait()
}

// Gram returns the X.N × Y.N matrix k(Xᵢ, Yⱼ), row-major. The paths of X and Y may have
// different lengths but must share their dimension.
func Gram(x, y Paths, opt Options) ([]float64, error) {
	if err := opt.Check(); err != nil {
		return nil, err
	}
	if err := x.Check("x", 1); err != nil {
		return nil, err
	}
	if err := y.Check("y", 1); err != nil {
		return nil, err
	}
	if x.Dim != y.Dim {
		return nil, fmt.Errorf("%w: paths of dimension %d and %d", ErrInput, x.Dim, y.Dim)
	}
	k := make([]float64, x.N*y.N)
	nb := blocks(x.N)
	parallel(nb, func(b int) {
		w := newWork(x.Dim, opt)
		for i := b; i < x.N; i += nb {
			for j := range y.N {
				k[i*y.N+j] = w.value(x.path(i), x.Len, y.path(j), y.Len)
			}
		}
	})
	return k, nil
}

// Score is the signature-kernel scoring rule of a batch of generated paths against a
// batch of real ones.
type Score struct {
	// Within is the unbiased mean of k(Xᵢ, Xⱼ) over generated pairs i ≠ j, Cross the
	// mean of k(Xᵢ, yⱼ) over all generated–real pairs.
	Within, Cross float64
	// RealWithin is the unbiased mean of k(yᵢ, yⱼ) over real pairs i ≠ j when asked for
	// (NaN otherwise): the constant that makes Value an unbiased squared MMD.
	RealWithin float64
}

// Value is the scoring rule's estimate E k(X, X′) − 2 E k(X, y): what training
// minimises.
func (s Score) Value() float64 { return s.Within - 2*s.Cross }

// MMD2 is Value plus the real set's constant: the unbiased estimate of the squared MMD
// between the generated and the real law for the signature kernel (NaN without
// RealWithin).
func (s Score) MMD2() float64 { return s.Value() + s.RealWithin }

// ScoreRule computes the scoring rule of generated paths gen (at least 2) against real
// paths real (at least 1, of the same length and dimension), with the real set's
// constant when realWithin is set (at least 2 real paths then), and, when grad is not
// nil (len(gen.X) values), writes ∂Value/∂gen.X into it. The gradient is exact for the
// discrete kernel.
func ScoreRule(gen, real Paths, opt Options, realWithin bool, grad []float64) (Score, error) {
	s := Score{RealWithin: math.NaN()}
	if err := opt.Check(); err != nil {
		return s, err
	}
	if err := gen.Check("generated paths", 2); err != nil {
		return s, err
	}
	minReal := 1
	if realWithin {
		minReal = 2
	}
	if err := real.Check("real paths", minReal); err != nil {
		return s, err
	}
	if gen.Len != real.Len || gen.Dim != real.Dim {
		return s, fmt.Errorf("%w: generated paths of %d points of dimension %d, real of %d of dimension %d", ErrInput, gen.Len, gen.Dim, real.Len, real.Dim)
	}
	if grad != nil && len(grad) != len(gen.X) {
		return s, fmt.Errorf("%w: gradient buffer of %d values for %d", ErrInput, len(grad), len(gen.X))
	}
	m, n := gen.N, real.N
	wWithin := 2 / float64(m*(m-1)) // each unordered pair stands for two ordered ones
	wCross := 1 / float64(m*n)

	nb := blocks(m)
	within := make([]float64, nb)
	cross := make([]float64, nb)
	var acc [][]float64
	if grad != nil {
		acc = make([][]float64, nb)
	}
	parallel(nb, func(b int) {
		w := newWork(gen.Dim, opt)
		var g []float64
		if grad != nil {
			g = make([]float64, len(gen.X))
			acc[b] = g
		}
		pathGrad := func(i int) []float64 {
			if g == nil {
				return nil
			}
			return g[i*gen.Len*gen.Dim : (i+1)*gen.Len*gen.Dim]
		}
		for i := b; i < m; i += nb {
			xi := gen.path(i)
			for j := i + 1; j < m; j++ {
				if g == nil {
					within[b] += w.value(xi, gen.Len, gen.path(j), gen.Len)
				} else {
					within[b] += w.grad(xi, gen.Len, gen.path(j), gen.Len, wWithin, pathGrad(i), pathGrad(j))
				}
			}
			for j := range n {
				if g == nil {
					cross[b] += w.value(xi, gen.Len, real.path(j), real.Len)
				} else {
					cross[b] += w.grad(xi, gen.Len, real.path(j), real.Len, -2*wCross, pathGrad(i), nil)
				}
			}
		}
	})
	for b := range nb {
		s.Within += within[b]
		s.Cross += cross[b]
	}
	s.Within *= wWithin
	s.Cross *= wCross
	if grad != nil {
		clear(grad)
		for _, g := range acc {
			for i, v := range g {
				grad[i] += v
			}
		}
	}
	if realWithin {
		nr := blocks(n)
		rw := make([]float64, nr)
		parallel(nr, func(b int) {
			w := newWork(real.Dim, opt)
			for i := b; i < n; i += nr {
				for j := i + 1; j < n; j++ {
					rw[b] += w.value(real.path(i), real.Len, real.path(j), real.Len)
				}
			}
		})
		s.RealWithin = 0
		for _, v := range rw {
			s.RealWithin += v
		}
		s.RealWithin *= 2 / float64(n*(n-1))
	}
	return s, nil
}
