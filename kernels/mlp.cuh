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

// mlp_input returns input i of layer 0: t first when the MLP has one, then y.
GOSDE_HD float mlp_input(const int* md, float t, Vec y, int i) {
	if (md[MLP_HAS_T]) return i == 0 ? t : y[i - 1];
	return y[i];
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
			float s = b[o];
			const float* w = W + (long long)o * in;
			if (l == 0) {
				for (int i = 0; i < in; i++) s += w[i] * mlp_input(md, t, y, i);
			} else {
				Vec x = act.row(prev);
				for (int i = 0; i < in; i++) s += w[i] * x[i];
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
				for (int i = 0; i < in; i++) gW[o * in + i] += d * ap[i];
			}
			L.sync();
			GOSDE_LANE_LOOP(L, i, in) {
				float s = 0.0f;
				for (int o = 0; o < nout; o++) s += W[(long long)o * in + i] * delta[o];
				next[i] = s * act_deriv(pfn, zp[i], ap[i]);
			}
			Vec sw = delta;
			delta = next;
			next = sw;
			row = prow;
		} else {
			GOSDE_LANE_LOOP(L, o, nout) {
				const float d = delta[o];
				gb[o] += d;
				for (int i = 0; i < in; i++) gW[o * in + i] += d * mlp_input(md, t, y, i);
			}
			if (ay.p) {
				const int ht = md[MLP_HAS_T];
				L.sync();
				GOSDE_LANE_LOOP(L, k, md[MLP_IN_Y]) {
					float s = 0.0f;
					for (int o = 0; o < nout; o++) s += W[(long long)o * in + ht + k] * delta[o];
					ay[k] += s;
				}
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
