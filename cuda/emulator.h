// emulator.h: the kernels of package kernels as C functions that run every GPU
// thread of a launch as one iteration of a loop (emulator.cc).
#ifndef GOSDE_EMULATOR_H
#define GOSDE_EMULATOR_H

#ifdef __cplusplus
extern "C" {
#endif

// The SHA-256 of the kernel sources this emulator was compiled from.
const char* emu_kernels_sha256(void);

// The lanes of a path run in reverse order at each barrier when reverse is nonzero.
void emu_set_lane_order(long long reverse);
void emu_revheun_forward(const int* fd, const float* theta, float* ws, const float* y0, const float* ts,
                         const float* hs, const int* outidx, const float* dw, float* ys, long long B, long long n0,
                         long long n1, long long N, long long lanes, long long threads, long long stage_ws);
void emu_revheun_backward(const int* fd, const float* theta, float* ws, const float* ts, const float* hs,
                          const int* outidx, const float* dw, const float* ys, const float* cot, float* gtheta,
                          float* adw, float* recon, float* ay0, long long B, long long n0, long long n1, long long N,
                          long long lanes, long long threads, long long stage_ws, long long stage_g);
void emu_mlp_forward(const int* md, const float* theta, float* x, float* act, float* y, long long count, long long B);
void emu_mlp_vjp(const int* md, const float* theta, float* x, float* act, float* cot, float* ax, float* gtheta,
                 float* tmp, long long nparams, long long count, long long B);
void emu_gan_control(const float* ts, const float* yfake, const float* yreal, float* xs, long long T, long long C,
                     long long B);
void emu_gan_control_vjp(const float* axs, float* ayfake, long long T, long long C, long long B);
void emu_control_increments(const float* xs, float* dw, const int* interval, const int* steps, long long m,
                            long long B, long long n0, long long n1);
void emu_chain_control(const float* adw, float* axs, const int* first, const int* steps, long long T, long long m,
                       long long B);
void emu_sum_rows(const float* in, float* out, long long rows, long long B, double scale, long long accumulate);
void emu_max_rows(const float* in, float* out, long long rows, long long B);
void emu_adadelta(float* p, const float* g, float* sq, float* acc, long long n, double lr, double rho, double eps,
                  double wd);
void emu_swa(float* avg, const float* p, long long n, long long count);
void emu_clip(float* x, long long n, double lim);
// The signature-kernel kernels. emu_sigkernel_pairs returns 0, or 1 when ws_stride is
// not the kernels' workspace size, or 2 when the threads of a block did not all pass
// the same number of barriers.
long long emu_sigkernel_pairs(const double* paths, const int* pairs, double* vals, double* pg, double* ws, long long P,
                              long long Pg, long long Pw, long long len, long long dim, long long refine,
                              long long kind, double sigma2, double scale_w, double scale_c, long long stage,
                              long long ws_stride, long long blocks, long long threads);
void emu_sigkernel_grad(const double* pg, const int* off, const int* ent, double* grad, long long M, long long LD);
long long emu_sigkernel_values(const double* vals, double* out, long long Pw, long long Pc, long long Pr);

#ifdef __cplusplus
}
#endif

#endif
