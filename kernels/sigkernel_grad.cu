// sigkernel_grad.cu: the scoring rule's gradient with respect to the generated paths,
// summed from the per-pair gradients of gosde_sigkernel_pairs in a fixed order (no
// atomics: the same bits on every run). One thread per element of the generated paths
// (M·LD of them); path g's slots are ent[off[g] … off[g+1]).
#include "sigkernel.cuh"

extern "C" __global__ void gosde_sigkernel_grad(const double* pg, const int* off, const int* ent, double* grad,
                                                long long M, long long LD) {
	const long long q = (long long)blockIdx.x * blockDim.x + threadIdx.x;
	if (q >= M * LD) return;
	gosde::sig_grad_sum(pg, off, ent, grad, LD, q);
}
