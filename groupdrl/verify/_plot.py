"""Small matplotlib helpers shared by the reports (Agg backend, no display needed)."""
from __future__ import annotations

import io
from typing import Sequence

import numpy as np

PASS, FAIL, NEUTRAL = "#cdebcd", "#f6c6c6", "#f2f2f2"


def figure(n_panels: int, width: float = 4.2, height: float = 3.8, ratios: Sequence[float] | None = None):
    """A figure with ``n_panels`` axes in one row (matplotlib imported lazily, Agg backend)."""
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    ratios = list(ratios) if ratios is not None else [1.0] * n_panels
    fig = Figure(figsize=(width * sum(ratios), height), layout="constrained")
    axes = fig.subplots(1, n_panels, squeeze=False, gridspec_kw={"width_ratios": ratios})
    return fig, list(axes[0])


def heatmap(ax, matrix: np.ndarray, rows: Sequence[str], cols: Sequence[str], title: str, *, xlabel: str = "",
            ylabel: str = "", bar: str = "", vmin: float = 0.0, vmax: float | None = None) -> None:
    """Annotated heatmap of a (rows × cols) matrix with labelled axes, named ticks and a labelled colour bar."""
    m = np.asarray(matrix, dtype=float)
    top = vmax if vmax is not None else max(float(np.nanmax(m)) if m.size else 1.0, 1e-12)
    im = ax.imshow(m, cmap="viridis", vmin=vmin, vmax=top, aspect="auto")
    ax.set_xticks(range(len(cols)), list(cols), rotation=45 if max(map(len, cols), default=0) > 3 else 0,
                  ha="right" if max(map(len, cols), default=0) > 3 else "center")
    ax.set_yticks(range(len(rows)), list(rows))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if m.size <= 200:
        for (i, j), v in np.ndenumerate(m):
            if np.isfinite(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                        color="w" if v < vmin + 0.6 * (top - vmin) else "k")
    cb = ax.figure.colorbar(im, ax=ax, fraction=0.046)
    cb.set_label(bar)


def card(ax, rows: list[tuple[str, str, str, bool | None]], title: str) -> None:
    """A report card: one row per checked number (name, value, requirement), green where it passes, red where
    it fails, grey where it is only reported."""
    ax.axis("off")
    ax.set_title(title)
    if not rows:
        return
    table = ax.table(cellText=[[n, v, r] for n, v, r, _ in rows], colLabels=["check", "value", "needed"],
                     loc="upper center", cellLoc="left", colWidths=[0.55, 0.2, 0.25])
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.scale(1, 1.25)
    for i, (*_, ok) in enumerate(rows, start=1):
        for j in range(3):
            table[i, j].set_facecolor(NEUTRAL if ok is None else PASS if ok else FAIL)


def png(fig, dpi: int = 90) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
