"""Step-dependent training weights as pure functions of the training step the loop passes to ``loss``.

No model keeps a hidden counter: ``fit`` calls ``model.loss(batch, generator, step)`` with the 0-based index
of the update being computed, so extra loss calls (validation, gradient accumulation) never shift a
schedule and a resumed run follows it exactly. ``step=None`` (a call outside training) means the end of
the schedule.
"""
from __future__ import annotations


def check_step(step) -> int | None:
    """``step`` as a non-negative int, or ``None``; anything else is a ``ValueError``/``TypeError``."""
    if step is None:
        return None
    if isinstance(step, bool) or not isinstance(step, int):
        raise TypeError(f"step: expected a non-negative int or None, got {type(step).__name__}")
    if step < 0:
        raise ValueError(f"step: expected a non-negative int or None, got {step}")
    return step


def ramp(step: int | None, steps: int) -> float:
    """min(1, t / T): a linear warm-up over ``steps`` = T steps (1 from the start when T = 0; 1 for ``None``)."""
    step = check_step(step)
    if step is None or steps == 0:
        return 1.0
    return min(1.0, step / steps)


def capacity(step: int | None, steps: int, c_max: float, c_min: float = 0.0) -> float:
    """C(t) = C_min + (C_max − C_min) · min(1, t / T), the linear capacity schedule of AnnealedVAE
    (Burgess et al. 2018) and JointVAE (Dupont 2018).

    Examples
    --------
    >>> capacity(25, 100, 20.0)
    5.0
    >>> capacity(None, 100, 20.0)  # outside training: the final capacity
    20.0
    """
    return c_min + (c_max - c_min) * ramp(step, steps)


def check_steps(value, name: str, low: int = 1) -> int:
    """A schedule length: an int ``>= low``, else a ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name}: expected an int >= {low}, got {value!r}")
    return value
