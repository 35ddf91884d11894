"""Tests for EquivariantLinear, NormNonlinearity and EquivariantMLP."""
from __future__ import annotations

import pytest
import torch
from hypothesis import strategies as st

from groupdrl.groups import SO2, SO3, Cyclic, Dihedral, Product, Torus
from groupdrl.nn import EquivariantLinear, EquivariantMLP, NormNonlinearity, export
from groupdrl.nn.equivariant_linear import equivariant_basis
from groupdrl.nn.norm_nonlinearity import irreducible_blocks
from groupdrl.testing import assert_equivariant

_Q = torch.linalg.qr(torch.randn(5, 5, generator=torch.Generator().manual_seed(3), dtype=torch.float64))[0]
_PROD = Product(x=Cyclic(4), r=SO2())


def _so2(*ks):
    reps = [SO2().representation(f"irrep:{k}") for k in ks]
    return sum(reps[1:], reps[0])


def _so3(*ls):
    reps = [SO3().representation(f"irrep:{l}") for l in ls]
    return sum(reps[1:], reps[0])


CASES = {
    "cyclic": lambda: (Cyclic(5).representation("regular"),
                       Cyclic(5).representation("irrep:1") + Cyclic(5).representation("irrep:2")),
    "dihedral": lambda: (Dihedral(4).representation("regular"),
                         Dihedral(4).representation("irrep:1") + Dihedral(4).representation("flip")),
    "so2": lambda: (_so2(1, 2, 0), _so2(2, 1, 1)),
    "so2-rotated-basis": lambda: (_so2(1, 2, 0).change_basis(_Q), _so2(2, 0, 1)),
    "torus": lambda: (Torus(2).representation("standard"),
                      Torus(2).representation("irrep:0,1") + Torus(2).representation("trivial")),
    "so3": lambda: (_so3(1, 2), _so3(2, 1)),
    "product": lambda: (_PROD.representation({"x": "regular", "r": "irrep:1"}),
                        _PROD.representation({"x": "irrep:1", "r": "irrep:1"})),
}


def _cases(*names):
    """``CASES`` (or those named) as parameters; SO(3) irreps of degree >= 2 come from escnn."""
    return [pytest.param(c, marks=pytest.mark.escnn) if c == "so3" else c for c in names or CASES]


def _atol(case, dtype):
    """float32: 1e-4 on inputs in [-3, 3]; float64: 1e-10, except that the element strategy draws SO(3)
    as float32 matrices (orthogonal to ~1e-7), so rho_in and rho_out of them agree only to ~1e-7."""
    if dtype == torch.float32:
        return 1e-4
    return 1e-6 if case == "so3" else 1e-10


def _inputs(dim, dtype):
    return st.lists(st.floats(-3, 3, allow_nan=False, width=32), min_size=2 * dim, max_size=2 * dim).map(
        lambda v: torch.tensor(v, dtype=dtype).reshape(2, dim))


@pytest.mark.parametrize("case", _cases())
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_linear_is_equivariant(case, dtype):
    rep_in, rep_out = CASES[case]()
    torch.manual_seed(0)
    lin = EquivariantLinear(rep_in, rep_out).to(dtype)
    with torch.no_grad():
        if lin.bias is not None:
            lin.bias.normal_()
    atol = _atol(case, dtype)
    assert_equivariant(lin, rep_in, rep_out, inputs=_inputs(rep_in.dim, dtype), atol=atol)
    assert lin(torch.zeros(1, rep_in.dim, dtype=dtype)).dtype == dtype


@pytest.mark.parametrize(
    ("rep_in", "rep_out"),
    [
        (Cyclic(6).representation("regular"), Cyclic(6).representation("regular")),
        (Cyclic(6).representation("regular"), Cyclic(6).representation("irrep:3")),
        (Dihedral(3).representation("regular"), Dihedral(3).representation("regular")),
        (Dihedral(4).representation("regular"), Dihedral(4).representation("irrep:1") + Dihedral(4).representation("rot")),
        (Product(a=Cyclic(2), b=Cyclic(3)).representation({"a": "regular", "b": "regular"}),
         Product(a=Cyclic(2), b=Cyclic(3)).representation({"a": "irrep:1", "b": "regular"})),
    ],
)
def test_basis_dimension_is_the_character_inner_product(rep_in, rep_out):
    """dim Hom_G(V, W) = (1/|G|) Σ_g χ_V(g) χ_W(g) and dim W^G = (1/|G|) Σ_g χ_W(g) for real reps."""
    g = rep_in.group.elements()
    chi_in = torch.diagonal(rep_in(g, torch.float64), dim1=1, dim2=2).sum(1)
    chi_out = torch.diagonal(rep_out(g, torch.float64), dim1=1, dim2=2).sum(1)
    weights, biases = equivariant_basis(rep_in, rep_out)
    assert weights.shape[0] == round(float((chi_in * chi_out).mean()))
    assert biases.shape[0] == round(float(chi_out.mean()))
    gram = torch.einsum("aij,bij->ab", weights, weights)
    assert torch.allclose(gram, torch.eye(len(gram), dtype=torch.float64), atol=1e-12)


def test_so2_hom_dimensions():
    """Hom(R_k, R_k) = 2 (rotation-scalings), Hom(R_k, R_l) = 0 for k ≠ l, Hom(trivial, trivial) = 1."""
    assert equivariant_basis(_so2(3), _so2(3))[0].shape[0] == 2
    assert equivariant_basis(_so2(1, 2, 0, 0), _so2(1, 0))[0].shape[0] == 2 + 2
    assert equivariant_basis(_so2(2), _so2(0, 1))[1].shape[0] == 1


def test_zero_map_is_an_error():
    with pytest.raises(ValueError, match="only the zero map is equivariant"):
        EquivariantLinear(_so2(1), _so2(2))
    with pytest.raises(ValueError, match="only the zero map"):
        EquivariantLinear(Dihedral(4).representation("flip"), Dihedral(4).representation("rot"))


def test_bad_arguments():
    with pytest.raises(ValueError, match="rep_out: representation of Cyclic"):
        EquivariantLinear(_so2(1), Cyclic(4).representation("irrep:1"))
    with pytest.raises(TypeError, match="rep_in"):
        EquivariantLinear("irrep:1", _so2(1))
    lin = EquivariantLinear(_so2(1), _so2(1))
    with pytest.raises(ValueError, match=r"x: expected shape \(\.\.\., 2\), got \(4, 3\)"):
        lin(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="rep: the norm non-linearity needs an orthogonal"):
        NormNonlinearity(_so2(1, 0).change_basis(torch.tensor([[1.0, 0, 0], [0, 2.0, 0], [1.0, 0, 1.0]])))
    with pytest.raises(ValueError, match="reps: expected at least two"):
        EquivariantMLP(_so2(1))


def test_basis_is_cached():
    rep_in, rep_out = _so2(1, 0), _so2(1)
    assert equivariant_basis(rep_in, rep_out) is equivariant_basis(rep_in, rep_out)


@pytest.mark.parametrize(
    ("rep", "sizes", "trivial"),
    [
        (Cyclic(6).representation("regular"), [1, 2, 1, 2], [True, False, False, False]),
        (_so2(1, 0, 2, 1), [1, 2, 2, 2], [True, False, False, False]),
        pytest.param(_so3(1, 2, 1), [3, 3, 5], [False, False, False], marks=pytest.mark.escnn),
        (Dihedral(4).representation("regular"), [1, 1, 1, 1, 2, 2], [True, False, False, False, False, False]),
    ],
)
def test_irreducible_blocks(rep, sizes, trivial):
    q, block, triv = irreducible_blocks(rep)
    assert torch.allclose(q.T @ q, torch.eye(rep.dim, dtype=torch.float64), atol=1e-12)
    counts = torch.bincount(block)
    assert sorted(zip(counts.tolist(), triv.tolist())) == sorted(zip(sizes, trivial))
    g = rep.group.sample(4, generator=torch.Generator().manual_seed(1))
    inside = q.T @ rep(g, torch.float64) @ q  # block diagonal in the new basis
    same = block[:, None] == block[None, :]
    assert float(inside[:, ~same].abs().max()) < 1e-10


@pytest.mark.parametrize("case", _cases("cyclic", "so2", "so3", "product"))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_mlp_is_equivariant_and_trains(case, dtype):
    rep_in, rep_out = CASES[case]()
    hidden = rep_in + rep_out
    torch.manual_seed(0)
    mlp = EquivariantMLP(rep_in, hidden, rep_out).to(dtype)
    atol = _atol(case, dtype)
    assert_equivariant(mlp, rep_in, rep_out, inputs=_inputs(rep_in.dim, dtype), atol=atol)
    x = torch.randn(8, rep_in.dim, dtype=dtype)
    mlp(x).square().sum().backward()
    for name, p in mlp.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert any(float(p.grad.abs().sum()) > 0 for p in mlp.parameters())


def test_norm_nonlinearity_is_nonlinear_and_equivariant():
    rep = _so2(1, 0, 2)
    nl = NormNonlinearity(rep).double()
    assert_equivariant(nl, rep, rep, inputs=_inputs(rep.dim, torch.float64), atol=1e-12)
    z = torch.tensor([[3.0, 4.0, -2.0, 0.0, 0.05]], dtype=torch.float64)
    # |(3, 4)| = 5 -> 4.9; trivial -2 -> relu(-2.1) = 0; |(0, 0.05)| = 0.05 -> 0
    assert torch.allclose(nl(z), torch.tensor([[3 * 0.98, 4 * 0.98, 0.0, 0.0, 0.0]], dtype=torch.float64))


@pytest.mark.parametrize("case", ["dihedral", "so2", "product"])
def test_export_linear_and_mlp(case):
    rep_in, rep_out = CASES[case]()
    torch.manual_seed(0)
    lin = EquivariantLinear(rep_in, rep_out)
    mlp = EquivariantMLP(rep_in, rep_in + rep_out, rep_out)
    x = torch.randn(5, rep_in.dim)
    for module in (lin, mlp):
        plain = export(module)
        assert not any(isinstance(m, (EquivariantLinear, EquivariantMLP)) for m in plain.modules())
        with torch.no_grad():
            assert torch.allclose(plain(x), module(x), atol=1e-6)
    assert isinstance(export(lin), torch.nn.Linear)
    with pytest.raises(TypeError, match="module"):
        export(torch.nn.ReLU())
