"""Declared valid ranges of the models' numeric hyperparameters, checked before a model is built.

A model class lists its ranges next to its name, e.g.::

    class BetaVAE(VAE):
        name = "beta_vae"
        hparam_ranges = {"beta": NONNEGATIVE}

Ranges are collected along the class hierarchy (a subclass adds to or overrides its bases'), and
:func:`check_hparams` runs in :func:`groupdrl.models.get` (on the values as given, so ``--set beta=nan``
is refused naming ``beta`` before anything is built) and in ``Model.__init__`` (a model built directly).
Hyperparameters without a declared range (names, flags) are the constructor's to check.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from groupdrl._checks import check_float, check_int, show


@dataclass(frozen=True)
class Range:
    """A finite number (an ``int`` when ``integer``) in ``low .. high`` (ends open when asked).

    With ``sequence`` the value is a list or tuple checked entry by entry (``hidden=[64, 64]``); ``None``
    is accepted only when ``optional`` (a default worked out by the model).
    """

    low: float | None = None
    high: float | None = None
    integer: bool = False
    open_low: bool = False
    open_high: bool = False
    optional: bool = False
    sequence: bool = False

    def check(self, value: Any, name: str) -> None:
        """Raise ``TypeError``/``ValueError`` naming ``name`` unless ``value`` is in the range."""
        if value is None and self.optional:
            return
        if self.sequence:
            if not isinstance(value, (list, tuple)):
                raise TypeError(f"{name}: expected a list of {'ints' if self.integer else 'numbers'}, got "
                                f"{type(value).__name__} {show(value)}")
            entry = Range(self.low, self.high, self.integer, self.open_low, self.open_high)
            for i, v in enumerate(value):
                entry.check(v, f"{name}[{i}]")
            return
        if self.integer:
            check_int(value, name, None if self.low is None else int(self.low) + self.open_low,
                      None if self.high is None else int(self.high) - self.open_high)
        else:
            check_float(value, name, self.low, self.high, open_min=self.open_low, open_max=self.open_high)


#: A weight or scale that may be zero (a KL weight β, a loss weight λ).
NONNEGATIVE = Range(0.0)
#: A strictly positive real (a temperature, a learning-rate scale).
POSITIVE = Range(0.0, open_low=True)
#: A positive int (a dimension, a width, a number of steps).
COUNT = Range(1, integer=True)
#: Layer widths: a list of positive ints.
WIDTHS = Range(1, integer=True, sequence=True)


def ranges(cls: type) -> dict[str, Range]:
    """The ranges ``cls`` declares, merged along its class hierarchy (subclasses win)."""
    out: dict[str, Range] = {}
    for klass in reversed(cls.__mro__):
        out.update(vars(klass).get("hparam_ranges", {}))
    return out


def check_hparams(cls: type, hparams: dict[str, Any]) -> None:
    """Check every given hyperparameter that ``cls`` declares a range for."""
    for name, rng in ranges(cls).items():
        if name in hparams:
            rng.check(hparams[name], name)
