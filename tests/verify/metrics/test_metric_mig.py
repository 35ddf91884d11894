"""MIG (Chen et al. 2018) on codes whose answer is known."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st
from metrics_helpers import GridWorld, grid_codes, identity_encoder, rotated_encoder, rotation

from groupdrl.verify.metrics import latent_factor_matrices, mig


def test_known_answers_perfect_rotated_noise():
    f, c = grid_codes(2000)
    perfect = mig(codes=c, factors=f)
    assert perfect["mig"] > 0.95
    assert perfect["mi_matrix"].shape == (3, 3)
    np.testing.assert_allclose(np.diag(perfect["mi_matrix"]), perfect["entropy"], rtol=0.02)
    assert mig(codes=c @ rotation(3).T, factors=f)["mig"] < 0.5
    noise = np.random.default_rng(1).normal(size=c.shape)
    assert mig(codes=noise, factors=f)["mig"] < 0.05


def test_world_form_identity_is_one_and_rotation_lower():
    world = GridWorld()
    assert mig(identity_encoder(), world, n_train=2000)["mig"] == pytest.approx(1.0, abs=0.01)  # plug-in MI bias
    assert mig(rotated_encoder(3), world, n_train=2000)["mig"] < 0.5


def test_duplicated_constant_dims_and_constant_factor():
    f, c = grid_codes(2000)
    base = mig(codes=c, factors=f)["mig"]
    dup = mig(codes=np.concatenate([c, c[:, :1]], axis=1), factors=f)
    # factor 0 is now captured equally by two codes: its gap is 0, the others keep theirs
    assert dup["mig"] == pytest.approx(base * 2 / 3, abs=0.02)
    const = mig(codes=np.concatenate([c, np.full((2000, 1), 7.0)], axis=1), factors=f)
    assert np.isfinite(const["mi_matrix"]).all() and const["mig"] == pytest.approx(base)
    with_const_factor = mig(codes=c, factors=np.concatenate([f, np.zeros((2000, 1), dtype=int)], axis=1))
    assert with_const_factor["mig"] == pytest.approx(base)


@given(st.permutations(range(3)))
def test_invariant_to_code_order(perm):
    f, c = grid_codes(500)
    assert mig(codes=c[:, list(perm)], factors=f)["mig"] == pytest.approx(mig(codes=c, factors=f)["mig"])


def test_deterministic_for_a_seed():
    world, enc = GridWorld(), rotated_encoder(3)
    a, b = mig(enc, world, n_train=1000, seed=4), mig(enc, world, n_train=1000, seed=4)
    assert a["mig"] == b["mig"]
    np.testing.assert_array_equal(a["mi_matrix"], b["mi_matrix"])


def test_latent_factor_matrices():
    f, c = grid_codes(2000)
    m = latent_factor_matrices(codes=c, factors=f)
    assert m["normalized_mi"].min() >= 0 and m["normalized_mi"].max() <= 1 + 1e-9
    np.testing.assert_allclose(np.diag(m["normalized_mi"]), 1.0, atol=0.02)
    assert (m["normalized_mi"] - np.diag(np.diag(m["normalized_mi"]))).max() < 0.05
