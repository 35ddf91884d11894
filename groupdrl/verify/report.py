"""``verify``: the group-theory and the intuitive verdicts side by side."""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from groupdrl.verify._plot import figure, heatmap
from groupdrl.verify.group import GroupReport, verify_group
from groupdrl.verify.intuitive import IntuitiveReport, verify_intuitive


@dataclass
class Report:
    """Both definitions for one encoder on one world: ``report.group`` and ``report.intuitive``."""

    group: GroupReport
    intuitive: IntuitiveReport

    @property
    def agree(self) -> bool:
        """Whether the two definitions give the same verdict."""
        return bool(self.group.disentangled) == bool(self.intuitive.disentangled)

    def to_dict(self) -> dict[str, Any]:
        return {"group": self.group.to_dict(), "intuitive": self.intuitive.to_dict(), "agree": self.agree}

    def to_markdown(self) -> str:
        verdict = {True: "disentangled", False: "not disentangled"}
        s = self.intuitive.scores
        lines = [
            "## Disentanglement report", "",
            "| definition | verdict | key numbers |", "|---|---|---|",
            f"| group theory (Higgins et al. 2018) | {verdict[bool(self.group.disentangled)]} | "
            f"equivariance error {_num(self.group.equivariance_error)}, max off-diagonal leakage "
            f"{_offdiag(self.group.leakage)}, D_LSBD {_num((self.group.dlsbd or {}).get('value'))} |",
            f"| intuitive (Bengio et al. 2013) | {verdict[bool(self.intuitive.disentangled)]} | "
            f"MIG {s['mig']:.3f}, DCI-D {s['dci_disentanglement']:.3f}, FactorVAE {s['factor_vae']:.3f} |",
            "",
            "The definitions agree." if self.agree else
            "The definitions disagree: the formal one judges the action of the group on the latent space, "
            "the intuitive one the alignment of single latents with factors (e.g. a rotated but equivariant "
            "code is disentangled formally and not intuitively; an axis-aligned line code of a cyclic factor is "
            "the reverse).",
            "",
            self.group.to_markdown(),
            "",
            self.intuitive.to_markdown(),
        ]
        return "\n".join(lines)

    def plot(self):
        """One figure: leakage matrix (group) next to the MI, importance and traversal matrices (intuitive)."""
        names = list(self.intuitive.factor_names)
        d = self.intuitive.normalized_mi.shape[0]
        latents = [f"z{j}" for j in range(d)]
        fig, axes = figure(4)
        leak = self.group.leakage if self.group.leakage is not None else np.full((len(names),) * 2, np.nan)
        heatmap(axes[0], np.asarray(leak), names, names, "group: leakage L[i, j]", vmax=1.0)
        heatmap(axes[1], self.intuitive.normalized_mi, latents, names, "intuitive: I(z; v)/H(v)", vmax=1.0)
        heatmap(axes[2], self.intuitive.importance, latents, names, "intuitive: DCI importance")
        heatmap(axes[3], self.intuitive.traversal, latents, names, "traversal variance ratio", vmax=1.0)
        fig.suptitle(f"group: {'✓' if self.group.disentangled else '✗'}   "
                     f"intuitive: {'✓' if self.intuitive.disentangled else '✗'}")
        fig.tight_layout()
        return fig

    def save(self, out_dir: str | os.PathLike) -> dict[str, Path]:
        """Write ``report.json``, ``report.md``, ``report.png``, ``group.png`` and ``intuitive.png`` (atomically)."""
        import matplotlib.pyplot as plt

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {name: out / name for name in ("report.json", "report.md", "report.png", "group.png",
                                               "intuitive.png")}
        _atomic_text(paths["report.json"], json.dumps(self.to_dict(), indent=2, default=_jsonable))
        _atomic_text(paths["report.md"], self.to_markdown())
        for name, fig in (("report.png", self.plot()), ("group.png", self.group.plot()),
                          ("intuitive.png", self.intuitive.plot())):
            fig.savefig(paths[name], dpi=90)
            plt.close(fig)
        return paths


def verify(encoder: Callable[[torch.Tensor], Any], world: Any, *, seed: int = 0,
           group_kwargs: dict[str, Any] | None = None, intuitive_kwargs: dict[str, Any] | None = None) -> Report:
    """Judge ``encoder`` on ``world`` under both definitions (see :func:`verify_group`, :func:`verify_intuitive`)."""
    for name, kwargs in (("group_kwargs", group_kwargs), ("intuitive_kwargs", intuitive_kwargs)):
        if kwargs is not None and not isinstance(kwargs, dict):
            raise TypeError(f"{name}: expected a dict of keyword arguments, got {type(kwargs).__name__}")
    group = verify_group(encoder, world, seed=seed, **(group_kwargs or {}))
    intuitive = verify_intuitive(encoder, world, seed=seed, **(intuitive_kwargs or {}))
    return Report(group, intuitive)


def _num(x: Any) -> str:
    return "n/a" if x is None else f"{float(x):.3g}"


def _offdiag(leakage: Any) -> str:
    m = np.asarray(leakage if leakage is not None else [], dtype=float)
    if m.size == 0:
        return "n/a"
    return f"{float((m - np.diag(np.diag(m))).max()):.3f}"


def _jsonable(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, (np.floating, np.integer, np.bool_)):
        return x.item()
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def _atomic_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)
