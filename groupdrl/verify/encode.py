"""One way to call an encoder on a world, shared by ``verify_group``, the metrics and the CLI.

:func:`encode` renders states in batches, moves each batch of observations to the encoder's device and
floating dtype (read from an ``nn.Module`` or the module behind a bound method such as ``model.encode``),
calls the encoder under ``torch.no_grad`` and checks what comes back with :func:`as_codes`: a real
``(batch, d)`` tensor or array of finite numbers, the same ``d`` for every batch. Codes come back on the
CPU as float64 numpy arrays. A plain function gets the observations as the world renders them (CPU,
the world's dtype) and handles devices itself.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from groupdrl._checks import check_int

__all__ = ["as_codes", "encode", "encoder_device"]


def encoder_device(encoder: Callable) -> tuple[torch.device | None, torch.dtype | None]:
    """Device and floating dtype of the module ``encoder`` is (or is a method of); ``(None, None)`` otherwise.

    Taken from the first floating parameter (or buffer) of the module.
    """
    module = encoder if isinstance(encoder, torch.nn.Module) else getattr(encoder, "__self__", None)
    if isinstance(module, torch.nn.Module):
        for t in (*module.parameters(), *module.buffers()):
            if t.is_floating_point():
                return t.device, t.dtype
        for t in (*module.parameters(), *module.buffers()):
            return t.device, None
    return None, None


def as_codes(z: Any, name: str = "codes", n: int | None = None, min_rows: int = 1) -> np.ndarray:
    """``z`` as a finite float64 ``(n, d)`` numpy array, or ``TypeError``/``ValueError`` naming ``name``.

    Accepts torch tensors (any device; detached), numpy arrays and nested sequences of real numbers
    (bool, int or float). Complex values are refused, not cast (the imaginary part would be lost).
    """
    if isinstance(z, torch.Tensor):
        if z.is_complex():
            raise TypeError(f"{name}: expected real values, got a complex tensor ({z.dtype}); return real "
                            "coordinates, e.g. torch.view_as_real(z).flatten(1)")
        z = z.detach().to("cpu", torch.float64 if z.is_floating_point() else None).numpy()
    elif isinstance(z, (tuple, dict)) or z is None or isinstance(z, (str, bytes)):
        raise TypeError(f"{name}: expected an (n, d) tensor or array, got {type(z).__name__} (for a VAE pass a "
                        "function returning the posterior mean)")
    try:
        arr = np.asarray(z)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name}: expected an (n, d) array of real numbers, got {type(z).__name__} ({err})") from None
    if arr.dtype.kind == "c":
        raise TypeError(f"{name}: expected real values, got a complex array ({arr.dtype}); pass real coordinates, "
                        "e.g. np.concatenate([z.real, z.imag], 1)")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected an array of real numbers, got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[0] < min_rows or arr.shape[1] < 1:
        rows = f"({n}, d)" if n is not None else f"(n, d) with n >= {min_rows} and d >= 1"
        raise ValueError(f"{name}: expected a {rows} array, got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name}: expected {n} rows (one per observation), got shape {arr.shape}")
    arr = arr.astype(np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name}: expected finite values, got NaN or inf in {int(bad.any(1).sum())} of "
                         f"{arr.shape[0]} rows (first {arr[first]} at index {first})")
    return arr


def encode(encoder: Callable, world: Any, states: Any, batch_size: int = 256,
           name: str = "encoder output") -> np.ndarray:
    """``encoder(world.render(states))`` as a float64 ``(n, d)`` array, in batches of ``batch_size``.

    Parameters
    ----------
    encoder : callable
        Observations -> ``(batch, d)`` codes: a function, an ``nn.Module`` or a module's method
        (``model.encode``); put a module in eval mode first.
    world
        Anything with ``render(states)`` (a :class:`~groupdrl.worlds.World`).
    states
        A batch of states with the batch on dim 0 (a tensor, an array or a dict of them).
    batch_size : int
        States rendered and encoded per call.
    name : str
        Names the encoder's output in errors.
    """
    if not callable(encoder):
        raise TypeError(f"encoder: expected a callable mapping observations to (n, d) codes, "
                        f"got {type(encoder).__name__}")
    batch_size = check_int(batch_size, "batch_size", 1)
    device, dtype = encoder_device(encoder)
    total = _length(states)
    out: list[np.ndarray] = []
    with torch.no_grad():
        for start in range(0, total, batch_size):
            obs = world.render(_rows(states, slice(start, start + batch_size)))
            obs = torch.as_tensor(obs)
            if device is not None:
                obs = obs.to(device=device, dtype=dtype if dtype is not None and obs.is_floating_point() else None)
            out.append(as_codes(encoder(obs), name, n=min(batch_size, total - start)))
            if out[-1].shape[1] != out[0].shape[1]:
                raise ValueError(f"{name}: expected the same latent dimension for every batch, got "
                                 f"{out[0].shape[1]} then {out[-1].shape[1]}")
    return np.concatenate(out) if out else np.zeros((0, 0))


def _length(states: Any) -> int:
    if isinstance(states, dict):
        return len(next(iter(states.values()))) if states else 0
    return len(states)


def _rows(states: Any, rows: slice) -> Any:
    if isinstance(states, dict):
        return {k: v[rows] for k, v in states.items()}
    return states[rows]
