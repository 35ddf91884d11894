"""Training-step cost of the escnn image encoder versus the plain CNN (batch 64, 64x64, 2 threads).

Run: ``.venv/bin/python benchmarks/nn_encoder.py``; writes ``benchmarks/results/nn_encoder.md``.
Both encoders have the same depth (4 stride-2 4x4 convolutions with 32-32-64-64 channels,
a 256-wide hidden layer) and output width. The steps of all models are interleaved so
that they see the same load on the machine; median and fastest step are reported, with
2 threads (the target setting) and with 1 thread (less sensitive to other jobs on a
shared 2-core machine).
"""
from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import torch

from groupdrl.nn import ConvEncoder, EquivariantImageEncoder

BATCH, SIZE, STEPS, WARMUP = 64, 64, 12, 3
LATENT = ("irrep:1",) * 4 + ("trivial",) * 2  # 10 latent dims
OUT = Path(__file__).parent / "results" / "nn_encoder.md"


def make_step(model: torch.nn.Module, fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor):
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step() -> float:
        start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        fn(x).square().mean().backward()
        opt.step()
        return time.perf_counter() - start

    return step


def load() -> str:
    """Load average and the number of other busy processes, to judge how busy the 2 cores were."""
    out = subprocess.run(["ps", "-eo", "pcpu,pid", "--sort=-pcpu"], capture_output=True, text=True).stdout
    busy = [line.split() for line in out.splitlines()[1:]]
    busy = [float(c) for c, pid in busy if float(c) > 5.0 and int(pid) != os.getpid()]
    return f"load average {os.getloadavg()[0]:.1f}, {len(busy)} other processes above 5% CPU (sum {sum(busy):.0f}%)"


def models() -> dict[str, tuple[torch.nn.Module, Callable[[torch.Tensor], torch.Tensor]]]:
    from escnn.nn import GeometricTensor

    torch.manual_seed(0)
    plain = ConvEncoder(1, SIZE, 10)
    c4 = EquivariantImageEncoder(1, SIZE, gspace="rot2d", N=4, latent=LATENT)
    d4 = EquivariantImageEncoder(1, SIZE, gspace="fliprot2d", N=4, latent=LATENT)
    c4_escnn = EquivariantImageEncoder(1, SIZE, gspace="rot2d", N=4, latent=LATENT)

    def straightforward(x: torch.Tensor) -> torch.Tensor:  # escnn's SequentialModule, convolutions to the end
        return c4_escnn.net(GeometricTensor(x, c4_escnn.in_type)).tensor.flatten(1)

    return {
        "plain ConvEncoder": (plain, plain),
        "EquivariantImageEncoder C4": (c4, c4),
        "EquivariantImageEncoder D4": (d4, d4),
        "same C4 net run as a plain escnn SequentialModule": (c4_escnn, straightforward),
    }


def measure(threads: int) -> list[str]:
    torch.set_num_threads(threads)
    x = torch.rand(BATCH, 1, SIZE, SIZE, generator=torch.Generator().manual_seed(0))
    nets = models()
    steps = {name: make_step(m, fn, x) for name, (m, fn) in nets.items()}
    times: dict[str, list[float]] = {name: [] for name in nets}
    before = load()
    for i in range(WARMUP + STEPS):
        for name, step in steps.items():  # interleaved: every model sees the same load
            t = step()
            if i >= WARMUP:
                times[name].append(t)
    after = load()
    base_med = statistics.median(times["plain ConvEncoder"])
    base_min = min(times["plain ConvEncoder"])
    rows = [f"### {threads} thread{'s' if threads > 1 else ''}", "",
            "| model | parameters | median step (ms) | fastest step (ms) | median / plain | fastest / plain |",
            "|---|---|---|---|---|---|"]
    for name, ts in times.items():
        med, best = statistics.median(ts), min(ts)
        params = sum(p.numel() for p in nets[name][0].parameters())
        rows.append(f"| {name} | {params} | {med * 1e3:.0f} | {best * 1e3:.0f} | {med / base_med:.2f} "
                    f"| {best / base_min:.2f} |")
    rows += ["", f"Load before: {before}. Load after: {after}.", ""]
    print("\n".join(rows))
    return rows


def main() -> None:
    rows = measure(2) + measure(1)
    text = "\n".join([
        "# nn_encoder: training step of the equivariant image encoder vs the plain CNN",
        "",
        f"Batch {BATCH}, {SIZE}x{SIZE}x1 images, forward + backward + Adam step; {STEPS} timed steps after "
        f"{WARMUP} warm-up steps, the models' steps interleaved. Machine: 2 cores "
        f"({platform.machine()}), torch {torch.__version__}, Python {sys.version.split()[0]}.",
        "Output width 10 for every model (equivariant: 4 rotation blocks irrep:1 + 2 invariants).",
        "",
        *rows,
    ])
    OUT.write_text(text + "\n")


if __name__ == "__main__":
    main()
