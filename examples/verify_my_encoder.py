"""Judge your own encoder against both definitions of disentanglement.

Run with:  .venv/bin/python examples/verify_my_encoder.py [OUT_DIR]     (about 15 s on 2 cores)

The encoder is any callable from a batch of observations to ``(n, d)`` latents: a torch module
(put it in eval mode), a trained model's ``encode``, or a plain function. Here it is a linear
layer that reads the ball's position off flatland images as two numbers: the centre of mass of
the lit pixels' columns and rows. It is what a β-VAE latent often looks like: one number per
factor, so the intuitive metrics call it disentangled; but x is a position on a circle (moving
right from x = 7 wraps around to x = 0) and a single number cannot turn around a circle, so the
group-theory definition says no, and its report says which relation of C8 fails.
"""
from __future__ import annotations

import sys

import torch

from groupdrl import worlds
from groupdrl.verify import verify

world = worlds.get("flatland", n=8, image_size=16)  # a ball on a periodic 8×8 grid, G = C8 × C8
side = world.observation_shape[-1]

# your encoder here: images (n, 1, 16, 16) -> latents (n, 2)
my_encoder = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(side * side, 2, bias=False))
with torch.no_grad():
    area = world.render(world.all_states()[:1]).sum()  # lit pixels of the ball
    columns, rows = torch.meshgrid(torch.arange(side), torch.arange(side), indexing="xy")
    my_encoder[1].weight.copy_(torch.stack([columns.flatten(), rows.flatten()]) / area)
my_encoder.eval()

report = verify(my_encoder, world, seed=0, intuitive_kwargs=dict(n_train=2000, n_test=1000))
print(report.to_markdown())
paths = report.save(sys.argv[1] if len(sys.argv) > 1 else "runs/verify_example")
print("wrote", ", ".join(str(p) for p in paths.values()))
