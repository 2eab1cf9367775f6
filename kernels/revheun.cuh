// revheun.cuh: one path of the reversible Heun method of DESIGN.md for an MLP vector
// field (the neural SDE dY = f dt + g∘dW or the neural CDE dH = g·dX), forward over a
// chunk of steps and its algebraic adjoint backward over a chunk, exactly as the Go
// engine's solver.Reversible: the same order of evaluations and VJPs, the same reuse of
// the most recent evaluation's activations, the same resets at output times.
//
// Each path keeps its state in rows of a feature-major workspace (row r of path p at
// ws[r·B + p]); the rows are laid out by the field descriptor built in Go by
// kernels.NewField. Between chunks the state stays in the workspace, so the host can
// stream the Brownian increments chunk by chunk.
#ifndef GOSDE_REVHEUN_CUH
#define GOSDE_REVHEUN_CUH

#include "mlp.cuh"

namespace gosde {

// Noise types, numbered as solver.Noise in Go.
enum Noise { NOISE_DIAGONAL = 0, NOISE_GENERAL = 1, NOISE_ADDITIVE = 2, NOISE_SCALAR = 3 };

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
	F_HEADER
};

enum FieldKind { FIELD_MLP = 0, FIELD_LATENT = 1 };

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
	mlp_forward(fd + fd[F_DRIFT], F.theta, t, y, F.r(F_ACTF), f);
	mlp_forward(fd + fd[F_PRIOR], F.theta, t, y, F.r(F_ACTH), h);
	mlp_forward(fd + fd[F_DIFF], F.theta, t, y, F.r(F_ACTG), sg);
	float kl = 0.0f;
	for (int i = 0; i < d; i++) {
		const float s = sigmoidf(sg[i]);
		sg[i] = s;
		g[i] = smin + span * s;
		const float u = (f[i] - h[i]) / g[i];
		kl += u * u;
	}
	for (int i = d; i < D; i++) {
		f[i] = 0.0f;
		g[i] = 0.0f;
	}
	f[D - 1] = 0.5f * kl;
}

// latent_vjp is field_vjp of latent_eval: with u = (f − h)/σ, ∂ℓ'/∂f = u/σ,
// ∂ℓ'/∂h = −u/σ, ∂ℓ'/∂σ = −u²/σ.
GOSDE_HD void latent_vjp(const Field& F, float t, Vec y, Vec af, Vec ag, Vec ay, Vec gtheta) {
	const int* fd = F.fd;
	const int D = fd[F_D], d = fd[F_LATENT_D];
	const float span = float_of_bits(fd[F_SIGSPAN]);
	Vec f = F.r(F_F), g = F.r(F_G), h = F.r(F_H), sg = F.r(F_SIG);
	Vec cf = F.r(F_CF), ch = F.r(F_CH), cg = F.r(F_CG);
	const float al = af[D - 1];
	for (int i = 0; i < d; i++) {
		const float s = g[i], u = (f[i] - h[i]) / s;
		cf[i] = af[i] + al * u / s;
		ch[i] = -al * u / s;
		cg[i] = (ag[i] - al * u * u / s) * (span * sg[i] * (1.0f - sg[i]));
	}
	mlp_vjp(fd + fd[F_DRIFT], F.theta, t, y, F.r(F_ACTF), cf, ay, gtheta, F.r(F_TMP));
	mlp_vjp(fd + fd[F_PRIOR], F.theta, t, y, F.r(F_ACTH), ch, ay, gtheta, F.r(F_TMP));
	mlp_vjp(fd + fd[F_DIFF], F.theta, t, y, F.r(F_ACTG), cg, ay, gtheta, F.r(F_TMP));
}

// field_eval evaluates f and g at (t, y) into rows F and G, keeping the activations.
GOSDE_HD void field_eval(const Field& F, float t, Vec y) {
	const int* fd = F.fd;
	if (fd[F_KIND] == FIELD_LATENT) {
		latent_eval(F, t, y);
		return;
	}
	if (fd[F_DRIFT]) {
		mlp_forward(fd + fd[F_DRIFT], F.theta, t, y, F.r(F_ACTF), F.r(F_F));
	} else {
		Vec f = F.r(F_F);
		for (int k = 0; k < fd[F_D]; k++) f[k] = 0.0f;
	}
	mlp_forward(fd + fd[F_DIFF], F.theta, t, y, F.r(F_ACTG), F.r(F_G));
}

// field_vjp adds af·∂f/∂(y,θ) + ag·∂g/∂(y,θ) at the most recent field_eval's point.
GOSDE_HD void field_vjp(const Field& F, float t, Vec y, Vec af, Vec ag, Vec ay, Vec gtheta) {
	const int* fd = F.fd;
	if (fd[F_KIND] == FIELD_LATENT) {
		latent_vjp(F, t, y, af, ag, ay, gtheta);
		return;
	}
	if (fd[F_DRIFT]) mlp_vjp(fd + fd[F_DRIFT], F.theta, t, y, F.r(F_ACTF), af, ay, gtheta, F.r(F_TMP));
	mlp_vjp(fd + fd[F_DIFF], F.theta, t, y, F.r(F_ACTG), ag, ay, gtheta, F.r(F_TMP));
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
GOSDE_HD void outer(const int* fd, Vec ag, Vec a, Vec dw, float c, bool add) {
	const int d = fd[F_D], m = fd[F_M];
	switch (fd[F_NOISE]) {
	case NOISE_DIAGONAL:
		for (int k = 0; k < d; k++) ag[k] = (add ? ag[k] : 0.0f) + a[k] * (c * dw[k]);
		break;
	case NOISE_SCALAR:
		for (int k = 0; k < d; k++) ag[k] = (add ? ag[k] : 0.0f) + a[k] * (c * dw[0]);
		break;
	default:
		for (int k = 0; k < d; k++)
			for (int j = 0; j < m; j++) ag[k * m + j] = (add ? ag[k * m + j] : 0.0f) + a[k] * (c * dw[j]);
	}
}

// gT_add adds c·gᵀa into out (m values): the cotangent of dW from the cotangent a of
// g·dW, for controls that need gradients.
GOSDE_HD void gT_add(const int* fd, Vec out, Vec g, Vec a, float c) {
	const int d = fd[F_D], m = fd[F_M];
	switch (fd[F_NOISE]) {
	case NOISE_DIAGONAL:
		for (int k = 0; k < d; k++) out[k] += c * g[k] * a[k];
		break;
	case NOISE_SCALAR: {
		float s = 0.0f;
		for (int k = 0; k < d; k++) s += g[k] * a[k];
		out[0] += c * s;
		break;
	}
	default:
		for (int j = 0; j < m; j++) {
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

// revheun_forward advances path p over steps n0…n1−1. The first chunk (n0 = 0) starts
// from y0 (d rows) and writes ys at output 0.
GOSDE_HD void revheun_forward(const int* fd, const float* theta, float* ws, const float* y0, Solve s, float* ys, long long p) {
	const long long B = s.B;
	const int d = fd[F_D], m = fd[F_M];
	Field F{fd, theta, Vec{ws + p, B}};
	Vec y = F.r(F_Y), z = F.r(F_Z), f = F.r(F_F), g = F.r(F_G);
	if (s.n0 == 0) {
		Vec v = at(y0, B, p, 0), o = at(ys, B, p, 0);
		for (int k = 0; k < d; k++) {
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
		for (int k = 0; k < d; k++) {
			const float s0 = f[k] * h + g_dot(fd, g, dw, k);
			z[k] = 2.0f * y[k] - z[k] + s0;
			y[k] += 0.5f * s0;
		}
		field_eval(F, s.ts[n + 1], z);
		// y₁ = y₀ + ½(f₀ + f₁)h + ½(g₀ + g₁)ΔW
		for (int k = 0; k < d; k++) y[k] += 0.5f * (f[k] * h + g_dot(fd, g, dw, k));
		const int i = s.outidx[n + 1];
		if (i >= 0) {
			Vec o = at(ys, B, p, (long long)i * d);
			for (int k = 0; k < d; k++) o[k] = y[k];
		}
	}
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

// revheun_backward runs the algebraic adjoint of path p over steps n1−1 down to n0.
// The first chunk (n1 = N) starts from the forward pass's final state; the last
// (n0 = 0) finishes with the VJP at (t₀, y₀) and writes ay0.
GOSDE_HD void revheun_backward(const int* fd, const float* theta, float* ws, Solve s, Backward b, long long p) {
	const long long B = s.B;
	const int d = fd[F_D], m = fd[F_M];
	Field F{fd, theta, Vec{ws + p, B}};
	Vec y = F.r(F_Y), z = F.r(F_Z), f = F.r(F_F), g = F.r(F_G);
	Vec ay = F.r(F_AY), az = F.r(F_AZ), w = F.r(F_W), dwp = F.r(F_DWP);
	Vec af = F.r(F_AF), ag = F.r(F_AG), s1 = F.r(F_S);
	Vec gth = Vec{b.gtheta + p, B};
	if (s.n1 == s.N) {
		const int last = s.outidx[s.N];
		Vec o = at(b.ys, B, p, (long long)last * d), c = at(b.cot, B, p, (long long)last * d);
		for (int k = 0; k < d; k++) {
			y[k] = o[k];
			ay[k] = c[k];
			az[k] = 0.0f;
			w[k] = 0.0f;
		}
		for (int j = 0; j < m; j++) dwp[j] = 0.0f;
		for (int j = 0; j < fd[F_NPARAMS]; j++) gth[j] = 0.0f;
		// f_N, g_N are not kept by the forward pass, and the VJP that follows must be
		// at the point of the most recent evaluation.
		field_eval(F, s.ts[s.N], z);
	}
	for (long long n = s.n1 - 1; n >= s.n0; n--) {
		const float h = s.hs[n];
		const float hprev = n + 1 < s.N ? s.hs[n + 1] : 0.0f;
		Vec dw = at(s.dw, B, p, (n - s.n0) * m);
		// ã_f = a_f + ½h·a_y, ã_g = a_g + ½a_y⊗ΔW, with a_f = h'·w, a_g = w⊗ΔW'
		for (int k = 0; k < d; k++) af[k] = hprev * w[k] + 0.5f * h * ay[k];
		outer(fd, ag, w, dwp, 1.0f, false);
		outer(fd, ag, ay, dw, 0.5f, true);
		// ã_z = a_z + VJP(t₁, z₁)(ã_f, ã_g)
		field_vjp(F, s.ts[n + 1], z, af, ag, az, gth);
		Vec adw = b.adw ? at(b.adw, B, p, (n - s.n0) * m) : Vec{0, 0};
		if (b.adw) {
			for (int j = 0; j < m; j++) adw[j] = 0.0f;
			gT_add(fd, adw, g, ay, 0.5f);
		}
		// z₀ = 2y₁ − z₁ − f₁h − g₁ΔW (z₀ = y₀ exactly on the first step), and the
		// first half of y₀ = y₁ − ½(f₁h + g₁ΔW) − ½(f₀h + g₀ΔW), before f, g move to t₀.
		for (int k = 0; k < d; k++) s1[k] = f[k] * h + g_dot(fd, g, dw, k);
		if (n == 0) {
			Vec o = at(b.ys, B, p, 0);
			for (int k = 0; k < d; k++) z[k] = o[k];
		} else {
			for (int k = 0; k < d; k++) z[k] = 2.0f * y[k] - z[k] - s1[k];
		}
		for (int k = 0; k < d; k++) y[k] -= 0.5f * s1[k];
		field_eval(F, s.ts[n], z);
		for (int k = 0; k < d; k++) y[k] -= 0.5f * (f[k] * h + g_dot(fd, g, dw, k));
		if (b.adw) {
			gT_add(fd, adw, g, ay, 0.5f);
			gT_add(fd, adw, g, az, 1.0f);
		}
		// To step n: w = ½a_y + ã_z (so a_f = h·w, a_g = w⊗ΔW), a_y += 2ã_z, a_z = −ã_z.
		for (int k = 0; k < d; k++) {
			w[k] = 0.5f * ay[k] + az[k];
			ay[k] += 2.0f * az[k];
			az[k] = -az[k];
		}
		for (int j = 0; j < m; j++) dwp[j] = dw[j];
		const int i = s.outidx[n];
		if (i >= 0) {
			// At an output time: measure the reconstruction, reset y to the stored
			// output, and add the output's cotangent.
			Vec o = at(b.ys, B, p, (long long)i * d), c = at(b.cot, B, p, (long long)i * d);
			float e = 0.0f;
			for (int k = 0; k < d; k++) {
				const float diff = fabsf(y[k] - o[k]);
				e = diff > e || diff != diff ? diff : e;
				y[k] = o[k];
				ay[k] += c[k];
			}
			b.recon[(long long)i * B + p] = e;
		}
	}
	if (s.n0 == 0) {
		// dL/dy₀ = a_y + a_z + VJP(t₀, y₀)(a_f, a_g); z holds y₀.
		const float h0 = s.hs[0];
		for (int k = 0; k < d; k++) {
			af[k] = h0 * w[k];
			ay[k] += az[k];
		}
		outer(fd, ag, w, dwp, 1.0f, false);
		field_vjp(F, s.ts[0], z, af, ag, ay, gth);
		Vec o = at(b.ay0, B, p, 0);
		for (int k = 0; k < d; k++) o[k] = ay[k];
	}
}

} // namespace gosde

#endif
