"""Every table of a study as one Excel workbook, byte-identical across runs.

An index sheet lists each table with a link to its sheet, its title and its
CSV file. Each table sheet has a bold, frozen header row with a filter,
columns fitted to their contents, numbers stored as numbers (counts as
integers, p-values in scientific notation, columns named `*_pct`,
`*percentage` or `percent_diff` as Excel percentages) and every text cell
written as a string: participant text that begins with `=`, `+`, `-`, `@`,
a tab or a carriage return is never turned into a formula. Document
properties carry a fixed date, so the same tables give the same bytes.

The package is written here (`hcrisis.report.ooxml`: the parts of ECMA-376
SpreadsheetML a table needs) rather than cell by cell through a general
writer: a study's workbook holds hundreds of thousands of cells (the
thesis's: 229,000), and building each sheet's XML a column at a time costs
a tenth of what XlsxWriter's per-cell calls did (2.1 s for the thesis). The
tests read the workbook back with openpyxl and compare it with the same
tables written by XlsxWriter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hcrisis.errors import InputError
from hcrisis.files import atomic_path
from hcrisis.report.catalogue import Catalogue, OutputFile
from hcrisis.report.ooxml import Column, Link, Package, SheetData
from hcrisis.report.tables import is_p_value, is_percent

MAX_SHEET_NAME = 31
MAX_ROWS = 1_048_575          # Excel's rows less the header
MAX_WIDTH, MIN_WIDTH = 60, 6
WIDTH_SAMPLE = 2000           # rows measured to fit a column's width
INDEX = "Index"
INDEX_COLUMNS = (("sheet", 34), ("table", 80), ("file", 50), ("rows", 8))


@dataclass(frozen=True)
class Sheet:
    name: str
    entry: OutputFile


def sheet_names(entries: list[OutputFile]) -> list[Sheet]:
    """A unique sheet name (≤ 31 characters, no []:*?/\\, case-insensitively unique) per table."""
    used, out = {INDEX.lower()}, []
    for entry in entries:
        base = re.sub(r"[\[\]:*?/\\]", "_", entry.stem).strip("'") or "table"
        # Excel refuses a name that starts or ends with an apostrophe, also once cut
        name, n = base[:MAX_SHEET_NAME].rstrip("'"), 1
        while name.lower() in used:
            n += 1
            suffix = f"~{n}"
            name = base[:MAX_SHEET_NAME - len(suffix)].rstrip("'") + suffix
        used.add(name.lower())
        out.append(Sheet(name, entry))
    return out


def _column_kind(column: str, series: pd.Series) -> str:
    """How a column's cells are stored (`hcrisis.report.ooxml.KINDS`)."""
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_integer_dtype(series):
        return "int"
    if pd.api.types.is_float_dtype(series):
        return "percent" if is_percent(column) else "p" if is_p_value(column) else "float"
    return "text"


def _width(column: str, series: pd.Series, kind: str) -> int:
    if kind in ("float", "percent", "p"):
        longest = 10   # as formatted: 0.000, 0.0% or 0.00E+00
    else:
        longest = max((len(str(v)) for v in series.head(WIDTH_SAMPLE).tolist()), default=0)
    return max(MIN_WIDTH, min(MAX_WIDTH, max(longest, len(column)) + 2))


def table_sheet(df: pd.DataFrame) -> SheetData:
    """A table's sheet: header, typed columns, widths, frozen header and filter (a table
    over Excel's row limit is cut)."""
    df = df.head(MAX_ROWS)
    columns = []
    for name, series in df.items():
        kind = _column_kind(str(name), series)
        present = series.notna().to_numpy()
        columns.append(Column(str(name), kind, series.tolist(), _width(str(name), series, kind),
                              None if present.all() else present.tolist()))
    return SheetData(columns, len(df), autofilter=bool(columns))


def index_sheet(sheets: list[Sheet], rows: list[int]) -> SheetData:
    """The index: each table's sheet (a link to it), title, CSV file and rows written."""
    values = [[s.name for s in sheets], [s.entry.title for s in sheets], [s.entry.rel for s in sheets], rows]
    columns = [Column(head, "text" if k < 3 else "int_plain", v, width)
               for k, ((head, width), v) in enumerate(zip(INDEX_COLUMNS, values))]
    return SheetData(columns, len(sheets), links=[Link(row=i + 1, column=0, sheet=s.name)
                                                  for i, s in enumerate(sheets)])


def write_workbook(path: str | Path, catalogue: Catalogue, sheets: list[Sheet]) -> Path:
    """The workbook of `sheets` (from `sheet_names`) with an index sheet first, written atomically."""
    package = Package(title="Tables", author="hcrisis")
    tables = [table_sheet(catalogue.read(sheet.entry)) for sheet in sheets]
    package.add_sheet(INDEX, index_sheet(sheets, [t.rows for t in tables]))
    for sheet, table in zip(sheets, tables):
        package.add_sheet(sheet.name, table)
    with atomic_path(path) as tmp:
        try:
            package.write(tmp)
        except OSError as exc:
            raise InputError(f"cannot write the workbook: {exc.strerror or exc}", path=path,
                             fix="check the folder") from None
    return Path(path)
