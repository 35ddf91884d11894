"""Speed of verify_group: the verifier's own work (everything but calling the encoder).

Setting of issue 4: d = 10 latents, k = 5 cyclic factors, 10,000 state–element pairs
(2,000 states × 1 element per factor), a trivial encoder (the exact (cos, sin) code). Then the
growth with the number of pairs n and the latent dimension d. Writes
benchmarks/results/verify_group.md.

Run: ``.venv/bin/python benchmarks/verify_group.py``
"""
from __future__ import annotations

import math
import os
import platform
import time
from pathlib import Path

import torch

from groupdrl.verify.group import verify_group
from groupdrl.worlds import Factor, World

torch.set_num_threads(2)
SIZES = (10, 10, 10, 10, 10)
REPEATS = 3


class TimedEncoder:
    """The exact (cos, sin) code of each factor, mapped to ``d`` dims; records the time spent in it."""

    def __init__(self, d: int) -> None:
        g = torch.Generator().manual_seed(0)
        k = 2 * len(SIZES)
        self.lift = torch.eye(k) if d == k else torch.randn(k, d, generator=g, dtype=torch.float64)
        self.noise = 0.0 if d == k else 1e-3  # full rank when d > 2k
        self.seconds = 0.0
        self.g = g

    def __call__(self, obs: torch.Tensor) -> torch.Tensor:
        start = time.perf_counter()
        ang = 2 * math.pi * obs.double() / torch.tensor(SIZES, dtype=torch.float64)
        z = torch.stack([ang.cos(), ang.sin()], -1).reshape(len(obs), -1) @ self.lift.to(torch.float64)
        if self.noise:
            z = z + self.noise * torch.sin(obs.double() @ torch.arange(1.0, 6.0, dtype=torch.float64)[:, None]
                                           * torch.arange(1.0, z.shape[1] + 1, dtype=torch.float64))
        self.seconds += time.perf_counter() - start
        return z


def run(n_states: int, d: int, n_elements: int = 1) -> tuple[float, float, int, bool]:
    world = World([Factor(f"f{i}", s) for i, s in enumerate(SIZES)], render=lambda s: s.float())
    best = None
    for _ in range(REPEATS):
        enc = TimedEncoder(d)
        start = time.perf_counter()
        report = verify_group(enc, world, n_states=n_states, n_elements=n_elements, batch_size=4096)
        total = time.perf_counter() - start
        own = total - enc.seconds
        if best is None or own < best[0]:
            best = (own, total, report.n_pairs, report.disentangled)
    return best


def main() -> None:
    load = os.getloadavg()[0]
    rows = []
    own, total, pairs, ok = run(2000, 10)
    rows.append(("headline", 2000, 10, pairs, own, total, ok))
    for n_states in (500, 1000, 4000, 8000, 16000):
        o, t, p, ok = run(n_states, 10)
        rows.append(("n", n_states, 10, p, o, t, ok))
    for d in (20, 50, 100):
        o, t, p, ok = run(2000, d)
        rows.append(("d", 2000, d, p, o, t, ok))
    load_after = os.getloadavg()[0]
    lines = [
        "# verify_group speed",
        "",
        f"Machine: {platform.processor() or platform.machine()}, 2 cores (`torch.set_num_threads(2)`), shared with "
        f"other helpers' jobs (load average {load:.1f} before, {load_after:.1f} after). Best of {REPEATS} runs. "
        "\"Own\" = wall time of `verify_group` minus the time spent inside the encoder (rendering, sampling, "
        "state deduplication, all fits and checks).",
        "",
        f"Setting: k = 5 cyclic factors of size 10 (10⁵ states, no D_LSBD grid), 1 element per factor, "
        "so pairs = 5 × states; trivial encoder = exact (cos, sin) code (d = 10), lifted to larger d by a "
        "fixed random linear map plus a small deterministic perturbation (full rank).",
        "",
        f"**Headline (d = 10, k = 5, {rows[0][3]} pairs): {rows[0][4]:.2f} s of verifier work** "
        f"(target < 5 s; total with encoder {rows[0][5]:.2f} s; verdict disentangled = {rows[0][6]}).",
        "",
        "| varied | states | d | pairs | own time (s) | total (s) |",
        "|---|---|---|---|---|---|",
    ]
    for kind, n, d, p, o, t, _ in rows[1:]:
        lines.append(f"| {kind} | {n} | {d} | {p} | {o:.3f} | {t:.3f} |")
    lines += ["", "Growth: linear in the number of pairs (one pass of least squares and residuals per element, "
              "O(n d²)); in d the per-element fits and the subspace SVDs cost O(n d² + d³) and the piece "
              "decomposition O(2^k d³) at worst (pruned when pieces vanish).", ""]
    out = Path(__file__).parent / "results" / "verify_group.md"
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
