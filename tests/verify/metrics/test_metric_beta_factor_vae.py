"""BetaVAE (Higgins et al. 2017) and FactorVAE (Kim & Mnih 2018) scores on a tiny world."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from metrics_helpers import GridWorld, identity_encoder, noise_encoder, rotated_encoder

from groupdrl.verify.metrics import beta_vae_score, factor_vae_score

SMALL = {"n_train": 300, "n_eval": 300}


def test_factor_vae_known_answers():
    world = GridWorld()
    perfect = factor_vae_score(identity_encoder(0.05), world, n_variance=2000, **SMALL)
    assert perfect["eval_accuracy"] == pytest.approx(1.0) and perfect["num_active_dims"] == 3
    votes = perfect["votes"]
    assert votes.sum() == SMALL["n_train"] and (votes == np.diag(np.diag(votes))).all()
    noise = factor_vae_score(noise_encoder(3), world, n_variance=2000, **SMALL)
    assert noise["eval_accuracy"] == pytest.approx(1 / 3, abs=0.1)  # chance: 1 / #factors
    rotated = factor_vae_score(rotated_encoder(3), world, n_variance=2000, **SMALL)
    assert rotated["eval_accuracy"] < 0.9


def test_factor_vae_pruned_dims_vote_for_the_right_dim():
    """The reference indexes all dims with an argmin over kept dims; here votes land on the kept dim."""
    world = GridWorld()

    def encoder(obs):  # [collapsed dim, f0, constant dim, f1, f2]
        x = obs.double()
        return torch.stack([1e-3 * x[:, 0], x[:, 0], torch.zeros(len(x), dtype=x.dtype), x[:, 1], x[:, 2]], 1)

    out = factor_vae_score(encoder, world, n_variance=2000, **SMALL)
    assert out["num_active_dims"] == 3 and out["eval_accuracy"] == pytest.approx(1.0)
    votes = out["votes"]
    assert votes[:, [0, 2]].sum() == 0
    assert votes[0, 1] > 0 and votes[1, 3] > 0 and votes[2, 4] > 0
    assert factor_vae_score(lambda o: 0 * o, world, **SMALL) == {
        "train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0, "votes": pytest.approx(np.zeros((3, 3)))}


def test_beta_vae_known_answers():
    world = GridWorld()
    assert beta_vae_score(identity_encoder(), world, **SMALL)["eval_accuracy"] == pytest.approx(1.0)
    assert beta_vae_score(noise_encoder(3), world, **SMALL)["eval_accuracy"] < 0.6


def test_constant_factor_and_duplicated_dims():
    world = GridWorld((4, 1, 6))  # the middle factor never varies: it is never drawn
    enc = lambda obs: torch.cat([obs, obs[:, :1]], dim=1).double()  # noqa: E731  duplicated dim
    fv = factor_vae_score(enc, world, n_variance=1000, **SMALL)
    assert fv["votes"][1].sum() == 0 and np.isfinite(fv["eval_accuracy"])
    assert fv["eval_accuracy"] == pytest.approx(1.0)
    bv = beta_vae_score(enc, world, **SMALL)
    assert bv["eval_accuracy"] == pytest.approx(1.0)


def test_deterministic_and_independent_of_batch_size():
    world, enc = GridWorld(), rotated_encoder(3)
    a = beta_vae_score(enc, world, n_train=100, n_eval=50, seed=2)
    assert a == beta_vae_score(enc, world, n_train=100, n_eval=50, seed=2, batch_size=100)
    b = factor_vae_score(enc, world, n_train=100, n_eval=50, n_variance=500, seed=2)
    c = factor_vae_score(enc, world, n_train=100, n_eval=50, n_variance=500, seed=2, batch_size=100)
    assert b["eval_accuracy"] == c["eval_accuracy"]
    np.testing.assert_array_equal(b["votes"], c["votes"])
    d = factor_vae_score(enc, world, n_train=100, n_eval=50, n_variance=500, seed=3)
    assert not np.array_equal(b["votes"], d["votes"])


def test_bad_arguments():
    world = GridWorld()
    with pytest.raises(ValueError, match="group_size"):
        factor_vae_score(identity_encoder(), world, group_size=1)
    with pytest.raises(ValueError, match="n_eval"):
        beta_vae_score(identity_encoder(), world, n_eval=0)
    with pytest.raises(ValueError, match="world"):
        beta_vae_score(identity_encoder(), GridWorld((1, 1)), **SMALL)
