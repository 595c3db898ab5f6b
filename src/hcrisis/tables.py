"""Table writers: deterministic CSV and Markdown, written atomically.

Every table hcrisis writes goes through `write_table`, so CSVs share one
float format and line ending, and each has a Markdown twin for reports.

Transcript text reaches CSV cells (segment ids, matched terms, quotations,
redacted tables), and a spreadsheet runs a cell that starts with `=`, `+`,
`-` or `@` as a formula (tab and carriage return can hide such a start). So
every text cell of a CSV passes `guard_cell` (OWASP, "CSV Injection"): it
gets a leading `'`, which spreadsheets show as text and hide; numbers, and
numbers written as text (`-3`, `+1.5e3`), are left alone. `unguard_cell`
undoes it for hcrisis's own readers (the corpus's tables, the report's catalogue);
the XLSX writer stores every text cell as a string, which is never run.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

import numpy as np
import pandas as pd

from hcrisis.files import write_atomic


def _kind(series: pd.Series) -> str:
    """The numpy dtype kind of a column ('' for pandas extension types)."""
    return series.dtype.kind if isinstance(series.dtype, np.dtype) else ""


NUMERIC = ("f", "i", "u", "b")   # dtype kinds whose text needs no escaping

FORMULA_START = frozenset("=+-@\t\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _formula_like(text: str) -> bool:
    """Starts (after any leading quotes) with a formula character and is not a number."""
    return text.lstrip("'")[:1] in FORMULA_START and not _NUMBER.fullmatch(text)


def guard_cell(text: str) -> str:
    """A text cell a spreadsheet will show as text, never run as a formula: `'` prefixed
    to one starting with `=`, `+`, `-`, `@`, tab or CR (or quotes then one of them,
    so that `unguard_cell` can tell the prefix from the text)."""
    return "'" + text if text[:1] in _GUARDED_START and _formula_like(text) else text


def csv_cell(text: str) -> str:
    """A text cell for CSV: `guard_cell`, with line ends as LF. The csv module quotes a
    cell holding LF but not one holding a bare CR, which CSV readers take for the end
    of the row; transcripts' line ends are LF already (`hcrisis.ingest.readers`)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return guard_cell(text)


def unguard_cell(text: str) -> str:
    """The text `guard_cell` was given (any other text unchanged)."""
    return text[1:] if text[:1] == "'" and _formula_like(text[1:]) else text


_GUARDED_START = FORMULA_START | {"'"}


def _missing(v: object) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and v != v)


def _cells(col: pd.Series, fmt: Callable[[float], str], guard: bool = False) -> list[str]:
    """A column's values as text: floats with `fmt`, missing values empty, the rest str;
    with `guard`, text values through `csv_cell`."""
    # tolist(): iterating a pandas string column element by element is slow
    kind = _kind(col)
    if kind == "f":
        return _float_cells(col.to_numpy(), fmt)
    values = col.tolist()
    if kind in NUMERIC:
        return list(map(str, values))
    if pd.api.types.infer_dtype(values, skipna=False) == "string":   # all str: the common case
        return [csv_cell(v) for v in values] if guard else values
    text = csv_cell if guard else str
    return ["" if _missing(v) else fmt(v) if isinstance(v, float) else
            text(v) if isinstance(v, str) else str(v) for v in values]


def _float_cells(values: np.ndarray, fmt: Callable[[float], str]) -> list[str]:
    """Floats as text, each distinct value formatted once (NaN as empty).

    Keyness tables repeat the same few thousand values (every row with the
    same pair of counts has the same rates, G² and p), so this formats a
    quarter of the cells. Values are told apart by their bits, so -0.0 and
    0.0 keep their own text.
    """
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.int64)
    uniq, inverse = np.unique(bits, return_inverse=True)
    text = np.array(["" if v != v else fmt(v) for v in uniq.view(np.float64).tolist()], dtype=object)
    return text[inverse].tolist()


def table_to_markdown(df: pd.DataFrame, floatfmt: str = "{:.4f}") -> str:
    """A GitHub-flavoured Markdown table, formatted without extra packages."""
    columns = [_cells(col, floatfmt.format) if _kind(col) in NUMERIC else
               [v.replace("|", "\\|").replace("\r", " ").replace("\n", " ") for v in _cells(col, floatfmt.format)]
               for _, col in df.items()]
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in zip(*columns)]
    return "\n".join(lines) + "\n"


def table_to_csv(df: pd.DataFrame) -> str:
    """CSV with LF line ends, minimal quoting and floats as %.6g (missing values
    empty), text cells guarded against formula injection (`guard_cell`):
    byte-stable across runs, the text pandas' to_csv gives for other cells."""
    return "".join(_csv_lines([[csv_cell(str(c)) for c in df.columns]]) + csv_rows(df))


def csv_rows(df: pd.DataFrame) -> list[str]:
    """The lines `table_to_csv` writes for the rows of `df`, one string per row (a
    table written in pieces, `hcrisis.coding.codings`, gives the same bytes)."""
    # The csv module on formatted columns: pandas' writer took a third of the
    # chapter-5 step on its keyness tables.
    return _csv_lines(zip(*(_cells(col, "%.6g".__mod__, guard=True) for _, col in df.items())))


def _csv_lines(rows) -> list[str]:
    lines: list[str] = []
    # the writer calls `write` once per row, with the row's whole line
    csv.writer(SimpleNamespace(write=lines.append), lineterminator="\n").writerows(rows)
    return lines


def write_table(df: pd.DataFrame, path_stem: str | Path, *, markdown: bool = True,
                title: str | None = None) -> list[Path]:
    """Write `df` as `<stem>.csv` (and `<stem>.md`); return the paths written."""
    stem = Path(path_stem)
    written = [write_atomic(stem.with_suffix(".csv"), table_to_csv(df))]
    if markdown:
        head = f"# {title}\n\n" if title else ""
        written.append(write_atomic(stem.with_suffix(".md"), head + table_to_markdown(df)))
    return written
