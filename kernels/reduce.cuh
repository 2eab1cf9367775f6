// reduce.cuh: the arithmetic of the deterministic row reductions (reduce.cu), shared with
// the emulator, which runs the same functions for each thread of a block in turn. Each
// row j is reduced by GOSDE_REDUCE_THREADS threads: thread t folds the values p = t,
// t + n, t + 2n, … of the row, then a shared-memory tree halves the partials, always
// pairing t with t + w. The order of every addition is thereby fixed by the block
// size alone, so a sum gives the same bits on every run.
#ifndef GOSDE_REDUCE_CUH
#define GOSDE_REDUCE_CUH

#include "gosde.cuh" // GOSDE_HD; and, through constants.cuh, reduce.cu's GOSDE_REDUCE_THREADS

namespace gosde {

// max_nan is the larger of m and v, or v when it is NaN: the reconstruction error of a
// diverged solve must not hide.
GOSDE_HD float max_nan(float m, float v) { return (v > m || v != v) ? v : m; }

// row_sum_part is thread t's (of n) strided sum over a row of B values.
GOSDE_HD float row_sum_part(const float* r, long long B, long long t, long long n) {
	float s = 0.0f;
	for (long long p = t; p < B; p += n) s += r[p];
	return s;
}

// row_max_part is thread t's (of n) strided max_nan over a row of B values, from 0.
GOSDE_HD float row_max_part(const float* r, long long B, long long t, long long n) {
	float m = 0.0f;
	for (long long p = t; p < B; p += n) m = max_nan(m, r[p]);
	return m;
}

// tree_sum_step and tree_max_step are thread t's step of the tree at width w.
GOSDE_HD void tree_sum_step(float* part, int t, int w) { part[t] += part[t + w]; }
GOSDE_HD void tree_max_step(float* part, int t, int w) { part[t] = max_nan(part[t], part[t + w]); }

// sum_rows_out is a row's result from its total: scaled in double, then added to the
// old value when accumulating.
GOSDE_HD float sum_rows_out(float total, double scale, long long accumulate, float old) {
	return (float)(scale * (double)total) + (accumulate ? old : 0.0f);
}

} // namespace gosde

#endif
