// revheun.cu: the fused reversible-Heun kernels. One launch advances every path of a
// batch over a chunk of steps (all steps of a solve when the increments fit one
// chunk); the per-path arithmetic is in revheun.cuh.
//
// A block holds ppb = blockDim.x / lanes paths, each worked on by `lanes` consecutive
// threads (a power of two ≤ 32, so a path's lanes share a warp): at small batches
// many lanes per path fill the GPU, at large ones one thread per path does. With
// stage_ws (and stage_g in the adjoint) a path's workspace (parameter cotangents)
// sits in the block's dynamic shared memory while the launch runs.
#include "revheun.cuh"

namespace {

// path_thread places this thread: its path, its slot in the block and its lanes. The
// barrier mask holds the warp's threads whose path exists (a block may be smaller
// than a warp, and the last block partly empty); threads past the batch take no part
// after this.
__device__ gosde::PathThread path_thread(long long lanes, long long B, bool* live) {
	const int G = (int)lanes;
	const int q = threadIdx.x / G, ppb = blockDim.x / G;
	const long long p = (long long)blockIdx.x * ppb + q;
	const unsigned mask = __ballot_sync(__activemask(), p < B);
	*live = p < B;
	return gosde::PathThread{p, q, ppb, gosde::Lanes{(int)(threadIdx.x % G), G, mask}};
}

} // namespace

// Every argument is a pointer or a 64-bit integer: gorgonia.org/cu copies launch
// arguments as 8-byte slots.
extern "C" __global__ void gosde_revheun_forward(const int* fd, const float* theta, float* ws, const float* y0,
                                                 const float* ts, const float* hs, const int* outidx, const float* dw,
                                                 float* ys, long long B, long long n0, long long n1, long long N,
                                                 long long lanes, long long stage_ws) {
	extern __shared__ float smem[];
	bool live;
	const gosde::PathThread th = path_thread(lanes, B, &live);
	if (!live) return;
	gosde::Solve s{ts, hs, outidx, dw, B, n0, n1, N};
	gosde::revheun_forward_staged(fd, theta, ws, y0, s, ys, th, stage_ws ? smem : nullptr);
}

extern "C" __global__ void gosde_revheun_backward(const int* fd, const float* theta, float* ws, const float* ts,
                                                  const float* hs, const int* outidx, const float* dw, const float* ys,
                                                  const float* cot, float* gtheta, float* adw, float* recon, float* ay0,
                                                  long long B, long long n0, long long n1, long long N, long long lanes,
                                                  long long stage_ws, long long stage_g) {
	extern __shared__ float smem[];
	bool live;
	const gosde::PathThread th = path_thread(lanes, B, &live);
	if (!live) return;
	gosde::Solve s{ts, hs, outidx, dw, B, n0, n1, N};
	gosde::Backward b{ys, cot, gtheta, adw, recon, ay0};
	float* sws = stage_ws ? smem : nullptr;
	float* sg = stage_g ? smem + (stage_ws ? (long long)fd[gosde::F_ROWS] * th.ppb : 0) : nullptr;
	gosde::revheun_backward_staged(fd, theta, ws, s, b, th, sws, sg);
}
