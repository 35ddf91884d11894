"""Rendering throughput of the procedural worlds next to one training step of the shared encoder.

Run ``.venv/bin/python benchmarks/render.py`` (about 2 minutes on 2 cores); writes
benchmarks/results/render.md. Measures, with ``torch.set_num_threads(2)``:

- images/s of ``world.render`` on batches of 256 random states (dSprites bounded and
  periodic, Shapes3D, 64×64), and of ``TransitionDataset.sample_batch(256)`` (two renders
  plus drawing valid actions);
- the time of one training step (forward, backward, Adam) of ``groupdrl.nn.ConvEncoder``
  (conv 32-32-64-64 → FC256 → 20) on the same batch, with a squared-error loss;
- the time to render the full dSprites grid (737,280 images) with ``render_grid`` (batches
  of 1024, stored as uint8: 3 GB).

Each time is reported as wall-clock and as the process's CPU time (all threads): the 2
cores are shared with other jobs, which inflates wall time but hardly CPU time.
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
from groupdrl.worlds import TransitionDataset, dsprites, render_grid, shapes3d

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
    enc = ConvEncoder(x.shape[1], x.shape[-1], 20)
    opt = torch.optim.Adam(enc.parameters(), lr=1e-4)

    def step():
        opt.zero_grad()
        loss = enc(x).pow(2).mean()
        loss.backward()
        opt.step()

    return _median_time(step, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--skip-grid", action="store_true", help="skip the full dSprites grid")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "render.md"))
    args = parser.parse_args()
    torch.set_num_threads(2)
    load_before = os.getloadavg()
    gen = torch.Generator().manual_seed(0)
    rows = []
    for label, world in [("dSprites (bounded)", dsprites()), ("dSprites (periodic)", dsprites(periodic=True)),
                         ("Shapes3D", shapes3d())]:
        states = world.sample_states(BATCH, generator=gen)
        t_render = _median_time(lambda: world.render(states), args.repeats)
        data = TransitionDataset(world, n=1, seed=0)
        t_pairs = _median_time(lambda: data.sample_batch(BATCH), args.repeats)
        t_step = train_step_time(world.render(states), max(5, args.repeats // 4))
        rows.append((label, t_render, t_pairs, t_step))
        print(label, f"render {t_render}, transitions {t_pairs}, train step {t_step} (wall, cpu s)", flush=True)
    grid_s = None
    if not args.skip_grid:
        t, c = time.perf_counter(), time.process_time()
        grid = render_grid(dsprites())
        grid_s = (time.perf_counter() - t, time.process_time() - c)
        print(f"full dSprites grid: {grid_s} s (wall, cpu), {tuple(grid.shape)} {grid.dtype}", flush=True)
        del grid
    load_after = os.getloadavg()

    lines = [
        "# Rendering benchmark (`benchmarks/render.py`)",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"`torch.set_num_threads(2)`. Load average before/after: {load_before[0]:.1f} / {load_after[0]:.1f} "
        "(other helpers' jobs share the 2 cores, so absolute times are pessimistic; the ratios "
        "compare runs made under the same load).",
        "",
        f"Batch {BATCH}, 64×64 images, median of {args.repeats} runs. *Train step*: forward + backward + "
        "Adam of `groupdrl.nn.ConvEncoder` (conv 32-32-64-64 → FC256 → 20) on the rendered batch. "
        "*Transitions*: `TransitionDataset.sample_batch` (valid actions of the whole group, two renders).",
        "",
        "Each cell: wall-clock / CPU time (process, all threads).",
        "",
        "| world | render ms / batch | render images/s | transitions ms / batch | train step ms "
        "| step / render |",
        "|---|---|---|---|---|---|",
    ]
    for label, (rw, rc), (pw, pc), (sw, sc) in rows:
        lines.append(f"| {label} | {rw * 1e3:.1f} / {rc * 1e3:.1f} | {BATCH / rw:,.0f} / {BATCH / rc:,.0f} | "
                     f"{pw * 1e3:.1f} / {pc * 1e3:.1f} | {sw * 1e3:.1f} / {sc * 1e3:.1f} | "
                     f"{sw / rw:.1f}× / {sc / rc:.1f}× |")
    lines += ["", "Target: rendering ≥ 5× faster than the training step (step / render ≥ 5)."]
    if grid_s is not None:
        lines += ["", f"Full dSprites grid (737,280 images, `render_grid`, batches of 1024, stored as uint8): "
                      f"**{grid_s[0]:.1f} s wall** ({737_280 / grid_s[0]:,.0f} images/s), {grid_s[1]:.1f} s CPU; "
                      "target < 60 s."]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
