//go:build !amd64 || purego

package nn

const asmAvailable = false

func gemmAsm(w, b, x []float32, xs, kin int, out []float32, os int, mul []float32, ms, rowTiles, pathTiles, mode int) {
	panic("nn: no assembly kernels")
}

func dwAsm(dz []float32, dzs, rowTiles int, ptrs []uintptr, npairs, n8 int, out []float32) {
	panic("nn: no assembly kernels")
}

func actAsm(a Activation, z, d []float32) { panic("nn: no assembly kernels") }

func transposeAsm(src []float32, ss int, dst []float32, ds int, nbr, nbc int, add bool) {
	panic("nn: no assembly kernels")
}

func mulAsm(dst, a []float32) { panic("nn: no assembly kernels") }
