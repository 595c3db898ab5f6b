"""What a study's outputs folder holds: its tables and figures, with their titles.

The report and the workbook read a study's results only through this
catalogue, never through the steps that wrote them, so they work for any
study and for whatever steps it declares. A table is a CSV file under the
outputs folder; its title is the first heading of its Markdown twin (written
beside it by `hcrisis.tables.write_table`), else its file name. A figure is
an SVG file; its data is the CSV beside it, which the catalogue also lists
as a table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import pandas as pd

from hcrisis.errors import InputError
from hcrisis.files import read_bytes

MAX_TABLE_BYTES = 20 * 1024 * 1024   # a report table larger than this is a mistake, not a result
SKIPPED_FOLDERS = {"quotes"}          # per-code quotation files: text, not tables


@dataclass(frozen=True)
class OutputFile:
    path: Path      # absolute
    rel: str        # relative to the outputs folder, with '/'
    title: str

    @property
    def stem(self) -> str:
        return self.path.stem


@dataclass
class Catalogue:
    root: Path
    tables: list[OutputFile]
    figures: list[OutputFile]
    _read: dict[Path, pd.DataFrame] = field(default_factory=dict, repr=False)

    def table(self, stem: str) -> OutputFile | None:
        """The table whose file name (without .csv) is `stem`, if the study wrote one."""
        return next((t for t in self.tables if t.stem == stem), None)

    def tables_starting(self, prefix: str) -> list[OutputFile]:
        return [t for t in self.tables if t.stem.startswith(prefix)]

    def figure(self, stem: str) -> OutputFile | None:
        return next((f for f in self.figures if f.stem == stem), None)

    def read(self, entry: OutputFile) -> pd.DataFrame:
        """A table as written: text columns as text (never NaN), numbers as numbers.
        Read once: the report and the workbook share it (do not modify it)."""
        if entry.path not in self._read:
            self._read[entry.path] = self._parse(entry)
        return self._read[entry.path]

    @staticmethod
    def _parse(entry: OutputFile) -> pd.DataFrame:
        import io

        data = read_bytes(entry.path, MAX_TABLE_BYTES)
        try:
            return pd.read_csv(io.BytesIO(data), keep_default_na=False, na_values=[""],
                               dtype_backend="numpy_nullable").pipe(_text_columns)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read table: {exc}".splitlines()[0], path=entry.path,
                             fix="re-run `hcrisis reproduce` to rewrite it") from None


def _text_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Empty cells of text columns as '' (they are empty text, not missing numbers), and
    text as it was before the CSV writer's formula guard (`hcrisis.tables.unguard_cell`):
    the page shows it as text and the workbook stores it as a string."""
    from hcrisis.tables import unguard_cell

    df.columns = [unguard_cell(str(c)) for c in df.columns]
    for col in df.columns:
        if df[col].dtype == object or pd.api.types.is_string_dtype(df[col]):
            # tolist(): iterating a pandas string column element by element is slow
            missing = df[col].isna().tolist()
            df[col] = ["" if gap else unguard_cell(str(v)) for v, gap in zip(df[col].tolist(), missing)]
    return df


def _title(csv: Path) -> str:
    """The first heading of the table's Markdown twin, else its file name."""
    md = csv.with_suffix(".md")
    if md.exists():
        with open(md, encoding="utf-8", errors="replace") as fh:
            first = fh.readline(1000).strip()
        if first.startswith("# "):
            return first[2:].strip()
    return csv.stem.replace("_", " ")


def _figure_title(svg: Path) -> str:
    """The SVG's own <title> (the word clouds have one), else its file name."""
    with open(svg, encoding="utf-8", errors="replace") as fh:
        head = fh.read(4000)
    start, end = head.find("<title>"), head.find("</title>")
    if 0 <= start < end:
        import html
        return html.unescape(head[start + 7:end]).strip()
    return svg.stem.replace("_", " ")


def load_catalogue(outputs: str | Path, written: Iterable[str | Path] | None = None) -> Catalogue:
    """The tables and figures of the study's last run under `outputs`, sorted by path (the
    order is part of the output): those in `written` (a run's files), else those the full
    run's manifest.json lists, else (no manifest) every one under the folder. A file another
    command or an earlier run left in the folder is not the study's result."""
    root = Path(outputs).resolve()
    if not root.is_dir():
        raise InputError("outputs folder not found", path=root,
                         fix="run `hcrisis reproduce STUDY` first, or give the study whose outputs to report")
    chosen = _listed(root) if written is None else {Path(p).resolve() for p in written}

    def files(suffix: str) -> list[Path]:
        found = (p for p in root.rglob(f"*{suffix}") if p.is_file() and not p.is_symlink()
                 and not p.name.startswith(".") and not SKIPPED_FOLDERS & set(p.relative_to(root).parts[:-1]))
        return sorted((p for p in found if chosen is None or p in chosen),
                      key=lambda p: p.relative_to(root).as_posix())

    def entry(p: Path, title: str) -> OutputFile:
        return OutputFile(p, p.relative_to(root).as_posix(), title)

    tables = [entry(p, _title(p)) for p in files(".csv")]
    figures = [entry(p, _figure_title(p)) for p in files(".svg")]
    if not tables:
        raise InputError("the outputs folder holds no tables", path=root,
                         fix="run `hcrisis reproduce STUDY` first")
    return Catalogue(root, tables, figures)


MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 64 * 1024 * 1024   # a run of many documents lists each with its hash


def read_manifest(outputs: Path) -> dict | None:
    """The full run's manifest.json under `outputs` (None if there is none)."""
    import json

    path = Path(outputs) / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(read_bytes(path, MAX_MANIFEST_BYTES))
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise InputError("not a manifest written by hcrisis", path=path,
                         fix="re-run `hcrisis reproduce` to rewrite it")
    return data


def _listed(root: Path) -> set[Path] | None:
    """The outputs manifest.json lists (paths relative to the outputs folder's parent), or None."""
    manifest = read_manifest(root)
    if manifest is None:
        return None
    return {(root.parent / rel).resolve() for rel in dict(manifest.get("outputs", {}))}
