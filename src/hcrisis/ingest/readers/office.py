"""Word (.docx), OpenDocument (.odt) and PDF transcripts.

.docx: body paragraphs and tables in document order (headers and footers
are separate parts and ignored); a speaker label is a bold run at the start
of a paragraph (`**Jane Smith:** text`, or bold `Jane Smith` then a tab or
colon) or a `Name:` prefix as in .txt files; a table row `speaker | text`
(optionally with a time cell) is one turn. .odt: paragraphs, headings and
table rows the same way, without bold detection. .pdf: the text layer of
each page without the headers and footers repeated on most pages, with
.txt label detection.

Office files are zip archives: their entry count and uncompressed size are
checked against the compressed size *before* parsing, so a zip bomb is
rejected without being expanded.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from pathlib import Path

from hcrisis.errors import InputError
from hcrisis.files import read_bytes
from hcrisis.ingest.readers import ReaderOptions, Transcript, register
from hcrisis.ingest.readers.blocks import Block, assemble, is_label, parsing, row_block
from hcrisis.ingest.readers.decode import normalise_newlines, sniff
from hcrisis.ingest.roles import is_role_label

MAX_ZIP_ENTRIES = 2000
MAX_ZIP_RATIO = 100          # uncompressed / compressed; Word files are ~5-20
ZIP_RATIO_FLOOR = 1 << 20    # small archives may compress well without harm
_BOMB_FIX = "open and re-save the document, or export it as .txt"


def checked_zip(path: Path, options: ReaderOptions, fmt: str) -> bytes:
    """The bytes of an Office zip archive, after the zip-bomb checks."""
    data = read_bytes(path, options.max_bytes)
    if not data.startswith(b"PK\x03\x04"):
        raise InputError(f"not a .{fmt} file ({sniff(data) or 'not a zip archive'})", path=path,
                         fix="give the file its right extension or set 'format' in the manifest")
    with parsing(path, fmt):
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    if len(infos) > MAX_ZIP_ENTRIES:
        raise InputError(f"archive has {len(infos)} entries, over the limit of {MAX_ZIP_ENTRIES}"
                         " (possible zip bomb)", path=path, fix=_BOMB_FIX)
    total = sum(info.file_size for info in infos)
    if total > options.max_bytes:
        raise InputError(f"archive expands to {total} bytes, over the limit of "
                         f"{options.max_bytes} bytes (possible zip bomb)", path=path, fix=_BOMB_FIX)
    if total > ZIP_RATIO_FLOOR and total > MAX_ZIP_RATIO * len(data):
        raise InputError(f"archive expands {total // len(data)}-fold, over the limit of "
                         f"{MAX_ZIP_RATIO} (possible zip bomb)", path=path, fix=_BOMB_FIX)
    return data


@register("docx")
def read_docx(path: Path, options: ReaderOptions) -> Transcript:
    data = checked_zip(path, options, "docx")
    with parsing(path, "docx"):
        from docx import Document
        from docx.table import Table

        blocks: list[Block | None] = []
        for item in Document(io.BytesIO(data)).iter_inner_content():
            if isinstance(item, Table):
                blocks += [row_block(_unique_cells(row.cells)) for row in item.rows]
            else:
                blocks.append(_paragraph_block(item))
    return assemble(path, "docx", blocks, options)


def _unique_cells(cells: list) -> list[str]:
    # python-docx repeats a merged cell once per grid column it spans.
    out, seen = [], set()
    for cell in cells:
        if id(cell._tc) not in seen:
            seen.add(id(cell._tc))
            out.append(cell.text)
    return out


def _paragraph_block(paragraph) -> Block:
    text = normalise_newlines(paragraph.text)
    bold = ""
    for run in paragraph.runs:
        if not run.text:
            continue
        if not (run.bold or (run.style is not None and run.style.font.bold)):
            break
        bold += run.text
    label = bold_label(text, normalise_newlines(bold))
    if label is None:
        return Block(text)
    speaker, body = label
    return Block(text, speaker, True, body)


def bold_label(text: str, bold: str) -> tuple[str, int] | None:
    """(speaker, offset of the turn's text) when a bold prefix is a speaker label.

    The bold part must end with a colon, or be followed by a colon, tab or
    line break; a bold word running into the sentence is emphasis, not a label.
    """
    if not bold.strip() or not text.startswith(bold):
        return None
    rest = text[len(bold):]
    name = bold.strip()
    if name.endswith(":"):
        name, body = name[:-1].strip(), len(bold)
    elif rest.lstrip(" ").startswith(":"):
        body = len(bold) + rest.index(":") + 1
    elif rest[:1] in ("\t", "\n"):
        body = len(bold)
    else:
        return None
    return (name, body) if is_label(name) else None


@register("odt")
def read_odt(path: Path, options: ReaderOptions) -> Transcript:
    data = checked_zip(path, options, "odt")
    with parsing(path, "odt"):
        from odf.opendocument import load

        blocks = list(_odt_blocks(load(io.BytesIO(data)).text))
    return assemble(path, "odt", blocks, options)


def _odt_blocks(element):
    """Paragraphs, headings and table rows in document order (lists, sections recursed)."""
    from odf import teletype

    for node in element.childNodes:
        name = getattr(node, "qname", (None, None))[1]
        if name in ("p", "h"):
            yield Block(normalise_newlines(teletype.extractText(node)))
        elif name == "table":
            for row in _odt_descendants(node, "table-row"):
                cells = [node_text(c) for c in row.childNodes
                         if getattr(c, "qname", (None, None))[1] == "table-cell"]
                yield row_block(cells)
        elif getattr(node, "childNodes", None):
            yield from _odt_blocks(node)


def _odt_descendants(node, name: str) -> list:
    found = []
    for child in getattr(node, "childNodes", []):
        if getattr(child, "qname", (None, None))[1] == name:
            found.append(child)
        else:
            found += _odt_descendants(child, name)
    return found


def node_text(cell) -> str:
    from odf import teletype

    return "\n".join(teletype.extractText(p) for p in _odt_descendants(cell, "p"))


@register("pdf")
def read_pdf(path: Path, options: ReaderOptions) -> Transcript:
    data = read_bytes(path, options.max_bytes)
    if b"%PDF-" not in data[:1024]:
        raise InputError(f"not a PDF file ({sniff(data) or 'no %PDF header'})", path=path,
                         fix="give the file its right extension or set 'format' in the manifest")
    with parsing(path, "pdf"):
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise InputError("PDF is encrypted", path=path, fix="save an unencrypted copy")
        pages = [normalise_newlines(page.extract_text() or "").strip() for page in reader.pages]
    if not any(p.strip() for p in pages):
        raise InputError("PDF has no text layer (a scanned image?)", path=path,
                         fix="run OCR on it, or export the transcript as .txt")
    return assemble(path, "pdf", [Block(p) for p in strip_running_lines(pages)], options)


def _line_key(line: str) -> str:
    """A header/footer line with its page number (any digits) blanked."""
    return re.sub(r"\d+", "#", " ".join(line.split())).casefold()


def strip_running_lines(pages: list[str], edge: int = 2) -> list[str]:
    """Pages without the headers and footers repeated on most of them.

    A running line is one of the first or last `edge` lines of a page that
    recurs at the same place (n-th from the top, or from the bottom) on more
    than half of the pages, at least two, digits ignored (so "Page 3 of 9"
    matches "Page 4 of 9"), and is not a speaker role label. Print exports of
    QDA tools and word processors repeat the file name, a URL, the date and
    the page number on every page.
    """
    if len(pages) < 2:
        return pages
    split = [p.split("\n") for p in pages]
    seen: Counter = Counter()
    for lines in split:
        seen.update(set(_edge_keys(lines, edge).values()))
    running = {k for k, n in seen.items() if n >= 2 and n * 2 > len(pages)}
    out = []
    for lines in split:
        drop = {i for i, key in _edge_keys(lines, edge).items() if key in running
                and not is_role_label(lines[i].strip().rstrip(":"))}
        out.append("\n".join(x for i, x in enumerate(lines) if i not in drop).strip())
    return out


def _edge_keys(lines: list[str], edge: int) -> dict[int, tuple[str, int, str]]:
    """Line index -> (top or bottom, place from that end, line key) for the edge lines."""
    keys = {}
    for place in range(min(edge, len(lines))):
        for side, i in (("top", place), ("bottom", len(lines) - 1 - place)):
            if lines[i].strip():
                keys.setdefault(i, (side, place, _line_key(lines[i])))
    return keys
