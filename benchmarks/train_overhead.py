"""Throughput of a plain conv model under ``groupdrl.train.fit`` versus a bare hand-written torch loop.

Model: the β-VAE with the shared disentanglement_lib conv encoder/decoder on flatland images
(1 × 64 × 64, batch 64), Adam(1e-3). The bare loop draws states with ``torch.randint``, indexes a
pre-rendered float grid, computes BCE + β·KL by hand and steps Adam: no seeding per step, no finiteness
check, no logging, no checkpoint. It runs the same arithmetic as ``fit``'s default path (channels-last
layout, fused Adam), so that the ratio is the framework's own cost (``benchmarks/train_step.py`` compares
that arithmetic with torch's defaults). Both time everything from the rendering of the data on; ``fit``
also writes its config, metrics lines every 50 steps and the final checkpoint. Runs alternate (bare, fit,
bare, fit, …) so that load from other jobs hits both alike; the median of the per-pair ratios
fit / bare is reported. Target: overhead ≤ 2 %.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/train_overhead.py [--quick] [--out DIR] [--steps 40] [--repeats 5]
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


def bare_loop(model, world, steps: int, batch: int, lr: float) -> tuple[float, float]:
    """Hand-written training of ``model`` (a BetaVAE) with ``fit``'s arithmetic (channels-last, fused Adam);
    returns (wall, process CPU) seconds, rendering the grid of ``world`` included."""
    fmt = torch.channels_last
    t0, c0 = time.perf_counter(), time.process_time()
    grid = world.render(world.all_states()).float()
    model.to(memory_format=fmt)
    opt = torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    gen = torch.Generator().manual_seed(0)
    for _ in range(steps):
        x = grid[torch.randint(len(grid), (batch,), generator=gen)].contiguous(memory_format=fmt)
        mu, logvar = model.encoder(x).chunk(2, dim=1)
        z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=gen)
        recon = F.binary_cross_entropy_with_logits(model.decoder(z), x, reduction="sum") / batch
        kl = 0.5 * (mu**2 + logvar.exp() - logvar - 1).sum(1).mean()
        loss = recon + model.beta * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return time.perf_counter() - t0, time.process_time() - c0


def framework(model, world, steps: int, batch: int, lr: float) -> tuple[float, float]:
    """(wall, process CPU) seconds of one ``fit`` run of ``steps`` steps (run directory in a temporary folder)."""
    with tempfile.TemporaryDirectory() as out:
        t0, c0 = time.perf_counter(), time.process_time()
        fit(model, world, steps=steps, batch_size=batch, lr=lr, seed=0, out_dir=out, quiet=True)
        return time.perf_counter() - t0, time.process_time() - c0


def main(argv: list[str] | None = None) -> dict[str, float]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--quick", action="store_true", help="smoke run: 16 px, batch 8, 3 steps, 1 repeat")
    p.add_argument("--out", type=Path, default=RESULTS, help="directory of train_overhead.md / .json")
    args = p.parse_args(argv)
    if args.quick:
        args.steps, args.repeats, args.image_size, args.batch = 3, 1, 16, 8
    threads_before = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        world = worlds.get("flatland", n=8, image_size=args.image_size)
        lr = 1e-3

        def build():
            return models.get("beta_vae", world, seed=0)

        bare_loop(build(), world, 3, args.batch, lr)  # warm-up (allocator, kernels)
        framework(build(), world, 3, args.batch, lr)
        bare, ours, load = [], [], []
        for _ in range(args.repeats):
            load.append(os.getloadavg()[0])
            bare.append(bare_loop(build(), world, args.steps, args.batch, lr))
            ours.append(framework(build(), world, args.steps, args.batch, lr))
    finally:
        torch.set_num_threads(threads_before)
    ratio = statistics.median(f[0] / b[0] for f, b in zip(ours, bare))
    cpu_ratio = statistics.median(f[1] / b[1] for f, b in zip(ours, bare))
    ips = [args.steps * args.batch / t for t, _ in bare], [args.steps * args.batch / t for t, _ in ours]
    result = {"image_size": args.image_size, "batch": args.batch, "steps": args.steps, "repeats": args.repeats,
              "threads": args.threads, "bare_images_per_s": ips[0], "fit_images_per_s": ips[1],
              "fit_over_bare": ratio, "fit_over_bare_cpu": cpu_ratio, "load_avg_1min": load}
    print(json.dumps(result, indent=2))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "train_overhead.json").write_text(json.dumps(result, indent=2))
    (args.out / "train_overhead.md").write_text("\n".join([
        "# Training overhead: `groupdrl.train.fit` versus a bare torch loop",
        "",
        f"β-VAE (shared conv 32-32-64-64 → FC256 encoder, mirrored decoder) on flatland 1×{args.image_size}×"
        f"{args.image_size}, batch {args.batch}, Adam(1e-3), {args.steps} steps per run, {args.repeats} alternating "
        f"repeats; torch threads {args.threads}. Machine: {os.cpu_count()} cores ({platform.machine()}), torch "
        f"{torch.__version__}, Python {platform.python_version()}, CPU only. 1-minute load average at the start of "
        f"each repeat: {', '.join(f'{v:.1f}' for v in load)} (above 2: other jobs shared the cores).",
        "",
        "| loop | images/s (median) | runs |",
        "|---|---|---|",
        f"| bare hand-written loop, `fit`'s arithmetic (channels-last, fused Adam) | {statistics.median(ips[0]):.0f} "
        f"| {', '.join(f'{v:.0f}' for v in ips[0])} |",
        f"| `groupdrl.train.fit` | {statistics.median(ips[1]):.0f} | {', '.join(f'{v:.0f}' for v in ips[1])} |",
        "",
        f"**`fit` / bare loop: {ratio:.3f}** (median of per-pair wall-time ratios; target ≤ 1.02); in process CPU "
        f"time (less sensitive to other jobs): {cpu_ratio:.3f}. `fit` adds per step: a batch drawn through `WorldSampler` from a "
        "uint8 cache of the grid, two generators seeded from (seed, step), a finiteness check of the loss; per "
        "run: the config, metrics lines every 50 steps and the final atomic checkpoint. Produced by "
        "`benchmarks/train_overhead.py` (or `benchmarks/run_all.py`).",
        "",
    ]))
    return {"fit_over_bare": ratio, "fit_over_bare_cpu": cpu_ratio}


if __name__ == "__main__":
    main()
