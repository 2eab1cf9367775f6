#!/usr/bin/env python3
"""Holds torchsde, torchcde and torchsde's SDE-GAN example to the cases gosde wrote.

Run by `make peer-check` (scripts/peer-check.sh), which writes the cases first:

    peer_check.py CASE_DIR [--export FILE.safetensors] [--json RESULTS.json]

Every case gives the inputs gosde used (weights under torch's state-dict names, y0, the
Brownian or control increments of every step) and what gosde computed. This script runs
torchsde on the same inputs, feeding it the same increments through a BaseBrownian that
returns the stored ones, and compares. The error of an array is max|torch - gosde| /
max|gosde| (relative to the array's scale). A case passes when every array is within
the tolerance of its precision (TOLERANCE below).

Kinds of case:
  sde     a neural SDE (the example's MLP for drift and diffusion) under one noise type,
          one method and one way of differentiating: backprop (torchsde.sdeint and
          autograd), reversible (sdeint_adjoint with adjoint_reversible_heun) or
          continuous (sdeint_adjoint with midpoint); outputs, dL/dy0 and dL/dtheta of
          L = sum(cotangent * ys).
  gan     the SDE-GAN's loss mean D(fake) - mean D(real) and its gradient for every
          weight of both networks: the example's Generator and Discriminator modules
          loaded with gosde's weights; the generator solved as the example solves it;
          the discriminator's CDE driven by the increments of torchcde's linear
          interpolation of [t, Y] (gosde's discretisation), and beside it, reported but
          not held to the tolerance, the example's own torchcde.cdeint.
  export  a path of a gosde train run's generator, against the file gosde export wrote
          from that run, loaded into the example's Generator with load_state_dict.
"""
import argparse
import glob
import importlib.util
import json
import os
import struct
import sys
import time
import types

import numpy as np
import torch
import torchcde
import torchsde

# float64 is held to 1e-10, as the cross-check promises. float32 bounds are set from
# measurement (README, "Cross-checked against torchsde"), 10-20x the largest error seen:
# the solver cases agree to 6e-7; the SDE-GAN case to 1e-4, because its reversible
# adjoints reconstruct the states backwards in float32 over 63 steps (torchsde's own
# adjoint_reversible_heun in float32 is 5e-5 from the float64 gradient on the same
# discriminator, its backprop 3e-6), while this script differentiates the
# discriminator by backprop.
TOLERANCE = {
    ("float64", "sde"): 1e-10, ("float64", "gan"): 1e-10,
    ("float32", "sde"): 1e-5, ("float32", "gan"): 1e-3, ("float32", "export"): 1e-5,
}


def load_example():
    """Imports torchsde's examples/sde_gan.py unchanged. It imports fire, matplotlib and
    tqdm for its command line and plots, which are not needed here: stand-ins are used
    for whichever is not installed."""
    for name in ("fire", "matplotlib", "matplotlib.pyplot", "tqdm"):
        if name in sys.modules:
            continue
        try:
            importlib.import_module(name)
        except ImportError:
            sys.modules[name] = types.ModuleType(name)
    path = os.path.join(os.path.dirname(os.path.dirname(torchsde.__file__)), "examples", "sde_gan.py")
    spec = importlib.util.spec_from_file_location("torchsde_example_sde_gan", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXAMPLE = load_example()


def dtype_of(case):
    return {"float64": torch.float64, "float32": torch.float32}[case["float"]]


def array(case, name, dtype=None, requires_grad=False):
    a = case["arrays"][name]
    t = torch.tensor(np.asarray(a["data"], dtype=np.float64).reshape(a["shape"]))
    if dtype is not None:
        t = t.to(dtype)
    return t.requires_grad_(requires_grad)


def state_dict(case, prefix, dtype):
    return {k[len(prefix):]: array(case, k, dtype) for k in case["arrays"] if k.startswith(prefix)}


def relerr(got, want):
    got = got.detach().to(torch.float64)
    want = want.detach().to(torch.float64)
    scale = want.abs().max().item()
    diff = (got - want).abs().max().item()
    return diff / scale if scale > 0 else diff


class StoredBrownian(torchsde.BaseBrownian):
    """Answers W(tb) - W(ta) for exactly the steps gosde took, from the stored
    increments; any other query is an error (so torchsde's step grid is proven to be
    gosde's). The adjoints' ReverseBrownian asks for the same steps."""

    def __init__(self, step_times, increments):
        super().__init__()
        self._inc = increments
        self._index = {(float(a), float(b)): k for k, (a, b) in enumerate(step_times.tolist())}

    def __call__(self, ta, tb=None, return_U=False, return_A=False):
        if tb is None or return_U or return_A:
            raise ValueError("StoredBrownian answers increments W(tb) - W(ta) only")
        k = self._index.get((float(ta), float(tb)))
        if k is None:
            raise ValueError(f"[{float(ta)}, {float(tb)}] is not one of gosde's steps")
        return self._inc[k]

    def __repr__(self):
        return f"StoredBrownian({len(self._index)} steps)"

    @property
    def dtype(self):
        return self._inc.dtype

    @property
    def device(self):
        return self._inc.device

    @property
    def shape(self):
        return self._inc.shape[1:]

    @property
    def levy_area_approximation(self):
        return "none"


def stored_brownian(case, dtype):
    return StoredBrownian(array(case, "step_times", torch.float64), array(case, "increments", dtype))


class Field(torch.nn.Module):
    """dY = f dt + g dW with f, g the example's MLPs of [t, y] (LipSwish, final tanh),
    as gosde's neuralsde.NeuralSDE: g of [t] alone under additive noise."""

    def __init__(self, meta):
        super().__init__()
        self.sde_type, self.noise_type = meta["sde_type"], meta["noise_type"]
        d, m, w, depth = meta["dim"], meta["noise_dim"], meta["width"], meta["depth"]
        self._d, self._m = d, m
        self._drift = EXAMPLE.MLP(1 + d, d, w, depth, tanh=True)
        gin = 1 if self.noise_type == "additive" else 1 + d
        gout = d if self.noise_type == "diagonal" else d * m
        self._diffusion = EXAMPLE.MLP(gin, gout, w, depth, tanh=True)

    def f(self, t, y):
        return self._drift(torch.cat([t.expand(y.size(0), 1), y], dim=1))

    def g(self, t, y):
        tt = t.expand(y.size(0), 1)
        x = tt if self.noise_type == "additive" else torch.cat([tt, y], dim=1)
        out = self._diffusion(x)
        if self.noise_type == "diagonal":
            return out
        return out.view(y.size(0), self._d, self._m)


def run_sde(case):
    meta, dtype = case["meta"], dtype_of(case)
    field = Field(meta).to(dtype)
    field.load_state_dict(state_dict(case, "param.", dtype), strict=True)
    y0 = array(case, "y0", dtype, requires_grad=True)
    ts = torch.tensor(meta["ts"], dtype=dtype)
    bm = stored_brownian(case, dtype)
    kw = dict(bm=bm, dt=meta["dt"])
    adjoint = meta["adjoint"]
    if adjoint == "backprop":
        ys = torchsde.sdeint(field, y0, ts, method=meta["method"], **kw)
    elif adjoint == "reversible":
        ys = torchsde.sdeint_adjoint(field, y0, ts, method="reversible_heun",
                                     adjoint_method="adjoint_reversible_heun", **kw)
    elif adjoint == "continuous":
        ys = torchsde.sdeint_adjoint(field, y0, ts, method="midpoint", adjoint_method="midpoint", **kw)
    else:
        raise ValueError(f"unknown adjoint {adjoint!r}")
    (ys * array(case, "cotangent", dtype)).sum().backward()
    errs = {"ys": relerr(ys, array(case, "ys")), "grad_y0": relerr(y0.grad, array(case, "grad_y0"))}
    grads = dict(field.named_parameters())
    errs["grad_params"] = max(relerr(grads[k[len("grad."):]].grad, array(case, k))
                              for k in case["arrays"] if k.startswith("grad."))
    return errs, {}


class ControlIncrements(torchsde.BaseBrownian):
    """The increments X(tb) - X(ta) of torchcde's linear interpolation of a path: the
    control of gosde's discriminator CDE, in place of Brownian increments."""

    def __init__(self, X, batch, channels):
        super().__init__()
        self._X, self._shape = X, (batch, channels)

    def __call__(self, ta, tb=None, return_U=False, return_A=False):
        return self._X.evaluate(tb) - self._X.evaluate(ta)

    def __repr__(self):
        return "ControlIncrements()"

    @property
    def dtype(self):
        return self._X._coeffs.dtype

    @property
    def device(self):
        return self._X._coeffs.device

    @property
    def shape(self):
        return self._shape

    @property
    def levy_area_approximation(self):
        return "none"


class ControlledField(torch.nn.Module):
    """The discriminator's CDE dH = g(t, H) dX as an SDE of general noise with zero
    drift, its vector field the example's DiscriminatorFunc."""
    sde_type, noise_type = "stratonovich", "general"

    def __init__(self, func):
        super().__init__()
        self._func = func

    def f(self, t, h):
        return torch.zeros_like(h)

    def g(self, t, h):
        return self._func(t, h)


def discriminate(D, coeffs, ts, dt):
    """D's mean score, its CDE solved by reversible Heun on the control increments (as
    gosde solves it), differentiable in coeffs."""
    X = torchcde.LinearInterpolation(coeffs, t=ts)
    h0 = D._initial(X.evaluate(ts[0]))
    bm = ControlIncrements(X, coeffs.size(0), coeffs.size(-1))
    hs = torchsde.sdeint(ControlledField(D._func), h0, ts, bm=bm, method="reversible_heun", dt=dt)
    return D._readout(hs[-1]).mean()


def generate(G, v, ts, bm, dt):
    """The example's Generator.forward with given initial noise and Brownian motion."""
    x0 = G._initial(v)
    xs = torchsde.sdeint_adjoint(G._func, x0, ts, bm=bm, method="reversible_heun", dt=dt,
                                 adjoint_method="adjoint_reversible_heun")
    return G._readout(xs.transpose(0, 1))


def run_gan(case):
    meta, dtype = case["meta"], dtype_of(case)
    G = EXAMPLE.Generator(**meta["generator_args"]).to(dtype)
    G.load_state_dict(state_dict(case, "gen.", dtype), strict=True)
    D = EXAMPLE.Discriminator(**meta["discriminator_args"]).to(dtype)
    D.load_state_dict(state_dict(case, "disc.", dtype), strict=True)
    ts = torch.tensor(meta["ts"], dtype=dtype)
    dt = meta["dt"]
    ys = generate(G, array(case, "v", dtype), ts, stored_brownian(case, dtype), dt)
    b, T = ys.size(0), ys.size(1)
    tt = ts.unsqueeze(0).unsqueeze(-1).expand(b, T, 1)
    fake = torchcde.linear_interpolation_coeffs(torch.cat([tt, ys], dim=2))
    real = torchcde.linear_interpolation_coeffs(torch.cat([tt, array(case, "real", dtype)], dim=2))
    fake_score = discriminate(D, fake, ts, dt)
    real_score = discriminate(D, real, ts, dt)
    loss = fake_score - real_score
    loss.backward()
    errs = {"ys": relerr(ys, array(case, "ys")),
            "scores": relerr(torch.stack([fake_score, real_score]), array(case, "scores")),
            "loss": relerr(loss, array(case, "loss"))}
    for net, module in (("gen", G), ("disc", D)):
        params = dict(module.named_parameters())
        errs[f"grad_{net}"] = max(relerr(params[k[len(f"grad_{net}."):]].grad, array(case, k))
                                  for k in case["arrays"] if k.startswith(f"grad_{net}."))
    # The example's own discriminator: torchcde.cdeint, whose vector field is g(t, H)
    # times dX/dt at t; at a knot t_n torchcde takes the slope of the interval that ends
    # there, so its reversible Heun step over [t_n, t_n+1] uses the previous interval's
    # slope in f_n. A different discretisation: reported, not held to the tolerance.
    with torch.no_grad():
        example_fake = D(fake.detach())
    info = {"example_cdeint_vs_increments": relerr(example_fake, fake_score)}
    return errs, info


def load_safetensors(path):
    """A safetensors file read with numpy alone: 8 bytes of header length, the JSON
    header, the data."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    dtypes = {"F32": "<f4", "F64": "<f8", "I64": "<i8"}
    tensors = {}
    for name, e in header.items():
        lo, hi = e["data_offsets"]
        tensors[name] = np.frombuffer(data[lo:hi], dtype=dtypes[e["dtype"]]).reshape(e["shape"])
    return tensors, meta


def run_export(case, export_path):
    if export_path is None:
        raise ValueError("an export case needs --export FILE (the file gosde export wrote)")
    tensors, meta = load_safetensors(export_path)
    args = json.loads(meta["torchsde.args"])
    if args != case["meta"]["generator_args"]:
        raise ValueError(f"the export's arguments {args} are not the run's {case['meta']['generator_args']}")
    G = EXAMPLE.Generator(**args)
    G.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in tensors.items()}, strict=True)
    ts = torch.tensor(json.loads(meta["gosde.times"]), dtype=torch.float32)
    dt = float(meta["gosde.dt"])
    if ts.tolist() != [float(np.float32(t)) for t in case["meta"]["ts"]] or dt != case["meta"]["dt"]:
        raise ValueError("the export's times or step are not the run's")
    with torch.no_grad():
        ys = generate(G, array(case, "v", torch.float32), ts, stored_brownian(case, torch.float32), dt)
    return {"ys": relerr(ys, array(case, "ys"))}, {}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cases", help="directory of the cases (JSON) gosde wrote")
    ap.add_argument("--export", help="the file gosde export wrote, for the export case")
    ap.add_argument("--json", help="write every case's errors to this file")
    args = ap.parse_args()
    torch.set_num_threads(1)
    files = sorted(glob.glob(os.path.join(args.cases, "*.json")))
    if not files:
        print(f"peer_check: no cases in {args.cases}", file=sys.stderr)
        return 1
    print(f"torch {torch.__version__}, torchsde {torchsde.__version__}; error = max|torch - gosde| / max|gosde|")
    results, failed = [], []
    start = time.time()
    for path in files:
        with open(path) as f:
            case = json.load(f)
        t0 = time.time()
        if case["kind"] == "sde":
            errs, info = run_sde(case)
        elif case["kind"] == "gan":
            errs, info = run_gan(case)
        elif case["kind"] == "export":
            errs, info = run_export(case, args.export)
        else:
            raise ValueError(f"{path}: unknown kind {case['kind']!r}")
        tol = TOLERANCE[(case["float"], case["kind"])]
        worst = max(errs.values())
        ok = worst <= tol
        line = "  ".join(f"{k} {v:.1e}" for k, v in errs.items())
        extra = "  ".join(f"[{k} {v:.2e}]" for k, v in info.items())
        print(f"{'ok  ' if ok else 'FAIL'} {case['name']:52s} {line}  (tol {tol:.0e}, {time.time() - t0:.2f} s) {extra}")
        results.append({"name": case["name"], "kind": case["kind"], "float": case["float"],
                        "meta": {k: v for k, v in case["meta"].items() if k in ("method", "adjoint", "noise_type")},
                        "errors": errs, "info": info, "ok": ok})
        if not ok:
            failed.append(case["name"])
    # The largest error of each group, for the README.
    groups = {}
    for r in results:
        key = (r["float"], r["kind"], r["meta"].get("adjoint", ""))
        groups[key] = max(groups.get(key, 0.0), max(r["errors"].values()))
    print("largest error by precision, kind and gradient:")
    for (fl, kind, adj), e in sorted(groups.items()):
        print(f"  {fl:8s} {kind:7s} {adj:11s} {e:.1e}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    print(f"{len(results)} cases in {time.time() - start:.1f} s; {len(failed)} failed")
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
