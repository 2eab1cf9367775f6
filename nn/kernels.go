package nn

import "unsafe"

// useAsm selects the assembly kernels for float32; set at init where the CPU has them
// (AVX2 and FMA on amd64). Tests switch it off to compare with the portable kernels.
var useAsm = asmAvailable

// SIMD reports whether the float32 engine runs on the assembly kernels (amd64 with
// AVX2+FMA) rather than the portable Go ones.
func SIMD() bool { return useAsm }

const (
	gemmZero = 0 // accumulators start at zero
	gemmBias = 1 // … at the bias
	gemmAcc  = 2 // … at the current contents of out
	gemmMul  = 4 // multiply the result by mul before storing
)

// gemm computes, for rows r < 4·rowTiles and paths p < 16·pathTiles,
//
//	out[r*os+p] = init + Σ_{k<kin} w[(r/4*kin+k)*4 + r%4] · x[k*xs+p]   (then · mul[r*ms+p])
//
// with w in 4-row interleaved tiles.
func gemm[F Float](w, b, x []F, xs, kin int, out []F, os int, mul []F, ms int, rowTiles, pathTiles, mode int) {
	if rowTiles == 0 || pathTiles == 0 {
		return
	}
	if useAsm && is32[F]() {
		gemmAsm(f32(w), f32(b), f32(x), xs, kin, f32(out), os, f32(mul), ms, rowTiles, pathTiles, mode)
		return
	}
	n := pathTiles * 16
	// Portable: one row tile at a time, four accumulators per path held across k.
	for rt := 0; rt < rowTiles; rt++ {
		r0 := rt * 4
		o0, o1 := out[r0*os:r0*os+n], out[(r0+1)*os:(r0+1)*os+n]
		o2, o3 := out[(r0+2)*os:(r0+2)*os+n], out[(r0+3)*os:(r0+3)*os+n]
		wt := w[rt*kin*4 : (rt+1)*kin*4]
		var b0, b1, b2, b3 F
		if mode&^gemmMul == gemmBias {
			b0, b1, b2, b3 = b[r0], b[r0+1], b[r0+2], b[r0+3]
		}
		acc := mode&^gemmMul == gemmAcc
		for p := 0; p < n; p++ {
			a0, a1, a2, a3 := b0, b1, b2, b3
			if acc {
				a0, a1, a2, a3 = o0[p], o1[p], o2[p], o3[p]
			}
			xi := p
			for k := 0; k+3 < len(wt); k += 4 {
				xv := x[xi]
				a0 += wt[k] * xv
				a1 += wt[k+1] * xv
				a2 += wt[k+2] * xv
				a3 += wt[k+3] * xv
				xi += xs
			}
			if mode&gemmMul != 0 {
				a0 *= mul[r0*ms+p]
				a1 *= mul[(r0+1)*ms+p]
				a2 *= mul[(r0+2)*ms+p]
				a3 *= mul[(r0+3)*ms+p]
			}
			o0[p], o1[p], o2[p], o3[p] = a0, a1, a2, a3
		}
	}
}

// dw accumulates parameter cotangents: for row tiles rt, input pairs q and lanes
// p < 8·n8,
//
//	out[(rt*npairs+q)*8 + 2i + kk] += Σ_p dz[(4rt+i)*dzs + p] · rows[2q+kk][p].
func dw[F Float](dz []F, dzs, rowTiles int, rows [][]F, ptrs []uintptr, n8 int, out []F) {
	npairs := len(rows) / 2
	if useAsm && is32[F]() {
		for i, r := range rows {
			ptrs[i] = uintptr(unsafe.Pointer(unsafe.SliceData(r[:n8*8])))
		}
		dwAsm(f32(dz), dzs, rowTiles, ptrs, npairs, n8, f32(out))
		return
	}
	n := n8 * 8
	for rt := 0; rt < rowTiles; rt++ {
		for q := 0; q < npairs; q++ {
			o := out[(rt*npairs+q)*8 : (rt*npairs+q)*8+8]
			for i := 0; i < 4; i++ {
				d := dz[(4*rt+i)*dzs : (4*rt+i)*dzs+n]
				for kk := 0; kk < 2; kk++ {
					xr := rows[2*q+kk][:n]
					var acc F
					for p, dv := range d {
						acc += dv * xr[p]
					}
					o[2*i+kk] += acc
				}
			}
		}
	}
}

func applyAct[F Float](a Activation, z, d []F) {
	if a == Identity {
		if d != nil {
			for i := range z {
				d[i] = 1
			}
		}
		return
	}
	if is32[F]() {
		z32, d32 := f32(z), f32(d)
		if useAsm && a != Softplus {
			n8 := len(z32) &^ 7
			actAsm(a, z32[:n8], d32)
			z32 = z32[n8:]
			if d32 != nil {
				d32 = d32[n8:]
			}
		}
		actLoop(a, z32, d32, Activation.Eval32)
		return
	}
	actLoop(a, z, d, func(a Activation, x F) (F, F) {
		y, dy := a.Eval64(float64(x))
		return F(y), F(dy)
	})
}

// actLoop applies one activation with the switch hoisted out of the loop.
func actLoop[F Float](a Activation, z, d []F, eval func(Activation, F) (F, F)) {
	if d == nil {
		for i, v := range z {
			z[i], _ = eval(a, v)
		}
		return
	}
	d = d[:len(z)]
	for i, v := range z {
		z[i], d[i] = eval(a, v)
	}
}

func mulInPlace[F Float](dst, a []F) {
	if useAsm && is32[F]() {
		n8 := len(dst) &^ 7
		if n8 > 0 {
			mulAsm(f32(dst[:n8]), f32(a[:n8]))
		}
		dst, a = dst[n8:], a[n8:len(dst)]
	}
	a = a[:len(dst)]
	for i := range dst {
		dst[i] *= a[i]
	}
}

func addTo[F Float](dst, a []F) {
	a = a[:len(dst)]
	for i := range dst {
		dst[i] += a[i]
	}
}

func transpose[F Float](src []F, ss int, dst []F, ds int, nr, nc int, add bool) {
	r8, c8 := 0, 0
	if useAsm && is32[F]() {
		r8, c8 = nr&^7, nc&^7
		if r8 > 0 && c8 > 0 {
			transposeAsm(f32(src), ss, f32(dst), ds, r8/8, c8/8, add)
		} else {
			r8, c8 = 0, 0
		}
	}
	// Whatever the 8×8 blocks did not cover: columns past c8 for all rows, and rows past
	// r8 for the first c8 columns.
	transposeGo(src, ss, dst, ds, 0, nr, c8, nc, add)
	transposeGo(src, ss, dst, ds, r8, nr, 0, c8, add)
}

func transposeGo[F Float](src []F, ss int, dst []F, ds int, r0, r1, c0, c1 int, add bool) {
	if r0 >= r1 || c0 >= c1 {
		return
	}
	for r := r0; r < r1; r++ {
		row := src[r*ss+c0 : r*ss+c1]
		if add {
			for c, v := range row {
				dst[(c0+c)*ds+r] += v
			}
		} else {
			for c, v := range row {
				dst[(c0+c)*ds+r] = v
			}
		}
	}
}
