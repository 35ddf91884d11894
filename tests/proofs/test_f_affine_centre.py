"""Proposition (f): affine actions of finite groups are linear about a fixed point (proofs/f_affine_centre.md)."""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from proof_helpers import mixing, orbit_code, world

from groupdrl.verify.group import verify_group
from groupdrl.verify.group.equivariance import fixed_point


def _affine_cn(n, seed, d=4):
    rng = np.random.default_rng(seed)
    q, c0 = mixing(seed, d), rng.normal(size=d)
    freqs = rng.integers(0, n, size=d // 2)

    def m(g):
        out = np.zeros((d, d))
        for b, w in enumerate(freqs):
            a = 2 * np.pi * w * g / n
            out[2 * b:2 * b + 2, 2 * b:2 * b + 2] = [[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]
        return q @ out @ np.linalg.inv(q)

    return [(m(g), c0 - m(g) @ c0) for g in range(n)], c0


@given(st.integers(2, 9), st.integers(0, 2**31 - 1))
def test_the_orbit_mean_is_a_common_fixed_point(n, seed):
    maps, _ = _affine_cn(n, seed)
    z0 = np.random.default_rng(seed + 1).normal(size=4)
    c = np.mean([m @ z0 + t for m, t in maps], 0)
    for m, t in maps:
        np.testing.assert_allclose(m @ c + t, c, atol=1e-9)


@given(st.integers(3, 9), st.integers(0, 2**31 - 1))
def test_least_squares_centre_is_exact_and_any_fixed_point_gives_the_same_residual(n, seed):
    maps, c0 = _affine_cn(n, seed)
    delta = fixed_point([m for m, _ in maps], [t for _, t in maps], [1] * n, np.full(4, 100.0))
    for m, t in maps:
        np.testing.assert_allclose((np.eye(4) - m) @ delta, t, atol=1e-8)
    x = np.random.default_rng(seed).normal(size=4)
    m, t = maps[1]
    y = m @ x + t
    for c in (delta, c0):
        np.testing.assert_allclose(y - c - m @ (x - c), 0, atol=1e-8)


@given(st.integers(2, 9), st.floats(0.1, 10))
def test_a_translation_has_no_fixed_point(n, size):
    maps = [np.eye(2)] * (n - 1)
    shifts = [np.array([size * g, 0.0]) for g in range(1, n)]
    delta = fixed_point(maps, shifts, [1] * (n - 1), np.ones(2))
    residual = sum(np.sum(((np.eye(2) - m) @ delta - t) ** 2) for m, t in zip(maps, shifts))
    assert residual >= sum(np.sum(t ** 2) for t in shifts) - 1e-9  # nothing can be absorbed


@given(st.integers(0, 2**31 - 1))
def test_verifier_finds_the_centre_of_an_affine_code(seed):
    t = np.random.default_rng(seed).normal(size=4) * 5
    r = verify_group(orbit_code([(1, 0), (0, 1)], t=t), world(), n_states=60, seed=seed)
    assert r.disentangled and r.equivariance_error < 1e-10
    np.testing.assert_allclose(r.centre, t, atol=1e-8)
