"""Factor traversals: which factor moves each latent."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from metrics_helpers import GridWorld, identity_encoder, rotated_encoder

from groupdrl.verify.metrics import factor_traversal, mig


def test_identity_code_each_latent_moved_by_its_factor():
    out = factor_traversal(identity_encoder(), GridWorld())
    np.testing.assert_array_equal(out["moved_by"], [0, 1, 2])
    r = out["variance_ratio"]
    assert (np.diag(r) > 0.8).all() and (r - np.diag(np.diag(r))).max() == pytest.approx(0.0, abs=1e-12)


def test_rotated_code_latents_move_with_several_factors_and_constant_latent():
    rot = rotated_encoder(3)
    out = factor_traversal(lambda o: torch.cat([rot(o), torch.ones(len(o), 1, dtype=torch.float64)], 1),
                           GridWorld())
    assert out["moved_by"][3] == -1 and (out["variance_ratio"][3] == 0).all()
    assert ((out["variance_ratio"][:3] > 0.05).sum(axis=1) >= 2).all()


def test_with_a_groupdrl_world_if_available():
    worlds = pytest.importorskip("groupdrl.worlds")
    world = worlds.vector_world((4, 6), embedding="index")
    enc = lambda obs: obs.double()  # noqa: E731  the index code is axis-aligned: perfect on every axis metric
    assert mig(enc, world, n_train=1000)["mig"] > 0.97
    np.testing.assert_array_equal(factor_traversal(enc, world)["moved_by"], [0, 1])
