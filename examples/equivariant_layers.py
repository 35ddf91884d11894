"""Equivariant layers on a structured latent space, in your own torch model (no escnn needed).

Run with:  .venv/bin/python examples/equivariant_layers.py     (a few seconds)

The latent space carries ρ = ρ_x ⊕ ρ_r of G = C8 × SO(2) (a 2-D rotation block per factor).
``EquivariantMLP`` maps it to itself through a wider hidden representation; every layer commutes
with the group, so ``f(ρ(g) z) = ρ(g) f(z)`` holds for any weights, before and after training.
``GroupAction`` applies ρ(g) to latents, and ``export`` turns the trained layers into plain torch.
"""
from __future__ import annotations

import torch

import groupdrl.groups as G
from groupdrl.nn import EquivariantMLP, GroupAction, export
from groupdrl.testing import assert_equivariant

group = G.Product(x=G.Cyclic(8), r=G.SO2())
latent = group.representation({"x": "irrep:1", "r": "irrep:1"})  # dim 4
hidden = group.representation({"x": "regular", "r": "irrep:1"}) + group.representation({"r": "irrep:2"})
print(f"latent ρ: dim {latent.dim}, hidden: dim {hidden.dim}")

torch.manual_seed(0)
f = EquivariantMLP(latent, hidden, latent)  # EquivariantLinear → NormNonlinearity → EquivariantLinear
act = GroupAction(latent)


def target(z: torch.Tensor) -> torch.Tensor:
    """An equivariant map to learn: each 2-D block v becomes tanh(|v|) v / |v| (length squashed)."""
    v = z.reshape(len(z), 2, 2)
    return (torch.tanh(v.norm(dim=2, keepdim=True)) * v / v.norm(dim=2, keepdim=True)).reshape(len(z), 4)


# train f as any torch module
opt = torch.optim.Adam(f.parameters(), lr=1e-2)
gen = torch.Generator().manual_seed(0)
losses = []
for step in range(200):
    z = torch.randn(64, latent.dim, generator=gen)
    loss = ((f(z) - target(z)) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
print(f"training loss: {losses[0]:.3f} at step 0, {losses[-1]:.3f} at step 199")

# equivariance holds by construction: hypothesis searches g and z for f(ρ(g) z) ≠ ρ(g) f(z)
assert_equivariant(f, latent, latent, atol=1e-4)
g = group.sample(5, generator=gen)
z = torch.randn(5, latent.dim, generator=gen)
err = (f(act(g, z)) - act(g, f(z))).abs().max().item()
print(f"max |f(ρ(g)z) − ρ(g)f(z)| on 5 random pairs: {err:.1e}")

# plain torch for deployment: the same function, no basis expansion at run time
plain = export(f)
print("exported:", plain)
with torch.no_grad():
    print(f"max |export(f)(z) − f(z)|: {(plain(z) - f(z)).abs().max().item():.1e}")
