"""Tests for LearnedRepresentation and GroupAction."""
from __future__ import annotations


import pytest
import torch
from hypothesis import given

from groupdrl.groups import SO2, SO3, Cyclic, Dihedral, Product, Torus
from groupdrl.nn import GroupAction, LearnedRepresentation
from groupdrl.testing import assert_equivariant, assert_homomorphism, elements

G = Product(x=Cyclic(5), r=SO2(), t=Torus(2), s=SO3(), d=Dihedral(3))
DIMS = {"x": 2, "r": 3, "t": 4, "s": 3, "d": 1}
torch.manual_seed(0)
RHO = LearnedRepresentation(G, DIMS, hidden=16).double()


@given(elements(G, n=3))
def test_block_diagonal_and_orthogonal(g):
    r = RHO(g, torch.float64)
    assert r.shape == (3, RHO.dim, RHO.dim) == (3, 13, 13)
    mask = torch.zeros(13, 13, dtype=torch.bool)
    for sl in RHO.blocks.values():
        mask[sl, sl] = True
    assert torch.equal(r[:, ~mask], torch.zeros_like(r[:, ~mask]))  # exact zeros off the blocks
    eye = torch.eye(13, dtype=torch.float64)
    assert torch.allclose(r @ r.transpose(1, 2), eye.expand_as(r), atol=1e-12)
    assert torch.allclose(torch.linalg.det(r), torch.ones(3, dtype=torch.float64), atol=1e-10)


def test_blocks_follow_factor_order_and_skip_missing_factors():
    rho = LearnedRepresentation(G, {"s": 3, "x": 2})
    assert rho.blocks == {"x": slice(0, 2), "s": slice(2, 5)}
    assert rho.dim == 5
    assert set(rho.subspaces()) == {"x", "s"}


@given(elements(Product(x=Cyclic(5), r=SO2()), n=2))
def test_factor_acts_only_on_its_block(g):
    group = Product(x=Cyclic(5), r=SO2())
    torch.manual_seed(1)
    rho = LearnedRepresentation(group, {"x": 2, "r": 2}).double()
    only_x = group.embed("x", g["x"])
    r = rho(only_x, torch.float64)
    assert torch.allclose(r[:, 2:, 2:], torch.eye(2, dtype=torch.float64).expand(2, 2, 2), atol=1e-12)


def test_gradient_reaches_mlp_parameters():
    rho = LearnedRepresentation(Product(x=Cyclic(8), r=SO2()), {"x": 2, "r": 2})
    act = GroupAction(rho)
    assert set(dict(act.named_parameters())) == {"rep." + k for k in dict(rho.named_parameters())}
    g = {"x": torch.tensor([1, 3]), "r": torch.tensor([0.5, 2.0])}
    z = torch.randn(2, 4, requires_grad=True)
    target = torch.randn(2, 4)
    (act(g, z) - target).square().sum().backward()
    assert z.grad is not None and z.grad.abs().sum() > 0
    for name, p in rho.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_general_linear_blocks():
    """orthogonal=False: A(g) is a general matrix, rho(g) invertible, block-diagonal, rho(e) = I."""
    group = Product(x=Cyclic(5), r=SO2())
    torch.manual_seed(2)
    rho = LearnedRepresentation(group, {"x": 2, "r": 1}, orthogonal=False).double()
    assert not rho.is_orthogonal()
    g = {"x": torch.tensor([1, 0]), "r": torch.tensor([2.0, 0.0])}
    r = rho(g, torch.float64).detach()
    assert torch.equal(r[:, :2, 2], torch.zeros(2, 2)) and torch.equal(r[:, 2, :2], torch.zeros(2, 2))
    assert float((r[0] @ r[0].T - torch.eye(3, dtype=torch.float64)).abs().max()) > 1e-3
    assert torch.allclose(r[1], torch.eye(3, dtype=torch.float64), atol=1e-12)
    assert bool((torch.linalg.det(r) > 0).all())


def test_single_group_and_dtype():
    rho = LearnedRepresentation(SO2(), 4)
    assert rho.blocks is None and rho.dim == 4
    r = rho(torch.tensor([0.3]))
    assert r.dtype == torch.get_default_dtype() and r.shape == (1, 4, 4)
    assert rho(torch.tensor([0.3]), torch.float64).dtype == torch.float64


def test_learned_rep_can_express_an_irrep():
    """Regressing on C_5's irrep:2 (angle 4πk/5, beyond π for k = 3) reaches a true homomorphism."""
    group = Cyclic(5)
    torch.manual_seed(0)
    rho = LearnedRepresentation(group, 2, hidden=16)
    opt = torch.optim.Adam(rho.parameters(), lr=3e-2)
    g, target = group.elements(), group.representation("irrep:2")(group.elements())
    before = float((rho(g) - target).detach().abs().max())
    for _ in range(100):
        opt.zero_grad()
        (rho(g) - target).square().mean().backward()
        opt.step()
    assert before > 0.5
    assert_homomorphism(rho.to_representation(), atol=5e-2)


@given(elements(Product(x=Cyclic(6), r=SO2()), n=4))
def test_group_action_matches_einsum(g):
    group = Product(x=Cyclic(6), r=SO2())
    rep = group.representation({"x": "irrep:1", "r": "irrep:2"})
    z = torch.randn(4, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    out = GroupAction(rep)(g, z)
    assert torch.allclose(out, torch.einsum("nij,nj->ni", rep(g, torch.float64), z), atol=0, rtol=0)


def test_group_action_is_equivariant_to_composition():
    """act(g, act(h, z)) = act(gh, z) for a genuine representation."""
    group = Cyclic(7)
    act = GroupAction(group.representation("irrep:2"))
    assert_equivariant(lambda z: act(torch.full((z.shape[0],), 3), z), group.representation("irrep:2"),
                       group.representation("irrep:2"), atol=1e-5)
    g, h = torch.tensor([2, 5]), torch.tensor([4, 6])
    z = torch.randn(2, 2, dtype=torch.float64)
    assert torch.allclose(act(g, act(h, z)), act(group.compose(g, h), z), atol=1e-12)


def test_errors_name_the_argument():
    rho = LearnedRepresentation(Product(x=Cyclic(4)), {"x": 2})
    act = GroupAction(rho)
    g = {"x": torch.tensor([1, 2])}
    with pytest.raises(ValueError, match=r"z: expected shape \(n, 2\)"):
        act(g, torch.zeros(2, 3))
    with pytest.raises(ValueError, match="g: batch of 2 elements for 3 latents"):
        act(g, torch.zeros(3, 2))
    with pytest.raises(ValueError, match="g"):
        act({"y": torch.tensor([1])}, torch.zeros(1, 2))
    with pytest.raises(ValueError, match=r"dims: unknown factor name\(s\) \['y'\]"):
        LearnedRepresentation(Product(x=Cyclic(4)), {"y": 2})
    with pytest.raises(ValueError, match=r"dims\['x'\]"):
        LearnedRepresentation(Product(x=Cyclic(4)), {"x": 0})
    with pytest.raises(TypeError, match="dims"):
        LearnedRepresentation(Product(x=Cyclic(4)), 2)
    with pytest.raises(TypeError, match="rep"):
        GroupAction("irrep:1")
