"""The intuitive (Bengio et al. 2013) definition: all standard metrics and a verdict."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch

from groupdrl.verify import metrics as M
from groupdrl._checks import check_float
from groupdrl.verify._doc import to_markdown
from groupdrl.verify._plot import figure, heatmap
from groupdrl.verify._progress import Progress, step
from groupdrl.verify.binned import binned
from groupdrl.verify.encode import cached
from groupdrl.verify.metrics._common import check_count, encode_states, sample_states, seeded

THRESHOLDS = {"mig": 0.3, "dci_disentanglement": 0.7, "factor_vae": 0.8}
#: Names of the scores in reports.
SCORE_NAMES = {"beta_vae": "BetaVAE score", "factor_vae": "FactorVAE score", "mig": "MIG", "sap": "SAP",
               "dci_disentanglement": "DCI disentanglement", "dci_completeness": "DCI completeness",
               "dci_informativeness": "DCI informativeness", "modularity": "modularity", "explicitness": "explicitness"}
#: What each score measures, in one line.
SCORE_MEANING = {
    "beta_vae": "a linear classifier tells which factor was held fixed from |z − z'| of pairs that share it",
    "factor_vae": "holding a factor fixed makes one latent dimension, the same each time, the least variable",
    "mig": "per factor: gap between the two latent dimensions with most mutual information about it, / its entropy",
    "sap": "per factor: gap between the two dimensions that best predict it alone (linear SVM accuracy)",
    "dci_disentanglement": "each latent dimension is important for predicting one factor only (boosted trees)",
    "dci_completeness": "each factor is predicted from one latent dimension only",
    "dci_informativeness": "accuracy of predicting the factors from the whole code",
    "modularity": "each latent dimension has mutual information with one factor only",
    "explicitness": "ROC-AUC of a linear classifier of each factor from the whole code",
}


@dataclass
class IntuitiveReport:
    """Scores of the intuitive definition, the matrices behind them and a verdict.

    ``disentangled`` is True when every score named in ``thresholds`` reaches its threshold
    (defaults: MIG ≥ 0.3, DCI disentanglement ≥ 0.7, FactorVAE score ≥ 0.8 — a common
    reading of these metrics, not a theorem; pass ``thresholds=`` to change it).
    """

    scores: dict[str, float]
    thresholds: dict[str, float]
    factor_names: tuple[str, ...]
    normalized_mi: np.ndarray
    importance: np.ndarray
    traversal: np.ndarray
    moved_by: list[str]
    settings: dict[str, Any] = field(default_factory=dict)
    decoder: Callable[[torch.Tensor], torch.Tensor] | None = field(default=None, repr=False)
    codes: np.ndarray | None = field(default=None, repr=False)

    @property
    def disentangled(self) -> bool:
        return all(self.scores[k] >= t for k, t in self.thresholds.items())

    @property
    def failed(self) -> list[str]:
        """The scores below their threshold."""
        return [k for k, t in self.thresholds.items() if self.scores[k] < t]

    def to_dict(self) -> dict[str, Any]:
        return {
            "disentangled": self.disentangled,
            "scores": dict(self.scores),
            "thresholds": dict(self.thresholds),
            "failed": self.failed,
            "factor_names": list(self.factor_names),
            "normalized_mi": self.normalized_mi.tolist(),
            "importance": self.importance.tolist(),
            "traversal_variance_ratio": self.traversal.tolist(),
            "latent_moved_by": self.moved_by,
            "settings": dict(self.settings),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def explanations(self) -> list[str]:
        """Each score below its threshold in plain words, with the factor and latents behind it."""
        out = []
        names = self.factor_names
        for k in self.failed:
            head = f"**{SCORE_NAMES.get(k, k)} {self.scores[k]:.3f} < {self.thresholds[k]:g}.**"
            if k == "mig" and self.normalized_mi.size:
                top = np.sort(self.normalized_mi, axis=0)[::-1]
                second = top[1] if len(top) > 1 else np.zeros(top.shape[1])
                j = int(np.argmin(top[0] - second))
                order = np.argsort(self.normalized_mi[:, j])[::-1]
                pair = " and ".join(f"{self.normalized_mi[z, j]:.2f} (z{int(z)})" for z in order[:2])
                out.append(f"{head} MIG asks, per factor, that one latent dimension carry much more information about "
                           f"it than any other. For {names[j]} the two most informative dimensions carry {pair} of "
                           f"its entropy: {names[j]} is spread over several dimensions (or over none).")
            elif k == "dci_disentanglement":
                mixed = [f"z{i}" for i, row in enumerate(self.importance)
                         if row.sum() > 0 and (row > 0.2 * row.sum()).sum() > 1]
                out.append(f"{head} DCI disentanglement asks that each latent dimension be used to predict one factor "
                           f"only (gradient-boosted trees, importance per dimension); "
                           + (f"{', '.join(mixed)} are used for several factors." if mixed else
                              "the importance of the dimensions is spread over the factors."))
            elif k == "factor_vae":
                out.append(f"{head} The FactorVAE score fixes one factor and asks that one latent dimension — the same "
                           "for that factor every time — become the least variable; here the dimension that drops "
                           "does not identify the fixed factor reliably.")
            else:
                out.append(f"{head} {SCORE_MEANING.get(k, '')}")
        return out

    def blocks(self, level: int = 2) -> list[tuple]:
        """The report as blocks of :mod:`groupdrl.verify._doc` (Markdown and HTML are written from them)."""
        rule = ", ".join(f"{SCORE_NAMES.get(k, k)} ≥ {t:g}" for k, t in self.thresholds.items())
        out: list[tuple] = [
            ("h", level, f"Intuitive definition (Bengio et al. 2013): "
                         f"**{'disentangled' if self.disentangled else 'not disentangled'}**"),
            ("p", f"The verdict asks {rule} (a common reading of these metrics, not a theorem; change it with "
                  f"thresholds=). Every score is computed per latent dimension (axis-aligned)."),
        ]
        binning = self.settings.get("binning")
        if binning:
            out.append(("p", "Continuous factors are binned into classes for these metrics (cells of equal Haar "
                             "measure; fixing a factor fixes its cell): "
                             + "; ".join(f"{k}: {v}" for k, v in binning.items()) + "."))
        if self.failed:
            out += [("h", level + 1, "What failed, in plain words"), ("list", self.explanations())]
        rows = []
        for k, v in self.scores.items():
            t = self.thresholds.get(k)
            value = f"{v:.3f}" if t is None else f"{v:.3f} {'✓' if v >= t else '✗'}"
            rows.append([SCORE_NAMES.get(k, k), value, "–" if t is None else f"≥ {t:g}", SCORE_MEANING.get(k, "")])
        out += [("h", level + 1, "Scores"), ("table", ["score", "value", "threshold", "what it measures"], rows),
                ("p", "Latent traversal (the factor that moves each latent dimension most): "
                      + ", ".join(f"z{j} → {f}" for j, f in enumerate(self.moved_by)) + ".")]
        return out

    def to_markdown(self) -> str:
        """A Markdown report: verdict with its thresholds, failing scores in plain words, every score."""
        return to_markdown(self.blocks(3))

    def plot(self):
        """Normalised MI, DCI importance and traversal matrices (latent dimension × factor), plus decoded
        traversals if a decoder was given."""
        d = self.normalized_mi.shape[0]
        latents = [f"z{j}" for j in range(d)]
        n = 4 if self.decoder is not None and self.codes is not None else 3
        fig, axes = figure(n, height=max(3.0, 1.2 + 0.3 * d))
        labels = dict(xlabel="factor", ylabel="latent dimension")
        heatmap(axes[0], self.normalized_mi, latents, self.factor_names, "mutual information (MIG, modularity)",
                bar="I(z_j; v) / H(v)", vmax=1.0, **labels)
        heatmap(axes[1], self.importance, latents, self.factor_names, "DCI importance (boosted trees)",
                bar="importance", **labels)
        heatmap(axes[2], self.traversal, latents, self.factor_names, "traversals: which factor moves z_j",
                bar="variance along the factor / total", vmax=1.0, **labels)
        if n == 4:
            axes[3].imshow(traversal_grid(self.decoder, self.codes), cmap="gray")
            axes[3].set_title("decoded traversals (rows: z_j, −2σ…+2σ)")
            axes[3].axis("off")
        return fig

    def card_rows(self) -> list[tuple[str, str, str, bool | None]]:
        """The report-card rows of the intuitive scores (see :func:`groupdrl.verify._plot.card`)."""
        return [(SCORE_NAMES.get(k, k), f"{v:.3f}", f"≥ {self.thresholds[k]:g}" if k in self.thresholds else "–",
                 (v >= self.thresholds[k]) if k in self.thresholds else None) for k, v in self.scores.items()]


def traversal_grid(decoder: Callable[[torch.Tensor], torch.Tensor], codes: np.ndarray, steps: int = 7) -> np.ndarray:
    """Image grid: row j decodes the mean code with z_j swept over mean ± 2 std (values clipped to [0, 1])."""
    mean, std = codes.mean(0), codes.std(0)
    d = codes.shape[1]
    z = np.repeat(mean[None, None, :], steps, 1).repeat(d, 0)
    for j in range(d):
        z[j, :, j] = mean[j] + np.linspace(-2, 2, steps) * std[j]
    with torch.no_grad():
        img = decoder(torch.as_tensor(z.reshape(-1, d), dtype=torch.get_default_dtype()))
    img = img.detach().cpu().float().clamp(0, 1).numpy()
    if img.ndim != 4:
        raise ValueError(f"decoder: expected images (n, C, H, W), got shape {img.shape}")
    c, h, w = img.shape[1:]
    img = img.reshape(d, steps, c, h, w).transpose(0, 3, 1, 4, 2).reshape(d * h, steps * w, c)
    return img[..., 0] if c == 1 else img[..., :3]


def verify_intuitive(encoder: Callable[[torch.Tensor], Any], world: Any, *, n_train: int = 10000,
                     n_test: int = 5000, seed: int = 0, thresholds: dict[str, float] | None = None,
                     decoder: Callable[[torch.Tensor], torch.Tensor] | None = None, batch_size: int = 256,
                     dci_estimator: str = "hist", encode_once: bool = True,
                     progress: Progress | None = None) -> IntuitiveReport:
    """All intuitive metrics of ``encoder`` on ``world`` (disentanglement_lib defaults) and a verdict.

    Codes for MIG, SAP, DCI and modularity/explicitness are sampled once (``n_train`` then
    ``n_test`` states from a generator seeded by ``seed``); BetaVAE and FactorVAE scores draw
    their own factor-fixed batches. ``decoder`` (latent -> images in [0, 1]) adds decoded
    traversals to ``plot()``.

    A world with continuous factors (SO(2), tori, SO(3)) is seen through labels of cells of equal Haar
    measure (:mod:`groupdrl.verify.binned`: 16 arcs per angle; SO(3) in 6 axis cones × 4 angle bins), since
    the metrics need factor classes; the cells are listed in ``settings["binning"]``.

    ``encode_once`` (default): on a finite world each distinct state is encoded once and the metrics
    index that table (:func:`groupdrl.verify.encode.cached`) — exact for a deterministic encoder, and
    what keeps the BetaVAE and FactorVAE scores (2.9 million codes at the defaults) cheap; pass
    ``False`` for an encoder whose code should be drawn afresh on every call. ``progress`` (a callable
    taking a line of text) hears the start and the time of each metric.
    """
    if thresholds is not None and not isinstance(thresholds, dict):
        raise TypeError(f"thresholds: expected a dict {{score name: threshold}}, got {type(thresholds).__name__}")
    if not isinstance(encode_once, bool):
        raise TypeError(f"encode_once: expected a bool, got {type(encode_once).__name__}")
    thresholds = {k: check_float(v, f"thresholds[{k!r}]") for k, v in (THRESHOLDS if thresholds is None
                                                                        else thresholds).items()}
    binning = {}
    if not getattr(world, "is_finite", True):  # continuous factors: the metrics see labels of equal-mass cells
        world = binned(world, seed=seed)
        binning = world.describe()
    if encode_once:
        encoder = cached(encoder, world)
    gen = seeded(seed)
    with step(progress, f"intuitive: encoding {n_train} + {n_test} sampled states"):
        train_states = sample_states(world, check_count(n_train, "n_train"), gen)
        test_states = sample_states(world, check_count(n_test, "n_test", 1), gen)
        codes = encode_states(encoder, world, train_states, batch_size)
        codes_test = encode_states(encoder, world, test_states, batch_size)
    f, ft = train_states.numpy(), test_states.numpy()
    arrays = dict(codes=codes, factors=f, codes_test=codes_test, factors_test=ft, seed=seed)
    with step(progress, "intuitive: MIG, SAP, DCI, modularity"):
        mig = M.mig(codes=codes, factors=f, seed=seed)
        sap = M.sap(**arrays)
        dci = M.dci(**arrays, estimator=dci_estimator)
        mod = M.modularity_explicitness(**arrays)
    with step(progress, "intuitive: BetaVAE score"):
        bv = M.beta_vae_score(encoder, world, n_train=n_train, n_eval=n_test, seed=seed, batch_size=batch_size)
    with step(progress, "intuitive: FactorVAE score"):
        fv = M.factor_vae_score(encoder, world, n_train=n_train, n_eval=n_test, seed=seed, batch_size=batch_size)
    with step(progress, "intuitive: factor traversals"):
        trav = M.factor_traversal(encoder, world, seed=seed, batch_size=batch_size)
    scores = {
        "beta_vae": bv["eval_accuracy"],
        "factor_vae": fv["eval_accuracy"],
        "mig": mig["mig"],
        "sap": sap["sap"],
        "dci_disentanglement": dci["disentanglement"],
        "dci_completeness": dci["completeness"],
        "dci_informativeness": dci["informativeness_test"],
        "modularity": mod["modularity"],
        "explicitness": mod["explicitness_test"],
    }
    unknown = [k for k in thresholds if k not in scores]
    if unknown:
        raise ValueError(f"thresholds: unknown score(s) {unknown}; scores are {list(scores)}")
    entropy = mig["entropy"]
    nmi = np.divide(mig["mi_matrix"], entropy, out=np.zeros_like(mig["mi_matrix"]), where=entropy > 0)
    names = tuple(getattr(world, "factor_names", [f"v{i}" for i in range(f.shape[1])]))
    moved_by = [names[i] if i >= 0 else "-" for i in trav["moved_by"]]
    return IntuitiveReport(
        scores={k: float(v) for k, v in scores.items()}, thresholds=thresholds, factor_names=names,
        normalized_mi=nmi, importance=np.asarray(dci["importance_matrix"]), traversal=trav["variance_ratio"],
        moved_by=moved_by, settings={"n_train": n_train, "n_test": n_test, "seed": seed, "dci_estimator": dci_estimator,
                                     "encode_once": encode_once, "binning": binning},
        decoder=decoder, codes=codes,
    )
