// sigkernel_values.cu: the sums of the pairs' kernel values of gosde_sigkernel_pairs
// by kind, in a fixed order: block 0 the Pw within pairs, block 1 the next Pc cross
// pairs, block 2 the next Pr real pairs, into out[0…2]. GOSDE_SIG_VALUES_THREADS
// threads per block.
#include "sigkernel.cuh"

extern "C" __global__ void __launch_bounds__(GOSDE_SIG_VALUES_THREADS)
    gosde_sigkernel_values(const double* vals, double* out, long long Pw, long long Pc, long long Pr) {
	__shared__ double part[GOSDE_SIG_VALUES_THREADS];
	const long long b = blockIdx.x;
	if (b > 2) return;
	const long long lo = b == 0 ? 0 : b == 1 ? Pw : Pw + Pc;
	const long long hi = lo + (b == 0 ? Pw : b == 1 ? Pc : Pr);
	gosde::sig_values_block(vals, lo, hi, out + b, part, gosde::Block{(int)threadIdx.x, (int)blockDim.x});
}
