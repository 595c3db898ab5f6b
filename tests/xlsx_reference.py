"""An independent writer of the workbook's content, cell by cell through XlsxWriter: what
hcrisis.report.xlsx wrote before it built the package itself. `tests/test_xlsx.py` reads
both with openpyxl and compares everything a reader sees."""

from __future__ import annotations

import math

import pandas as pd
import xlsxwriter

from hcrisis.report.xlsx import INDEX, INDEX_COLUMNS, MAX_ROWS, _column_kind, _width

NUMBER_FORMATS = {"int": "0", "float": "0.000", "p": "0.00E+00", "percent": "0.0%"}


def _column(ws, c: int, series: pd.Series, kind: str, fmt) -> None:
    present = series.notna().to_numpy()
    for r, value in enumerate(series.tolist()):
        if not present[r]:
            continue
        if kind == "text":
            ws.write_string(r + 1, c, str(value))
        elif kind == "bool":
            ws.write_boolean(r + 1, c, bool(value))
        elif isinstance(value, float) and math.isinf(value):
            ws.write_string(r + 1, c, "inf" if value > 0 else "-inf")
        else:
            ws.write_number(r + 1, c, value / 100 if kind == "percent" else value, fmt)


def reference_workbook(path, catalogue, sheets) -> None:
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False})
    bold = wb.add_format({"bold": True, "bottom": 1})
    link = wb.add_format({"font_color": "blue", "underline": 1})
    index = wb.add_worksheet(INDEX)
    for c, (head, width) in enumerate(INDEX_COLUMNS):
        index.write_string(0, c, head, bold)
        index.set_column(c, c, width)
    index.freeze_panes(1, 0)
    for i, sheet in enumerate(sheets, start=1):
        ws = wb.add_worksheet(sheet.name)
        df = catalogue.read(sheet.entry).head(MAX_ROWS)
        for c, column in enumerate(df.columns):
            kind = _column_kind(str(column), df[column])
            fmt = wb.add_format({"num_format": NUMBER_FORMATS[kind]}) if kind in NUMBER_FORMATS else None
            ws.write_string(0, c, str(column), bold)
            ws.set_column(c, c, _width(str(column), df[column], kind))
            _column(ws, c, df[column], kind, fmt)
        ws.freeze_panes(1, 0)
        if len(df.columns):
            ws.autofilter(0, 0, max(len(df), 1), len(df.columns) - 1)
        index.write_url(i, 0, f"internal:'{sheet.name.replace(chr(39), chr(39) * 2)}'!A1", link, sheet.name)
        index.write_string(i, 1, sheet.entry.title)
        index.write_string(i, 2, sheet.entry.rel)
        index.write_number(i, 3, len(df))
    wb.close()
