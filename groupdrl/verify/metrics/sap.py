"""Separated Attribute Predictability (Kumar et al. 2018, "Variational Inference of Disentangled Latent
Concepts from Unlabeled Observations", §3)."""
from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.svm import LinearSVC

from ._common import Encoder, constant_columns, fit_quietly, standardise, top_two_gap, train_test, varying


def sap(encoder: Encoder | None = None, world: Any = None, *, codes: Any = None, factors: Any = None,
        codes_test: Any = None, factors_test: Any = None, n_train: int = 10000, n_test: int = 5000,
        continuous_factors: bool = False, seed: int = 0, batch_size: int = 256) -> dict[str, Any]:
    r"""SAP score, as computed by disentanglement_lib.

    Score matrix :math:`S_{ik}`: for discrete factors (default) the test accuracy of
    ``LinearSVC(C=0.01, class_weight="balanced")`` predicting factor :math:`k` from code
    :math:`i` alone; for ``continuous_factors=True`` the squared correlation
    :math:`\mathrm{cov}(z_i, v_k)^2 / (\mathrm{var}\, z_i\, \mathrm{var}\, v_k)` on the
    training points (0 for a constant code). SAP = mean over factors of the gap between the
    two largest :math:`S_{ik}` over codes. Constant factors are left out.

    Departure from the reference: each code is standardised with its training mean and std before
    the classifier sees it. The reference feeds the raw code to the strongly regularised SVM, so its
    score changed with the code's units (a code rescaled by 1e-30 scored 0; at 1e300 liblinear did
    not return). Squared correlations are unchanged by this.

    Parameters
    ----------
    encoder, world / codes, factors, codes_test, factors_test
        See :func:`dci` for the two calling forms and the train/test split.
    n_train, n_test : int
        Training / test points (10000 / 5000).

    Returns
    -------
    dict
        ``sap`` (float) and ``score_matrix`` ((d, k); zero columns for constant factors).
    """
    c, f, ct, ft = train_test(encoder, world, codes, factors, codes_test, factors_test, n_train, n_test, seed,
                              batch_size)
    keep = varying(f)
    c, ct = standardise(c, ct)
    informative = ~constant_columns(c)
    score = np.zeros((c.shape[1], f.shape[1]))
    for j in keep:
        for i in range(c.shape[1]):
            if continuous_factors:
                cov = np.cov(c[:, i], f[:, j], ddof=1)
                score[i, j] = cov[0, 1] ** 2 / (cov[0, 0] * cov[1, 1]) if informative[i] else 0.0
            else:
                clf = fit_quietly(LinearSVC(C=0.01, class_weight="balanced", random_state=seed), c[:, i:i + 1], f[:, j])
                score[i, j] = np.mean(clf.predict(ct[:, i:i + 1]) == ft[:, j])
    return {"sap": float(top_two_gap(score[:, keep]).mean()), "score_matrix": score}
