// reduce.cu: deterministic reductions over paths. Parameter gradients are accumulated
// per path (no float atomics anywhere) and summed here in a fixed order — a strided
// per-thread sum, then a shared-memory tree — so a training step gives the same bits
// on every run.
#define GOSDE_REDUCE_THREADS 256

// gosde_sum_rows: out[j] = scale · Σ_p in[j·B + p] (plus out[j] when accumulate is
// set), one block per row j.
extern "C" __global__ void gosde_sum_rows(const float* in, float* out, long long rows, long long B, double scale,
                                          long long accumulate) {
	__shared__ float part[GOSDE_REDUCE_THREADS];
	const long long j = blockIdx.x;
	if (j >= rows) return;
	const float* r = in + j * B;
	float s = 0.0f;
	for (long long p = threadIdx.x; p < B; p += blockDim.x) s += r[p];
	part[threadIdx.x] = s;
	__syncthreads();
	for (int w = blockDim.x / 2; w > 0; w /= 2) {
		if (threadIdx.x < w) part[threadIdx.x] += part[threadIdx.x + w];
		__syncthreads();
	}
	if (threadIdx.x == 0) out[j] = (float)(scale * (double)part[0]) + (accumulate ? out[j] : 0.0f);
}

// gosde_max_rows: out[j] = max_p in[j·B + p], NaN when any value is NaN (the
// reconstruction error of a diverged solve must not hide).
extern "C" __global__ void gosde_max_rows(const float* in, float* out, long long rows, long long B) {
	__shared__ float part[GOSDE_REDUCE_THREADS];
	const long long j = blockIdx.x;
	if (j >= rows) return;
	const float* r = in + j * B;
	float m = 0.0f;
	for (long long p = threadIdx.x; p < B; p += blockDim.x) {
		const float v = r[p];
		m = (v > m || v != v) ? v : m;
	}
	part[threadIdx.x] = m;
	__syncthreads();
	for (int w = blockDim.x / 2; w > 0; w /= 2) {
		if (threadIdx.x < w) {
			const float v = part[threadIdx.x + w];
			if (v > part[threadIdx.x] || v != v) part[threadIdx.x] = v;
		}
		__syncthreads();
	}
	if (threadIdx.x == 0) out[j] = part[0];
}
