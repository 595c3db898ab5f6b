"""Partitions of a corpus: whole documents, planned from file sizes, read on their own.

A folder corpus (a `manifest.yaml`) is cut by `plan` into runs of documents
in manifest order of about `PARTITION_BYTES` of files; a packed corpus
(`pack_corpus`, `hcrisis corpus pack`) is already cut: one Parquet file of
segment rows per partition and `pack.json` beside them. Either way a
partition is described by a small picklable `Partition` and read where it
is reduced (`Source.segments`), so no text crosses between processes.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hcrisis.errors import CorpusError, InputError
from hcrisis.files import sha256_file, write_atomic

# About 1.3M words of transcript files per partition: a partition's tokens and
# text peak at ~0.3 GB in the process that reduces it (measured in benchmarks/).
PARTITION_BYTES = 8_000_000
PACK_FILE = "pack.json"
PACK_FORMAT = 1


@dataclass(frozen=True)
class Partition:
    """The documents of one partition (in manifest order), or the file of a packed one."""

    index: int
    documents: tuple[str, ...]
    file: str | None = None


def plan(sizes: list[tuple[str, int]], max_bytes: int = PARTITION_BYTES) -> list[Partition]:
    """Consecutive documents (id, bytes) grouped up to `max_bytes` (at least one each)."""
    parts: list[list[str]] = []
    total = 0
    for doc_id, size in sizes:
        if not parts or total + size > max_bytes:
            parts.append([])
            total = 0
        parts[-1].append(doc_id)
        total += size
    return [Partition(i, tuple(p)) for i, p in enumerate(parts)]


class Source:
    """Where partitions are read from."""

    name: str = ""

    def partitions(self, max_bytes: int = PARTITION_BYTES) -> list[Partition]:
        raise NotImplementedError

    def segments(self, part: Partition) -> pd.DataFrame:
        raise NotImplementedError

    def rows(self, part: Partition) -> tuple[pd.DataFrame, list[str]]:
        """The partition's segments table with each text replaced by its mark
        (`hcrisis.ingest.corpus.outline_marks`), and the texts apart."""
        from hcrisis.ingest.corpus import outline_marks

        segments = self.segments(part)
        texts = segments["text"].tolist()
        return segments.assign(text=outline_marks(texts)), texts

    def columns(self) -> list[str]:
        """Columns of the segments table (fixed ones, then attributes)."""
        raise NotImplementedError

    def attributes(self) -> list[str]:
        """The corpus's declared attributes."""
        raise NotImplementedError

    @property
    def path(self) -> Path | None:
        """The file errors about the whole corpus name (its manifest, or pack.json)."""
        raise NotImplementedError

    def outline_corpus(self, segments: pd.DataFrame):
        """A `Corpus` of the manifest and registry with `segments` as its table (for the
        checks and the privacy guard a command runs on the whole corpus)."""
        raise InputError("a packed corpus has no manifest for the commands' checks and privacy guard",
                         path=getattr(self, "folder", None), fix="give the corpus folder")


class FolderSource(Source):
    """A corpus folder: its manifest and registry read once (`CorpusSpec`), documents per partition."""

    def __init__(self, path: str | Path):
        from hcrisis.ingest.corpus import read_spec
        self.spec = read_spec(path)
        self.name = self.spec.manifest["name"]

    def partitions(self, max_bytes: int = PARTITION_BYTES) -> list[Partition]:
        return plan([(i, f.stat().st_size if f.is_file() else 0) for i, f in self.spec.entries()], max_bytes)

    def segments(self, part: Partition) -> pd.DataFrame:
        return self.spec.load(documents=set(part.documents)).segments

    def rows(self, part: Partition) -> tuple[pd.DataFrame, list[str]]:
        texts: list[str] = []
        return self.spec.load(documents=set(part.documents), texts=texts).segments, texts

    def columns(self) -> list[str]:
        from hcrisis.ingest.corpus import SEGMENT_COLUMNS
        return SEGMENT_COLUMNS + self.spec.attributes

    def attributes(self) -> list[str]:
        return self.spec.attributes

    @property
    def path(self) -> Path:
        return self.spec.manifest_path

    def outline_corpus(self, segments: pd.DataFrame):
        from hcrisis.ingest.corpus import Corpus
        spec = self.spec
        return Corpus(spec.root, spec.manifest["name"], spec.manifest, spec.attributes, spec.registry, segments)


class LoadedSource(Source):
    """A corpus already loaded (e.g. with --skip-bad): partitions are row ranges of its table."""

    def __init__(self, corpus):
        self.loaded, self.table, self.name = corpus, corpus.segments, corpus.name

    def partitions(self, max_bytes: int = PARTITION_BYTES) -> list[Partition]:
        chars = self.table.groupby("document_id", sort=False)["text"].apply(lambda t: int(t.str.len().sum()))
        return plan(list(chars.items()), max_bytes)

    def segments(self, part: Partition) -> pd.DataFrame:
        return self.table[self.table["document_id"].isin(part.documents)].reset_index(drop=True)

    def columns(self) -> list[str]:
        return list(self.table.columns)

    def attributes(self) -> list[str]:
        return self.loaded.attributes

    @property
    def path(self) -> Path:
        return self.loaded.manifest_path

    def outline_corpus(self, segments: pd.DataFrame):
        return self.loaded


class PackedSource(Source):
    """A packed corpus: `pack.json` and one Parquet file per partition."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        try:
            self.info = json.loads((self.folder / PACK_FILE).read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"unreadable pack description: {exc.__class__.__name__}",
                             path=self.folder / PACK_FILE, fix="pack the corpus again with hcrisis corpus pack") from None
        if self.info.get("format") != PACK_FORMAT:
            raise InputError(f"pack format {self.info.get('format')} is not {PACK_FORMAT}",
                             path=self.folder / PACK_FILE, fix="pack the corpus again with this hcrisis")
        self.name = self.info["name"]

    def partitions(self, max_bytes: int = PARTITION_BYTES) -> list[Partition]:
        return [Partition(i, tuple(p["documents"]), p["file"]) for i, p in enumerate(self.info["partitions"])]

    def segments(self, part: Partition) -> pd.DataFrame:
        import pyarrow.parquet as pq

        path = self.folder / part.file
        try:
            table = pq.read_table(path, memory_map=True)
        except (OSError, ValueError) as exc:
            raise InputError(f"unreadable partition: {exc.__class__.__name__}", path=path,
                             fix="pack the corpus again with hcrisis corpus pack") from None
        return table.to_pandas().astype({"time_start": object, "time_end": object})

    def columns(self) -> list[str]:
        from hcrisis.ingest.corpus import SEGMENT_COLUMNS
        return SEGMENT_COLUMNS + self.attributes()

    def attributes(self) -> list[str]:
        return list(self.info["attributes"])

    @property
    def path(self) -> Path:
        return self.folder / PACK_FILE


# The columns of a segment row that the whole corpus's checks read, besides the attributes
# (every column after `SEGMENT_COLUMNS`): `select` and `check_segments` (the selectable
# columns, whether the text has a word), the one language per scope, and the privacy
# guard's speakers and participants. Not the ids (checked on their hashes,
# `check_unique_ids`), offsets, position or times.
OUTLINE_COLUMNS = ("document_id", "kind", "speaker", "participant_id", "is_interviewer", "speaker_role",
                   "language", "text")


def outline(segments: pd.DataFrame) -> pd.DataFrame:
    """The segments table as the whole corpus's checks read it, without its text (`compact`
    of the table with each text as its `outline_marks`)."""
    from hcrisis.ingest.corpus import outline_marks

    return compact(segments.assign(text=outline_marks(segments["text"].tolist())))


def compact(rows: pd.DataFrame) -> pd.DataFrame:
    """Segment rows whose text is already its mark, kept as a client holds them for every
    row of a corpus: the columns the checks read (`OUTLINE_COLUMNS` and the attributes),
    each string column as a categorical with sorted categories (a corpus repeats a few
    documents, speakers and attribute values over many rows). Values, masks, `unique`
    and comparisons read the same; ~13 bytes a row instead of ~245."""
    from hcrisis.ingest.corpus import SEGMENT_COLUMNS

    kept = [c for c in rows.columns if c in OUTLINE_COLUMNS or c not in SEGMENT_COLUMNS]
    return pd.DataFrame({c: rows[c].astype("category") if _strings(rows[c]) else rows[c] for c in kept},
                        copy=False)


def _strings(column: pd.Series) -> bool:
    return not isinstance(column.dtype, pd.CategoricalDtype) and pd.api.types.is_string_dtype(column)


def merge_outlines(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Partitions' outlines (`compact`) as one, in partition order: each categorical on the
    union of the partitions' categories, sorted, so the merge equals the outline of the
    whole table. (Concatenating categoricals with different categories would give plain
    strings.) Partitions without rows add nothing."""
    from pandas.api.types import union_categoricals

    parts = [p for p in parts if len(p)] or parts[:1]
    if len(parts) < 2:
        return parts[0].reset_index(drop=True) if parts else pd.DataFrame()
    merged = {}
    for c in parts[0].columns:
        columns = [p[c] for p in parts]
        merged[c] = (pd.Series(union_categoricals(columns, sort_categories=True), name=c)
                     if isinstance(columns[0].dtype, pd.CategoricalDtype) else pd.concat(columns, ignore_index=True))
    return pd.DataFrame(merged, copy=False)


def read_outline(corpus: str | Path):
    """The corpus folder as a `Corpus` whose segments table is its outline, read partition
    by partition: what a command selects and checks segments on without holding the text."""
    from hcrisis.errors import CorpusError

    source = FolderSource(corpus)
    segments = merge_outlines([compact(source.rows(p)[0]) for p in source.partitions()])
    if segments.empty:
        raise CorpusError("corpus has no text segments", path=source.spec.manifest_path,
                          fix="list at least one non-empty document or table")
    return source.outline_corpus(segments)


def open_source(corpus) -> Source:
    """A packed corpus folder (with pack.json), a corpus folder, a loaded corpus, or a source."""
    if isinstance(corpus, Source):
        return corpus
    if not isinstance(corpus, (str, Path)):
        return LoadedSource(corpus)
    return PackedSource(corpus) if (Path(corpus) / PACK_FILE).is_file() else FolderSource(corpus)


def pack_corpus(corpus: str | Path, out: str | Path, max_bytes: int = PARTITION_BYTES) -> list[Path]:
    """Write the corpus's segments as Parquet partitions (`part-00000.parquet`, ...) and
    `pack.json` (name, attributes, and per partition its file, documents, rows and sha256)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = FolderSource(corpus)
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError("output folder is not empty", path=out, fix="give a new or empty folder for --out")
    # written beside the destination and renamed at the end: a failed pack leaves nothing at --out
    work = out.with_name(out.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    names, parts = [], []
    try:
        for part in source.partitions(max_bytes):
            segments = source.segments(part)
            name = f"part-{part.index:05d}.parquet"
            pq.write_table(pa.Table.from_pandas(segments, preserve_index=False), work / name,
                           compression="zstd", write_statistics=False)
            names.append(name)
            parts.append({"file": name, "documents": list(part.documents), "rows": len(segments),
                          "sha256": sha256_file(work / name)})
        info = {"format": PACK_FORMAT, "name": source.name, "attributes": source.spec.attributes,
                "partitions": parts}
        write_atomic(work / PACK_FILE, json.dumps(info, indent=2, ensure_ascii=False) + "\n")
        if out.exists():
            out.rmdir()
        work.rename(out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return [out / n for n in [*names, PACK_FILE]]


def id_hashes(segments: pd.DataFrame):
    """64-bit hashes of a partition's segment ids: what `check_unique_ids` compares across
    partitions (each partition's own ids are checked when it is read)."""
    return pd.util.hash_array(segments["segment_id"].to_numpy(dtype=object))


def check_unique_ids(source: Source, parts: list[Partition], hashes: list) -> None:
    """The error a corpus read whole gives when a segment id occurs twice (naming the
    first row whose id an earlier row has), for ids in two partitions (a table's ids may
    clash with another table's or a document's), from the partitions' hashes of their
    ids (`id_hashes`, 8 bytes a row, where the ids' strings would cost ~60 in the
    client): the partitions holding a clash of hashes are read again to name the id, and
    to tell it from two ids of the same hash."""
    import numpy as np

    if len(hashes) < 2:
        return
    every = np.concatenate(hashes)
    ordered = np.sort(every)
    if not (ordered[1:] == ordered[:-1]).any():
        return
    part_of = np.repeat(np.arange(len(hashes)), [len(h) for h in hashes])
    first_row = np.cumsum([0, *(len(h) for h in hashes)])
    read: dict[int, list] = {}

    def segment_id(row: int):
        k = int(part_of[row])
        if k not in read:
            read[k] = source.segments(parts[k])["segment_id"].tolist()
        return read[k][row - first_row[k]]

    seen: dict[int, list[int]] = {}
    for row in np.flatnonzero(pd.Series(every).duplicated().to_numpy()).tolist():
        if every[row] not in seen:
            seen[every[row]] = np.flatnonzero(every[:row] == every[row]).tolist()
        earlier, name = seen[every[row]], segment_id(row)
        if any(segment_id(e) == name for e in earlier):
            _clash(name, source)
        earlier.append(row)


def _clash(name: str, source: Source) -> None:
    raise CorpusError(f"segment id '{name}' occurs twice", path=source.path,
                      fix="make the tables' id columns unique across the corpus")
