"""verify_group beyond cyclic factors: SO(3), D_N, SO(2) and mixed worlds, on codes with known verdicts."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import groupdrl.groups as G
from groupdrl.testing.disentangled import assert_disentangled
from groupdrl.verify.group import verify_group
from groupdrl.worlds import Factor, World

N = 300
V = torch.tensor([0.3, -0.5, 0.8], dtype=torch.float64)
#: A generic symmetric matrix: R S Rᵀ carries the l = 2 irrep (its traceless part) and a constant (l = 0).
S = torch.tensor([[0.5, 0.2, -0.1], [0.2, -0.3, 0.4], [-0.1, 0.4, -0.2]], dtype=torch.float64)

SO3_WORLD = World([Factor("rot", group=G.SO3()), Factor("colour", 8)], render=lambda s: s.float())


def rotations(obs: torch.Tensor) -> torch.Tensor:
    return obs[:, :9].double().reshape(-1, 3, 3)


def colour(obs: torch.Tensor, col: int = 9, n: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    t = 2 * math.pi * obs[:, col].double() / n
    return torch.stack([t.cos(), t.sin()], 1), t


def rot_z(t: torch.Tensor) -> torch.Tensor:
    c, s, z, o = t.cos(), t.sin(), torch.zeros_like(t), torch.ones_like(t)
    return torch.stack([c, -s, z, s, c, z, z, z, o], 1).reshape(-1, 3, 3)


def l1_code(obs):
    """R v ⊕ (cos, sin)(colour): SO(3) on R³ (l = 1) ⊕ a colour circle."""
    return torch.cat([rotations(obs) @ V, colour(obs)[0]], 1)


def l2_code(obs):
    """The entries of R S Rᵀ (l = 2 ⊕ a constant) ⊕ the colour circle."""
    m = rotations(obs) @ S @ rotations(obs).transpose(1, 2)
    iu = torch.triu_indices(3, 3)
    return torch.cat([m[:, iu[0], iu[1]], colour(obs)[0]], 1)


def turned_code(obs):
    """The colour turns the rotation's vector about z: R_z(θ_c) R v. Not equivariant under SO(3)."""
    c, t = colour(obs)
    return torch.cat([rot_z(t) @ rotations(obs) @ V, c], 1)


def tensor_code(obs):
    """R v ⊗ (cos, sin)(colour): a representation of SO(3) × C_8 whose every block both factors move."""
    return ((rotations(obs) @ V)[:, :, None] * colour(obs)[0][:, None, :]).reshape(-1, 6)


def euler_code(obs):
    """The three ZYX Euler angles as three independent circles (Higgins et al. 2018, §5.3: SO(3) is not
    the product of its axis rotations)."""
    r = rotations(obs)
    a, b = torch.atan2(r[:, 1, 0], r[:, 0, 0]), torch.asin(-r[:, 2, 0].clamp(-1, 1))
    c = torch.atan2(r[:, 2, 1], r[:, 2, 2])
    return torch.cat([torch.stack([a.cos(), a.sin(), b.cos(), b.sin(), c.cos(), c.sin()], 1), colour(obs)[0]], 1)


def test_so3_on_r3_with_a_colour_circle_passes():
    r = verify_group(l1_code, SO3_WORLD, n_states=N)
    assert r.disentangled, r.reasons
    assert r.equivariance_error < 1e-12 and r.homomorphism_error < 1e-12
    assert r.subspace_dims == [3, 2]
    np.testing.assert_allclose(r.leakage, np.eye(2), atol=1e-10)
    assert any("sampled pair of rot" in x["relation"] for x in r.relations)
    assert r.faithful == {"rot": None, "colour": True}
    assert r.dlsbd is None and any("D_LSBD not computed" in n for n in r.notes)
    # the generators of SO(3) are fitted as the rotations themselves (the code is R v, v spanning R³ over x)
    for m, g in zip(r.generator_maps["rot"], G.SO3().generators()):
        assert np.allclose(m[:3, :3], g.double().numpy(), atol=1e-6)


def test_the_l2_irrep_passes():
    r = verify_group(l2_code, SO3_WORLD, n_states=N)
    assert r.disentangled, r.reasons
    assert r.subspace_dims == [5, 2] and r.homomorphism_error < 1e-12


def test_a_code_mixing_rotation_and_colour_fails():
    r = verify_group(turned_code, SO3_WORLD, n_states=N)
    assert not r.disentangled
    assert r.equivariance_relative["rot"] > 0.3 and any("not equivariant under rot" in x for x in r.reasons)


def test_a_tensor_product_code_is_an_action_but_not_disentangled():
    r = verify_group(tensor_code, SO3_WORLD, n_states=N)
    assert r.equivariance_error < 1e-12 and r.homomorphism_error < 1e-12  # an action exists: only (3) fails
    assert not r.disentangled and r.subspace_dims == [6, 0]
    assert any("no subspace Z_colour" in x for x in r.reasons)


def test_euler_angles_as_independent_circles_fail():
    r = verify_group(euler_code, SO3_WORLD, n_states=N)
    assert not r.disentangled
    assert r.equivariance_relative["rot"] > 0.2 and r.homomorphism_error > 0.1
    assert r.equivariance_per_factor["colour"] < 1e-5  # the colour part of the code is fine


def test_a_given_rho_of_so3_is_used():
    rho = SO3_WORLD.group.representation({"rot": "standard", "colour": "irrep:1"})
    r = verify_group(l1_code, SO3_WORLD, n_states=100, rho=rho)
    assert r.disentangled and r.equivariance_error < 1e-10
    wrong = SO3_WORLD.group.representation({"rot": "standard", "colour": "irrep:3"})
    assert not verify_group(l1_code, SO3_WORLD, n_states=100, rho=wrong).disentangled


# ---- D_N ----------------------------------------------------------------------------------------------
def dihedral_world(n: int = 4) -> World:
    return World([Factor("pose", group=G.Dihedral(n)), Factor("colour", 3)], render=lambda s: s.float())


def dihedral_code(n: int, spec: str, v=(0.9, 0.3)):
    """ρ(pose) v for the irrep ``spec`` of D_n (applied to a generic vector) ⊕ the colour circle."""
    d = G.Dihedral(n)
    rho = d.representation(spec)
    vec = torch.tensor(v[:rho.dim], dtype=torch.float64)

    def enc(obs):
        pose = d.elements()[obs[:, 0].long()]
        return torch.cat([rho(pose, torch.float64) @ vec, colour(obs, 1, 3)[0]], 1)

    return enc


@pytest.mark.parametrize(("n", "spec"), [(4, "standard"), (5, "irrep:2"), (3, "standard")])
def test_the_2d_irreps_of_dn_pass_and_are_faithful_or_not_as_the_group_says(n, spec):
    r = verify_group(dihedral_code(n, spec), dihedral_world(n), n_states=N, n_elements=2 * n)
    assert r.disentangled, r.reasons
    assert r.equivariance_error < 1e-12 and r.homomorphism_error < 1e-12
    assert r.subspace_dims == [2, 2]
    assert r.faithful["pose"] is True  # irrep:k of D_n is faithful iff gcd(k, n) = 1
    assert any("Cayley edge" in x["relation"] and "ρ(s1)" in x["relation"] for x in r.relations)


def test_the_1d_codes_of_d4_are_equivariant_but_cannot_be_faithful():
    d = G.Dihedral(4)
    rho = d.representation("flip") + d.representation("rot") + d.representation("rotflip")  # every 1-D irrep
    ones = torch.ones(3, dtype=torch.float64)
    r = verify_group(lambda o: torch.cat([rho(d.elements()[o[:, 0].long()], torch.float64) @ ones,
                                          colour(o, 1, 3)[0]], 1), dihedral_world(4), n_states=N, n_elements=8)
    assert r.disentangled and r.equivariance_error < 1e-12  # Higgins et al.'s definition holds ...
    assert r.faithful["pose"] is False  # ... but the rotation by π acts as the identity on every 1-D irrep
    assert any("not faithful" in n for n in r.notes)
    # with the 2-D irrep added the same code becomes faithful
    std = d.representation("standard")
    enc = lambda o: torch.cat([std(d.elements()[o[:, 0].long()], torch.float64) @ V[:2],  # noqa: E731
                               colour(o, 1, 3)[0]], 1)
    assert verify_group(enc, dihedral_world(4), n_states=N, n_elements=8).faithful["pose"] is True


def test_a_dn_code_read_as_a_cyclic_one_fails():
    """Reading the 2N poses as C_2N (a rotation by 2π index / 2N) is not equivariant under D_N."""
    r = verify_group(lambda o: torch.cat([colour(o, 0, 8)[0], colour(o, 1, 3)[0]], 1), dihedral_world(4),
                     n_states=N)
    assert not r.disentangled and r.equivariance_relative["pose"] > 0.1
    assert r.faithful["pose"] is None  # no action: faithfulness is not decided


# ---- SO(2) and a mixed user world -------------------------------------------------------------------
TORUS = World([Factor("a", group=G.SO2()), Factor("b", group=G.SO2())], render=lambda s: s.float())


def test_continuous_so2_squared_circle_code_passes_with_dlsbd_zero_and_line_codes_fail():
    circles = lambda o: torch.cat([torch.stack([o[:, i].double().cos(), o[:, i].double().sin()], 1)  # noqa: E731
                                   for i in range(2)], 1)
    r = verify_group(circles, TORUS, n_states=N)
    assert r.disentangled and r.dlsbd["value"] < 1e-10 and set(map(abs, r.dlsbd["frequencies"].values())) == {1}
    assert r.notes and not any("D_LSBD not computed" in n for n in r.notes)
    line = verify_group(lambda o: o.double(), TORUS, n_states=N)
    assert not line.disentangled and line.dlsbd["value"] > 0.5
    both = lambda o: torch.cat([circles(o)[:, :2], torch.stack([(o[:, 0] + o[:, 1]).double().cos(),  # noqa: E731
                                                               (o[:, 0] + o[:, 1]).double().sin()], 1)], 1)
    tangled = verify_group(both, TORUS, n_states=N)
    assert not tangled.disentangled and any("leaks out of Z_a" in x for x in tangled.reasons)


def test_so2_acting_on_points_of_a_circle():
    w = World([Factor("p", group=G.SO2(), base_point=(0.0, 2.0)), Factor("c", 4)], render=lambda s: s.float())
    r = verify_group(lambda o: torch.cat([o[:, :2].double(), colour(o, 2, 4)[0]], 1), w, n_states=N)
    assert r.disentangled and r.subspace_dims == [2, 2] and r.dlsbd["value"] < 1e-10


MIXED = World([Factor("c", 5), Factor("d", group=G.Dihedral(3)), Factor("r", group=G.SO3())],
              render=lambda s: s.float())
D3 = G.Dihedral(3).representation("standard")


def mixed_code(obs, entangle: bool = False):
    c, t = colour(obs, 0, 5)
    pose = D3(G.Dihedral(3).elements()[obs[:, 1].long()], torch.float64) @ torch.tensor([0.8, 0.4],
                                                                                         dtype=torch.float64)
    rot = obs[:, 2:11].double().reshape(-1, 3, 3) @ V
    if entangle:  # the colour also turns the pose's vector: the D_3 block is moved by C_5 too
        ct, st = t.cos()[:, None], t.sin()[:, None]
        pose = torch.cat([ct * pose[:, :1] - st * pose[:, 1:], st * pose[:, :1] + ct * pose[:, 1:]], 1)
    return torch.cat([c, pose, rot], 1)


def test_a_user_world_of_a_cyclic_a_dihedral_and_an_so3_factor():
    r = verify_group(mixed_code, MIXED, n_states=N, n_elements=6)
    assert r.disentangled, r.reasons
    assert r.subspace_dims == [2, 2, 3] and r.homomorphism_error < 1e-12
    np.testing.assert_allclose(r.leakage, np.eye(3), atol=1e-10)
    assert set(r.counterexample["state"]) == {"c", "d", "r"} and np.shape(r.counterexample["state"]["r"]) == (3, 3)
    bad = verify_group(lambda o: mixed_code(o, True), MIXED, n_states=N, n_elements=6)
    assert not bad.disentangled
    assert any("not equivariant under d" in x or "ρ(s_c)ρ(s_d" in x for x in bad.reasons)


def test_assert_disentangled_on_lie_and_dihedral_factors():
    report = assert_disentangled(mixed_code, MIXED, n_states=100, max_examples=15)
    assert report.disentangled
    with pytest.raises(AssertionError, match=r"not equivariant: from the state .*applying the rotation by"):
        assert_disentangled(euler_code, SO3_WORLD, n_states=100, max_examples=15)
