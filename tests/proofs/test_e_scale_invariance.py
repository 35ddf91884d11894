"""Proposition (e): the normalised error is invariant to rescaling (proofs/e_scale_invariance.md)."""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st
from proof_helpers import orbit_code, world

from groupdrl.verify.group import verify_group

NOISE = np.random.default_rng(3).normal(size=(5, 7, 4)) * 0.05
BASE = orbit_code([(1, 0), (0, 1)])


def noisy(obs):
    return BASE(obs) + NOISE[obs[:, 0].long(), obs[:, 1].long()]


@given(st.floats(1e-4, 1e4), st.booleans())
def test_rescaling_changes_no_error(scale, flip):
    lam = -scale if flip else scale
    a = verify_group(noisy, world(), n_states=100)
    b = verify_group(lambda obs: lam * noisy(obs), world(), n_states=100)
    np.testing.assert_allclose(b.equivariance_error, a.equivariance_error, rtol=1e-7)
    np.testing.assert_allclose([b.equivariance_relative[n] for n in "ab"],
                               [a.equivariance_relative[n] for n in "ab"], rtol=1e-7)


def test_a_general_change_of_basis_changes_the_error_of_an_inexact_code():
    stretch = torch.diag(torch.tensor([30.0, 1.0, 1.0, 1.0], dtype=torch.float64))
    a = verify_group(noisy, world(), n_states=100)
    b = verify_group(lambda obs: noisy(obs) @ stretch, world(), n_states=100)
    assert abs(b.equivariance_error - a.equivariance_error) > 0.05 * a.equivariance_error
    kappa2 = 30.0 ** 2
    assert a.equivariance_error / kappa2 <= b.equivariance_error <= a.equivariance_error * kappa2
    exact = verify_group(lambda obs: BASE(obs) @ stretch, world(), n_states=100)
    assert exact.equivariance_error < 1e-10  # exactness does not depend on the basis


def test_zero_scale_is_reported_constant():
    r = verify_group(lambda obs: 0.0 * noisy(obs), world(), n_states=50)
    assert not r.disentangled and "constant" in r.reasons[0]
