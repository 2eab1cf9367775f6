// mlp.cu: batches of paths through one MLP (the SDE-GAN's initial networks and
// readouts), forward and VJP, one thread per path, feature-major arrays. A launch
// covers `count` consecutive blocks of B paths (a readout applied at every output
// time: block i is time i); count 1 is a plain batch.
#include "mlp.cuh"

// gosde_mlp_forward: y_i = MLP(x_i) for blocks i < count; x (count × in rows), act
// (count × ACT_ROWS rows) and y (count × out rows), each row B long.
extern "C" __global__ void gosde_mlp_forward(const int* md, const float* theta, float* x, float* act, float* y,
                                             long long count, long long B) {
	const long long p = (long long)blockIdx.x * blockDim.x + threadIdx.x;
	if (p >= B) return;
	const int L = md[gosde::MLP_LAYERS];
	const long long in = gosde::mlp_layer(md, 0)[0], out = gosde::mlp_layer(md, L - 1)[1];
	const long long rows = md[gosde::MLP_ACT_ROWS];
	for (long long i = 0; i < count; i++)
		gosde::mlp_forward(md, theta, 0.0f, gosde::Vec{x + i * in * B + p, B}, gosde::Vec{act + i * rows * B + p, B},
		                   gosde::Vec{y + i * out * B + p, B});
}

// gosde_mlp_vjp: with cot the cotangent of every y_i, adds into ax (when not null)
// and writes this path's parameter cotangent, summed over the blocks, into gtheta
// (parameter j at j·B + p), which gosde_sum_rows then reduces over paths.
extern "C" __global__ void gosde_mlp_vjp(const int* md, const float* theta, float* x, float* act, float* cot,
                                         float* ax, float* gtheta, float* tmp, long long nparams, long long count,
                                         long long B) {
	const long long p = (long long)blockIdx.x * blockDim.x + threadIdx.x;
	if (p >= B) return;
	const int L = md[gosde::MLP_LAYERS];
	const long long in = gosde::mlp_layer(md, 0)[0], out = gosde::mlp_layer(md, L - 1)[1];
	const long long rows = md[gosde::MLP_ACT_ROWS];
	// This MLP's rows of gtheta: its parameters start at its first layer's weights
	// (the descriptor's offsets may place it inside a larger network's vector).
	gosde::Vec g{gtheta + p, B};
	const int base = gosde::mlp_layer(md, 0)[3];
	for (long long j = 0; j < nparams; j++) g[base + (int)j] = 0.0f;
	for (long long i = 0; i < count; i++)
		gosde::mlp_vjp(md, theta, 0.0f, gosde::Vec{x + i * in * B + p, B}, gosde::Vec{act + i * rows * B + p, B},
		               gosde::Vec{cot + i * out * B + p, B}, gosde::Vec{ax ? ax + i * in * B + p : 0, B}, g,
		               gosde::Vec{tmp + p, B});
}
