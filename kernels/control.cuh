// control.cuh: one path's control path for the neural CDE of the SDE-GAN's
// discriminator, kept on the device: the path X̂ = [t, Y] of a generated or a real
// series, its increments over the solver's steps (linear interpolation between the
// output times, as Go's solver.SolveCDE), and the chain of the increments' cotangents
// back to the path and to the generated Y.
#ifndef GOSDE_CONTROL_CUH
#define GOSDE_CONTROL_CUH

#include "gosde.cuh"

namespace gosde {

// gan_control writes path p's control at every output time: xs row t·dc (time) and
// rows t·dc + 1 + c (data), for 2B paths of which the first B are generated (yfake,
// T×C×B) and the rest real (yreal, T×C×B). All arrays feature-major.
GOSDE_HD void gan_control(const float* ts, const float* yfake, const float* yreal, float* xs, int T, int C,
                          long long B, long long p) {
	const long long B2 = 2 * B;
	const int dc = 1 + C;
	const bool fake = p < B;
	const long long q = fake ? p : p - B;
	const float* y = fake ? yfake : yreal;
	for (int t = 0; t < T; t++) {
		xs[((long long)t * dc) * B2 + p] = ts[t];
		for (int c = 0; c < C; c++) xs[((long long)t * dc + 1 + c) * B2 + p] = y[((long long)t * C + c) * B + q];
	}
}

// gan_control_vjp extracts the cotangent of the generated Y from that of the control
// (the time channel and the real paths have none to pass on).
GOSDE_HD void gan_control_vjp(const float* axs, float* ayfake, int T, int C, long long B, long long p) {
	const long long B2 = 2 * B;
	const int dc = 1 + C;
	for (int t = 0; t < T; t++)
		for (int c = 0; c < C; c++) ayfake[((long long)t * C + c) * B + p] = axs[((long long)t * dc + 1 + c) * B2 + p];
}

// control_increments writes path p's increment of step n (n0 ≤ n < n1) into dw (chunk
// layout ((n − n0)·m + j)·B + p): step n of output interval i = interval[n], one of
// steps[i], gets (X_{i+1} − X_i)/steps[i], as Go's solver computes it.
GOSDE_HD void control_increments(const float* xs, float* dw, const int* interval, const int* steps, int m,
                                 long long B, long long n0, long long n, long long p) {
	const int i = interval[n];
	const float k = (float)steps[i];
	for (int j = 0; j < m; j++) {
		const float x0 = xs[((long long)i * m + j) * B + p], x1 = xs[((long long)(i + 1) * m + j) * B + p];
		dw[((n - n0) * m + j) * B + p] = (x1 - x0) / k;
	}
}

// interval_cotangent returns the cotangent of X_{i+1} − X_i for channel j of path p:
// the mean over interval i's steps of their increments' cotangents adw (N×m×B).
GOSDE_HD float interval_cotangent(const float* adw, const int* first, const int* steps, int i, int m, int j,
                                  long long B, long long p) {
	float s = 0.0f;
	for (int n = first[i]; n < first[i] + steps[i]; n++) s += adw[((long long)n * m + j) * B + p];
	return s / (float)steps[i];
}

// chain_control adds to axs (the control's cotangent, T×m×B) path p's share of the
// cotangents of every step's increment through control_increments, at output time i
// and channel j: +(interval i − 1's) − (interval i's), in that order (the order in
// which a loop over the intervals would add them).
GOSDE_HD void chain_control(const float* adw, float* axs, const int* first, const int* steps, int T, int m, int i,
                            int j, long long B, long long p) {
	float v = axs[((long long)i * m + j) * B + p];
	if (i > 0) v += interval_cotangent(adw, first, steps, i - 1, m, j, B, p);
	if (i + 1 < T) v -= interval_cotangent(adw, first, steps, i, m, j, B, p);
	axs[((long long)i * m + j) * B + p] = v;
}

} // namespace gosde

#endif
