"""Verify an encoder on your own labelled images, where some combinations of factor values are missing.

Run with:  .venv/bin/python examples/your_own_data.py [OUT_DIR]     (about 10 s on 2 cores)

Your data is ``N`` observations and, for each, the values of the factors behind it. Here: a bright
2×2 square on a 12×12 image that wraps around (a torus), at 6 × 6 positions, except the six on the
diagonal x = y, which were never recorded: an incomplete grid. ``from_arrays`` turns that into a
world whose moves are partial (shifting x is valid only when the target image exists), and
``verify`` judges an encoder on it. The encoder reads the square's column and row as angles and
returns (cos, sin) of each: a circle per cyclic factor, so the group-theory definition passes,
while the dimension-wise intuitive scores do not (each factor is spread over two latents).
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import torch

from groupdrl.verify import verify
from groupdrl.worlds import from_arrays, load_arrays

# your data: images (N, 1, 12, 12) and the factor values of each image
xs, ys = (a.ravel() for a in np.meshgrid(np.arange(6), np.arange(6), indexing="ij"))
keep = xs != ys  # the diagonal was never recorded
xs, ys = xs[keep], ys[keep]
images = np.zeros((len(xs), 1, 12, 12), dtype=np.uint8)
for i, (x, y) in enumerate(zip(xs, ys)):
    images[i, 0, 2 * y:2 * y + 2, 2 * x:2 * x + 2] = 255

world = from_arrays(images, {"x": xs, "y": ys}, periodic=True, name="squares")
print(world)  # World('squares', x=6, y=6, 30 of 36 states)


# your encoder: images -> (n, 4) codes
def position_code(obs: torch.Tensor) -> torch.Tensor:
    """(cos, sin) of the square's column and row angle on the 12-pixel torus."""
    t = 2 * math.pi * torch.arange(12, dtype=obs.dtype) / 12
    cols, rows = obs[:, 0].sum(1), obs[:, 0].sum(2)  # light per column, per row
    angles = [torch.atan2((m * t.sin()).sum(1), (m * t.cos()).sum(1)) for m in (cols, rows)]
    return torch.stack([angles[0].cos(), angles[0].sin(), angles[1].cos(), angles[1].sin()], 1)


report = verify(position_code, world, seed=0, intuitive_kwargs=dict(n_train=2000, n_test=1000))
print(report.to_markdown())
out = Path(sys.argv[1] if len(sys.argv) > 1 else "runs/your_own_data")
paths = report.save(out)
print("wrote", ", ".join(str(p) for p in paths.values()))

# the same data as a file, for the command line: groupdrl verify --encoder FILE.py:NAME --data FILE.npz
np.savez(out / "squares.npz", images=images, factors=np.stack([xs, ys], 1), names=np.array(["x", "y"]),
         periodic=np.array([True, True]))
print(load_arrays(out / "squares.npz"))  # World('squares', x=6, y=6, 30 of 36 states)
