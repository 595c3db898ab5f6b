"""Deterministic table writers (golden files)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

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


def _mixed():
    return pd.DataFrame({
        "f": [1.0, np.nan, np.inf, -np.inf, 1e-7, 123456789.0],
        "o": ["x|y", "a\nb", "", None, 3.5, np.nan],
        "b": [True, False, True, False, True, False],
        "u": np.arange(6, dtype=np.uint8),
        "f32": np.array([1.5, 2, 3, 4, 5, 6], dtype=np.float32),
        "ext": pd.array([1.5, None, 2, 3, 4, 5], dtype="Float64"),
    })


def test_csv_floats_as_pandas_formats_them():
    for df in (_mixed(), _df(), pd.DataFrame({"only": [np.nan, 1.0]}), pd.DataFrame({"a": []}, dtype=float)):
        assert table_to_csv(df) == df.to_csv(index=False, lineterminator="\n", float_format="%.6g")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([0.0, -0.0, 1.5, 1 / 3, np.nan, np.inf, 2e-9]) | st.floats(), max_size=30))
def test_repeated_floats_formatted_as_pandas_does(values):
    """Each distinct value is formatted once (`_float_cells`): repeats, NaN, -0.0 and 0.0."""
    df = pd.DataFrame({"f": np.array(values, dtype=float)})
    assert table_to_csv(df) == df.to_csv(index=False, lineterminator="\n", float_format="%.6g")


def test_markdown_cells_of_every_dtype():
    assert table_to_markdown(_mixed()).splitlines()[2:5] == [
        "| 1.0000 | x\\|y | True | 0 | 1.5000 | 1.5000 |",
        "|  | a b | False | 1 | 2.0000 |  |",   # missing values empty, as in the CSV
        "| inf |  | True | 2 | 3.0000 | 2.0000 |",
    ]


def test_csv_cell_with_carriage_return_stays_one_row():
    """A bare CR in a cell (a label from a YAML or table file) would end the row in a
    CSV reader; it is written as LF, which the csv module quotes."""
    import csv
    import io

    df = pd.DataFrame({"label": ["a\rb", "c\r\nd", "e"], "n": [1, 2, 3]})
    text = table_to_csv(df)
    assert text == 'label,n\n"a\nb",1\n"c\nd",2\ne,3\n'
    assert list(csv.reader(io.StringIO(text, newline=""))) == [["label", "n"], ["a\nb", "1"], ["c\nd", "2"], ["e", "3"]]
    assert "\r" not in table_to_markdown(df)
