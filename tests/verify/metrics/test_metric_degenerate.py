"""Degenerate codes get documented, finite answers (issue 10, "Metrics and verify on degenerate codes")."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from metrics_helpers import GridWorld, grid_codes, identity_encoder

from groupdrl.verify import metrics as M
from groupdrl.verify import verify_group
from groupdrl.verify.metrics._common import MAX_ENCODED, MAX_POINTS, constant_columns, histogram_discretize
from groupdrl.worlds import Factor, World

SMALL = {"n_train": 200, "n_eval": 100}


def scores(c: np.ndarray, f: np.ndarray) -> dict[str, float]:
    """Every array-form score of one code."""
    dci = M.dci(codes=c, factors=f)
    mod = M.modularity_explicitness(codes=c, factors=f)
    return {"mig": M.mig(codes=c, factors=f)["mig"], "sap": M.sap(codes=c, factors=f)["sap"],
            "sap_continuous": M.sap(codes=c, factors=f, continuous_factors=True)["sap"],
            "dci_d": dci["disentanglement"], "dci_c": dci["completeness"], "dci_i": dci["informativeness_test"],
            "modularity": mod["modularity"], "explicitness": mod["explicitness_test"]}


@pytest.fixture(scope="module")
def data():
    return grid_codes(300)


@pytest.fixture(scope="module")
def reference(data):
    f, c = data
    return scores(c, f)


def test_constant_code_scores_zero(data):
    """A collapsed encoder carries no information: every disentanglement score is 0; explicitness is chance."""
    f, _ = data
    out = scores(np.full((len(f), 4), 3.25), f)
    assert out.pop("explicitness") == 0.5 and out.pop("dci_i") < 0.5
    assert out == dict.fromkeys(out, 0.0)


def test_constant_code_dci_informativeness_is_the_majority_rate(data):
    f, _ = data
    out = M.dci(codes=np.zeros((len(f), 2)), factors=f, codes_test=np.zeros((len(f), 2)), factors_test=f)
    majority = np.mean([np.bincount(col).max() / len(col) for col in f.T])
    assert out["informativeness_test"] == pytest.approx(majority)
    assert (out["importance_matrix"] == 0).all()


@pytest.mark.parametrize("scale", [2.0**-100, 1e-30, 1e300])
def test_uniform_rescaling_changes_nothing(data, reference, scale):
    f, c = data
    assert scores(c * scale, f) == pytest.approx(reference, abs=1e-9)


def test_huge_and_duplicated_codes_are_finite(data):
    f, c = data
    huge = np.concatenate([c, c[:, :1]], 1) / np.abs(c).max() * np.finfo(np.float64).max  # |z| up to 1.8e308
    assert all(math.isfinite(v) for v in scores(huge, f).values())


def test_duplicated_code_has_no_gap():
    """On the full grid, factor codes have MI H(v_k) with their factor and exactly 0 with the others; a
    duplicated dim shares its factor's information, so that factor's gap is 0: MIG = (0 + 1 + 1) / 3."""
    f = np.stack(np.meshgrid(*[np.arange(s) for s in (4, 5, 6)], indexing="ij"), -1).reshape(-1, 3)
    assert M.mig(codes=f.astype(float), factors=f)["mig"] == pytest.approx(1.0)
    dup = np.concatenate([f[:, :1], f], 1).astype(float)
    assert M.mig(codes=dup, factors=f)["mig"] == pytest.approx(2 / 3)


def test_world_metrics_on_a_constant_encoder_score_zero():
    """``beta_vae_score`` gave 0.65 (its classifier's majority-class rate) for a constant encoder."""
    world = GridWorld()
    const = lambda obs: torch.zeros(len(obs), 3)  # noqa: E731
    assert M.beta_vae_score(const, world, **SMALL) == {"train_accuracy": 0.0, "eval_accuracy": 0.0}
    fv = M.factor_vae_score(const, world, n_variance=300, **SMALL)
    assert (fv["eval_accuracy"], fv["num_active_dims"]) == (0.0, 0)
    assert (M.factor_traversal(const, world)["moved_by"] == -1).all()


@pytest.mark.parametrize("scale", [1e-30, 1e300])
def test_world_metrics_do_not_change_under_rescaling(scale):
    world, enc = GridWorld(), identity_encoder(0.3)
    scaled = lambda obs: enc(obs) * scale  # noqa: E731
    for metric in (M.beta_vae_score, lambda e, w, **k: M.factor_vae_score(e, w, n_variance=300, **k)):
        a, b = metric(enc, world, **SMALL), metric(scaled, world, **SMALL)
        assert a["eval_accuracy"] == pytest.approx(b["eval_accuracy"], abs=1e-9)
    ta, tb = M.factor_traversal(enc, world), M.factor_traversal(scaled, world)
    np.testing.assert_allclose(ta["variance_ratio"], tb["variance_ratio"], atol=1e-9)


def test_constant_means_relatively_constant():
    codes = np.array([[1.0, 1e-300, 5.0], [1.0 + 1e-15, 2e-300, 5.0]])
    assert constant_columns(codes).tolist() == [True, False, True]
    assert histogram_discretize(codes, 20)[:, 0].tolist() == [1, 1]  # numpy alone: "Too many bins"


def test_time_bounds_are_clear_errors():
    world = GridWorld()
    with pytest.raises(ValueError, match="n_train"):
        M.mig(identity_encoder(), world, n_train=MAX_POINTS + 1)
    with pytest.raises(ValueError, match=re.escape(f"time bound of {MAX_ENCODED:.0e}")):
        M.beta_vae_score(identity_encoder(), world, n_train=200_000, n_eval=1)
    w16 = World([Factor("a", 4), Factor("b", 4)], render=lambda s: s.float())
    with pytest.raises(ValueError, match="n_states"):  # used to run for hours
        verify_group(lambda o: o, w16, n_states=10**7)
