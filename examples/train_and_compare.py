"""Train two models on the same world from Python and compare them under both definitions.

Run with:  .venv/bin/python examples/train_and_compare.py [--steps 600] [--n-metric 2000] [--out DIR]

What ``groupdrl compare --world flatland --quick`` does, written out: a statistical baseline
(β-VAE, still images only) and a symmetry-based model (LSBD-VAE, which also sees which group
element moved one image to another) on 16 px flatland, then ``verify`` on each trained encoder.
600 steps take a few minutes on 2 cores; that is enough to show the difference in kind, not to
reach either model's best (see benchmarks/results/ for longer runs over several seeds).
"""
from __future__ import annotations

import argparse
import time

import torch

from groupdrl import models, worlds
from groupdrl.train import fit
from groupdrl.verify import verify

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=600)
parser.add_argument("--out", default="runs/train_and_compare")
parser.add_argument("--n-metric", type=int, default=2000, help="states for the intuitive metrics (test: half)")
args = parser.parse_args()

torch.set_num_threads(1)
world = worlds.get("flatland", n=8, image_size=16)
rows = ["| model | train s | group theory | equivariance error | D_LSBD | intuitive | MIG | DCI-D |",
        "|---|---|---|---|---|---|---|---|"]
for name in ("beta_vae", "lsbd_vae"):
    model = models.get(name, world, seed=0)
    start = time.perf_counter()
    fit(model, world, steps=args.steps, batch_size=32, seed=0, out_dir=f"{args.out}/{name}", quiet=True)
    seconds = time.perf_counter() - start
    model.eval()
    report = verify(model.encode, world, seed=0,
                    intuitive_kwargs=dict(n_train=args.n_metric, n_test=args.n_metric // 2))
    g, s = report.group, report.intuitive.scores
    rows.append(f"| {name} | {seconds:.0f} | {'✓' if g.disentangled else '✗'} | {g.equivariance_error:.3f} | "
                f"{g.dlsbd['value']:.3f} | {'✓' if report.intuitive.disentangled else '✗'} | {s['mig']:.2f} | "
                f"{s['dci_disentanglement']:.2f} |")
    report.save(f"{args.out}/{name}/report")
print("\n".join(rows))
print(f"(full reports in {args.out}/<model>/report/report.md)")
