"""Models on worlds whose factors are not cyclic: SO(2), SO(3) and dihedral factors (issue 11)."""
from __future__ import annotations

import math

import pytest
import torch

from groupdrl import models
from groupdrl.groups import SO2, SO3, Cyclic
from groupdrl.models.base import element_features
from groupdrl.models.hae import LieBlocks
from groupdrl.testing import assert_homomorphism
from groupdrl.train.data import WorldSampler
from groupdrl.worlds import arrow_continuous, dihedral_shape, so3_object

GEN = torch.Generator().manual_seed(0)


def _batch(model, world, seed=0, n=16):
    return WorldSampler(world).batch(model.data, n, torch.Generator().manual_seed(seed), **model.data_kwargs)


def test_element_features_vanish_at_the_identity_and_invert_on_so3():
    for group in (Cyclic(5), SO2(), SO3()):
        assert torch.all(element_features(group, group.identity(3)) == 0)
    so3 = SO3()
    g = so3.sample(64, generator=GEN)
    # the features are log g / 2π: exponentiating them back gives g, also for angles near π
    near_pi = so3.exp(torch.tensor([[math.pi - 1e-4, 0.0, 0.0], [0.0, 0.0, -(math.pi - 1e-6)]]))
    g = torch.cat([g, near_pi])
    torch.testing.assert_close(so3.exp(2 * math.pi * element_features(so3, g)), g, atol=2e-5, rtol=0)
    theta = torch.tensor([0.5, 3.0, 4.0, -7.0])
    wrapped = torch.remainder(theta + math.pi, 2 * math.pi) - math.pi
    torch.testing.assert_close(element_features(SO2(), theta)[:, 0], wrapped / (2 * math.pi))
    with pytest.raises(ValueError, match="group"):
        element_features(object(), theta)


def test_lie_blocks_with_an_so3_factor_are_block_diagonal_orthogonal_and_exact_at_the_identity():
    rho = LieBlocks((SO3(), Cyclic(4)), (6, 2))
    rot = torch.cat([SO3().identity(1), SO3().sample(3, generator=GEN)])
    with torch.no_grad():
        r = rho([rot, torch.tensor([0, 1, 2, 3])]).double()
    assert r.shape == (4, 8, 8)
    assert torch.all(r[:, :6, 6:] == 0) and torch.all(r[:, 6:, :6] == 0)
    eye = torch.eye(8, dtype=torch.float64)
    torch.testing.assert_close(r @ r.transpose(1, 2), eye.expand(4, 8, 8), atol=1e-5, rtol=0)
    torch.testing.assert_close(r[0], eye, atol=1e-6, rtol=0)


def test_hae_on_so3_object_gives_the_rotation_a_six_dimensional_block():
    world = so3_object(n_colours=4, image_size=16)
    model = models.get("hae", world, seed=0)
    assert model.latent_dim == 8
    rep = model.latent_rep
    assert rep.blocks == {"rotation": slice(0, 6), "colour": slice(6, 8)}
    out = model.loss(_batch(model, world, n=4))
    assert torch.isfinite(out["loss"])
    out["loss"].backward()
    assert all(p.grad is not None for p in model.rho.parameters())
    g = {"rotation": SO3().identity(2), "colour": torch.zeros(2, dtype=torch.long)}
    torch.testing.assert_close(rep(g, torch.float64), torch.eye(8, dtype=torch.float64).expand(2, 8, 8), atol=1e-6, rtol=0)


def test_quessard_learns_one_rotation_per_generator_of_each_factor_on_so3_object():
    world = so3_object(n_colours=4, image_size=16)
    model = models.get("quessard", world, seed=0)
    so3 = SO3()
    assert model.latent_dim == 8 and len(model.actions) == 6  # two SO(3) generators and C_4's, each with its inverse
    assert [name for name, _ in model.actions] == ["rotation"] * 4 + ["colour"] * 2
    gx, gy = so3.take(so3.generators(), [0]), so3.take(so3.generators(), [1])
    for (_, step), want in zip(model.actions[:4], (gx, so3.inverse(gx), gy, so3.inverse(gy))):
        assert bool(so3.equal(step, want).all())
    batch = _batch(model, world, n=64)
    g = {k: v[:, 0] for k, v in batch["g"].items()}
    idx = model.action_index(g)
    # every step of a trajectory is one of the actions (the "generators" steps), and it is the right one
    assert bool((idx < len(model.actions)).all())
    for a, (name, step) in enumerate(model.actions):
        group = world.group.factors[name]
        rows = (idx == a).nonzero()[:, 0]
        assert bool(group.equal(group.take(g[name], rows), group.take(step, torch.zeros(len(rows), dtype=torch.long))).all())
    identity = {"rotation": so3.identity(2), "colour": torch.zeros(2, dtype=torch.long)}
    assert model.action_index(identity).tolist() == [6, 6]
    assert model.latent_rep is None  # an SO(3) element is not a finite word in the learned actions
    assert torch.isfinite(model.loss(batch)["loss"])


def test_lsbd_vae_on_so2_squared_acts_by_the_angles():
    world = arrow_continuous(image_size=16)
    model = models.get("lsbd_vae", world, seed=0)
    rep = model.latent_rep
    assert_homomorphism(rep, max_examples=20)  # float32 angles: ρ(g⁻¹) to ~2e-7
    theta = torch.tensor([0.3, 2.0])
    m = rep({"orientation": theta[:1], "colour": theta[1:]}, torch.float64)[0]
    expected = torch.zeros(4, 4, dtype=torch.float64)
    for i, t in enumerate(theta.double()):
        expected[2 * i:2 * i + 2, 2 * i:2 * i + 2] = torch.tensor([[t.cos(), -t.sin()], [t.sin(), t.cos()]])
    torch.testing.assert_close(m, expected)
    out = model.loss(_batch(model, world, n=32))
    assert torch.isfinite(out["loss"]) and out["lsbd"] > 0


def test_models_refuse_factor_groups_they_cannot_read():
    with pytest.raises(ValueError, match=r"world: HAE handles factors of the groups Cyclic, SO2, SO3; .* pose \(Dihedral\(4\)\)"):
        models.get("hae", dihedral_shape(image_size=16))
    with pytest.raises(ValueError, match=r"world: LSBDVAE handles .*Dihedral; .* rotation \(SO3\(\)\)"):
        models.get("lsbd_vae", so3_object(image_size=16))


@pytest.mark.escnn
def test_equivariant_vae_with_a_dihedral_encoder_is_equivariant_for_every_element_of_d4():
    world = dihedral_shape(n=4, n_colours=3, image_size=16)  # D_4: every element is exact on the pixel grid
    model = models.get("equivariant_vae", world, rotation_factor="pose").eval()
    assert model.hparams["gspace"] == "fliprot2d"
    states = world.all_states()
    pose = world.group.factors["pose"]
    elements = pose.elements()
    with torch.no_grad():
        z = model.encode(world.render(states)).double()
        for i in range(len(elements)):
            g = {"pose": elements[i:i + 1].repeat(len(states), 1), "colour": torch.zeros(len(states), dtype=torch.long)}
            moved, _ = world.act(g, states)
            z_moved = model.encode(world.render(moved)).double()
            # the pose circle moves by the world's standard irrep (reflections included), the colour circle not;
            # a wrong reflection convention is off by O(1) on the four reflections
            torch.testing.assert_close(z_moved, torch.einsum("nij,nj->ni", model.latent_rep(g, torch.float64), z),
                                       atol=1e-4, rtol=0)
    with pytest.raises(ValueError, match="gspace: a Dihedral rotation factor needs one of"):
        models.get("equivariant_vae", world, rotation_factor="pose", gspace="rot2d")
    with pytest.raises(ValueError, match="rotation_factor: 'rotation' is SO3"):
        models.get("equivariant_vae", so3_object(image_size=16), rotation_factor="rotation")
