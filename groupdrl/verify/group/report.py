"""``GroupReport``: the verdict of :func:`~groupdrl.verify.group.verify_group` and the numbers behind it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


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
            "seed": self.seed, "equivariance_error": self.equivariance_error,
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

    def to_markdown(self) -> str:
        """A Markdown report: verdict, reasons, errors, leakage matrix, subspaces, D_LSBD."""
        def f(x) -> str:
            return "–" if x is None else (f"{x:.3g}" if isinstance(x, (float, np.floating)) else str(x))

        lines = ["# Group-theory disentanglement (Higgins et al. 2018)", "",
                 f"**Verdict: {'disentangled' if self.disentangled else 'not disentangled'}** "
                 f"({'linear' if self.linear else 'general'} definition; d = {self.latent_dim}, "
                 f"{self.n_pairs} pairs, seed {self.seed})", ""]
        if self.reasons:
            lines += ["Reasons:", ""] + [f"- {r}" for r in self.reasons] + [""]
        lines += ["| factor | equivariance error | relative to V_i | dim Z_i | unassigned share |",
                  "|---|---|---|---|---|"]
        for i, n in enumerate(self.factor_names):
            dim = self.subspace_dims[i] if self.subspaces else None
            un = None if self.unassigned is None else float(self.unassigned[i])
            lines.append(f"| {n} | {f(self.equivariance_per_factor.get(n))} | {f(self.equivariance_relative.get(n))} "
                         f"| {f(dim)} | {f(un)} |")
        lines += ["", f"Equivariance error (pooled): {f(self.equivariance_error)}; "
                      f"homomorphism error (worst relation): {f(self.homomorphism_error)}; "
                      f"smallest principal angle: {f(self.min_principal_angle)} rad", ""]
        if self.leakage is not None:
            lines += ["Leakage L[i, j] (row: acting factor, column: subspace):", "",
                      "| | " + " | ".join(self.factor_names) + " |", "|---" * (len(self.factor_names) + 1) + "|"]
            for i, n in enumerate(self.factor_names):
                lines.append(f"| {n} | " + " | ".join(f"{v:.3f}" for v in self.leakage[i]) + " |")
            lines.append("")
        if self.dlsbd is not None:
            lines += [f"D_LSBD ≤ {self.dlsbd['value']:.4f} (frequencies {self.dlsbd['frequencies']}; "
                      f"{self.dlsbd['note']})", ""]
        if self.nonlinear is not None:
            lines += [f"General definition: collision defect {f(self.nonlinear['defect'])}, "
                      f"1-NN prediction error {f(self.nonlinear['knn_error'])}", ""]
        if self.counterexample is not None:
            c = self.counterexample
            lines += [f"Worst pair: state {c['state']}, {c['factor']} = {c['element']}, error {f(c['error'])}", ""]
        lines += [f"Tolerances: {self.tolerances}", ""] + [f"Note: {n}" for n in self.notes]
        return "\n".join(lines).rstrip() + "\n"

    def plot(self):
        """A matplotlib Figure: the leakage heatmap and, per factor, the first two coordinates of
        the latents in ``Z_i`` coloured by that factor's value (an orbit plot)."""
        from matplotlib.figure import Figure

        k = len(self.factor_names)
        fig = Figure(figsize=(3.2 * (k + 1), 3.2), layout="constrained")
        axes = fig.subplots(1, k + 1, squeeze=False)[0]
        ax = axes[0]
        if self.leakage is not None:
            im = ax.imshow(self.leakage, vmin=0, vmax=1, cmap="viridis")
            ax.set_xticks(range(k), self.factor_names)
            ax.set_yticks(range(k), self.factor_names)
            for i in range(k):
                for j in range(k):
                    ax.text(j, i, f"{self.leakage[i, j]:.2f}", ha="center", va="center", color="w", fontsize=8)
            fig.colorbar(im, ax=ax, shrink=0.8)
        ax.set_title("leakage (row acts, column Z)")
        latents, states = self._plot_data.get("latents"), self._plot_data.get("states")
        for i, name in enumerate(self.factor_names):
            ax = axes[i + 1]
            ax.set_title(f"Z_{name}")
            if latents is None or i >= len(self.projectors) or not self.subspaces[i].shape[1]:
                ax.text(0.5, 0.5, "no subspace", ha="center", va="center", transform=ax.transAxes)
                continue
            coords = (latents - self.centre) @ self.projectors[i].T @ self.subspaces[i]
            y = coords[:, 1] if coords.shape[1] > 1 else np.zeros(len(coords))
            ax.scatter(coords[:, 0], y, c=states[:, i], s=6, cmap="twilight")
            ax.set_aspect("equal", adjustable="datalim")
        return fig
