package cuda

import (
	"fmt"
	"unsafe"

	"github.com/gosde/gosde/nn"
)

// buffer is one allocation of a backend: a device address (GPU) or a host pointer
// (emulator), whichever the backend uses.
type buffer struct {
	dev  uintptr
	host unsafe.Pointer
	size int64 // bytes
}

// offset is b advanced by n float32 words (same allocation, so size is what is left).
func (b buffer) offset(n int) buffer {
	o := int64(4 * n)
	if b.host != nil {
		return buffer{host: unsafe.Add(b.host, o), size: b.size - o}
	}
	return buffer{dev: b.dev + uintptr(o), size: b.size - o}
}

func (b buffer) null() bool { return b.dev == 0 && b.host == nil }

// backend is what the engine needs of a device: memory, copies ordered with the
// kernels, and one typed launcher per kernel (see kernels/*.cu for each kernel's
// arguments). Calls are made from one goroutine at a time, inside do.
type backend interface {
	describe() string
	// do runs f where the backend's calls are valid (the GPU's context thread).
	do(f func() error) error
	alloc(bytes int64) (buffer, error)
	free(b buffer) error
	// upload copies from host memory; src may be reused when it returns.
	upload(dst buffer, src unsafe.Pointer, bytes int64) error
	// download copies to host memory after every launch before it, and waits.
	download(dst unsafe.Pointer, src buffer, bytes int64) error
	zero(b buffer, words int64) error
	close() error

	// multiprocessors is the device's streaming multiprocessor count (0: the
	// emulator), which sizes the launches.
	multiprocessors() int
	revheunForward(fd, theta, ws, y0, ts, hs, outidx, dw, ys buffer, B, n0, n1, N int64, pl pathLaunch) error
	revheunBackward(fd, theta, ws, ts, hs, outidx, dw, ys, cot, gtheta, adw, recon, ay0 buffer, B, n0, n1, N int64, pl pathLaunch) error
	// mlpForward and mlpVJP apply one MLP to count consecutive blocks of B paths;
	// mlpVJP writes the parameter cotangents of every path of every block (parameter
	// j of block i, path p at j·count·B + i·B + p) and needs tmp of 2·MAXW·count·B.
	mlpForward(md, theta, x, act, y buffer, count, B int64) error
	mlpVJP(md, theta, x, act, cot, ax, gtheta, tmp buffer, nparams, count, B int64) error
	ganControl(ts, yfake, yreal, xs buffer, T, C, B int64) error
	ganControlVJP(axs, ayfake buffer, T, C, B int64) error
	controlIncrements(xs, dw, interval, steps buffer, m, B, n0, n1 int64) error
	chainControl(adw, axs, first, steps buffer, T, m, B int64) error
	// sumRows sets (or, with accumulate, adds) out[j] = scale·Σ_p in[j·B + p]: the
	// deterministic reduction of per-path parameter cotangents.
	sumRows(in, out buffer, rows, B int64, scale float64, accumulate bool) error
	maxRows(in, out buffer, rows, B int64) error
	adadelta(p, g, sq, acc buffer, n int64, lr, rho, eps, wd float64) error
	swa(avg, p buffer, n, count int64) error
	clip(x buffer, n int64, lim float64) error
	// sigPairs, sigGrad and sigValues are the signature-kernel scorer's kernels
	// (kernels/sigkernel_*.cu), in float64: the kernel value of every pair and the
	// per-pair gradients, their sum per generated path, and the values' sums by kind.
	sigPairs(paths, pairs, vals, pg, ws buffer, a sigArgs, sp sigPlan) error
	sigGrad(pg, off, ent, grad buffer, M, LD int64) error
	sigValues(vals, out buffer, Pw, Pc, Pr int64) error
}

// upload copies s into b, ordered before later launches.
func upload[T int32 | float32 | float64](be backend, b buffer, s []T) error {
	if len(s) == 0 {
		return nil
	}
	n := int64(len(s)) * int64(unsafe.Sizeof(s[0]))
	if n > b.size {
		return fmt.Errorf("cuda: internal error: uploading %d bytes into a buffer of %d", n, b.size)
	}
	return be.upload(b, unsafe.Pointer(unsafe.SliceData(s)), n)
}

// download copies len(s) values from b into s, after every earlier launch.
func download[T int32 | float32 | float64](be backend, s []T, b buffer) error {
	if len(s) == 0 {
		return nil
	}
	n := int64(len(s)) * int64(unsafe.Sizeof(s[0]))
	if n > b.size {
		return fmt.Errorf("cuda: internal error: downloading %d bytes from a buffer of %d", n, b.size)
	}
	return be.download(unsafe.Pointer(unsafe.SliceData(s)), b, n)
}

// toFeatureMajor writes path-major src (B rows of w values) into dst in the kernels'
// feature-major layout (value k of path p at k·B + p) and returns dst.
func toFeatureMajor(dst, src []float32, B, w int) []float32 {
	nn.Transpose(src, w, dst, B, B, w, false)
	return dst
}

// fromFeatureMajor is toFeatureMajor's inverse.
func fromFeatureMajor(dst, src []float32, B, w int) {
	nn.Transpose(src, B, dst, w, w, B, false)
}
