"""Shared helpers for the numerical checks of proofs/: orbit codes of C_Na × C_Nb."""
from __future__ import annotations

import math

import numpy as np
import torch

from groupdrl.worlds import Factor, World


def world(sizes=(5, 7)) -> World:
    return World([Factor(n, s) for n, s in zip("ab", sizes)], render=lambda s: s.float())


def orbit_code(freqs, sizes=(5, 7), q=None, t=None, seed=0):
    """``h(x) = Q ⊕_b R(w_a θ_a + w_b θ_b) v + t`` for frequency pairs ``freqs = [(w_a, w_b), …]``.

    Exactly equivariant for ρ(g) = Q (⊕_b R(w_a θ_a(g) + w_b θ_b(g))) Q⁻¹ about the centre t.
    """
    v = np.random.default_rng(seed).normal(size=(len(freqs), 2)) + 1.0
    d = 2 * len(freqs)
    q = np.eye(d) if q is None else q
    t = np.zeros(d) if t is None else t

    def enc(obs: torch.Tensor) -> torch.Tensor:
        ta = 2 * math.pi * obs[:, 0].double().numpy() / sizes[0]
        tb = 2 * math.pi * obs[:, 1].double().numpy() / sizes[1]
        blocks = []
        for (wa, wb), vb in zip(freqs, v):
            ang = wa * ta + wb * tb
            c, s = np.cos(ang), np.sin(ang)
            blocks.append(np.stack([c * vb[0] - s * vb[1], s * vb[0] + c * vb[1]], 1))
        return torch.from_numpy(np.concatenate(blocks, 1) @ q.T + t)

    return enc


def mixing(seed: int, d: int, max_cond: float = 30.0) -> np.ndarray:
    """A random invertible (d, d) matrix with condition number ≤ max_cond."""
    rng = np.random.default_rng(seed)
    while True:
        q = rng.normal(size=(d, d))
        if np.linalg.cond(q) <= max_cond:
            return q
