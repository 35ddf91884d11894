"""Judge your own encoder against both definitions of disentanglement.

Run with:  .venv/bin/python examples/verify_my_encoder.py [OUT_DIR]

A world here is three binary factors whose observation is the vector of signs; swap in
``groupdrl.worlds.get("flatland")`` (images) and your trained torch module to judge a real model.
"""
from __future__ import annotations

import sys

import torch

from groupdrl.verify import verify
from groupdrl.worlds import Factor, World

world = World([Factor("a", 2), Factor("b", 2), Factor("c", 2)], render=lambda s: (2 * s - 1).float(), name="signs")
mixing = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(1)))[0]


def my_encoder(x: torch.Tensor) -> torch.Tensor:
    """Any callable from observations to (n, d) latents: here a rotated sign code."""
    return x @ mixing


report = verify(my_encoder, world, seed=0, intuitive_kwargs=dict(n_train=2000, n_test=1000))
print(report.to_markdown())
if report.group.counterexample:
    print("worst pair:", report.group.counterexample)
paths = report.save(sys.argv[1] if len(sys.argv) > 1 else "runs/verify_example")
print("wrote", ", ".join(str(p) for p in paths.values()))
