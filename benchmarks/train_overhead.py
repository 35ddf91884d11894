"""Throughput of a plain conv model under ``groupdrl.train.fit`` versus a bare hand-written torch loop.

Model: the β-VAE with the shared disentanglement_lib conv encoder/decoder on flatland images
(1 × 64 × 64, batch 64), Adam(1e-3). The bare loop draws states with ``torch.randint``, indexes a
pre-rendered float grid, computes BCE + β·KL by hand and steps Adam: no seeding per step, no finiteness
check, no logging, no checkpoint. ``fit`` does all of that (its final checkpoint included). Runs alternate
(bare, fit, bare, fit, …) so that load from other jobs hits both alike; the median of the repeats is
reported. Target: overhead ≤ 5 %.

Usage::

    .venv/bin/python benchmarks/train_overhead.py [--steps 40] [--repeats 3] [--threads 2] [--image-size 64]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from groupdrl import models, worlds
from groupdrl.train import fit

RESULTS = Path(__file__).resolve().parent / "results"


def bare_loop(model, grid: torch.Tensor, steps: int, batch: int, lr: float) -> float:
    """Hand-written training of ``model`` (a BetaVAE); returns images/s."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(0)
    t0 = time.perf_counter()
    for _ in range(steps):
        x = grid[torch.randint(len(grid), (batch,), generator=gen)]
        mu, logvar = model.encoder(x).chunk(2, dim=1)
        z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=gen)
        recon = F.binary_cross_entropy_with_logits(model.decoder(z), x, reduction="sum") / batch
        kl = 0.5 * (mu**2 + logvar.exp() - logvar - 1).sum(1).mean()
        loss = recon + model.beta * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return steps * batch / (time.perf_counter() - t0)


def framework(model, world, steps: int, batch: int, lr: float) -> float:
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        fit(model, world, steps=steps, batch_size=batch, lr=lr, seed=0, out_dir=out, quiet=True)
        return steps * batch / (time.perf_counter() - t0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--batch", type=int, default=64)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    world = worlds.get("flatland", n=8, image_size=args.image_size)
    grid = world.render(world.all_states()).float()
    lr = 1e-3

    def build():
        return models.get("beta_vae", world, seed=0)

    bare_loop(build(), grid, 5, args.batch, lr)  # warm-up (allocator, kernels)
    framework(build(), world, 5, args.batch, lr)
    bare, ours = [], []
    for _ in range(args.repeats):
        bare.append(bare_loop(build(), grid, args.steps, args.batch, lr))
        ours.append(framework(build(), world, args.steps, args.batch, lr))
    b, f = statistics.median(bare), statistics.median(ours)
    overhead = b / f - 1
    result = {"image_size": args.image_size, "batch": args.batch, "steps": args.steps, "repeats": args.repeats,
              "threads": args.threads, "bare_images_per_s": bare, "fit_images_per_s": ours,
              "bare_median": b, "fit_median": f, "overhead": overhead, "load_avg_1min": os.getloadavg()[0]}
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "train_overhead.json").write_text(json.dumps(result, indent=2))
    (RESULTS / "train_overhead.md").write_text("\n".join([
        "# Training overhead: `groupdrl.train.fit` versus a bare torch loop",
        "",
        f"β-VAE (shared conv 32-32-64-64 → FC256 encoder, mirrored decoder) on flatland 1×{args.image_size}×"
        f"{args.image_size}, batch {args.batch}, Adam(1e-3), {args.steps} steps per run, {args.repeats} alternating "
        f"repeats, median; torch threads {args.threads}. Machine: {os.cpu_count()} cores shared with other jobs "
        f"(1-minute load average {os.getloadavg()[0]:.1f} at the end: other helpers were running), torch "
        f"{torch.__version__}, Python {platform.python_version()}, CPU only.",
        "",
        "| loop | images/s (median) | runs |",
        "|---|---|---|",
        f"| bare hand-written loop | {b:.0f} | {', '.join(f'{v:.0f}' for v in bare)} |",
        f"| `groupdrl.train.fit` | {f:.0f} | {', '.join(f'{v:.0f}' for v in ours)} |",
        "",
        f"Overhead of the framework: {100 * overhead:+.1f} % (target ≤ 5 %). `fit` adds per step: a batch drawn "
        "through `WorldSampler` from a uint8 cache of the grid, two generators seeded from (seed, step), a "
        "finiteness check of the loss; per run: the config, metrics lines every 50 steps and the final atomic "
        "checkpoint. Produced by `.venv/bin/python benchmarks/train_overhead.py`.",
        "",
    ]))


if __name__ == "__main__":
    main()
