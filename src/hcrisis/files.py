"""Atomic, deterministic file output and hashing.

Every writer goes through `write_atomic`: output is written to a temporary
file in the target folder and renamed, so an interrupted or failing command
never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from hcrisis.errors import InputError

MAX_READ_BYTES = 50 * 1024 * 1024


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` on success."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix or target.suffix,
                               dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """Write text (UTF-8, LF) or bytes to `path` atomically."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_path(path) as tmp:
        tmp.write_bytes(payload)
    return Path(path)


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_bytes(path: str | Path, limit: int = MAX_READ_BYTES) -> bytes:
    """Read a file, with one-line errors for the usual failures."""
    p = Path(path)
    if not p.exists():
        raise InputError("file not found", path=p, fix="check the path")
    if p.is_dir():
        raise InputError("is a folder, not a file", path=p, fix="name a file")
    size = p.stat().st_size
    if size > limit:
        raise InputError(f"file is {size} bytes, over the limit of {limit} bytes", path=p,
                         fix="split the file or raise the size limit")
    try:
        return p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", path=p,
                         fix="check its permissions") from None
