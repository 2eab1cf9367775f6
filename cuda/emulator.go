//go:build cgo

package cuda

// #cgo CXXFLAGS: -O2 -std=c++17 -I${SRCDIR}/../kernels
// #include <stdlib.h>
// #include <string.h>
// #include "emulator.h"
import "C"

import (
	"fmt"
	"unsafe"
)

// emulator is the backend that runs the kernels' bodies on the CPU (emulator.cc), in
// C memory of its own: a stand-in device for testing everything of the engine but the
// CUDA calls, on machines without a GPU. It is slow (one core, no SIMD across paths).
type emulator struct{ live int64 }

var _ backend = (*emulator)(nil)

// OpenEmulator returns the GPU engine on the CPU emulator.
func OpenEmulator() *Engine { return &Engine{be: &emulator{}} }

// emulatorKernelsSHA256 is the SHA-256 of the kernel sources the emulator was compiled
// from (cuda/kernels_sha.h, written by scripts/gen-ptx.sh).
func emulatorKernelsSHA256() string { return C.GoString(C.emu_kernels_sha256()) }

func (*emulator) describe() string        { return "gpu emulator (kernel bodies on the CPU)" }
func (*emulator) do(f func() error) error { return f() }

func (e *emulator) alloc(n int64) (buffer, error) {
	p := C.calloc(1, C.size_t(n))
	if p == nil {
		return buffer{}, fmt.Errorf("cuda: emulator: out of memory allocating %d bytes", n)
	}
	e.live += n
	return buffer{host: p, size: n}, nil
}

func (e *emulator) free(b buffer) error {
	C.free(b.host)
	e.live -= b.size
	return nil
}

func (*emulator) upload(dst buffer, src unsafe.Pointer, n int64) error {
	C.memcpy(dst.host, src, C.size_t(n))
	return nil
}

func (*emulator) download(dst unsafe.Pointer, src buffer, n int64) error {
	C.memcpy(dst, src.host, C.size_t(n))
	return nil
}

func (*emulator) zero(b buffer, words int64) error {
	C.memset(b.host, 0, C.size_t(4*words))
	return nil
}

func (e *emulator) close() error {
	if e.live != 0 {
		return fmt.Errorf("cuda: emulator: %d bytes still allocated at close (a solver was not closed)", e.live)
	}
	return nil
}

func fp(b buffer) *C.float  { return (*C.float)(b.host) }
func ip(b buffer) *C.int    { return (*C.int)(b.host) }
func ll(n int64) C.longlong { return C.longlong(n) }
func bl(b bool) C.longlong {
	if b {
		return 1
	}
	return 0
}

func dp(b buffer) *C.double { return (*C.double)(b.host) }

func (*emulator) multiprocessors() int { return 0 }

func (*emulator) revheunForward(fd, theta, ws, y0, ts, hs, outidx, dw, ys buffer, B, n0, n1, N int64, pl pathLaunch) error {
	C.emu_revheun_forward(ip(fd), fp(theta), fp(ws), fp(y0), fp(ts), fp(hs), ip(outidx), fp(dw), fp(ys), ll(B), ll(n0), ll(n1), ll(N),
		ll(int64(pl.lanes)), ll(int64(pl.threads)), bl(pl.stageWS))
	return nil
}

func (*emulator) revheunBackward(fd, theta, ws, ts, hs, outidx, dw, ys, cot, gtheta, adw, recon, ay0 buffer, B, n0, n1, N int64, pl pathLaunch) error {
	C.emu_revheun_backward(ip(fd), fp(theta), fp(ws), fp(ts), fp(hs), ip(outidx), fp(dw), fp(ys), fp(cot), fp(gtheta),
		fp(adw), fp(recon), fp(ay0), ll(B), ll(n0), ll(n1), ll(N), ll(int64(pl.lanes)), ll(int64(pl.threads)), bl(pl.stageWS), bl(pl.stageG))
	return nil
}

// setLaneOrder makes the emulator run a path's lanes in reverse order at every
// barrier (tests run both orders: each catches a different missing barrier).
func setLaneOrder(reverse bool) { C.emu_set_lane_order(bl(reverse)) }

func (*emulator) mlpForward(md, theta, x, act, y buffer, count, B int64) error {
	C.emu_mlp_forward(ip(md), fp(theta), fp(x), fp(act), fp(y), ll(count), ll(B))
	return nil
}

func (*emulator) mlpVJP(md, theta, x, act, cot, ax, gtheta, tmp buffer, nparams, count, B int64) error {
	C.emu_mlp_vjp(ip(md), fp(theta), fp(x), fp(act), fp(cot), fp(ax), fp(gtheta), fp(tmp), ll(nparams), ll(count), ll(B))
	return nil
}

func (*emulator) ganControl(ts, yfake, yreal, xs buffer, T, Ch, B int64) error {
	C.emu_gan_control(fp(ts), fp(yfake), fp(yreal), fp(xs), ll(T), ll(Ch), ll(B))
	return nil
}

func (*emulator) ganControlVJP(axs, ayfake buffer, T, Ch, B int64) error {
	C.emu_gan_control_vjp(fp(axs), fp(ayfake), ll(T), ll(Ch), ll(B))
	return nil
}

func (*emulator) controlIncrements(xs, dw, interval, steps buffer, m, B, n0, n1 int64) error {
	C.emu_control_increments(fp(xs), fp(dw), ip(interval), ip(steps), ll(m), ll(B), ll(n0), ll(n1))
	return nil
}

func (*emulator) chainControl(adw, axs, first, steps buffer, T, m, B int64) error {
	C.emu_chain_control(fp(adw), fp(axs), ip(first), ip(steps), ll(T), ll(m), ll(B))
	return nil
}

func (*emulator) sumRows(in, out buffer, rows, B int64, scale float64, accumulate bool) error {
	acc := 0
	if accumulate {
		acc = 1
	}
	C.emu_sum_rows(fp(in), fp(out), ll(rows), ll(B), C.double(scale), ll(int64(acc)))
	return nil
}

func (*emulator) maxRows(in, out buffer, rows, B int64) error {
	C.emu_max_rows(fp(in), fp(out), ll(rows), ll(B))
	return nil
}

func (*emulator) adadelta(p, g, sq, acc buffer, n int64, lr, rho, eps, wd float64) error {
	C.emu_adadelta(fp(p), fp(g), fp(sq), fp(acc), ll(n), C.double(lr), C.double(rho), C.double(eps), C.double(wd))
	return nil
}

func (*emulator) swa(avg, p buffer, n, count int64) error {
	C.emu_swa(fp(avg), fp(p), ll(n), ll(count))
	return nil
}

func (*emulator) clip(x buffer, n int64, lim float64) error {
	C.emu_clip(fp(x), ll(n), C.double(lim))
	return nil
}

func (*emulator) sigPairs(paths, pairs, vals, pg, ws buffer, a sigArgs, sp sigPlan) error {
	switch C.emu_sigkernel_pairs(dp(paths), ip(pairs), dp(vals), dp(pg), dp(ws), ll(a.P), ll(a.Pg), ll(a.Pw), ll(a.len), ll(a.dim),
		ll(a.refine), ll(a.kind), C.double(a.sigma2), C.double(a.scaleW), C.double(a.scaleC), bl(sp.stage), ll(sp.wsDoubles),
		ll(int64(sp.blocks)), ll(int64(sp.threads))) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("cuda: emulator: internal error: the signature kernel's workspace of %d doubles is not the kernel's", sp.wsDoubles)
	default:
		return fmt.Errorf("cuda: emulator: the threads of a signature-kernel block passed different numbers of barriers (%v)", sp)
	}
}

func (*emulator) sigGrad(pg, off, ent, grad buffer, M, LD int64) error {
	C.emu_sigkernel_grad(dp(pg), ip(off), ip(ent), dp(grad), ll(M), ll(LD))
	return nil
}

func (*emulator) sigValues(vals, out buffer, Pw, Pc, Pr int64) error {
	if C.emu_sigkernel_values(dp(vals), dp(out), ll(Pw), ll(Pc), ll(Pr)) != 0 {
		return fmt.Errorf("cuda: emulator: the threads of a signature-kernel values block passed different numbers of barriers")
	}
	return nil
}
