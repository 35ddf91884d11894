"""Group axioms and representation homomorphism, property-based, for every built-in group."""
from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import groupdrl.groups as G
from groupdrl.testing import assert_homomorphism, elements

GROUPS = [G.Cyclic(1), G.Cyclic(2), G.Cyclic(7), G.Cyclic(8), G.Dihedral(3), G.Dihedral(4), G.SO2(), G.Torus(2),
          G.SO3(), G.Product(x=G.Cyclic(4), r=G.SO2()), G.Product(a=G.Dihedral(3), b=G.Cyclic(5))]
IDS = [repr(g) for g in GROUPS]
# float32 angles: composition rounds at ~1e-6
ATOL = {True: 0.0, False: 1e-5}


def _eq(group, a, b) -> bool:
    return bool(group.equal(a, b, atol=1e-5).all())


@pytest.mark.parametrize("group", GROUPS, ids=IDS)
def test_associativity(group):
    @given(elements(group, 3), elements(group, 3), elements(group, 3))
    def check(a, b, c):
        assert _eq(group, group.compose(group.compose(a, b), c), group.compose(a, group.compose(b, c)))

    check()


@pytest.mark.parametrize("group", GROUPS, ids=IDS)
def test_identity_and_inverse(group):
    @given(elements(group, 4))
    def check(a):
        e = group.identity(4)
        assert _eq(group, group.compose(a, e), a)
        assert _eq(group, group.compose(e, a), a)
        assert _eq(group, group.compose(a, group.inverse(a)), e)
        assert _eq(group, group.compose(group.inverse(a), a), e)

    check()


@pytest.mark.parametrize("group", GROUPS, ids=IDS)
def test_samples_are_valid_and_seeded(group):
    a = group.sample(16, generator=torch.Generator().manual_seed(3))
    b = group.sample(16, generator=torch.Generator().manual_seed(3))
    group.validate(a)
    assert group.batch_size(a) == 16
    assert _eq(group, a, b)


@pytest.mark.parametrize("group", [pytest.param(g, marks=pytest.mark.escnn) if isinstance(g, G.SO3) else g
                                   for g in GROUPS], ids=IDS)  # SO(3) irreps of degree >= 2 come from escnn
def test_every_builtin_representation_is_a_homomorphism(group):
    reps = list(group.irreps())
    if group.is_finite and not isinstance(group, G.Product):
        reps.append(group.representation("regular"))
    assert reps
    for rho in reps:
        assert_homomorphism(rho, atol=ATOL[group.is_finite] + 1e-9, max_examples=10)


@pytest.mark.parametrize("group", [g for g in GROUPS if g.is_finite], ids=[repr(g) for g in GROUPS if g.is_finite])
def test_finite_enumeration(group):
    elems = group.elements()
    assert group.batch_size(elems) == group.order
    assert torch.equal(group.index(elems), torch.arange(group.order))
    graph = group.cayley_graph()
    assert graph.number_of_nodes() == group.order
    # generators generate: the Cayley graph is strongly connected
    import networkx as nx

    assert nx.is_strongly_connected(graph)


def test_haar_sampling_is_uniform_on_circle_and_sphere():
    gen = torch.Generator().manual_seed(0)
    th = G.SO2().sample(20000, generator=gen)
    assert abs(float(torch.cos(th).mean())) < 0.03 and abs(float(torch.sin(th).mean())) < 0.03
    r = G.SO3().sample(20000, generator=gen).to(torch.float64)
    # Haar on SO(3): E[R] = 0 and the rotation angle has density (1 - cos t)/π, so E[cos t] = -1/2
    assert float(r.mean(0).abs().max()) < 0.03
    cos_t = (r.diagonal(dim1=1, dim2=2).sum(-1) - 1) / 2
    assert abs(float(cos_t.mean()) + 0.5) < 0.02


def test_wrong_representation_is_caught():
    group = G.Cyclic(5)
    bad = G.Representation(group, lambda g, dtype: G.SO2().representation("irrep:1")._fn(g.to(dtype), dtype), 2, "bad")
    with pytest.raises(AssertionError, match="ρ"):
        assert_homomorphism(bad, atol=1e-6, max_examples=20)


@given(st.integers(1, 12), st.integers(0, 30))
def test_cyclic_irrep_matches_power_of_generator(n, k):
    group = G.Cyclic(n)
    rho = group.representation("irrep:1")
    g = torch.tensor([k % n])
    gen = rho(group.generators(), torch.float64)[0]
    assert torch.allclose(rho(g, torch.float64)[0], torch.linalg.matrix_power(gen, k % n), atol=1e-9)
