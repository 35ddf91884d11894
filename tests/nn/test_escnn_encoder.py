"""Tests for EquivariantImageEncoder, the image action, export() and state_dict round trips."""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import strategies as st

from groupdrl.groups import SO2, Cyclic
from groupdrl.nn import EquivariantImageEncoder, act_on_images, export, rotate_images
from groupdrl.testing import assert_equivariant

pytestmark = pytest.mark.escnn

SMALL = {"widths": (8, 8), "hidden": 16}
CONFIGS = {
    "C4": {"gspace": "rot2d", "N": 4, "latent": ("irrep:1", "trivial")},
    "C8": {"gspace": "rot2d", "N": 8, "latent": ("irrep:1", "irrep:2", "irrep:4", "trivial")},
    "D4": {"gspace": "fliprot2d", "N": 4, "latent": ("irrep:1", "flip", "rot", "rotflip", "trivial")},
    "SO2": {"gspace": "so2", "latent": ("irrep:1", "irrep:2", "trivial"), "maximum_frequency": 2},
    "C4-antialias": {"gspace": "rot2d", "N": 4, "latent": ("irrep:1", "trivial"), "antialias": True},
}


@pytest.fixture(scope="module")
def encoders():
    torch.manual_seed(0)
    return {name: EquivariantImageEncoder(1, 16, **SMALL, **cfg) for name, cfg in CONFIGS.items()}


@pytest.fixture(scope="module")
def encoders64(encoders):
    return {name: copy.deepcopy(enc).double() for name, enc in encoders.items()}


def _images(dtype, size=16, n=2):
    return st.integers(0, 2**31 - 1).map(
        lambda seed: torch.rand(n, 1, size, size, generator=torch.Generator().manual_seed(seed), dtype=dtype))


def _apply(rep, g, z):
    return torch.einsum("nij,nj->ni", rep(g, z.dtype).expand(z.shape[0], -1, -1), z)


@pytest.mark.parametrize("name", list(CONFIGS))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_exact_equivariance_on_the_pixel_grid(encoders, encoders64, name, dtype):
    """Rotations by multiples of 90° (and flips for D4) permute pixels: equivariance to float precision."""
    enc = (encoders if dtype == torch.float32 else encoders64)[name].eval()
    # float64: escnn samples the filter bases in float32, whose rounding (~1e-7) stays after .double()
    atol, rtol = (1e-5, 1e-4) if dtype == torch.float32 else (1e-6, 1e-5)
    kw = {"inputs": _images(dtype), "atol": atol, "rtol": rtol, "max_examples": 6}
    if name in ("C4", "D4", "C4-antialias"):
        assert_equivariant(enc, enc.act_on_images, enc.out_rep, group=enc.group, **kw)
    else:  # the quarter turns inside C8 / SO(2): g in C4 acts as rotation by g·π/2
        to_group = (lambda g: 2 * g) if name == "C8" else (lambda g: g.to(dtype) * (math.pi / 2))
        assert_equivariant(enc, lambda g, x: enc.act_on_images(to_group(g), x),
                           lambda g, z: _apply(enc.out_rep, to_group(g), z), group=Cyclic(4), **kw)
    assert enc(torch.rand(1, 1, 16, 16, dtype=dtype)).dtype == dtype
    enc.train()


def _smooth_disk_images(seed, size=16, n=2):
    """Band-limited images (bicubic upsampling of 6x6 noise) under a soft disk mask: the pixel grid
    barely matters when they are rotated."""
    low = torch.rand(n, 1, 6, 6, generator=torch.Generator().manual_seed(seed))
    x = F.interpolate(low, size=(size, size), mode="bicubic", align_corners=False)
    c = (torch.arange(size) - (size - 1) / 2) / (size / 2)
    r = (c[:, None] ** 2 + c[None, :] ** 2).sqrt()
    return x * torch.clamp((0.9 - r) / 0.15, 0, 1)


def test_so2_equivariance_off_the_grid():
    """Rotations by any angle: SO(2)-steerable filters are equivariant up to the pixel grid.

    Tolerance: 15% of the largest latent entry (observed at most 8% of the latent norm) for
    the default SO(2) encoder (antialiased downsampling) on 32x32 smooth, disk-masked
    images; rotating them resamples the pixels bilinearly, the filters are sampled on the
    grid and the Fourier ReLU on 16 angles. (Without antialiasing, stride-2 layers alias
    and the error is several times larger; quarter turns are exact either way.)
    """
    torch.manual_seed(0)
    enc = EquivariantImageEncoder(1, 32, gspace="so2", widths=(8, 8), hidden=32,
                                  latent=("irrep:1", "irrep:2", "trivial")).eval()
    assert enc.antialias
    images = st.integers(0, 2**31 - 1).map(lambda seed: _smooth_disk_images(seed, size=32))
    assert_equivariant(enc, enc.act_on_images, enc.out_rep, group=SO2(), inputs=images, atol=0.0, rtol=0.15,
                       max_examples=10)
    # and the check is meaningful: rho accounts for most of the change of the latent under a 1 rad turn
    x = _smooth_disk_images(0, size=32, n=8)
    g = torch.full((8,), 1.0)
    with torch.no_grad():
        fx, fgx = enc(x), enc(enc.act_on_images(g[:1], x))
    moved = (fgx - fx).norm(dim=1)
    error = (fgx - torch.einsum("nij,nj->ni", enc.out_rep(g), fx)).norm(dim=1)
    assert float(error.sum()) < 0.25 * float(moved.sum()), (error, moved)  # observed ratio 0.15


def test_rotate_images_agrees_with_rot90_and_inverts():
    x = torch.rand(1, 2, 8, 8, dtype=torch.float64)
    assert torch.allclose(rotate_images(x, math.pi / 2 + 1e-6), torch.rot90(x, 1, (-2, -1)), atol=1e-5)
    assert torch.equal(rotate_images(x, math.pi), torch.rot90(x, 2, (-2, -1)))
    g = torch.tensor([[1, 3], [0, 2]])
    from groupdrl.groups import Dihedral

    D = Dihedral(4)
    y = act_on_images(D, g, x.expand(2, -1, -1, -1))
    assert torch.equal(act_on_images(D, D.inverse(g), y), x.expand(2, -1, -1, -1))


@pytest.mark.parametrize("name", ["C4", "SO2"])
def test_gradients_reach_every_parameter(encoders, name):
    enc = encoders[name].train()
    enc.zero_grad()
    enc(torch.rand(3, 1, 16, 16)).square().sum().backward()
    for pname, p in enc.named_parameters():
        assert p.grad is not None and float(p.grad.abs().sum()) > 0, pname


@pytest.mark.parametrize("name", list(CONFIGS))
def test_export_matches_eval_mode(encoders, name):
    enc = encoders[name].train()
    plain = export(enc)
    assert enc.training  # export leaves the module's mode alone
    assert not any(type(m).__module__.startswith("escnn") for m in plain.modules())
    x = torch.rand(4, 1, 16, 16)
    with torch.no_grad():
        expected = enc.eval()(x)
        assert torch.allclose(plain(x), expected, atol=1e-5, rtol=1e-5)
    enc.train()


def test_state_dict_round_trips_across_train_and_eval():
    torch.manual_seed(0)
    a = EquivariantImageEncoder(1, 16, **SMALL, **CONFIGS["C4"])
    torch.manual_seed(1)
    b = EquivariantImageEncoder(1, 16, **SMALL, **CONFIGS["C4"])
    keys_train = set(a.state_dict())
    a.eval()
    assert set(a.state_dict()) == keys_train  # escnn's cached eval filters are not saved
    x = torch.rand(2, 1, 16, 16)
    with torch.no_grad():
        expected = a(x)
    b.eval()
    with torch.no_grad():
        b(x)  # b has cached its own filters
    b.load_state_dict(a.state_dict())  # strict, in eval mode: the cached filters are rebuilt
    with torch.no_grad():
        assert torch.allclose(b(x), expected, atol=1e-6)
    b.train()
    b.load_state_dict(a.state_dict())
    with torch.no_grad():
        assert torch.allclose(b(x), expected, atol=1e-6)
    # inside a larger model too (the hooks see prefixed keys)
    torch.manual_seed(2)
    c = EquivariantImageEncoder(1, 16, **SMALL, **CONFIGS["C4"])
    parent_a, parent_c = torch.nn.Sequential(a).eval(), torch.nn.Sequential(c).eval()
    assert not any(k.endswith(("filter", "expanded_bias")) for k in parent_a.state_dict())
    with torch.no_grad():
        assert not torch.allclose(parent_c(x), expected, atol=1e-3)
    parent_c.load_state_dict(parent_a.state_dict())
    with torch.no_grad():
        assert torch.allclose(parent_c(x), expected, atol=1e-6)


def test_out_rep_and_shapes(encoders):
    assert encoders["C8"].out_rep.dim == 2 + 2 + 1 + 1
    assert encoders["D4"].out_rep.group.order == 8
    enc = EquivariantImageEncoder(3, 64, gspace="rot2d", N=4, latent=("irrep:1",) * 3)
    assert enc(torch.rand(2, 3, 64, 64)).shape == (2, 6)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"gspace": "rot3d"}, ValueError, "gspace: expected one of"),
        ({"latent": ("irrep:x",)}, ValueError, "spec"),
        ({"latent": "irrep:1"}, ValueError, "latent"),
        ({"latent": ("irrep:3",)}, ValueError, "latent: 'irrep:3' of Cyclic.4. has no escnn counterpart"),
        ({"image_size": 20}, ValueError, "image_size: must be divisible by 16"),
        ({"strides": (2, 2)}, ValueError, "strides: expected 4 strides"),
        ({"N": 0}, ValueError, "N must be a positive int"),
        ({"gspace": "so2", "latent": ("irrep:4",)}, ValueError, "latent: SO.2. frequencies above maximum_frequency=3"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    args = {"in_channels": 1, "image_size": 16, **kwargs}
    with pytest.raises(error, match=match):
        EquivariantImageEncoder(**args)


def test_numpy_global_rng_untouched():
    state = np.random.get_state()
    EquivariantImageEncoder(1, 16, gspace="fliprot2d", N=3, widths=(12,), hidden=12, latent=("irrep:1",))
    after = np.random.get_state()
    assert after[2] == state[2] and np.array_equal(after[1], state[1])


def test_bad_input_shape(encoders):
    with pytest.raises(ValueError, match=r"x must have shape .*\(n, 1, 16, 16\)"):
        encoders["C4"](torch.rand(2, 1, 32, 32))
