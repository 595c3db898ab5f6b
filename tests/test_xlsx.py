"""The workbook package (hcrisis.report.ooxml): read back with openpyxl, it shows what the
same tables written cell by cell through XlsxWriter show (an independent writer)."""

from __future__ import annotations

import zipfile

import numpy as np
import openpyxl
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from hcrisis.report.catalogue import load_catalogue
from hcrisis.report.ooxml import column_letter, xml_text
from hcrisis.report.xlsx import sheet_names, write_workbook
from hcrisis.tables import write_table
from xlsx_reference import reference_workbook


def _seen(path) -> dict:
    """Everything openpyxl reports of a workbook's sheets, cell by cell."""
    wb = openpyxl.load_workbook(path)
    out = {"names": wb.sheetnames}
    for ws in wb.worksheets:
        cells = [(c.coordinate, c.value, c.data_type, c.number_format, bool(c.font.b), c.font.u,
                  c.hyperlink.location if c.hyperlink else None)
                 for row in ws.iter_rows() for c in row if c.value is not None]
        # a <col> element may span columns of one width (XlsxWriter joins them): per column
        widths = {column: round(d.width, 6) for d in ws.column_dimensions.values() if d.width
                  for column in range(d.min, d.max + 1)}
        out[ws.title] = (cells, ws.freeze_panes, ws.auto_filter.ref, widths, ws.dimensions)
    out["filters"] = sorted((n.localSheetId, n.attr_text) for ws in wb.worksheets
                            for n in ws.defined_names.values()) if hasattr(wb.worksheets[0], "defined_names") else []
    return out


def _tables(folder):
    write_table(pd.DataFrame({
        "word": ["housing", "=SUM(A1)", "tab\there", " lead", "x_x0041_y", "ctl\x01\r", None, "ünïcode & <b>"],
        "count": np.array([5, 4, 3, 2, 1, 0, 7, 8], dtype=np.int64),
        "rate": [0.5, -0.0, 0.0, float("inf"), float("-inf"), np.nan, 1e-9, 123456.789],
        "p": [1e-300, 0.05, 1.0, 0.5, np.nan, 2e-17, 0.3, 0.999],
        "col_pct": [12.5, 100.0, 0.0, np.nan, 50.0, 33.333333, 1.0, 2.0],
        "flag": [True, False, True, False, True, False, True, False],
    }), folder / "words", title="Words")
    write_table(pd.DataFrame({"code_id": pd.Series([], dtype=str), "n": pd.Series([], dtype=np.int64)}),
                folder / "sub" / "empty", title="An empty table")
    write_table(pd.DataFrame({"it's": ["a", "b"]}), folder / "it's", title="Quote in a sheet name")
    return load_catalogue(folder)


def test_workbook_reads_as_the_xlsxwriter_reference(tmp_path):
    catalogue = _tables(tmp_path / "out")
    sheets = sheet_names(catalogue.tables)
    ours, reference = tmp_path / "ours.xlsx", tmp_path / "reference.xlsx"
    write_workbook(ours, catalogue, sheets)
    reference_workbook(reference, catalogue, sheets)
    assert _seen(ours) == _seen(reference)


def test_every_part_is_well_formed_xml_and_dated_at_the_zip_epoch(tmp_path):
    catalogue = _tables(tmp_path / "out")
    path = write_workbook(tmp_path / "t.xlsx", catalogue, sheet_names(catalogue.tables))
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist()[0] == "[Content_Types].xml"
        for info in zf.infolist():
            etree.fromstring(zf.read(info))
            assert info.date_time == (1980, 1, 1, 0, 0, 0)


def test_column_letters():
    assert [column_letter(i) for i in (0, 25, 26, 27, 51, 52, 701, 702, 16383)] == \
        ["A", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA", "XFD"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.characters(codec="utf-8") | st.sampled_from(["_x0041_", "_x", "\r", "&", "<", "\ufffe"]),
                max_size=40).map("".join))
def test_text_escapes_are_well_formed_and_reversible(text):
    """ST_Xstring: control characters as _xHHHH_, existing escapes kept by _x005F; undoing
    the escapes gives the text back."""
    import re

    escaped = xml_text(text)
    element = etree.fromstring(f"<t>{escaped}</t>".encode("utf-8"))
    unescaped = re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), element.text or "")
    assert unescaped == text
