"""Known answers for the shared model parts and the method-specific pieces."""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from groupdrl import models
from groupdrl.groups import Cyclic
from groupdrl.models.base import kl_normal, reconstruction_loss, circle_representation
from groupdrl.models.hae import LieBlocks
from groupdrl.models.quessard import plane_rotations
from groupdrl.testing import assert_homomorphism
from groupdrl.worlds import vector_world

WORLD = vector_world((6, 5), names=("a", "b"))


def test_kl_normal_zero_at_prior_and_positive_elsewhere():
    assert float(kl_normal(torch.zeros(4, 3), torch.zeros(4, 3))) == 0.0
    # KL(N(1, 1) || N(0, 1)) = 1/2 per dimension
    assert float(kl_normal(torch.ones(4, 3), torch.zeros(4, 3))) == pytest.approx(1.5)


def test_reconstruction_losses():
    x = torch.tensor([[1.0, 0.0]])
    assert float(reconstruction_loss(torch.tensor([[0.0, 0.0]]), x, "bernoulli")) == pytest.approx(2 * math.log(2))
    assert float(reconstruction_loss(torch.tensor([[3.0, 0.0]]), x, "gaussian")) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="likelihood"):
        reconstruction_loss(x, x, "poisson")


def test_circle_representation_is_a_homomorphism_on_circles():
    rho = circle_representation(WORLD.group)
    assert rho.dim == 4 and rho.blocks == {"a": slice(0, 2), "b": slice(2, 4)}
    assert_homomorphism(rho, atol=1e-6)


@given(st.integers(0, 5), st.integers(0, 4))
def test_lie_blocks_block_diagonal_orthogonal_identity(ga, gb):
    rho = LieBlocks((Cyclic(6), Cyclic(5)), (2, 3))
    g = [torch.tensor([ga, 0]), torch.tensor([gb, 0])]
    with torch.no_grad():
        r = rho(g).double()
    assert r.shape == (2, 5, 5)
    assert torch.all(r[:, :2, 2:] == 0) and torch.all(r[:, 2:, :2] == 0)
    eye = torch.eye(5, dtype=torch.float64)
    torch.testing.assert_close(r @ r.transpose(1, 2), eye.expand(2, 5, 5), atol=1e-5, rtol=0)
    torch.testing.assert_close(r[1], eye, atol=1e-6, rtol=0)  # g = (0, 0) is the identity


def test_plane_rotations():
    theta = torch.zeros(2, 6, dtype=torch.float64)
    theta[0, 2] = 0.3  # pairs of R^4 in order (0,1), (0,2), (0,3), ...: index 2 is the (0, 3) plane
    r = plane_rotations(theta, 4)
    torch.testing.assert_close(r[1], torch.eye(4, dtype=torch.float64))
    expected = torch.eye(4, dtype=torch.float64)
    expected[0, 0] = expected[3, 3] = math.cos(0.3)
    expected[0, 3], expected[3, 0] = -math.sin(0.3), math.sin(0.3)
    torch.testing.assert_close(r[0], expected)
    rand = plane_rotations(torch.randn(3, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64), 4)
    torch.testing.assert_close(rand @ rand.transpose(1, 2), torch.eye(4, dtype=torch.float64).expand(3, 4, 4))
    assert torch.allclose(torch.linalg.det(rand), torch.ones(3, dtype=torch.float64))


def test_lsbd_latent_on_circles_and_known_rep():
    model = models.get("lsbd_vae", WORLD)
    z = model.encode(WORLD.render(WORLD.all_states())).reshape(-1, 2, 2)
    torch.testing.assert_close(z.norm(dim=-1), torch.ones(z.shape[:2]))
    g = WORLD.group.sample(8, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(model.latent_rep(g, torch.float64), circle_representation(WORLD.group)(g, torch.float64))
    # the approximate KL to the uniform circle vanishes at the largest scale t = 2π/e
    assert float(model.kl(torch.full((1, 2), 2 * math.pi / math.e))) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("orthogonal", [True, False])
def test_forward_vae_actions_move_only_their_block(orthogonal):
    model = models.get("forward_vae", WORLD, orthogonal=orthogonal, planes=1)
    with torch.no_grad():
        if orthogonal:
            model.angles.copy_(torch.tensor([[0.3, -1.1], [2.0, 0.7]])[..., None])
        else:
            model.matrices.copy_(torch.randn(2, 2, 2, 2, generator=torch.Generator().manual_seed(0)))
        plus, minus = model.blocks()
        a = model.actions({"a": torch.tensor([1, 5, 0]), "b": torch.tensor([0, 0, 4])})
    if orthogonal:  # rotations by the angles
        torch.testing.assert_close(plus[1], torch.tensor([[math.cos(1.1), math.sin(1.1)], [-math.sin(1.1), math.cos(1.1)]]))
    eye = torch.eye(2)
    torch.testing.assert_close(a[0, :2, :2], plus[0])
    torch.testing.assert_close(a[1, :2, :2], minus[0])
    torch.testing.assert_close(a[2, 2:, 2:], minus[1])
    torch.testing.assert_close(a[0, 2:, 2:], eye)
    torch.testing.assert_close(a[2, :2, :2], eye)


def test_forward_vae_planes_start_at_the_harmonics_of_the_generator():
    model = models.get("forward_vae", WORLD, planes=2)  # factors C_6 and C_5
    plus, minus = model.blocks()
    assert plus.shape == (2, 4, 4) and model.latent_dim == 8
    for i, n in enumerate((6, 5)):
        for j in (1, 2):
            p = slice(2 * j - 2, 2 * j)
            angle = 2 * math.pi * j / n
            rot = torch.tensor([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
            torch.testing.assert_close(plus[i, p, p], rot)
            torch.testing.assert_close(minus[i, p, p], rot.T)
        assert torch.all(plus[i, :2, 2:] == 0)
    assert_homomorphism(model.latent_rep, atol=1e-5)  # the harmonics are representations of C_N


def test_quessard_action_index():
    model = models.get("quessard", WORLD)
    idx = model.action_index({"a": torch.tensor([1, 5, 0, 0]), "b": torch.tensor([0, 0, 1, 0])})
    assert idx.tolist() == [0, 1, 2, 4]


@pytest.mark.parametrize("name", ["beta_vae", "forward_vae", "lsbd_vae"])
def test_generative_models_sample_reproducibly(name):
    model = models.get(name, WORLD)
    draw = model.sample
    with torch.no_grad():
        a = draw(5, torch.Generator().manual_seed(0))
        b = draw(5, torch.Generator().manual_seed(0))
    assert a.shape == (5, *WORLD.observation_shape) and torch.equal(a, b)
