"""ObservationDataset / TransitionDataset: valid actions only, seeds reproduce, caches agree."""
from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader

import groupdrl.worlds as W


def _vector():
    return W.vector_world((6, 5, 4), names=("x", "y", "c"), periodic=(False, True, False))


def test_user_vector_world_end_to_end_with_transitions():
    """A user's own world (factors + render function) gives consistent transition batches."""
    factors = [W.Factor("angle", 12), W.Factor("height", 5, periodic=False)]

    def render(s):
        a = s[:, 0].double() * (2 * torch.pi / 12)
        return torch.stack([torch.cos(a), torch.sin(a), s[:, 1].double()], 1).float()

    w = W.World(factors, render, name="mine")
    data = W.TransitionDataset(w, seed=3)
    b = data.sample_batch(256)
    assert b["x"].shape == (256, 3) and b["gx"].shape == (256, 3)
    new, valid = w.act(b["g"], b["state"])
    assert bool(valid.all())  # only valid actions are drawn
    assert torch.equal(new, b["gstate"])
    assert torch.equal(b["gx"], w.render(b["gstate"]))
    # the rotation block moves by exactly g: x' = R(2π g/12) x
    a = b["g"]["angle"].double() * (2 * torch.pi / 12)
    rot = torch.stack([torch.stack([a.cos(), -a.sin()], 1), torch.stack([a.sin(), a.cos()], 1)], 1)
    assert float(((rot @ b["x"][:, :2, None].double())[:, :, 0] - b["gx"][:, :2].double()).abs().max()) < 1e-6
    # bounded height moved up and down but never out of range, and at the edges too
    assert set(b["g"]["height"].tolist()) - {0} and int(b["gstate"][:, 1].max()) <= 4
    # items and DataLoader batches
    x, g, gx = data[0]
    assert x.shape == (3,) and set(g) == {"angle", "height"} and g["angle"].dim() == 0
    xb, gb, gxb = next(iter(DataLoader(data, batch_size=32)))
    assert xb.shape == (32, 3) and gb["angle"].shape == (32,)
    assert torch.equal(gxb, w.render(data.states[:32, 1]))


def test_subgroup_actions_leave_other_factors_fixed():
    w = _vector()
    for sub in ("x", ["y", "c"]):
        b = W.TransitionDataset(w, subgroup=sub, n=8, seed=0).sample_batch(512)
        moved = [f for f in w.factor_names if bool((b["g"][f] != 0).any())]
        assert set(moved) == ({sub} if isinstance(sub, str) else set(sub))
        fixed = [i for i, f in enumerate(w.factor_names) if f not in moved]
        assert torch.equal(b["state"][:, fixed], b["gstate"][:, fixed])
        assert bool(w.act(b["g"], b["state"])[1].all())


def test_generator_actions_are_single_steps():
    w = _vector()
    b = W.TransitionDataset(w, actions="generators", n=8, seed=0).sample_batch(512)
    nonzero = torch.stack([b["g"][f] != 0 for f in w.factor_names], 1)
    assert bool((nonzero.sum(1) == 1).all())  # exactly one factor moves
    steps = {(f, v) for f in w.factor_names for v in b["g"][f].tolist() if v}
    assert steps == {(f, v) for f, n in zip(w.factor_names, w.sizes) for v in (1, n - 1)}


def test_trajectories_chain_valid_steps():
    w = _vector()
    data = W.TransitionDataset(w, steps=4, n=16, seed=1)
    b = data.sample_batch(64)
    assert b["x"].shape == (64, 5, w.observation_shape[0]) and b["g"]["x"].shape == (64, 4)
    for t in range(4):
        new, valid = w.act({f: v[:, t] for f, v in b["g"].items()}, b["state"][:, t])
        assert bool(valid.all()) and torch.equal(new, b["state"][:, t + 1])
    assert torch.equal(b["x"], w.render(b["state"].reshape(-1, 3)).reshape(64, 5, -1))
    xs, gs = data[2]
    assert xs.shape == (5, w.observation_shape[0]) and gs["c"].shape == (4,)


def test_seeds_reproduce():
    w = W.flatland(4, 8)
    a, b, c = (W.TransitionDataset(w, n=20, seed=s) for s in (7, 7, 8))
    assert torch.equal(a.states, b.states) and not torch.equal(a.states, c.states)
    ba, bb = a.sample_batch(16), b.sample_batch(16)
    assert torch.equal(ba["x"], bb["x"]) and torch.equal(ba["g"]["x"], bb["g"]["x"])
    ga, gb = (a.sample_batch(16, torch.Generator().manual_seed(5)) for _ in range(2))
    assert torch.equal(ga["gstate"], gb["gstate"])
    oa, ob = (W.ObservationDataset(w, n=10, seed=2) for _ in range(2))
    assert torch.equal(oa.states, ob.states)
    assert torch.equal(oa.sample_batch(8)["state"], ob.sample_batch(8)["state"])


def test_cache_serves_the_same_observations():
    w = W.arrow(8, 4, 16, supersample=2)
    plain, cached = W.TransitionDataset(w, n=50, seed=0), W.TransitionDataset(w, n=50, seed=0, cache=True)
    assert cached._cache.dtype == torch.float32  # hues are not 8-bit exact: stored as float
    bp, bc = plain.sample_batch(32), cached.sample_batch(32)
    assert torch.equal(bp["x"], bc["x"]) and torch.equal(bp["gx"], bc["gx"])
    binary = W.ObservationDataset(W.flatland(4, 8), cache=True)
    assert binary._cache.dtype == torch.uint8  # binary images are stored losslessly as bytes
    x, s = binary[5]
    assert torch.equal(x, W.flatland(4, 8).render(s[None])[0])


def test_observation_dataset_full_grid_and_loader():
    w = W.flatland(4, 8)
    data = W.ObservationDataset(w)
    assert len(data) == 16
    assert torch.equal(torch.stack([data[i][1] for i in range(16)]), w.all_states())
    x, s = next(iter(DataLoader(data, batch_size=16)))
    assert torch.equal(x, w.render(w.all_states())) and torch.equal(s, w.all_states())
    with pytest.raises(IndexError):
        data[16]


def test_render_grid_and_states_at():
    w = _vector()
    idx = torch.tensor([0, 7, 119])
    assert torch.equal(w.states_at(idx), w.all_states()[idx])
    assert torch.equal(w.state_index(w.states_at(idx)), idx)
    assert torch.equal(W.render_grid(w, batch_size=7), w.render(w.all_states()))


def test_argument_errors():
    w = _vector()
    with pytest.raises(ValueError, match="subgroup.*'z'"):
        W.TransitionDataset(w, subgroup="z")
    with pytest.raises(ValueError, match="steps"):
        W.TransitionDataset(w, steps=0)
    with pytest.raises(ValueError, match="actions"):
        W.TransitionDataset(w, actions="random")
    with pytest.raises(TypeError, match="world"):
        W.ObservationDataset("dsprites")
    with pytest.raises(ValueError, match="batch_size"):
        W.ObservationDataset(w, n=4).sample_batch(0)
    with pytest.raises(TypeError, match="generator"):
        W.ObservationDataset(w, n=4).sample_batch(2, generator=0)
