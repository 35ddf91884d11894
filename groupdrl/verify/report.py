"""``verify``: the group-theory and the intuitive verdicts side by side."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from groupdrl._io import atomic_write
from groupdrl.verify._doc import to_html, to_markdown
from groupdrl.verify._plot import card, figure, heatmap, png
from groupdrl.verify._progress import Progress, step
from groupdrl.verify.encode import cached
from groupdrl.verify.group import GroupReport, verify_group
from groupdrl.verify.intuitive import SCORE_NAMES, IntuitiveReport, verify_intuitive

#: A subspace counts as axis-aligned when this share of it lies in its closest latent axes.
ALIGNED = 0.95


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

    def summary_blocks(self) -> list[tuple]:
        """The verdicts side by side with the numbers that decide them, and why they disagree (if they do)."""
        g, it = self.group, self.intuitive
        tol = g.tolerances
        if g.equivariance_error is None:
            group_numbers = "the latent is constant: nothing to judge"
        else:
            worst = max((max(g.equivariance_per_factor[n], g.equivariance_relative[n])
                         for n in g.equivariance_per_factor), default=0.0)
            own = None if g.leakage is None else float(np.diag(g.leakage).min())
            group_numbers = "; ".join(x for x in (
                f"largest equivariance error {_check(worst, tol['equivariance'], '≤')}",
                f"worst relation {_check(g.homomorphism_error, tol['homomorphism'], '≤')}",
                None if own is None else f"smallest share of a factor's change in its own subspace "
                                         f"{_check(own, 1 - tol['leakage'], '≥')}",
                None if g.dlsbd is None else f"D_LSBD {g.dlsbd['value']:.3g} (reported; 0 is best)") if x)
        intuitive_numbers = "; ".join(f"{SCORE_NAMES.get(k, k)} {_check(it.scores[k], t, '≥')}"
                                      for k, t in it.thresholds.items())
        verdict = {True: "disentangled ✓", False: "not disentangled ✗"}
        out: list[tuple] = [
            ("table", ["definition", "verdict", "the numbers that decide it"],
             [["group theory (Higgins et al. 2018)", verdict[bool(g.disentangled)], group_numbers],
              ["intuitive (Bengio et al. 2013)", verdict[bool(it.disentangled)], intuitive_numbers]]),
        ]
        out.append(("p", "The two definitions agree." if self.agree else f"**The definitions disagree.** "
                                                                         f"{self.disagreement()}"))
        return out

    def disagreement(self) -> str:
        """Why the two verdicts differ, in plain words (empty when they agree)."""
        g, it = self.group, self.intuitive
        if self.agree:
            return ""
        if g.disentangled:
            wide = [f"{n} ({d}-D)" for n, d in zip(g.factor_names, g.subspace_dims) if d > 1]
            low = " and ".join(SCORE_NAMES.get(k, k) for k in it.failed) or "the dimension-wise scores"
            turned = {n: a for n, a in zip(g.factor_names, axis_alignment(g.subspaces)) if a < ALIGNED}
            text = ("The code is linearly disentangled: each factor moves its own subspace of the latent space and "
                    "acts there as a linear map. The intuitive scores are computed per latent dimension, so they "
                    "also ask that each of those subspaces be a single latent axis.")
            if wide:
                text += (f" Here {', '.join(wide)} {'is' if len(wide) == 1 else 'are'} held by a subspace of more "
                         "than one dimension — a cyclic or rotation factor needs one, e.g. a (cos, sin) pair, since "
                         "it has no faithful 1-D linear action — and each dimension carries only part of the "
                         f"factor's information, so {low}, which look{'s' if len(it.failed) == 1 else ''} for one "
                         "dimension per factor, come" + ("s" if len(it.failed) == 1 else "") + " out low.")
            if turned:
                text += (" The subspaces of " + ", ".join(f"{n} (alignment {a:.2f})" for n, a in turned.items())
                         + " are turned against the latent axes: a rotation of the latent space lowers the "
                           "dimension-wise scores without changing the formal verdict.")
            return text + (" This disagreement is expected: the formal definition is vector-wise (subspaces), "
                           "the metrics are dimension-wise (axes).")
        titles = " ".join(e["title"] for e in g.explanations())
        return ("Every latent dimension follows one factor, which is what the intuitive scores check; the formal "
                "definition also asks that each move of a factor act on the code as one linear map, and here it "
                f"does not: {titles} A typical case is a cyclic factor encoded on a line: it passes every "
                "dimension-wise score and fails the formal definition, since a line cannot wrap around.")

    def blocks(self) -> list[tuple]:
        """The whole report as blocks of :mod:`groupdrl.verify._doc`."""
        return [("h", 1, "Disentanglement report"), *self.summary_blocks(), *self.group.blocks(2),
                *self.intuitive.blocks(2)]

    def to_markdown(self) -> str:
        """Markdown: both verdicts with their thresholds, what failed in plain words, counterexamples, numbers."""
        return to_markdown(self.blocks())

    def to_html(self, images: dict[str, bytes] | None = None) -> str:
        """One self-contained HTML page: the Markdown report's content with the figures embedded (base64 PNG).

        ``images`` (from :meth:`figures`) reuses figures already rendered."""
        images = images if images is not None else self.figures()
        blocks = [("h", 1, "Disentanglement report"), *self.summary_blocks(),
                  ("img", "report card and matrices", images["report.png"]), *self.group.blocks(2),
                  ("img", "group-theory definition", images["group.png"]), *self.intuitive.blocks(2),
                  ("img", "intuitive definition", images["intuitive.png"])]
        return to_html(blocks, "Disentanglement report")

    def figures(self) -> dict[str, bytes]:
        """The three figures as PNG bytes: ``report.png`` (:meth:`plot`), ``group.png``, ``intuitive.png``."""
        return {"report.png": png(self.plot()), "group.png": png(self.group.plot()),
                "intuitive.png": png(self.intuitive.plot())}

    def plot(self):
        """One figure: the report card (every judged number, failing ones red) next to the leakage matrix
        (group) and the MI and traversal matrices (intuitive)."""
        names = list(self.intuitive.factor_names)
        d = self.intuitive.normalized_mi.shape[0]
        latents = [f"z{j}" for j in range(d)]
        rows = [(f"group: {n}", v, r, ok) for n, v, r, ok in self.group.card_rows()] + \
            [(f"intuitive: {n}", v, r, ok) for n, v, r, ok in self.intuitive.card_rows()]
        fig, axes = figure(4, height=max(3.8, 0.5 + 0.24 * len(rows)), ratios=[1.6, 1, 1, 1])
        mark = {True: "✓", False: "✗"}
        card(axes[0], rows, f"report card — group {mark[bool(self.group.disentangled)]}, "
                            f"intuitive {mark[bool(self.intuitive.disentangled)]}")
        leak = self.group.leakage if self.group.leakage is not None else np.full((len(names),) * 2, np.nan)
        heatmap(axes[1], np.asarray(leak), names, [f"Z_{n}" for n in names], "group: leakage",
                xlabel="subspace", ylabel="factor moved", bar="share of the change", vmax=1.0)
        heatmap(axes[2], self.intuitive.normalized_mi, latents, names, "intuitive: mutual information",
                xlabel="factor", ylabel="latent dimension", bar="I(z_j; v) / H(v)", vmax=1.0)
        heatmap(axes[3], self.intuitive.traversal, latents, names, "intuitive: traversals",
                xlabel="factor", ylabel="latent dimension", bar="variance along the factor / total", vmax=1.0)
        return fig

    def save(self, out_dir: str | os.PathLike) -> dict[str, Path]:
        """Write ``report.json``, ``report.md``, ``report.html`` (self-contained), ``report.png``, ``group.png`` and
        ``intuitive.png`` into ``out_dir``, each atomically and with the permissions of a new file (umask)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {name: out / name for name in ("report.json", "report.md", "report.html", "report.png", "group.png",
                                               "intuitive.png")}
        atomic_write(paths["report.json"], json.dumps(self.to_dict(), indent=2, default=_jsonable).encode())
        atomic_write(paths["report.md"], self.to_markdown().encode())
        images = self.figures()  # drawn once: the PNG files and the HTML page share them
        atomic_write(paths["report.html"], self.to_html(images).encode())
        for name, data in images.items():
            atomic_write(paths[name], data)
        return paths


def verify(encoder: Callable[[torch.Tensor], Any], world: Any, *, seed: int = 0,
           group_kwargs: dict[str, Any] | None = None, intuitive_kwargs: dict[str, Any] | None = None,
           progress: Progress | None = None) -> Report:
    """Judge ``encoder`` on ``world`` under both definitions (see :func:`verify_group`, :func:`verify_intuitive`).

    On a finite world each distinct state is encoded once for both halves (see ``encode_once`` of
    :func:`verify_intuitive`); ``progress`` (a callable taking a line of text, e.g. ``print``) hears
    the start and the time of each long part.
    """
    for name, kwargs in (("group_kwargs", group_kwargs), ("intuitive_kwargs", intuitive_kwargs)):
        if kwargs is not None and not isinstance(kwargs, dict):
            raise TypeError(f"{name}: expected a dict of keyword arguments, got {type(kwargs).__name__}")
    intuitive_kwargs = dict(intuitive_kwargs or {})
    if intuitive_kwargs.get("encode_once", True) is True:
        encoder = cached(encoder, world)
    with step(progress, "group-theory definition (verify_group)"):
        group = verify_group(encoder, world, seed=seed, **(group_kwargs or {}))
    intuitive = verify_intuitive(encoder, world, seed=seed, progress=progress, **intuitive_kwargs)
    return Report(group, intuitive)


def _jsonable(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, (np.floating, np.integer, np.bool_)):
        return x.item()
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def axis_alignment(subspaces: list[np.ndarray]) -> list[float]:
    """Per subspace (orthonormal basis ``(d, d_i)``): the share of it that lies in its ``d_i`` closest latent
    axes, 1 for an axis-aligned subspace (1 for an empty one)."""
    out = []
    for z in subspaces:
        k = z.shape[1]
        rows = np.sort((np.asarray(z) ** 2).sum(1))[::-1]
        out.append(float(rows[:k].sum() / k) if k else 1.0)
    return out


def _check(value: float | None, threshold: float, sense: str) -> str:
    if value is None:
        return "–"
    ok = value <= threshold if sense == "≤" else value >= threshold
    return f"{value:.3g} ({sense} {threshold:g}) {'✓' if ok else '✗'}"
