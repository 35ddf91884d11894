"""Worlds with any factor group: finite (cyclic, dihedral, products) and compact Lie (SO(2), SO(3))."""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import groupdrl.groups as G
import groupdrl.worlds as W
from groupdrl.testing import elements, states
from groupdrl.worlds import Factor, World


def mixed_world() -> World:
    """A cyclic, a dihedral, an SO(3) and an SO(2)-on-a-circle factor."""
    factors = [Factor("c", 5), Factor("d", group=G.Dihedral(3)), Factor("r", group=G.SO3()),
               Factor("t", group=G.SO2(), base_point=(2.0, 0.0))]
    return World(factors, render=lambda s: s.float())


MIXED = mixed_world()


def test_factor_groups_sizes_and_layout():
    assert Factor("x", 8).group == G.Cyclic(8)
    assert Factor("d", group=G.Dihedral(4)).size == 8
    assert Factor("r", group=G.SO3()).size is None and Factor("r", group=G.SO3()).state_dim == 9
    assert Factor("s", group=G.SO3(), base_point=(0, 0, 1)).state_dim == 3
    assert MIXED.state_dim == 1 + 1 + 9 + 2 and not MIXED.is_finite and MIXED.state_dtype == torch.float64
    assert MIXED.state_columns["r"] == slice(2, 11)
    assert repr(MIXED) == "World('world', c=5, d=D3, r=SO(3), t=SO(2)·p)"


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(name="d", size=6, group=G.Dihedral(4)), "group: factor 'd' has 6 states but Dihedral.4. has 8"),
    (dict(name="d", group=G.Dihedral(4), periodic=False), "periodic: only a cyclic factor can be bounded"),
    (dict(name="r", size=3, group=G.SO3()), "size: factor 'r' with SO3.. is continuous"),
    (dict(name="r", group=G.SO3(), periodic=False), "periodic: factor 'r'"),
    (dict(name="r", group=G.SO3(), base_point=(1.0, 0.0)), "base_point: factor 'r' needs a finite non-zero point of R"),
    (dict(name="r", group=G.SO3(), base_point=(0.0, 0.0, 0.0)), "base_point"),
    (dict(name="d", group=G.Dihedral(2), base_point=(1.0, 0.0)), "base_point: factor 'd' is finite"),
    (dict(name="t", group=G.Product(a=G.SO2(), b=G.SO2())), "group: factor 't' has Product.* several factors"),
    (dict(name="p", group=G.Product(a=G.Cyclic(2), b=G.Cyclic(3))), "group: factor 'p' has Product"),
    (dict(name="x"), "size: factor 'x' needs a size"),
])
def test_factor_errors_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Factor(**kwargs)
    with pytest.raises(TypeError, match="group: expected a groupdrl Group"):
        Factor("x", group="SO3")


def test_cyclic_worlds_keep_their_state_format_and_random_stream():
    w = W.flatland(8, 16)
    s = w.sample_states(50, generator=torch.Generator().manual_seed(3))
    g = torch.Generator().manual_seed(3)
    legacy = torch.stack([torch.randint(8, (50,), generator=g) for _ in range(2)], 1)
    assert s.dtype == torch.long and torch.equal(s, legacy)
    assert torch.equal(w.identity_state(), torch.zeros(1, 2, dtype=torch.long))


def test_continuous_worlds_have_no_grid():
    for what in ("sizes", "num_states"):
        with pytest.raises(ValueError, match=f"{what}: world 'world' has continuous factors .'r .SO3"):
            getattr(MIXED, what)
    with pytest.raises(ValueError, match="state_index"):
        MIXED.state_index(MIXED.identity_state())
    with pytest.raises(ValueError, match="all_states"):
        MIXED.all_states()


@given(states(MIXED, 3), elements(MIXED.group, 3), elements(MIXED.group, 3))
def test_the_action_is_an_action(s, g, h):
    """(g h)·s = g·(h·s) and e·s = s, for every kind of factor (states in float64; the product g h of
    the float32 elements is rounded to float32: an angle up to 4π off by ~5e-7, times |p| = 2, hence 1e-5)."""
    left, _ = MIXED.act(MIXED.group.compose(g, h), s)
    right, _ = MIXED.act(g, MIXED.act(h, s)[0])
    assert float((left - right).abs().max()) < 1e-5
    same, valid = MIXED.act(MIXED.group.identity(3), s)
    assert bool(valid.all()) and float((same - s).abs().max()) < 1e-12
    MIXED.validate_states(left)  # still rotation matrices, points on the orbit, integer indices


def test_finite_factors_act_by_left_multiplication_on_element_indices():
    d = G.Dihedral(3)
    s = torch.arange(6).repeat(6)[:, None]
    g = d.elements().repeat_interleave(6, 0)
    moved, _ = Factor("d", group=d).act(g, s)
    assert torch.equal(moved[:, 0], d.index(d.compose(g, d.elements().repeat(6, 1))))


def test_haar_states_of_so3_and_the_circle():
    """E[R] = 0 under Haar measure (each entry has mean 0, variance 1/3); points ρ(g)p cover the circle."""
    w = World([Factor("r", group=G.SO3()), Factor("t", group=G.SO2(), base_point=(0.0, 1.0))],
              render=lambda s: s.float())
    s = w.sample_states(20_000, generator=torch.Generator().manual_seed(0))
    parts = w.factor_states(s)
    r = parts["r"]
    assert float(r.mean(0).abs().max()) < 5 * math.sqrt(1 / 3 / 20_000)
    assert abs(float((r ** 2).mean()) - 1 / 3) < 0.01
    assert float((r @ r.transpose(1, 2) - torch.eye(3, dtype=torch.float64)).abs().max()) < 1e-12
    ang = torch.atan2(parts["t"][:, 1], parts["t"][:, 0])
    hist = torch.histc(ang, 8, -math.pi, math.pi) / len(ang)
    assert float((hist - 1 / 8).abs().max()) < 0.01


def test_states_are_validated():
    s = MIXED.sample_states(2, generator=torch.Generator().manual_seed(0))
    with pytest.raises(TypeError, match="floating tensor of states"):
        MIXED.validate_states(s.long())
    with pytest.raises(ValueError, match=r"expected shape \(n, 13\)"):
        MIXED.validate_states(s[:, :5])
    bad = s.clone()
    bad[0, 0] = 0.5
    with pytest.raises(ValueError, match="factor 'c' needs integer state indices"):
        MIXED.validate_states(bad)
    bad = s.clone()
    bad[0, 2] += 0.1
    with pytest.raises(ValueError, match="not rotation matrices"):
        MIXED.validate_states(bad)
    bad = s.clone()
    bad[0, 11] *= 1.5
    with pytest.raises(ValueError, match="factor 't' states must lie on the orbit"):
        MIXED.validate_states(bad)


# ---- render output is checked at the boundary (issue 10) ----------------------------------------------
@pytest.mark.parametrize(("render", "error", "match"), [
    (lambda s: s, TypeError, "render: world 'bad' returned dtype torch.int64; expected a real floating"),
    (lambda s: s.float()[:1], ValueError, r"render: world 'bad' returned shape \(1, 2\) for 3 states"),
    (lambda s: s.float().sum(1), ValueError, r"returned shape \(3,\) for 3 states"),
    (lambda s: s.float() / (s[:, :1] - 1).float(), ValueError, "returned NaN or inf for 1 of 3 states .first at row 1"),
    (lambda s: s.tolist(), TypeError, "render: world 'bad' returned list"),
])
def test_a_wrong_render_is_refused_naming_the_world(render, error, match):
    w = World([Factor("a", 4), Factor("b", 3)], render=render, name="bad")
    with pytest.raises(error, match=match):
        w.render(torch.tensor([[0, 0], [1, 1], [2, 2]]))


def test_a_render_whose_shape_changes_is_refused():
    w = World([Factor("a", 4)], render=lambda s: torch.zeros(len(s), 2 + int(s[0, 0])))
    assert w.observation_shape == (2,)
    with pytest.raises(ValueError, match=r"observations of shape \(3,\); earlier ones had shape \(2,\)"):
        w.render(torch.tensor([[1]]))


def test_huge_but_finite_renders_pass():
    w = World([Factor("a", 4)], render=lambda s: torch.full((len(s), 3), 3e38))
    assert torch.isinf(w.render(torch.tensor([[0], [1]])).sum())  # the sum overflows; every entry is finite


# ---- worlds that render nothing (issue 10) ------------------------------------------------------------
@pytest.mark.parametrize("radius", [1e-9, 0.7, float("inf"), 21.95, float("nan"), -1.0])
def test_flatland_refuses_a_ball_that_lights_nothing_or_everything(radius):
    with pytest.raises(ValueError, match=r"radius: expected a number of pixels in \[0.707, 21.9\)"):
        W.flatland(8, 32, radius=radius)


#: (n, image_size) -> per-axis pixel offsets from a ball centre: smallest and largest |offset| on the torus
#: (a centre on a pixel corner for an even cell, on a pixel centre for an odd one)
OFFSETS = {(8, 32): (0.5, 15.5), (8, 24): (0.0, 12.0), (5, 25): (0.0, 12.0), (4, 4): (0.0, 2.0), (3, 12): (0.5, 5.5)}


@given(st.sampled_from(sorted(OFFSETS)), st.floats(0, 1, exclude_max=True))
def test_every_accepted_flatland_ball_tells_all_states_apart(shape, t):
    lo, hi = (math.sqrt(2) * v for v in OFFSETS[shape])
    n, size = shape
    w = W.flatland(n, size, radius=lo + t * (hi - lo))
    x = w.render(w.all_states()).flatten(1)
    assert len(torch.unique(x, dim=0)) == n * n
    with pytest.raises(ValueError, match="radius"):
        W.flatland(n, size, radius=hi)


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(n_orientations=16, n_colours=2, image_size=1), "image_size: at 1 px the 16 orientations draw only"),
    (dict(n_orientations=64, image_size=4, supersample=1), "image_size: at 4 px the 64 orientations"),
])
def test_arrow_refuses_images_too_small_to_tell_orientations_apart(kwargs, match):
    with pytest.raises(ValueError, match=match):
        W.arrow(**kwargs)


# ---- the dihedral world --------------------------------------------------------------------------------
def image_action(g: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """r^k s^f of D_4 on images: a vertical flip (reflection across the horizontal axis), then k quarter turns."""
    flip, k = int(g[0]), int(g[1])
    x = torch.flip(x, (-2,)) if flip else x
    return torch.rot90(x, k, (-2, -1))


def test_dihedral_shape_d4_acts_exactly_on_the_pixel_grid():
    w = W.dihedral_shape(4, 3, 16)
    s = w.all_states()
    x = w.render(s)
    assert len(torch.unique(x.flatten(1), dim=0)) == 8 * 3  # every pose and colour draws a distinct image
    for g in G.Dihedral(4).elements():
        moved, valid = w.act(w.group.embed("pose", g.expand(len(s), 2).clone()), s)
        assert bool(valid.all())
        assert torch.equal(w.render(moved), image_action(g, x))


def test_dihedral_shape_colour_changes_only_the_hue_and_other_n():
    w = W.dihedral_shape(6, 4, 32)
    s = w.all_states()
    x = w.render(s)
    moved, _ = w.act(w.group.embed("colour", torch.ones(len(s), dtype=torch.long)), s)
    y = w.render(moved)
    assert torch.equal(y.amax(1), x.amax(1)) and not torch.equal(y, x)
    assert len(torch.unique(x.flatten(1), dim=0)) == 12 * 4
    # a half turn of D_6 (r³) is a half turn of the image
    r3 = w.group.embed("pose", torch.tensor([[0, 3]]).expand(len(s), 2).clone())
    assert torch.equal(w.render(w.act(r3, s)[0]), torch.rot90(x, 2, (-2, -1)))


# ---- the SO(3) × colour world --------------------------------------------------------------------------
def rot_z(quarter_turns: int) -> torch.Tensor:
    """The rotation about the viewing axis by a multiple of π/2, with exact entries."""
    c, s = [(1, 0), (0, 1), (-1, 0), (0, -1)][quarter_turns % 4]
    return torch.tensor([[c, -s, 0], [s, c, 0], [0, 0, 1]], dtype=torch.float32)


def test_so3_object_turns_about_the_view_axis_turn_the_image_exactly():
    w = W.so3_object(n_colours=4, image_size=32)
    s = w.sample_states(64, generator=torch.Generator().manual_seed(1))
    x = w.render(s)
    for k in (1, 2, 3):
        g = w.group.embed("rotation", rot_z(k).expand(64, 3, 3).clone())
        assert torch.equal(w.render(w.act(g, s)[0]), torch.rot90(x, k, (-2, -1)))


def test_so3_object_rotations_compose_on_the_left_and_colour_keeps_the_shape():
    w = W.so3_object(n_colours=5)
    gen = torch.Generator().manual_seed(2)
    s = w.sample_states(32, generator=gen)
    g = G.SO3().sample(32, generator=gen)
    moved, _ = w.act(w.group.embed("rotation", g), s)
    expected = (g.double() @ w.factor_states(s)["rotation"])
    assert float((w.factor_states(moved)["rotation"] - expected).abs().max()) < 1e-6
    col, _ = w.act(w.group.embed("colour", torch.full((32,), 2)), s)
    x, y = w.render(s), w.render(col)
    assert torch.equal(x.amax(1) > 0, y.amax(1) > 0) and not torch.equal(x, y)  # same pixels lit, other hues
    five, _ = w.act(w.group.embed("colour", torch.full((32,), 3)), col)
    assert torch.equal(w.render(five), x)  # C_5: five steps are the identity


def test_so3_object_is_faithful_and_continuous():
    """Distinct rotations draw distinct images; nearby rotations draw nearby images."""
    w = W.so3_object(image_size=32)
    gen = torch.Generator().manual_seed(3)
    s = w.sample_states(200, generator=gen)
    x = w.render(s).flatten(1)
    dist = torch.cdist(x, x) + torch.eye(200) * 1e9
    small = G.SO3().exp(torch.full((200, 3), 1e-3))
    near = w.render(w.act(w.group.embed("rotation", small), s)[0]).flatten(1)
    assert float((near - x).norm(dim=1).max()) < 0.05 * float(dist.min())
    centres = torch.tensor(W.so3_object.__globals__["CENTRES"], dtype=torch.float64)
    assert abs(float(torch.linalg.det(centres[1:] - centres[0]))) > 0.1  # they span R³: asymmetric, chiral


# ---- the SO(2) × SO(2) world ---------------------------------------------------------------------------
def test_arrow_continuous_matches_the_grid_arrow_and_turns_exactly():
    n, m = 8, 6
    cont, grid = W.arrow_continuous(32, supersample=4), W.arrow(n, m, 32, supersample=4)
    s = grid.all_states()
    angles = torch.stack([s[:, 0].double() * (2 * math.pi / n), s[:, 1].double() * (2 * math.pi / m)], 1)
    assert torch.allclose(cont.render(angles), grid.render(s), atol=1e-6)  # the same arrow at grid angles
    # at random angles (on the grid, sub-samples sit exactly on the arrow's edges and the float32 element
    # π/2 tips them either way) a quarter turn of the arrow is a quarter turn of the image
    angles = cont.sample_states(len(s), generator=torch.Generator().manual_seed(0))
    quarter = cont.group.embed("orientation", torch.full((len(s),), math.pi / 2))
    assert torch.equal(cont.render(cont.act(quarter, angles)[0]), torch.rot90(cont.render(angles), 1, (-2, -1)))
    hue = cont.group.embed("colour", torch.full((len(s),), 1.0))
    x, y = cont.render(angles), cont.render(cont.act(hue, angles)[0])
    assert torch.allclose(y.amax(1), x.amax(1), atol=1e-6) and not torch.allclose(x, y)


def test_registry_lists_the_new_worlds():
    assert {"so3_object", "dihedral_shape", "arrow_continuous"} <= set(W.names())
    assert W.get("dihedral_shape", n=3).factors[0].group == G.Dihedral(3)


# ---- datasets and the training sampler on the new worlds ---------------------------------------------
@pytest.mark.parametrize("actions", ["uniform", "subgroup", "generators"])
def test_transitions_of_any_factor_group_follow_the_action(actions):
    for world in (MIXED, W.dihedral_shape(4, 3, 16)):
        data = W.TransitionDataset(world, n=16, seed=0, actions=actions, steps=2)
        b = data.sample_batch(8)
        for t in range(2):
            g = {k: v[:, t] for k, v in b["g"].items()}
            moved, valid = world.act(g, b["state"][:, t])
            assert bool(valid.all()) and float((moved - b["state"][:, t + 1]).abs().max()) < 1e-12
        if actions == "generators":  # D_N draws r, r⁻¹, s (= s⁻¹) in the moved factor
            d = G.Dihedral(3) if world is MIXED else G.Dihedral(4)
            steps = d.cat([d.generators(), d.inverse(d.generators())])
            pose = b["g"]["d" if world is MIXED else "pose"].reshape(-1, 2)
            moved_pose = pose[~d.equal(pose, d.identity(len(pose)))]
            assert len(moved_pose) and all(bool(d.equal(steps, p.expand(4, 2)).any()) for p in moved_pose)


def test_datasets_of_continuous_worlds_need_n_and_no_cache():
    w = W.so3_object(image_size=16)
    with pytest.raises(ValueError, match="n: world 'so3_object' has continuous factors"):
        W.ObservationDataset(w)
    with pytest.raises(ValueError, match="cache: world 'so3_object' has continuous factors"):
        W.TransitionDataset(w, n=4, cache=True)
    x, s = W.ObservationDataset(w, n=5)[2]
    assert x.shape == (3, 16, 16) and s.dtype == torch.float64 and s.shape == (10,)


@pytest.mark.parametrize("kind", ["observations", "transitions", "sequences", "labelled+unlabelled"])
def test_the_training_sampler_draws_every_kind_of_batch_from_continuous_worlds(kind):
    from groupdrl.train import WorldSampler

    w = W.so3_object(image_size=16)
    batch = WorldSampler(w).batch(kind, 6, torch.Generator().manual_seed(0), length=2, set_size=3)
    x = batch["x"]
    assert x.dtype == torch.float32 and x.shape[-3:] == (3, 16, 16) and bool(torch.isfinite(x).all())
    if kind != "observations":
        g = batch.get("g", batch.get("g_sets"))
        assert g["rotation"].shape[-2:] == (3, 3)
