// gosde.cuh: what every kernel header shares. The per-path arithmetic of the GPU
// engine is written once, in __host__ __device__ functions, so that nvcc compiles it
// into the kernels and gcc compiles the very same code into the CPU harness
// (kernels/check) that `make gpu-check` holds to the Go engine.
#ifndef GOSDE_CUH
#define GOSDE_CUH

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

// Activations, numbered as nn.Activation in Go.
enum Act { ACT_LIPSWISH = 0, ACT_TANH = 1, ACT_SOFTPLUS = 2, ACT_SIGMOID = 3, ACT_RELU = 4, ACT_IDENTITY = 5 };

#define GOSDE_LIPSWISH_SCALE 0.909f

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
