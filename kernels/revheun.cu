// revheun.cu: the fused reversible-Heun kernels. One launch advances every path of a
// batch over a chunk of steps (all steps of a solve when the increments fit one
// chunk); one thread per path, the per-path arithmetic in revheun.cuh.
#include "revheun.cuh"

// Every argument is a pointer or a 64-bit integer: gorgonia.org/cu copies launch
// arguments as 8-byte slots.
extern "C" __global__ void gosde_revheun_forward(const int* fd, const float* theta, float* ws, const float* y0,
                                                 const float* ts, const float* hs, const int* outidx, const float* dw,
                                                 float* ys, long long B, long long n0, long long n1, long long N) {
	const long long p = (long long)blockIdx.x * blockDim.x + threadIdx.x;
	if (p >= B) return;
	gosde::Solve s{ts, hs, outidx, dw, B, n0, n1, N};
	gosde::revheun_forward(fd, theta, ws, y0, s, ys, p);
}

extern "C" __global__ void gosde_revheun_backward(const int* fd, const float* theta, float* ws, const float* ts,
                                                  const float* hs, const int* outidx, const float* dw, const float* ys,
                                                  const float* cot, float* gtheta, float* adw, float* recon, float* ay0,
                                                  long long B, long long n0, long long n1, long long N) {
	const long long p = (long long)blockIdx.x * blockDim.x + threadIdx.x;
	if (p >= B) return;
	gosde::Solve s{ts, hs, outidx, dw, B, n0, n1, N};
	gosde::Backward b{ys, cot, gtheta, adw, recon, ay0};
	gosde::revheun_backward(fd, theta, ws, s, b, p);
}
