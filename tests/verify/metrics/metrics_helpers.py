"""A tiny duck-typed world (the World contract: .sizes, .factor_names, .sample_states, .render) and
hand-made codes/encoders whose metric values are known."""
from __future__ import annotations

import numpy as np
import torch


class GridWorld:
    """Factors on a grid; the observation is the vector of factor indices (float)."""

    def __init__(self, sizes: tuple[int, ...] = (4, 5, 6)):
        self.sizes = tuple(sizes)
        self.factor_names = tuple(f"f{i}" for i in range(len(sizes)))

    def sample_states(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        u = torch.rand(n, len(self.sizes), generator=generator, dtype=torch.float64)
        return (u * torch.tensor(self.sizes, dtype=torch.float64)).long()

    def render(self, states: torch.Tensor) -> torch.Tensor:
        return states.to(torch.float32)


_TABLE = torch.from_numpy(np.random.default_rng(99).uniform(-0.5, 0.5, size=(9973, 8)))
_PRIMES = torch.tensor([1, 31, 977, 7919, 104729, 1299709])


def _noise(obs: torch.Tensor, scale: float) -> torch.Tensor:
    """Deterministic uniform pseudo-noise of the state (a hashed table lookup), so encoders stay functions."""
    index = (obs.long() * _PRIMES[: obs.shape[1]]).sum(dim=1) % _TABLE.shape[0]
    return scale * _TABLE[index, : obs.shape[1]]


def identity_encoder(scale: float = 0.0):
    return lambda obs: obs.double() + _noise(obs, scale)


def rotation(dim: int, seed: int = 3) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(dim, dim)))
    return q * np.sign(np.diag(r))


def rotated_encoder(dim: int, scale: float = 0.05):
    q = torch.from_numpy(rotation(dim))
    return lambda obs: (obs.double() + _noise(obs, scale)) @ q.T


def noise_encoder(dim: int):
    """Codes independent of the factors' structure: a hash of the state (uniform noise), ``dim`` <= 8."""
    return lambda obs: _TABLE[(obs.long() * _PRIMES[: obs.shape[1]]).sum(dim=1) % _TABLE.shape[0], :dim]


def grid_codes(n: int = 2000, sizes: tuple[int, ...] = (4, 5, 6), noise: float = 0.05, seed: int = 0):
    """(factors, codes = factors + noise) on a random sample of the grid."""
    rng = np.random.default_rng(seed)
    factors = np.stack([rng.integers(0, s, n) for s in sizes], axis=1)
    return factors, factors + noise * rng.normal(size=factors.shape)
