// optim.cu: the parameter updates of a training step, elementwise on the device so
// that parameters never travel to the host between steps.
#include "optim.cuh"

#define GOSDE_INDEX const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; if (i >= n) return

extern "C" __global__ void gosde_adadelta(float* p, const float* g, float* sq, float* acc, long long n, double lr,
                                          double rho, double eps, double wd) {
	GOSDE_INDEX;
	gosde::adadelta_update(p, g, sq, acc, i, lr, rho, eps, wd);
}

extern "C" __global__ void gosde_swa(float* avg, const float* p, long long n, long long count) {
	GOSDE_INDEX;
	gosde::swa_update(avg, p, i, count);
}

// gosde_clip clamps x[0…n) entrywise to ±lim (one weight matrix per launch: the
// limits differ per matrix).
extern "C" __global__ void gosde_clip(float* x, long long n, double lim) {
	GOSDE_INDEX;
	gosde::clip_update(x, i, lim);
}
