"""Batches for each kind of model: shapes, consistency with the world's action, validity, reproducibility."""
from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from groupdrl.train import WorldSampler
from groupdrl.worlds import flatland, vector_world

WORLD = vector_world((6, 5), names=("a", "b"))
BOUNDED = vector_world((6, 5), names=("a", "b"), periodic=(True, False))


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("steps", ["uniform", "subgroup", "generators"])
@pytest.mark.parametrize("world", [WORLD, BOUNDED], ids=["periodic", "bounded"])
def test_walks_follow_the_action_and_stay_valid(world, steps):
    states, g = WorldSampler(world).walk(64, 3, steps, gen())
    for t in range(3):
        g_t = {k: v[:, t] for k, v in g.items()}
        moved, valid = world.act(g_t, states[:, t])
        assert bool(valid.all())
        assert torch.equal(moved, states[:, t + 1])
    if steps == "generators":  # one factor moves by ±1, the other stays
        shifts = torch.stack([torch.minimum(v, s - v) for v, s in zip(g.values(), world.sizes)], -1)
        assert bool((shifts.sum(-1) <= 1).all())
    if steps == "subgroup":
        assert bool(((torch.stack(list(g.values()), -1) != 0).sum(-1) <= 1).all())


@given(st.integers(0, 2**32), st.sampled_from(["observations", "transitions", "sequences", "labelled+unlabelled"]))
def test_batches_are_reproducible_and_render_their_states(seed, kind):
    sampler = WorldSampler(WORLD)
    a = sampler.batch(kind, 8, gen(seed), length=2, set_size=4)
    b = sampler.batch(kind, 8, gen(seed), length=2, set_size=4)
    assert torch.equal(a["x"], b["x"])
    if kind == "observations":
        assert torch.equal(a["x"], WORLD.render(a["states"]))
    if kind == "sequences":
        assert a["x"].shape == (8, 3, 4) and a["g"]["a"].shape == (8, 2)
    if kind == "transitions":
        assert a["x_next"].shape == a["x"].shape == (8, 4)
    if kind == "labelled+unlabelled":
        assert a["x_sets"].shape == (2, 4, 4) and a["g_sets"]["b"].shape == (2, 4)
        # x_m = g_m · x_0: undoing g_m maps every member of a set to the same base observation
        rho = WORLD.group.representation({"a": "standard", "b": "standard"})
        g = {k: v.reshape(-1) for k, v in a["g_sets"].items()}
        base = torch.einsum("nji,nj->ni", rho(g), a["x_sets"].reshape(-1, 4)).reshape(2, 4, 4)
        torch.testing.assert_close(base, base[:, :1].expand_as(base), atol=1e-5, rtol=0)


def test_cache_matches_rendering():
    world = flatland(4, 16)
    cached, plain = WorldSampler(world), WorldSampler(world, cache_bytes=0)
    states = world.sample_states(20, generator=gen())
    assert torch.equal(cached.render(states), plain.render(states))
    assert cached.render(states).dtype == torch.float32


def test_bad_requests():
    sampler = WorldSampler(WORLD)
    with pytest.raises(ValueError, match="kind"):
        sampler.batch("pairs", 4, gen())
    with pytest.raises(ValueError, match="steps"):
        sampler.batch("sequences", 4, gen(), steps="random")
    with pytest.raises(ValueError, match="batch_size"):
        sampler.batch("observations", 0, gen())
    with pytest.raises(ValueError, match="length"):
        sampler.batch("sequences", 4, gen(), length=0)


def test_bounded_factors_get_valid_moves_not_identity_fallbacks():
    # a bounded factor of size 3: from 0 only +1 is valid, from 2 only -1; every generator step must move
    sampler = WorldSampler(vector_world((3, 4), names=("a", "b"), periodic=(False, True)), cache_bytes=0)
    states, g = sampler.walk(64, 6, "generators", gen(2))
    moved = (states[:, 1:] != states[:, :-1]).any(-1)
    assert bool(moved.all())
    step_a = (states[:, 1:, 0] - states[:, :-1, 0]).abs()
    assert int(step_a.max()) <= 1 and bool(((states[..., 0] >= 0) & (states[..., 0] < 3)).all())
