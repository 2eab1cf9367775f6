// sigkernel.cuh: the signature kernel of pairs of paths and its gradient, exactly as
// package sigkernel computes them on the CPU (the same discrete scheme, the same
// dyadic refinement, the same grouping of every sum that decides the bits), in float64,
// for the GPU engine's scoring rule (sigkernel_pairs.cu, sigkernel_grad.cu,
// sigkernel_values.cu).
//
// One block works on one pair at a time. The n×n grid of the two refined paths' points
// is swept by anti-diagonals: cell (i, j) needs the solution at its corners (i+1, j),
// (i, j+1) and (i, j), which lie on the two point diagonals before its own, so the cells
// of one diagonal are independent. Thread t of the block owns cell rows t, t+T, t+2T…
// (T the block's threads), and a barrier (Block::sync) separates consecutive diagonals.
// The whole forward grid is kept for the backward sweep, which runs the diagonals in
// reverse, gathering each cell's adjoint from the three cells that read its top-right
// corner; that is the transpose of the CPU's scatter, and sums the same terms in the
// same order. Every accumulator has one writer per diagonal (see sig_backward), so no
// atomics are needed and the result does not depend on T.
//
// Grids are stored diagonal-major: point (I, J) at ((I+J) mod n)·n + I, so the threads
// of one diagonal touch consecutive addresses (coalesced in global memory, no bank
// conflicts in shared memory).
#ifndef GOSDE_SIGKERNEL_CUH
#define GOSDE_SIGKERNEL_CUH

#include "gosde.cuh"

namespace gosde {

// Static kernels, numbered as sigkernel.Static in Go.
enum SigStatic { SIG_LINEAR = 0, SIG_RBF = 1 };

// The most threads a pair's block has (the pairs kernel's launch bound).
#define GOSDE_SIG_MAX_THREADS 256
// The threads of the values kernel's blocks (a power of two).
#define GOSDE_SIG_VALUES_THREADS 256

// Block is the thread t of the n threads of a block; sync() is the block's barrier.
// The emulator runs a block's threads as coroutines, each up to its next barrier in
// turn, so a missing barrier gives a wrong answer there too.
struct Block {
	int t, n;
	GOSDE_MEMBER void sync() const {
#if defined(__CUDA_ARCH__)
		__syncthreads();
#elif !defined(__CUDACC__)
		if (n > 1) lane_sync_hook();
#endif
	}
	// first returns this thread's first row (or element) at or after lo.
	GOSDE_MEMBER int first(int lo) const { return t >= lo ? t : t + (lo - t + n - 1) / n * n; }
};

// SigShape is what every pair of a launch shares: paths of len points of dimension
// dim, refined by 2^refine, and the static kernel.
struct SigShape {
	int len, dim, refine, kind;
	double sigma2;
	GOSDE_MEMBER int q() const { return 1 << refine; }
	// n is the points of a refined path, and of a side of the grid.
	GOSDE_MEMBER int n() const { return (len - 1) * q() + 1; }
};

// SigWS is one pair's workspace: the refined paths, the solution grid, the static
// kernel's grid (RBF), the cells' inner products, two rings of three diagonals of cell
// values for the backward sweep (the adjoint, and the cells' ∂k/∂p for RBF), and the
// gradients with respect to the refined points (for the linear kernel, per cell row of
// x and column of y: see sig_ref_grad).
struct SigWS {
	double *X, *Y, *U, *K, *P, *RA, *RD, *GX, *GY;
};

// sig_ws_doubles is the workspace of one pair, in doubles (cuda/sigkernel.go sizes
// its buffers by the same formula; the emulator checks that they agree).
GOSDE_HD long long sig_ws_doubles(const SigShape& s) {
	const long long n = s.n(), R = n - 1, d = s.dim;
	const long long k = s.kind == SIG_RBF ? n * n : 0;
	return 4 * n * d + n * n + k + R * R + 6 * R;
}

GOSDE_HD SigWS sig_ws(const SigShape& s, double* w) {
	const long long n = s.n(), R = n - 1, d = s.dim;
	SigWS ws;
	ws.X = w;
	ws.Y = ws.X + n * d;
	ws.GX = ws.Y + n * d;
	ws.GY = ws.GX + n * d;
	ws.U = ws.GY + n * d;
	ws.K = ws.U + n * n;
	ws.P = ws.K + (s.kind == SIG_RBF ? n * n : 0);
	ws.RA = ws.P + R * R;
	ws.RD = ws.RA + 3 * R;
	return ws;
}

// sig_diag is where diagonal k of a grid of side m starts.
GOSDE_HD long long sig_diag(int k, int m) { return (long long)(k % m) * m; }

// sig_at is where point (I, J) of a grid of side m sits.
GOSDE_HD long long sig_at(int I, int J, int m) { return sig_diag(I + J, m) + I; }

// sig_refined is element e (point e/dim, coordinate e%dim) of path x refined by
// 2^refine: each segment split into equal pieces, as sigkernel's refine.
GOSDE_HD double sig_refined(const SigShape& s, const double* x, long long e) {
	if (s.refine == 0) return x[e];
	const int d = s.dim, q = s.q();
	const long long k = e / d;
	const int c = (int)(e % d);
	const long long i = k >> s.refine;
	if (i == s.len - 1) return x[i * d + c];
	const double t = (double)(k & (q - 1)) / (double)q;
	const double a = x[i * d + c], b = x[(i + 1) * d + c];
	return a + t * (b - a);
}

// sig_cell is the inner product of cell (i, j) (the grid of static kernel values K
// must be complete for RBF).
GOSDE_HD double sig_cell(const SigShape& s, const SigWS& w, int i, int j) {
	if (s.kind == SIG_RBF) {
		const int n = s.n();
		// Grouped so that swapping the paths gives the same bits (sigkernel's cells).
		return (w.K[sig_at(i + 1, j + 1, n)] + w.K[sig_at(i, j, n)]) - (w.K[sig_at(i + 1, j, n)] + w.K[sig_at(i, j + 1, n)]);
	}
	const int d = s.dim;
	const double *x0 = w.X + (long long)i * d, *y0 = w.Y + (long long)j * d;
	double p = 0;
	for (int c = 0; c < d; c++) p += (x0[d + c] - x0[c]) * (y0[d + c] - y0[c]);
	return p;
}

// sig_forward solves the pair (x, y) into w.U and returns k(x, y) (in every thread).
// It also clears the gradient accumulators for sig_backward.
GOSDE_HD double sig_forward(const SigShape& s, const SigWS& w, const double* x, const double* y, const Block& B) {
	const int d = s.dim, n = s.n(), R = n - 1;
	const long long nd = (long long)n * d, nn = (long long)n * n, RR = (long long)R * R;
	for (long long e = B.t; e < nd; e += B.n) {
		w.X[e] = sig_refined(s, x, e);
		w.Y[e] = sig_refined(s, y, e);
		w.GX[e] = 0;
		w.GY[e] = 0;
	}
	B.sync();
	if (s.kind == SIG_RBF) {
		const double inv = -0.5 / s.sigma2;
		for (long long e = B.t; e < nn; e += B.n) {
			const int I = (int)(e % n);
			int J = (int)(e / n) - I;
			if (J < 0) J += n;
			const double *xi = w.X + (long long)I * d, *yj = w.Y + (long long)J * d;
			double ss = 0;
			for (int c = 0; c < d; c++) {
				const double e2 = xi[c] - yj[c];
				ss += e2 * e2;
			}
			w.K[e] = exp(inv * ss);
		}
		B.sync();
	}
	for (long long e = B.t; e < RR; e += B.n) {
		const int i = (int)(e % R);
		int j = (int)(e / R) - i;
		if (j < 0) j += R;
		w.P[e] = sig_cell(s, w, i, j);
	}
	for (int e = B.t; e < n; e += B.n) {
		w.U[sig_at(e, 0, n)] = 1;
		w.U[sig_at(0, e, n)] = 1;
	}
	B.sync();
	// Cell (i, j) on diagonal k = i + j sets point (i+1, j+1) from (i+1, j) and (i, j+1)
	// on point diagonal k+1 and (i, j) on k.
	for (int k = 0; k <= 2 * R - 2; k++) {
		const int lo = k - R + 1 > 0 ? k - R + 1 : 0, hi = k < R - 1 ? k : R - 1;
		const double *u0 = w.U + sig_diag(k, n), *u1 = w.U + sig_diag(k + 1, n), *pk = w.P + sig_diag(k, R);
		double* u2 = w.U + sig_diag(k + 2, n);
		for (int i = B.first(lo); i <= hi; i += B.n) {
			const double p = pk[i], p2 = p * p;
			u2[i + 1] = (u1[i + 1] + u1[i]) * (1 + 0.5 * p + p2 / 12) - u0[i] * (1 - p2 / 12);
		}
		B.sync();
	}
	return w.U[sig_at(R, R, n)];
}

// sig_point_grad adds the gradient of the RBF kernel's point (I, J) with cotangent dg:
// ∂κ(xᵢ, yⱼ)/∂xᵢ = κ·(yⱼ − xᵢ)/σ², and the opposite for yⱼ.
GOSDE_HD void sig_point_grad(const SigShape& s, const SigWS& w, int I, int J, double dg, double inv, bool wantY) {
	const int d = s.dim;
	const double c = dg * w.K[sig_at(I, J, s.n())] * inv;
	if (c == 0) return;
	const double *xi = w.X + (long long)I * d, *yj = w.Y + (long long)J * d;
	double *gx = w.GX + (long long)I * d, *gy = w.GY + (long long)J * d;
	for (int k = 0; k < d; k++) {
		const double e = c * (yj[k] - xi[k]);
		gx[k] += e;
		if (wantY) gy[k] -= e;
	}
}

// sig_backward sweeps the grid of sig_forward backwards from ∂/∂k = scale, into the
// gradients with respect to the refined points (w.GX, and w.GY when wantY).
//
// Cell (i, j)'s adjoint A(i, j) = ∂/∂u(i+1, j+1) gathers, in the CPU's order, from the
// cells that read that point: (i+1, j+1) as its lower-left corner, (i+1, j) and
// (i, j+1) as their upper-left and lower-right ones, on the two diagonals after its
// own: they are read from the rings of three diagonals. Who writes what, on one
// diagonal: the row's thread its ring entries and its row's accumulator (linear:
// GX row i; RBF: GX rows i+1, and 0 when i = 0); column accumulators (GY) get one cell
// or point of each column per diagonal, hence one writer. Barriers separate the
// diagonals.
GOSDE_HD void sig_backward(const SigShape& s, const SigWS& w, double scale, bool wantY, const Block& B) {
	const int d = s.dim, n = s.n(), R = n - 1;
	const bool rbf = s.kind == SIG_RBF;
	const double inv = 1 / s.sigma2;
	for (int k = 2 * R - 2; k >= 0; k--) {
		const int lo = k - R + 1 > 0 ? k - R + 1 : 0, hi = k < R - 1 ? k : R - 1;
		const double *u0 = w.U + sig_diag(k, n), *u1 = w.U + sig_diag(k + 1, n);
		const double *p0 = w.P + sig_diag(k, R), *p1 = w.P + sig_diag(k + 1, R), *p2 = w.P + sig_diag(k + 2, R);
		double* a0 = w.RA + (long long)(k % 3) * R;
		const double *a1 = w.RA + (long long)((k + 1) % 3) * R, *a2 = w.RA + (long long)((k + 2) % 3) * R;
		double* d0 = w.RD + (long long)(k % 3) * R;
		const double *d1 = w.RD + (long long)((k + 1) % 3) * R, *d2 = w.RD + (long long)((k + 2) % 3) * R;
		for (int i = B.first(lo); i <= hi; i += B.n) {
			const int j = k - i;
			const bool down = i + 1 < R, right = j + 1 < R;
			double a;
			if (!down && !right) {
				a = scale;
			} else {
				a = 0;
				if (down && right) {
					const double c = a2[i + 1], p = p2[i + 1];
					a -= c * (1 - p * p / 12);
				}
				if (down) {
					const double c = a1[i + 1], p = p1[i + 1];
					a += c * (1 + 0.5 * p + p * p / 12);
				}
				if (right) {
					const double c = a1[i], p = p1[i];
					a += c * (1 + 0.5 * p + p * p / 12);
				}
			}
			a0[i] = a;
			const double p = p0[i];
			const double dp = a * ((u1[i + 1] + u1[i]) * (0.5 + p / 6) + u0[i] * p / 6);
			if (!rbf) {
				// p = ⟨Δxᵢ, Δyⱼ⟩: GX row i sums dp·Δyⱼ, GY row j sums dp·Δxᵢ.
				const double *x0 = w.X + (long long)i * d, *y0 = w.Y + (long long)j * d;
				double *gx = w.GX + (long long)i * d, *gy = w.GY + (long long)j * d;
				for (int c = 0; c < d; c++) {
					gx[c] += dp * (y0[d + c] - y0[c]);
					if (wantY) gy[c] += dp * (x0[d + c] - x0[c]);
				}
				continue;
			}
			// RBF: the static kernel's cotangent at point (i+1, j+1) sums ± the four
			// cells around it, in the CPU's (ascending) order; the points on the axes
			// are done by the cells of row and column 0.
			d0[i] = dp;
			double dg = 0;
			dg += dp;
			if (right) dg -= d1[i];
			if (down) dg -= d1[i + 1];
			if (down && right) dg += d2[i + 1];
			sig_point_grad(s, w, i + 1, j + 1, dg, inv, wantY);
			if (i == 0) {
				double g0 = 0;
				g0 -= dp;
				if (right) g0 += d1[0];
				sig_point_grad(s, w, 0, j + 1, g0, inv, wantY);
			}
			if (j == 0) {
				double g0 = 0;
				g0 -= dp;
				if (down) g0 += d1[i + 1];
				sig_point_grad(s, w, i + 1, 0, g0, inv, wantY);
			}
			if (i == 0 && j == 0) sig_point_grad(s, w, 0, 0, dp, inv, wantY);
		}
		B.sync();
	}
}

// sig_ref_grad is coordinate c of the gradient with respect to refined point I, from
// the accumulators G of sig_backward.
GOSDE_HD double sig_ref_grad(const SigShape& s, const double* G, int I, int c) {
	const int d = s.dim;
	if (s.kind == SIG_RBF) return G[(long long)I * d + c];
	// Linear: Δxᵢ = x_{i+1} − xᵢ, so point I gets row I−1's sum minus row I's.
	const int R = s.n() - 1;
	double g = 0;
	if (I > 0) g += G[(long long)(I - 1) * d + c];
	if (I < R) g -= G[(long long)I * d + c];
	return g;
}

// sig_unrefine writes the gradient with respect to the original points into out
// (len·dim): the transpose of the refinement (sigkernel's unrefine).
GOSDE_HD void sig_unrefine(const SigShape& s, const double* G, double* out, const Block& B) {
	const int d = s.dim, q = s.q(), L = s.len;
	for (long long e = B.t; e < (long long)L * d; e += B.n) {
		const int o = (int)(e / d), c = (int)(e % d);
		if (s.refine == 0) {
			out[e] = sig_ref_grad(s, G, o, c);
			continue;
		}
		double g = 0;
		if (o > 0)
			for (int r = 0; r < q; r++) g += ((double)r / (double)q) * sig_ref_grad(s, G, (o - 1) * q + r, c);
		if (o < L - 1)
			for (int r = 0; r < q; r++) g += (1 - (double)r / (double)q) * sig_ref_grad(s, G, o * q + r, c);
		else
			g += sig_ref_grad(s, G, s.n() - 1, c);
		out[e] = g;
	}
}

// SigPairs is a launch's pairs: paths (generated then real, len·dim each), pairs (two
// path indices per pair: the within pairs, then the cross pairs, then the real set's),
// each pair's kernel value, and the per-pair gradients of the first Pg pairs (those
// of the first Pw, the within pairs, for both paths, the rest for the first only):
// pair p < Pw at slots 2p (its x) and 2p+1 (its y), pair Pw ≤ p < Pg at slot Pw + p,
// each slot len·dim values.
struct SigPairs {
	const double* paths;
	const int* pairs;
	double* vals;
	double* pg;
	long long P, Pg, Pw;
	double scaleW, scaleC;
};

// sig_pairs_block is block `block` of `blocks`: pairs block, block + blocks, … in the
// workspace ws.
GOSDE_HD void sig_pairs_block(const SigShape& s, const SigPairs& a, double* ws, long long block, long long blocks,
                              const Block& B) {
	const long long LD = (long long)s.len * s.dim;
	const SigWS w = sig_ws(s, ws);
	for (long long pr = block; pr < a.P; pr += blocks) {
		const double* x = a.paths + a.pairs[2 * pr] * LD;
		const double* y = a.paths + a.pairs[2 * pr + 1] * LD;
		const double k = sig_forward(s, w, x, y, B);
		if (B.t == 0) a.vals[pr] = k;
		if (pr < a.Pg) {
			const bool within = pr < a.Pw;
			sig_backward(s, w, within ? a.scaleW : a.scaleC, within, B);
			double* g = a.pg + (within ? 2 * pr : a.Pw + pr) * LD;
			sig_unrefine(s, w.GX, g, B);
			if (within) sig_unrefine(s, w.GY, g + LD, B);
		}
		B.sync(); // the next pair reuses the workspace
	}
}

// sig_grad_sum is element q of the generated paths' gradient (path q / LD): the sum of
// its pairs' slots, listed for path g at ent[off[g] … off[g+1]), in that order.
GOSDE_HD void sig_grad_sum(const double* pg, const int* off, const int* ent, double* grad, long long LD, long long q) {
	const long long g = q / LD, e = q % LD;
	double s = 0;
	for (int k = off[g]; k < off[g + 1]; k++) s += pg[(long long)ent[k] * LD + e];
	grad[q] = s;
}

// sig_values_block sets *out to the sum of vals[lo … hi): a strided sum per thread,
// then a tree over the block's threads (B.n a power of two) in part.
GOSDE_HD void sig_values_block(const double* vals, long long lo, long long hi, double* out, double* part, const Block& B) {
	double s = 0;
	for (long long p = lo + B.t; p < hi; p += B.n) s += vals[p];
	part[B.t] = s;
	B.sync();
	for (int h = B.n / 2; h > 0; h /= 2) {
		if (B.t < h) part[B.t] += part[B.t + h];
		B.sync();
	}
	if (B.t == 0) *out = part[0];
}

} // namespace gosde

#endif
