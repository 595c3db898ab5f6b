"""Codings tables on disk: what `hcrisis code` writes and `agree`/`suggest` read.

`hcrisis code` writes codings.csv and quotes/<code_id>.md from partitions
coded on their own (`hcrisis.coding.apply.run_code`), holding neither the
codings nor their keys: each partition's codings become `Pieces` — each
coding's line of codings.csv, its block of its code's quotation file (and,
for the privacy guard, the unit's text), already formatted where the text
is — sorted in the whole corpus's order (segment id, start, code; segment
ids compare as Python strings, so a partition's order is the whole
corpus's restricted to it). They are written as a sorted `Run` to a private
temporary folder beside the output folder (by the process that coded the
partition where it shares this machine's disk, else by the one merging).
Once every partition is in, `merge` reads the runs' keys a block at a time
(a k-way merge holding at most `KEYS_HELD` keys over all runs, whatever the
number of codings) and the outputs are copied from the runs' files in that
order, in stretches of consecutive bytes: codings.csv in one pass, each
quotation file appended to as its code's codings come (`OPEN_FILES` open at
a time). The folder is removed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import OrderedDict
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

import numpy as np
import pandas as pd

from hcrisis.errors import InputError
from hcrisis.files import atomic_path, temp_folder

KINDS = ("csv", "quotes", "raw")   # the pieces' files: codings.csv lines, quotation blocks, unit texts
CSV, QUOTES, RAW = range(3)
# a run's keys, one record per coding in its order: the segment (an index into the run's
# distinct segment ids), start, code, and its pieces' lengths in bytes
KEY = np.dtype([("segment", "<i4"), ("start", "<i4"), ("code", "<i4")] + [(k, "<i4") for k in KINDS])
GUARD_CHUNK = 20_000               # units checked by the privacy guard at a time
COPY_BYTES = 1 << 22               # bytes copied from a run's file at a time
KEYS_HELD = 1 << 16                # keys a merge holds, over all its runs
OPEN_FILES = 64                    # files a merge keeps open for reading, and for appending


def load_codings(path: str | Path) -> pd.DataFrame:
    """A codings CSV with at least segment_id and code_id."""
    from hcrisis.ingest.corpus import read_csv_table

    return checked_codings(read_csv_table(Path(path)), path)


def checked_codings(df: pd.DataFrame, path: str | Path) -> pd.DataFrame:
    """`df` itself, once it has the segment_id and code_id columns codings need."""
    missing = [c for c in ("segment_id", "code_id") if c not in df.columns]
    if missing:
        raise InputError(f"codings table lacks column(s) {', '.join(missing)}", path=path,
                         fix="give a CSV with segment_id and code_id columns, as 'hcrisis code' writes")
    return df


def packed(texts: list[str]) -> tuple[bytes, np.ndarray]:
    """The UTF-8 bytes of the joined texts and each text's length in bytes."""
    encoded = [t.encode("utf-8") for t in texts]
    return b"".join(encoded), np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))


@dataclass
class Pieces:
    """One partition's codings in the whole corpus's order: sort keys and formatted pieces.

    `segment_ids` are the distinct coded segment ids, sorted, and `segment` each
    coding's index into them; `data` holds each kind's bytes and each piece's
    length, the quotation blocks grouped by code (each code's in the codings' order).
    """

    segment_ids: np.ndarray
    segment: np.ndarray
    start: np.ndarray
    order: np.ndarray
    data: dict[str, tuple[bytes, np.ndarray]]

    @classmethod
    def of(cls, segment_ids: np.ndarray, start: np.ndarray, order: np.ndarray,
           texts: dict[str, list[str]]) -> "Pieces":
        """From each coding's segment id, start, code order and texts (by kind of `KINDS`),
        in any order."""
        ids, segment = np.unique(np.asarray([str(i) for i in segment_ids], dtype=object), return_inverse=True)
        segment, start, order = segment.reshape(-1), np.asarray(start, np.int64), np.asarray(order, np.int64)
        sort = np.lexsort((order, start, segment))
        if (sort != np.arange(len(sort))).any():
            segment, start, order = segment[sort], start[sort], order[sort]
            texts = {kind: [t[i] for i in sort.tolist()] for kind, t in texts.items()}
        grouped = np.argsort(order, kind="stable").tolist()
        data = {kind: packed(t if kind != "quotes" else [t[i] for i in grouped]) for kind, t in texts.items()}
        return cls(ids, segment.astype(np.int32), start.astype(np.int32), order.astype(np.int32), data)

    def write(self, folder: Path) -> "Run":
        """These pieces as a `Run` in `folder` (a `Spill`'s)."""
        path = Path(tempfile.mkdtemp(dir=folder, prefix="run."))
        keys = np.zeros(len(self.segment), KEY)
        keys["segment"], keys["start"], keys["code"] = self.segment, self.start, self.order
        grouped = np.argsort(self.order, kind="stable")
        for kind in KINDS:
            data, lengths = self.data.get(kind, (b"", 0))
            (path / kind).write_bytes(data)
            keys[kind][grouped if kind == "quotes" else slice(None)] = lengths   # quotation blocks: by code
        keys.tofile(path / "keys")
        ids, lengths = packed(self.segment_ids.tolist())
        (path / "ids").write_bytes(ids)
        np.r_[0, np.cumsum(lengths)].astype(np.int64).tofile(path / "ids.at")
        sizes = np.bincount(self.order, weights=keys["quotes"]).astype(np.int64)   # each code's blocks' bytes
        return Run(path, len(keys), len(self.segment_ids), np.bincount(self.order), np.cumsum(sizes) - sizes)


@dataclass(frozen=True)
class Run:
    """A partition's codings on disk, sorted (`Pieces.write`): its keys, its distinct
    segment ids (UTF-8, `ids`, with their offsets `ids.at`), and its pieces' files; the
    number of codings of each code, and where each code's quotation blocks start."""

    path: Path
    codings: int
    segments: int
    per_code: np.ndarray
    quotes_at: np.ndarray

    def ids(self, first: int, end: int) -> np.ndarray:
        """Its distinct segment ids `first` to `end` (excluded)."""
        bounds = np.fromfile(self.path / "ids.at", np.int64, count=end - first + 1, offset=8 * first)
        with open(self.path / "ids", "rb") as fh:
            data = _pread(fh, int(bounds[0]), int(bounds[-1]))
        at = (bounds - bounds[0]).tolist()
        return np.array([data[a:b].decode("utf-8") for a, b in zip(at, at[1:])], dtype=object)


def _pread(fh: BinaryIO, at: int, end: int) -> bytes:
    """Bytes `at` to `end` of an open file (read, not memory-mapped: pages read do not
    count as this process's memory)."""
    parts = []
    while at < end:
        parts.append(os.pread(fh.fileno(), min(end - at, COPY_BYTES), at))
        if not parts[-1]:
            raise OSError(f"{fh.name}: ends before byte {end}")
        at += len(parts[-1])
    return b"".join(parts)


@dataclass
class Block:
    """Keys held by a merge, in order: the distinct segment ids they refer to (sorted)
    and each key's index into them, start and code; where each piece starts in its
    kind's file (`at`, a column per kind of `KINDS`) and its length (`size`)."""

    ids: np.ndarray
    segment: np.ndarray
    start: np.ndarray
    code: np.ndarray
    at: np.ndarray
    size: np.ndarray

    def __len__(self) -> int:
        return len(self.segment)

    def last(self) -> tuple[str, int, int]:
        return self.ids[self.segment[-1]], int(self.start[-1]), int(self.code[-1])

    def upto(self, key: tuple[str, int, int] | None) -> int:
        """How many of its keys are ≤ `key` (all, for None)."""
        if key is None:
            return len(self)
        sid, start, code = key
        j = int(np.searchsorted(self.ids, sid))
        n = int(np.searchsorted(self.segment, j))
        if j < len(self.ids) and self.ids[j] == sid:   # the same segment: by start, then code
            same = slice(n, int(np.searchsorted(self.segment, j, side="right")))
            pairs = (self.start[same].astype(np.int64) << 32) | self.code[same]
            n += int(np.searchsorted(pairs, (start << 32) | code, side="right"))
        return n

    def rows(self, first: int, end: int) -> "Block":
        """Keys `first` to `end` (excluded), with the segment ids they refer to."""
        segment = self.segment[first:end]
        lo, hi = (int(segment[0]), int(segment[-1]) + 1) if len(segment) else (0, 0)
        return Block(self.ids[lo:hi], segment - lo, self.start[first:end], self.code[first:end],
                     self.at[first:end], self.size[first:end])


class Cursor:
    """Where a merge is in a run: its next key, and the next byte of each kind's file
    (of each code's blocks, for the quotation blocks)."""

    def __init__(self, run: Run):
        self.run, self.next = run, 0
        self.ordered = np.zeros(len(KINDS), np.int64)
        self.quoted = run.quotes_at.copy()

    @property
    def more(self) -> bool:
        return self.next < self.run.codings

    def read(self, most: int) -> Block:
        """Its next `most` keys (fewer at its end)."""
        keys = np.fromfile(self.run.path / "keys", KEY, count=min(most, self.run.codings - self.next),
                           offset=self.next * KEY.itemsize)
        self.next += len(keys)
        size = np.stack([keys[k].astype(np.int64) for k in KINDS], axis=1).reshape(len(keys), len(KINDS))
        at = self.ordered + np.cumsum(size, axis=0) - size
        self.ordered += size.sum(axis=0)
        at[:, QUOTES] = _grouped_at(keys["code"], size[:, QUOTES], self.quoted)
        lo, hi = (int(keys["segment"][0]), int(keys["segment"][-1]) + 1) if len(keys) else (0, 0)
        return Block(self.run.ids(lo, hi), keys["segment"] - lo, keys["start"], keys["code"], at, size)


def _grouped_at(code: np.ndarray, size: np.ndarray, nexts: np.ndarray) -> np.ndarray:
    """Where each of consecutive pieces starts in a file that holds them grouped by code,
    each code's next at `nexts` (advanced past them)."""
    grouped = np.argsort(code, kind="stable")
    c, s = code[grouped], size[grouped]
    before = np.cumsum(s) - s
    firsts = np.maximum.accumulate(np.where(np.r_[True, c[1:] != c[:-1]], before, 0)) if len(c) else before
    at = np.empty_like(size)
    at[grouped] = nexts[c] + before - firsts
    np.add.at(nexts, c, s)
    return at


def merge(runs: list[Run], held: int = KEYS_HELD) -> Iterator[tuple[np.ndarray, Block]]:
    """The runs' keys in the whole corpus's order, a batch at a time: each batch's keys
    and their runs (indexes into `runs`). A block-wise k-way merge: a block of keys from
    each run (`held` keys in all, one at least), every key up to the smallest of the
    blocks' last keys (of runs with keys left on disk) merged and handed out, and each
    run whose block is used up given its next."""
    cursors = [Cursor(run) for run in runs]
    most = max(1, held // max(1, len(runs)))
    blocks = [cursor.read(most) for cursor in cursors]
    while any(len(b) for b in blocks):
        bound = min((b.last() for c, b in zip(cursors, blocks) if c.more), default=None)
        cuts = [b.upto(bound) for b in blocks]
        yield _together([(i, b.rows(0, n)) for i, (b, n) in enumerate(zip(blocks, cuts)) if n])
        blocks = [c.read(most) if n == len(b) and c.more else b.rows(n, len(b))
                  for c, b, n in zip(cursors, blocks, cuts)]


def _together(parts: list[tuple[int, Block]]) -> tuple[np.ndarray, Block]:
    """Sorted blocks of different runs (segment ids never shared) as one, in order."""
    if len(parts) == 1:
        return np.full(len(parts[0][1]), parts[0][0]), parts[0][1]
    names, inverse = np.unique(np.concatenate([b.ids for _, b in parts]), return_inverse=True)
    firsts = np.cumsum([0] + [len(b.ids) for _, b in parts])
    rank = inverse.reshape(-1)[np.concatenate([f + b.segment for f, (_, b) in zip(firsts.tolist(), parts)])]
    start, code = (np.concatenate([getattr(b, k) for _, b in parts]) for k in ("start", "code"))
    order = np.lexsort((code, start, rank))
    which = np.repeat([i for i, _ in parts], [len(b) for _, b in parts])[order]
    at, size = (np.concatenate([getattr(b, k) for _, b in parts])[order] for k in ("at", "size"))
    return which, Block(names, rank[order], start[order], code[order], at, size)


class OpenFiles:
    """Files opened as they are asked for, at most `OPEN_FILES` at once (the least
    recently asked for closed first); a context manager closing them all."""

    def __init__(self, mode: str):
        self.mode, self.files = mode, OrderedDict()

    def __call__(self, path: Path) -> BinaryIO:
        if path in self.files:
            self.files.move_to_end(path)
        else:
            if len(self.files) >= OPEN_FILES:
                self.files.popitem(last=False)[1].close()
            self.files[path] = open(path, self.mode)
        return self.files[path]

    def close(self) -> None:
        while self.files:
            self.files.popitem()[1].close()

    def __enter__(self) -> "OpenFiles":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _stretches(which: np.ndarray, at: np.ndarray, end: np.ndarray) -> Iterator[tuple[int, int]]:
    """First and end (excluded) of each run of consecutive pieces in one run's file."""
    cut = (np.flatnonzero((which[1:] != which[:-1]) | (at[1:] != end[:-1])) + 1).tolist()
    return zip([0] + cut, cut + [len(at)])


class Spill:
    """Partitions' codings as sorted runs on disk, merged into the outputs in the whole
    corpus's order (`hcrisis.coding.apply.apply_codebook`'s: segment id, then start,
    then code), holding `held` keys at most (default `KEYS_HELD`).

    A context manager: the temporary folder (beside `out`, private to the user)
    is removed on leaving, whether the outputs were written or not.
    """

    def __init__(self, out: Path, held: int | None = None):
        self.folder = temp_folder(Path(out).parent, Path(out).name, "coding")
        self.held = held or KEYS_HELD
        self.runs: list[Run] = []

    def __enter__(self) -> "Spill":
        return self

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def add(self, pieces: Pieces | Run) -> None:
        """A partition's codings (partitions in any order: the keys decide), written
        here unless already a run."""
        self.runs.append(pieces if isinstance(pieces, Run) else pieces.write(self.folder))

    @property
    def codings(self) -> int:
        return sum(r.codings for r in self.runs)

    @property
    def segments(self) -> int:
        """Distinct coded segments (a segment lies in one partition)."""
        return sum(r.segments for r in self.runs)

    def per_code(self) -> np.ndarray:
        """Codings of each code (codebook order, up to the last coded)."""
        total = np.zeros(max((len(r.per_code) for r in self.runs), default=0), np.int64)
        for run in self.runs:
            total[:len(run.per_code)] += run.per_code
        return total

    def _merged(self) -> Iterator[tuple[np.ndarray, Block]]:
        return merge(self.runs, self.held)

    def _copy(self, reading: OpenFiles, which: np.ndarray, block: Block, kind: int, rows: np.ndarray,
              fh: BinaryIO) -> None:
        """Write the pieces `rows` of a merged block (in that order) of `kind`, each stretch
        of consecutive pieces read at once (in parts of `COPY_BYTES`)."""
        w, at = which[rows], block.at[rows, kind]
        end = at + block.size[rows, kind]
        for first, last in _stretches(w, at, end):
            src, a, b = reading(self.runs[w[first]].path / KINDS[kind]), int(at[first]), int(end[last - 1])
            for part in range(a, b, COPY_BYTES):
                fh.write(_pread(src, part, min(b, part + COPY_BYTES)))

    def write(self, csv: Path, header: str, quotes: Path,
              quote_header: Callable[[int, int], tuple[str, str]] | None) -> list[Path]:
        """codings.csv (`header`, then every coding's line in order) and, with
        `quote_header`, quotes/<code_id>.md for each code with codings:
        `quote_header(code, n)` gives its file name and first lines, then its blocks
        follow (the last one's final blank line left out); in one merge. Files of other
        codes (every file, without `quote_header`) removed."""
        per_code = self.per_code()
        with ExitStack() as stack:
            out = stack.enter_context(open(stack.enter_context(atomic_path(csv)), "wb"))
            files = {}
            for code in np.flatnonzero(per_code).tolist() if quote_header is not None else ():
                name, head = quote_header(code, int(per_code[code]))
                files[code] = (quotes / name, stack.enter_context(atomic_path(quotes / name)))
                files[code][1].write_bytes(head.encode("utf-8"))
            reading, appending = stack.enter_context(OpenFiles("rb")), stack.enter_context(OpenFiles("ab"))
            out.write(header.encode("utf-8"))
            for which, block in self._merged():
                self._copy(reading, which, block, CSV, np.arange(len(block)), out)
                if files:
                    self._append_quotes(reading, appending, which, block, files)
            appending.close()     # before the last byte of each file is cut
            for _, tmp in files.values():
                os.truncate(tmp, tmp.stat().st_size - 1)
        written = [path for path, _ in files.values()]
        for stale in sorted(quotes.glob("*.md")):
            if stale not in written:
                stale.unlink()
        return [csv] + written

    def _append_quotes(self, reading: OpenFiles, appending: OpenFiles, which: np.ndarray, block: Block,
                       files: dict[int, tuple[Path, Path]]) -> None:
        """Each code's quotation blocks of a merged block appended to its file."""
        grouped = np.argsort(block.code, kind="stable")
        code = block.code[grouped]
        cut = (np.flatnonzero(code[1:] != code[:-1]) + 1).tolist()
        for first, end in zip([0] + cut, cut + [len(code)]):
            self._copy(reading, which, block, QUOTES, grouped[first:end], appending(files[int(code[first])][1]))

    def units(self) -> Iterator[pd.DataFrame]:
        """segment_id and quote (the unit's text) of every coding in order, by chunks."""
        with OpenFiles("rb") as reading:
            for which, block in self._merged():
                for first in range(0, len(block), GUARD_CHUNK):
                    rows = np.arange(first, min(len(block), first + GUARD_CHUNK))
                    yield pd.DataFrame({"segment_id": block.ids[block.segment[rows]],
                                        "quote": self._texts(reading, which, block, rows)})

    def _texts(self, reading: OpenFiles, which: np.ndarray, block: Block, rows: np.ndarray) -> list[str]:
        """The units' texts of the rows of a merged block."""
        w, at = which[rows], block.at[rows, RAW]
        end = at + block.size[rows, RAW]
        texts = []
        for first, last in _stretches(w, at, end):
            a = int(at[first])
            data = _pread(reading(self.runs[w[first]].path / "raw"), a, int(end[last - 1]))
            texts += [data[x:y].decode("utf-8") for x, y in zip((at[first:last] - a).tolist(),
                                                                (end[first:last] - a).tolist())]
        return texts
