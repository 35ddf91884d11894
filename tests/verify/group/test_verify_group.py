"""verify_group on hand-made codes whose verdict is known from the mathematics."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
from group_codes import angles, circle, entangled, exact, line, lookup, make_world
from scipy.linalg import subspace_angles

from groupdrl.verify.group import verify_group

N = 300


def test_exact_code_passes():
    r = verify_group(exact, make_world(), n_states=N)
    assert r.disentangled and r.reasons == []
    assert r.equivariance_error < 1e-10 and r.homomorphism_error < 1e-10
    np.testing.assert_allclose(r.leakage, np.eye(2), atol=1e-10)
    assert r.subspace_dims == [2, 2]
    assert abs(r.min_principal_angle - np.pi / 2) < 1e-8
    # Z_a is the first (cos, sin) block, Z_b the second
    assert np.max(subspace_angles(r.subspaces[0], np.eye(4)[:, :2])) < 1e-6
    assert np.max(subspace_angles(r.subspaces[1], np.eye(4)[:, 2:])) < 1e-6
    assert r.dlsbd["value"] < 1e-10 and r.dlsbd["frequencies"] in ({"a": 1, "b": 1}, {"a": -1, "b": -1},
                                                                   {"a": 1, "b": -1}, {"a": -1, "b": 1})


def test_invertible_mixing_with_offset_passes_and_subspaces_follow_the_mixing():
    q = torch.randn(4, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    r = verify_group(lambda o: exact(o) @ q.T + 3.0, make_world(), n_states=N)
    assert r.disentangled, r.reasons
    assert r.equivariance_error < 1e-10
    np.testing.assert_allclose(r.leakage, np.eye(2), atol=1e-8)
    np.testing.assert_allclose(r.centre, np.full(4, 3.0), atol=1e-8)  # the fixed point of the action
    # Z_i = Q · (block i): the subspaces are linear, not axis-aligned
    assert np.max(subspace_angles(r.subspaces[0], q.numpy()[:, :2])) < 1e-6
    assert np.max(subspace_angles(r.subspaces[1], q.numpy()[:, 2:])) < 1e-6


def test_entangled_code_fails_with_half_leakage_in_the_right_cell():
    # Under g ∈ G_a both blocks rotate: Δ = ((R(g)−I)u(θ_a), (R(g)−I)u(θ_a+θ_b)) with equal norms
    # ‖(R(g)−I)u‖² = 2 − 2cos(2πg/8) for every unit u; G_b only moves block 2, so block 2 is Z_b
    # and exactly half of G_a's change falls into Z_b: L = [[½, ½], [0, 1]].
    r = verify_group(entangled, make_world(), n_states=N)
    assert not r.disentangled
    np.testing.assert_allclose(r.leakage, [[0.5, 0.5], [0.0, 1.0]], atol=1e-10)
    assert r.equivariance_error < 1e-10 and r.homomorphism_error < 1e-10  # an action exists: only (3) fails
    assert any("leaks out of Z_a" in s for s in r.reasons) and len(r.reasons) == 1
    assert r.entangled_pieces == [{"factors": [0, 1], "dim": 2, "assigned_to": 1}]


@pytest.mark.parametrize("sizes", [(8, 6), (5, 12)])
def test_line_code_fails_equivariance(sizes):
    r = verify_group(line, make_world(sizes), n_states=N)
    assert not r.disentangled
    assert all(r.equivariance_relative[n] > 0.5 for n in "ab")
    assert any("not equivariant under a" in s for s in r.reasons)
    c = r.counterexample  # the worst sampled pair, with the numbers that make its error
    assert c["error"] >= max(r.equivariance_per_factor.values())
    resid = np.sum((np.asarray(c["h(g·x)"]) - np.asarray(c["predicted"])) ** 2) / r.total_variance
    assert resid == pytest.approx(c["error"])
    i = "ab".index(c["factor"])
    assert c["h(g·x)"][i] == (c["state"][c["factor"]] + c["element"]) % sizes[i]


def test_a_factor_with_a_small_latent_scale_is_judged_on_its_own_variance():
    # a's exact code ×10 dominates the total variance; b's line code of C_3 is not equivariant
    # (the only 1-D real representation of C_3 is trivial), which the per-factor error must show
    w = make_world((40, 3))
    enc = lambda o: torch.cat([10 * circle(angles(o, (40, 3))[0]), o[:, 1:].double()], 1)  # noqa: E731
    r = verify_group(enc, w, n_states=N)
    assert r.equivariance_per_factor["b"] < 0.05 < 0.5 < r.equivariance_relative["b"]
    assert not r.disentangled and any("not equivariant under b" in s for s in r.reasons)


def test_noise_code_fails():
    r = verify_group(lookup(3), make_world(), n_states=N)
    assert not r.disentangled
    assert r.equivariance_error > 0.5
    assert r.dlsbd["value"] > 0.8


def test_small_noise_on_exact_code_passes_with_small_error():
    noise = lookup(5, scale=0.02)
    r = verify_group(lambda o: exact(o) + noise(o), make_world(), n_states=N)
    assert r.disentangled, r.reasons
    assert 1e-5 < r.equivariance_error < 0.01
    assert np.abs(r.leakage - np.eye(2)).max() < 0.01
    assert r.dlsbd["value"] < 0.01


def test_constant_encoder_is_not_disentangled_without_division_by_zero():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = verify_group(lambda o: torch.ones(len(o), 3), make_world(), n_states=N)
    assert not r.disentangled
    assert "constant" in r.reasons[0]
    assert r.equivariance_error is None and r.leakage is None
    json.dumps(r.to_dict())


def test_constant_and_tiny_junk_dimensions_do_not_change_the_verdict():
    junk = lookup(3, dim=3, scale=1e-5)
    enc = lambda o: torch.cat([exact(o), junk(o), torch.ones(len(o), 2, dtype=torch.float64)], 1)  # noqa: E731
    r = verify_group(enc, make_world(), n_states=N)
    assert r.disentangled, r.reasons
    assert r.subspace_dims == [2, 2] and r.latent_dim == 9


def test_invariant_factor_has_no_subspace():
    a_only = lambda o: exact(o)[:, :2]  # noqa: E731  ignores b
    r = verify_group(a_only, make_world(), n_states=N)
    assert not r.disentangled
    assert r.subspace_dims == [2, 0]
    assert any("Z_b" in s and "dimension 0" in s for s in r.reasons)


def test_reproducible_from_seed():
    noise = lookup(5, scale=0.05)
    enc = lambda o: exact(o) + noise(o)  # noqa: E731
    w = make_world()
    a, b = verify_group(enc, w, n_states=50, seed=7), verify_group(enc, w, n_states=50, seed=7)
    assert json.dumps(a.to_dict()) == json.dumps(b.to_dict())
    c = verify_group(enc, w, n_states=50, seed=8)
    assert c.equivariance_error != a.equivariance_error


def test_bounded_factor_uses_valid_moves_and_keeps_the_cyclic_relations():
    w = make_world(sizes=(8, 10), periodic=(True, False))
    a = lambda o: exact(o)[:, :2]  # noqa: E731
    pos = lambda o: o[:, 1:].double()  # noqa: E731
    ang = lambda o, k: 2 * np.pi * o[:, 1].double() * k / 10  # noqa: E731
    circle_code = lambda o: torch.cat([a(o), torch.stack([ang(o, 1).cos(), ang(o, 1).sin()], 1)], 1)  # noqa: E731
    arc_code = lambda o: torch.cat([a(o), torch.stack([ang(o, .5).cos(), ang(o, .5).sin()], 1)], 1)  # noqa: E731
    r = verify_group(circle_code, w, n_states=N, n_elements=4)
    assert r.disentangled, r.reasons
    assert r.n_pairs < N * 4 * 2  # invalid moves of the bounded factor were dropped
    assert r.dlsbd is None  # not a full periodic grid
    for code in (lambda o: torch.cat([a(o), pos(o)], 1), arc_code):  # translation / representation of Z only
        r = verify_group(code, w, n_states=N, n_elements=4)
        assert not r.disentangled
        assert r.equivariance_per_factor["a"] < 1e-8
        assert any("not a homomorphism" in s for s in r.reasons)


def test_given_rho_and_subspaces():
    w = make_world()
    rho = w.group.representation({"a": "standard", "b": "standard"})
    r = verify_group(exact, w, rho=rho, n_states=N)
    assert r.disentangled and r.equivariance_error < 1e-12
    wrong = w.group.representation({"a": "irrep:2", "b": "standard"})
    r = verify_group(exact, w, rho=wrong, n_states=N)
    assert not r.disentangled and r.equivariance_per_factor["a"] > 0.5
    ok = verify_group(exact, w, subspaces={"a": np.eye(4)[:, :2], "b": np.eye(4)[:, 2:]}, n_states=N)
    assert ok.disentangled
    # axes (cos θ_a, cos θ_b) / (sin θ_a, sin θ_b): each change splits about evenly between them
    bad = verify_group(exact, w, subspaces=[np.eye(4)[:, [0, 2]], np.eye(4)[:, [1, 3]]], n_states=N)
    assert not bad.disentangled
    np.testing.assert_allclose(bad.leakage, 0.5, atol=0.1)


def test_general_definition():
    w = make_world()
    r = verify_group(line, w, n_states=N, linear=False)  # injective: an action exists (not a linear one)
    assert r.disentangled and r.nonlinear["defect"] == 0
    assert not verify_group(line, w, n_states=N).disentangled
    cos_only = lambda o: torch.stack([exact(o)[:, 0], exact(o)[:, 2]], 1)  # noqa: E731  θ and −θ collide
    r = verify_group(cos_only, w, n_states=N, linear=False)
    assert not r.disentangled and r.nonlinear["collisions"] > 0
    assert "no action" in r.reasons[0]


def test_relations_checked_on_the_cayley_graph():
    r = verify_group(exact, make_world(), n_states=N)
    rels = [x["relation"] for x in r.relations]
    assert any("Cayley edge 7→0 of Cyclic(8)" in x for x in rels)
    assert any("Cayley edge 5→0 of Cyclic(6)" in x for x in rels)
    assert any("ρ(s_a)ρ(s_b) = ρ(s_b)ρ(s_a)" in x for x in rels)
    # the generators are the rotations by 2π/N
    np.testing.assert_allclose(r.generators["a"][:2, :2], [[np.cos(np.pi / 4), -np.sin(np.pi / 4)],
                                                           [np.sin(np.pi / 4), np.cos(np.pi / 4)]], atol=1e-8)


def test_report_outputs(tmp_path):
    r = verify_group(entangled, make_world(), n_states=N)
    d = json.loads(json.dumps(r.to_dict()))
    assert d["disentangled"] is False and d["leakage"][0][1] == pytest.approx(0.5)
    md = r.to_markdown()
    assert "not disentangled" in md and "| a |" in md and "D_LSBD" in md
    fig = r.plot()
    path = tmp_path / "report.png"
    fig.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(fig.axes) >= 3


def test_bad_input():
    w = make_world()
    with pytest.raises(ValueError, match="encoder"):
        verify_group(lambda o: exact(o)[:, 0], w, n_states=10)
    with pytest.raises(ValueError, match="encoder.*NaN"):
        verify_group(lambda o: exact(o) * float("nan"), w, n_states=10)
    with pytest.raises(ValueError, match="encoder.*NaN or inf"):
        verify_group(lambda o: exact(o) / 0.0, w, n_states=10)
    with pytest.raises(TypeError, match="encoder"):
        verify_group(lambda o: (exact(o), exact(o)), w, n_states=10)
    with pytest.raises(TypeError, match="encoder"):
        verify_group("not callable", w)
    with pytest.raises(TypeError, match="world"):
        verify_group(exact, object())
    with pytest.raises(ValueError, match="subspaces"):
        verify_group(exact, w, subspaces=[np.eye(5)[:, :2], np.eye(5)[:, 2:]], n_states=10)
    with pytest.raises(ValueError, match="subspaces.*independent"):
        verify_group(exact, w, subspaces=[np.eye(4)[:, :2], np.eye(4)[:, 1:3]], n_states=10)
    with pytest.raises(ValueError, match="subspaces"):
        verify_group(exact, w, subspaces=[np.eye(4)[:, :2]], n_states=10)
    with pytest.raises(ValueError, match="rho"):
        verify_group(exact, w, rho=w.group.representation({"a": "standard"}), n_states=10)
    with pytest.raises(ValueError, match="rho"):
        other = make_world((4, 4)).group.representation({"a": "standard", "b": "standard"})
        verify_group(exact, w, rho=other, n_states=10)
    with pytest.raises(ValueError, match="n_states"):
        verify_group(exact, w, n_states=0)
    with pytest.raises(ValueError, match="tol"):
        verify_group(exact, w, tol={"typo": 1.0})


def test_mixing_keeps_the_group_verdict_while_the_axis_based_view_falls():
    from groupdrl.verify.metrics import mig

    q = torch.randn(4, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    mixed = lambda o: exact(o) @ q.T  # noqa: E731
    w = make_world()
    assert verify_group(exact, w, n_states=N).disentangled and verify_group(mixed, w, n_states=N).disentangled
    plain, tilted = mig(exact, w, n_train=2000), mig(mixed, w, n_train=2000)
    # axis-aligned: each code is informative about one factor only; mixed: every code about both
    assert np.sort(plain["mi_matrix"], 1)[:, 0].max() < 0.05
    assert tilted["mi_matrix"].min() > 0.3
    assert tilted["mig"] < plain["mig"]
