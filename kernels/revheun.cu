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

// place sets th to where this thread sits (path_thread) with the barrier mask of the
// warp's threads whose path exists (a block may be smaller than a warp, and the last
// block partly empty), and reports whether its own path exists: threads past the batch
// take no part after this.
__device__ bool place(long long lanes, long long B, gosde::PathThread* th) {
	*th = gosde::path_thread(blockIdx.x, threadIdx.x, blockDim.x, (int)lanes);
	th->L.mask = __ballot_sync(__activemask(), th->p < B);
	return th->p < B;
}

} // namespace

// Every argument is a pointer or a 64-bit integer: gorgonia.org/cu copies launch
// arguments as 8-byte slots.
extern "C" __global__ void gosde_revheun_forward(const int* fd, const float* theta, float* ws, const float* y0,
                                                 const float* ts, const float* hs, const int* outidx, const float* dw,
                                                 float* ys, long long B, long long n0, long long n1, long long N,
                                                 long long lanes, long long stage_ws) {
	extern __shared__ float smem[];
	gosde::PathThread th;
	if (!place(lanes, B, &th)) return;
	gosde::Solve s{ts, hs, outidx, dw, B, n0, n1, N};
	gosde::revheun_forward_staged(fd, theta, ws, y0, s, ys, th, smem, stage_ws);
}

extern "C" __global__ void gosde_revheun_backward(const int* fd, const float* theta, float* ws, const float* ts,
                                                  const float* hs, const int* outidx, const float* dw, const float* ys,
                                                  const float* cot, float* gtheta, float* adw, float* recon, float* ay0,
                                                  long long B, long long n0, long long n1, long long N, long long lanes,
                                                  long long stage_ws, long long stage_g) {
	extern __shared__ float smem[];
	gosde::PathThread th;
	if (!place(lanes, B, &th)) return;
	gosde::Solve s{ts, hs, outidx, dw, B, n0, n1, N};
	gosde::Backward b{ys, cot, gtheta, adw, recon, ay0};
	gosde::revheun_backward_staged(fd, theta, ws, s, b, th, smem, stage_ws, stage_g);
}
