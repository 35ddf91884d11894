"""Grids: parsing TOML/YAML/dicts into grid points, run names, and clear errors for bad grids."""
from __future__ import annotations

import pytest

from groupdrl.sweep import Point, grid_from_dict, load_grid

TOML = """
seeds = 2

[fit]
steps = 7
lr = 0.002

[verify]
full = false
n_metric = 100

[[models]]
name = "beta_vae"
hparams = { hidden = [16] }
grid = { beta = [1, 4], latent_dim = [2, 3] }

[[models]]
name = "hae"

[[worlds]]
name = "vector"
options = { sizes = [4, 4] }
grid = { embedding = ["onehot", "circle"] }
"""


def test_toml_grid_is_the_product_of_its_axes(tmp_path):
    path = tmp_path / "g.toml"
    path.write_text(TOML)
    grid = load_grid(path)
    points = grid.points()
    # (4 beta_vae settings + 1 hae) × 2 world settings × 2 seeds
    assert len(points) == (4 + 1) * 2 * 2
    assert len({p.name for p in points}) == len(points)
    p = points[0]
    assert p.model == "beta_vae" and p.hparams == {"hidden": [16], "beta": 1, "latent_dim": 2}
    assert p.world_options == {"sizes": [4, 4], "embedding": "onehot"} and p.seed == 0
    assert p.fit == {"steps": 7, "batch_size": 64, "lr": 0.002}
    assert p.verify == {"full": False, "n_metric": 100, "seed": 0}
    assert p.name == "beta_vae+beta=1+hidden=16+latent_dim=2__vector+embedding=onehot+sizes=4x4__seed0"
    assert Point.from_dict(p.to_dict()) == p
    assert grid.checkpoint_every == 500 and grid.resources == {"cpus": 1, "gpus": 0}
    assert grid_from_dict(grid.to_dict()).points() == points


def test_yaml_and_short_forms(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text("models: [beta_vae, hae]\nworlds: vector\nseeds: [3, 5]\nfit: {steps: 4}\n")
    points = load_grid(path).points()
    assert [(p.model, p.seed) for p in points] == [("beta_vae", 3), ("beta_vae", 5), ("hae", 3), ("hae", 5)]


def test_a_long_name_is_cut_and_stays_unique():
    kw = dict(model="beta_vae", world="vector", world_options={}, seed=0)
    a = Point(hparams={"hidden": [512] * 60}, **kw)
    b = Point(hparams={"hidden": [512] * 61}, **kw)
    assert len(a.name) <= 160 and a.name != b.name and a.name[:100] == b.name[:100]


@pytest.mark.parametrize("spec,match", [
    ({"models": ["nope"], "worlds": ["vector"], "seeds": 1}, "valid names"),
    ({"models": ["beta_vae"], "worlds": ["nowhere"], "seeds": 1}, "unknown world"),
    ({"models": [{"name": "beta_vae", "hparams": {"betta": 4}}], "worlds": ["vector"], "seeds": 1}, "betta"),
    ({"models": [{"name": "beta_vae", "grid": {"beta": 4}}], "worlds": ["vector"], "seeds": 1}, "non-empty list"),
    ({"models": [{"name": "beta_vae", "hparams": {"beta": 1}, "grid": {"beta": [2]}}], "worlds": ["vector"],
      "seeds": 1}, "both"),
    ({"models": ["beta_vae"], "worlds": [{"name": "vector", "options": {"sizes": "x"}}], "seeds": 1}, "vector"),
    ({"models": ["beta_vae"], "worlds": ["vector"], "seeds": [0, 0]}, "repeated"),
    ({"models": ["beta_vae"], "worlds": ["vector"], "seeds": 0}, "seeds"),
    ({"models": ["beta_vae"], "worlds": ["vector"], "seeds": 1, "fit": {"steps": 0}}, "steps"),
    ({"models": ["beta_vae"], "worlds": ["vector"], "seeds": 1, "fit": {"lr": float("nan")}}, "lr"),
    ({"models": ["beta_vae"], "worlds": ["vector"], "seeds": 1, "fit": {"epochs": 3}}, "epochs"),
    ({"models": ["beta_vae"], "worlds": ["vector"], "seeds": 1, "resources": {"gpus": -1}}, "gpus"),
    ({"models": ["beta_vae"], "worlds": ["vector"]}, "seeds"),
    ({"models": ["beta_vae", "beta_vae"], "worlds": ["vector"], "seeds": 1}, "share the run name"),
])
def test_bad_grids_are_refused_with_the_place(spec, match):
    with pytest.raises((ValueError, TypeError), match=match):
        grid_from_dict(spec).points()


def test_bad_files(tmp_path):
    (tmp_path / "bad.toml").write_text("models = [")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_grid(tmp_path / "bad.toml")
    with pytest.raises(ValueError, match="not a file"):
        load_grid(tmp_path / "missing.toml")
