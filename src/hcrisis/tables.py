"""Table writers: deterministic CSV and Markdown, written atomically.

Every table hcrisis writes goes through `write_table`, so CSVs share one
float format and line ending, and each has a Markdown twin for reports.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .io import write_atomic


def table_to_markdown(df: pd.DataFrame, floatfmt: str = "{:.4f}") -> str:
    """A GitHub-flavoured Markdown table, formatted without extra packages."""
    def cell(v: object) -> str:
        if isinstance(v, float):
            if v != v:  # NaN
                return ""
            return floatfmt.format(v)
        return str(v).replace("|", "\\|").replace("\n", " ")

    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def table_to_csv(df: pd.DataFrame) -> str:
    """CSV with LF line ends and a fixed float format: byte-stable across runs."""
    return df.to_csv(index=False, lineterminator="\n", float_format="%.6g")


def write_table(df: pd.DataFrame, path_stem: str | Path, *, markdown: bool = True,
                title: str | None = None) -> list[Path]:
    """Write `df` as `<stem>.csv` (and `<stem>.md`); return the paths written."""
    stem = Path(path_stem)
    written = [write_atomic(stem.with_suffix(".csv"), table_to_csv(df))]
    if markdown:
        head = f"# {title}\n\n" if title else ""
        written.append(write_atomic(stem.with_suffix(".md"), head + table_to_markdown(df)))
    return written
