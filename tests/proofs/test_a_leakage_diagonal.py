"""Proposition (a): leakage diagonal ⇔ ρ = ρ_0 ⊕ ρ_1 ⊕ … ⊕ ρ_k (proofs/a_leakage_diagonal.md)."""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from proof_helpers import mixing, orbit_code, world

from groupdrl.verify.group import verify_group
from groupdrl.verify.group.decomposition import moved_fixed_projector

PAIRS = [(a, b) for a in range(3) for b in range(3) if (a, b) != (0, 0)]


@given(st.lists(st.sampled_from(PAIRS), min_size=1, max_size=3, unique=True), st.integers(0, 2**31 - 1))
def test_leakage_is_diagonal_iff_no_block_is_moved_by_two_factors(freqs, seed):
    q = mixing(seed, 2 * len(freqs))
    r = verify_group(orbit_code(freqs, q=q, seed=seed), world(), n_states=150, n_elements=3, seed=seed)
    off = r.leakage - np.diag(np.diag(r.leakage))
    if any(wa and wb for wa, wb in freqs):
        assert off.max() > 1e-3
        assert not r.disentangled
    else:
        assert off.max() < 1e-8
        for i, name in enumerate("ab"):
            moved = any((wa, wb)[i] for wa, wb in freqs)
            assert abs(r.leakage[i, i] - (1.0 if moved else 0.0)) < 1e-8
            assert r.subspace_dims[i] == 2 * sum(1 for f in freqs if f[i])  # Z_i = the blocks G_i moves


@given(st.lists(st.integers(0, 3), min_size=1, max_size=3), st.integers(0, 2**31 - 1), st.sampled_from([5, 7, 9]))
def test_the_projection_onto_fix_along_mov_is_the_group_average(freqs, seed, n):
    # part 1: P_i = (1/|G_i|) Σ_g ρ(g), also in a non-orthogonal basis
    d = 2 * len(freqs)
    q = mixing(seed, d)

    def rho(g):
        out = np.zeros((d, d))
        for b, w in enumerate(freqs):
            a = 2 * np.pi * w * g / n
            out[2 * b:2 * b + 2, 2 * b:2 * b + 2] = [[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]
        return q @ out @ np.linalg.inv(q)

    average = sum(rho(g) for g in range(n)) / n
    cov = q @ q.T  # any positive-definite data covariance
    p = moved_fixed_projector([rho(1), rho(2)], [1, 1], cov)
    np.testing.assert_allclose(p, average, atol=1e-8)
    np.testing.assert_allclose(p @ p, p, atol=1e-8)
