"""Histogram gradient-boosted trees that reproduce sklearn's ``GradientBoostingClassifier()``.

DCI (Eastwood & Williams 2018) as implemented in disentanglement_lib fits one
``sklearn.ensemble.GradientBoostingClassifier()`` per factor (log-loss, 100 stages,
learning rate 0.1, depth-3 squared-error regression trees on the negative gradient,
Newton leaf values) and reads its impurity importances. That exact tree search
sorts every node and dominates the metric suite's run time. This module runs the
same boosting algorithm on features pre-binned into quantile bins (exact up to 1024
training points, 512 bins up to 4096, else 256; a feature with fewer distinct values is binned exactly, so its
splits are sklearn's): every node's gradient histogram, for all classes at once, is one
sparse matrix product, and a right child's histogram is its parent's minus its sibling's.
Exactly tied features are broken at random, as sklearn's random feature order does. Only the
candidate thresholds differ from sklearn's, so the importances agree closely
(benchmarks/results/metrics.md records the agreement).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse
from scipy.special import expit, softmax

_EPS = np.finfo(np.float64).eps


def _bin_edges(x: np.ndarray, max_bins: int) -> list[np.ndarray]:
    """Interior bin edges per column: midpoints of distinct values, or quantiles."""
    edges = []
    for col in x.T:
        distinct = np.unique(col)
        if distinct.size <= max_bins:
            edges.append((distinct[:-1] + distinct[1:]) / 2)
        else:
            edges.append(np.unique(np.quantile(col, np.linspace(0, 1, max_bins + 1)[1:-1])))
    return edges


def _binned(x: np.ndarray, edges: list[np.ndarray]) -> np.ndarray:
    """Bin index of every entry: number of interior edges <= value."""
    return np.stack([np.searchsorted(e, col, side="right") for e, col in zip(edges, x.T)], axis=1)


def default_bins(n: int) -> int:
    """Bins per feature for ``n`` training points (up to 1024 points every distinct value is a bin).

    Small training sets need finer thresholds to match sklearn's importances (see the
    agreement notes in benchmarks/results/metrics.md).
    """
    return 1024 if n <= 1024 else 512 if n <= 4096 else 256


class _HistBoosting:
    """Log-loss gradient boosting with depth-``max_depth`` squared-error trees on binned features."""

    def __init__(self, n_estimators: int = 100, learning_rate: float = 0.1, max_depth: int = 3,
                 max_bins: int | None = None, random_state: int = 0):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.max_bins = max_bins
        self.random_state = random_state

    def fit(self, x: np.ndarray, y: np.ndarray) -> _HistBoosting:
        n, n_features = x.shape
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        n_classes = self.classes_.size
        self._rng = np.random.default_rng(self.random_state)
        self.edges_ = _bin_edges(x, self.max_bins or default_bins(n))
        xb = _binned(x, self.edges_)
        width = max(e.size for e in self.edges_) + 1
        # one-hot of (feature, bin), transposed: onehot_t @ w sums w over the points of every bin
        columns = (np.arange(n_features) * width + xb).ravel()
        onehot_t = scipy.sparse.csr_matrix(
            (np.ones(n * n_features, dtype=np.float32), (np.repeat(np.arange(n), n_features), columns)),
            shape=(n, n_features * width)).T.tocsr()
        n_trees = 1 if n_classes <= 2 else n_classes
        prior = np.clip(np.bincount(y_idx, minlength=n_classes) / n, _EPS, 1 - _EPS)
        if n_trees == 1:
            target = (y_idx == n_classes - 1).astype(np.float64)[:, None]
            self.init_ = np.log(prior[-1:] / (1 - prior[-1:]))
        else:
            target = np.eye(n_classes)[y_idx]
            self.init_ = np.log(prior)
        raw = np.tile(self.init_, (n, 1))
        n_inner, n_leaves = 2 ** self.max_depth - 1, 2 ** self.max_depth
        self.features_ = np.zeros((self.n_estimators, n_trees, n_inner), dtype=np.int64)
        self.thresholds_ = np.full((self.n_estimators, n_trees, n_inner), width, dtype=np.int64)
        self.leaves_ = np.zeros((self.n_estimators, n_trees, n_leaves))
        self.importances_ = np.zeros(n_features)
        trees = np.arange(n_trees)
        root_counts = np.asarray(onehot_t.sum(axis=1), dtype=np.float32).reshape(n_features, width, 1, 1, 1)
        for stage in range(self.n_estimators):
            prob = expit(raw) if n_trees == 1 else softmax(raw, axis=1)
            resid = target - prob
            node = np.zeros((n, n_trees), dtype=np.int64)
            resid32 = resid.astype(np.float32)
            hist = np.concatenate([(onehot_t @ resid32).reshape(n_features, width, 1, n_trees, 1),
                                   np.broadcast_to(root_counts, (n_features, width, 1, n_trees, 1))], axis=2)
            for depth in range(self.max_depth):
                if depth > 0:
                    hist = self._children(onehot_t, hist, resid32, node)
                first = 2 ** depth - 1
                self._split(hist, stage, first, width)
                node = self._descend(xb, node, stage, first)
            flat = (node + trees * n_leaves).ravel()
            num = np.bincount(flat, resid.ravel(), n_trees * n_leaves)
            den = np.bincount(flat, (prob * (1 - prob)).ravel(), n_trees * n_leaves)
            if n_trees > 1:
                num *= (n_classes - 1) / n_classes
            value = np.divide(num, den, out=np.zeros_like(num), where=np.abs(den) >= 1e-150)
            self.leaves_[stage] = value.reshape(n_trees, n_leaves)
            raw += self.learning_rate * self.leaves_[stage][trees, node]
        self._train_raw = raw
        return self

    def _children(self, onehot_t: scipy.sparse.csr_matrix, parent: np.ndarray, resid: np.ndarray,
                  node: np.ndarray) -> np.ndarray:
        """Histograms of the next level: left children by one sparse product, right ones by subtraction."""
        n, n_trees = resid.shape
        n_features, width, _, _, n_parents = parent.shape
        left = node[:, :, None] == 2 * np.arange(n_parents)
        cols = np.empty((n, 2, n_trees, n_parents), dtype=np.float32)
        np.multiply(resid[:, :, None], left, out=cols[:, 0])
        cols[:, 1] = left
        cols = cols.reshape(n, -1)
        hist_left = (onehot_t @ cols).reshape(n_features, width, 2, n_trees, n_parents)
        return np.stack([hist_left, parent - hist_left], axis=-1).reshape(
            n_features, width, 2, n_trees, 2 * n_parents)

    def _split(self, hist: np.ndarray, stage: int, first: int, width: int) -> None:
        """Best squared-error split of every node at this level (sklearn's tree criterion on bins)."""
        if width < 2:  # every feature is constant: no split anywhere, each tree is a single leaf
            return
        n_trees, n_nodes = hist.shape[3:]
        hist = hist.astype(np.float64)
        left = np.cumsum(hist[:, :-1], axis=1)
        total = hist.sum(axis=1)[:, None]
        s_l, c_l = left[:, :, 0], left[:, :, 1]
        s_r, c_r = total[:, :, 0] - s_l, total[:, :, 1] - c_l
        with np.errstate(divide="ignore", invalid="ignore"):
            gain = s_l ** 2 / c_l + s_r ** 2 / c_r - total[:, :, 0] ** 2 / total[:, :, 1]
        gain = np.where((c_l >= 0.5) & (c_r >= 0.5), gain, -np.inf)
        per_feature = gain.max(axis=1)
        best_gain = per_feature.max(axis=0)
        # sklearn visits features in random order and keeps the first best: ties go to a random feature
        tied = per_feature >= best_gain - 1e-12 * np.abs(best_gain)
        feat = np.where(tied, self._rng.random(per_feature.shape), -1.0).argmax(axis=0)
        thr = np.take_along_axis(gain, feat[None, None], axis=0)[0].argmax(axis=0)
        # sklearn makes a leaf of a node whose residual variance is <= machine epsilon
        split = np.isfinite(best_gain) & (best_gain > _EPS * total[0, 0, 1])
        np.add.at(self.importances_, feat[split], best_gain[split])
        self.features_[stage, :, first:first + n_nodes] = np.where(split, feat, 0)
        self.thresholds_[stage, :, first:first + n_nodes] = np.where(split, thr, width)

    def _descend(self, xb: np.ndarray, node: np.ndarray, stage: int, first: int) -> np.ndarray:
        """Move every point one level down each tree of ``stage`` (nodes numbered level-wise)."""
        n_inner = self.features_.shape[2]
        flat = node + (np.arange(node.shape[1]) * n_inner + first)
        feat = self.features_[stage].ravel()[flat]
        value = xb.ravel()[feat + np.arange(xb.shape[0])[:, None] * xb.shape[1]]
        return 2 * node + (value > self.thresholds_[stage].ravel()[flat])

    def _labels(self, raw: np.ndarray) -> np.ndarray:
        index = (raw[:, 0] > 0).astype(np.int64) if raw.shape[1] == 1 else raw.argmax(axis=1)
        return self.classes_[np.minimum(index, self.classes_.size - 1)]

    def predict(self, x: np.ndarray) -> np.ndarray:
        xb = _binned(x, self.edges_)
        n_trees = self.features_.shape[1]
        raw = np.tile(self.init_, (x.shape[0], 1))
        trees = np.arange(n_trees)
        for stage in range(self.n_estimators):
            node = np.zeros((x.shape[0], n_trees), dtype=np.int64)
            for depth in range(self.max_depth):
                node = self._descend(xb, node, stage, 2 ** depth - 1)
            raw += self.learning_rate * self.leaves_[stage][trees, node]
        return self._labels(raw)

    def predict_train(self) -> np.ndarray:
        return self._labels(self._train_raw)

    @property
    def feature_importances_(self) -> np.ndarray:
        total = self.importances_.sum()
        return self.importances_ / total if total > 0 else self.importances_
