"""Fuzz: every public group operation on generated input — a clear error naming the argument, or a valid
batch that satisfies the group axioms."""
from __future__ import annotations

import torch
from fuzz_helpers import anything, outcome, tensors
from hypothesis import given
from hypothesis import strategies as st

import groupdrl.groups as G

GROUPS = [G.Cyclic(1), G.Cyclic(5), G.Dihedral(4), G.SO2(), G.Torus(2), G.SO3(),
          G.Product(x=G.Cyclic(3), r=G.SO2()), G.Product(a=G.Dihedral(3), b=G.Cyclic(4))]


def element_like(group) -> st.SearchStrategy:
    """Genuine elements (often) and near-misses: other dtypes, shapes, ranges, NaN, unknown keys."""
    if isinstance(group, G.Product):
        names = list(group.factors) + ["zz"]
        return st.one_of(
            st.dictionaries(st.sampled_from(names), st.one_of(*(element_like(g) for g in group.factors.values())),
                            max_size=3),
            st.integers(0, 4).flatmap(lambda n: st.fixed_dictionaries(
                {k: element_like(g) for k, g in group.factors.items()})),
            anything())
    genuine = st.integers(0, 4).map(lambda n: group.sample(n, generator=torch.Generator().manual_seed(n)))
    return st.one_of(genuine, genuine.map(lambda a: a.double() if a.is_floating_point() else a.int()),
                     tensors(), anything())


def _size(group, a) -> int:
    return group.batch_size(a)


@given(data=st.data())
def test_group_law_on_generated_input(data):
    group = data.draw(st.sampled_from(GROUPS))
    a, b = data.draw(element_like(group), "a"), data.draw(element_like(group), "b")
    atol = 1e-4
    prod = outcome(lambda: group.compose(a, b), "a", "b")
    if prod is not None:
        group.validate(prod)
        assert _size(group, prod) == _size(group, a) == _size(group, b)
    inv = outcome(lambda: group.inverse(a), "a")
    if inv is not None:
        group.validate(inv)
        e = group.identity(_size(group, a))
        assert bool(group.equal(group.compose(a, inv), e, atol=atol).all())
        assert bool(group.equal(group.compose(group.compose(a, a), inv), a, atol=atol).all())
        k = data.draw(st.integers(-5, 5), "k")
        assert bool(group.equal(group.power(a, k), group.power(inv, -k), atol=atol).all())
    outcome(lambda: group.equal(a, b, atol=data.draw(st.one_of(st.floats(), anything()), "atol")), "a", "b", "atol")
    idx = data.draw(st.one_of(st.lists(st.integers(-6, 6), max_size=4), tensors(), anything()), "idx")
    taken = outcome(lambda: group.take(a, idx), "a", "idx")
    if taken is not None:
        group.validate(taken)
    if group.is_finite:
        pos = outcome(lambda: group.index(a), "a")
        if pos is not None:
            assert bool(((pos >= 0) & (pos < group.order)).all())
            assert torch.equal(group.index(group.take(group.elements(), pos)), pos)


@given(group=st.sampled_from(GROUPS), n=anything(), generator=st.one_of(st.none(), anything()))
def test_identity_and_sample_counts(group, n, generator):
    ident = outcome(lambda: group.identity(n), "n")
    if ident is not None:
        group.validate(ident)
        assert _size(group, ident) == n
    drawn = outcome(lambda: group.sample(n, generator=generator), "n", "generator")
    if drawn is not None:
        group.validate(drawn)
        assert _size(group, drawn) == n
