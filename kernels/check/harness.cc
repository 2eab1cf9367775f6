// harness.cc: runs the GPU kernels' per-path code on the CPU. It is compiled by the
// host's C++ compiler from the very headers nvcc compiles into the PTX, and driven by
// the Go tests of package kernels (check_test.go), which hold its answers to the Go
// engine's and, for reversible Heun, to internal/oracle's. The loops over paths stand
// in for the GPU's threads; the loops over chunks of steps for the host's chunked
// launches; the sums over paths for the reduction kernels.
//
// Protocol: one request on stdin, the answer on stdout, both little-endian. A request
// starts with an int64 mode, then int64 sizes, then the arrays (int32 or float32);
// see the read_* calls of each mode.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "../mlp.cuh"
#include "../optim.cuh"
#include "../revheun.cuh"
#include "../sigkernel.cuh"

namespace {

void fail(const char* what) {
	fprintf(stderr, "harness: %s\n", what);
	exit(2);
}

int64_t read_i64() {
	int64_t v;
	if (fread(&v, sizeof v, 1, stdin) != 1) fail("short read (int64)");
	return v;
}

template <typename T> std::vector<T> read_vec(int64_t n) {
	std::vector<T> v(n);
	if (n > 0 && fread(v.data(), sizeof(T), n, stdin) != (size_t)n) fail("short read (array)");
	return v;
}

void write_vec(const std::vector<float>& v) {
	if (!v.empty() && fwrite(v.data(), sizeof(float), v.size(), stdout) != v.size()) fail("short write");
}

// sum_rows is gosde_sum_rows: out[j] = Σ_p in[j·B + p].
std::vector<float> sum_rows(const std::vector<float>& in, int64_t rows, int64_t B) {
	std::vector<float> out(rows);
	for (int64_t j = 0; j < rows; j++) {
		double s = 0;
		for (int64_t p = 0; p < B; p++) s += in[j * B + p];
		out[j] = (float)s;
	}
	return out;
}

// revheun: forward solve and algebraic adjoint in chunks of steps.
void revheun() {
	const int64_t B = read_i64(), N = read_i64(), T = read_i64(), chunk = read_i64(), control = read_i64();
	const int64_t ndesc = read_i64(), nparams = read_i64();
	auto fd = read_vec<int32_t>(ndesc);
	auto theta = read_vec<float>(nparams);
	const int d = fd[gosde::F_D], m = fd[gosde::F_M], rows = fd[gosde::F_ROWS];
	auto y0 = read_vec<float>((int64_t)d * B);
	auto ts = read_vec<float>(N + 1);
	auto hs = read_vec<float>(N);
	auto outidx = read_vec<int32_t>(N + 1);
	auto dw = read_vec<float>(N * m * B);
	auto cot = read_vec<float>(T * d * B);

	std::vector<float> ws((int64_t)rows * B), ys(T * d * B), gtheta(nparams * B), recon(T * B), ay0((int64_t)d * B);
	std::vector<float> adw(control ? N * m * B : 0);
	for (int64_t n0 = 0; n0 < N; n0 += chunk) {
		const int64_t n1 = n0 + chunk < N ? n0 + chunk : N;
		gosde::Solve s{ts.data(), hs.data(), outidx.data(), dw.data() + n0 * m * B, B, n0, n1, N};
		for (int64_t p = 0; p < B; p++) gosde::revheun_forward(fd.data(), theta.data(), ws.data(), y0.data(), s, ys.data(), p);
	}
	for (int64_t n1 = N; n1 > 0; n1 -= chunk) {
		const int64_t n0 = n1 - chunk > 0 ? n1 - chunk : 0;
		gosde::Solve s{ts.data(), hs.data(), outidx.data(), dw.data() + n0 * m * B, B, n0, n1, N};
		gosde::Backward b{ys.data(), cot.data(), gtheta.data(), control ? adw.data() + n0 * m * B : nullptr, recon.data(), ay0.data()};
		for (int64_t p = 0; p < B; p++) gosde::revheun_backward(fd.data(), theta.data(), ws.data(), s, b, p);
	}
	std::vector<float> maxrec(T, 0.0f);
	for (int64_t i = 0; i < T; i++)
		for (int64_t p = 0; p < B; p++) maxrec[i] = recon[i * B + p] > maxrec[i] ? recon[i * B + p] : maxrec[i];
	write_vec(ys);
	write_vec(ay0);
	write_vec(sum_rows(gtheta, nparams, B));
	write_vec(adw);
	write_vec(maxrec);
}

// mlp: a batch through one MLP, forward then VJP (gosde_mlp_forward, gosde_mlp_vjp).
void mlp() {
	const int64_t B = read_i64(), in = read_i64(), out = read_i64(), ndesc = read_i64(), nparams = read_i64();
	auto md = read_vec<int32_t>(ndesc);
	auto theta = read_vec<float>(nparams);
	auto x = read_vec<float>(in * B);
	auto cot = read_vec<float>(out * B);
	const int actRows = md[gosde::MLP_ACT_ROWS], tmpRows = 2 * md[gosde::MLP_MAXW];
	std::vector<float> act(actRows * B), y(out * B), ax(in * B), gtheta(nparams * B), tmp(tmpRows * B);
	for (int64_t p = 0; p < B; p++) {
		gosde::mlp_forward(md.data(), theta.data(), 0.0f, gosde::Vec{x.data() + p, B}, gosde::Vec{act.data() + p, B}, gosde::Vec{y.data() + p, B});
		gosde::mlp_vjp(md.data(), theta.data(), 0.0f, gosde::Vec{x.data() + p, B}, gosde::Vec{act.data() + p, B}, gosde::Vec{cot.data() + p, B},
		               gosde::Vec{ax.data() + p, B}, gosde::Vec{gtheta.data() + p, B}, gosde::Vec{tmp.data() + p, B});
	}
	write_vec(y);
	write_vec(ax);
	write_vec(sum_rows(gtheta, nparams, B));
}

// optim: `steps` Adadelta updates with the given gradients, each followed by a SWA
// update and clipping to ±lim (gosde_adadelta, gosde_swa, gosde_clip).
void optim() {
	const int64_t n = read_i64(), steps = read_i64();
	auto hyper = read_vec<double>(5); // lr, rho, eps, weight decay, clipping limit
	auto p = read_vec<float>(n);
	auto grads = read_vec<float>(n * steps);
	std::vector<float> sq(n), acc(n), avg(n);
	for (int64_t s = 0; s < steps; s++) {
		for (int64_t i = 0; i < n; i++) gosde::adadelta_update(p.data(), grads.data() + s * n, sq.data(), acc.data(), i, hyper[0], hyper[1], hyper[2], hyper[3]);
		for (int64_t i = 0; i < n; i++) gosde::clip_update(p.data(), i, hyper[4]);
		for (int64_t i = 0; i < n; i++) gosde::swa_update(avg.data(), p.data(), i, s);
	}
	write_vec(p);
	write_vec(sq);
	write_vec(acc);
	write_vec(avg);
}

// sigkernel: the signature kernel of one pair and its gradient with respect to both
// paths (gosde_sigkernel_pairs's per-pair code, one thread), in float64.
void sigkernel() {
	const int64_t len = read_i64(), dim = read_i64(), refine = read_i64(), kind = read_i64();
	const double sigma2 = read_vec<double>(1)[0];
	auto x = read_vec<double>(len * dim);
	auto y = read_vec<double>(len * dim);
	const gosde::SigShape s{(int)len, (int)dim, (int)refine, (int)kind, sigma2};
	std::vector<double> ws(gosde::sig_ws_doubles(s)), out(1 + 2 * len * dim);
	const gosde::SigWS w = gosde::sig_ws(s, ws.data());
	const gosde::Block one{0, 1};
	out[0] = gosde::sig_forward(s, w, x.data(), y.data(), one);
	gosde::sig_backward(s, w, 1.0, true, one);
	gosde::sig_unrefine(s, w.GX, out.data() + 1, one);
	gosde::sig_unrefine(s, w.GY, out.data() + 1 + len * dim, one);
	if (fwrite(out.data(), sizeof(double), out.size(), stdout) != out.size()) fail("short write");
}

} // namespace

int main() {
	switch (read_i64()) {
	case 1: revheun(); break;
	case 2: mlp(); break;
	case 3: optim(); break;
	case 4: sigkernel(); break;
	default: fail("unknown mode");
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
