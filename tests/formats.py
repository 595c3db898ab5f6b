"""Builders for transcript fixtures in every format (used by reader, fuzz and init tests)."""

from __future__ import annotations

import io
from pathlib import Path

TEAMS_VTT = """\
WEBVTT

NOTE
This transcript was generated automatically by Microsoft Teams.

3f1c2b7e-8a0d-4c4e-9a51-0b3c6f1d2e10/12-0
00:00:01.000 --> 00:00:03.500
<v Jane Smith>Thanks for joining, everyone.
Shall we start?</v>

3f1c2b7e-8a0d-4c4e-9a51-0b3c6f1d2e10/13-0
00:00:03.500 --> 00:00:05.250
<v Jane Smith>What skills matter most?</v>

3f1c2b7e-8a0d-4c4e-9a51-0b3c6f1d2e10/14-0
00:00:05.900 --> 00:00:09.000
<v Bob Jones>Communication &amp; knowing the numbers.</v>

3f1c2b7e-8a0d-4c4e-9a51-0b3c6f1d2e10/15-1
00:00:09.100 --> 00:00:11.000
<v Ann Lee>Resilience.</v>
"""

SRT = """\
1
00:00:01,000 --> 00:00:02,500
Interviewer: <i>What skills?</i>

2
00:00:03,000 --> 00:00:04,000
R: People skills.

3
00:00:04,000 --> 00:00:06,000
And the numbers.
"""


def make_docx(path: Path, paragraphs: list, table: list[tuple[str, ...]] | None = None,
              header: str = "CONFIDENTIAL draft") -> Path:
    """Paragraphs are strings or lists of (text, bold) runs; `table` rows follow them."""
    import docx

    d = docx.Document()
    d.sections[0].header.paragraphs[0].text = header
    d.sections[0].footer.paragraphs[0].text = "Page 1"
    for para in paragraphs:
        p = d.add_paragraph()
        for text, bold in ([(para, False)] if isinstance(para, str) else para):
            p.add_run(text).bold = bold
    if table:
        t = d.add_table(rows=len(table), cols=len(table[0]))
        for i, row in enumerate(table):
            for j, cell in enumerate(row):
                t.cell(i, j).text = cell
    d.save(str(path))
    return path


def make_odt(path: Path, paragraphs: list[str], heading: str | None = None,
             table: list[tuple[str, ...]] | None = None) -> Path:
    from odf.opendocument import OpenDocumentText
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import H, P

    doc = OpenDocumentText()
    if heading:
        doc.text.addElement(H(outlinelevel=1, text=heading))
    for text in paragraphs:
        doc.text.addElement(P(text=text))
    if table:
        t = Table(name="turns")
        t.addElement(TableColumn(numbercolumnsrepeated=len(table[0])))
        for row in table:
            tr = TableRow()
            for cell in row:
                tc = TableCell()
                tc.addElement(P(text=cell))
                tr.addElement(tc)
            t.addElement(tr)
        doc.text.addElement(t)
    buf = io.BytesIO()
    doc.write(buf)
    path.write_bytes(buf.getvalue())
    return path


def make_pdf(pages: list[list[str]]) -> bytes:
    """A minimal PDF with a Helvetica text layer, one list of lines per page."""
    objs = ["<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [" + " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
            + f"] /Count {len(pages)} >>",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    for i, lines in enumerate(pages):
        ops = "BT /F1 12 Tf 14 TL 72 720 Td " + " ".join(f"({x}) Tj T*" for x in lines) + " ET"
        objs.append("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                    f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>")
        objs.append(f"<< /Length {len(ops)} >>\nstream\n{ops}\nendstream")
    out, offsets = "%PDF-1.4\n", []
    for k, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{k} 0 obj\n{body}\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n"
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    return out.encode("latin-1")
