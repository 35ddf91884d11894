"""Property-based tests for your own representation and layer, with hypothesis.

Run with:  .venv/bin/python -m pytest examples/property_tests.py
"""
from __future__ import annotations

import torch
from hypothesis import given

import groupdrl.groups as G
from groupdrl.testing import assert_equivariant, assert_homomorphism, elements, representations

GROUP = G.Product(x=G.Cyclic(8), r=G.SO2())


def my_rep() -> G.Representation:
    """Your latent representation: here ρ = ρ_x ⊕ ρ_r written out by hand."""
    return GROUP.representation({"x": "irrep:1", "r": "irrep:1"})


def test_my_rep_is_a_homomorphism():
    assert_homomorphism(my_rep(), atol=1e-5)


def test_my_layer_is_equivariant():
    rho = my_rep()
    scale = torch.tensor([2.0, 2.0, 0.5, 0.5])  # scaling each block commutes with ρ
    assert_equivariant(lambda z: z * scale, rho, rho, atol=1e-4)


@given(elements(GROUP, n=16))
def test_group_law_on_batches(g):
    e = GROUP.identity(16)
    assert bool(GROUP.equal(GROUP.compose(g, e), g).all())


@given(representations(GROUP))
def test_every_disentangled_rep_is_a_homomorphism(rho):
    assert_homomorphism(rho, atol=1e-5)  # inside @given it checks seeded samples and the generators
