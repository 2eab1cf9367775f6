//go:build cuda

package cuda

import (
	"math"
	"unsafe"

	"github.com/gosde/gosde/kernels"
)

// The kernels of package kernels, by their extern "C" names.
const (
	kRevHeunForward  = "gosde_revheun_forward"
	kRevHeunBackward = "gosde_revheun_backward"
	kMLPForward      = "gosde_mlp_forward"
	kMLPVJP          = "gosde_mlp_vjp"
	kSumRows         = "gosde_sum_rows"
	kMaxRows         = "gosde_max_rows"
	kAdadelta        = "gosde_adadelta"
	kSWA             = "gosde_swa"
	kClip            = "gosde_clip"
	kGANControl      = "gosde_gan_control"
	kGANControlVJP   = "gosde_gan_control_vjp"
	kControlIncr     = "gosde_control_increments"
	kChainControl    = "gosde_chain_control"
	kSigPairs        = "gosde_sigkernel_pairs"
	kSigGrad         = "gosde_sigkernel_grad"
	kSigValues       = "gosde_sigkernel_values"
)

var kernelNames = []string{kRevHeunForward, kRevHeunBackward, kMLPForward, kMLPVJP, kSumRows, kMaxRows, kAdadelta, kSWA, kClip,
	kGANControl, kGANControlVJP, kControlIncr, kChainControl, kSigPairs, kSigGrad, kSigValues}

const reduceThreads = kernels.ReduceThreads

// pathThreads is the block size of the one-thread-per-item kernels for n items (a
// path, or a path at one step or time): small blocks while there are too few items to
// give every multiprocessor several of 128 threads (1024 then spread over 32
// multiprocessors instead of 8), 128 once there are enough.
func (d *device) pathThreads(n int64) int {
	if n < int64(d.sms)*128 {
		return 32
	}
	return 128
}

// gridFor is the number of blocks that cover n threads.
func gridFor(n, threads int64) int { return int((n + threads - 1) / threads) }

// launch starts kernel name on the device's stream. gorgonia.org/cu copies each
// argument as one 8-byte slot, so the typed wrappers below pass only device pointers,
// int64 and float64 (as its bits): never structs, never 4-byte values.
func (d *device) launch(name string, blocks, threads int, args ...uint64) error {
	return d.launchShared(name, blocks, threads, 0, args...)
}

// launchThreads launches kernel name with one thread for each of n items (paths,
// or paths × steps…), in blocks of pathThreads(n).
func (d *device) launchThreads(name string, n int64, args ...uint64) error {
	t := d.pathThreads(n)
	return d.launch(name, gridFor(n, int64(t)), t, args...)
}

// launchShared is launch with sharedBytes of dynamic shared memory per block.
func (d *device) launchShared(name string, blocks, threads, sharedBytes int, args ...uint64) error {
	if blocks == 0 {
		return nil
	}
	ptrs := make([]unsafe.Pointer, len(args))
	for i := range args {
		ptrs[i] = unsafe.Pointer(&args[i])
	}
	if err := d.fns[name].Launch(blocks, 1, 1, threads, 1, 1, sharedBytes, d.stream, ptrs); err != nil {
		return wrap("launching "+name, err)
	}
	return nil
}

func p64(b buffer) uint64  { return uint64(b.dev) }
func f64(x float64) uint64 { return math.Float64bits(x) }
func b64(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func (d *device) multiprocessors() int { return d.sms }

func (d *device) revheunForward(fd, theta, ws, y0, ts, hs, outidx, dw, ys buffer, B, n0, n1, N int64, pl pathLaunch) error {
	return d.launchShared(kRevHeunForward, gridFor(B, int64(pl.threads/pl.lanes)), pl.threads, pl.sharedBytes,
		p64(fd), p64(theta), p64(ws), p64(y0), p64(ts), p64(hs), p64(outidx), p64(dw), p64(ys),
		uint64(B), uint64(n0), uint64(n1), uint64(N), uint64(pl.lanes), b64(pl.stageWS))
}

func (d *device) revheunBackward(fd, theta, ws, ts, hs, outidx, dw, ys, cot, gtheta, adw, recon, ay0 buffer, B, n0, n1, N int64, pl pathLaunch) error {
	return d.launchShared(kRevHeunBackward, gridFor(B, int64(pl.threads/pl.lanes)), pl.threads, pl.sharedBytes,
		p64(fd), p64(theta), p64(ws), p64(ts), p64(hs), p64(outidx), p64(dw), p64(ys), p64(cot),
		p64(gtheta), p64(adw), p64(recon), p64(ay0), uint64(B), uint64(n0), uint64(n1), uint64(N),
		uint64(pl.lanes), b64(pl.stageWS), b64(pl.stageG))
}

func (d *device) mlpForward(md, theta, x, act, y buffer, count, B int64) error {
	return d.launchThreads(kMLPForward, count*B,
		p64(md), p64(theta), p64(x), p64(act), p64(y), uint64(count), uint64(B))
}

func (d *device) mlpVJP(md, theta, x, act, cot, ax, gtheta, tmp buffer, nparams, count, B int64) error {
	return d.launchThreads(kMLPVJP, count*B,
		p64(md), p64(theta), p64(x), p64(act), p64(cot), p64(ax), p64(gtheta), p64(tmp), uint64(nparams), uint64(count), uint64(B))
}

func (d *device) ganControl(ts, yfake, yreal, xs buffer, T, C, B int64) error {
	return d.launchThreads(kGANControl, 2*B,
		p64(ts), p64(yfake), p64(yreal), p64(xs), uint64(T), uint64(C), uint64(B))
}

func (d *device) ganControlVJP(axs, ayfake buffer, T, C, B int64) error {
	return d.launchThreads(kGANControlVJP, B,
		p64(axs), p64(ayfake), uint64(T), uint64(C), uint64(B))
}

func (d *device) controlIncrements(xs, dw, interval, steps buffer, m, B, n0, n1 int64) error {
	return d.launchThreads(kControlIncr, (n1-n0)*B,
		p64(xs), p64(dw), p64(interval), p64(steps), uint64(m), uint64(B), uint64(n0), uint64(n1))
}

func (d *device) chainControl(adw, axs, first, steps buffer, T, m, B int64) error {
	return d.launchThreads(kChainControl, T*m*B,
		p64(adw), p64(axs), p64(first), p64(steps), uint64(T), uint64(m), uint64(B))
}

func (d *device) sumRows(in, out buffer, rows, B int64, scale float64, accumulate bool) error {
	return d.launch(kSumRows, int(rows), reduceThreads, p64(in), p64(out), uint64(rows), uint64(B), f64(scale), b64(accumulate))
}

func (d *device) maxRows(in, out buffer, rows, B int64) error {
	return d.launch(kMaxRows, int(rows), reduceThreads, p64(in), p64(out), uint64(rows), uint64(B))
}

func (d *device) adadelta(p, g, sq, acc buffer, n int64, lr, rho, eps, wd float64) error {
	return d.launch(kAdadelta, gridFor(n, 256), 256, p64(p), p64(g), p64(sq), p64(acc), uint64(n), f64(lr), f64(rho), f64(eps), f64(wd))
}

func (d *device) swa(avg, p buffer, n, count int64) error {
	return d.launch(kSWA, gridFor(n, 256), 256, p64(avg), p64(p), uint64(n), uint64(count))
}

func (d *device) clip(x buffer, n int64, lim float64) error {
	return d.launch(kClip, gridFor(n, 256), 256, p64(x), uint64(n), f64(lim))
}

func (d *device) sigPairs(paths, pairs, vals, pg, ws buffer, a sigArgs, sp sigPlan) error {
	return d.launchShared(kSigPairs, sp.blocks, sp.threads, sp.sharedBytes,
		p64(paths), p64(pairs), p64(vals), p64(pg), p64(ws), uint64(a.P), uint64(a.Pg), uint64(a.Pw),
		uint64(a.len), uint64(a.dim), uint64(a.refine), uint64(a.kind), f64(a.sigma2), f64(a.scaleW), f64(a.scaleC),
		b64(sp.stage), uint64(sp.wsDoubles))
}

func (d *device) sigGrad(pg, off, ent, grad buffer, M, LD int64) error {
	return d.launchThreads(kSigGrad, M*LD, p64(pg), p64(off), p64(ent), p64(grad), uint64(M), uint64(LD))
}

func (d *device) sigValues(vals, out buffer, Pw, Pc, Pr int64) error {
	return d.launch(kSigValues, 3, sigValuesThreads, p64(vals), p64(out), uint64(Pw), uint64(Pc), uint64(Pr))
}
