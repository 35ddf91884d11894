"""A tiny duck-typed world and hand-made encoders with known metric values."""
from __future__ import annotations

import numpy as np
import pytest
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


def _noise(obs: torch.Tensor, scale: float) -> torch.Tensor:
    """Deterministic pseudo-noise of the observation (a fixed hash), so encoders stay functions."""
    x = obs.double()
    phase = x @ torch.arange(1, x.shape[1] + 1, dtype=torch.float64)[:, None] * 12.9898 \
        + torch.arange(x.shape[1], dtype=torch.float64) * 78.233
    return scale * (torch.frac(torch.sin(phase) * 43758.5453) - 0.5)


def identity_encoder(scale: float = 0.05):
    return lambda obs: obs.double() + _noise(obs, scale)


def rotation(dim: int, seed: int = 3) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(dim, dim)))
    return q * np.sign(np.diag(r))


def rotated_encoder(dim: int, scale: float = 0.05):
    q = torch.from_numpy(rotation(dim))
    return lambda obs: (obs.double() + _noise(obs, scale)) @ q.T


def noise_encoder(dim: int):
    """Codes independent of the factors' structure: a hash of the state (uniform noise)."""
    return lambda obs: _noise(obs, 1.0)[:, :dim] if dim <= obs.shape[1] else torch.cat(
        [_noise(obs + i, 1.0) for i in range(-(-dim // obs.shape[1]))], dim=1)[:, :dim]


@pytest.fixture
def world() -> GridWorld:
    return GridWorld()


def grid_codes(n: int = 2000, sizes: tuple[int, ...] = (4, 5, 6), noise: float = 0.05, seed: int = 0):
    """(factors, codes = factors + noise) on a random sample of the grid."""
    rng = np.random.default_rng(seed)
    factors = np.stack([rng.integers(0, s, n) for s in sizes], axis=1)
    return factors, factors + noise * rng.normal(size=factors.shape)
