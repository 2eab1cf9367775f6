//go:build amd64 && !purego

package nn

import "os"

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
func xgetbv() (eax, edx uint32)

//go:noescape
func gemmF32(w, b, x *float32, xs, kin int, out *float32, os int, mul *float32, ms, rowTiles, pathTiles, flags int)

//go:noescape
func dwF32(dz *float32, dzs, rowTiles int, xrows *uintptr, npairs, n8 int, out *float32)

//go:noescape
func lipswishF32(z, d *float32, n int)

//go:noescape
func sigmoidF32(z, d *float32, n int)

//go:noescape
func tanhF32(z, d *float32, n int)

//go:noescape
func reluF32(z, d *float32, n int)

//go:noescape
func transposeF32(src *float32, ss int, dst *float32, ds int, nbr, nbc int, add int)

//go:noescape
func mulF32(dst, a *float32, n int)

// asmAvailable: AVX2 and FMA present and enabled by the OS (YMM state in XCR0).
// GOSDE_NOASM=1 forces the portable kernels.
var asmAvailable = detectAVX2FMA() && os.Getenv("GOSDE_NOASM") == ""

func detectAVX2FMA() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, c1, _ := cpuid(1, 0)
	const (
		fma     = 1 << 12
		osxsave = 1 << 27
		avx     = 1 << 28
	)
	if c1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 {
		return false
	}
	_, b7, _, _ := cpuid(7, 0)
	return b7&(1<<5) != 0 // AVX2
}

func p32(s []float32) *float32 {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}

func gemmAsm(w, b, x []float32, xs, kin int, out []float32, os int, mul []float32, ms, rowTiles, pathTiles, mode int) {
	gemmF32(p32(w), p32(b), p32(x), xs, kin, p32(out), os, p32(mul), ms, rowTiles, pathTiles, mode)
}

func dwAsm(dz []float32, dzs, rowTiles int, ptrs []uintptr, npairs, n8 int, out []float32) {
	dwF32(p32(dz), dzs, rowTiles, &ptrs[0], npairs, n8, p32(out))
}

// actAsm applies a (not Identity or Softplus) to z (length a multiple of 8), writing the
// derivative into d when d is not nil.
func actAsm(a Activation, z, d []float32) {
	if len(z) == 0 {
		return
	}
	var dp *float32
	if d != nil {
		dp = &d[:len(z)][0]
	}
	switch a {
	case LipSwish:
		lipswishF32(&z[0], dp, len(z))
	case Sigmoid:
		sigmoidF32(&z[0], dp, len(z))
	case Tanh:
		tanhF32(&z[0], dp, len(z))
	case ReLU:
		reluF32(&z[0], dp, len(z))
	default:
		panic("nn: actAsm: unsupported activation")
	}
}

func transposeAsm(src []float32, ss int, dst []float32, ds int, nbr, nbc int, add bool) {
	a := 0
	if add {
		a = 1
	}
	transposeF32(&src[0], ss, &dst[0], ds, nbr, nbc, a)
}

func mulAsm(dst, a []float32) {
	mulF32(&dst[0], &a[:len(dst)][0], len(dst))
}
