"""Argument and input checks shared by the layers of :mod:`groupdrl.nn`."""
from __future__ import annotations

from collections.abc import Sequence

import torch


def positive_int(value: object, name: str) -> int:
    """Return ``value`` as an ``int`` if it is a positive integer, else raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def positive_ints(value: object, name: str) -> tuple[int, ...]:
    """Return ``value`` (an int or a sequence of ints) as a tuple of positive ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (positive_int(value, name),)
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise ValueError(f"{name} must be a positive int or a sequence of them, got {value!r}")
    return tuple(positive_int(v, f"{name}[{i}]") for i, v in enumerate(value))


def check_batch(x: object, name: str, shape: tuple[int, ...], what: str) -> torch.Tensor:
    """Check that ``x`` is a floating tensor of shape ``(n, *shape)`` and return it.

    Parameters
    ----------
    x : object
        The input to check.
    name : str
        The argument name used in the error message.
    shape : tuple of int
        The expected shape after the batch dimension.
    what : str
        A short description of the expected layout, e.g. ``"(n, C, H, W)"``.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating tensor, got dtype {x.dtype}")
    if x.dim() != len(shape) + 1 or tuple(x.shape[1:]) != tuple(shape):
        expected = "(n, " + ", ".join(str(s) for s in shape) + ")"
        raise ValueError(f"{name} must have shape {what} = {expected}, got {tuple(x.shape)}")
    return x
