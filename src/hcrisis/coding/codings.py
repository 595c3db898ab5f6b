"""Codings tables on disk: what `hcrisis code` writes and `agree`/`suggest` read.

`hcrisis code` writes codings.csv and quotes/<code_id>.md from partitions
coded on their own (`hcrisis.coding.apply.run_code`), without holding every
coding: each partition's codings arrive as `Pieces` — each coding's line of
codings.csv, its block of its code's quotation file (and, for the privacy
guard, the unit's text), already formatted where the text is — and the
sort keys of the whole file's order (segment id, start, code). `Spill`
appends the pieces to files in a private temporary folder beside the output
folder as they arrive and keeps only the keys (a few bytes per coding); once
every partition is in, the outputs are copied from those files in the whole
corpus's order, in runs of consecutive pieces, and the folder is removed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd

from hcrisis.errors import InputError
from hcrisis.files import atomic_path, temp_folder

KINDS = ("csv", "quotes", "raw")   # the pieces' files: codings.csv lines, quotation blocks, unit texts
GUARD_CHUNK = 20_000               # units checked by the privacy guard at a time
COPY_BYTES = 1 << 22               # bytes copied from a pieces file at a time


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
    """One partition's codings, in its own order: sort keys and formatted pieces.

    `segment_ids` are the distinct coded segment ids, sorted, and `segment` each
    coding's index into them; `quotes` holds the quotation blocks grouped by code
    (stable: each code's in the codings' order), its lengths in that order too.
    """

    segment_ids: np.ndarray
    segment: np.ndarray
    start: np.ndarray
    order: np.ndarray
    data: dict[str, tuple[bytes | Path, np.ndarray]]

    @classmethod
    def of(cls, segment_ids: np.ndarray, start: np.ndarray, order: np.ndarray,
           texts: dict[str, list[str]], folder: Path | None = None) -> "Pieces":
        """From each coding's segment id, start, code order and texts (by kind of `KINDS`);
        with `folder` (a `Spill`'s, on this machine) the bytes are left in files there
        rather than carried to the process that merges them."""
        ids, segment = np.unique(segment_ids.astype(str).astype(object), return_inverse=True)
        data = {kind: packed(t if kind != "quotes" else [t[i] for i in np.argsort(order, kind="stable").tolist()])
                for kind, t in texts.items()}
        if folder is not None:
            data = {kind: (_left_in(folder, kind, b), lengths) for kind, (b, lengths) in data.items()}
        # 32-bit keys travel from each partition (`Spill` widens them for the sort)
        return cls(ids, segment.astype(np.int32), np.asarray(start, np.int32), np.asarray(order, np.int32), data)


def _left_in(folder: Path, kind: str, data: bytes) -> Path:
    with tempfile.NamedTemporaryFile(dir=folder, prefix=f"{kind}.", delete=False) as fh:
        fh.write(data)
    return Path(fh.name)


class Spill:
    """Partitions' pieces on disk, merged into the outputs in the whole corpus's order
    (`hcrisis.coding.apply.apply_codebook`'s: segment id, then start, then code).

    A context manager: the temporary folder (beside `out`, private to the user)
    is removed on leaving, whether the outputs were written or not.
    """

    def __init__(self, out: Path):
        self.folder = temp_folder(Path(out).parent, Path(out).name, "coding")
        self.files = {kind: open(self.folder / kind, "wb") for kind in KINDS}
        self.keys: list[tuple[np.ndarray, ...]] = []
        self.ids: list[np.ndarray] = []
        self.spans: dict[str, list[np.ndarray]] = {kind: [] for kind in KINDS}

    def __enter__(self) -> "Spill":
        return self

    def __exit__(self, *exc) -> None:
        for fh in self.files.values():
            fh.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def add(self, pieces: Pieces) -> None:
        """Append a partition's pieces (partitions in any order: the keys decide)."""
        offset = sum(len(i) for i in self.ids)
        self.ids.append(pieces.segment_ids)
        self.keys.append((pieces.segment.astype(np.int64) + offset, pieces.start, pieces.order))
        grouped = np.argsort(pieces.order, kind="stable")
        for kind, (data, lengths) in pieces.data.items():
            at = self.files[kind].tell()
            if isinstance(data, Path):     # left in a file by the process that coded the partition
                with open(data, "rb") as src:
                    shutil.copyfileobj(src, self.files[kind], COPY_BYTES)
                data.unlink()
            else:
                self.files[kind].write(data)
            starts, lengths = at + np.cumsum(lengths) - lengths, lengths.astype(np.int32)
            if kind == "quotes":   # blocks grouped by code: back to the codings' order
                back = np.empty_like(grouped)
                back[grouped] = np.arange(len(grouped))
                starts, lengths = starts[back], lengths[back]
            self.spans[kind].append((starts, lengths))

    def sort(self) -> None:
        """The whole corpus's order of the codings (`self.order`), and their segment ids' ranks."""
        for fh in self.files.values():
            fh.flush()
        empty = np.zeros(0, np.int64)
        ids = np.concatenate(self.ids) if self.ids else np.array([], dtype=object)
        self.segment_ids, inverse = np.unique(ids, return_inverse=True)
        segment, start, self.code = (np.concatenate(k) for k in zip(*self.keys)) if self.keys else (empty,) * 3
        self.rank = inverse.reshape(-1)[segment]
        self.order = np.lexsort((self.code, start, self.rank))
        self.bounds = {kind: tuple(np.concatenate(c) for c in zip(*s)) if s else (empty, empty.astype(np.int32))
                       for kind, s in self.spans.items()}
        self.keys, self.spans = [], {}

    @property
    def codings(self) -> int:
        return len(self.order)

    def _bounds(self, kind: str, which: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where the pieces `which` of `kind` start and end in its file."""
        starts, lengths = self.bounds[kind]
        return starts[which], starts[which] + lengths[which]

    def _copy(self, kind: str, which: np.ndarray, fh) -> None:
        """Write the pieces `which` (in that order) of `kind`, each run of consecutive
        pieces in the file read at once (in blocks of `COPY_BYTES`: files are read, not
        memory-mapped, so that the pages read do not count as this process's memory)."""
        if not len(which):
            return
        a, b = self._bounds(kind, which)
        cut = np.flatnonzero(a[1:] != b[:-1]) + 1
        with open(self.folder / kind, "rb") as src:
            for first, last in zip(np.r_[0, cut].tolist(), np.r_[cut, len(a)].tolist()):
                at, end = int(a[first]), int(b[last - 1])
                while at < end:
                    fh.write(block := os.pread(src.fileno(), min(end - at, COPY_BYTES), at))
                    at += len(block)

    def write_csv(self, path: Path, header: str) -> Path:
        """codings.csv: the header, then every coding's line in order."""
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            fh.write(header.encode("utf-8"))
            self._copy("csv", self.order, fh)
        return path

    def by_code(self) -> Iterator[tuple[int, np.ndarray]]:
        """Each code with codings (in codebook order) and its codings in order."""
        ranked = self.order[np.argsort(self.code[self.order], kind="stable")]
        cut = np.flatnonzero(np.diff(self.code[ranked])) + 1
        for which in np.split(ranked, cut) if len(ranked) else []:
            yield int(self.code[which[0]]), which

    def write_quotes(self, folder: Path, header: Callable[[int, int], tuple[str, str]] | None) -> list[Path]:
        """quotes/<code_id>.md for each code with codings: `header(code, n)` gives its
        file name and first lines, then its blocks follow (the last one's final blank
        line left out); files of other codes (every file, without `header`) removed."""
        written = []
        for code, which in self.by_code() if header is not None else ():
            name, head = header(code, len(which))
            with atomic_path(folder / name) as tmp, open(tmp, "wb") as fh:
                fh.write(head.encode("utf-8"))
                self._copy("quotes", which, fh)
                fh.truncate(fh.tell() - 1)
            written.append(folder / name)
        for stale in sorted(folder.glob("*.md")):
            if stale not in written:
                stale.unlink()
        return written

    def units(self) -> Iterator[pd.DataFrame]:
        """segment_id and quote (the unit's text) of every coding in order, by chunks."""
        with open(self.folder / "raw", "rb") as src:
            for at in range(0, len(self.order), GUARD_CHUNK):
                which = self.order[at:at + GUARD_CHUNK]
                a, b = self._bounds("raw", which)
                yield pd.DataFrame({"segment_id": self.segment_ids[self.rank[which]],
                                    "quote": [os.pread(src.fileno(), y - x, x).decode("utf-8")
                                              for x, y in zip(a.tolist(), b.tolist())]})
