// mlp.cuh: one path's forward pass and vector-Jacobian product of a multilayer
// perceptron, in the parameter layout of Go's nn.MLP (per layer W out×in row-major,
// then b), reading its shape from an int32 descriptor built by kernels.MLPDesc.
#ifndef GOSDE_MLP_CUH
#define GOSDE_MLP_CUH

#include "gosde.cuh"

namespace gosde {

// MLP descriptor layout (int32), written by Go's kernels.MLPDesc.
enum {
	MLP_LAYERS = 0,   // number of affine layers L
	MLP_HAS_T = 1,    // 1 when the first input is the time t (vector fields of [t, y])
	MLP_IN_Y = 2,     // inputs taken from the path's vector y
	MLP_MAXW = 3,     // widest layer input or output: the VJP's scratch is 2·MAXW rows
	MLP_ACT_ROWS = 4, // rows of activations kept per path: 2·Σ out_l (z_l then a_l)
	MLP_LAYER0 = 5,   // then per layer: in, out, act, offset of W, offset of b
	MLP_LSTRIDE = 5
};

GOSDE_HD const int* mlp_layer(const int* md, int l) { return md + MLP_LAYER0 + MLP_LSTRIDE * l; }

// GOSDE_LDG reads the parameters, which no kernel writes while another reads them,
// through the GPU's read-only data cache.
#ifdef __CUDA_ARCH__
#define GOSDE_LDG(p) __ldg(p)
#else
#define GOSDE_LDG(p) (*(p))
#endif

// dot returns Σ_{i<n} w[i·ws]·x[i] in four partial sums, added as (s0 + s1) + (s2 + s3):
// the loads and multiply-adds of four terms are in flight at once, where one running
// sum would make every term wait for the one before — on the GPU, where a path's lane
// has few other warps to switch to, that wait is most of a step's time.
GOSDE_HD float dot(const float* w, int ws, Vec x, int n) {
	float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
	int i = 0;
	for (; i + 4 <= n; i += 4) {
		const float w0 = GOSDE_LDG(w + i * ws), w1 = GOSDE_LDG(w + (i + 1) * ws);
		const float w2 = GOSDE_LDG(w + (i + 2) * ws), w3 = GOSDE_LDG(w + (i + 3) * ws);
		const float x0 = x[i], x1 = x[i + 1], x2 = x[i + 2], x3 = x[i + 3];
		s0 += w0 * x0;
		s1 += w1 * x1;
		s2 += w2 * x2;
		s3 += w3 * x3;
	}
	for (; i < n; i++) s0 += GOSDE_LDG(w + i * ws) * x[i];
	return (s0 + s1) + (s2 + s3);
}

// add_scaled adds c·x[i] to g[i] for i < n, four elements at a time with every load
// before any store: g and x are both views of per-path memory, which the compiler
// must assume may overlap, so one element at a time would finish each store before
// the next load.
GOSDE_HD void add_scaled(Vec g, float c, Vec x, int n) {
	int i = 0;
	for (; i + 4 <= n; i += 4) {
		const float x0 = x[i], x1 = x[i + 1], x2 = x[i + 2], x3 = x[i + 3];
		const float g0 = g[i], g1 = g[i + 1], g2 = g[i + 2], g3 = g[i + 3];
		g[i] = g0 + c * x0;
		g[i + 1] = g1 + c * x1;
		g[i + 2] = g2 + c * x2;
		g[i + 3] = g3 + c * x3;
	}
	for (; i < n; i++) g[i] += c * x[i];
}

// mlp_forward evaluates the MLP on [t, y] (or y), keeping every layer's pre-activation
// z_l and activation a_l in act for mlp_vjp, and writes the output to out. Lane l of
// the path's lanes computes outputs l, l + n, …: each reads the whole input, so the
// lanes meet at a barrier before every layer.
GOSDE_HD void mlp_forward(const int* md, const float* theta, float t, Vec y, Vec act, Vec out, Lanes L) {
	const int nl = md[MLP_LAYERS];
	int row = 0, prev = 0;
	for (int l = 0; l < nl; l++) {
		const int* ly = mlp_layer(md, l);
		const int in = ly[0], nout = ly[1], fn = ly[2];
		const float* W = theta + ly[3];
		const float* b = theta + ly[4];
		Vec z = act.row(row), a = act.row(row + nout);
		L.sync();
		GOSDE_LANE_LOOP(L, o, nout) {
			float s = GOSDE_LDG(b + o);
			const float* w = W + (long long)o * in;
			if (l == 0) {
				const int ht = md[MLP_HAS_T];
				if (ht) s += GOSDE_LDG(w) * t;
				s += dot(w + ht, 1, y, in - ht);
			} else {
				s += dot(w, 1, act.row(prev), in);
			}
			z[o] = s;
			a[o] = act_apply(fn, s);
		}
		prev = row + nout;
		row += 2 * nout;
	}
	const int nout = mlp_layer(md, nl - 1)[1];
	Vec a = act.row(prev);
	GOSDE_LANE_LOOP(L, o, nout) out[o] = a[o];
	L.sync();
}

GOSDE_HD void mlp_forward(const int* md, const float* theta, float t, Vec y, Vec act, Vec out) {
	mlp_forward(md, theta, t, y, act, out, one_lane());
}

// mlp_vjp adds, for the evaluation recorded in act at (t, y), the cotangent cot of the
// output pulled back to y into ay (when ay.p is not null) and to the parameters into
// gtheta (this path's own accumulator, in theta's layout). tmp holds 2·MAXW rows.
// Lane l owns rows l, l + n, … of every layer's weights (their cotangents are its
// alone, so no two lanes add to one element) and inputs l, l + n, … of the cotangent
// it passes down, which is the same split as the layer below's outputs.
GOSDE_HD void mlp_vjp(const int* md, const float* theta, float t, Vec y, Vec act, Vec cot, Vec ay, Vec gtheta, Vec tmp,
                      Lanes L) {
	const int nl = md[MLP_LAYERS];
	const int maxw = md[MLP_MAXW];
	Vec delta = tmp, next = tmp.row(maxw);
	// Rows of layer l's z and a: layers are stored one after the other, 2·out each.
	int row = md[MLP_ACT_ROWS];
	L.sync();
	{
		const int* ly = mlp_layer(md, nl - 1);
		const int nout = ly[1], fn = ly[2];
		row -= 2 * nout;
		Vec z = act.row(row), a = act.row(row + nout);
		GOSDE_LANE_LOOP(L, o, nout) delta[o] = cot[o] * act_deriv(fn, z[o], a[o]);
	}
	for (int l = nl - 1; l >= 0; l--) {
		const int* ly = mlp_layer(md, l);
		const int in = ly[0], nout = ly[1];
		const float* W = theta + ly[3];
		Vec gW = gtheta.row(ly[3]), gb = gtheta.row(ly[4]);
		if (l > 0) {
			const int* lp = mlp_layer(md, l - 1);
			const int pin = lp[1], pfn = lp[2];
			const int prow = row - 2 * pin;
			Vec zp = act.row(prow), ap = act.row(prow + pin);
			GOSDE_LANE_LOOP(L, o, nout) {
				const float d = delta[o];
				gb[o] += d;
				add_scaled(gW.row(o * in), d, ap, in);
			}
			L.sync();
			GOSDE_LANE_LOOP(L, i, in) next[i] = dot(W + i, in, delta, nout) * act_deriv(pfn, zp[i], ap[i]);
			Vec sw = delta;
			delta = next;
			next = sw;
			row = prow;
		} else {
			const int ht = md[MLP_HAS_T];
			GOSDE_LANE_LOOP(L, o, nout) {
				const float d = delta[o];
				gb[o] += d;
				if (ht) gW[o * in] += d * t;
				add_scaled(gW.row(o * in + ht), d, y, in - ht);
			}
			if (ay.p) {
				L.sync();
				GOSDE_LANE_LOOP(L, k, md[MLP_IN_Y]) ay[k] += dot(W + ht + k, in, delta, nout);
			}
		}
	}
	L.sync();
}

GOSDE_HD void mlp_vjp(const int* md, const float* theta, float t, Vec y, Vec act, Vec cot, Vec ay, Vec gtheta, Vec tmp) {
	mlp_vjp(md, theta, t, y, act, cot, ay, gtheta, tmp, one_lane());
}

// BlockPath is one thread's share of a batch-MLP launch (mlp.cu): path p of block i
// (of count blocks of B paths, block i at offsets i·(rows per path)·B), with its views
// of the input x, the activations and the output y (or the output's cotangent).
struct BlockPath {
	long long i, p, in;
	Vec x, act, y;
};

GOSDE_HD BlockPath block_path(const int* md, float* x, float* act, float* y, long long B, long long t) {
	const long long in = mlp_layer(md, 0)[0], out = mlp_layer(md, md[MLP_LAYERS] - 1)[1];
	const long long rows = md[MLP_ACT_ROWS], i = t / B, p = t % B;
	return BlockPath{i, p, in, Vec{x + i * in * B + p, B}, Vec{act + i * rows * B + p, B}, Vec{y + i * out * B + p, B}};
}

// block_vjp is the VJP of one thread of a batch-MLP launch: the cotangent cot of its
// output pulled back into ax (when not null) and into its own parameter-cotangent
// column of gtheta (parameter j at j·count·B + i·B + p), zeroed first; tmp holds
// 2·MAXW rows of count·B.
GOSDE_HD void block_vjp(const int* md, const float* theta, float* x, float* act, float* cot, float* ax, float* gtheta,
                        float* tmp, long long nparams, long long count, long long B, long long t) {
	const BlockPath bp = block_path(md, x, act, cot, B, t);
	Vec g{gtheta + bp.i * B + bp.p, count * B};
	// This MLP's rows of gtheta: its parameters start at its first layer's weights
	// (the descriptor's offsets may place it inside a larger network's vector).
	const int base = mlp_layer(md, 0)[3];
	for (long long j = 0; j < nparams; j++) g[base + (int)j] = 0.0f;
	mlp_vjp(md, theta, 0.0f, bp.x, bp.act, bp.y, Vec{ax ? ax + bp.i * bp.in * B + bp.p : 0, B}, g,
	        Vec{tmp + bp.i * B + bp.p, count * B});
}

} // namespace gosde

#endif
