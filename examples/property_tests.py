"""Property-based tests for your own representation, layer and encoder, with hypothesis.

Run with:  .venv/bin/python -m pytest examples/property_tests.py      (about 10 s)

Each test states a property for all inputs; hypothesis searches for a counterexample and, when
it finds one, shrinks it to a small readable one (e.g. the group element 1 and the state (0, 0)).
``@settings(deadline=None)``: no per-example time limit (hypothesis' default 200 ms fails on busy machines).
"""
from __future__ import annotations

import torch
from hypothesis import given, settings

import groupdrl.groups as G
from groupdrl.testing import (assert_disentangled, assert_equivariant, assert_homomorphism, elements,
                              representations, states, subgroup_elements)
from groupdrl.worlds import Factor, World

GROUP = G.Product(x=G.Cyclic(8), r=G.SO2())


def my_rep() -> G.Representation:
    """Your latent representation: here ρ = ρ_x ⊕ ρ_r written out by hand."""
    return GROUP.representation({"x": "irrep:1", "r": "irrep:1"})


def test_my_rep_is_a_homomorphism():
    assert_homomorphism(my_rep(), atol=1e-5)  # searches g, h with ρ(gh) ≠ ρ(g)ρ(h)


def test_my_layer_is_equivariant():
    rho = my_rep()
    scale = torch.tensor([2.0, 2.0, 0.5, 0.5])  # scaling each block commutes with ρ
    assert_equivariant(lambda z: z * scale, rho, rho, atol=1e-4)  # searches g, z with f(ρ(g)z) ≠ ρ(g)f(z)


@settings(deadline=None)
@given(elements(GROUP, n=16))
def test_group_law_on_batches(g):
    e = GROUP.identity(16)
    assert bool(GROUP.equal(GROUP.compose(g, e), g).all())


@settings(deadline=None)
@given(subgroup_elements(GROUP, "x", n=8))
def test_moving_x_leaves_the_r_block_alone(g):
    """An element of the subgroup G_x (identity in r) must act on the x block only."""
    mats = my_rep()(g)
    assert torch.allclose(mats[:, 2:, 2:], torch.eye(2).expand(8, 2, 2), atol=1e-6)
    assert torch.allclose(mats[:, :2, 2:], torch.zeros(8, 2, 2))


@settings(deadline=None)
@given(representations(GROUP))
def test_every_disentangled_rep_is_a_homomorphism(rho):
    assert_homomorphism(rho, atol=1e-5)  # inside @given it checks seeded samples and the generators


# Your world and encoder: two cyclic factors, observed as their values; the encoder is a
# (cos, sin) code of each factor, a disentangled representation of C5 × C7.
WORLD = World([Factor("a", 5), Factor("b", 7)], render=lambda s: s.float(), name="two-dials")


def my_encoder(obs: torch.Tensor) -> torch.Tensor:
    angles = 2 * torch.pi * obs / torch.tensor([5.0, 7.0])
    return torch.cat([angles.cos(), angles.sin()], 1)[:, [0, 2, 1, 3]]


@settings(deadline=None)
@given(states(WORLD, n=4))
def test_my_encoder_has_unit_norm_blocks(s):
    z = my_encoder(WORLD.render(s))
    assert torch.allclose(z[:, :2].norm(dim=1), torch.ones(4), atol=1e-6)


def test_my_encoder_is_disentangled():
    # fits ρ and the subspaces Z_a, Z_b, then searches states and moves for a violation
    report = assert_disentangled(my_encoder, WORLD, n_states=100)
    assert report.subspace_dims == [2, 2]
