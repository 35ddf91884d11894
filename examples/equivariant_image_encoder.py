"""An image encoder whose latent turns with the image (escnn; needs the escnn extra).

Run with:  .venv/bin/python examples/equivariant_image_encoder.py     (about 10 s)

``EquivariantImageEncoder`` is a steerable CNN (Weiler & Cesa 2019, built on escnn) for the
rotations of the image plane: here C4, quarter turns. Its latent carries a chosen
representation ``out_rep`` of C4 — a 2-D block that rotates by 90° when the image does, and an
invariant scalar — for any weights. ``export`` gives the same function as plain torch layers.
"""
from __future__ import annotations

import torch

from groupdrl.nn import EquivariantImageEncoder, export

torch.manual_seed(0)
encoder = EquivariantImageEncoder(1, 32, gspace="rot2d", N=4, widths=(8, 16), hidden=32,
                                  latent=("irrep:1", "trivial")).eval()
print(f"group {encoder.group!r}, latent dim {encoder.out_dim}, out_rep {encoder.out_rep.name}")

images = torch.rand(3, 1, 32, 32, generator=torch.Generator().manual_seed(1))
g = torch.tensor([1])  # a quarter turn
with torch.no_grad():
    z = encoder(images)
    z_turned = encoder(encoder.act_on_images(g, images))
    predicted = z @ encoder.out_rep(g)[0].T  # ρ(g) z for each image
print(f"max |h(g·x) − ρ(g) h(x)|: {(z_turned - predicted).abs().max().item():.1e} (|h(x)| ~ {z.abs().max().item():.2f})")

plain = export(encoder)  # nn.Sequential of Conv2d / ReLU / pooling: no escnn at run time
with torch.no_grad():
    print(f"max |export(h)(x) − h(x)|: {(plain(images) - z).abs().max().item():.1e}")
