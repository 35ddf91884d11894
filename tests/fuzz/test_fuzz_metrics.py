"""Fuzz: the metrics on generated codes and factors — a clear error naming the argument, or scores in
[0, 1] that do not change when the code is rescaled by a power of two."""
from __future__ import annotations

import math

import numpy as np
import torch
from fuzz_helpers import anything, outcome, tensors
from hypothesis import event, given
from hypothesis import strategies as st

from groupdrl.verify import metrics as M

SCORES = {
    "mig": lambda c, f, s: {"mig": M.mig(codes=c, factors=f, seed=s)["mig"]},
    "sap": lambda c, f, s: {"sap": M.sap(codes=c, factors=f, seed=s)["sap"]},
    "sap_continuous": lambda c, f, s: {"sap": M.sap(codes=c, factors=f, seed=s, continuous_factors=True)["sap"]},
    "dci": lambda c, f, s: {k: v for k, v in M.dci(codes=c, factors=f, seed=s).items() if k != "importance_matrix"},
    "modularity": lambda c, f, s: {k: v for k, v in M.modularity_explicitness(codes=c, factors=f, seed=s).items()
                                   if k != "mi_matrix"},
}


@st.composite
def code_factor_arrays(draw):
    """Codes with constant, duplicated, integer-valued, rescaled (2^-1000 … 2^1000) and random columns."""
    n, d, k = draw(st.integers(2, 40)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    factors = np.stack([rng.integers(0, draw(st.integers(1, 4)), n) for _ in range(k)], 1)
    cols = []
    for _ in range(d):
        kind = draw(st.sampled_from(["factor", "noisy", "constant", "duplicate", "random", "few"]))
        if kind == "factor":
            col = factors[:, rng.integers(k)].astype(float)
        elif kind == "noisy":
            col = factors[:, rng.integers(k)] + rng.normal(0, draw(st.floats(0, 1)), n)
        elif kind == "constant":
            col = np.full(n, draw(st.floats(-1e6, 1e6)))
        elif kind == "duplicate" and cols:
            col = cols[rng.integers(len(cols))].copy()
        elif kind == "few":
            col = rng.integers(0, 2, n).astype(float)
        else:
            col = rng.normal(size=n)
        cols.append(np.round(col, 3))  # 3 decimals: bounded dynamic range, so 2^±1000 stays exact
    scale = 2.0 ** draw(st.integers(-1000, 1000))
    return np.stack(cols, 1), factors, scale


@given(arrays=code_factor_arrays(), metric=st.sampled_from(sorted(SCORES)), seed=st.integers(0, 2**32 - 1))
def test_scores_are_in_range_and_scale_free(arrays, metric, seed):
    codes, factors, scale = arrays
    base = outcome(lambda: SCORES[metric](codes, factors, seed), "codes", "factors")
    event("clear error" if base is None else "scored")
    if base is None:
        return
    assert all(math.isfinite(v) and -1e-12 <= v <= 1 + 1e-12 for v in base.values()), base
    assert SCORES[metric](codes * scale, factors, seed) == base


@given(codes=st.one_of(tensors(), anything()), factors=st.one_of(tensors(), anything()),
       metric=st.sampled_from(sorted(SCORES)), seed=st.one_of(st.integers(-5, 2**33), anything()))
def test_arbitrary_arguments(codes, factors, metric, seed):
    out = outcome(lambda: SCORES[metric](codes, factors, seed), "codes", "factors", "seed")
    if out is not None:
        assert all(math.isfinite(v) and -1e-12 <= v <= 1 + 1e-12 for v in out.values()), out


class TinyWorld:
    """A duck-typed 3 × 2 world whose observation is the state itself."""

    sizes = (3, 2)
    factor_names = ("a", "b")

    def sample_states(self, n, generator=None):
        return torch.stack([torch.randint(s, (n,), generator=generator) for s in self.sizes], 1)

    def render(self, states):
        return states.double()


@given(kind=st.sampled_from(["identity", "constant", "scaled", "swap", "noise"]), scale=st.integers(-1000, 1000),
       group_size=st.one_of(st.integers(-1, 5), anything()), n=st.one_of(st.integers(-1, 40), anything()))
def test_world_metrics_on_generated_encoders(kind, scale, group_size, n):
    codes = {"identity": lambda x: x, "constant": lambda x: 0 * x + 7, "scaled": lambda x: x * 2.0 ** scale,
             "swap": lambda x: x.flip(1), "noise": lambda x: torch.sin(x @ torch.tensor([[3.0, 1.0], [5.0, 2.0]],
                                                                                      dtype=x.dtype))}[kind]
    world = TinyWorld()
    for call, names in (
        (lambda: M.beta_vae_score(codes, world, group_size=group_size, n_train=n, n_eval=10),
         ("group_size", "n_train")),
        (lambda: M.factor_vae_score(codes, world, group_size=group_size, n_train=n, n_eval=10, n_variance=50),
         ("group_size", "n_train")),
    ):
        out = outcome(call, *names)
        if out is not None:
            assert 0 <= out["eval_accuracy"] <= 1 and 0 <= out["train_accuracy"] <= 1
            if kind == "constant":
                assert out["eval_accuracy"] == 0.0
    trav = outcome(lambda: M.factor_traversal(codes, world, n_bases=n), "n_bases")
    if trav is not None:
        assert np.isfinite(trav["variance_ratio"]).all() and (trav["variance_ratio"] >= 0).all()
        if kind in ("identity", "scaled"):
            assert trav["moved_by"].tolist() == [0, 1]
