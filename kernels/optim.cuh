// optim.cuh: the elementwise updates of a training step — Adadelta with weight decay
// (torch.optim.Adadelta), stochastic weight averaging and entrywise clipping — written
// as Go's optim package computes them (float64 arithmetic on float32 storage), so the
// GPU engine's updates match the CPU engine's bit for bit.
#ifndef GOSDE_OPTIM_CUH
#define GOSDE_OPTIM_CUH

#include "gosde.cuh"

namespace gosde {

// adadelta_update applies one Adadelta step to parameter i.
GOSDE_HD void adadelta_update(float* p, const float* g, float* sq, float* acc, long long i, double lr, double rho, double eps, double wd) {
	double gi = (double)g[i];
	if (wd != 0.0) gi += wd * (double)p[i];
	const double s = rho * (double)sq[i] + (1.0 - rho) * gi * gi;
	const double delta = sqrt((double)acc[i] + eps) / sqrt(s + eps) * gi;
	const double u = rho * (double)acc[i] + (1.0 - rho) * delta * delta;
	sq[i] = (float)s;
	acc[i] = (float)u;
	p[i] = (float)((double)p[i] - lr * delta);
}

// swa_update folds parameter i into an average of n earlier values (n = 0: copy).
GOSDE_HD void swa_update(float* avg, const float* p, long long i, long long n) {
	if (n == 0) {
		avg[i] = p[i];
		return;
	}
	const double a = (double)avg[i];
	avg[i] = (float)(a + ((double)p[i] - a) / (double)(n + 1));
}

// clip_update clamps element i to [−lim, lim].
GOSDE_HD void clip_update(float* x, long long i, double lim) {
	const float l = (float)(-lim), h = (float)lim;
	if (x[i] < l) x[i] = l;
	else if (x[i] > h) x[i] = h;
}

} // namespace gosde

#endif
