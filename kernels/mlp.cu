// mlp.cu: a batch of paths through one MLP (the SDE-GAN's initial networks and
// readouts), forward and VJP, one thread per path, feature-major arrays.
#include "mlp.cuh"

// gosde_mlp_forward: y = MLP(x) for B paths; x (in rows), act (ACT_ROWS rows) and y
// (out rows) feature-major.
extern "C" __global__ void gosde_mlp_forward(const int* md, const float* theta, float* x, float* act, float* y,
                                             long long B) {
	const long long p = (long long)blockIdx.x * blockDim.x + threadIdx.x;
	if (p >= B) return;
	gosde::mlp_forward(md, theta, 0.0f, gosde::Vec{x + p, B}, gosde::Vec{act + p, B}, gosde::Vec{y + p, B});
}

// gosde_mlp_vjp: with cot the cotangent of y, adds into ax (when not null) and
// writes this path's parameter cotangent into gtheta (parameter j at j·B + p), which
// gosde_sum_rows then reduces over paths.
extern "C" __global__ void gosde_mlp_vjp(const int* md, const float* theta, float* x, float* act, float* cot,
                                         float* ax, float* gtheta, float* tmp, long long nparams, long long B) {
	const long long p = (long long)blockIdx.x * blockDim.x + threadIdx.x;
	if (p >= B) return;
	gosde::Vec g{gtheta + p, B};
	for (long long j = 0; j < nparams; j++) g[(int)j] = 0.0f;
	gosde::mlp_vjp(md, theta, 0.0f, gosde::Vec{x + p, B}, gosde::Vec{act + p, B}, gosde::Vec{cot + p, B},
	               gosde::Vec{ax ? ax + p : 0, B}, g, gosde::Vec{tmp + p, B});
}
