"""groupdrl._io.atomic_write: the one way files a user keeps are written."""
from __future__ import annotations

import os

import pytest

from groupdrl._io import atomic_write


def test_writes_text_and_bytes_with_the_umask_mode(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "a.md", "héllo")
        atomic_write(tmp_path / "b.bin", b"\x00\x01")
    finally:
        os.umask(old)
    assert (tmp_path / "a.md").read_text(encoding="utf-8") == "héllo"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "a.md").stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "config.json"
    atomic_write(path, "{}")
    with pytest.raises(TypeError):
        atomic_write(path, 42)  # not bytes or str: fails inside the write
    assert path.read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]
