"""The D_LSBD upper bound on grids whose value is known (REFERENCE §1, Tonnaer et al. 2022)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from groupdrl.verify.group.dlsbd import dlsbd

NAMES = ("a", "b")


def grid(n1: int = 8, n2: int = 6):
    t1, t2 = np.meshgrid(2 * np.pi * np.arange(n1) / n1, 2 * np.pi * np.arange(n2) / n2, indexing="ij")
    return t1, t2


def torus(t1, t2):
    return np.stack([np.cos(t1), np.sin(t1), np.cos(t2), np.sin(t2)], -1)


@given(st.integers(0, 2**31 - 1), st.sampled_from([(8, 6), (5, 7), (16, 16)]))
def test_exact_torus_and_any_orthogonal_mixing_give_zero(seed, sizes):
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(4, 4)))
    z = torus(*grid(*sizes)) @ q.T
    out = dlsbd(z, NAMES)
    assert out["value"] < 1e-10
    for name, n in zip(NAMES, sizes):  # ω is defined modulo N_k (ω and ω + N_k coincide on the grid)
        assert out["frequencies"][name] % n in (1, n - 1)


def test_higher_frequency_is_found():
    t1, t2 = grid(16, 16)
    out = dlsbd(torus(3 * t1, t2), NAMES)
    assert out["value"] < 1e-10 and abs(out["frequencies"]["a"]) == 3


def test_small_noise_is_about_one_hundredth():
    z = torus(*grid(16, 16)) + 0.05 * np.random.default_rng(0).normal(size=(16, 16, 4))
    assert 0.001 < dlsbd(z, NAMES)["value"] < 0.02


def test_entangled_code():
    # subgroup b: after centring over θ_b only (cos, sin)(θ_a + θ_b) varies; R(−θ_b) leaves
    # (cos, sin)(θ_a), whose pooled centroid is 0 and mean square 1, so D^(b) = 1 exactly. For a,
    # the centred code is isotropic in 4-D: its top-2 PCs are not unique, so D^(a) ∈ [0, 1] depends
    # on the SVD's choice (noted in the docs); the bound is therefore ≥ ½.
    t1, t2 = grid()
    out = dlsbd(np.stack([np.cos(t1), np.sin(t1), np.cos(t1 + t2), np.sin(t1 + t2)], -1), NAMES)
    assert out["per_factor"]["b"] == pytest.approx(1.0)
    assert out["value"] >= 0.5


def test_line_code():
    # (θ − π)·s rotated by R(−θ): centroid (0, s·E[(θ−π)·(−sin θ)]),
    # so D = 1 − 3/π² ≈ 0.696 in the continuum limit
    t1, t2 = grid(40, 40)
    out = dlsbd(np.stack([t1, t2], -1), NAMES)
    assert out["value"] == pytest.approx(1 - 3 / np.pi ** 2, abs=0.01)


def test_pure_noise_is_near_one():
    assert dlsbd(np.random.default_rng(1).normal(size=(16, 16, 6)), NAMES)["value"] > 0.9


def test_code_constant_in_a_factor_scores_one():
    t1, _ = grid()
    out = dlsbd(np.stack([np.cos(t1), np.sin(t1)], -1), NAMES)
    assert out["per_factor"] == {"a": pytest.approx(0.0, abs=1e-12), "b": 1.0}
