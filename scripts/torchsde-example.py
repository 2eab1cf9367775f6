#!/usr/bin/env python3
# Runs torchsde's examples/sde_gan.py unmodified (imported as a module) at gosde's
# built-in settings (batch 256, 2,000 steps, weight averaging from step 1,000), then
# writes 2,000 paths of the averaged generator in the data's units (the example's own
# normalisation inverted) as CSV (path,t,y), for scripts/score-ou-csv.go:
#
#   export PYTHONPATH=../shared/peers/torchsde:../shared/peers/torchcde:../shared/peers/torchdiffeq:../shared/peers/pylib
#   OMP_WAIT_POLICY=PASSIVE MPLBACKEND=Agg /usr/bin/python3 scripts/torchsde-example.py SEED 2000 out.csv
#   go run scripts/score-ou-csv.go out.csv 1000
import os, sys, types, time
import torch
seed, steps, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
sys.modules['fire'] = types.ModuleType('fire')  # the example imports fire only for its CLI
torch.set_num_threads(1)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'peers', 'torchsde', 'examples'))
import sde_gan as ex
captured = {}
real_sdeint = ex.torchsde.sdeint
def sdeint(*a, **k):
    ys = real_sdeint(*a, **k)
    captured.setdefault('ys', ys)  # the training data, before NaNs and normalisation
    return ys
ex.torchsde.sdeint = sdeint
def plot(ts, generator, dataloader, n, locs):
    captured['gen'], captured['ts'] = generator, ts
ex.plot = plot
torch.manual_seed(seed)
t0 = time.time()
ex.main(batch_size=256, steps=steps, swa_step_start=steps // 2, steps_per_print=steps)
print(f"trained {steps} steps in {time.time() - t0:.0f} s", flush=True)
ys = captured['ys']
y0 = ys[0].reshape(-1); y0 = y0[~torch.isnan(y0)]
mean, std = y0.mean().item(), y0.std().item()
with torch.no_grad():
    g = captured['gen'](captured['ts'], 2000)
ts = captured['ts'].tolist()
with open(out, 'w') as f:
    f.write('path,t,y\n')
    for p in range(g.size(0)):
        for i, t in enumerate(ts):
            f.write(f"{p},{t:g},{g[p, i, 1].item() * std + mean:.9g}\n")
print(f"normalisation mean {mean:.6f} std {std:.6f}; wrote {out}")
