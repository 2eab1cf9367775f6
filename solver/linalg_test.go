package solver

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestNoiseProductsAgainstFormulas holds the per-path products — including the
// unrolled m = 1 and m = 3 versions that the SDE-GAN's generator (noise 3) and scalar
// noise take — to the formulas written out here as plain loops over (path, i, j):
//
//	advance: y + h·f + α·Σⱼ g[i,j]·w[j]     prod: Σⱼ g[i,j]·w[j]
//	outerSet: α·a[i]·w[j]                  outer2: a[i]·u[j] + c[i]·v[j]
//	gT: adw[j] += α·Σᵢ g[i,j]·a[i]
//
// m = 2 and 4 run the generic loops, so every branch is held to the same oracle.
func TestNoiseProductsAgainstFormulas(t *testing.T) {
	const batch, d = 5, 4
	for _, m := range []int{1, 2, 3, 4} {
		t.Run(fmt.Sprintf("m=%d", m), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(m), 7))
			vec := func(n int) []float64 {
				v := make([]float64, n)
				for i := range v {
					v[i] = rng.NormFloat64()
				}
				return v
			}
			p := &problem[float64]{batch: batch, d: d, m: m}
			y, f, a, c := vec(batch*d), vec(batch*d), vec(batch*d), vec(batch*d)
			g, w, u := vec(batch*d*m), vec(batch*m), vec(batch*m)
			const h, alpha = 0.3, -0.7
			gij := func(b, i, j int) float64 { return g[(b*d+i)*m+j] }

			var wantAdv, wantProd, wantOuter, wantOuter2 []float64
			wantGT := vec(batch * m)
			gotGT := append([]float64(nil), wantGT...)
			for b := range batch {
				for i := range d {
					var s float64
					for j := range m {
						s += gij(b, i, j) * w[b*m+j]
					}
					wantAdv = append(wantAdv, y[b*d+i]+h*f[b*d+i]+alpha*s)
					wantProd = append(wantProd, s)
					for j := range m {
						wantOuter = append(wantOuter, alpha*a[b*d+i]*w[b*m+j])
						wantOuter2 = append(wantOuter2, a[b*d+i]*w[b*m+j]+c[b*d+i]*u[b*m+j])
					}
				}
				for j := range m {
					for i := range d {
						wantGT[b*m+j] += alpha * gij(b, i, j) * a[b*d+i]
					}
				}
			}
			gotAdv, gotProd := make([]float64, batch*d), make([]float64, batch*d)
			gotOuter, gotOuter2 := make([]float64, batch*d*m), make([]float64, batch*d*m)
			p.advance(gotAdv, y, f, g, w, h, alpha)
			p.prod(gotProd, g, w)
			p.outerSet(gotOuter, a, w, alpha)
			p.outer2(gotOuter2, a, w, c, u)
			p.gT(gotGT, g, a, alpha)
			for _, c := range []struct {
				name      string
				got, want []float64
			}{{"advance", gotAdv, wantAdv}, {"prod", gotProd, wantProd}, {"outerSet", gotOuter, wantOuter},
				{"outer2", gotOuter2, wantOuter2}, {"gT", gotGT, wantGT}} {
				for k := range c.want {
					if math.Abs(c.got[k]-c.want[k]) > 1e-14*(1+math.Abs(c.want[k])) {
						t.Errorf("%s[%d] = %.17g, want %.17g", c.name, k, c.got[k], c.want[k])
						break
					}
				}
			}
		})
	}
}
