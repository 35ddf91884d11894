"""Checks of plain arguments (counts, numbers, generators) shared by every layer.

Each raises ``TypeError`` (wrong kind of value) or ``ValueError`` (right kind, out of range) naming the
argument, what was expected and what came. Richer inputs have their own single home: group elements
(``Group.validate``), world states (``World.validate_states``), encoder outputs and codes
(:mod:`groupdrl.verify.encode`), hyperparameters (:mod:`groupdrl.models.hparams`), run directories
(:mod:`groupdrl.train.checkpoint`).
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import torch


def check_int(value: Any, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an ``int`` in ``[minimum, maximum]`` (bools are not ints here)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__} {show(value)}")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        want = f">= {minimum}" if maximum is None else f"<= {maximum}" if minimum is None else \
            f"in [{minimum}, {maximum}]"
        raise ValueError(f"{name}: expected an int {want}, got {value}")
    return value


def check_float(value: Any, name: str, minimum: float | None = None, maximum: float | None = None, *,
                open_min: bool = False, open_max: bool = False) -> float:
    """``value`` as a finite ``float`` in the interval ``minimum .. maximum`` (ends open when asked)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__} {show(value)}")
    try:
        value = float(value)
    except OverflowError:  # an int beyond float64's range
        raise ValueError(f"{name}: expected a finite number in {_interval(minimum, maximum, open_min, open_max)}, "
                         f"got {show(value)}") from None
    low_bad = minimum is not None and (value <= minimum if open_min else value < minimum)
    high_bad = maximum is not None and (value >= maximum if open_max else value > maximum)
    if not math.isfinite(value) or low_bad or high_bad:
        raise ValueError(f"{name}: expected a finite number in {_interval(minimum, maximum, open_min, open_max)}, "
                         f"got {value!r}")
    return value


def check_generator(generator: Any, name: str = "generator") -> torch.Generator | None:
    """``None`` or a ``torch.Generator``."""
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"{name}: expected a torch.Generator or None, got {type(generator).__name__}")
    return generator


def show(value: Any, width: int = 80) -> str:
    """``repr(value)`` on one line, cut to ``width`` characters (for error messages)."""
    text = " ".join(repr(value).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _interval(low: float | None, high: float | None, open_low: bool, open_high: bool) -> str:
    left = "(-inf" if low is None else ("(" if open_low else "[") + f"{low:g}"
    right = "inf)" if high is None else f"{high:g}" + (")" if open_high else "]")
    return f"{left}, {right}"


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``"cpu"``, ``"cuda"`` (``"cuda:k"``) or ``None``/``"auto"`` (CUDA when available, else CPU)."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device: expected 'cpu', 'cuda', 'cuda:k', 'auto' or None, got {device!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device: 'cuda' requested but torch sees no CUDA device")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device: expected a CPU or CUDA device, got {device!r}")
    return dev
