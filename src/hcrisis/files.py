"""Atomic, deterministic file output; bounded, contained input; hashing.

Every writer goes through `write_atomic`: output is written to a hidden
temporary file in the target folder and renamed, so an interrupted or failing
command never leaves a half-written file behind. Temporary files left by a
killed process are removed by the next write into the same folder, and
outputs get the user's usual file mode (the umask), as any other program's.

Every file a manifest or study names is read through `read_bytes`: only a
regular file (never a device, a pipe or a folder), at most `limit` bytes,
and through `contained` only inside the folder that names it.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import hashlib
import os
import re
import secrets
import stat
from pathlib import Path
from typing import Iterator

from hcrisis.errors import InputError

MAX_READ_BYTES = 50 * 1024 * 1024
# zlib level of every PNG written (clouds, coding figures): level 3 against Pillow's
# default 6 takes a third less time (a cloud ~0.06 -> ~0.04 CPU-s, ~0.2 CPU-s over the
# thesis study's twelve PNGs) for clouds ~7% larger and matplotlib's figures ~3% smaller.
PNG_COMPRESS_LEVEL = 3
# The reads being recorded by `recording_reads` (None: not recording).
_READS: contextvars.ContextVar[dict[Path, str] | None] = contextvars.ContextVar("hcrisis_reads", default=None)
# Folders whose dead writers' temporary files this process has removed.
_SWEPT: set[Path] = set()
# `.<target name>.<writer's pid>.<random>.tmp<suffix>`: the pid tells a live writer's file from a dead one's
_TEMP = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{16}\.tmp(?:\.\w+)?")
_TEMP_FOLDER = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)\.[a-z0-9_]{8}\.(?P<kind>\w+)\.tmpdir")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # another user's process
        return True
    return True


def remove_stale_temps(folder: Path) -> list[Path]:
    """Remove the temporary files and folders (`temp_folder`) of writers that died in
    `folder`; return them."""
    import shutil

    removed = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            m = _TEMP.fullmatch(entry.name) or _TEMP_FOLDER.fullmatch(entry.name)
            if m and int(m["pid"]) != os.getpid() and not _pid_alive(int(m["pid"])):
                with contextlib.suppress(FileNotFoundError):
                    if entry.is_dir(follow_symlinks=False):
                        shutil.rmtree(entry.path)
                    else:
                        os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


def temp_folder(parent: str | Path, name: str, kind: str) -> Path:
    """A new private folder (mode 0700) in `parent` for a command's work in progress
    (pieces of transcripts' text, token files). Its name holds this process's id, so that
    when a command is killed the next one writing there removes it (`remove_stale_temps`);
    the caller removes it when done."""
    import tempfile

    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(parent)
    return Path(tempfile.mkdtemp(prefix=f".{name}.{os.getpid()}.", suffix=f".{kind}.tmpdir", dir=parent))


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` on success.

    The temporary file is created (empty) with mode 0666 less the umask, so
    the renamed output has the mode any new file of the user's would have.
    The name ends in `suffix` (default: the target's), for writers that pick
    a format by extension.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.parent not in _SWEPT:   # once per folder and run: a redacted copy writes thousands
        remove_stale_temps(target.parent)
        _SWEPT.add(target.parent)
    tmp_path = target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(8)}.tmp{suffix or target.suffix}"
    os.close(os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
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
    """A regular file's bytes, at most `limit` of them, with one-line errors.

    The file is opened without blocking and checked on the opened descriptor,
    so a FIFO, a device (`/dev/zero`, whose size reads as 0) or a file swapped
    for one after a check is refused, and the read itself stops past `limit`
    whatever the size said.
    """
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise InputError("file not found", path=p, fix="check the path") from None
    except IsADirectoryError:
        raise InputError("is a folder, not a file", path=p, fix="name a file") from None
    except OSError as exc:
        if exc.errno == errno.ENXIO:   # a FIFO no one writes to
            raise InputError("not a regular file", path=p, fix="name a regular file") from None
        raise InputError(f"cannot read file: {exc.strerror}", path=p,
                         fix="check its permissions") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise InputError("is a folder, not a file", path=p, fix="name a file")
        raise InputError("not a regular file (a device, pipe or socket)", path=p,
                         fix="name a regular file")
    with os.fdopen(fd, "rb") as fh:
        try:
            data = fh.read(limit + 1)
        except OSError as exc:
            raise InputError(f"cannot read file: {exc.strerror}", path=p,
                             fix="check its permissions") from None
    if len(data) > limit:
        size = max(os.stat(p).st_size, len(data)) if p.exists() else len(data)
        raise InputError(f"file is {size} bytes, over the limit of {limit} bytes", path=p,
                         fix="split the file or raise the size limit")
    reads = _READS.get()
    if reads is not None:
        reads[p.resolve()] = hashlib.sha256(data).hexdigest()
    return data


@contextlib.contextmanager
def recording_reads() -> Iterator[dict[Path, str]]:
    """Within the block, record the SHA-256 of the bytes of every `read_bytes`
    (resolved path -> hash): the files as they were read, for provenance."""
    reads: dict[Path, str] = {}
    token = _READS.set(reads)
    try:
        yield reads
    finally:
        _READS.reset(token)


def read_hashed(path: str | Path, limit: int = MAX_READ_BYTES) -> tuple[bytes, str]:
    """`read_bytes` and the SHA-256 of exactly the bytes read.

    Provenance records should take this hash rather than hash the file again
    later: a file edited in between would be recorded as it is, not as it
    was analysed.
    """
    data = read_bytes(path, limit)
    return data, hashlib.sha256(data).hexdigest()


def contained(base: Path, name: str, *, named_in: Path, key: str, line: int | None = None,
              within: Path | None = None) -> Path:
    """`base / name` with symlinks resolved, refused unless it stays inside `within`
    (default `base`). `named_in`, `key` and `line` (the file, key and line that give
    the path) are for the error."""
    root = (within or base).resolve()
    target = (base / name).resolve()
    if target != root and root not in target.parents:
        raise InputError(f"{key}: '{name}' is outside the folder {root}", path=named_in, line=line,
                         fix="keep the file inside the folder, or declare the folder it lives in "
                             "as 'base_folder'")
    return target
