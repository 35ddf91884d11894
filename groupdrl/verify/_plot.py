"""Small matplotlib helpers shared by the reports (Agg backend, no display needed)."""
from __future__ import annotations

from typing import Sequence

import numpy as np


def figure(n_panels: int, width: float = 4.0, height: float = 3.6):
    """A figure with ``n_panels`` axes in one row (matplotlib imported lazily, Agg backend)."""
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, n_panels, figsize=(width * n_panels, height), squeeze=False)
    return fig, list(axes[0])


def heatmap(ax, matrix: np.ndarray, rows: Sequence[str], cols: Sequence[str], title: str,
            vmin: float = 0.0, vmax: float | None = None) -> None:
    """Annotated heatmap of a (rows × cols) matrix."""
    m = np.asarray(matrix, dtype=float)
    im = ax.imshow(m, cmap="viridis", vmin=vmin, vmax=vmax if vmax is not None else max(float(m.max()), 1e-12),
                   aspect="auto")
    ax.set_xticks(range(len(cols)), list(cols), rotation=45, ha="right")
    ax.set_yticks(range(len(rows)), list(rows))
    ax.set_title(title)
    if m.size <= 200:
        for (i, j), v in np.ndenumerate(m):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", color="w" if v < 0.6 * m.max() else "k",
                    fontsize=7)
    ax.figure.colorbar(im, ax=ax, fraction=0.046)
