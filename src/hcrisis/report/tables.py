"""Tables as a report shows them: captioned, formatted cells, optional shading.

Every HTML table of the report is built here from a DataFrame read from the
study's outputs (or computed from the corpus the same way the step does), so
the page and the CSV files cannot disagree. Numbers are formatted by their
column: counts with thousands separators, percentages and G² with one or two
decimals, p-values with two significant digits.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd

PERCENT_COLUMNS = ("_pct", "percentage", "percent_diff")
P_COLUMNS = ("p", "p_adjusted")


@dataclass
class Cell:
    text: str
    style: str = ""      # inline CSS (heat tables' shading)
    cls: str = ""        # CSS class (status cells, indentation)


@dataclass
class Table:
    caption: str
    header: list[str]
    rows: list[list[Cell]]
    numeric: list[bool]
    source: str | None = None      # the data file, relative to the outputs folder
    note: str = ""
    cls: str = ""                  # "heat", "status"...
    row_header: bool = True        # the first cell of a row is a <th scope="row">

    @property
    def empty(self) -> bool:
        return not self.rows


def is_percent(column: str) -> bool:
    return column.endswith(PERCENT_COLUMNS)


def is_p_value(column: str) -> bool:
    return column in P_COLUMNS or column.startswith("p_")


def format_number(column: str, value: object, whole: bool = False) -> str:
    """A number as the report prints it (missing values empty); `whole`: the column holds
    whole numbers (an integer column with an empty cell is read as floats)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    v = float(value)
    if isinstance(value, numbers.Integral) or (whole and v.is_integer()):
        return f"{int(v):,}"
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    if is_p_value(column):
        return f"{v:.2g}"
    if is_percent(column):
        return f"{v:.1f}"
    return f"{v:.3f}" if abs(v) < 10 else f"{v:.2f}"


def numeric_columns(df: pd.DataFrame) -> list[bool]:
    return [pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) for c in df.columns]


def whole_columns(df: pd.DataFrame) -> list[bool]:
    """Float columns whose values are all whole numbers (counts with an empty cell)."""
    return [pd.api.types.is_float_dtype(df[c]) and not is_percent(str(c)) and not is_p_value(str(c))
            and bool((df[c].dropna() % 1 == 0).all()) for c in df.columns]


def frame_table(df: pd.DataFrame, caption: str, *, source: str | None = None, header: list[str] | None = None,
                note: str = "", row_header: bool = True) -> Table:
    """A DataFrame as a report table, every cell formatted by its column."""
    numeric, whole = numeric_columns(df), whole_columns(df)
    rows = [[Cell(format_number(col, v, w) if num else str(v))
             for col, num, w, v in zip(df.columns, numeric, whole, row)] for row in df.itertuples(index=False)]
    return Table(caption, header or [str(c).replace("_", " ") for c in df.columns], rows, numeric, source, note,
                 row_header=row_header)


@dataclass
class HeatScale:
    """Background shades for values from 0 to `top`: white to dark blue, with dark text on
    light cells and white text on dark ones (the number is always printed, so the shade
    only helps the eye)."""

    top: float
    light: tuple[int, int, int] = (247, 251, 255)
    dark: tuple[int, int, int] = (8, 69, 148)

    def style(self, value: float) -> str:
        if value != value or self.top <= 0:
            return ""
        t = max(0.0, min(1.0, value / self.top))
        rgb = tuple(round(a + (b - a) * t) for a, b in zip(self.light, self.dark))
        ink = "#fff" if t > 0.55 else "#111"
        return f"background:#{rgb[0]:02x}{rgb[1]:02x}{rgb[2]:02x};color:{ink}"
