"""Codings tables on disk: what `hcrisis code` writes and `agree`/`suggest` read."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hcrisis.errors import InputError


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
