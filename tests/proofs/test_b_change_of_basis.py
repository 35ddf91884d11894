"""Proposition (b): change of basis (proofs/b_change_of_basis.md)."""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from proof_helpers import mixing, orbit_code, world
from scipy.linalg import subspace_angles

from groupdrl.verify.group import verify_group

FREQS = [(1, 0), (0, 1)]


@given(st.integers(0, 2**31 - 1))
def test_invertible_change_of_basis_keeps_an_exact_code_disentangled(seed):
    q = mixing(seed, 4)
    t = np.random.default_rng(seed).normal(size=4)
    plain = verify_group(orbit_code(FREQS), world(), n_states=150, seed=seed)
    mixed = verify_group(orbit_code(FREQS, q=q, t=t), world(), n_states=150, seed=seed)
    assert plain.disentangled and mixed.disentangled
    assert mixed.equivariance_error < 1e-10 and mixed.homomorphism_error < 1e-8
    np.testing.assert_allclose(mixed.leakage, np.eye(2), atol=1e-8)
    assert mixed.subspace_dims == plain.subspace_dims
    for z, zq in zip(plain.subspaces, mixed.subspaces):  # Z_i' = Q Z_i
        assert np.max(subspace_angles(q @ z, zq)) < 1e-6
    np.testing.assert_allclose(mixed.centre, t, atol=1e-8)


@given(st.floats(0.01, 100), st.booleans(), st.integers(0, 2**31 - 1))
def test_similarities_change_no_number(scale, flip, seed):
    rng = np.random.default_rng(seed)
    o, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    lam = -scale if flip else scale
    t = rng.normal(size=4)
    noise = rng.normal(size=(5, 7, 4)) * 0.05
    base = orbit_code(FREQS)

    def noisy(obs):
        return base(obs) + noise[obs[:, 0].long(), obs[:, 1].long()]

    a = verify_group(noisy, world(), n_states=150, seed=1)
    b = verify_group(lambda obs: lam * noisy(obs) @ o.T + t, world(), n_states=150, seed=1)
    assert a.equivariance_error > 1e-4  # an inexact code
    np.testing.assert_allclose(b.equivariance_error, a.equivariance_error, rtol=1e-6)
    for n in "ab":
        np.testing.assert_allclose(b.equivariance_relative[n], a.equivariance_relative[n], rtol=1e-6)
    np.testing.assert_allclose(b.homomorphism_error, a.homomorphism_error, rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(b.leakage, a.leakage, atol=1e-8)
    np.testing.assert_allclose(b.min_principal_angle, a.min_principal_angle, atol=1e-8)
    assert b.subspace_dims == a.subspace_dims and b.disentangled == a.disentangled


@given(st.integers(0, 2**31 - 1))
def test_least_squares_is_equivariant(seed):
    rng = np.random.default_rng(seed)
    x, y, q = rng.normal(size=(50, 4)), rng.normal(size=(50, 4)), mixing(seed, 4)
    m = np.linalg.lstsq(x, y, rcond=None)[0].T
    mq = np.linalg.lstsq(x @ q.T, y @ q.T, rcond=None)[0].T
    np.testing.assert_allclose(mq, q @ m @ np.linalg.inv(q), atol=1e-8)


@given(st.integers(0, 2**31 - 1))
def test_principal_angle_bound(seed):
    rng = np.random.default_rng(seed)
    u, w, q = rng.normal(size=(5, 2)), rng.normal(size=(5, 2)), mixing(seed, 5, max_cond=1e3)
    before = np.min(subspace_angles(u, w))
    after = np.min(subspace_angles(q @ u, q @ w))
    assert np.sin(after) >= np.sin(before) / np.linalg.cond(q) - 1e-12
