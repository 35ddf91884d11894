"""Proposition (j): SO(3) is one block; the Euler-angle code is discontinuous and fails
(proofs/j_so3_not_a_product.md)."""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import groupdrl.groups as G
from groupdrl.verify.group import verify_group
from groupdrl.worlds import Factor, World

ANGLE = st.floats(-math.pi, math.pi)


def axis(i: int, t: float) -> torch.Tensor:
    w = torch.zeros(1, 3, dtype=torch.float64)
    w[0, i] = t
    return G.SO3().exp(w)[0]


@given(ANGLE, ANGLE)
def test_axis_rotations_commute_only_if_trivial_or_both_half_turns(a, b):
    rx, ry = axis(0, a), axis(1, b)
    commute = bool(torch.allclose(rx @ ry, ry @ rx, atol=1e-9))
    trivial = min(abs(a), abs(b)) < 1e-6
    half = abs(abs(a) - math.pi) < 1e-6 and abs(abs(b) - math.pi) < 1e-6
    assert commute == (trivial or half) or min(abs(a), abs(b), abs(abs(a) - math.pi), abs(abs(b) - math.pi)) < 1e-4


def euler(r: torch.Tensor) -> torch.Tensor:
    """ZYX Euler angles as three circles."""
    a, b = torch.atan2(r[:, 1, 0], r[:, 0, 0]), torch.asin(-r[:, 2, 0].clamp(-1, 1))
    c = torch.atan2(r[:, 2, 1], r[:, 2, 2])
    return torch.stack([a.cos(), a.sin(), b.cos(), b.sin(), c.cos(), c.sin()], 1)


def test_the_euler_code_jumps_at_gimbal_lock_where_a_representation_does_not():
    t = 1.0
    # the identity of the proof: R_z(t) R_y(π/2) = R_y(π/2) R_x(−t)
    assert torch.allclose(axis(2, t) @ axis(1, math.pi / 2), axis(1, math.pi / 2) @ axis(0, -t), atol=1e-12)
    for delta in (1e-3, 1e-6):
        # near the lock only γ − α matters: (α, γ) = (0, 0) and (t, t) are rotations O(δ) apart
        r1 = axis(1, math.pi / 2 - delta)
        r2 = axis(2, t) @ axis(1, math.pi / 2 - delta) @ axis(0, t)
        assert float((r1 - r2).abs().max()) < 2 * delta
        code = euler(torch.stack([r1, r2]))
        assert float((code[1] - code[0]).norm()) > 1.0  # the Euler code jumps by O(1) ...
        v = torch.tensor([0.3, -0.5, 0.8], dtype=torch.float64)
        assert float((r2 @ v - r1 @ v).norm()) < 4 * delta  # ... a representation's code moves by O(δ)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_verifier_rejects_the_euler_code_and_accepts_the_continuous_one(seed):
    world = World([Factor("rot", group=G.SO3())], render=lambda s: s.float())
    r = verify_group(lambda o: euler(o.double().reshape(-1, 3, 3)), world, n_states=200, seed=seed)
    assert not r.disentangled and r.equivariance_relative["rot"] > 0.1
    v = torch.tensor([0.3, -0.5, 0.8], dtype=torch.float64)
    ok = verify_group(lambda o: o.double().reshape(-1, 3, 3) @ v, world, n_states=200, seed=seed)
    assert ok.disentangled and ok.subspace_dims == [3]
