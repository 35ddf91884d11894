"""Atomic file writes: the one way groupdrl writes a file a user keeps (checkpoints, configs, reports)."""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def atomic_write(path: str | os.PathLike, data: bytes | str) -> None:
    """Write ``data`` (``str`` as UTF-8) to a new file next to ``path``, fsync it, then rename it over ``path``.

    A reader never sees half a file and the old file survives a failed or interrupted write. The file gets
    the mode ``open`` gives (0666 minus the umask), not ``mkstemp``'s 0600; the temporary name is unique, so
    two writers of one path never share a temporary file.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
