"""Lazy, dtype-safe access to geomstats.

geomstats chooses its backend from ``GEOMSTATS_BACKEND`` at first import and then sets
torch's *global* default dtype to float64. We import it only when Lie-group geometry is
needed, default to its numpy backend, and restore the caller's torch default dtype.
"""
from __future__ import annotations

import contextlib
import os
import sys
from types import ModuleType

import numpy as np
import torch


@contextlib.contextmanager
def keep_default_dtype():
    """Restore torch's default dtype after the block (geomstats sets it to float64 when it loads)."""
    dtype = torch.get_default_dtype()
    try:
        yield
    finally:
        torch.set_default_dtype(dtype)


@contextlib.contextmanager
def _lend_numpy_trapz():
    """geomstats 2.8 imports ``numpy.trapz``, which numpy 2.4 removed (it is ``numpy.trapezoid``):
    lend numpy that name while geomstats loads, then take it back."""
    lent = not hasattr(np, "trapz")
    if lent:
        np.trapz = np.trapezoid
    try:
        yield
    finally:
        if lent:
            del np.trapz


def geomstats() -> ModuleType:
    """Import and return ``geomstats.backend`` without changing torch's default dtype."""
    with keep_default_dtype(), _lend_numpy_trapz():
        if "geomstats" not in sys.modules:
            os.environ.setdefault("GEOMSTATS_BACKEND", "numpy")
        import geomstats.backend as gs
    return gs


def to_backend(x: torch.Tensor):
    """Convert a tensor to the array type of the active geomstats backend (float64)."""
    gs = geomstats()
    arr = x.detach().to(torch.float64).cpu()
    if gs.__name__.endswith("pytorch"):
        return arr
    return arr.numpy()


def from_backend(x, like: torch.Tensor) -> torch.Tensor:
    """Convert a geomstats result back to a tensor with ``like``'s dtype."""
    return torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x).to(like.dtype)


def special_orthogonal_3():
    """geomstats' SO(3) in matrix form with its bi-invariant metric."""
    with keep_default_dtype():
        geomstats()
        from geomstats.geometry.special_orthogonal import SpecialOrthogonal

        return SpecialOrthogonal(3, point_type="matrix", equip=True)
