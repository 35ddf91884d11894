"""Known answers of the sweep statistics: variance shares and Spearman's ρ with its bootstrap interval."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from groupdrl.sweep import spearman, spearman_ci, variance_shares

MODELS = ["a"] * 4 + ["b"] * 4 + ["c"] * 4
SEEDS = [0, 1, 2, 3] * 3


def test_a_score_of_the_model_alone_has_no_seed_share():
    score = [{"a": 0.1, "b": 0.5, "c": 0.9}[m] for m in MODELS]
    v = variance_shares(score, MODELS)
    assert v["levels"] == pytest.approx([1.0]) and v["within"] == pytest.approx(0.0, abs=1e-12)


def test_a_score_of_the_seed_alone_has_no_model_share():
    score = [[0.2, 0.9, 0.4, 0.1][s] for s in SEEDS]
    v = variance_shares(score, MODELS)
    assert v["levels"] == pytest.approx([0.0], abs=1e-12) and v["within"] == pytest.approx(1.0)


def test_nested_levels_split_exactly():
    # two models, two hyperparameter settings each, two seeds; value = model effect + hparam effect + seed effect
    model = ["a"] * 4 + ["b"] * 4
    config = ["a1", "a1", "a2", "a2", "b1", "b1", "b2", "b2"]
    m = np.array([0, 0, 0, 0, 4, 4, 4, 4.0])         # model means 0 and 4 (grand mean 2): SS = 8 · 2² = 32
    h = np.array([-1, -1, 1, 1, -1, -1, 1, 1.0])      # ±1 around each model's mean: SS = 8
    s = np.array([-0.5, 0.5] * 4)                     # ±0.5 around each configuration's mean: SS = 2
    v = variance_shares(m + h + s, model, config)
    assert v["levels"] == pytest.approx([32 / 42, 8 / 42]) and v["within"] == pytest.approx(2 / 42)
    assert v["ss_total"] == pytest.approx(42.0)


def test_shares_add_up_and_ignore_missing_values():
    rng = np.random.default_rng(0)
    x = rng.normal(size=12)
    x[3] = np.nan
    v = variance_shares(x, MODELS, [m + str(s % 2) for m, s in zip(MODELS, SEEDS)])
    assert sum(v["levels"]) + v["within"] == pytest.approx(1.0) and v["n"] == 11


def test_a_constant_score_has_nothing_to_split():
    v = variance_shares([0.3] * 12, MODELS)
    assert np.isnan(v["levels"][0]) and np.isnan(v["within"])
    with pytest.raises(ValueError, match="levels"):
        variance_shares([1.0, 2.0], ["a"])


def test_spearman_of_monotone_pairs():
    x = np.linspace(0, 3, 20)
    up = spearman_ci(x, np.exp(x), n_boot=500, seed=1)
    assert up["rho"] == pytest.approx(1.0) and up["low"] == pytest.approx(1.0) and up["high"] == pytest.approx(1.0)
    down = spearman_ci(x, -x ** 3, n_boot=500, seed=1)
    assert down["rho"] == pytest.approx(-1.0) and down["high"] == pytest.approx(-1.0)


def test_spearman_matches_scipy_with_ties_and_the_interval_covers_it():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 5, 60).astype(float)
    y = x + rng.normal(scale=2.0, size=60)
    ref = spearmanr(x, y).statistic
    assert spearman(x, y) == pytest.approx(ref)
    ci = spearman_ci(x, y, n_boot=1000, seed=0)
    assert ci["low"] < ref < ci["high"] and ci["n"] == 60
    assert spearman_ci(x, y, n_boot=1000, seed=0) == ci               # seeded: reproducible
    indep = spearman_ci(rng.normal(size=200), rng.normal(size=200), n_boot=1000, seed=0)
    assert indep["low"] < 0 < indep["high"]


def test_spearman_undefined_cases():
    assert np.isnan(spearman([1, 1, 1], [1, 2, 3]))
    ci = spearman_ci([1, 2, np.nan, 4], [1, 1, 1, 1])
    assert np.isnan(ci["rho"]) and np.isnan(ci["low"]) and ci["n"] == 3
    with pytest.raises(ValueError, match="n_boot"):
        spearman_ci([1, 2, 3], [1, 2, 3], n_boot=0)
    with pytest.raises(ValueError, match="x, y"):
        spearman_ci([1, 2, 3], [1, 2])
