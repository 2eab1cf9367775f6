// gosde.cuh: what every kernel header shares. The per-path arithmetic of the GPU
// engine is written once, in __host__ __device__ functions, so that nvcc compiles it
// into the kernels and gcc compiles the very same code into the CPU harness
// (kernels/check) that `make gpu-check` holds to the Go engine.
#ifndef GOSDE_CUH
#define GOSDE_CUH

#include "constants.cuh"

// GOSDE_HD marks the per-path functions (GOSDE_MEMBER the member functions): device
// and host code under nvcc, plain inline C++ under gcc.
#ifdef __CUDACC__
#define GOSDE_HD __host__ __device__ __forceinline__
#define GOSDE_MEMBER __host__ __device__ __forceinline__
#else
#include <math.h>
#include <string.h>
#define GOSDE_HD static inline
#define GOSDE_MEMBER inline
#endif

namespace gosde {

// Vec is one path's view of a feature-major array: element i lives at p[i*s]. On the
// GPU s is the batch, so consecutive threads (paths) touch consecutive addresses and
// every access is coalesced; the CPU harness uses the same layout.
struct Vec {
	float* p;
	long long s;
	GOSDE_MEMBER float& operator[](int i) const { return p[(long long)i * s]; }
	GOSDE_MEMBER Vec row(int r) const { return Vec{p + (long long)r * s, s}; }
};

#ifndef __CUDACC__
// lane_sync_hook is the CPU's stand-in for the GPU's lane barrier: the emulator sets
// it while it runs the lanes of a path as coroutines (each barrier hands over to the
// next lane); with one lane per path it is never called.
inline void (*lane_sync_hook)(void) = nullptr;
#endif

// Lanes is the group of threads that work on one path: lane `lane` of `n` takes every
// n-th element of each per-path loop (GOSDE_LANE_LOOP), and sync() is the barrier that
// must separate a write by one lane from a read of the same element by another. n is
// a power of two of at most 32 and a group never spans two warps, so on the GPU the
// barrier is __syncwarp over the warp's live lanes: every group of a warp runs the
// same sequence of steps, whatever its path's data. With one lane (the harness, and
// one thread per path) every element has one owner and sync() does nothing.
struct Lanes {
	int lane, n;
	unsigned mask;
	GOSDE_MEMBER void sync() const {
		if (n == 1) return;
#if defined(__CUDA_ARCH__)
		__syncwarp(mask);
#elif !defined(__CUDACC__)
		lane_sync_hook();
#endif
	}
};

GOSDE_HD Lanes one_lane() { return Lanes{0, 1, 0xffffffffu}; }

#define GOSDE_LANE_LOOP(lanes_, i_, count_) for (int i_ = (lanes_).lane; i_ < (count_); i_ += (lanes_).n)

// lanes_sum returns, in every lane, the sum of the lanes' x in lane order (the same
// order on the GPU and the CPU, so the same bits). scratch holds a row per lane.
GOSDE_HD float lanes_sum(const Lanes& L, float x, Vec scratch) {
	if (L.n == 1) return x;
	scratch[L.lane] = x;
	L.sync();
	float s = 0.0f;
	for (int l = 0; l < L.n; l++) s += scratch[l];
	L.sync();
	return s;
}

// lanes_max is lanes_sum for the largest value, NaN winning as in the Go engine.
GOSDE_HD float lanes_max(const Lanes& L, float x, Vec scratch) {
	if (L.n == 1) return x;
	scratch[L.lane] = x;
	L.sync();
	float m = scratch[0];
	for (int l = 1; l < L.n; l++) {
		const float v = scratch[l];
		m = v > m || v != v ? v : m;
	}
	L.sync();
	return m;
}

// The activations (enum Act) and GOSDE_LIPSWISH_SCALE come from constants.cuh.

GOSDE_HD float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

// act_apply returns act(z).
GOSDE_HD float act_apply(int act, float z) {
	switch (act) {
	case ACT_LIPSWISH: return GOSDE_LIPSWISH_SCALE * z * sigmoidf(z);
	case ACT_TANH: return tanhf(z);
	case ACT_SOFTPLUS: return z > 0.0f ? z + log1pf(expf(-z)) : log1pf(expf(z));
	case ACT_SIGMOID: return sigmoidf(z);
	case ACT_RELU: return z > 0.0f ? z : 0.0f;
	default: return z;
	}
}

// act_deriv returns act'(z) given z and a = act(z) (tanh and sigmoid are cheaper
// from a).
GOSDE_HD float act_deriv(int act, float z, float a) {
	switch (act) {
	case ACT_LIPSWISH: {
		float s = sigmoidf(z);
		return GOSDE_LIPSWISH_SCALE * (s + z * s * (1.0f - s));
	}
	case ACT_TANH: return 1.0f - a * a;
	case ACT_SOFTPLUS: return sigmoidf(z);
	case ACT_SIGMOID: return a * (1.0f - a);
	case ACT_RELU: return z > 0.0f ? 1.0f : 0.0f;
	default: return 1.0f;
	}
}

} // namespace gosde

#endif
