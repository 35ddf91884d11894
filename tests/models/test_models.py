"""Every registered model: interface, config round trip, and a short training run that lowers the loss."""
from __future__ import annotations

import json

import pytest
import torch

from groupdrl import models
from groupdrl.train import WorldSampler, fit
from groupdrl.worlds import arrow, flatland, vector_world

VECTOR = vector_world((6, 5), names=("a", "b"), embedding="onehot")
IMAGE = flatland(4, 16)
#: The symmetry-based models and the beta-VAE baseline (the statistical baselines have tests/models/test_baselines.py).
#: equivariant_vae needs a world whose factor rotates the image: tested on its own below.
ALL = ["beta_vae", "forward_vae", "hae", "lsbd_vae", "quessard"]


def _batch(model, world, seed=0, n=16):
    return WorldSampler(world).batch(model.data, n, torch.Generator().manual_seed(seed), **model.data_kwargs)


def test_registry_names_and_unknown():
    assert set(ALL) >= {"beta_vae", "hae", "lsbd_vae", "forward_vae", "quessard"}
    with pytest.raises(ValueError, match="valid names are .*beta_vae"):
        models.get("nope", VECTOR)
    with pytest.raises(TypeError, match="hparams"):
        models.get("beta_vae", VECTOR, not_a_param=1)


def test_init_is_seeded_and_leaves_global_rng_alone():
    state = torch.random.get_rng_state()
    a = models.get("hae", VECTOR, seed=3)
    b = models.get("hae", VECTOR, seed=3)
    c = models.get("hae", VECTOR, seed=4)
    assert torch.equal(torch.random.get_rng_state(), state)
    for (ka, va), (_, vb), (_, vc) in zip(a.state_dict().items(), b.state_dict().items(), c.state_dict().items()):
        assert torch.equal(va, vb), ka
    assert any(not torch.equal(va, vc) for va, vc in zip(a.state_dict().values(), c.state_dict().values()))


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("world", [VECTOR, IMAGE], ids=["vector", "image16"])
def test_interface(name, world):
    model = models.get(name, world)
    batch = _batch(model, world)
    terms = model.loss(batch, torch.Generator().manual_seed(0))
    assert "loss" in terms and terms["loss"].dim() == 0 and torch.isfinite(terms["loss"])
    x = batch["x"][:, 0] if model.data == "sequences" else batch["x"]
    z = model.encode(x)
    assert z.shape[0] == len(x) and z.dim() == 2
    if hasattr(model, "decode"):
        assert model.decode(z).shape == x.shape
    assert model.data in models.DATA_KINDS
    # the config is JSON and rebuilds the same architecture
    config = json.loads(json.dumps(model.config))
    rebuilt = models.get(config["name"], world, **config["hparams"])
    assert {k: v.shape for k, v in rebuilt.state_dict().items()} == {k: v.shape for k, v in model.state_dict().items()}
    rep = model.latent_rep
    if rep is not None:
        g = world.group.sample(5, generator=torch.Generator().manual_seed(1))
        assert rep(g, torch.float64).shape == (5, z.shape[1], z.shape[1])
        e = rep(world.group.identity(3), torch.float64)
        torch.testing.assert_close(e, torch.eye(z.shape[1], dtype=torch.float64).expand(3, -1, -1))


@pytest.mark.parametrize("name", ALL)
def test_short_training_lowers_the_loss(name, tmp_path):
    """Loss on a fixed batch with fixed noise, before and after 60 Adam steps on the vector world."""
    model = models.get(name, VECTOR, seed=0, **({"gamma_warmup": 0, "normalise": False} if name == "hae" else {}))
    batch = _batch(model, VECTOR, seed=123, n=64)

    def fixed_loss():
        model.eval()
        with torch.no_grad():
            return float(model.loss(batch, torch.Generator().manual_seed(7))["loss"])

    before = fixed_loss()
    fit(model, VECTOR, steps=60, batch_size=32, lr=3e-3, seed=0, out_dir=tmp_path, quiet=True)
    after = fixed_loss()
    assert after < 0.8 * before, (before, after)


def test_image_training_lowers_the_loss(tmp_path):
    model = models.get("lsbd_vae", IMAGE, seed=0)
    batch = _batch(model, IMAGE, seed=123, n=32)

    def fixed_loss():
        with torch.no_grad():
            return float(model.loss(batch, torch.Generator().manual_seed(7))["loss"])

    before = fixed_loss()
    fit(model, IMAGE, steps=30, batch_size=16, lr=1e-3, seed=0, out_dir=tmp_path, quiet=True)
    assert fixed_loss() < 0.8 * before


def test_bad_observation_shape():
    from groupdrl.worlds import Factor, World

    w = World([Factor("a", 4)], lambda s: torch.zeros(len(s), 1, 12, 12))
    with pytest.raises(ValueError, match="at least 16"):
        models.get("beta_vae", w)
    w = World([Factor("a", 4)], lambda s: torch.zeros(len(s), 1, 16, 20))
    with pytest.raises(ValueError, match="square"):
        models.get("beta_vae", w)


@pytest.mark.escnn
def test_equivariant_vae_is_equivariant_by_construction(tmp_path):
    world = arrow(4, 2, 16)  # quarter turns: exact on the pixel grid
    model = models.get("equivariant_vae", world).eval()
    states = world.all_states()
    turned = states.clone()
    turned[:, 0] = (turned[:, 0] + 1) % 4
    with torch.no_grad():
        z, z_turned = model.encode(world.render(states)).double(), model.encode(world.render(turned)).double()
    # the orientation circle turns by +90° (ρ's convention), the colour circle does not move; exact up to the
    # float32 rounding of the steerable filters (~1e-6 of the raw outputs, whose norm at init is ~2e-4 before
    # the locations are normalised), while a wrong turn or a moving colour circle is off by O(1)
    quarter = torch.tensor([[0.0, -1.0], [1.0, 0.0]], dtype=torch.float64)
    torch.testing.assert_close(z_turned[:, :2], z[:, :2] @ quarter.T, atol=1e-4, rtol=0)
    torch.testing.assert_close(z_turned[:, 2:], z[:, 2:], atol=1e-4, rtol=0)
    g = {"orientation": torch.ones(len(z), dtype=torch.long), "colour": torch.zeros(len(z), dtype=torch.long)}
    torch.testing.assert_close(z_turned, torch.einsum("nij,nj->ni", model.latent_rep(g, torch.float64), z),
                               atol=1e-4, rtol=0)
    config = json.loads(json.dumps(model.config))
    assert models.get(config["name"], world, **config["hparams"]).latent_dim == 4
    batch = _batch(model, world, seed=1, n=32)

    def fixed_loss():
        model.eval()
        with torch.no_grad():
            return float(model.loss(batch, torch.Generator().manual_seed(7))["loss"])

    before = fixed_loss()
    fit(model, world, steps=25, batch_size=16, lr=2e-3, seed=0, out_dir=tmp_path, quiet=True)
    assert fixed_loss() < 0.8 * before
    with pytest.raises(ValueError, match="rotation_factor"):
        models.get("equivariant_vae", IMAGE)


def test_a_world_with_factors_a_model_cannot_handle_fails_at_build():
    from groupdrl.worlds import dihedral_shape, so3_object

    with pytest.raises(ValueError, match=r"world: ForwardVAE handles factors of the groups Cyclic; .* has pose \(Dihedral\(4\)\)"):
        models.get("forward_vae", dihedral_shape(image_size=16))
    model = models.get("beta_vae", dihedral_shape(image_size=16))  # observations only: any world
    assert model.factor_sizes == (8, 8)
    continuous = so3_object(image_size=16)
    assert models.get("beta_vae", continuous).factor_sizes is None
    with pytest.raises(ValueError, match="dataset_size: world 'so3_object' has continuous factors"):
        models.get("beta_tcvae", continuous)
    assert models.get("beta_tcvae", continuous, dataset_size=10**6).dataset_size == 10**6
