"""Deterministic table writers (golden files)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hcrisis.tables import table_to_csv, table_to_markdown, write_table

GOLDEN = Path(__file__).parent / "golden"


def _df():
    return pd.DataFrame({"word": ["people", "hous|ing"], "count": [3, 2], "pct": [0.5, float("nan")]})


def test_markdown_golden():
    assert table_to_markdown(_df()) == (GOLDEN / "table.md").read_text()


def test_csv_format():
    assert table_to_csv(_df()) == "word,count,pct\npeople,3,0.5\nhous|ing,2,\n"


def test_write_table_atomic_and_identical(tmp_path):
    first = [p.read_bytes() for p in write_table(_df(), tmp_path / "t", title="T")]
    second = [p.read_bytes() for p in write_table(_df(), tmp_path / "t", title="T")]
    assert first == second
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.md"]
