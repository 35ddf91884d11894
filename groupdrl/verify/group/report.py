"""``GroupReport``: the verdict of :func:`~groupdrl.verify.group.verify_group` and the numbers behind it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from groupdrl.verify._doc import to_markdown
from groupdrl.verify._plot import figure, heatmap
from groupdrl.verify.group.explain import counterexample_sentence, explain_failure, leakage_example


def _mark(value: float | None, threshold: float, sense: str) -> str:
    """``0.464 ✗`` / ``0.01 ✓``: a number and whether it meets its threshold (``sense`` ``≤`` or ``≥``)."""
    if value is None:
        return "–"
    ok = value <= threshold if sense == "≤" else value >= threshold
    return f"{value:.3g} {'✓' if ok else '✗'}"


def _json(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json(v) for v in x]
    if isinstance(x, np.ndarray):
        return _json(x.tolist())
    if isinstance(x, (np.floating, float)):
        return None if not np.isfinite(x) else float(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.bool_,)):
        return bool(x)
    return x


@dataclass
class GroupReport:
    """Is ``h`` a (linearly) disentangled representation w.r.t. ``G = G_1 × … × G_k`` (Higgins et al. 2018)?

    Attributes
    ----------
    disentangled : bool
        The verdict; ``reasons`` lists every failed condition (empty when disentangled).
    linear : bool
        Whether the linear definition (§6) was judged, or the general one (§5, ``linear=False``).
    factor_names : tuple of str
    equivariance_error : float or None
        Pooled ``E‖h(g·x) − c − ρ(g)(h(x) − c)‖² / E‖h(x) − h̄‖²`` over all sampled pairs;
        ``equivariance_per_factor`` per factor subgroup, ``equivariance_per_element`` per element;
        ``equivariance_relative`` per factor divided by the variance ``V_i`` that ``G_i`` moves
        instead of the total variance.
    homomorphism_error : float or None
        Largest relation error; ``relations`` lists each checked relation with its error.
    leakage : (k, k) ndarray or None
        ``L[i, j]`` = share of the latent change under ``G_i`` that falls in ``Z_j`` (factor order);
        ``unassigned[i]`` = share falling in no ``Z_j``.
    subspaces : list of (d, d_i) ndarray
        Orthonormal bases of ``Z_1 … Z_k`` (a ``d_i = 0`` basis when a factor has none).
    min_principal_angle : float or None
        Smallest principal angle (radians) between two subspaces, and ``min_angle_pair``.
    dlsbd : dict or None
        D_LSBD upper bound (value, per factor, fitted frequencies, note), for worlds of periodic cyclic
        and SO(2) factors (a product of circles, where Tonnaer et al. define it).
    nonlinear : dict or None
        Scores of the general definition (``defect``, ``knn_error``, ``collisions``).
    counterexample : dict or None
        The pair with the largest equivariance residual: state, factor, element (its key: the index
        in ``elements()`` of a finite group, the position among the sampled elements of a Lie group,
        and ``element_value``) and error.
    centre : (d,) ndarray or None
        Origin ``c`` of the linear action; ``generators`` maps each factor to ρ of its first generator
        (d × d), ``generator_maps`` to ρ of each of its generators (in ``generators()`` order).
    faithful : dict
        Per finite factor whose fitted maps are an action (equivariant, relations hold), whether it is
        faithful (ρ(g) ≠ I for g ≠ e; reported, not judged); ``None`` otherwise and for Lie factors.
    projectors : list of (d, d) ndarray
        Oblique projections onto each ``Z_i`` along the other subspaces and the fixed part.
    tolerances : dict
    notes : list of str
    """

    disentangled: bool
    reasons: list[str]
    linear: bool
    factor_names: tuple[str, ...]
    latent_dim: int
    total_variance: float
    tolerances: dict
    n_pairs: int = 0
    seed: int = 0
    failures: list = field(default_factory=list)
    factor_groups: dict = field(default_factory=dict)
    equivariance_error: float | None = None
    equivariance_per_factor: dict = field(default_factory=dict)
    equivariance_relative: dict = field(default_factory=dict)
    equivariance_per_element: dict = field(default_factory=dict)
    homomorphism_error: float | None = None
    relations: list = field(default_factory=list)
    leakage: np.ndarray | None = None
    unassigned: np.ndarray | None = None
    subspaces: list = field(default_factory=list)
    min_principal_angle: float | None = None
    min_angle_pair: tuple | None = None
    entangled_pieces: list = field(default_factory=list)
    dlsbd: dict | None = None
    nonlinear: dict | None = None
    counterexample: dict | None = None
    centre: np.ndarray | None = None
    generators: dict = field(default_factory=dict)
    generator_maps: dict = field(default_factory=dict)
    faithful: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    projectors: list = field(default_factory=list, repr=False)
    _plot_data: dict = field(default_factory=dict, repr=False)

    @property
    def subspace_dims(self) -> list[int]:
        return [int(z.shape[1]) for z in self.subspaces]

    def to_dict(self) -> dict:
        """JSON-serialisable summary (no plot data; non-finite numbers become ``None``)."""
        out = {
            "disentangled": self.disentangled, "reasons": self.reasons, "linear": self.linear,
            "factor_names": list(self.factor_names), "latent_dim": self.latent_dim,
            "total_variance": self.total_variance, "tolerances": self.tolerances, "n_pairs": self.n_pairs,
            "seed": self.seed, "failures": self.failures, "factor_groups": self.factor_groups,
            "explanations": self.explanations(), "counterexamples": self.counterexamples(),
            "equivariance_error": self.equivariance_error,
            "equivariance_per_factor": self.equivariance_per_factor,
            "equivariance_relative": self.equivariance_relative,
            "equivariance_per_element": self.equivariance_per_element,
            "homomorphism_error": self.homomorphism_error, "relations": self.relations,
            "leakage": self.leakage, "unassigned": self.unassigned,
            "subspaces": self.subspaces, "subspace_dims": self.subspace_dims,
            "min_principal_angle": self.min_principal_angle, "min_angle_pair": self.min_angle_pair,
            "entangled_pieces": self.entangled_pieces, "dlsbd": self.dlsbd, "nonlinear": self.nonlinear,
            "counterexample": self.counterexample, "centre": self.centre,
            "generators": self.generators, "generator_maps": self.generator_maps, "faithful": self.faithful,
            "notes": self.notes,
        }
        return _json(out)

    def summary(self) -> str:
        """One paragraph: the verdict and its reasons."""
        head = ("disentangled" if self.disentangled else "NOT disentangled") + \
            f" ({'linear' if self.linear else 'general'} definition, factors {', '.join(self.factor_names)})"
        return head + ("" if self.disentangled else ":\n- " + "\n- ".join(self.reasons))

    def explanations(self) -> list[dict[str, str]]:
        """Each failed condition in plain words: ``{"title", "what", "consequence", "try"}`` (see :mod:`.explain`)."""
        return [explain_failure(f, self) for f in self.failures]

    def counterexamples(self) -> list[str]:
        """Sentences that show the failure on concrete states: the pair with the largest equivariance residual
        (when equivariance or the relations fail) and, per leaking factor, a move that changes another factor's
        code. Empty when the verdict is disentangled."""
        if self.disentangled:
            return []
        kinds = {f["kind"] for f in self.failures}
        out = []
        if kinds & {"equivariance", "homomorphism"}:
            out.append(counterexample_sentence(self))
        for f in self.failures:
            if f["kind"] == "leakage":
                out.append(leakage_example(self, f["factor"]))
        return [s for s in out if s]

    def blocks(self, level: int = 2) -> list[tuple]:
        """The report as blocks of :mod:`groupdrl.verify._doc` (Markdown and HTML are written from them)."""
        def f(x) -> str:
            return "–" if x is None else (f"{x:.3g}" if isinstance(x, (float, np.floating)) else str(x))

        tol = self.tolerances
        groups = ", ".join(f"{n}: {self.factor_groups.get(n, '?')}" for n in self.factor_names)
        out: list[tuple] = [
            ("h", level, f"Group-theory definition (Higgins et al. 2018): "
                         f"**{'disentangled' if self.disentangled else 'not disentangled'}**"),
            ("p", f"{'Linear' if self.linear else 'General'} definition; factors {groups}; latent dimension "
                  f"d = {self.latent_dim}; {self.n_pairs} pairs (state, move); seed {self.seed}."),
        ]
        if self.failures:
            out += [("h", level + 1, "What failed, in plain words"),
                    ("olist", [(f"**{e['title']}** {e['what']}", [f"Consequence: {e['consequence']}",
                                                                  f"What to try: {e['try']}"])
                               for e in self.explanations()])]
        examples = self.counterexamples()
        if examples:
            out += [("h", level + 1, "Counterexample"), *[("p", e) for e in examples]]
        if self.equivariance_error is None:
            return out
        out.append(("h", level + 1, "The numbers"))
        leak_tol = 1 - tol["leakage"]
        rows = []
        for i, n in enumerate(self.factor_names):
            dim = self.subspace_dims[i] if self.subspaces else None
            own = None if self.leakage is None else float(self.leakage[i, i])
            un = None if self.unassigned is None else float(self.unassigned[i])
            err, rel = self.equivariance_per_factor.get(n), self.equivariance_relative.get(n)
            rows.append([n, self.factor_groups.get(n, "?"), _mark(err, tol["equivariance"], "≤"),
                         _mark(rel, tol["equivariance"], "≤"), f(dim), _mark(own, leak_tol, "≥"), f(un)])
        out.append(("table", ["factor", "group", f"equivariance error (≤ {tol['equivariance']:g})",
                              f"relative to the variance it moves (≤ {tol['equivariance']:g})", "dim Z_i",
                              f"share of its change in Z_i (≥ {leak_tol:g})", "share in no Z_j"], rows))
        out.append(("p", f"Homomorphism error (worst relation): {_mark(self.homomorphism_error, tol['homomorphism'], '≤')}"
                          f" (≤ {tol['homomorphism']:g}); smallest principal angle between two subspaces: "
                          f"{_mark(self.min_principal_angle, tol['angle'], '≥')} rad (≥ {tol['angle']:g}); pooled "
                          f"equivariance error {f(self.equivariance_error)}."))
        if self.leakage is not None and len(self.factor_names) > 1:
            out += [("p", "Leakage L[i, j]: the share of the change of the code under the row's factor that falls "
                          "in the column's subspace (1 on the diagonal, 0 elsewhere for a disentangled code)."),
                    ("table", ["acts \\ subspace", *[f"Z_{n}" for n in self.factor_names]],
                     [[n, *(f"{v:.3f}" for v in self.leakage[i])] for i, n in enumerate(self.factor_names)])]
        extra = []
        if self.dlsbd is not None:
            extra.append(f"D_LSBD ≤ {self.dlsbd['value']:.4f} (fitted frequencies "
                         f"{self.dlsbd['frequencies']}; {self.dlsbd['note']})")
        if self.nonlinear is not None:
            extra.append(f"General definition: collision defect {f(self.nonlinear['defect'])}, 1-NN prediction "
                         f"error {f(self.nonlinear['knn_error'])}")
        extra += [f"Note: {n}" for n in self.notes]
        if extra:
            out.append(("list", extra))
        return out

    def to_markdown(self) -> str:
        """A Markdown report: verdict, what failed in plain words, a counterexample sentence, the numbers."""
        return to_markdown(self.blocks())

    def plot(self):
        """A matplotlib Figure: the leakage heatmap and, per factor, the latents projected on ``Z_i``
        coloured by that factor's value (an orbit plot: a circle for a well-encoded cyclic factor; for a
        1-D ``Z_i`` its coordinate against the factor's value)."""
        k = len(self.factor_names)
        fig, axes = figure(k + 1, width=3.6, height=3.6)
        ax = axes[0]
        failing = {f.get("factor") for f in self.failures}
        if self.leakage is not None:
            heatmap(ax, self.leakage, self.factor_names, [f"Z_{n}" for n in self.factor_names],
                    "leakage L[i, j]", xlabel="subspace", ylabel="factor moved",
                    bar="share of the change", vmax=1.0)
        else:
            ax.axis("off")
            ax.set_title("no leakage (no errors computed)")
        latents, states = self._plot_data.get("latents"), self._plot_data.get("states")
        for i, name in enumerate(self.factor_names):
            ax = axes[i + 1]
            mark = " ✗" if name in failing else ""
            if latents is None or i >= len(self.projectors) or not self.subspaces[i].shape[1]:
                ax.set_title(f"Z_{name}{mark}")
                ax.text(0.5, 0.5, f"no subspace moved by {name} alone", ha="center", va="center",
                        transform=ax.transAxes)
                ax.set_xticks([])
                ax.set_yticks([])
                continue
            coords = (latents - self.centre) @ self.projectors[i].T @ self.subspaces[i]
            group = self.factor_groups.get(name, "")
            cyclic = "bounded" not in group and not group.startswith("SO(3)")
            cmap = "twilight" if cyclic else "viridis"
            what = f"{name} (angle of rotation)" if group.startswith("SO(3)") else name
            if coords.shape[1] > 1:
                points = ax.scatter(coords[:, 0], coords[:, 1], c=states[:, i], s=8, cmap=cmap)
                ax.set_aspect("equal", adjustable="datalim")
                ax.set_xlabel(f"Z_{name} coordinate 1")
                ax.set_ylabel(f"Z_{name} coordinate 2")
                ax.set_title(f"Z_{name} ({coords.shape[1]}-D){mark}")
            else:
                points = ax.scatter(coords[:, 0], states[:, i], c=states[:, i], s=8, cmap=cmap)
                ax.set_xlabel(f"Z_{name} coordinate (1-D)")
                ax.set_ylabel(what)
                ax.set_title(f"Z_{name} (1-D: a line){mark}")
            fig.colorbar(points, ax=ax, fraction=0.046).set_label(what)
        return fig

    def card_rows(self) -> list[tuple[str, str, str, bool | None]]:
        """The report-card rows of the group-theory verdict (see :func:`groupdrl.verify._plot.card`)."""
        tol = self.tolerances
        if self.equivariance_error is None:
            return [("latent varies", "no", "yes", False)]
        rows = []
        for n in self.factor_names:
            if n in self.equivariance_per_factor:
                e = max(self.equivariance_per_factor[n], self.equivariance_relative[n])
                rows.append((f"equivariance error, {n}", f"{e:.3g}", f"≤ {tol['equivariance']:g}",
                             e <= tol["equivariance"]))
        rows.append(("worst relation error", f"{self.homomorphism_error:.3g}", f"≤ {tol['homomorphism']:g}",
                     self.homomorphism_error <= tol["homomorphism"]))
        if self.leakage is not None:
            for i, n in enumerate(self.factor_names):
                own = float(self.leakage[i, i])
                rows.append((f"share of {n}'s change in Z_{n}", f"{own:.3f}", f"≥ {1 - tol['leakage']:g}",
                             own >= 1 - tol["leakage"]))
        if self.min_principal_angle is not None:
            rows.append(("smallest angle between subspaces", f"{self.min_principal_angle:.3g} rad",
                         f"≥ {tol['angle']:g}", self.min_principal_angle >= tol["angle"]))
        if self.dlsbd is not None:
            rows.append(("D_LSBD (reported)", f"{self.dlsbd['value']:.3f}", "0 is best", None))
        return rows
