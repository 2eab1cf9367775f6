// emulator.cc: the GPU kernels' bodies on the CPU. Each function is the matching
// kernel of kernels/*.cu with its thread index turned into a loop counter; the
// per-path code is the same __host__ __device__ functions, included from the same
// headers. The reductions sum in the GPU kernels' order (a strided sum per thread of
// a 256-thread block, then the shared-memory tree), so the emulator's gradients are
// the GPU's up to the per-path arithmetic's rounding.
#include "emulator.h"
#include "kernels_sha.h"

#include "control.cuh"
#include "mlp.cuh"
#include "optim.cuh"
#include "revheun.cuh"

namespace {
const int reduceThreads = 256; // GOSDE_REDUCE_THREADS in reduce.cu
}

extern "C" {

const char* emu_kernels_sha256(void) { return GOSDE_KERNELS_SHA256; }

void emu_revheun_forward(const int* fd, const float* theta, float* ws, const float* y0, const float* ts,
                         const float* hs, const int* outidx, const float* dw, float* ys, long long B, long long n0,
                         long long n1, long long N) {
	gosde::Solve s{ts, hs, outidx, dw, B, n0, n1, N};
	for (long long p = 0; p < B; p++) gosde::revheun_forward(fd, theta, ws, y0, s, ys, p);
}

void emu_revheun_backward(const int* fd, const float* theta, float* ws, const float* ts, const float* hs,
                          const int* outidx, const float* dw, const float* ys, const float* cot, float* gtheta,
                          float* adw, float* recon, float* ay0, long long B, long long n0, long long n1, long long N) {
	gosde::Solve s{ts, hs, outidx, dw, B, n0, n1, N};
	gosde::Backward b{ys, cot, gtheta, adw, recon, ay0};
	for (long long p = 0; p < B; p++) gosde::revheun_backward(fd, theta, ws, s, b, p);
}

// The MLP kernels' blocks: block i of count at offsets i·(rows per path)·B.
void emu_mlp_forward(const int* md, const float* theta, float* x, float* act, float* y, long long count, long long B) {
	const int L = md[gosde::MLP_LAYERS];
	const long long in = gosde::mlp_layer(md, 0)[0], out = gosde::mlp_layer(md, L - 1)[1];
	const long long rows = md[gosde::MLP_ACT_ROWS];
	for (long long p = 0; p < B; p++)
		for (long long i = 0; i < count; i++)
			gosde::mlp_forward(md, theta, 0.0f, gosde::Vec{x + i * in * B + p, B}, gosde::Vec{act + i * rows * B + p, B},
			                   gosde::Vec{y + i * out * B + p, B});
}

void emu_mlp_vjp(const int* md, const float* theta, float* x, float* act, float* cot, float* ax, float* gtheta,
                 float* tmp, long long nparams, long long count, long long B) {
	const int L = md[gosde::MLP_LAYERS];
	const long long in = gosde::mlp_layer(md, 0)[0], out = gosde::mlp_layer(md, L - 1)[1];
	const long long rows = md[gosde::MLP_ACT_ROWS];
	for (long long p = 0; p < B; p++) {
		gosde::Vec g{gtheta + p, B};
		const int base = gosde::mlp_layer(md, 0)[3];
		for (long long j = 0; j < nparams; j++) g[base + (int)j] = 0.0f;
		for (long long i = 0; i < count; i++)
			gosde::mlp_vjp(md, theta, 0.0f, gosde::Vec{x + i * in * B + p, B}, gosde::Vec{act + i * rows * B + p, B},
			               gosde::Vec{cot + i * out * B + p, B}, gosde::Vec{ax ? ax + i * in * B + p : nullptr, B}, g,
			               gosde::Vec{tmp + p, B});
	}
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
	for (long long p = 0; p < B; p++) gosde::control_increments(xs, dw, interval, steps, (int)m, B, n0, n1, p);
}

void emu_chain_control(const float* adw, float* axs, const int* first, const int* steps, long long T, long long m,
                       long long B) {
	for (long long p = 0; p < B; p++) gosde::chain_control(adw, axs, first, steps, (int)T, (int)m, B, p);
}

void emu_sum_rows(const float* in, float* out, long long rows, long long B, double scale, long long accumulate) {
	float part[reduceThreads];
	for (long long j = 0; j < rows; j++) {
		const float* r = in + j * B;
		for (int t = 0; t < reduceThreads; t++) {
			float s = 0.0f;
			for (long long p = t; p < B; p += reduceThreads) s += r[p];
			part[t] = s;
		}
		for (int w = reduceThreads / 2; w > 0; w /= 2)
			for (int t = 0; t < w; t++) part[t] += part[t + w];
		out[j] = (float)(scale * (double)part[0]) + (accumulate ? out[j] : 0.0f);
	}
}

void emu_max_rows(const float* in, float* out, long long rows, long long B) {
	float part[reduceThreads];
	for (long long j = 0; j < rows; j++) {
		const float* r = in + j * B;
		for (int t = 0; t < reduceThreads; t++) {
			float m = 0.0f;
			for (long long p = t; p < B; p += reduceThreads) {
				const float v = r[p];
				m = (v > m || v != v) ? v : m;
			}
			part[t] = m;
		}
		for (int w = reduceThreads / 2; w > 0; w /= 2)
			for (int t = 0; t < w; t++) {
				const float v = part[t + w];
				if (v > part[t] || v != v) part[t] = v;
			}
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

} // extern "C"
