"""Rendering throughput of the procedural worlds next to one training step of the shared encoder.

Run ``.venv/bin/python benchmarks/render.py [--quick] [--out DIR]`` (a few minutes on 2 idle cores, far
more when they are shared); writes ``DIR/render.md`` (default benchmarks/results). ``--quick``: batches of
16, 2 repeats, 1 thread, no full grid (a smoke run). Measures, with 1 and 2 torch threads:

- images/s of ``world.render`` on batches of 256 random states (dSprites bounded and
  periodic, Shapes3D at 64×64; Arrow, Flatland, the SO(3) object, the dihedral F and the
  continuous arrow at 32×32), and of ``TransitionDataset.sample_batch(256)`` (two renders plus
  drawing valid actions);
- the cost of the output check every ``world.render`` makes (``check_render``: dtype, shape, one
  finiteness reduction) on the rendered batch, next to the render itself;
- the time of one training step (forward, backward, Adam) of ``groupdrl.nn.ConvEncoder``
  (conv 32-32-64-64 → FC256 → 20) on the same batch, with a squared-error loss;
- the time to render the full dSprites grid (737,280 images) with ``render_grid`` (batches
  of 1024, stored as uint8: 3 GB).

Each time is reported as wall-clock and as the process's CPU time (all threads): when the
2 cores are shared with other jobs, wall time is inflated much more than CPU time.
Target: rendering at least 5× faster than the training step; full dSprites grid < 60 s.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from groupdrl.nn import ConvEncoder
from groupdrl.worlds import (TransitionDataset, arrow, arrow_continuous, dihedral_shape, dsprites, flatland,
                             render_grid, shapes3d, so3_object)
from groupdrl.worlds.world import check_render

BATCH = 256


def _median_time(fn, repeats: int) -> tuple[float, float]:
    """Median (wall, CPU) seconds of ``fn()`` after one warm-up call (which builds lazy tables)."""
    fn()
    wall, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu)


def train_step_time(x: torch.Tensor, repeats: int) -> tuple[float, float]:
    """Median (wall, CPU) seconds of one training step of the shared ``ConvEncoder`` on the batch ``x``."""
    enc = ConvEncoder(x.shape[1], x.shape[-1], 20)
    opt = torch.optim.Adam(enc.parameters(), lr=1e-4)

    def step():
        opt.zero_grad()
        loss = enc(x).pow(2).mean()
        loss.backward()
        opt.step()

    return _median_time(step, repeats)


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run the benchmark, write ``render.md``; return the smallest step / render ratio (wall) and the grid time."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", default="1,2", help="torch thread counts to measure, comma-separated")
    parser.add_argument("--grid-threads", type=int, default=1)
    parser.add_argument("--skip-grid", action="store_true", help="skip the full dSprites grid")
    parser.add_argument("--quick", action="store_true", help="smoke run: batch 16, 2 repeats, 1 thread, no grid")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results", help="directory of render.md")
    args = parser.parse_args(argv)
    batch = BATCH
    if args.quick:
        batch, args.repeats, args.threads, args.skip_grid = 16, 2, "1", True
    threads_before = torch.get_num_threads()
    load_before = os.getloadavg()
    worlds = [("dSprites (bounded)", dsprites()), ("dSprites (periodic)", dsprites(periodic=True)),
              ("Shapes3D", shapes3d()), ("Arrow 32×32", arrow()), ("Flatland 32×32", flatland(8, 32)),
              ("SO(3) object 32×32", so3_object()), ("Dihedral F 32×32", dihedral_shape()),
              ("Arrow SO(2)² 32×32", arrow_continuous())]
    rows = []
    for threads in [int(t) for t in args.threads.split(",")]:
        torch.set_num_threads(threads)
        for label, world in worlds:
            states = world.sample_states(batch, generator=torch.Generator().manual_seed(0))
            t_render = _median_time(lambda: world.render(states), args.repeats)
            x = world.render(states)
            t_check = _median_time(lambda: check_render(x, batch, world.observation_shape, world.name), args.repeats)
            data = TransitionDataset(world, n=1, seed=0)
            t_pairs = _median_time(lambda: data.sample_batch(batch), args.repeats)
            t_step = train_step_time(world.render(states), max(5, args.repeats // 4))
            rows.append((label, threads, t_render, t_check, t_pairs, t_step))
            print(label, threads, f"render {t_render}, transitions {t_pairs}, train step {t_step} (wall, cpu s)",
                  flush=True)
    grid_s = None
    if not args.skip_grid:
        torch.set_num_threads(args.grid_threads)
        t, c = time.perf_counter(), time.process_time()
        grid = render_grid(dsprites())
        grid_s = (time.perf_counter() - t, time.process_time() - c)
        print(f"full dSprites grid: {grid_s} s (wall, cpu), {tuple(grid.shape)} {grid.dtype}", flush=True)
        del grid
    torch.set_num_threads(threads_before)
    load_after = os.getloadavg()

    lines = [
        "# Rendering benchmark (`benchmarks/render.py`)",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}. Load average "
        f"before/after: {load_before[0]:.1f} / {load_after[0]:.1f}: other helpers' jobs (tests, benchmarks, "
        "training) were running on the same 2 cores, so wall-clock times are inflated several-fold; CPU "
        "times (the process's, all threads) are the steadier measure of cost. Under such oversubscription "
        "torch with 2 threads spins in its OpenMP barriers, which is why 2 threads can cost more than 1.",
        "",
        f"Batch {batch}, 64×64 images unless marked 32×32, median of {args.repeats} runs. *Train step*: "
        "forward + backward + "
        "Adam of `groupdrl.nn.ConvEncoder` (conv 32-32-64-64 → FC256 → 20) on the rendered batch. "
        "*Transitions*: `TransitionDataset.sample_batch` (valid actions of the whole group, two renders).",
        "",
        "Each cell: wall-clock / CPU time.",
        "",
        "| world | torch threads | render ms / batch | render images/s | output check ms / batch "
        "| transitions ms / batch | train step ms | step / render |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, threads, (rw, rc), (cw, cc), (pw, pc), (sw, sc) in rows:
        lines.append(f"| {label} | {threads} | {rw * 1e3:.1f} / {rc * 1e3:.1f} | {batch / rw:,.0f} / "
                     f"{batch / rc:,.0f} | {cw * 1e3:.2f} / {cc * 1e3:.2f} | {pw * 1e3:.1f} / {pc * 1e3:.1f} | "
                     f"{sw * 1e3:.1f} / {sc * 1e3:.1f} | {sw / rw:.1f}× / {sc / rc:.1f}× |")
    lines += ["", "Target: rendering ≥ 5× faster than the training step (step / render ≥ 5). The output check "
              "runs inside every `world.render`; training reads finite worlds from a cache rendered (and checked) "
              "once, so it costs per batch only where the grid is too large to cache (dSprites, Shapes3D) or "
              "there is none (continuous factors)."]
    if grid_s is not None:
        lines += ["", f"Full dSprites grid (737,280 images, `render_grid`, batches of 1024, stored as uint8, "
                      f"{args.grid_threads} torch thread(s)): **{grid_s[0]:.1f} s wall** "
                      f"({737_280 / grid_s[0]:,.0f} images/s), {grid_s[1]:.1f} s CPU; target < 60 s."]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "render.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    summary = {"render_min_step_over_render": min(sw / rw for _, _, (rw, _), _, _, (sw, _) in rows)}
    if grid_s is not None:
        summary["render_dsprites_grid_s"] = grid_s[0]
    return summary


if __name__ == "__main__":
    main()
