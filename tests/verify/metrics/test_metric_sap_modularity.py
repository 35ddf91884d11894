"""SAP (Kumar et al. 2018) and modularity / explicitness (Ridgeway & Mozer 2018)."""
from __future__ import annotations

import numpy as np
import pytest
from metrics_helpers import GridWorld, grid_codes, identity_encoder, rotation

from groupdrl.verify.metrics import modularity_explicitness, sap


def test_sap_continuous_known_answers():
    f, c = grid_codes(1500)
    perfect = sap(codes=c, factors=f, continuous_factors=True)
    assert perfect["sap"] > 0.95
    assert sap(codes=c @ rotation(3).T, factors=f, continuous_factors=True)["sap"] < 0.6
    noise = np.random.default_rng(0).normal(size=c.shape)
    assert sap(codes=noise, factors=f, continuous_factors=True)["sap"] < 0.05


def test_sap_discrete_binary_factors():
    # binary factors: the matching code classifies perfectly, the others at chance (balanced) -> gap ~ 0.5
    f, c = grid_codes(1500, sizes=(2, 2, 2))
    perfect = sap(codes=c, factors=f)
    assert perfect["sap"] == pytest.approx(0.5, abs=0.05)
    np.testing.assert_allclose(np.diag(perfect["score_matrix"]), 1.0)
    assert sap(codes=c @ rotation(3).T, factors=f)["sap"] < perfect["sap"] - 0.2


def test_sap_duplicated_and_constant_dims():
    f, c = grid_codes(900)
    out = sap(codes=np.concatenate([c, c, np.zeros((900, 1))], axis=1), factors=f, continuous_factors=True)
    assert out["sap"] == pytest.approx(0.0, abs=1e-9)  # every factor has two equally good codes
    assert np.isfinite(out["score_matrix"]).all()
    out = sap(codes=np.concatenate([c, np.zeros((900, 1))], axis=1), factors=f)
    assert np.isfinite(out["sap"])


def test_modularity_explicitness_known_answers():
    f, c = grid_codes(1500)
    perfect = modularity_explicitness(codes=c, factors=f)
    assert perfect["modularity"] > 0.95
    assert perfect["explicitness_test"] > 0.99
    noise = modularity_explicitness(codes=np.random.default_rng(0).normal(size=c.shape), factors=f)
    assert noise["explicitness_test"] == pytest.approx(0.5, abs=0.05)
    rotated = modularity_explicitness(codes=c @ rotation(3).T, factors=f)
    assert rotated["modularity"] < perfect["modularity"] - 0.1


def test_modularity_constant_dim_single_factor_no_nan():
    f, c = grid_codes(900)
    out = modularity_explicitness(codes=np.concatenate([c, np.ones((900, 1))], axis=1), factors=f)
    assert all(np.isfinite(out[k]) for k in ("modularity", "explicitness_train", "explicitness_test"))
    single = modularity_explicitness(codes=c, factors=f[:, :1])
    assert np.isfinite(single["modularity"]) and single["explicitness_test"] > 0.99


def test_world_form_deterministic():
    world = GridWorld()
    a = modularity_explicitness(identity_encoder(), world, n_train=600, n_test=300, seed=1)
    b = modularity_explicitness(identity_encoder(), world, n_train=600, n_test=300, seed=1)
    assert a["explicitness_test"] == b["explicitness_test"] and a["modularity"] == b["modularity"]
    s = sap(identity_encoder(), world, n_train=600, n_test=300, seed=1)
    assert s["sap"] == sap(identity_encoder(), world, n_train=600, n_test=300, seed=1)["sap"]
