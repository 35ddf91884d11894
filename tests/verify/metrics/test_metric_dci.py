"""DCI (Eastwood & Williams 2018): known answers and agreement with the reference algorithm."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from metrics_helpers import grid_codes, rotation
from sklearn.ensemble import GradientBoostingClassifier

from groupdrl.verify.metrics import completeness, dci, disentanglement


def _reference(x, y, xt, yt):
    """disentanglement_lib's dci.py, verbatim in substance (GradientBoostingClassifier defaults)."""
    r = np.zeros((x.shape[1], y.shape[1]))
    acc = []
    for j in range(y.shape[1]):
        model = GradientBoostingClassifier(random_state=0).fit(x, y[:, j])
        r[:, j] = np.abs(model.feature_importances_)
        acc.append(np.mean(model.predict(xt) == yt[:, j]))
    d_code = 1 - scipy.stats.entropy(r.T + 1e-11, base=r.shape[1])
    c_fac = 1 - scipy.stats.entropy(r + 1e-11, base=r.shape[0])
    return {"disentanglement": np.sum(d_code * r.sum(1) / r.sum()),
            "completeness": np.sum(c_fac * r.sum(0) / r.sum()), "informativeness_test": np.mean(acc)}


@pytest.fixture(scope="module")
def entangled():
    """A partially entangled code (two factors mixed, one noise dim) with train/test split."""
    rng = np.random.default_rng(5)
    f = np.stack([rng.integers(0, s, 900) for s in (2, 3, 3)], axis=1)
    c = f + 0.3 * rng.normal(size=f.shape)
    c = np.concatenate([c[:, :1] + 0.6 * c[:, 1:2], c[:, 1:], rng.normal(size=(900, 1))], axis=1)
    return c[:600], f[:600], c[600:], f[600:]


def test_agrees_with_reference_implementation(entangled):
    x, y, xt, yt = entangled
    ref = _reference(x, y, xt, yt)
    fast = dci(codes=x, factors=y, codes_test=xt, factors_test=yt)
    exact = dci(codes=x, factors=y, codes_test=xt, factors_test=yt, estimator="sklearn")
    for key, value in ref.items():
        assert fast[key] == pytest.approx(value, abs=0.02), key
        assert exact[key] == pytest.approx(value, abs=1e-12), key


def test_known_answers_perfect_rotated_noise():
    f, c = grid_codes(900, sizes=(2, 3, 4))
    perfect = dci(codes=c, factors=f)
    assert perfect["disentanglement"] > 0.9 and perfect["completeness"] > 0.9
    assert perfect["informativeness_test"] > 0.99
    np.testing.assert_allclose(perfect["importance_matrix"].sum(axis=0), 1.0)
    rotated = dci(codes=c @ rotation(3).T, factors=f)
    assert rotated["disentanglement"] < perfect["disentanglement"] - 0.3
    noise = dci(codes=np.random.default_rng(2).normal(size=c.shape), factors=f)
    assert noise["disentanglement"] < 0.1 and noise["informativeness_test"] < 0.4


def test_constant_and_duplicated_dims_and_constant_factor():
    f, c = grid_codes(900, sizes=(2, 3, 4))
    f = np.concatenate([f, np.ones((900, 1), dtype=int)], axis=1)
    codes = np.concatenate([c, c[:, :1], np.zeros((900, 1))], axis=1)
    out = dci(codes=codes, factors=f)
    r = out["importance_matrix"]
    assert np.isfinite([out[k] for k in ("disentanglement", "completeness")]).all()
    assert (r[4] == 0).all() and (r[:, 3] == 0).all()      # constant code, constant factor
    assert r[0, 0] > 0.1 and r[3, 0] > 0.1                  # duplicated code shares factor 0
    assert out["completeness"] < 0.9 < out["disentanglement"]


@given(arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 5)), elements=st.floats(0, 10)))
def test_d_and_c_bounds(r):
    for value in (disentanglement(r), completeness(r)):
        assert np.isfinite(value) and -1e-9 <= value <= 1 + 1e-9


def test_d_and_c_of_known_matrices():
    assert disentanglement(np.eye(4)) == pytest.approx(1.0) == completeness(np.eye(4))
    assert disentanglement(np.ones((4, 4))) == pytest.approx(0.0, abs=1e-9)
    # one code explains every factor: each code is pure (D low), each factor has one code (C = 1)
    r = np.zeros((3, 3))
    r[0] = 1
    assert disentanglement(r) == pytest.approx(0.0, abs=1e-9) and completeness(r) == pytest.approx(1.0)


def test_deterministic_and_parallel_equal():
    f, c = grid_codes(600, sizes=(2, 3, 4))
    a = dci(codes=c @ rotation(3).T, factors=f, seed=3)
    b = dci(codes=c @ rotation(3).T, factors=f, seed=3, n_jobs=2)
    np.testing.assert_array_equal(a["importance_matrix"], b["importance_matrix"])
    assert a["informativeness_test"] == b["informativeness_test"]
    with pytest.raises(ValueError, match="estimator"):
        dci(codes=c, factors=f, estimator="xgb")
