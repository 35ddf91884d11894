"""Proposition (g): the practical D_LSBD procedure is an upper bound (proofs/g_dlsbd_bound.md)."""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from groupdrl.verify.group.dlsbd import FREQUENCIES, subgroup_bound


def _project(grid, axis):
    centred = grid - grid.mean(axis=axis, keepdims=True)
    flat = centred.reshape(-1, grid.shape[-1])
    p = flat @ np.linalg.svd(flat, full_matrices=False)[2][:2].T
    return p / (p.std() * np.sqrt(2))


def _objective(grid, axis, omega, pooled=True):
    """The D_LSBD objective of the projected code at ρ_ω, computed point by point."""
    p = _project(grid, axis).reshape(*grid.shape[:-1], 2)
    n = grid.shape[axis]
    p = np.moveaxis(p, axis, 0)  # (n, rest..., 2)
    q = np.empty_like(p)
    for i in range(n):
        a = -omega * 2 * np.pi * i / n
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        q[i] = p[i] @ rot.T
    if pooled:
        flat = q.reshape(-1, 2)
        return float(((flat - flat.mean(0)) ** 2).sum(1).mean())
    return float(((q - q.mean(0, keepdims=True)) ** 2).sum(-1).mean())


@given(st.integers(0, 2**31 - 1), st.sampled_from([(6, 5), (8, 8)]), st.floats(0, 1))
def test_the_bound_is_the_minimum_of_the_objective_over_feasible_rho(seed, sizes, noise):
    rng = np.random.default_rng(seed)
    t1, t2 = np.meshgrid(*(2 * np.pi * np.arange(n) / n for n in sizes), indexing="ij")
    code = np.stack([np.cos(t1), np.sin(t1), np.cos(t2), np.sin(t2)], -1) @ rng.normal(size=(4, 5))
    code = code + noise * rng.normal(size=code.shape)
    for axis in (0, 1):
        value, omega = subgroup_bound(code, axis)
        objectives = [_objective(code, axis, w) for w in FREQUENCIES]
        np.testing.assert_allclose(value, min(objectives), atol=1e-10)
        np.testing.assert_allclose(value, _objective(code, axis, omega), atol=1e-10)
        assert -1e-12 <= value <= 1 + 1e-12
        # pooled centroid ≥ per-line centroids (variance decomposition)
        assert _objective(code, axis, omega) >= _objective(code, axis, omega, pooled=False) - 1e-12
