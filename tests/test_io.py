"""Atomic writes: nothing half-written on failure."""

from __future__ import annotations

import pytest

from hcrisis.errors import InputError
from hcrisis.files import atomic_path, read_bytes, sha256_file, write_atomic


def test_write_and_hash(tmp_path):
    p = write_atomic(tmp_path / "a" / "x.txt", "héllo\n")
    assert p.read_bytes() == "héllo\n".encode()
    # sha256 of the UTF-8 bytes of "héllo\n", computed with `printf 'héllo\n' | sha256sum`
    assert sha256_file(p) == "b95becd154aa095f76c4ca47a5aeb8350d6dfcb838404edfc9dae06628de938d"


def test_failure_leaves_nothing(tmp_path):
    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_failure_keeps_previous_file(tmp_path):
    target = write_atomic(tmp_path / "out.csv", "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("new")
            raise RuntimeError("boom")
    assert target.read_text() == "old" and len(list(tmp_path.iterdir())) == 1


def test_read_errors(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_bytes(tmp_path / "nope")
    with pytest.raises(InputError, match="is a folder"):
        read_bytes(tmp_path)
    big = write_atomic(tmp_path / "big", b"x" * 11)
    with pytest.raises(InputError, match="over the limit of 10 bytes"):
        read_bytes(big, limit=10)
