package kernels

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gosde/gosde/sigkernel"
)

// sigkernel.cuh's per-pair code, on one thread in the harness, against package
// sigkernel: the same scheme in float64, so the kernel value and both paths' gradients
// agree to within sigRelTol of the largest magnitude of the Go value (only exp and the
// order of the gradient's sums differ).
const sigRelTol = 1e-13

func TestSigKernelMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	for _, c := range []struct {
		static         sigkernel.Static
		refine, l, dim int
	}{
		{sigkernel.Linear, 0, 2, 1}, {sigkernel.Linear, 0, 22, 2}, {sigkernel.Linear, 2, 9, 3},
		{sigkernel.RBF, 0, 2, 2}, {sigkernel.RBF, 0, 22, 3}, {sigkernel.RBF, 1, 13, 2}, {sigkernel.RBF, 5, 3, 2},
	} {
		t.Run(fmt.Sprintf("%v-r%d-L%d-d%d", c.static, c.refine, c.l, c.dim), func(t *testing.T) {
			opt := sigkernel.Options{Static: c.static, Refine: c.refine}
			if c.static == sigkernel.RBF {
				opt.Sigma2 = 0.7
			}
			x, y := make([]float64, c.l*c.dim), make([]float64, c.l*c.dim)
			for i := range x {
				x[i], y[i] = 0.6*rng.NormFloat64(), 0.6*rng.NormFloat64()
			}
			gx, gy := make([]float64, len(x)), make([]float64, len(y))
			k, err := sigkernel.KernelGrad(x, y, c.dim, opt, gx, gy)
			if err != nil {
				t.Fatal(err)
			}
			var req request
			req.i64(4, c.l, c.dim, c.refine, int(c.static))
			req.put(opt.Sigma2)
			req.put(x)
			req.put(y)
			out := run64(t, &req, 1+2*len(x))
			for _, v := range []struct {
				what      string
				got, want []float64
			}{{"k", out[:1], []float64{k}}, {"dk/dx", out[1 : 1+len(x)], gx}, {"dk/dy", out[1+len(x):], gy}} {
				var d, m float64
				for i := range v.want {
					d = max(d, math.Abs(v.got[i]-v.want[i]))
					m = max(m, math.Abs(v.want[i]))
				}
				t.Logf("%-40s %-8s rel. error %.2g", t.Name(), v.what, d/m)
				if !(d <= sigRelTol*m) {
					t.Errorf("%s: relative error %.3g > %g", v.what, d/m, sigRelTol)
				}
			}
		})
	}
}

// run64 is run for an answer of n float64 values.
func run64(t *testing.T, req *request, n int) []float64 {
	t.Helper()
	out := harnessOutput(t, req)
	if len(out) != 8*n {
		t.Fatalf("harness answered %d bytes, want %d", len(out), 8*n)
	}
	v := make([]float64, n)
	binary.Read(bytes.NewReader(out), binary.LittleEndian, v)
	return v
}
