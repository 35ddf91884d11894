"""The intuitive (Bengio et al. 2013) definition: all standard metrics and a verdict."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch

from groupdrl.verify import metrics as M
from groupdrl.verify._plot import figure, heatmap
from groupdrl._checks import check_float
from groupdrl.verify.metrics._common import check_count, encode_states, sample_states, seeded

THRESHOLDS = {"mig": 0.3, "dci_disentanglement": 0.7, "factor_vae": 0.8}


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

    def to_markdown(self) -> str:
        lines = [f"### Intuitive definition: {'disentangled' if self.disentangled else 'not disentangled'}", "",
                 "| score | value | threshold |", "|---|---|---|"]
        for k, v in self.scores.items():
            t = self.thresholds.get(k)
            lines.append(f"| {k} | {v:.3f} | {'≥ %.2f' % t if t is not None else ''} |")
        lines += ["", "Latent traversal (factor that moves each latent): "
                  + ", ".join(f"z{j}→{f}" for j, f in enumerate(self.moved_by))]
        return "\n".join(lines) + "\n"

    def plot(self):
        """Normalised MI, DCI importance and traversal matrices, plus decoded traversals if a decoder was given."""
        d = self.normalized_mi.shape[0]
        latents = [f"z{j}" for j in range(d)]
        n = 4 if self.decoder is not None and self.codes is not None else 3
        fig, axes = figure(n)
        heatmap(axes[0], self.normalized_mi, latents, self.factor_names, "I(z; v) / H(v)", vmax=1.0)
        heatmap(axes[1], self.importance, latents, self.factor_names, "DCI importance")
        heatmap(axes[2], self.traversal, latents, self.factor_names, "traversal variance ratio", vmax=1.0)
        if n == 4:
            axes[3].imshow(traversal_grid(self.decoder, self.codes), cmap="gray")
            axes[3].set_title("decoded traversals (rows: z_j, −2σ…+2σ)")
            axes[3].axis("off")
        fig.tight_layout()
        return fig


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
                     dci_estimator: str = "hist") -> IntuitiveReport:
    """All intuitive metrics of ``encoder`` on ``world`` (disentanglement_lib defaults) and a verdict.

    Codes for MIG, SAP, DCI and modularity/explicitness are sampled once (``n_train`` then
    ``n_test`` states from a generator seeded by ``seed``); BetaVAE and FactorVAE scores draw
    their own factor-fixed batches. ``decoder`` (latent -> images in [0, 1]) adds decoded
    traversals to ``plot()``.
    """
    if thresholds is not None and not isinstance(thresholds, dict):
        raise TypeError(f"thresholds: expected a dict {{score name: threshold}}, got {type(thresholds).__name__}")
    thresholds = {k: check_float(v, f"thresholds[{k!r}]") for k, v in (THRESHOLDS if thresholds is None
                                                                        else thresholds).items()}
    gen = seeded(seed)
    train_states = sample_states(world, check_count(n_train, "n_train"), gen)
    test_states = sample_states(world, check_count(n_test, "n_test", 1), gen)
    codes = encode_states(encoder, world, train_states, batch_size)
    codes_test = encode_states(encoder, world, test_states, batch_size)
    f, ft = train_states.numpy(), test_states.numpy()
    arrays = dict(codes=codes, factors=f, codes_test=codes_test, factors_test=ft, seed=seed)
    mig = M.mig(codes=codes, factors=f, seed=seed)
    sap = M.sap(**arrays)
    dci = M.dci(**arrays, estimator=dci_estimator)
    mod = M.modularity_explicitness(**arrays)
    bv = M.beta_vae_score(encoder, world, n_train=n_train, n_eval=n_test, seed=seed, batch_size=batch_size)
    fv = M.factor_vae_score(encoder, world, n_train=n_train, n_eval=n_test, seed=seed, batch_size=batch_size)
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
        moved_by=moved_by, settings={"n_train": n_train, "n_test": n_test, "seed": seed, "dci_estimator": dci_estimator},
        decoder=decoder, codes=codes,
    )
