"""Every public group operation refuses what is not a batch of elements (issue 10, "Found")."""
from __future__ import annotations

import math
import warnings

import pytest
import torch

import groupdrl.groups as G

P = G.Product(a=G.Cyclic(3), b=G.Cyclic(4))


def _p(a, b, **extra):
    return {"a": torch.tensor(a), "b": torch.tensor(b), **{k: torch.tensor(v) for k, v in extra.items()}}


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: G.Cyclic(5).compose(torch.tensor([7]), torch.tensor([1])), ValueError, r"a: entries must lie in \[0, 5\)"),
        (lambda: G.Cyclic(5).compose(torch.tensor([1.5]), torch.tensor([1])), TypeError, "a: expected an integer"),
        (lambda: G.Cyclic(5).equal(torch.tensor([0.4]), torch.tensor([0])), TypeError, "a: expected an integer"),
        (lambda: G.Cyclic(5).inverse(torch.tensor([True])), TypeError, "a: expected an integer"),
        (lambda: G.Cyclic(5).compose(torch.tensor([1, 2]), torch.tensor([1])), ValueError, "b: expected a batch of 2"),
        (lambda: G.SO2().compose(torch.tensor([math.nan]), torch.tensor([0.0])), ValueError, "a: contains NaN"),
        (lambda: G.SO2().inverse(torch.tensor([1 + 1j])), TypeError, "a: expected a real floating"),
        (lambda: G.SO3().compose(torch.ones(1, 3, 3), torch.eye(3)[None]), ValueError, "a: not rotation"),
        (lambda: G.SO3().inverse(2 * torch.eye(3)[None]), ValueError, "a: not rotation"),
        (lambda: G.SO3().log(torch.diag(torch.tensor([1.0, 1.0, -1.0]))[None]), ValueError, "r: not rotation"),
        (lambda: G.SO3().exp(torch.zeros(2, 4)), ValueError, r"w: expected shape \(n, 3\)"),
        (lambda: P.compose(_p([1], [1], c=[1]), _p([1], [1])), ValueError, r"a: unknown factor name\(s\) \['c'\]"),
        (lambda: P.compose(_p([1, 2], [1]), _p([1, 2], [1, 1])), ValueError, "a: factor batches have different sizes"),
        (lambda: P.compose({"a": torch.tensor([1])}, _p([1], [1])), ValueError, r"a: missing factor\(s\) \['b'\]"),
        (lambda: P.compose(_p([1], [1]), _p([1, 2], [1, 2])), ValueError, "b: expected a batch of 1"),
        (lambda: G.Cyclic(5).sample(-1), ValueError, r"n: expected an int in \[0, 10000000\]"),
        (lambda: G.Cyclic(5).identity(-1), ValueError, r"n: expected an int in \[0, 10000000\]"),
        (lambda: P.sample(2.5), TypeError, "n: expected an int"),
        (lambda: G.SO3().sample(2, generator=0), TypeError, "generator"),
        (lambda: G.Cyclic(5).equal(torch.tensor([1]), torch.tensor([1]), atol=-1.0), ValueError, "atol"),
        (lambda: G.SO2().equal(torch.zeros(1), torch.zeros(1), atol=10**400), ValueError, "atol: expected a finite"),
        (lambda: G.Cyclic(5).power(torch.tensor([1]), 1.5), TypeError, "k: expected an int"),
        (lambda: G.Cyclic(5).take(torch.tensor([1, 2]), 1), TypeError, "idx: expected a 1-D index"),
        (lambda: G.Cyclic(5).take(torch.tensor([1, 2]), [2]), ValueError, r"idx: positions must lie in \[-2, 2\)"),
        (lambda: G.Cyclic(5).take(torch.tensor([1, 2]), [[0, 1]]), ValueError, "idx: expected a 1-D index"),
        (lambda: G.Cyclic(5).take(torch.tensor([1, 2]), [True]), ValueError, "boolean mask"),
        (lambda: G.Cyclic(5).cat([]), TypeError, "batches"),
        (lambda: G.Cyclic(5).index(torch.tensor([5])), ValueError, "a: entries"),
    ],
)
def test_bad_elements_raise_naming_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_take_accepts_lists_and_masks_without_torch_deprecation_warnings():
    """``product.py:50`` indexed with a non-tuple sequence (torch's deprecated multi-dim indexing)."""
    grp = G.Product(a=G.Cyclic(3), b=G.Dihedral(4))
    elems = grp.elements()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        picked = grp.take(elems, [0, 5, 7])
        masked = grp.take(elems, torch.arange(grp.order) % 2 == 0)
    assert torch.equal(grp.index(picked), torch.tensor([0, 5, 7]))
    assert torch.equal(grp.index(masked), torch.arange(0, grp.order, 2))


def test_power_negative_is_power_of_inverse():
    c = G.Cyclic(7)
    a = torch.tensor([1, 3, 6])
    assert torch.equal(c.power(a, -2), c.inverse(c.power(a, 2)))
    assert torch.equal(c.power(a, 0), c.identity(3))


def test_float32_rotations_cast_to_float64_still_validate():
    """The stated SO(3) tolerance is float32's √ε for float64 too: upcast float32 samples are rotations."""
    so3 = G.SO3()
    r = so3.sample(64, generator=torch.Generator().manual_seed(0)).double()
    so3.validate(r)
    almost = r.clone()
    almost[0, 0, 0] += 1e-3  # beyond √ε(float32) = 3.5e-4
    with pytest.raises(ValueError, match="tolerance 3.5e-04"):
        so3.validate(almost)
