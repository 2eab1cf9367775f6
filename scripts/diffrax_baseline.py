"""Side-by-side baseline for `gosde bench`: the SDE-GAN generator's forward solve and
gradient in diffrax (JAX), at the sizes of cuda.BenchmarkGeneratorForwardAdjoint.

    python3 scripts/diffrax_baseline.py [--batch 1024] [--width 16] [--repeats 20]

The field is gosde's generator: Y in R^16, Brownian motion in R^3 (general noise),
drift MLP [t, y] (17) -> width -> 16 and diffusion MLP [t, y] -> width -> 48 (16x3),
LipSwish hidden activations, tanh outputs; reversible Heun with step 1 over [0, 63],
outputs at every integer time, a linear loss of all outputs (random cotangents) and its
gradient with respect to every parameter and y0, through diffrax's ReversibleAdjoint
(the algebraic adjoint of reversible Heun, as gosde's) where the installed diffrax has
it, else its default RecursiveCheckpointAdjoint (the "adjoint" field says which).
Brownian motion is diffrax's
VirtualBrownianTree, sampled on the GPU. Prints one JSON line per measurement: the
median wall time of `repeats` jitted calls (after one compiling call), each waited for
with block_until_ready.
"""
import argparse
import json
import statistics
import time

import diffrax
import jax
import jax.numpy as jnp


def lipswish(x):
    return 0.909 * jax.nn.silu(x)


def init_mlp(key, sizes):
    params = []
    for k, (i, o) in zip(jax.random.split(key, len(sizes) - 1), zip(sizes[:-1], sizes[1:])):
        kw, kb = jax.random.split(k)
        lim = 1.0 / i**0.5
        params.append((jax.random.uniform(kw, (i, o), minval=-lim, maxval=lim),
                       jax.random.uniform(kb, (o,), minval=-lim, maxval=lim)))
    return params


def mlp(params, x):
    for w, b in params[:-1]:
        x = lipswish(x @ w + b)
    w, b = params[-1]
    return jnp.tanh(x @ w + b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args()
    d, m, B, W = 16, 3, args.batch, args.width
    key = jax.random.PRNGKey(0)
    k1, k2, k3, k4, k5 = jax.random.split(key, 5)
    params = {"f": init_mlp(k1, [1 + d, W, d]), "g": init_mlp(k2, [1 + d, W, d * m])}
    y0 = jax.random.normal(k3, (B, d))
    ts = jnp.arange(64.0)
    cot = 1e-3 * jax.random.normal(k4, (B, 64, d))
    bm_keys = jax.random.split(k5, B)
    adjoint = getattr(diffrax, "ReversibleAdjoint", diffrax.RecursiveCheckpointAdjoint)()

    def solve(params, y0, bm_key):
        drift = lambda t, y, a: mlp(a["f"], jnp.concatenate([t[None], y]))
        diffusion = lambda t, y, a: mlp(a["g"], jnp.concatenate([t[None], y])).reshape(d, m)
        bm = diffrax.VirtualBrownianTree(0.0, 63.0, tol=1e-3, shape=(m,), key=bm_key)
        terms = diffrax.MultiTerm(diffrax.ODETerm(drift), diffrax.ControlTerm(diffusion, bm))
        sol = diffrax.diffeqsolve(terms, diffrax.ReversibleHeun(), 0.0, 63.0, 1.0, y0, args=params,
                                  saveat=diffrax.SaveAt(ts=ts), adjoint=adjoint,
                                  max_steps=64)
        return sol.ys

    def loss(params, y0):
        ys = jax.vmap(solve, in_axes=(None, 0, 0))(params, y0, bm_keys)
        return jnp.sum(ys * cot)

    forward = jax.jit(lambda p, y: jax.vmap(solve, in_axes=(None, 0, 0))(p, y, bm_keys))
    grad = jax.jit(jax.grad(loss, argnums=(0, 1)))
    for name, fn in (("forward", forward), ("forward+gradient", grad)):
        t0 = time.perf_counter()
        try:
            jax.block_until_ready(fn(params, y0))
        except Exception as e:  # report and go on: a baseline, not a test
            print(json.dumps({"what": name, "error": repr(e)[:2000]}), flush=True)
            continue
        compile_s = time.perf_counter() - t0
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            jax.block_until_ready(fn(params, y0))
            times.append(time.perf_counter() - t0)
        print(json.dumps({"impl": "diffrax " + diffrax.__version__, "jax": jax.__version__,
                          "device": str(jax.devices()[0]), "what": name, "adjoint": type(adjoint).__name__, "batch": B, "width": W,
                          "steps": 63, "median_ms": 1e3 * statistics.median(times),
                          "first_call_s": compile_s, "repeats": args.repeats}), flush=True)


if __name__ == "__main__":
    main()
