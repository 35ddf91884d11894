"""Statistics of a sweep: where a score's variance comes from, and rank correlations with bootstrap intervals."""
from __future__ import annotations

from typing import Sequence

import numpy as np


def variance_shares(values: Sequence[float], *levels: Sequence) -> dict:
    """Nested (ANOVA-style) split of the sum of squares of ``values`` over grouping ``levels``.

    With levels from the coarsest (e.g. the model) to the finest (e.g. model + hyperparameters) and
    groups g at level ℓ nested in a parent group p(g) (the grand mean above the first level),

    .. math::
        SS_{total} = \\sum_\\ell \\sum_{g \\in \\ell} n_g (\\bar x_g - \\bar x_{p(g)})^2
                     + \\sum_i (x_i - \\bar x_{g_{last}(i)})^2,

    an identity for any group sizes. Shares are the terms over :math:`SS_{total}`; the last one
    (``"within"``) is what the finest level leaves: with levels (model, model + hyperparameters) and one
    run per seed, the seed's share. One level gives the one-way decomposition η² / 1 − η² (Fisher 1925;
    the split Locatello et al. 2019 make between method and random seed). Non-finite values are dropped.

    Returns
    -------
    dict
        ``{"levels": [share per level], "within": share, "n": runs used, "ss_total": SS_total}``; shares are
        NaN when fewer than two runs or SS_total = 0 (nothing to split).
    """
    x = np.asarray(values, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"values: expected a 1-D sequence, got shape {x.shape}")
    labels = [list(lv) for lv in levels]
    if not labels or any(len(lv) != len(x) for lv in labels):
        raise ValueError(f"levels: expected at least one label sequence of length {len(x)}, got lengths "
                         f"{[len(lv) for lv in labels]}")
    keep = np.isfinite(x)
    x = x[keep]
    # each level's group is the tuple of its labels and those above it, so the groups nest by construction
    keys = [[tuple(lv[i] for lv in labels[:depth + 1]) for i in np.flatnonzero(keep)] for depth in range(len(labels))]
    total = float(((x - x.mean()) ** 2).sum()) if len(x) else 0.0
    if len(x) < 2 or total <= 1e-12 * max(1.0, float((x ** 2).sum())):
        return {"levels": [float("nan")] * len(labels), "within": float("nan"), "n": int(len(x)), "ss_total": total}
    parent = np.full(len(x), x.mean())
    shares = []
    for key in keys:
        means = _group_means(x, key)
        shares.append(float(((means - parent) ** 2).sum() / total))
        parent = means
    return {"levels": shares, "within": float(((x - parent) ** 2).sum() / total), "n": int(len(x)), "ss_total": total}


def _group_means(x: np.ndarray, key: list) -> np.ndarray:
    """Each value's group mean (groups given by hashable keys)."""
    index = {k: i for i, k in enumerate(dict.fromkeys(key))}
    g = np.array([index[k] for k in key])
    return (np.bincount(g, weights=x) / np.bincount(g))[g]


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's ρ: the Pearson correlation of the ranks (ties get their average rank); NaN for fewer than
    two pairs or a constant variable."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return float(_rank_corr(x[None], y[None])[0]) if len(x) >= 2 else float("nan")


def spearman_ci(x: Sequence[float], y: Sequence[float], *, n_boot: int = 2000, level: float = 0.95,
                seed: int = 0) -> dict:
    """Spearman's ρ with a percentile bootstrap interval over runs (pairs resampled with replacement).

    Pairs where either value is not finite are dropped. Resamples whose x or y is constant have no ρ and
    are left out (``n_boot_used`` says how many remained). ``seed`` seeds a ``numpy.random.Generator``.

    Returns
    -------
    dict
        ``{"rho", "low", "high", "n", "n_boot_used"}``; NaN where undefined.
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 1:
        raise ValueError(f"n_boot: expected a positive int, got {n_boot!r}")
    if not 0 < level < 1:
        raise ValueError(f"level: expected a number in (0, 1), got {level!r}")
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x, y: expected two 1-D sequences of one length, got shapes {x.shape} and {y.shape}")
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    n = len(x)
    rho = spearman(x, y)
    if n < 3 or not np.isfinite(rho):
        return {"rho": rho, "low": float("nan"), "high": float("nan"), "n": n, "n_boot_used": 0}
    idx = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    boot = _rank_corr(x[idx], y[idx])
    boot = boot[np.isfinite(boot)]
    if not len(boot):
        return {"rho": rho, "low": float("nan"), "high": float("nan"), "n": n, "n_boot_used": 0}
    low, high = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return {"rho": rho, "low": float(low), "high": float(high), "n": n, "n_boot_used": int(len(boot))}


def _rank_corr(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row-wise Spearman ρ of (b, n) arrays; NaN for a row where x or y is constant."""
    from scipy.stats import rankdata

    rx, ry = rankdata(x, axis=1), rankdata(y, axis=1)
    rx, ry = rx - rx.mean(1, keepdims=True), ry - ry.mean(1, keepdims=True)
    den = np.sqrt((rx ** 2).sum(1) * (ry ** 2).sum(1))
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (rx * ry).sum(1) / den
    rho[den == 0] = np.nan
    return np.clip(rho, -1.0, 1.0)
