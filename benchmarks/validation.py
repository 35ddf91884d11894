"""Cost of the validation layer (issue 10) where it sits on a path that runs often.

- Group law: the public, validated ``compose`` versus the unchecked ``_compose`` the groups use in their
  own loops (``power``, ``cayley_graph``, ``element_orders``), for C_8, SO(3) and C_8 × SO(2), batch 64 (a
  training batch) and 100,000 (a verifier batch).
- Encoder call: the shared ``groupdrl.verify.encode.encode`` (device, no_grad, batches, output checks)
  versus a bare ``no_grad`` loop that renders and encodes, on flatland 32 px with the β-VAE conv encoder.
- Checkpoints: ``save_checkpoint``/``load_checkpoint`` (SHA-256 trailer written and checked) versus
  ``torch.save``/``torch.load(weights_only=True)`` of the same state, for the β-VAE on 64 px images.

Runs alternate (plain, checked, plain, checked, …) so load from other jobs hits both alike; medians of the
repeats are reported with their ratio.

Usage::

    .venv/bin/python benchmarks/validation.py [--repeats 5] [--threads 1]
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch

import groupdrl.groups as G
from groupdrl import models, worlds
from groupdrl.train.checkpoint import load_checkpoint, save_checkpoint
from groupdrl.verify.encode import encode

RESULTS = Path(__file__).resolve().parent / "results"


def timed(fn, repeats_inner: int) -> float:
    """Seconds per call of ``fn`` (mean over ``repeats_inner`` calls)."""
    t0 = time.perf_counter()
    for _ in range(repeats_inner):
        fn()
    return (time.perf_counter() - t0) / repeats_inner


def paired(plain, checked, repeats: int, inner: int) -> tuple[float, float]:
    """Medians (seconds per call) of alternating runs of two callables."""
    a, b = [], []
    for _ in range(repeats):
        a.append(timed(plain, inner))
        b.append(timed(checked, inner))
    return statistics.median(a), statistics.median(b)


def group_rows(repeats: int) -> list[tuple[str, float, float]]:
    rows = []
    gen = torch.Generator().manual_seed(0)
    for group in (G.Cyclic(8), G.SO3(), G.Product(x=G.Cyclic(8), r=G.SO2())):
        for n in (64, 100_000):
            a, b = group.sample(n, generator=gen), group.sample(n, generator=gen)
            inner = 2000 if n == 64 else 20
            plain, checked = paired(lambda: group._compose(a, b), lambda: group.compose(a, b), repeats, inner)
            rows.append((f"{group!r}.compose, batch {n}", plain, checked))
    return rows


def encoder_rows(repeats: int) -> list[tuple[str, float, float]]:
    world = worlds.get("flatland", n=8, image_size=32)
    model = models.get("beta_vae", world).eval()
    states = world.all_states().repeat(8, 1)  # 512 states

    def bare():
        with torch.no_grad():
            for i in range(0, len(states), 256):
                model.encode(world.render(states[i:i + 256])).numpy()

    plain, checked = paired(bare, lambda: encode(model.encode, world, states, 256), repeats, 3)
    return [("encode 512 flatland 32 px images (β-VAE conv encoder)", plain, checked)]


def checkpoint_rows(repeats: int) -> list[tuple[str, float, float]]:
    world = worlds.get("flatland", n=8, image_size=64)
    model = models.get("beta_vae", world)
    opt = torch.optim.Adam(model.parameters())
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        raw, ours = Path(tmp) / "raw.pt", Path(tmp) / "checkpoint.pt"
        state = {"model": model.state_dict(), "optimizer": opt.state_dict()}

        def save_raw():
            buf = io.BytesIO()
            torch.save(state, buf)
            with open(raw, "wb") as fh:
                fh.write(buf.getvalue())
                fh.flush()
                os.fsync(fh.fileno())

        plain, checked = paired(save_raw, lambda: save_checkpoint(ours, model, opt, 1, 0, {}), repeats, 3)
        size = ours.stat().st_size / 2**20
        rows.append((f"save a β-VAE checkpoint ({size:.1f} MiB, fsync)", plain, checked))
        plain, checked = paired(lambda: torch.load(raw, weights_only=True), lambda: load_checkpoint(ours),
                                repeats, 3)
        rows.append((f"load it ({size:.1f} MiB)", plain, checked))
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    rows = group_rows(args.repeats) + encoder_rows(args.repeats) + checkpoint_rows(args.repeats)
    load = os.getloadavg()[0]
    lines = ["# Validation overhead (issue 10)", "",
             f"Medians of {args.repeats} alternating repeats; torch threads {args.threads}; 1-minute load average "
             f"{load:.1f} when the run ended (2 cores shared with other jobs); torch {torch.__version__}, CPU only. "
             "Produced by `.venv/bin/python benchmarks/validation.py`.", "",
             "| operation | unchecked | checked | ratio |", "|---|---|---|---|"]
    for name, plain, checked in rows:
        lines.append(f"| {name} | {_fmt(plain)} | {_fmt(checked)} | {checked / plain:.2f} |")
    lines += ["", "Where the checks run: once per public call, at the boundary. The groups' own loops (`power`, "
              "`cayley_graph`, `element_orders`, a `Product`'s factor-wise law) use the unchecked law; a training "
              "step calls no group law (the sampler's `sample(n)` only checks the count, and `world.act` / "
              "`Representation.__call__` validated their elements before this change too), so `fit`'s step time "
              "is unchanged. SO(3)'s check (R Rᵀ, a determinant sign, finiteness, for both operands) costs a few "
              "times the product itself: a user's loop over many small compositions should call `_compose` after "
              "one `validate`. The encoder call checks each batch of outputs once (no cost next to an encoder). "
              "Checkpoints: the SHA-256 trailer adds milliseconds per save/load of a few MiB."]
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "validation.md").write_text(text)
    print(text)


def _fmt(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


if __name__ == "__main__":
    main()
