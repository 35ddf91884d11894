"""dSprites and Shapes3D: specs, exact periodic translations, what the shapes' symmetries imply."""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given

import groupdrl.worlds as W
from groupdrl.testing import states, subgroup_elements

DS = W.dsprites()
DS_PERIODIC = W.dsprites(periodic=True)


def _distinct(x: torch.Tensor) -> int:
    return len(torch.unique(x.flatten(1), dim=0))


def test_dsprites_specs():
    assert DS.factor_names == ("shape", "scale", "orientation", "posX", "posY")
    assert DS.sizes == (3, 6, 40, 32, 32) and DS.num_states == 737_280
    assert DS.observation_shape == (1, 64, 64)
    assert [f.periodic for f in DS.factors] == [True, False, True, False, False]
    assert [f.periodic for f in DS_PERIODIC.factors] == [True, False, True, True, True]
    f = dict(zip(DS.factor_names, DS.factors))
    assert f["scale"].values[0] == 0.5 and f["scale"].values[-1] == 1.0
    assert f["posX"].values[0] == 0.0 and f["posX"].values[-1] == 1.0
    assert math.isclose(f["orientation"].values[1], 2 * math.pi / 40)  # 2πk/40: C40 exactly
    x = DS.render(DS.sample_states(64, generator=torch.Generator().manual_seed(0)))
    assert set(torch.unique(x).tolist()) == {0.0, 1.0}  # binary


@pytest.mark.parametrize("factor", ["posX", "posY"])
def test_dsprites_periodic_translations_roll_the_image(factor):
    dim = -1 if factor == "posX" else -2

    @given(states(DS_PERIODIC, 6), subgroup_elements(DS_PERIODIC.group, factor, 6))
    def check(s, g):
        new, valid = DS_PERIODIC.act(g, s)
        assert bool(valid.all())
        x, y = DS_PERIODIC.render(s), DS_PERIODIC.render(new)
        for i in range(len(s)):
            assert torch.equal(y[i], torch.roll(x[i], 2 * int(g[factor][i]), dim))  # 64 px / 32 steps

    check()


@pytest.mark.parametrize(("shape", "period"), [(0, 10), (1, 20), (2, 40)])
def test_dsprites_orientations_repeat_as_the_shape_symmetry_says(shape, period):
    """Square: quarter-turn symmetric (period 10 of 40); ellipse: half-turn (20); heart: none (40)."""
    for scale in (0, 5):
        s = torch.tensor([[shape, scale, k, 16, 16] for k in range(40)])
        x = DS.render(s)
        assert _distinct(x[:period]) == period  # one period: pairwise distinct
        assert torch.equal(x, x[torch.arange(40) % period])  # then exact repeats


def test_dsprites_shapes_scales_positions_distinct():
    s = torch.tensor([[sh, sc, 3, 10, 20] for sh in range(3) for sc in range(6)])
    assert _distinct(DS.render(s)) == 18
    for i in (3, 4):
        s = torch.tensor([2, 5, 7, 12, 12]).repeat(32, 1)
        s[:, i] = torch.arange(32)
        assert _distinct(DS.render(s)) == 32


def test_dsprites_bounded_sprites_stay_inside_the_image():
    s = torch.tensor([[sh, 5, o, px, py] for sh in range(3) for o in range(40) for px in (0, 31) for py in (0, 31)])
    x = DS.render(s)[:, 0]
    border = torch.cat([x[:, 0], x[:, -1], x[:, :, 0], x[:, :, -1]], 1)
    assert float(border.max()) == 0.0 and bool((x.flatten(1).sum(1) > 0).all())


def test_dsprites_periodic_sprite_wraps_across_the_edge():
    x = DS_PERIODIC.render(torch.tensor([[0, 5, 0, 0, 16]]))[0, 0]
    assert float(x[:, 0].max()) == 1.0 and float(x[:, -1].max()) == 1.0
    with pytest.raises(ValueError, match="multiple of 32"):
        W.dsprites(periodic=True, image_size=48)


SH = W.shapes3d()
SH_SMALL = W.shapes3d(image_size=24)


def test_shapes3d_specs():
    assert SH.factor_names == ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")
    assert SH.sizes == (10, 10, 10, 8, 4, 15) and SH.num_states == 480_000
    assert SH.observation_shape == (3, 64, 64)
    assert [f.periodic for f in SH.factors] == [True, True, True, False, True, False]
    x = SH.render(SH.sample_states(32, generator=torch.Generator().manual_seed(1)))
    assert torch.equal((x * 255).round() / 255, x)  # 8-bit, like the original uint8 images


@pytest.mark.parametrize("hue", ["floor_hue", "wall_hue", "object_hue"])
def test_shapes3d_hues_recolour_only_their_region(hue):
    i = SH_SMALL.factor_names.index(hue)

    @given(states(SH_SMALL, 4), subgroup_elements(SH_SMALL.group, hue, 4))
    def check(s, g):
        new, valid = SH_SMALL.act(g, s)
        assert bool(valid.all())
        x, y = SH_SMALL.render(s), SH_SMALL.render(new)
        changed = (x != y).any(1)  # pixels whose colour changed
        # the pixels of the region coloured by this hue: compare with a state of a far-away hue
        probe = s.clone()
        probe[:, i] = (s[:, i] + 5) % 10
        region = (SH_SMALL.render(probe) != x).any(1)
        moved = g[hue] != 0
        assert torch.equal(changed.flatten(1).any(1), moved)
        assert not bool((changed & ~region).any())

    check()


def test_shapes3d_distinct_views_and_shapes():
    for shape in range(4):
        s = torch.tensor([[0, 3, 6, sc, shape, o] for sc in range(8) for o in range(15)])
        assert _distinct(SH.render(s)) == 120  # every scale and azimuth, even of the sphere
    s = torch.tensor([[0, 3, 6, 4, sh, 7] for sh in range(4)])
    assert _distinct(SH.render(s)) == 4
