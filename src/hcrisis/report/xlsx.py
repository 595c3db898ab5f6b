"""Every table of a study as one Excel workbook (XlsxWriter), byte-identical across runs.

An index sheet lists each table with a link to its sheet, its title and its
CSV file. Each table sheet has a bold, frozen header row with a filter,
columns fitted to their contents, numbers stored as numbers (counts as
integers, p-values in scientific notation, columns named `*_pct`,
`*percentage` or `percent_diff` as Excel percentages) and every text cell
written as a string: participant text that begins with `=`, `+`, `-`, `@`,
a tab or a carriage return is never turned into a formula. Document
properties carry a fixed date, so the same tables give the same bytes.
"""

from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hcrisis.errors import InputError
from hcrisis.files import atomic_path
from hcrisis.report.catalogue import Catalogue, OutputFile
from hcrisis.report.tables import is_p_value, is_percent

MAX_SHEET_NAME = 31
MAX_ROWS = 1_048_575          # Excel's rows less the header
MAX_WIDTH, MIN_WIDTH = 60, 6
WIDTH_SAMPLE = 2000           # rows measured to fit a column's width
# The zip format's own epoch: a date that says "no date" (XlsxWriter also stamps the zip entries with it).
FIXED_DATE = datetime.datetime(1980, 1, 1)
INDEX = "Index"


@dataclass(frozen=True)
class Sheet:
    name: str
    entry: OutputFile


def sheet_names(entries: list[OutputFile]) -> list[Sheet]:
    """A unique sheet name (≤ 31 characters, no []:*?/\\, case-insensitively unique) per table."""
    used, out = {INDEX.lower()}, []
    for entry in entries:
        base = re.sub(r"[\[\]:*?/\\]", "_", entry.stem).strip("'") or "table"
        name, n = base[:MAX_SHEET_NAME], 1
        while name.lower() in used:
            n += 1
            suffix = f"~{n}"
            name = base[:MAX_SHEET_NAME - len(suffix)] + suffix
        used.add(name.lower())
        out.append(Sheet(name, entry))
    return out


def _column_format(column: str, series: pd.Series) -> tuple[str, str | None]:
    """(kind, Excel number format) of a column: int, float, percent, bool or text."""
    if pd.api.types.is_bool_dtype(series):
        return "bool", None
    if pd.api.types.is_integer_dtype(series):
        return "int", "0"
    if pd.api.types.is_float_dtype(series):
        if is_percent(column):
            return "percent", "0.0%"
        if is_p_value(column):
            return "float", "0.00E+00"
        return "float", "0.000"
    return "text", None


def _width(column: str, series: pd.Series, kind: str) -> int:
    if kind in ("float", "percent"):
        longest = 10   # as formatted: 0.000, 0.0% or 0.00E+00
    else:
        longest = max((len(str(v)) for v in series.head(WIDTH_SAMPLE)), default=0)
    return max(MIN_WIDTH, min(MAX_WIDTH, max(longest, len(column)) + 2))


def _write_column(ws, c: int, series: pd.Series, kind: str, fmt) -> None:
    """One column's cells below the header, each by the writer of its column's kind (no
    per-cell type tests); missing values (None, NA, NaN) leave the cell empty."""
    present = ~series.isna().to_numpy()
    values = series.tolist()
    rows = [r for r in range(len(values)) if present[r]]
    if kind == "text":
        write = ws.write_string
        for r in rows:
            write(r + 1, c, str(values[r]))   # always a string: never a formula or a link
    elif kind == "bool":
        for r in rows:
            ws.write_boolean(r + 1, c, bool(values[r]))
    elif kind == "int":
        write = ws.write_number
        for r in rows:
            write(r + 1, c, values[r], fmt)
    else:
        write, scale = ws.write_number, 100 if kind == "percent" else 1
        for r in rows:
            value = values[r]
            if math.isinf(value):
                ws.write_string(r + 1, c, "inf" if value > 0 else "-inf")
            else:
                write(r + 1, c, value / scale if scale != 1 else value, fmt)


def _write_table(wb, ws, df: pd.DataFrame, header_format) -> int:
    """One table on its sheet; returns the rows written (a table over Excel's limit is cut)."""
    df = df.head(MAX_ROWS)
    for c, column in enumerate(df.columns):
        kind, number_format = _column_format(str(column), df[column])
        fmt = wb.add_format({"num_format": number_format}) if number_format else None
        ws.write_string(0, c, str(column), header_format)
        ws.set_column(c, c, _width(str(column), df[column], kind))
        _write_column(ws, c, df[column], kind, fmt)
    ws.freeze_panes(1, 0)
    if len(df.columns):
        ws.autofilter(0, 0, max(len(df), 1), len(df.columns) - 1)
    return len(df)


def write_workbook(path: str | Path, catalogue: Catalogue, sheets: list[Sheet]) -> Path:
    """The workbook of `sheets` (from `sheet_names`) with an index sheet first, written atomically."""
    import xlsxwriter

    with atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False,
                                            "strings_to_numbers": False})
        wb.set_properties({"title": "Tables", "created": FIXED_DATE, "author": "hcrisis"})
        bold = wb.add_format({"bold": True, "bottom": 1})
        link = wb.add_format({"font_color": "blue", "underline": 1})
        index = wb.add_worksheet(INDEX)
        for c, (head, width) in enumerate((("sheet", 34), ("table", 80), ("file", 50), ("rows", 8))):
            index.write_string(0, c, head, bold)
            index.set_column(c, c, width)
        index.freeze_panes(1, 0)
        for i, sheet in enumerate(sheets, start=1):
            ws = wb.add_worksheet(sheet.name)
            rows = _write_table(wb, ws, catalogue.read(sheet.entry), bold)
            index.write_url(i, 0, f"internal:'{sheet.name}'!A1", link, sheet.name)
            index.write_string(i, 1, sheet.entry.title)
            index.write_string(i, 2, sheet.entry.rel)
            index.write_number(i, 3, rows)
        try:
            wb.close()
        except (OSError, xlsxwriter.exceptions.XlsxWriterException) as exc:
            raise InputError(f"cannot write the workbook: {exc}", path=path, fix="check the folder") from None
    return Path(path)
