"""Every built-in world: the action moves exactly one factor, renders follow it, specs hold."""
from __future__ import annotations

import pytest
import torch
from hypothesis import given

import groupdrl.worlds as W
from groupdrl.testing import states, subgroup_elements

# small versions, so property tests stay fast; the spec sizes are checked in test_specs below
WORLDS = {
    "flatland": lambda: W.flatland(8, 16),
    "arrow": lambda: W.arrow(12, 10, 16, supersample=2),
    "vector_circle": lambda: W.vector_world((5, 8), embedding="circle"),
    "vector_bounded": lambda: W.vector_world((6, 3), embedding="onehot", periodic=(False, True)),
    "dsprites": lambda: W.dsprites(image_size=32),
    "dsprites_periodic": lambda: W.dsprites(periodic=True, image_size=32),
    "shapes3d": lambda: W.shapes3d(image_size=16),
}
CASES = [(name, f.name) for name, make in WORLDS.items() for f in make().factors]
_BUILT: dict[str, W.World] = {}


def world(name: str) -> W.World:
    if name not in _BUILT:
        _BUILT[name] = WORLDS[name]()
    return _BUILT[name]


def expected_move(f: W.Factor, s: torch.Tensor, g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Where the factor index goes under g, written from the definition of the (partial) action."""
    if f.periodic:
        return (s + g) % f.size, torch.ones_like(s, dtype=torch.bool)
    shift = torch.where(g > f.size // 2, g - f.size, g)
    ok = (s + shift >= 0) & (s + shift < f.size)
    return torch.where(ok, s + shift, s), ok


@pytest.mark.parametrize(("name", "factor"), CASES, ids=[f"{n}-{f}" for n, f in CASES])
def test_render_of_act_is_render_of_moved_state(name, factor):
    w = world(name)
    i = w.factor_names.index(factor)
    f = w.factors[i]

    @given(states(w, 4), subgroup_elements(w.group, factor, 4))
    def check(s, g):
        new, valid = w.act(g, s)
        moved, ok = expected_move(f, s[:, i], g[factor])
        manual = s.clone()
        manual[:, i] = moved
        assert torch.equal(valid, ok)
        assert torch.equal(new, manual)
        assert torch.equal(w.render(new), w.render(manual))
        # only the moved factor may change, and only valid moves change it
        others = [j for j in range(len(w.factors)) if j != i]
        assert torch.equal(new[:, others], s[:, others])
        assert torch.equal(new[~valid], s[~valid])

    check()


@pytest.mark.parametrize("name", list(WORLDS))
def test_periodic_factors_wrap_and_bounded_ones_refuse(name):
    w = world(name)
    top = torch.tensor([[f.size - 1 for f in w.factors]])
    for i, f in enumerate(w.factors):
        g = w.group.embed(f.name, torch.tensor([1 % f.size]))
        new, valid = w.act(g, top)
        if f.periodic:
            assert bool(valid.all()) and int(new[0, i]) == 0
            assert torch.equal(w.render(new), w.render(top.clone().index_fill_(1, torch.tensor([i]), 0)))
        elif f.size > 1:
            assert not bool(valid.any()) and torch.equal(new, top)


@pytest.mark.parametrize("name", list(WORLDS))
def test_renders_deterministic_shaped_and_in_unit_range(name):
    w = world(name)
    s = w.sample_states(16, generator=torch.Generator().manual_seed(0))
    x = w.render(s)
    assert x.dtype == torch.float32 and tuple(x.shape) == (16, *w.observation_shape)
    assert torch.equal(x, w.render(s.clone()))
    assert torch.equal(x[3:4], w.render(s[3:4]))  # a state renders the same alone or in a batch
    if len(w.observation_shape) == 3:
        assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0


def test_registry():
    assert W.names() == sorted(["arrow", "arrow_continuous", "dihedral_shape", "dsprites", "flatland", "shapes3d",
                                "so3_object", "vector"])
    assert W.get("flatland", n=4, image_size=8).sizes == (4, 4)
    with pytest.raises(ValueError, match="unknown world .mnist..*flatland"):
        W.get("mnist")


# ---- flatland -----------------------------------------------------------------------------------
def test_flatland_translations_roll_the_image_exactly():
    w = W.flatland(8, 32)
    s = w.all_states()
    x = w.render(s)
    for k in (1, 3, 7):
        for i, dim in ((0, -1), (1, -2)):  # x moves columns, y moves rows
            new, valid = w.act(w.group.embed(w.factor_names[i], torch.full((len(s),), k)), s)
            assert bool(valid.all())
            assert torch.equal(w.render(new), torch.roll(x, 4 * k, dim))


def test_flatland_states_distinct_and_shape():
    w = W.flatland(6, 24)
    assert w.sizes == (6, 6) and w.observation_shape == (1, 24, 24)
    x = w.render(w.all_states()).flatten(1)
    assert len(torch.unique(x, dim=0)) == 36
    with pytest.raises(ValueError, match="image_size.*multiple of n=6"):
        W.flatland(6, 32)


# ---- arrow --------------------------------------------------------------------------------------
def test_arrow_colour_and_orientation_act_separately():
    w = W.arrow(8, 6, 32)
    s = w.all_states()
    x = w.render(s)
    alpha = x.amax(1)  # fully saturated hues with value 1: the max channel is the arrow's coverage
    for k in (1, 5):
        new, _ = w.act(w.group.embed("colour", torch.full((len(s),), k)), s)
        y = w.render(new)
        assert torch.allclose(y.amax(1), alpha, atol=1e-6)  # the shape does not move
        assert not torch.equal(y, x)
    # a quarter turn (N = 8: g = 2) rotates the pixel grid exactly
    new, _ = w.act(w.group.embed("orientation", torch.full((len(s),), 2)), s)
    assert torch.equal(w.render(new), torch.rot90(x, 1, (-2, -1)))


def test_arrow_all_states_distinct():
    w = W.arrow(32, 8, 32)
    assert w.observation_shape == (3, 32, 32)
    x = w.render(w.all_states()).flatten(1)
    assert len(torch.unique(x, dim=0)) == 32 * 8


# ---- vector worlds ------------------------------------------------------------------------------
@pytest.mark.parametrize(("embedding", "spec"), [("circle", "standard"), ("onehot", "regular")])
def test_vector_world_identity_encoder_is_equivariant(embedding, spec):
    w = W.vector_world((5, 8, 3), names=("x", "y", "c"), embedding=embedding)
    rho = w.group.representation({f: spec for f in w.factor_names})
    assert rho.dim == w.observation_shape[0]

    @given(states(w, 8), subgroup_elements(w.group, "y", 8))
    def check(s, g):
        new, _ = w.act(g, s)
        lhs = w.render(new).double()
        rhs = (rho(g, dtype=torch.float64) @ w.render(s).double()[:, :, None])[:, :, 0]
        assert float((lhs - rhs).abs().max()) < 1e-6  # float32 observations

    check()


def test_vector_world_index_embedding_and_errors():
    w = W.vector_world((4, 6), embedding="index")
    assert torch.equal(w.render(torch.tensor([[3, 5]])), torch.tensor([[3.0, 5.0]]))
    with pytest.raises(ValueError, match="embedding"):
        W.vector_world((4,), embedding="polar")
    with pytest.raises(ValueError, match="names"):
        W.vector_world((4, 4), names=("a",))
    with pytest.raises(ValueError, match="periodic"):
        W.vector_world((4, 4), periodic=(True,))
