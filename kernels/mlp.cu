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
	const gosde::BlockPath bp = gosde::block_path(md, x, act, y, B, t);
	gosde::mlp_forward(md, theta, 0.0f, bp.x, bp.act, bp.y);
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
	gosde::block_vjp(md, theta, x, act, cot, ax, gtheta, tmp, nparams, count, B, t);
}
