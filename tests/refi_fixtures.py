"""REFI-QDA test helpers: the vendored schemas, hand-built projects, third-party readers."""

from __future__ import annotations

import zipfile
from pathlib import Path

from conftest import ROOT, write

SCHEMAS = ROOT / "tests" / "refi"
NS = 'xmlns="urn:QDA-XML:project:1.0"'


def schema(name: str):
    from lxml import etree

    return etree.XMLSchema(etree.parse(str(SCHEMAS / name)))


def assert_valid(xml: bytes, name: str = "Project.xsd") -> None:
    """The document is valid against a vendored REFI-QDA schema (lxml, XML Schema 1.0)."""
    from lxml import etree

    xsd = schema(name)
    assert xsd.validate(etree.fromstring(xml)), xsd.error_log


def project_qde(path: Path) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read("project.qde")


def make_qdpx(path: Path, qde: str, files: dict[str, bytes | str] | None = None) -> Path:
    """A .qdpx as another tool would zip it: project.qde and the given members."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", qde)
        for name, data in (files or {}).items():
            zf.writestr(name, data.encode("utf-8") if isinstance(data, str) else data)
    return path


def reader_counts(path: Path, tmp: Path) -> dict[str, tuple[int, int, int]]:
    """(sources, codes, codings) as pyrefiqda and qdaPy, installed from PyPI, read the project."""
    import warnings

    import qdapy
    from pyrefiqda import RefiProject

    project = RefiProject.load(path, extract_dir=str(tmp / "pyrefiqda"))

    def codes(items) -> int:
        return sum(1 + codes(c.code) for c in items)

    texts = project.sources.text_source if project.sources else []
    book = codes(project.code_book.codes.code) if project.code_book else 0
    codings = sum(len(sel.coding) for s in texts for sel in s.plain_text_selection)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q = qdapy.read_qdpx(path, warn=False)
    return {"pyrefiqda": (len(texts), book, codings),
            "qdapy": (len(q.sources), len(q.codebook), len(q.fragments))}


MINI_CODEBOOK = """\
codebook: mini
codes:
  - id: people
    label: People
    colour: "#1f77b4"
    definition: Tenants and staff as people.
    when_to_use: Tenants or colleagues are named.
    example: A manager speaks of tenants first.
    rules: {keywords: [tenant]}
    codes:
      - id: tenants
        label: Tenants
        rules: {keywords: [tenant]}
  - id: leadership
    label: Leadership
    definition: Leaders and their vision.
    rules: {keywords: [leader]}
"""


def mini_corpus(root: Path) -> Path:
    """Two interviews with accents and emoji (one ending on an emoji), a registry with names."""
    write(root / "manifest.yaml", """\
name: mini
attributes:
  sector: {}
  role: {}
participants: participants.csv
documents:
  - id: int01
    file: int01.txt
    kind: interview
    attributes: {sector: local authority}
    participants: [P01]
  - id: int02
    file: int02.txt
    kind: interview
    participants: [P02]
""")
    write(root / "participants.csv", "participant_id,sector,role,name\nP01,local authority,manager,Ann Example\n"
          "P02,housing association,officer,Bob Example\n")
    write(root / "int01.txt", "Interviewer: What matters?\nR: Tenants come first 🏠 and résumés matter.\n")
    write(root / "int02.txt", "Q: And leaders?\nA: Leaders need vision 😀")
    write(root / "codebook.yaml", MINI_CODEBOOK)
    # offsets in the segment's text, as `hcrisis code` writes them; no offsets: the whole segment
    write(root / "codings.csv", "segment_id,code_id,start,end\nint01:0001,tenants,0,18\nint01:0001,people,,\n"
          "int02:0001,leadership,0,21\n")
    return root


# ---------------------------------------------------------------- the README's example project
EXAMPLE = ROOT / "examples" / "qda"
HANDCODED_TEXTS = {
    "Interview A": ("Interviewer: What should a housing leader know?\n"
                    "R: The finances, and the people behind them. Tenants first, always.\n"
                    "Interviewer: And training?\n"
                    "R: Professional qualifications help, but experience matters more.\n"),
    "Interview B": ("Interviewer: Which skills matter most in your team?\n"
                    "R: Budgeting. Everyone has to read a business plan now.\n"
                    "And listening to tenants, really listening.\n"
                    "Interviewer: How do people learn that?\n"
                    "R: On the job, mostly. A mentor helps more than a course.\n"),
}
HANDCODED_TREE = {"Skills": ["Finance", "People skills"], "Training": ["Qualifications", "Experience"]}
HANDCODED_CODINGS = [   # (source, code, coded text)
    ("Interview A", "Finance", "The finances"),
    ("Interview A", "People skills", "the people behind them. Tenants first, always."),
    ("Interview A", "Qualifications", "Professional qualifications help"),
    ("Interview A", "Experience", "experience matters more"),
    ("Interview B", "Finance", "Budgeting. Everyone has to read a business plan now."),
    ("Interview B", "People skills", "listening to tenants, really listening."),
    ("Interview B", "Experience", "On the job, mostly. A mentor helps more than a course."),
]
HANDCODED_CASES = {"R1": ("Interview A", "local authority"), "R2": ("Interview B", "housing association")}


def _upper_guid(key: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:example:{key}")).upper()


def handcoded_project() -> tuple[str, dict[str, bytes]]:
    """A small project as a Windows QDA tool exports it: upper-case GUIDs, sources saved with a
    UTF-8 BOM and CRLF line ends, selections counted in the stored (CRLF) text."""
    user = _upper_guid("user")
    codes = "".join(
        f'<Code guid="{_upper_guid(theme)}" name="{theme}" isCodable="true">'
        + "".join(f'<Code guid="{_upper_guid(c)}" name="{c}" isCodable="true"/>' for c in children) + "</Code>"
        for theme, children in HANDCODED_TREE.items())
    sector = _upper_guid("Sector")
    cases = "".join(
        f'<Case guid="{_upper_guid(case)}" name="{case}"><VariableValue><VariableRef targetGUID="{sector}"/>'
        f'<TextValue>{value}</TextValue></VariableValue><SourceRef targetGUID="{_upper_guid(src)}"/></Case>'
        for case, (src, value) in HANDCODED_CASES.items())
    sources, files = [], {}
    for name, text in HANDCODED_TEXTS.items():
        stored = text.replace("\n", "\r\n")
        sels = []
        for i, (src, code, quote) in enumerate(HANDCODED_CODINGS):
            if src == name:
                start = stored.index(quote.replace("\n", "\r\n"))
                end = start + len(quote.replace("\n", "\r\n"))
                sels.append(f'<PlainTextSelection guid="{_upper_guid(f"sel{i}")}" startPosition="{start}" '
                            f'endPosition="{end}" creatingUser="{user}"><Coding guid="{_upper_guid(f"coding{i}")}" '
                            f'creatingUser="{user}"><CodeRef targetGUID="{_upper_guid(code)}"/></Coding>'
                            "</PlainTextSelection>")
        guid = _upper_guid(name)
        sources.append(f'<TextSource guid="{guid}" name="{name}" plainTextPath="internal://{guid}.txt">'
                       + "".join(sels) + "</TextSource>")
        files[f"sources/{guid}.txt"] = b"\xef\xbb\xbf" + stored.encode("utf-8")
    qde = (f'<?xml version="1.0" encoding="utf-8"?>\n<Project {NS} name="Skills interviews">'
           f'<Users><User guid="{user}" name="Coder A"/></Users><CodeBook><Codes>{codes}</Codes></CodeBook>'
           f'<Variables><Variable guid="{sector}" name="sector" typeOfVariable="Text"/></Variables>'
           f"<Cases>{cases}</Cases><Sources>{''.join(sources)}</Sources></Project>\n")
    return qde, files


def handcoded_codebook() -> str:
    """The example's codebook as a REFI-QDA .qdc (the same code GUIDs)."""
    codes = "".join(
        f'<Code guid="{_upper_guid(theme)}" name="{theme}" isCodable="true">'
        + "".join(f'<Code guid="{_upper_guid(c)}" name="{c}" isCodable="true"/>' for c in children) + "</Code>"
        for theme, children in HANDCODED_TREE.items())
    return f'<?xml version="1.0" encoding="utf-8"?>\n<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>{codes}</Codes></CodeBook>\n'
