// emulator.cc: the GPU kernels' bodies on the CPU. Each function is the matching
// kernel of kernels/*.cu with its thread index turned into a loop counter; the
// per-path code is the same __host__ __device__ functions, included from the same
// headers. The reductions sum in the GPU kernels' order (a strided sum per thread of
// a 256-thread block, then the shared-memory tree), so the emulator's gradients are
// the GPU's up to the per-path arithmetic's rounding.
#include "emulator.h"
#include "kernels_sha.h"

#include <ucontext.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <vector>

#include "control.cuh"
#include "mlp.cuh"
#include "optim.cuh"
#include "reduce.cuh"
#include "revheun.cuh"
#include "sigkernel.cuh"

namespace {
const int reduceThreads = GOSDE_REDUCE_THREADS;

// The lanes of a path on the CPU. A GPU runs a block's threads at once and its
// barriers (Lanes::sync) order their memory accesses; here the threads of a block
// are coroutines, each run in turn up to its next barrier, so every barrier phase of
// every thread happens before any thread's next phase — and a missing barrier shows
// as a wrong answer: a lane reads an element that the lane it should have waited for
// has not yet written (or, in reverse order, has already overwritten). One lane per
// path needs no barrier and runs its threads one after the other.
bool reverse_lanes = false;

struct Coroutines {
	ucontext_t main;
	std::vector<ucontext_t> ctx;
	std::vector<std::vector<char>> stacks;
	std::vector<char> done;
	std::vector<long long> syncs; // barriers passed, per coroutine
	const std::function<void(int)>* body = nullptr;
	int cur = 0;
};

Coroutines* running = nullptr;

void yield_to_scheduler() {
	Coroutines* c = running;
	c->syncs[c->cur]++;
	swapcontext(&c->ctx[c->cur], &c->main);
}

void coroutine_entry() {
	Coroutines* c = running;
	const int i = c->cur;
	(*c->body)(i);
	c->done[i] = 1; // returning resumes c->main (uc_link)
}

// run_coroutines runs body(0…n-1) as coroutines and reports whether they all passed
// the same number of barriers.
bool run_coroutines(int n, const std::function<void(int)>& body) {
	static Coroutines c;
	const size_t stack = 256 << 10;
	c.body = &body;
	c.ctx.resize(n);
	c.done.assign(n, 0);
	c.syncs.assign(n, 0);
	if ((int)c.stacks.size() < n) c.stacks.resize(n);
	for (int i = 0; i < n; i++) {
		c.stacks[i].resize(stack);
		getcontext(&c.ctx[i]);
		c.ctx[i].uc_stack.ss_sp = c.stacks[i].data();
		c.ctx[i].uc_stack.ss_size = stack;
		c.ctx[i].uc_link = &c.main;
		makecontext(&c.ctx[i], coroutine_entry, 0);
	}
	running = &c;
	gosde::lane_sync_hook = yield_to_scheduler;
	for (int left = n; left > 0;) {
		for (int k = 0; k < n; k++) {
			const int i = reverse_lanes ? n - 1 - k : k;
			if (c.done[i]) continue;
			c.cur = i;
			swapcontext(&c.main, &c.ctx[i]);
			if (c.done[i]) left--;
		}
	}
	gosde::lane_sync_hook = nullptr;
	running = nullptr;
	return std::all_of(c.syncs.begin(), c.syncs.end(), [&](long long k) { return k == c.syncs[0]; });
}

// run_block runs the n threads of one block of a kernel with block-wide barriers
// (gosde::Block), as coroutines like a path's lanes, and reports whether every thread
// passed the same number of barriers (on the GPU a barrier that some threads skip is
// undefined behaviour).
bool run_block(int n, const std::function<void(int)>& thread) {
	if (n == 1) {
		thread(0);
		return true;
	}
	return run_coroutines(n, thread);
}

// run_blocks runs a path kernel's threads block by block, as the GPU would launch
// them: `threads` per block, `lanes` per path, placed by the kernels' own path_thread,
// with smem_rows rows of shared memory per path slot.
template <typename F> void run_blocks(long long B, long long lanes, long long threads, long long smem_rows, F kernel) {
	const int G = (int)lanes, ppb = (int)(threads / lanes);
	std::vector<float> smem((size_t)(smem_rows * ppb) + 1);
	for (long long block = 0; block * ppb < B; block++) {
		std::vector<gosde::PathThread> live;
		for (int t = 0; t < threads; t++) {
			const gosde::PathThread th = gosde::path_thread(block, t, (int)threads, G);
			if (th.p < B) live.push_back(th);
		}
		auto thread = [&](int i) { kernel(live[i], smem.data()); };
		if (G == 1) {
			for (int i = 0; i < (int)live.size(); i++) thread(i);
		} else {
			run_coroutines((int)live.size(), thread);
		}
	}
}
} // namespace

extern "C" {

const char* emu_kernels_sha256(void) { return GOSDE_KERNELS_SHA256; }

void emu_set_lane_order(long long reverse) { reverse_lanes = reverse != 0; }

void emu_revheun_forward(const int* fd, const float* theta, float* ws, const float* y0, const float* ts,
                         const float* hs, const int* outidx, const float* dw, float* ys, long long B, long long n0,
                         long long n1, long long N, long long lanes, long long threads, long long stage_ws) {
	const gosde::Solve s{ts, hs, outidx, dw, B, n0, n1, N};
	const long long rows = fd[gosde::F_ROWS];
	run_blocks(B, lanes, threads, stage_ws ? rows : 0, [&](gosde::PathThread th, float* smem) {
		gosde::revheun_forward_staged(fd, theta, ws, y0, s, ys, th, smem, stage_ws);
	});
}

void emu_revheun_backward(const int* fd, const float* theta, float* ws, const float* ts, const float* hs,
                          const int* outidx, const float* dw, const float* ys, const float* cot, float* gtheta,
                          float* adw, float* recon, float* ay0, long long B, long long n0, long long n1, long long N,
                          long long lanes, long long threads, long long stage_ws, long long stage_g) {
	const gosde::Solve s{ts, hs, outidx, dw, B, n0, n1, N};
	const gosde::Backward b{ys, cot, gtheta, adw, recon, ay0};
	const long long rows = stage_ws ? fd[gosde::F_ROWS] : 0, np = stage_g ? fd[gosde::F_NPARAMS] : 0;
	run_blocks(B, lanes, threads, rows + np, [&](gosde::PathThread th, float* smem) {
		gosde::revheun_backward_staged(fd, theta, ws, s, b, th, smem, stage_ws, stage_g);
	});
}

// The MLP kernels: one iteration per path of each block.
void emu_mlp_forward(const int* md, const float* theta, float* x, float* act, float* y, long long count, long long B) {
	for (long long t = 0; t < count * B; t++) {
		const gosde::BlockPath bp = gosde::block_path(md, x, act, y, B, t);
		gosde::mlp_forward(md, theta, 0.0f, bp.x, bp.act, bp.y);
	}
}

void emu_mlp_vjp(const int* md, const float* theta, float* x, float* act, float* cot, float* ax, float* gtheta,
                 float* tmp, long long nparams, long long count, long long B) {
	for (long long t = 0; t < count * B; t++) gosde::block_vjp(md, theta, x, act, cot, ax, gtheta, tmp, nparams, count, B, t);
}

void emu_gan_control(const float* ts, const float* yfake, const float* yreal, float* xs, long long T, long long C,
                     long long B) {
	for (long long p = 0; p < 2 * B; p++) gosde::gan_control(ts, yfake, yreal, xs, (int)T, (int)C, B, p);
}

void emu_gan_control_vjp(const float* axs, float* ayfake, long long T, long long C, long long B) {
	for (long long p = 0; p < B; p++) gosde::gan_control_vjp(axs, ayfake, (int)T, (int)C, B, p);
}

void emu_control_increments(const float* xs, float* dw, const int* interval, const int* steps, long long m,
                            long long B, long long n0, long long n1) {
	for (long long n = n0; n < n1; n++)
		for (long long p = 0; p < B; p++) gosde::control_increments(xs, dw, interval, steps, (int)m, B, n0, n, p);
}

void emu_chain_control(const float* adw, float* axs, const int* first, const int* steps, long long T, long long m,
                       long long B) {
	for (int i = 0; i < T; i++)
		for (int j = 0; j < m; j++)
			for (long long p = 0; p < B; p++) gosde::chain_control(adw, axs, first, steps, (int)T, (int)m, i, j, B, p);
}

void emu_sum_rows(const float* in, float* out, long long rows, long long B, double scale, long long accumulate) {
	float part[reduceThreads];
	for (long long j = 0; j < rows; j++) {
		for (int t = 0; t < reduceThreads; t++) part[t] = gosde::row_sum_part(in + j * B, B, t, reduceThreads);
		for (int w = reduceThreads / 2; w > 0; w /= 2)
			for (int t = 0; t < w; t++) gosde::tree_sum_step(part, t, w);
		out[j] = gosde::sum_rows_out(part[0], scale, accumulate, out[j]);
	}
}

void emu_max_rows(const float* in, float* out, long long rows, long long B) {
	float part[reduceThreads];
	for (long long j = 0; j < rows; j++) {
		for (int t = 0; t < reduceThreads; t++) part[t] = gosde::row_max_part(in + j * B, B, t, reduceThreads);
		for (int w = reduceThreads / 2; w > 0; w /= 2)
			for (int t = 0; t < w; t++) gosde::tree_max_step(part, t, w);
		out[j] = part[0];
	}
}

void emu_adadelta(float* p, const float* g, float* sq, float* acc, long long n, double lr, double rho, double eps,
                  double wd) {
	for (long long i = 0; i < n; i++) gosde::adadelta_update(p, g, sq, acc, i, lr, rho, eps, wd);
}

void emu_swa(float* avg, const float* p, long long n, long long count) {
	for (long long i = 0; i < n; i++) gosde::swa_update(avg, p, i, count);
}

void emu_clip(float* x, long long n, double lim) {
	for (long long i = 0; i < n; i++) gosde::clip_update(x, i, lim);
}

// The signature kernel's pairs, block by block, each block's threads as coroutines.
// Shared memory and the global workspace start as NaN, as garbage would on the GPU, so
// that reading what a launch has not written shows.
long long emu_sigkernel_pairs(const double* paths, const int* pairs, double* vals, double* pg, double* ws, long long P,
                              long long Pg, long long Pw, long long len, long long dim, long long refine,
                              long long kind, double sigma2, double scale_w, double scale_c, long long stage,
                              long long ws_stride, long long blocks, long long threads) {
	const gosde::SigShape s{(int)len, (int)dim, (int)refine, (int)kind, sigma2};
	if (ws_stride != gosde::sig_ws_doubles(s)) return 1;
	const gosde::SigPairs a{paths, pairs, vals, pg, P, Pg, Pw, scale_w, scale_c};
	const double nan = std::numeric_limits<double>::quiet_NaN();
	std::vector<double> smem(stage ? ws_stride : 0);
	if (!stage) std::fill(ws, ws + blocks * ws_stride, nan);
	for (long long b = 0; b < blocks; b++) {
		std::fill(smem.begin(), smem.end(), nan);
		double* w = stage ? smem.data() : ws + b * ws_stride;
		const bool same = run_block((int)threads, [&](int t) {
			gosde::sig_pairs_block(s, a, w, b, blocks, gosde::Block{t, (int)threads});
		});
		if (!same) return 2;
	}
	return 0;
}

void emu_sigkernel_grad(const double* pg, const int* off, const int* ent, double* grad, long long M, long long LD) {
	for (long long q = 0; q < M * LD; q++) gosde::sig_grad_sum(pg, off, ent, grad, LD, q);
}

long long emu_sigkernel_values(const double* vals, double* out, long long Pw, long long Pc, long long Pr) {
	const int n = GOSDE_SIG_VALUES_THREADS;
	std::vector<double> part(n);
	const long long lo[3] = {0, Pw, Pw + Pc}, cnt[3] = {Pw, Pc, Pr};
	for (int b = 0; b < 3; b++) {
		std::fill(part.begin(), part.end(), std::numeric_limits<double>::quiet_NaN()); // shared memory
		const bool same = run_block(n, [&](int t) {
			gosde::sig_values_block(vals, lo[b], lo[b] + cnt[b], out + b, part.data(), gosde::Block{t, n});
		});
		if (!same) return 2;
	}
	return 0;
}

} // extern "C"
