// revheun.cuh: one path of the reversible Heun method of docs/DESIGN.md ("Reversible
// Heun", "The reversible adjoint") for an MLP vector field (the neural SDE dY = f dt + g∘dW or the neural CDE dH = g·dX), forward over a
// chunk of steps and its algebraic adjoint backward over a chunk, exactly as the Go
// engine's solver.Reversible: the same order of evaluations and VJPs, the same reuse of
// the most recent evaluation's activations, the same resets at output times. The
// formulas stated plainly (one path, float64, unfused) are internal/oracle's Step,
// Inverse and AdjointStep; package kernels' tests hold this code, compiled into
// kernels/check/harness.cc, to both the Go engine and the oracle.
//
// Each path keeps its state in rows of a feature-major workspace (row r of path p at
// ws[r·B + p]); the rows are laid out by the field descriptor built in Go by
// kernels.NewField. Between chunks the state stays in the workspace, so the host can
// stream the Brownian increments chunk by chunk; during a launch it may sit in the
// block's shared memory instead (staging, at the end of this file). A path is worked on
// by one or more lanes (Lanes, gosde.cuh).
#ifndef GOSDE_REVHEUN_CUH
#define GOSDE_REVHEUN_CUH

#include "mlp.cuh"

namespace gosde {

// The noise types (enum Noise) come from constants.cuh.

// Field descriptor layout (int32), written by Go's kernels.NewField. Entries from
// F_Y on are workspace row offsets.
enum {
	F_D = 0,       // state size d
	F_M = 1,       // noise (or control) channels m
	F_NOISE = 2,   // how g acts on dW
	F_DRIFT = 3,   // offset of the drift MLP's descriptor in this array, 0: no drift (CDE)
	F_DIFF = 4,    // offset of the diffusion MLP's descriptor
	F_NPARAMS = 5, // parameters of the field (drift's then diffusion's)
	F_ROWS = 6,    // workspace rows per path
	F_GLEN = 7,    // length of g per path: d (Diagonal, Scalar) or d·m
	F_Y = 8, F_Z, F_F, F_G, F_AY, F_AZ, F_W, F_DWP, F_AF, F_AG, F_S, F_ACTF, F_ACTG, F_TMP,
	// The latent SDE's posterior (F_KIND = FIELD_LATENT) adds a prior drift h, the
	// latent size, σ's range (float bits) and rows for h, sigmoid(g), the three MLPs'
	// output cotangents and h's activations.
	F_KIND, F_PRIOR, F_LATENT_D, F_SIGMIN, F_SIGSPAN, F_H, F_SIG, F_CF, F_CH, F_CG, F_ACTH,
	// Rows for the lanes' partial sums (lanes_sum, lanes_max): GOSDE_MAX_LANES.
	F_LANE,
	F_HEADER
};

enum FieldKind { FIELD_MLP = 0, FIELD_LATENT = 1 };

#define GOSDE_MAX_LANES 32

GOSDE_HD float float_of_bits(int b) {
#ifdef __CUDA_ARCH__
	return __int_as_float(b);
#else
	float f;
	memcpy(&f, &b, sizeof f);
	return f;
#endif
}

// Field is one path's view of the field and its workspace.
struct Field {
	const int* fd;
	const float* theta;
	Vec ws;
	Lanes L;
	GOSDE_MEMBER Vec r(int which) const { return ws.row(fd[which]); }
};

// latent_eval is field_eval of the latent SDE's posterior on the state u = (z ∈ ℝᵈ,
// c ∈ ℝᵏ, ℓ): drift (f(t,z,c), 0, ½‖(f − h(t,z))/σ(t,z)‖²), diagonal diffusion
// (σ, 0, 0) with σ = σmin + span·sigmoid(g(t,z)) — Go's latent posterior.
GOSDE_HD void latent_eval(const Field& F, float t, Vec y) {
	const int* fd = F.fd;
	const int D = fd[F_D], d = fd[F_LATENT_D];
	const float smin = float_of_bits(fd[F_SIGMIN]), span = float_of_bits(fd[F_SIGSPAN]);
	Vec f = F.r(F_F), g = F.r(F_G), h = F.r(F_H), sg = F.r(F_SIG);
	mlp_forward(fd + fd[F_DRIFT], F.theta, t, y, F.r(F_ACTF), f, F.L);
	mlp_forward(fd + fd[F_PRIOR], F.theta, t, y, F.r(F_ACTH), h, F.L);
	mlp_forward(fd + fd[F_DIFF], F.theta, t, y, F.r(F_ACTG), sg, F.L);
	float kl = 0.0f;
	GOSDE_LANE_LOOP(F.L, i, d) {
		const float s = sigmoidf(sg[i]);
		sg[i] = s;
		g[i] = smin + span * s;
		const float u = (f[i] - h[i]) / g[i];
		kl += u * u;
	}
	GOSDE_LANE_LOOP(F.L, i, D) {
		if (i < d) continue;
		f[i] = 0.0f;
		g[i] = 0.0f;
	}
	kl = lanes_sum(F.L, kl, F.r(F_LANE));
	if ((D - 1) % F.L.n == F.L.lane) f[D - 1] = 0.5f * kl;
	F.L.sync();
}

// latent_vjp is field_vjp of latent_eval: with u = (f − h)/σ, ∂ℓ'/∂f = u/σ,
// ∂ℓ'/∂h = −u/σ, ∂ℓ'/∂σ = −u²/σ.
GOSDE_HD void latent_vjp(const Field& F, float t, Vec y, Vec af, Vec ag, Vec ay, Vec gtheta) {
	const int* fd = F.fd;
	const int D = fd[F_D], d = fd[F_LATENT_D];
	const float span = float_of_bits(fd[F_SIGSPAN]);
	Vec f = F.r(F_F), g = F.r(F_G), h = F.r(F_H), sg = F.r(F_SIG);
	Vec cf = F.r(F_CF), ch = F.r(F_CH), cg = F.r(F_CG);
	F.L.sync();
	const float al = af[D - 1];
	GOSDE_LANE_LOOP(F.L, i, d) {
		const float s = g[i], u = (f[i] - h[i]) / s;
		cf[i] = af[i] + al * u / s;
		ch[i] = -al * u / s;
		cg[i] = (ag[i] - al * u * u / s) * (span * sg[i] * (1.0f - sg[i]));
	}
	mlp_vjp(fd + fd[F_DRIFT], F.theta, t, y, F.r(F_ACTF), cf, ay, gtheta, F.r(F_TMP), F.L);
	mlp_vjp(fd + fd[F_PRIOR], F.theta, t, y, F.r(F_ACTH), ch, ay, gtheta, F.r(F_TMP), F.L);
	mlp_vjp(fd + fd[F_DIFF], F.theta, t, y, F.r(F_ACTG), cg, ay, gtheta, F.r(F_TMP), F.L);
}

// field_eval evaluates f and g at (t, y) into rows F and G, keeping the activations.
GOSDE_HD void field_eval(const Field& F, float t, Vec y) {
	const int* fd = F.fd;
	if (fd[F_KIND] == FIELD_LATENT) {
		latent_eval(F, t, y);
		return;
	}
	if (fd[F_DRIFT]) {
		mlp_forward(fd + fd[F_DRIFT], F.theta, t, y, F.r(F_ACTF), F.r(F_F), F.L);
	} else {
		Vec f = F.r(F_F);
		GOSDE_LANE_LOOP(F.L, k, fd[F_D]) f[k] = 0.0f;
	}
	mlp_forward(fd + fd[F_DIFF], F.theta, t, y, F.r(F_ACTG), F.r(F_G), F.L);
}

// field_vjp adds af·∂f/∂(y,θ) + ag·∂g/∂(y,θ) at the most recent field_eval's point.
GOSDE_HD void field_vjp(const Field& F, float t, Vec y, Vec af, Vec ag, Vec ay, Vec gtheta) {
	const int* fd = F.fd;
	if (fd[F_KIND] == FIELD_LATENT) {
		latent_vjp(F, t, y, af, ag, ay, gtheta);
		return;
	}
	if (fd[F_DRIFT]) mlp_vjp(fd + fd[F_DRIFT], F.theta, t, y, F.r(F_ACTF), af, ay, gtheta, F.r(F_TMP), F.L);
	mlp_vjp(fd + fd[F_DIFF], F.theta, t, y, F.r(F_ACTG), ag, ay, gtheta, F.r(F_TMP), F.L);
}

// g_dot returns component k of g·dW.
GOSDE_HD float g_dot(const int* fd, Vec g, Vec dw, int k) {
	switch (fd[F_NOISE]) {
	case NOISE_DIAGONAL: return g[k] * dw[k];
	case NOISE_SCALAR: return g[k] * dw[0];
	default: {
		const int m = fd[F_M];
		float s = 0.0f;
		for (int j = 0; j < m; j++) s += g[k * m + j] * dw[j];
		return s;
	}
	}
}

// outer_set writes ag = a ⊗ (c·dW), the cotangent of g from the cotangent a of g·dW
// scaled by c; with add it adds instead.
GOSDE_HD void outer(const int* fd, Vec ag, Vec a, Vec dw, float c, bool add, const Lanes& L) {
	const int d = fd[F_D], m = fd[F_M];
	switch (fd[F_NOISE]) {
	case NOISE_DIAGONAL:
		GOSDE_LANE_LOOP(L, k, d) ag[k] = (add ? ag[k] : 0.0f) + a[k] * (c * dw[k]);
		break;
	case NOISE_SCALAR:
		GOSDE_LANE_LOOP(L, k, d) ag[k] = (add ? ag[k] : 0.0f) + a[k] * (c * dw[0]);
		break;
	default:
		GOSDE_LANE_LOOP(L, k, d)
			for (int j = 0; j < m; j++) ag[k * m + j] = (add ? ag[k * m + j] : 0.0f) + a[k] * (c * dw[j]);
	}
}

// gT_add adds c·gᵀa into out (m values): the cotangent of dW from the cotangent a of
// g·dW, for controls that need gradients. Lane l owns out[l], out[l + n], … and
// reads all of g and a.
GOSDE_HD void gT_add(const int* fd, Vec out, Vec g, Vec a, float c, const Lanes& L) {
	const int d = fd[F_D], m = fd[F_M];
	switch (fd[F_NOISE]) {
	case NOISE_DIAGONAL:
		GOSDE_LANE_LOOP(L, k, d) out[k] += c * g[k] * a[k];
		break;
	case NOISE_SCALAR: {
		if (L.lane == 0) {
			float s = 0.0f;
			for (int k = 0; k < d; k++) s += g[k] * a[k];
			out[0] += c * s;
		}
		break;
	}
	default:
		GOSDE_LANE_LOOP(L, j, m) {
			float s = 0.0f;
			for (int k = 0; k < d; k++) s += g[k * m + j] * a[k];
			out[j] += c * s;
		}
	}
}

// Solve describes the step grid and the arrays a chunk reads and writes, all
// feature-major with the batch B innermost:
//   ts[n], n = 0…N: step times (float32 of the Go engine's float64 times);
//   hs[n], n < N: step sizes, computed in float64 then rounded, as the Go engine does;
//   outidx[n]: the output index whose time is step point n, or −1;
//   dw: the chunk's increments, step n at ((n − n0)·m + j)·B + p;
//   ys: outputs, (i·d + k)·B + p.
struct Solve {
	const float* ts;
	const float* hs;
	const int* outidx;
	const float* dw;
	long long B, n0, n1, N;
};

GOSDE_HD Vec at(const float* a, long long B, long long p, long long row) { return Vec{(float*)a + row * B + p, B}; }

// Every loop over a path's d (or m) values below gives element k to lane k mod n, the
// same split as mlp_forward's outputs and mlp_vjp's input cotangents, so that most
// elements are only ever touched by their own lane; the barriers sit where a lane
// reads what another wrote (a whole vector as a network's input, a row of g, the
// previous step's ΔW).

// revheun_forward advances path p over steps n0…n1−1, its workspace ws (global
// memory or the block's shared memory). The first chunk (n0 = 0) starts from y0 (d
// rows) and writes ys at output 0.
GOSDE_HD void revheun_forward(const int* fd, const float* theta, Vec ws, const float* y0, Solve s, float* ys, long long p,
                              Lanes L) {
	const long long B = s.B;
	const int d = fd[F_D], m = fd[F_M];
	Field F{fd, theta, ws, L};
	Vec y = F.r(F_Y), z = F.r(F_Z), f = F.r(F_F), g = F.r(F_G);
	if (s.n0 == 0) {
		Vec v = at(y0, B, p, 0), o = at(ys, B, p, 0);
		GOSDE_LANE_LOOP(L, k, d) {
			y[k] = v[k];
			z[k] = v[k];
			o[k] = v[k];
		}
		field_eval(F, s.ts[0], z);
	}
	for (long long n = s.n0; n < s.n1; n++) {
		const float h = s.hs[n];
		Vec dw = at(s.dw, B, p, (n - s.n0) * m);
		// z₁ = 2y₀ − z₀ + f₀h + g₀ΔW, y half-way: y₀ + ½(f₀h + g₀ΔW)
		GOSDE_LANE_LOOP(L, k, d) {
			const float s0 = f[k] * h + g_dot(fd, g, dw, k);
			z[k] = 2.0f * y[k] - z[k] + s0;
			y[k] += 0.5f * s0;
		}
		field_eval(F, s.ts[n + 1], z);
		// y₁ = y₀ + ½(f₀ + f₁)h + ½(g₀ + g₁)ΔW
		GOSDE_LANE_LOOP(L, k, d) y[k] += 0.5f * (f[k] * h + g_dot(fd, g, dw, k));
		const int i = s.outidx[n + 1];
		if (i >= 0) {
			Vec o = at(ys, B, p, (long long)i * d);
			GOSDE_LANE_LOOP(L, k, d) o[k] = y[k];
		}
	}
}

GOSDE_HD void revheun_forward(const int* fd, const float* theta, float* ws, const float* y0, Solve s, float* ys, long long p) {
	revheun_forward(fd, theta, Vec{ws + p, s.B}, y0, s, ys, p, one_lane());
}

// Backward is what the adjoint reads and writes besides Solve: the stored outputs ys,
// their cotangents cot (same layout), the path's parameter-gradient accumulator
// gtheta (parameter j at j·B + p), the control cotangents adw (same layout as dw, or
// null for an SDE), the reconstruction errors recon (output i at i·B + p) and dL/dy0
// ay0 (d rows).
struct Backward {
	const float* ys;
	const float* cot;
	float* gtheta;
	float* adw;
	float* recon;
	float* ay0;
};

// revheun_backward runs the algebraic adjoint of path p over steps n1−1 down to n0,
// adding its parameter cotangents into gth (global memory or the block's shared
// memory). The first chunk (n1 = N) starts from the forward pass's final state; the
// last (n0 = 0) finishes with the VJP at (t₀, y₀) and writes ay0.
GOSDE_HD void revheun_backward(const int* fd, const float* theta, Vec ws, Solve s, Backward b, long long p, Vec gth,
                               Lanes L) {
	const long long B = s.B;
	const int d = fd[F_D], m = fd[F_M];
	Field F{fd, theta, ws, L};
	Vec y = F.r(F_Y), z = F.r(F_Z), f = F.r(F_F), g = F.r(F_G);
	Vec ay = F.r(F_AY), az = F.r(F_AZ), w = F.r(F_W), dwp = F.r(F_DWP);
	Vec af = F.r(F_AF), ag = F.r(F_AG), s1 = F.r(F_S);
	if (s.n1 == s.N) {
		const int last = s.outidx[s.N];
		Vec o = at(b.ys, B, p, (long long)last * d), c = at(b.cot, B, p, (long long)last * d);
		GOSDE_LANE_LOOP(L, k, d) {
			y[k] = o[k];
			ay[k] = c[k];
			az[k] = 0.0f;
			w[k] = 0.0f;
		}
		GOSDE_LANE_LOOP(L, j, m) dwp[j] = 0.0f;
		GOSDE_LANE_LOOP(L, j, fd[F_NPARAMS]) gth[j] = 0.0f;
		// f_N, g_N are not kept by the forward pass, and the VJP that follows must be
		// at the point of the most recent evaluation.
		field_eval(F, s.ts[s.N], z);
	}
	for (long long n = s.n1 - 1; n >= s.n0; n--) {
		const float h = s.hs[n];
		const float hprev = n + 1 < s.N ? s.hs[n + 1] : 0.0f;
		Vec dw = at(s.dw, B, p, (n - s.n0) * m);
		L.sync(); // ΔW' (dwp) was written a step ago by its owners
		// ã_f = a_f + ½h·a_y, ã_g = a_g + ½a_y⊗ΔW, with a_f = h'·w, a_g = w⊗ΔW'
		GOSDE_LANE_LOOP(L, k, d) af[k] = hprev * w[k] + 0.5f * h * ay[k];
		outer(fd, ag, w, dwp, 1.0f, false, L);
		outer(fd, ag, ay, dw, 0.5f, true, L);
		// ã_z = a_z + VJP(t₁, z₁)(ã_f, ã_g)
		field_vjp(F, s.ts[n + 1], z, af, ag, az, gth);
		Vec adw = b.adw ? at(b.adw, B, p, (n - s.n0) * m) : Vec{0, 0};
		if (b.adw) {
			GOSDE_LANE_LOOP(L, j, m) adw[j] = 0.0f;
			gT_add(fd, adw, g, ay, 0.5f, L);
		}
		// z₀ = 2y₁ − z₁ − f₁h − g₁ΔW (z₀ = y₀ exactly on the first step), and the
		// first half of y₀ = y₁ − ½(f₁h + g₁ΔW) − ½(f₀h + g₀ΔW), before f, g move to t₀.
		GOSDE_LANE_LOOP(L, k, d) s1[k] = f[k] * h + g_dot(fd, g, dw, k);
		if (n == 0) {
			Vec o = at(b.ys, B, p, 0);
			GOSDE_LANE_LOOP(L, k, d) z[k] = o[k];
		} else {
			GOSDE_LANE_LOOP(L, k, d) z[k] = 2.0f * y[k] - z[k] - s1[k];
		}
		GOSDE_LANE_LOOP(L, k, d) y[k] -= 0.5f * s1[k];
		field_eval(F, s.ts[n], z);
		GOSDE_LANE_LOOP(L, k, d) y[k] -= 0.5f * (f[k] * h + g_dot(fd, g, dw, k));
		if (b.adw) {
			gT_add(fd, adw, g, ay, 0.5f, L);
			gT_add(fd, adw, g, az, 1.0f, L);
		}
		// To step n: w = ½a_y + ã_z (so a_f = h·w, a_g = w⊗ΔW), a_y += 2ã_z, a_z = −ã_z.
		// Every lane has read a_y and a_z above (gT_add) before their owners change them.
		L.sync();
		GOSDE_LANE_LOOP(L, k, d) {
			w[k] = 0.5f * ay[k] + az[k];
			ay[k] += 2.0f * az[k];
			az[k] = -az[k];
		}
		GOSDE_LANE_LOOP(L, j, m) dwp[j] = dw[j];
		const int i = s.outidx[n];
		if (i >= 0) {
			// At an output time: measure the reconstruction, reset y to the stored
			// output, and add the output's cotangent.
			Vec o = at(b.ys, B, p, (long long)i * d), c = at(b.cot, B, p, (long long)i * d);
			float e = 0.0f;
			GOSDE_LANE_LOOP(L, k, d) {
				const float diff = fabsf(y[k] - o[k]);
				e = diff > e || diff != diff ? diff : e;
				y[k] = o[k];
				ay[k] += c[k];
			}
			e = lanes_max(L, e, F.r(F_LANE));
			if (L.lane == 0) b.recon[(long long)i * B + p] = e;
		}
	}
	if (s.n0 == 0) {
		// dL/dy₀ = a_y + a_z + VJP(t₀, y₀)(a_f, a_g); z holds y₀.
		const float h0 = s.hs[0];
		L.sync();
		GOSDE_LANE_LOOP(L, k, d) {
			af[k] = h0 * w[k];
			ay[k] += az[k];
		}
		outer(fd, ag, w, dwp, 1.0f, false, L);
		field_vjp(F, s.ts[0], z, af, ag, ay, gth);
		Vec o = at(b.ay0, B, p, 0);
		GOSDE_LANE_LOOP(L, k, d) o[k] = ay[k];
	}
}

GOSDE_HD void revheun_backward(const int* fd, const float* theta, float* ws, Solve s, Backward b, long long p) {
	revheun_backward(fd, theta, Vec{ws + p, s.B}, s, b, p, Vec{b.gtheta + p, s.B}, one_lane());
}

// Staging. A launch may keep each path's workspace rows (stage_ws) and, in the
// adjoint, its parameter cotangents (stage_g) in the block's shared memory rather
// than in global memory: the kernels read and write them at every step, and shared
// memory answers in a few cycles where global memory takes hundreds. Path q of the
// block keeps row r at smem[r·ppb + q], the workspace first. Between chunks (and
// after the last) they live in global memory, so a launch loads them first and
// stores them last.

// PathThread is where one thread of a launch sits: its path p, the path's slot q in
// the block (of ppb) and its lanes.
struct PathThread {
	long long p;
	int q, ppb;
	Lanes L;
};

// path_thread places thread tid of block `block` (of bdim threads, `lanes` of them per
// path): consecutive threads are the lanes of one path, so a path's lanes share a
// warp. The barrier mask is the caller's (the GPU's live lanes of the warp).
GOSDE_HD PathThread path_thread(long long block, int tid, int bdim, int lanes) {
	const int q = tid / lanes, ppb = bdim / lanes;
	return PathThread{block * ppb + q, q, ppb, Lanes{tid % lanes, lanes, 0xffffffffu}};
}

GOSDE_HD void stage_rows(Vec dst, Vec src, int rows, const Lanes& L) {
	GOSDE_LANE_LOOP(L, r, rows) dst[r] = src[r];
}

// revheun_forward_staged is revheun_forward for thread th of a launch, its workspace
// in smem when stage_ws.
GOSDE_HD void revheun_forward_staged(const int* fd, const float* theta, float* ws, const float* y0, Solve s, float* ys,
                                     PathThread th, float* smem, bool stage_ws) {
	if (!stage_ws) smem = nullptr;
	const int rows = fd[F_ROWS];
	const Vec global{ws + th.p, s.B};
	Vec w = global;
	if (smem) {
		w = Vec{smem + th.q, th.ppb};
		stage_rows(w, global, rows, th.L);
		th.L.sync(); // rows were loaded by other lanes than their elements' owners
	}
	revheun_forward(fd, theta, w, y0, s, ys, th.p, th.L);
	if (smem) {
		th.L.sync();
		stage_rows(global, w, rows, th.L);
	}
}

// revheun_backward_staged is revheun_backward for thread th of a launch, its
// workspace (stage_ws) and parameter cotangents (stage_g) in smem, the workspace
// first.
GOSDE_HD void revheun_backward_staged(const int* fd, const float* theta, float* ws, Solve s, Backward b, PathThread th,
                                      float* smem, bool stage_ws, bool stage_g) {
	const int rows = fd[F_ROWS], np = fd[F_NPARAMS];
	float* smem_ws = stage_ws ? smem : nullptr;
	float* smem_g = stage_g ? smem + (stage_ws ? (long long)rows * th.ppb : 0) : nullptr;
	const Vec global{ws + th.p, s.B}, gglobal{b.gtheta + th.p, s.B};
	Vec w = global, gth = gglobal;
	if (smem_ws) {
		w = Vec{smem_ws + th.q, th.ppb};
		stage_rows(w, global, rows, th.L);
	}
	if (smem_g) {
		gth = Vec{smem_g + th.q, th.ppb};
		if (s.n1 != s.N) stage_rows(gth, gglobal, np, th.L);
	}
	th.L.sync(); // rows were loaded by other lanes than their elements' owners
	revheun_backward(fd, theta, w, s, b, th.p, gth, th.L);
	th.L.sync();
	if (smem_ws) stage_rows(global, w, rows, th.L);
	if (smem_g) stage_rows(gglobal, gth, np, th.L);
}

} // namespace gosde

#endif
