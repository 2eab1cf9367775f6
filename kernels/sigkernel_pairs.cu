// sigkernel_pairs.cu: the signature kernel of many pairs of paths, and each pair's
// gradient with respect to both paths' points, in float64 (sigkernel.cuh). One block
// per pair at a time (block b takes pairs b, b + gridDim.x, …), its threads sweeping
// the pair's grid by anti-diagonals; the grid sits in the block's dynamic shared memory
// when stage is set, otherwise in the block's slot of ws (ws_stride doubles each).
// Every argument is a pointer or a 64-bit value: gorgonia.org/cu copies launch
// arguments as 8-byte slots.
#include "sigkernel.cuh"

extern "C" __global__ void __launch_bounds__(GOSDE_SIG_MAX_THREADS)
    gosde_sigkernel_pairs(const double* paths, const int* pairs, double* vals, double* pg, double* ws, long long P,
                          long long Pg, long long Pw, long long len, long long dim, long long refine, long long kind,
                          double sigma2, double scale_w, double scale_c, long long stage, long long ws_stride) {
	extern __shared__ double smem[];
	const gosde::SigShape s{(int)len, (int)dim, (int)refine, (int)kind, sigma2};
	const gosde::SigPairs a{paths, pairs, vals, pg, P, Pg, Pw, scale_w, scale_c};
	double* w = stage ? smem : ws + (long long)blockIdx.x * ws_stride;
	gosde::sig_pairs_block(s, a, w, blockIdx.x, gridDim.x, gosde::Block{(int)threadIdx.x, (int)blockDim.x});
}
