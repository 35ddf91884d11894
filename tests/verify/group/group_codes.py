"""Hand-made encoders on a world whose observations are the factor indices themselves."""
from __future__ import annotations

import math

import torch

from groupdrl.worlds import Factor, World

SIZES = (8, 6)


def make_world(sizes=SIZES, periodic=(True, True)) -> World:
    return World([Factor(n, s, periodic=p) for n, s, p in zip("ab", sizes, periodic)], render=lambda s: s.float())


def angles(obs: torch.Tensor, sizes=SIZES) -> list[torch.Tensor]:
    return [2 * math.pi * obs[:, i].double() / n for i, n in enumerate(sizes)]


def circle(t: torch.Tensor) -> torch.Tensor:
    return torch.stack([t.cos(), t.sin()], 1)


def exact(obs: torch.Tensor) -> torch.Tensor:
    """(cos, sin) of each factor's angle: ρ = R(θ_a) ⊕ R(θ_b) (Higgins et al. 2018, §6)."""
    a, b = angles(obs)
    return torch.cat([circle(a), circle(b)], 1)


def entangled(obs: torch.Tensor) -> torch.Tensor:
    """Second block carries θ_a + θ_b: moved by both factors."""
    a, b = angles(obs)
    return torch.cat([circle(a), circle(a + b)], 1)


def line(obs: torch.Tensor) -> torch.Tensor:
    """β-VAE-like line code: the raw indices."""
    return obs.double().clone()


def lookup(seed: int, dim: int = 4, scale: float = 1.0, sizes=SIZES):
    """A fixed random vector per state (a deterministic 'noise' code)."""
    table = scale * torch.randn(*sizes, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return lambda obs: table[obs[:, 0].long(), obs[:, 1].long()]
