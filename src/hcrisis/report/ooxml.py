"""A SpreadsheetML package (ECMA-376 Part 1, the .xlsx format) of typed table columns.

What `hcrisis.report.xlsx` needs and nothing more: worksheets of typed
columns (text in the shared-string table, numbers with a number format,
booleans), column widths, a frozen header row, an autofilter, internal
links, document properties and one style sheet. Each sheet's XML is built a
column at a time (one string per cell from a format per column kind), which
is where a per-cell writer spends its time. Parts are zipped in a fixed
order with the zip epoch as their date, so the same tables give the same
bytes.

Text follows the format's escaping of strings (ECMA-376 Part 1, §22.9.2.19
ST_Xstring): a control character is written `_xHHHH_` and text that already
looks like such an escape gets `_x005F` (an escaped underscore) before it,
so readers give back the original string.
"""

from __future__ import annotations

import math
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# The zip format's epoch: a date that says "no date".
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

# Cell styles (the order of cellXfs in `STYLES`) by column kind; "int_plain" is a count with no format.
KINDS = {"text": 0, "int_plain": 0, "bool": 0, "int": 2, "float": 3, "p": 4, "percent": 5}
HEADER_STYLE, LINK_STYLE = 1, 6
STYLES = (
    f'<styleSheet xmlns="{MAIN}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="0.000"/><numFmt numFmtId="165" formatCode="0.0%"/>'
    '</numFmts>'
    '<fonts count="3"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><u/><sz val="11"/><color rgb="FF0000FF"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
    '</fill></fills>'
    '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
    '<border><left/><right/><top/><bottom style="thin"><color auto="1"/></bottom><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="7"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="1" xfId="0" applyFont="1" applyBorder="1"/>'
    '<xf numFmtId="1" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="11" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>')

_ESCAPED = re.compile(r"(_x[0-9A-Fa-f]{4}_)")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]")   # not allowed in XML 1.0 (tab and LF are)


def xml_text(text: str) -> str:
    """A string as element text: ST_Xstring escapes (see the module docstring), then XML's."""
    if "_x" in text:
        text = _ESCAPED.sub(r"_x005F\1", text)
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def xml_attr(text: str) -> str:
    return xml_text(text).replace('"', "&quot;")


def column_letter(index: int) -> str:
    """A (0-based) column's letters: A … Z, AA …"""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def sheet_ref(name: str) -> str:
    """A sheet name as formulas and links quote it ('It''s')."""
    return "'" + name.replace("'", "''") + "'"


def excel_width(chars: float) -> float:
    """A column width in characters as Excel stores it: Truncate((pixels of the characters
    + 5 pixels of padding) / 7 * 256) / 256, Calibri 11's digits being 7 pixels wide
    (ECMA-376 Part 1, §18.3.1.13)."""
    return int((int(chars * 7 + 0.5) + 5) / 7 * 256) / 256


@dataclass
class Column:
    header: str
    kind: str              # a key of KINDS
    values: list
    width: float
    present: list[bool] | None = None   # False: the cell is left empty (default: every value is there)


@dataclass
class Link:
    row: int               # 0-based, the header being row 0
    column: int
    sheet: str             # links to this sheet's A1


@dataclass
class SheetData:
    columns: list[Column]
    rows: int              # below the header
    autofilter: bool = False
    links: list[Link] = field(default_factory=list)


class SharedStrings:
    """The workbook's shared-string table: each distinct string once, in order of first use."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.uses = 0

    def cells(self, values: list[str]) -> list[int]:
        self.uses += len(values)
        index = self.index
        return [index.setdefault(v, len(index)) for v in values]

    def xml(self) -> str:
        items = "".join(f'<si><t xml:space="preserve">{xml_text(s)}</t></si>' if s[:1].isspace() or s[-1:].isspace()
                        else f"<si><t>{xml_text(s)}</t></si>" for s in self.index)
        return (f'{DECLARATION}<sst xmlns="{MAIN}" count="{self.uses}" uniqueCount="{len(self.index)}">'
                f"{items}</sst>")


def _cells(column: Column, letter: str, strings: SharedStrings, style_of: dict[int, int]) -> list[str]:
    """The `<c>` elements of a column's values, rows 2…n+1 ("" where a value is missing)."""
    out = [""] * len(column.values)
    present = range(len(column.values)) if column.present is None else \
        [r for r, here in enumerate(column.present) if here]
    values = column.values if column.present is None else [column.values[r] for r in present]
    kind = column.kind
    if kind == "text":
        for r, i in zip(present, strings.cells([str(v) for v in values])):
            out[r] = f'<c r="{letter}{r + 2}"{_style(style_of, r, 0)} t="s"><v>{i}</v></c>'
        return out
    if kind == "bool":
        for r, v in zip(present, values):
            out[r] = f'<c r="{letter}{r + 2}" t="b"><v>{int(bool(v))}</v></c>'
        return out
    style = KINDS[kind]
    s = f' s="{style}"' if style else ""
    scale = 100 if kind == "percent" else 1
    text: dict = {}       # each distinct value formatted once (tables repeat rates, G² and p)
    for r, v in zip(present, values):
        if isinstance(v, float) and math.isinf(v):     # no number for it in a cell: its name as text
            i = strings.cells(["inf" if v > 0 else "-inf"])[0]
            out[r] = f'<c r="{letter}{r + 2}" t="s"><v>{i}</v></c>'
            continue
        number = text.get(v) if v else None      # zeros not shared: -0.0 equals 0.0 as a key
        if number is None:
            number = text[v] = _number(v / scale if scale != 1 else v)
        out[r] = f'<c r="{letter}{r + 2}"{s}><v>{number}</v></c>'
    return out


def _style(style_of: dict[int, int], row: int, default: int) -> str:
    style = style_of.get(row, default)
    return f' s="{style}"' if style else ""


def _number(v) -> str:
    """A number as xsd:double text: integers as they are, floats by their shortest repr."""
    return str(v) if isinstance(v, int) else repr(float(v))


def sheet_xml(data: SheetData, strings: SharedStrings, selected: bool) -> str:
    """One worksheet part."""
    letters = [column_letter(i) for i in range(len(data.columns))]
    last = letters[-1] if letters else "A"
    link_rows = {c: {ln.row - 1: LINK_STYLE for ln in data.links if ln.column == c} for c in range(len(letters))}
    header = "".join(f'<c r="{letter}1" s="{HEADER_STYLE}" t="s"><v>{i}</v></c>' for letter, i in
                     zip(letters, strings.cells([c.header for c in data.columns])))
    columns = [_cells(col, letter, strings, link_rows[c]) for c, (col, letter) in enumerate(zip(data.columns, letters))]
    body = "".join(f'<row r="{r}">{"".join(cells)}</row>' for r, cells in enumerate(zip(*columns), start=2))
    cols = "".join(f'<col min="{c}" max="{c}" width="{excel_width(col.width)!r}" customWidth="1"/>'
                   for c, col in enumerate(data.columns, start=1))
    links = "".join(f'<hyperlink ref="{letters[ln.column]}{ln.row + 1}" location="{xml_attr(sheet_ref(ln.sheet))}!A1" '
                    f'display="{xml_attr(ln.sheet)}"/>' for ln in data.links)
    return "".join([
        DECLARATION, f'<worksheet xmlns="{MAIN}" xmlns:r="{REL}">',
        f'<dimension ref="A1:{last}{data.rows + 1}"/>',
        f'<sheetViews><sheetView{_SELECTED if selected else ""} workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>',
        '<sheetFormatPr defaultRowHeight="15"/>',
        f"<cols>{cols}</cols>" if cols else "",
        f'<sheetData><row r="1">{header}</row>{body}</sheetData>',
        f'<autoFilter ref="{_filter_range(data, last)}"/>' if data.autofilter else "",
        f"<hyperlinks>{links}</hyperlinks>" if links else "",
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>',
        "</worksheet>"])


_SELECTED = ' tabSelected="1"'


def _filter_range(data: SheetData, last: str) -> str:
    return f"A1:{last}{max(data.rows, 1) + 1}"


@dataclass
class _Part:
    name: str
    data: SheetData


class Package:
    """Sheets added in order (an index may be put first), written as one .xlsx file."""

    def __init__(self, title: str, author: str):
        self.title, self.author = title, author
        self.sheets: list[_Part] = []

    def add_sheet(self, name: str, data: SheetData) -> None:
        self.sheets.append(_Part(name, data))

    def write(self, path: str | Path) -> None:
        strings = SharedStrings()
        parts = [(f"xl/worksheets/sheet{i}.xml", sheet_xml(s.data, strings, selected=i == 1))
                 for i, s in enumerate(self.sheets, start=1)]
        parts = [("[Content_Types].xml", self._content_types()), ("_rels/.rels", _ROOT_RELS),
                 ("docProps/app.xml", _APP), ("docProps/core.xml", self._core()),
                 ("xl/workbook.xml", self._workbook()), ("xl/_rels/workbook.xml.rels", self._workbook_rels()),
                 ("xl/styles.xml", DECLARATION + STYLES), ("xl/sharedStrings.xml", strings.xml()), *parts]
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, text in parts:
                info = zipfile.ZipInfo(name, ZIP_DATE)
                info.compress_type, info.create_system, info.external_attr = zipfile.ZIP_DEFLATED, 0, 0
                zf.writestr(info, text.encode("utf-8"))

    def _content_types(self) -> str:
        sheets = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{CONTENT}.worksheet+xml"/>'
                         for i in range(1, len(self.sheets) + 1))
        return (f'{DECLARATION}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                f'<Override PartName="/xl/workbook.xml" ContentType="{CONTENT}.sheet.main+xml"/>{sheets}'
                f'<Override PartName="/xl/styles.xml" ContentType="{CONTENT}.styles+xml"/>'
                f'<Override PartName="/xl/sharedStrings.xml" ContentType="{CONTENT}.sharedStrings+xml"/>'
                '<Override PartName="/docProps/core.xml" '
                'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
                '<Override PartName="/docProps/app.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>')

    def _core(self) -> str:
        date = "1980-01-01T00:00:00Z"
        return (f'{DECLARATION}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
                'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
                'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
                f"<dc:title>{xml_text(self.title)}</dc:title><dc:creator>{xml_text(self.author)}</dc:creator>"
                f'<dcterms:created xsi:type="dcterms:W3CDTF">{date}</dcterms:created>'
                f'<dcterms:modified xsi:type="dcterms:W3CDTF">{date}</dcterms:modified></cp:coreProperties>')

    def _workbook(self) -> str:
        sheets = "".join(f'<sheet name="{xml_attr(s.name)}" sheetId="{i}" r:id="rId{i}"/>'
                         for i, s in enumerate(self.sheets, start=1))
        # a filter's range is also the sheet's hidden _FilterDatabase name, as Excel writes it
        names = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
            f"{xml_text(sheet_ref(s.name))}!{_absolute(_filter_range(s.data, column_letter(len(s.data.columns) - 1)))}"
            "</definedName>" for i, s in enumerate(self.sheets) if s.data.autofilter)
        return (f'{DECLARATION}<workbook xmlns="{MAIN}" xmlns:r="{REL}"><workbookPr/>'
                f'<bookViews><workbookView/></bookViews><sheets>{sheets}</sheets>'
                f"{f'<definedNames>{names}</definedNames>' if names else ''}</workbook>")

    def _workbook_rels(self) -> str:
        n = len(self.sheets)
        rels = [(f"rId{i}", "worksheet", f"worksheets/sheet{i}.xml") for i in range(1, n + 1)]
        rels += [(f"rId{n + 1}", "styles", "styles.xml"), (f"rId{n + 2}", "sharedStrings", "sharedStrings.xml")]
        return (f'{DECLARATION}<Relationships xmlns="{PACKAGE_REL}">'
                + "".join(f'<Relationship Id="{i}" Type="{REL}/{t}" Target="{target}"/>' for i, t, target in rels)
                + "</Relationships>")


def _absolute(cells: str) -> str:
    """A1:L9 as $A$1:$L$9."""
    return re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", cells)


_ROOT_RELS = (f'{DECLARATION}<Relationships xmlns="{PACKAGE_REL}">'
              f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
              f'<Relationship Id="rId2" Type="{PACKAGE_REL}/metadata/core-properties" Target="docProps/core.xml"/>'
              f'<Relationship Id="rId3" Type="{REL}/extended-properties" Target="docProps/app.xml"/>'
              "</Relationships>")
_APP = (f'{DECLARATION}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        "<Application>hcrisis</Application></Properties>")
