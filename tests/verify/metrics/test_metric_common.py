"""Shared parts: MI matrix, entropy, discretisation, input checks."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from metrics_helpers import GridWorld, grid_codes, identity_encoder
from sklearn.metrics import mutual_info_score

from groupdrl.verify.metrics import dci, discrete_entropy, histogram_discretize, mig, mutual_info_matrix, sap


@given(arrays(np.int64, st.tuples(st.integers(2, 40), st.integers(1, 3)), elements=st.integers(0, 4)),
       arrays(np.int64, st.tuples(st.just(40), st.integers(1, 3)), elements=st.integers(0, 3)))
def test_mutual_info_matrix_equals_sklearn(z, v):
    v = v[: z.shape[0]]
    m = mutual_info_matrix(z, v)
    expected = [[mutual_info_score(v[:, j], z[:, i]) for j in range(v.shape[1])] for i in range(z.shape[1])]
    np.testing.assert_allclose(m, expected, atol=1e-12)
    np.testing.assert_allclose(discrete_entropy(v), [mutual_info_score(c, c) for c in v.T], atol=1e-12)


def test_histogram_discretize_matches_reference_and_constant_column():
    rng = np.random.default_rng(0)
    codes = np.concatenate([rng.normal(size=(500, 2)), np.full((500, 1), 3.0)], axis=1)
    binned = histogram_discretize(codes, 20)
    for i in range(2):
        edges = np.histogram(codes[:, i], 20)[1][:-1]
        np.testing.assert_array_equal(binned[:, i], np.digitize(codes[:, i], edges))
    assert binned[:, :2].min() == 1 and binned[:, :2].max() == 20
    assert np.unique(binned[:, 2]).size == 1


def test_bad_inputs_raise_naming_the_argument():
    f, c = grid_codes(100)
    bad = c.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="codes"):
        mig(codes=bad, factors=f)
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match="codes"):
        sap(codes=bad, factors=f)
    with pytest.raises(ValueError, match="codes"):
        mig(codes=c[:, 0], factors=f)
    with pytest.raises(ValueError, match="factors"):
        mig(codes=c, factors=f[:50])
    with pytest.raises(TypeError, match="factors"):
        mig(codes=c, factors=f + 0.5)
    with pytest.raises(ValueError, match="factors"):
        mig(codes=c, factors=np.zeros_like(f))
    with pytest.raises(ValueError, match="codes_test"):
        dci(codes=c, factors=f, codes_test=c[:, :2], factors_test=f)
    with pytest.raises(ValueError, match="encoder"):
        mig(identity_encoder(), None)
    with pytest.raises(ValueError, match="codes"):
        mig(identity_encoder(), GridWorld(), codes=c, factors=f)
    with pytest.raises(TypeError, match="encoder"):
        mig(c, GridWorld())
    with pytest.raises(TypeError, match="world"):
        mig(identity_encoder(), object())
    with pytest.raises(ValueError, match="encoder output"):
        mig(lambda x: x * torch.nan, GridWorld(), n_train=10)
    with pytest.raises(ValueError, match="encoder output"):
        mig(lambda x: x[:1], GridWorld(), n_train=10)
    with pytest.raises(ValueError, match="n_train"):
        mig(identity_encoder(), GridWorld(), n_train=1)


def test_float_and_tensor_inputs_accepted():
    f, c = grid_codes(300)
    a = mig(codes=c, factors=f)["mig"]
    as_tensors = mig(codes=torch.from_numpy(c).float(), factors=torch.from_numpy(f).double())
    assert as_tensors["mig"] == pytest.approx(a, abs=1e-6)


def test_module_encoder_with_gradients_is_encoded_without_grad():
    enc = torch.nn.Linear(3, 3, dtype=torch.float32)
    with torch.no_grad():
        enc.weight.copy_(torch.eye(3))
        enc.bias.zero_()
    out = mig(enc, GridWorld(), n_train=500)
    assert out["mig"] > 0.9 and enc.weight.grad is None
