"""Shared parts of the fuzz suite: the contract every entry point is held to, a hang guard, value strategies.

Contract: a call on generated input either raises a clear error — ``ValueError``, ``TypeError`` or
``CheckpointError`` whose message starts with (or names) the argument at fault — or returns a correct,
finite answer, within a time bound.
"""
from __future__ import annotations

import contextlib
import re
import signal

import numpy as np
import torch
from hypothesis import strategies as st

from groupdrl.train import CheckpointError

CLEAR = (ValueError, TypeError, CheckpointError)
#: Hang guard of one call (seconds). Not a speed target: a call that does not return in this time hangs.
BOUND_S = 60


class Hang(AssertionError):
    """A call ran past :data:`BOUND_S`."""


@contextlib.contextmanager
def time_bound(seconds: float = BOUND_S):
    """Fail with :class:`Hang` when the block runs longer than ``seconds`` (SIGALRM, main thread)."""
    def _raise(signum, frame):
        raise Hang(f"no answer within {seconds} s")

    old = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def attempt(call, *names: str) -> tuple[object, str | None]:
    """Run ``call()`` under the time bound: ``(result, None)``, or ``(None, message)`` after a clear error naming
    one of ``names``. Anything else (another exception, an error naming no argument, a multi-line message)
    fails the test."""
    try:
        with time_bound():
            return call(), None
    except CLEAR as err:
        msg = str(err)
        assert "\n" not in msg.strip(), f"multi-line error: {msg!r}"
        assert any(re.search(rf"(^|[\s:(/,]){re.escape(n)}([\s:\[,/.)]|$)", msg) for n in names), \
            f"{type(err).__name__} names none of {names}: {msg}"
        return None, msg


def outcome(call, *names: str):
    """The result of :func:`attempt`, ``None`` after a clear error."""
    return attempt(call, *names)[0]


DTYPES = [torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.float16,
          torch.bfloat16, torch.float32, torch.float64, torch.complex64]
SPECIALS = [0.0, -0.0, 1.0, -1.0, 0.5, 1e-300, 1e300, -1e300, 1.7e308, float("nan"), float("inf"), float("-inf"),
            2**31, -(2**31), 7.0, 1e-30]


@st.composite
def tensors(draw, shapes=None, dtypes=DTYPES, max_side: int = 5) -> torch.Tensor:
    """A tensor of a drawn dtype and shape, with values mixing small ints, reals and specials."""
    shape = draw(shapes if shapes is not None else st.lists(st.integers(0, max_side), min_size=0, max_size=3)
                 .map(tuple))
    dtype = draw(st.sampled_from(dtypes))
    n = int(np.prod(shape)) if shape else 1
    values = draw(st.lists(st.one_of(st.integers(-3, 9), st.floats(-10, 10), st.sampled_from(SPECIALS)),
                           min_size=n, max_size=n))
    t = torch.tensor(values, dtype=torch.complex128 if dtype.is_complex else torch.float64).reshape(shape)
    with np.errstate(all="ignore"):
        if dtype == torch.bool:
            return t.real.nan_to_num(0) != 0
        if not (dtype.is_floating_point or dtype.is_complex):
            info = torch.iinfo(dtype)
            return t.real.nan_to_num(0, info.max, info.min).clamp(info.min, info.max).to(dtype)
    return t.to(dtype)


def anything() -> st.SearchStrategy:
    """Values of any kind a user might pass by mistake."""
    return st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5),
                     st.lists(st.integers(-3, 9), max_size=4), tensors(), st.just(object()))
