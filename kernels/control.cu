// control.cu: the SDE-GAN discriminator's control path on the device (control.cuh),
// one thread per path, so that generated paths never travel to the host.
#include "control.cuh"

#define GOSDE_PATH const long long p = (long long)blockIdx.x * blockDim.x + threadIdx.x

extern "C" __global__ void gosde_gan_control(const float* ts, const float* yfake, const float* yreal, float* xs,
                                             long long T, long long C, long long B) {
	GOSDE_PATH;
	if (p >= 2 * B) return;
	gosde::gan_control(ts, yfake, yreal, xs, (int)T, (int)C, B, p);
}

extern "C" __global__ void gosde_gan_control_vjp(const float* axs, float* ayfake, long long T, long long C,
                                                 long long B) {
	GOSDE_PATH;
	if (p >= B) return;
	gosde::gan_control_vjp(axs, ayfake, (int)T, (int)C, B, p);
}

// One thread per path and step.
extern "C" __global__ void gosde_control_increments(const float* xs, float* dw, const int* interval,
                                                    const int* steps, long long m, long long B, long long n0,
                                                    long long n1) {
	const long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
	if (t >= (n1 - n0) * B) return;
	gosde::control_increments(xs, dw, interval, steps, (int)m, B, n0, n0 + t / B, t % B);
}

// One thread per path, output time and channel.
extern "C" __global__ void gosde_chain_control(const float* adw, float* axs, const int* first, const int* steps,
                                               long long T, long long m, long long B) {
	const long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
	if (t >= T * m * B) return;
	const long long q = t / B;
	gosde::chain_control(adw, axs, first, steps, (int)T, (int)m, (int)(q / m), (int)(q % m), B, t % B);
}
