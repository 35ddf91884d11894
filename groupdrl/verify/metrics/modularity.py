"""Modularity and explicitness (Ridgeway & Mozer 2018, "Learning Deep Disentangled Embeddings With the
F-Statistic Loss")."""
from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from ._common import (Encoder, fit_quietly, histogram_discretize, mutual_info_matrix, standardise, train_test,
                      varying)


def modularity_explicitness(encoder: Encoder | None = None, world: Any = None, *, codes: Any = None,
                            factors: Any = None, codes_test: Any = None, factors_test: Any = None,
                            n_train: int = 10000, n_test: int = 5000, num_bins: int = 20, seed: int = 0,
                            batch_size: int = 256) -> dict[str, Any]:
    r"""Modularity and explicitness scores, as computed by disentanglement_lib.

    Modularity, from the binned MI matrix :math:`m_{ik}` (as in :func:`mig`), per code
    :math:`i`: :math:`1 - \frac{\sum_k m_{ik}^2 - \max_k m_{ik}^2}{\max_k m_{ik}^2 (K-1)}`,
    averaged over codes; a code with no information scores 0. Explicitness: per factor a
    ``LogisticRegression()`` on the standardised codes, macro one-vs-rest ROC-AUC of its
    probabilities, averaged over factors.

    Differences from the reference code, so that no input gives NaN or an error: a
    constant code is standardised to 0 (the reference divides by its zero std), a class
    absent from the test set is left out of that factor's AUC and a factor constant in the test set
    out of ``explicitness_test`` (the reference crashes), and
    constant factors are left out (K counts varying factors; a single factor gives
    modularity 1 for every informative code).

    Parameters
    ----------
    encoder, world / codes, factors, codes_test, factors_test
        See :func:`dci` for the two calling forms and the train/test split.
    n_train, n_test : int
        Training / test points (10000 / 5000).

    Returns
    -------
    dict
        ``modularity``, ``explicitness_train``, ``explicitness_test`` (floats) and
        ``mi_matrix`` ((d, k) binned MI in nats on the training points).
    """
    c, f, ct, ft = train_test(encoder, world, codes, factors, codes_test, factors_test, n_train, n_test, seed,
                              batch_size)
    keep = varying(f)
    m = mutual_info_matrix(histogram_discretize(c, num_bins), f)
    sq = m[:, keep] ** 2
    top = sq.max(axis=1)
    k = sq.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = (sq.sum(axis=1) - top) / (top * (k - 1)) if k > 1 else np.zeros_like(top)
    modularity = np.where(top > 0, 1.0 - delta, 0.0)
    x, xt = standardise(c, ct)
    train, test = [], []
    for j in keep:
        clf = fit_quietly(LogisticRegression(), x, f[:, j])
        train.append(_auc(clf, x, f[:, j]))
        test.append(_auc(clf, xt, ft[:, j]))
    test = [a for a in test if a is not None]
    if not test:
        name = "factors_test" if factors_test is not None else "codes"
        raise ValueError(f"{name}: every factor that varies in training is constant in the test points "
                         f"({len(ft)}); ROC-AUC needs two classes: give more points")
    return {"modularity": float(modularity.mean()), "explicitness_train": float(np.mean(train)),
            "explicitness_test": float(np.mean(test)), "mi_matrix": m}


def _auc(clf: LogisticRegression, x: np.ndarray, y: np.ndarray) -> float | None:
    """Macro one-vs-rest ROC-AUC of the class probabilities over the classes both present and absent in y
    (``None`` when y has a single class: no ROC-AUC)."""
    onehot = y[:, None] == clf.classes_[None, :]
    cols = [i for i in range(onehot.shape[1]) if 0 < onehot[:, i].sum() < y.size]
    if not cols:
        return None
    return float(roc_auc_score(onehot[:, cols], clf.predict_proba(x)[:, cols], average="macro"))
