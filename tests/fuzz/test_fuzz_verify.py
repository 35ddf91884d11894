"""Fuzz: the shared encoder call and verify_group on generated encoders and arguments — a clear error naming
the argument, or finite codes and a report with finite numbers."""
from __future__ import annotations

import math

import numpy as np
import torch
from fuzz_helpers import anything, attempt, outcome, tensors
from hypothesis import event, given, settings
from hypothesis import strategies as st

import groupdrl.groups as G
from groupdrl.verify import verify_group, verify_intuitive
from groupdrl.verify.encode import encode
from groupdrl.worlds import Factor, World

WORLD = World([Factor("a", 4), Factor("b", 3)], render=lambda s: s.double())


@given(out=st.one_of(tensors(), anything()), n=st.integers(0, 6), batch_size=st.one_of(st.integers(-1, 4),
                                                                                         anything()))
def test_encode_returns_the_codes_or_refuses_them(out, n, batch_size):
    states = WORLD.all_states()[:n]
    codes = outcome(lambda: encode(lambda x: out, WORLD, states, batch_size=batch_size), "encoder output",
                    "batch_size")
    if codes is not None:
        assert codes.dtype == np.float64 and np.isfinite(codes).all()
        if n:
            assert codes.shape[0] == n
            want = out if isinstance(out, torch.Tensor) else torch.as_tensor(np.asarray(out))
            np.testing.assert_array_equal(codes[:len(want)], want.double().numpy())


#: A world with a compact Lie factor: SO(2) (its states are angles) × C_3.
LIE = World([Factor("r", group=G.SO2()), Factor("b", 3)], render=lambda s: s.double())
WORLDS = {"cyclic": WORLD, "lie": LIE}


def angles(x: torch.Tensor, world: World) -> torch.Tensor:
    """Each factor's state as an angle: 2π s / N for a cyclic factor, the SO(2) state itself."""
    if world is LIE:
        return torch.stack([x[:, 0], 2 * math.pi * x[:, 1] / 3], 1)
    return 2 * math.pi * x / torch.tensor([4.0, 3.0], dtype=x.dtype)


def circle(t: torch.Tensor) -> torch.Tensor:
    return torch.cat([t.cos(), t.sin()], 1)


Q = torch.linalg.qr(torch.randn(4, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64))[0]
#: Codes of the angles t (and the raw states x): kind -> (t, x) -> (n, d).
ENCODERS = {
    "circle": lambda t, x: circle(t),
    "rotated": lambda t, x: circle(t) @ Q,
    "line": lambda t, x: t * 2.0,
    "constant": lambda t, x: torch.ones(len(t), 3, dtype=t.dtype),
    "tiny": lambda t, x: circle(t) * 1e-140,
    "huge": lambda t, x: circle(t) * 1e140,
    "too_huge": lambda t, x: circle(t) * 1e300,
    "entangled": lambda t, x: torch.cat([circle(t)[:, :2], torch.sin(t.sum(1, keepdim=True))], 1),
    "complex": lambda t, x: circle(t).to(torch.complex128),
    "nan": lambda t, x: circle(t) / (x[:, :1] - x[:, :1]),
}


def encoder(kind: str, world: World):
    return lambda x: ENCODERS[kind](angles(x, world), x)


def mostly(valid: st.SearchStrategy, invalid: st.SearchStrategy) -> st.SearchStrategy:
    """``valid`` four times in five."""
    return st.integers(0, 4).flatmap(lambda i: invalid if i == 0 else valid)


@given(kind=st.sampled_from(sorted(ENCODERS)), n_states=mostly(st.integers(2, 80), st.one_of(st.integers(-1, 1),
                                                                                              anything())),
       n_elements=mostly(st.integers(1, 5), anything()),
       tol=mostly(st.floats(0, 0.5), st.one_of(st.floats(), anything())),
       seed=mostly(st.integers(0, 2**64 - 1), st.one_of(st.integers(-(2**65), 2**65), anything())),
       linear=st.booleans(), world=st.sampled_from(sorted(WORLDS)))
def test_verify_group_on_generated_encoders(kind, n_states, n_elements, tol, seed, linear, world):
    report, error = attempt(lambda: verify_group(encoder(kind, WORLDS[world]), WORLDS[world], n_states=n_states,
                                                 n_elements=n_elements, tol=tol, seed=seed, linear=linear),
                            "encoder output", "n_states", "n_elements", "tol", "seed")
    def count(v, low):
        return isinstance(v, int) and not isinstance(v, bool) and v >= low

    valid = (count(n_states, 2) and count(n_elements, 1) and count(seed, 0) and seed < 2**64
             and isinstance(tol, (int, float)) and not isinstance(tol, bool) and 0 <= tol < math.inf)
    if valid and kind not in ("complex", "nan", "too_huge") and report is None:  # a sample too small to fit the action
        assert error.startswith("n_states: the latents of the") and "sample more states" in error, error
    assert valid or report is None
    event("report" if report is not None else "clear error")
    if report is None:
        return
    assert isinstance(report.disentangled, bool)
    for name, value in report.to_dict().items():
        if isinstance(value, float):
            assert math.isfinite(value), (name, value)
    if kind in ("circle", "rotated", "tiny", "huge") and linear and tol >= 1e-6:
        assert report.disentangled, report.reasons
    if kind == "constant" or (kind == "line" and linear):
        assert not report.disentangled


@settings(max_examples=10)  # every call runs all nine metrics
@given(kind=st.sampled_from(sorted(ENCODERS)), n_train=mostly(st.integers(2, 40), anything()),
       thresholds=mostly(st.none(), st.one_of(anything(), st.dictionaries(st.sampled_from(["mig", "sap", "x"]),
                                                                          st.floats(), max_size=2))))
def test_verify_intuitive_on_generated_encoders(kind, n_train, thresholds):
    report = outcome(lambda: verify_intuitive(encoder(kind, WORLD), WORLD, n_train=n_train, n_test=10,
                                              thresholds=thresholds),
                     "encoder output", "n_train", "thresholds", "thresholds['mig']", "thresholds['sap']",
                     "thresholds['x']", "codes")
    if report is None:
        return
    assert all(math.isfinite(v) for v in report.scores.values()), report.scores
    if kind == "constant":
        assert {k: v for k, v in report.scores.items() if k not in ("explicitness", "dci_informativeness")} \
            == dict.fromkeys(("beta_vae", "factor_vae", "mig", "sap", "dci_disentanglement", "dci_completeness",
                              "modularity"), 0.0)
