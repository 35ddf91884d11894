"""The figures of ``groupdrl report`` (matplotlib, Agg backend, imported lazily)."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from groupdrl._io import atomic_write
from groupdrl.sweep.report import FIGURE_SCORES, GROUP_SCORES, INTUITIVE_SCORES


def _plt():
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def scores(rows: list[dict]):
    """Strip plots: one row of panels per world setting, one panel per score, one column of points per model
    configuration (one point per seed, jittered with a fixed seed; a bar marks the median). The verdict panel
    shows the pass rate with k/n."""
    plt = _plt()
    done = [r for r in rows if r["status"] == "done"]
    settings = sorted({r["setting"] for r in done}) or ["(no finished runs)"]
    configs = sorted({r["config"] for r in done})
    names = {**GROUP_SCORES, **INTUITIVE_SCORES}
    fig, axes = plt.subplots(len(settings), len(FIGURE_SCORES), squeeze=False,
                             figsize=(2.6 * len(FIGURE_SCORES), 0.4 * max(6, len(configs)) + 1.2 * len(settings)))
    rng = np.random.default_rng(0)
    for i, setting in enumerate(settings):
        mine = [r for r in done if r["setting"] == setting]
        for j, key in enumerate(FIGURE_SCORES):
            ax = axes[i][j]
            for x, c in enumerate(configs):
                vals = np.array([float(r[key]) for r in mine if r["config"] == c and r[key] is not None])
                if key == "group_disentangled":
                    if len(vals):
                        ax.bar(x, vals.mean(), color="tab:green", alpha=0.7)
                        ax.text(x, vals.mean() + 0.02, f"{int(vals.sum())}/{len(vals)}", ha="center", fontsize=7)
                    continue
                vals = vals[np.isfinite(vals)]
                if len(vals):
                    ax.plot(x + rng.uniform(-0.15, 0.15, len(vals)), vals, "o", ms=4, alpha=0.7, color="tab:blue")
                    ax.plot([x - 0.25, x + 0.25], [np.median(vals)] * 2, color="k", lw=1.5)
            ax.set_xticks(range(len(configs)), configs, rotation=60, ha="right", fontsize=7)
            ax.set_title(names[key] + (" (pass rate)" if key == "group_disentangled" else ""), fontsize=9)
            # every score is ≥ 0; the verdict's pass rate, leakage and the intuitive metrics are ≤ 1
            ax.set_ylim(0, 1.15 if key == "group_disentangled" else 1.05 if key != "dlsbd" else None)
            if j == 0:
                ax.set_ylabel(setting, fontsize=8)
    fig.tight_layout()
    return fig


def variance(stats: dict):
    """Stacked bars per score: the shares of its variance between models, between a model's hyperparameter
    settings and between seeds, one panel per world setting."""
    plt = _plt()
    settings = sorted({v["setting"] for v in stats["variance"]}) or ["(no finished runs)"]
    keys = list(GROUP_SCORES) + list(INTUITIVE_SCORES)
    names = {**GROUP_SCORES, **INTUITIVE_SCORES}
    fig, axes = plt.subplots(1, len(settings), squeeze=False, figsize=(5.5 * len(settings), 4.2))
    for ax, setting in zip(axes[0], settings):
        rows = {v["score"]: v for v in stats["variance"] if v["setting"] == setting}
        left = np.zeros(len(keys))
        for part, colour in (("model", "tab:orange"), ("hparams", "tab:purple"), ("seed", "tab:gray")):
            w = np.array([np.nan if rows.get(k, {}).get(part) is None else rows[k][part] for k in keys], dtype=float)
            w = np.nan_to_num(w)
            ax.barh(range(len(keys)), w, left=left, color=colour, label=part)
            left += w
        ax.set_yticks(range(len(keys)), [names[k] for k in keys], fontsize=8)
        ax.set_xlim(0, 1)
        ax.set_xlabel("share of the variance")
        ax.set_title(setting, fontsize=9)
        ax.invert_yaxis()
        ax.text(0.5, -0.2, "no bar: a constant score", transform=ax.transAxes, ha="center", fontsize=7)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=3, fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    return fig


def spearman(stats: dict):
    """Heatmap of Spearman's ρ over all runs (group-theory scores × intuitive metrics), each cell annotated
    with ρ and its bootstrap interval; blank where ρ is undefined (a constant score)."""
    plt = _plt()
    g, m = list(GROUP_SCORES), list(INTUITIVE_SCORES)
    cells = {(s["group"], s["intuitive"]): s for s in stats["correlation"] if s["scope"] == "all runs"}
    rho = np.array([[np.nan if cells.get((a, b), {}).get("rho") is None else cells[(a, b)]["rho"] for b in m]
                    for a in g], dtype=float)
    fig, ax = plt.subplots(figsize=(1.4 * len(m) + 2, 0.9 * len(g) + 1.5))
    im = ax.imshow(np.ma.masked_invalid(rho), cmap="coolwarm", vmin=-1, vmax=1, aspect="auto")
    for (i, j), v in np.ndenumerate(rho):
        s = cells.get((g[i], m[j]))
        if s is not None and np.isfinite(v):
            lo, hi = s["low"], s["high"]
            interval = f"\n[{lo:+.2f}, {hi:+.2f}]" if lo is not None else ""
            ax.text(j, i, f"{v:+.2f}{interval}", ha="center", va="center", fontsize=7)
        else:
            ax.text(j, i, "constant", ha="center", va="center", fontsize=7, color="gray")
    ax.set_xticks(range(len(m)), [INTUITIVE_SCORES[k] for k in m], rotation=30, ha="right")
    ax.set_yticks(range(len(g)), [GROUP_SCORES[k] for k in g])
    n = max((s["n"] for s in cells.values()), default=0)
    ax.set_title(f"Spearman ρ over runs (n ≤ {n}), {stats['bootstrap']['level']:.0%} bootstrap interval", fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig


def save(fig, path: Path) -> None:
    """Write ``fig`` as PNG atomically and close it."""
    plt = _plt()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    atomic_write(path, buf.getvalue())
