// reduce.cu: deterministic reductions over paths. Parameter gradients are accumulated
// per path (no float atomics anywhere) and summed here in a fixed order — a strided
// per-thread sum, then a shared-memory tree — so a training step gives the same bits
// on every run. The arithmetic is in reduce.cuh, which the emulator runs too.
#include "reduce.cuh"

// gosde_sum_rows: out[j] = scale · Σ_p in[j·B + p] (plus out[j] when accumulate is
// set), one block per row j.
extern "C" __global__ void gosde_sum_rows(const float* in, float* out, long long rows, long long B, double scale,
                                          long long accumulate) {
	__shared__ float part[GOSDE_REDUCE_THREADS];
	const long long j = blockIdx.x;
	if (j >= rows) return;
	part[threadIdx.x] = gosde::row_sum_part(in + j * B, B, threadIdx.x, blockDim.x);
	__syncthreads();
	for (int w = blockDim.x / 2; w > 0; w /= 2) {
		if (threadIdx.x < w) gosde::tree_sum_step(part, threadIdx.x, w);
		__syncthreads();
	}
	if (threadIdx.x == 0) out[j] = gosde::sum_rows_out(part[0], scale, accumulate, out[j]);
}

// gosde_max_rows: out[j] = max_p in[j·B + p], NaN when any value is NaN (the
// reconstruction error of a diverged solve must not hide).
extern "C" __global__ void gosde_max_rows(const float* in, float* out, long long rows, long long B) {
	__shared__ float part[GOSDE_REDUCE_THREADS];
	const long long j = blockIdx.x;
	if (j >= rows) return;
	part[threadIdx.x] = gosde::row_max_part(in + j * B, B, threadIdx.x, blockDim.x);
	__syncthreads();
	for (int w = blockDim.x / 2; w > 0; w /= 2) {
		if (threadIdx.x < w) gosde::tree_max_step(part, threadIdx.x, w);
		__syncthreads();
	}
	if (threadIdx.x == 0) out[j] = part[0];
}
