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


def _full_grid(sizes: tuple[int, ...], copies: int = 1) -> np.ndarray:
    grid = np.stack(np.meshgrid(*[np.arange(s) for s in sizes], indexing="ij"), -1).reshape(-1, len(sizes))
    return np.tile(grid, (copies, 1))


def test_sap_is_the_mean_of_unequal_gaps_continuous():
    """On a full grid the standardised factors u, v, w are exactly uncorrelated. Codes (u, v + w, w) give the
    squared correlations S = [[1, 0, 0], [0, ½, ½], [0, 0, 1]] (codes × factors): gaps 1, ½, ½, so
    SAP = 2/3 — not the smallest gap (½), the largest (1) or the median (½)."""
    f = _full_grid((4, 5, 6)).astype(float)
    u, v, w = ((f - f.mean(0)) / f.std(0)).T
    codes = np.stack([u, v + w, w], 1)
    out = sap(codes=codes, factors=f, codes_test=codes, factors_test=f, continuous_factors=True)
    np.testing.assert_allclose(out["score_matrix"], [[1, 0, 0], [0, 0.5, 0.5], [0, 0, 1]], atol=1e-12)
    assert out["sap"] == pytest.approx(2 / 3, abs=1e-12)


def test_sap_is_the_mean_of_unequal_gaps_discrete():
    """Binary factors on a full grid: a code equal to its factor is classified perfectly, any other code at
    exactly chance (each code value sees both classes equally often). Codes (f0, f1, f1): gaps ½ (f0),
    0 (f1 has two perfect codes) and 0 (f2 has none), so SAP = 1/6."""
    f = _full_grid((2, 2, 2), copies=50)
    codes = f[:, [0, 1, 1]].astype(float)
    out = sap(codes=codes, factors=f, codes_test=codes, factors_test=f)
    np.testing.assert_allclose(out["score_matrix"], [[1, 0.5, 0.5], [0.5, 1, 0.5], [0.5, 1, 0.5]], atol=1e-12)
    assert out["sap"] == pytest.approx(1 / 6, abs=1e-12)
