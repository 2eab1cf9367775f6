// mlp.cu: batches of paths through one MLP (the SDE-GAN's initial networks and
// readouts), forward and VJP, one thread per path and block, feature-major arrays. A
// launch covers `count` consecutive blocks of B paths (a readout applied at every
// output time: block i is time i); count 1 is a plain batch.
#include "mlp.cuh"

// gosde_mlp_forward: y_i = MLP(x_i) for blocks i < count; x (count × in rows), act
// (count × ACT_ROWS rows) and y (count × out rows), each row B long. One thread per
// path of each block.
extern "C" __global__ void gosde_mlp_forward(const int* md, const float* theta, float* x, float* act, float* y,
                                             long long count, long long B) {
	const long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
	if (t >= count * B) return;
	const long long i = t / B, p = t % B;
	const int L = md[gosde::MLP_LAYERS];
	const long long in = gosde::mlp_layer(md, 0)[0], out = gosde::mlp_layer(md, L - 1)[1];
	const long long rows = md[gosde::MLP_ACT_ROWS];
	gosde::mlp_forward(md, theta, 0.0f, gosde::Vec{x + i * in * B + p, B}, gosde::Vec{act + i * rows * B + p, B},
	                   gosde::Vec{y + i * out * B + p, B});
}

// gosde_mlp_vjp: with cot the cotangent of every y_i, adds into ax (when not null)
// and writes the parameter cotangent of each path of each block into gtheta
// (parameter j of block i, path p at j·count·B + i·B + p), which gosde_sum_rows then
// reduces over blocks and paths at once; tmp holds 2·MAXW rows of count·B. One thread
// per path of each block: a readout applied at every output time runs all its times
// at once.
extern "C" __global__ void gosde_mlp_vjp(const int* md, const float* theta, float* x, float* act, float* cot,
                                         float* ax, float* gtheta, float* tmp, long long nparams, long long count,
                                         long long B) {
	const long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
	if (t >= count * B) return;
	const long long i = t / B, p = t % B;
	const int L = md[gosde::MLP_LAYERS];
	const long long in = gosde::mlp_layer(md, 0)[0], out = gosde::mlp_layer(md, L - 1)[1];
	const long long rows = md[gosde::MLP_ACT_ROWS];
	// This MLP's rows of gtheta: its parameters start at its first layer's weights
	// (the descriptor's offsets may place it inside a larger network's vector).
	gosde::Vec g{gtheta + i * B + p, count * B};
	const int base = gosde::mlp_layer(md, 0)[3];
	for (long long j = 0; j < nparams; j++) g[base + (int)j] = 0.0f;
	gosde::mlp_vjp(md, theta, 0.0f, gosde::Vec{x + i * in * B + p, B}, gosde::Vec{act + i * rows * B + p, B},
	               gosde::Vec{cot + i * out * B + p, B}, gosde::Vec{ax ? ax + i * in * B + p : 0, B}, g,
	               gosde::Vec{tmp + i * B + p, count * B});
}
