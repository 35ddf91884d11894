"""Isomorphism facts, products, representations' direct sums and changes of basis, SO(3) geometry."""
from __future__ import annotations

import math
from collections import Counter

import pytest
import torch

import groupdrl.groups as G


def order_profile(group) -> Counter:
    return Counter(group.element_orders().tolist())


def test_c6_is_c2_times_c3_but_c4_is_not_c2_times_c2():
    assert order_profile(G.Cyclic(6)) == order_profile(G.Product(a=G.Cyclic(2), b=G.Cyclic(3)))
    assert max(order_profile(G.Product(a=G.Cyclic(2), b=G.Cyclic(3)))) == 6  # has an element of order 6: cyclic
    assert order_profile(G.Cyclic(4)) != order_profile(G.Product(a=G.Cyclic(2), b=G.Cyclic(2)))
    assert max(order_profile(G.Product(a=G.Cyclic(2), b=G.Cyclic(2)))) == 2


def test_dihedral_is_not_abelian_and_reflections_are_involutions():
    d = G.Dihedral(5)
    r, s = d.generators()[0:1], d.generators()[1:2]
    assert not bool(d.equal(d.compose(r, s), d.compose(s, r)).all())
    assert bool(d.equal(d.compose(s, s), d.identity(1)).all())
    # s r s = r^-1
    assert bool(d.equal(d.compose(d.compose(s, r), s), d.inverse(r)).all())
    assert order_profile(d) == Counter({1: 1, 2: 5, 5: 4})


def test_product_blocks_and_subspaces():
    grp = G.Product(x=G.Cyclic(8), r=G.SO2(), c=G.Cyclic(3))
    rho = grp.representation({"x": "irrep:1", "c": "irrep:1"})
    assert rho.dim == 4 and rho.blocks == {"x": slice(0, 2), "c": slice(2, 4)}
    g = grp.embed("x", torch.tensor([2]))
    m = rho(g, torch.float64)[0]
    assert torch.allclose(m[2:, 2:], torch.eye(2, dtype=torch.float64))
    assert torch.allclose(m[:2, :2], torch.tensor([[0.0, -1.0], [1.0, 0.0]], dtype=torch.float64), atol=1e-12)
    q = torch.linalg.qr(torch.randn(4, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64))[0]
    mixed = rho.change_basis(q)
    sub = mixed.subspaces()
    assert torch.allclose(sub["x"], q[:, :2])
    v = mixed(g, torch.float64)[0] @ sub["c"]
    assert torch.allclose(v, sub["c"], atol=1e-10)  # Z_c is fixed by G_x


def test_direct_sum_and_regular_decompose():
    c = G.Cyclic(4)
    total = c.representation("irrep:0") + c.representation("irrep:1") + c.representation("irrep:2")
    assert total.dim == 4
    # characters agree with the regular representation's: χ_reg(g) = 4·[g = e]
    trace = total(c.elements(), torch.float64).diagonal(dim1=1, dim2=2).sum(-1)
    reg = c.representation("regular")(c.elements(), torch.float64).diagonal(dim1=1, dim2=2).sum(-1)
    assert torch.allclose(trace, reg)
    assert torch.allclose(reg, torch.tensor([4.0, 0, 0, 0], dtype=torch.float64))


def test_so3_geometry_round_trip_and_distance():
    so3 = G.SO3()
    gen = torch.Generator().manual_seed(1)
    r = so3.sample(8, generator=gen).to(torch.float64)
    w = so3.log(r)
    assert torch.allclose(so3.exp(w), r, atol=1e-9)
    angle = torch.tensor([0.3, 1.0, 2.5], dtype=torch.float64)
    axis = torch.nn.functional.normalize(torch.randn(3, 3, generator=gen, dtype=torch.float64), dim=1)
    rot = so3.exp(axis * angle[:, None])
    assert torch.allclose(so3.distance(so3.identity(3).to(torch.float64), rot), angle, atol=1e-9)
    assert torch.get_default_dtype() == torch.float32


def test_so3_frechet_mean_of_symmetric_cloud_is_centre():
    so3 = G.SO3()
    centre = so3.exp(torch.tensor([[0.2, -0.4, 0.1]], dtype=torch.float64))
    eps = 0.2 * torch.eye(3, dtype=torch.float64)
    cloud = torch.cat([centre @ so3.exp(eps), centre @ so3.exp(-eps)])
    mean = so3.frechet_mean(cloud)
    assert float(so3.distance(mean[None], centre)[0]) < 1e-4


def test_so3_axis_rotations_do_not_commute():
    so3 = G.SO3()
    a = so3.exp(torch.tensor([[math.pi / 2, 0.0, 0.0]]))
    b = so3.exp(torch.tensor([[0.0, math.pi / 2, 0.0]]))
    assert not bool(so3.equal(a @ b, b @ a, atol=1e-3).all())


@pytest.mark.escnn
def test_escnn_counterparts():
    assert G.Cyclic(6).escnn.order() == 6
    assert G.Dihedral(4).escnn.order() == 8
    assert G.SO2().escnn is not None and G.SO3().escnn is not None
    assert G.Torus(2).escnn is None


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: G.Cyclic(0), ValueError, "n"),
        (lambda: G.Cyclic(4).validate(torch.tensor([0.5])), TypeError, "g: expected an integer"),
        (lambda: G.Cyclic(4).validate(torch.tensor([4])), ValueError, r"\[0, 4\)"),
        (lambda: G.Cyclic(4).validate(torch.tensor([[1]])), ValueError, "shape"),
        (lambda: G.Cyclic(4).validate([1, 2]), TypeError, "torch.Tensor"),
        (lambda: G.Dihedral(3).validate(torch.tensor([[2, 0]])), ValueError, "column 0"),
        (lambda: G.SO2().validate(torch.tensor([1, 2])), TypeError, "floating"),
        (lambda: G.SO2().validate(torch.tensor([float("nan")])), ValueError, "NaN"),
        (lambda: G.SO3().validate(torch.ones(2, 3, 3)), ValueError, "rotation"),
        (lambda: G.Product(x=G.Cyclic(2)).factor("y"), ValueError, "unknown factor 'y'"),
        (lambda: G.Product(x=G.Cyclic(2)).validate({"y": torch.tensor([0])}), ValueError, "unknown factor"),
        (lambda: G.Product(x=G.Cyclic(2), y=G.Cyclic(3)).validate({"x": torch.tensor([0])}), ValueError, "missing"),
        (lambda: G.Product(x=G.Cyclic(2)).representation({"y": "trivial"}), ValueError, "unknown factor"),
        (lambda: G.Cyclic(4).representation("irrep:x"), ValueError, "spec"),
        (lambda: G.Cyclic(4).representation(3), TypeError, "spec"),
        (lambda: G.Cyclic(4).representation("trivial") + G.Cyclic(5).representation("trivial"), ValueError, "other"),
        (lambda: G.Cyclic(4).representation("irrep:1").change_basis(torch.zeros(2, 2)), ValueError, "invertible"),
        (lambda: G.SO2().elements(), ValueError, "not finite"),
    ],
)
def test_bad_input_raises_clear_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_is_orthogonal():
    assert G.SO3().representation("irrep:1").is_orthogonal()
    assert G.Dihedral(5).representation("regular").is_orthogonal()
    q = torch.tensor([[2.0, 1.0], [0.0, 1.0]], dtype=torch.float64)
    assert not G.SO2().representation("irrep:1").change_basis(q).is_orthogonal()


def test_so3_log_is_accurate_near_pi_and_zero_for_float32_rotations():
    """The closed form reads θ with atan2 (arccos near π loses √ε: 4e-4 for float32 rotations) and the axis
    from the symmetric part near π, where the skew part vanishes."""
    so3 = G.SO3()
    gen = torch.Generator().manual_seed(2)
    axis = torch.nn.functional.normalize(torch.randn(40, 3, generator=gen, dtype=torch.float64), dim=1)
    angle = torch.cat([math.pi - torch.logspace(-7, -1, 20, dtype=torch.float64), torch.logspace(-9, -2, 20, dtype=torch.float64)])
    w = axis * angle[:, None]
    r = so3.exp(w).to(torch.float64)
    torch.testing.assert_close(so3.exp(so3.log(r)).to(torch.float64), r, atol=1e-9, rtol=0)
    r32 = torch.cat([r.float(), so3.sample(2000, generator=gen)])
    torch.testing.assert_close(so3.exp(so3.log(r32)), r32, atol=1e-5, rtol=0)
    assert float(so3.log(r32).norm(dim=1).max()) <= math.pi + 1e-6
