"""Fuzz: every declared hyperparameter of every model with generated values — refused naming it, or a
model is built (cheap models) / the value lies in the declared range."""
from __future__ import annotations

import inspect
import math

from fuzz_helpers import anything, outcome
from hypothesis import given
from hypothesis import strategies as st

from groupdrl import models
from groupdrl.models.hparams import check_hparams, ranges
from groupdrl.worlds import vector_world

WORLD = vector_world((3, 2), names=("a", "b"), embedding="onehot")
DECLARED = sorted((name, hp) for name in models.names() for hp in ranges(models.model_class(name)))
#: Models cheap enough to build per example on a vector world (with small widths).
CHEAP = {"beta_vae", "annealed_vae", "beta_tcvae", "dip_vae_i", "dip_vae_ii", "forward_vae", "lsbd_vae"}
VALUES = st.one_of(st.integers(-3, 9), st.floats(), st.sampled_from([0, 1, 0.5, 1e300, -0.0, math.nan]),
                   st.lists(st.integers(-2, 5), max_size=3), anything())


@given(case=st.sampled_from(DECLARED), value=VALUES)
def test_declared_hyperparameters(case, value):
    name, hp = case
    cls = models.model_class(name)
    ok = outcome(lambda: check_hparams(cls, {hp: value}) or True, hp)
    rng = ranges(cls)[hp]
    if ok and value is not None:
        for v in value if isinstance(value, (list, tuple)) else [value]:
            assert not isinstance(v, bool) and math.isfinite(v) and (not rng.integer or isinstance(v, int))
            assert rng.low is None or (v > rng.low if rng.open_low else v >= rng.low)
            assert rng.high is None or (v < rng.high if rng.open_high else v <= rng.high)
    if ok and name in CHEAP and hp not in ("hidden", "latent_dim"):
        accepted = inspect.signature(cls.__init__).parameters
        small = {k: v for k, v in (("hidden", [4]), ("latent_dim", 2)) if k in accepted}
        model = outcome(lambda: models.get(name, WORLD, **small, **{hp: value}), hp)
        assert model is None or model.hparams.get(hp) in (value, float(value) if isinstance(value, (int, float))
                                                            else value, None)
