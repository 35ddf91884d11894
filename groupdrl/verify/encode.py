"""One way to call an encoder on a world, shared by ``verify_group``, the metrics and the CLI.

:func:`encode` renders states in batches, moves each batch of observations to the encoder's device and
floating dtype (read from an ``nn.Module`` or the module behind a bound method such as ``model.encode``),
calls the encoder under ``torch.no_grad`` and checks what comes back with :func:`as_codes`: a real
``(batch, d)`` tensor or array of finite numbers, the same ``d`` for every batch. Codes come back on the
CPU as float64 numpy arrays. A plain function gets the observations as the world renders them (CPU,
the world's dtype) and handles devices itself.

:func:`cached` binds an encoder to a finite world so that each distinct state is rendered and encoded
once and later requests index that table (:class:`CachedEncoder`): exact for a deterministic encoder,
and what makes the intuitive metrics cheap (the BetaVAE score alone asks for 1.92 million codes of a
world that may have 64 states). :func:`load_encoder` turns what a user names on the command line (a
module, a function, a factory) into such a callable.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from groupdrl._checks import check_int, resolve_device

__all__ = ["CachedEncoder", "as_codes", "cached", "encode", "encoder_device", "load_encoder"]

#: Largest code table a :class:`CachedEncoder` keeps (states × latent dims as float64): 256 MiB.
MAX_TABLE_BYTES = 256 * 2**20


def encoder_device(encoder: Callable) -> tuple[torch.device | None, torch.dtype | None]:
    """Device and floating dtype of the module ``encoder`` is (or is a method of); ``(None, None)`` otherwise.

    Taken from the first floating parameter (or buffer) of the module.
    """
    if isinstance(encoder, CachedEncoder):
        return encoder_device(encoder.encoder)
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
    if isinstance(encoder, CachedEncoder):
        if encoder.world is world and isinstance(states, torch.Tensor) and encoder.table:
            return encoder.lookup(states, batch_size, name)
        encoder = encoder.encoder
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


class CachedEncoder:
    """An encoder bound to a finite world: each distinct state is rendered and encoded once.

    :func:`encode` with this object and its ``world`` looks the states up (``world.state_index``) in a
    ``(world.num_states, d)`` float64 table filled on demand, so it never encodes more observations than
    the plain call would and encodes each state at most once. Called directly it is the wrapped encoder.

    Exact for a deterministic encoder (the same code for the same observation: a module in eval mode, a
    VAE's posterior mean); a stochastic one is judged on one draw per state. When the table would exceed
    ``max_bytes`` (a large world or latent; checked once ``d`` is known) every call falls back to the
    plain path (``table`` becomes False).

    Attributes
    ----------
    encoder : callable
        The wrapped encoder.
    world : World
    table : bool
        Whether the table is in use.
    encoded, served : int
        States encoded into the table, and codes handed out from it (their ratio is the saving).
    """

    def __init__(self, encoder: Callable, world: Any, max_bytes: int = MAX_TABLE_BYTES) -> None:
        if not callable(encoder):
            raise TypeError(f"encoder: expected a callable mapping observations to (n, d) codes, "
                            f"got {type(encoder).__name__}")
        self.encoder = encoder
        self.world = world
        self.max_bytes = check_int(max_bytes, "max_bytes", 0)
        self.table = bool(getattr(world, "is_finite", False)) and hasattr(world, "state_index")
        self.encoded = self.served = 0
        self._codes: np.ndarray | None = None
        self._known: np.ndarray | None = None

    def __call__(self, obs: Any) -> Any:
        return self.encoder(obs)

    def __repr__(self) -> str:
        return (f"CachedEncoder({self.encoder!r}, {getattr(self.world, 'name', self.world)!r}, "
                f"{self.encoded} states encoded, {self.served} codes served)")

    def lookup(self, states: torch.Tensor, batch_size: int, name: str) -> np.ndarray:
        """Codes of ``states`` ``(n, D)`` from the table, encoding the states not seen yet."""
        index = self.world.state_index(states).numpy()
        if self._known is None:
            self._known = np.zeros(self.world.num_states, dtype=bool)
        new = np.unique(index[~self._known[index]])
        if len(new):
            z = encode(self.encoder, self.world, self.world.states_at(torch.from_numpy(new)), batch_size, name)
            if self._codes is None:
                if self.world.num_states * z.shape[1] * 8 > self.max_bytes:
                    self.table = False  # too large: every later call takes the plain path
                    return encode(self.encoder, self.world, states, batch_size, name)
                self._codes = np.empty((self.world.num_states, z.shape[1]))
            elif z.shape[1] != self._codes.shape[1]:
                raise ValueError(f"{name}: expected the same latent dimension for every batch, got "
                                 f"{self._codes.shape[1]} then {z.shape[1]}")
            self._codes[new] = z
            self._known[new] = True
            self.encoded += len(new)
        self.served += len(index)
        return self._codes[index]


def cached(encoder: Callable, world: Any, max_bytes: int = MAX_TABLE_BYTES) -> Callable:
    """``encoder`` bound to ``world`` as a :class:`CachedEncoder` (itself if it already is one for ``world``).

    A world with continuous factors has no table: the encoder comes back as it is.
    """
    if isinstance(encoder, CachedEncoder) and encoder.world is world:
        return encoder
    if not getattr(world, "is_finite", False):
        return encoder
    return CachedEncoder(encoder.encoder if isinstance(encoder, CachedEncoder) else encoder, world, max_bytes)


def load_encoder(obj: Any, device: str | torch.device | None = None) -> Callable:
    """What a user names as an encoder, as a callable ``observations -> (n, d)`` codes.

    Accepted
    --------
    - an ``nn.Module`` instance: put in eval mode (and moved to ``device``); called as ``module(x)``, so its
      ``forward`` must return the codes (for a VAE, a module whose forward returns the posterior mean);
    - any other callable taking one batch of observations (a function, a bound method such as
      ``model.encode``, an object with ``__call__``): used as it is; it gets the observations on the CPU and
      handles ``device`` itself;
    - a factory: a class, or a callable whose parameters all have defaults, called once with no arguments; it
      must return one of the two above.

    Parameters
    ----------
    obj
        The object (e.g. ``module.attribute`` of ``groupdrl verify --encoder module:attribute``).
    device : str or torch.device, optional
        ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"auto"`` (CUDA when available): where an ``nn.Module`` runs;
        :func:`encode` then moves each batch of observations there.
    """
    if isinstance(obj, type) or (callable(obj) and not isinstance(obj, torch.nn.Module) and _takes_no_input(obj)):
        made = obj()
        if not callable(made):
            raise TypeError(f"encoder: the factory {getattr(obj, '__name__', obj)!r} returned "
                            f"{type(made).__name__}, expected an nn.Module or a callable taking observations")
        if isinstance(made, type) or (not isinstance(made, torch.nn.Module) and _takes_no_input(made)):
            raise TypeError(f"encoder: the factory {getattr(obj, '__name__', obj)!r} returned another factory; "
                            "expected an nn.Module or a callable taking observations")
        obj = made
    if not callable(obj):
        raise TypeError(f"encoder: expected an nn.Module, a callable taking observations or a factory of one, "
                        f"got {type(obj).__name__}")
    if isinstance(obj, torch.nn.Module):
        obj.eval()
        if device is not None:
            obj.to(resolve_device(device))
    return obj


def _takes_no_input(fn: Callable) -> bool:
    """Whether ``fn`` can be called with no argument (every parameter has a default or is ``*args``/``**kw``)."""
    import inspect

    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature: treat as an encoder
        return False
    required = [p for p in params if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD,
                                                                          p.KEYWORD_ONLY)]
    takes_args = any(p.kind == p.VAR_POSITIONAL for p in params)
    return not required and not takes_args
