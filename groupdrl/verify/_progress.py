"""Progress lines for the long parts of a verification (``progress=`` of :func:`~groupdrl.verify.verify`)."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Progress = Callable[[str], None]


@contextmanager
def step(progress: Progress | None, what: str) -> Iterator[None]:
    """Report ``what …`` before a part and ``what: 1.2 s`` after it to ``progress`` (nothing when ``None``)."""
    if progress is None:
        yield
        return
    if not callable(progress):
        raise TypeError(f"progress: expected a callable taking one line of text, or None, got "
                        f"{type(progress).__name__}")
    progress(f"{what} …")
    start = time.perf_counter()
    yield
    progress(f"{what}: {time.perf_counter() - start:.1f} s")
