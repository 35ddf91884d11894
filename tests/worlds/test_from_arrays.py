"""A world from labelled arrays: complete grids are ordinary worlds, incomplete ones have partial actions."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from groupdrl.verify import verify_group, verify_intuitive
from groupdrl.verify.metrics._common import share_factor
from groupdrl.worlds import ObservationDataset, flatland, from_arrays, load_arrays, render_grid
from groupdrl.worlds.data import valid_actions

SOURCE = flatland(4, 8)  # 16 images of a ball on a 4 × 4 torus: the generated dataset
STATES = SOURCE.all_states()
IMAGES = SOURCE.render(STATES).numpy()
ORDER = np.random.default_rng(0).permutation(len(STATES))  # the data come in any order
#: physical factor values (not indices): positions in pixels and angles in radians
VALUES = {"x": 2.0 * STATES[:, 0].numpy() + 1.0, "y": STATES[:, 1].numpy() * (2 * math.pi / 4)}
MISSING = [5, 10]  # grid positions absent from the incomplete dataset


def dataset(drop: list[int] = ()):
    keep = np.array([i for i in ORDER if i not in drop])
    return IMAGES[keep], {k: v[keep] for k, v in VALUES.items()}


def circle_code(x: torch.Tensor) -> torch.Tensor:
    """(cos, sin) of the ball's position on each axis of the torus, read from the image."""
    w = x.shape[-1]
    t = 2 * math.pi * torch.arange(w, dtype=torch.float64) / w
    cols, rows = x[:, 0].double().sum(1), x[:, 0].double().sum(2)
    ang = [torch.atan2((m * t.sin()).sum(1), (m * t.cos()).sum(1)) for m in (cols, rows)]
    return torch.stack([ang[0].cos(), ang[0].sin(), ang[1].cos(), ang[1].sin()], 1)


def test_a_complete_grid_is_an_ordinary_world():
    images, factors = dataset()
    world = from_arrays(images, factors, periodic=True, name="balls")
    assert world.sizes == (4, 4) and world.support is None
    assert world.factors[0].values == (1.0, 3.0, 5.0, 7.0)
    assert [f.periodic for f in world.factors] == [True, True]
    # every state renders the image the data hold for its values (the grid order of the source world)
    torch.testing.assert_close(world.render(world.all_states()), SOURCE.render(STATES))
    report = verify_group(circle_code, world, n_states=64)
    assert report.disentangled, report.reasons


def test_an_incomplete_grid_gives_partial_actions():
    images, factors = dataset(MISSING)
    world = from_arrays(images, factors, periodic=True)
    assert world.support.tolist() == [i for i in range(16) if i not in MISSING]
    assert "14 of 16 states" in repr(world)
    drawn = world.state_index(world.sample_states(2000, generator=torch.Generator().manual_seed(0)))
    assert set(drawn.tolist()) == set(world.support.tolist())  # only existing states, all of them
    # state (0, 1) (position 1) moved by x + 1 lands on (1, 1) = position 5, which is missing
    g = world.group.identity(2)
    g["x"] = torch.tensor([1, 2])
    new, valid = world.act(g, torch.tensor([[0, 1], [0, 1]]))
    assert valid.tolist() == [False, True]
    assert new.tolist() == [[0, 1], [2, 1]]  # an invalid move leaves the state where it was
    with pytest.raises(ValueError, match=r"not in world .* \(first missing: \{'x': 1, 'y': 1\}"):
        world.render(torch.tensor([[1, 1]]))
    # sampled transitions redraw invalid moves: every target exists
    states = world.sample_states(500, generator=torch.Generator().manual_seed(1))
    _, moved = valid_actions(world, states, generator=torch.Generator().manual_seed(2))
    assert bool(torch.isin(world.state_index(moved), world.support).all())
    # datasets and caches only hold the existing states
    assert len(ObservationDataset(world)) == 14
    grid = render_grid(world)
    assert grid.shape[0] == 16 and not grid[MISSING].any()


def test_incomplete_grid_verdicts_use_only_existing_states():
    world = from_arrays(*dataset(MISSING), periodic=True)
    report = verify_group(circle_code, world, n_states=64)
    assert report.disentangled, report.reasons
    assert report.dlsbd is None  # D_LSBD needs the full grid
    intuitive = verify_intuitive(circle_code, world, n_train=300, n_test=100)
    assert 0.0 <= intuitive.scores["mig"] <= 1.0


def test_shared_factor_draws_come_from_the_data():
    world = from_arrays(*dataset(MISSING))
    gen = torch.Generator().manual_seed(0)
    like = world.sample_states(400, generator=gen)
    labels = torch.randint(2, (400,), generator=gen)
    out = share_factor(world, world.sample_states(400, generator=gen), like, labels, gen)
    assert bool(torch.isin(world.state_index(out), world.support).all())
    assert bool((out.gather(1, labels[:, None]) == like.gather(1, labels[:, None])).all())


def test_labelled_arrays_are_checked():
    images, factors = dataset()
    with pytest.raises(ValueError, match="same factor values"):
        from_arrays(np.concatenate([images, images[:1]]), {k: np.append(v, v[0]) for k, v in factors.items()})
    with pytest.raises(ValueError, match=r"factors: expected one value per image"):
        from_arrays(images, {"x": factors["x"][:-1], "y": factors["y"]})
    with pytest.raises(ValueError, match="NaN"):
        from_arrays(images, {"x": np.full(16, np.nan), "y": factors["y"]})
    with pytest.raises(ValueError, match="names"):
        from_arrays(images, np.stack(list(factors.values()), 1), names=["x"])
    with pytest.raises(ValueError, match="periodic: unknown factor names"):
        from_arrays(images, factors, periodic={"z": True})
    with pytest.raises(TypeError, match="images"):
        from_arrays(images.astype(np.int32), factors)


def test_npz_round_trip(tmp_path):
    images, factors = dataset(MISSING)
    path = tmp_path / "balls.npz"
    np.savez(path, images=(images * 255).astype(np.uint8), factors=np.stack([factors["x"], factors["y"]], 1),
             names=np.array(["x", "y"]), periodic=np.array([True, True]))
    world = load_arrays(path)
    assert world.name == "balls" and world.factor_names == ("x", "y") and len(world.support) == 14
    torch.testing.assert_close(world.render(world.all_states()), from_arrays(images, factors).render(
        world.all_states()))
    np.savez(tmp_path / "bad.npz", pictures=images)
    with pytest.raises(ValueError, match="expected 'images' and 'factors'"):
        load_arrays(tmp_path / "bad.npz")
