"""`hcrisis export qdpx|qdc`: a corpus, its codebook and codings as REFI-QDA files.

The project (`.qdpx`) holds:

- every source (`hcrisis.coding.spans`: a document, or a row of a table of
  responses) as a `TextSource` named by its id, its canonical text in
  `sources/<guid>.txt` (UTF-8, LF) at `internal://<guid>.txt`, its
  attributes as `VariableValue`s;
- the codebook as the code tree (themes as parent codes; label, colour,
  description as in `hcrisis.exchange.refi`), every code codable;
- each coding as a `PlainTextSelection` (one per source, span and coder)
  holding a `Coding` per code, `creatingUser` on both, the coder a `User`;
- the participants as `Cases` with their attributes as `VariableValue`s of
  text `Variables` and a `SourceRef` to each source they speak in (the
  registry's `name` column is never exported).

GUIDs are uuid5 of hcrisis's ids (a code's `refi_guid` is kept), there are
no timestamps, the zip members are in a fixed order with a fixed date, so
the same inputs give the same bytes. Positions are code points
(`positions="codepoints"`, the standard's) or UTF-16 code units (`"utf16"`,
NVivo's).
"""

from __future__ import annotations

import re
import zipfile
from itertools import groupby
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hcrisis.coding.codebook import Codebook, load_codebook
from hcrisis.coding.spans import coding_spans, segment_sources
from hcrisis.errors import InputError
from hcrisis.exchange.positions import MODES, to_units
from hcrisis.exchange.refi import CODEBOOK_NS, PROJECT_NS, describe, guid, normal_guid
from hcrisis.files import atomic_path, write_atomic
from hcrisis.ingest.corpus import Corpus, as_corpus, read_csv_table

ZIP_DATE = (1980, 1, 1, 0, 0, 0)      # the earliest date a zip can hold: no build time in the bytes
ORIGIN = "hcrisis"


@dataclass
class Source:
    id: str
    text: str
    attributes: dict[str, str]


@dataclass
class Exported:
    """What an export wrote, for the command's one-line report."""

    path: Path
    sources: int
    codes: int
    codings: int
    users: int
    cases: int
    positions: str


# ---------------------------------------------------------------- inputs
def corpus_sources(corpus: Corpus) -> list[Source]:
    """The corpus's sources in manifest order: each document, then each table row."""
    out = []
    for doc in corpus.manifest.get("documents", []):
        if doc["id"] in corpus.transcripts:
            out.append(Source(doc["id"], corpus.transcripts[doc["id"]].text, _values(doc.get("attributes", {}))))
    tables = {t["id"] for t in corpus.manifest.get("tables", [])}
    rows = corpus.segments[corpus.segments["document_id"].isin(tables)]
    for rec in rows.to_dict("records"):
        out.append(Source(str(rec["segment_id"]), str(rec["text"]),
                          _values({a: rec[a] for a in corpus.attributes})))
    return out


def _values(attrs: dict) -> dict[str, str]:
    return {str(k): str(v) for k, v in attrs.items() if v is not None and str(v) != ""}


def read_codings(codings: str | Path | pd.DataFrame) -> tuple[pd.DataFrame, str | Path]:
    if isinstance(codings, pd.DataFrame):
        return codings, "codings"
    return read_csv_table(Path(codings)), codings


# ---------------------------------------------------------------- XML
# Characters XML 1.0 cannot hold (C0 controls but tab, LF, CR): dropped from names and values,
# which lxml would otherwise refuse.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _el(parent, tag: str, ns: str, **attrs):
    from lxml import etree

    return etree.SubElement(parent, f"{{{ns}}}{tag}",
                            {k: _NOT_XML.sub("", v) for k, v in attrs.items() if v is not None})


def _text_el(parent, tag: str, ns: str, text: str | None) -> None:
    if text:
        _el(parent, tag, ns).text = _NOT_XML.sub("", text)


def code_guid(code) -> str:
    return normal_guid(code.data.get("refi_guid")) or guid("code", code.id)


def add_codes(parent, codebook: Codebook, ns: str) -> None:
    """The code tree under `parent` (a CodeBook element), themes first, in codebook order."""
    codes = _el(parent, "Codes", ns)
    made = {}
    for code in codebook.codes:
        under = codes if code.parent is None else made[code.parent]
        el = _el(under, "Code", ns, guid=code_guid(code), name=code.label, isCodable="true",
                 color=code.data.get("colour"))
        _text_el(el, "Description", ns, describe(code.data))
        made[code.id] = el


def project_xml(name: str, sources: list[Source], codebook: Codebook | None, spans: pd.DataFrame,
                cases: list[tuple[str, dict[str, str], list[str]]], attributes: list[str], positions: str) -> bytes:
    """The `project.qde` document (module docstring)."""
    from lxml import etree

    ns = PROJECT_NS
    root = etree.Element(f"{{{ns}}}Project", {"name": name, "origin": ORIGIN}, nsmap={None: ns})
    coders = sorted(set(spans["coder"]))
    if coders:
        users = _el(root, "Users", ns)
        for c in coders:
            _el(users, "User", ns, guid=guid("user", c), name=c)
    if codebook is not None:
        add_codes(_el(root, "CodeBook", ns), codebook, ns)
    variables = [a for a in attributes
                 if any(a in s.attributes for s in sources) or any(a in v for _, v, _ in cases)]
    if variables:
        vel = _el(root, "Variables", ns)
        for v in variables:
            _el(vel, "Variable", ns, guid=guid("variable", v), name=v, typeOfVariable="Text")
    if cases:
        cel = _el(root, "Cases", ns)
        for pid, values, where in cases:
            case = _el(cel, "Case", ns, guid=guid("case", pid), name=pid)
            _variable_values(case, values, ns)
            for src in where:
                _el(case, "SourceRef", ns, targetGUID=guid("source", src))
    sel = _el(root, "Sources", ns)
    by_source: dict[str, list[tuple[int, int, str, str]]] = {}
    for src_id, start, end, coder, code in zip(spans["source_id"], spans["start"], spans["end"], spans["coder"],
                                               spans["code_id"]):
        by_source.setdefault(src_id, []).append((int(start), int(end), str(coder), str(code)))
    codes = {c.id: code_guid(c) for c in codebook.codes} if codebook is not None else {}
    for src in sources:
        sguid = guid("source", src.id)
        el = _el(sel, "TextSource", ns, guid=sguid, name=src.id, plainTextPath=f"internal://{sguid}.txt")
        if src.id in by_source:
            _selections(el, src, by_source[src.id], codes, positions)
        _variable_values(el, src.attributes, ns)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _variable_values(parent, values: dict[str, str], ns: str) -> None:
    for name, value in values.items():
        vv = _el(parent, "VariableValue", ns)
        _el(vv, "VariableRef", ns, targetGUID=guid("variable", name))
        _text_el(vv, "TextValue", ns, value)


def _cases(corpus: Corpus, sources: list[Source]) -> list[tuple[str, dict[str, str], list[str]]]:
    """(participant id, attribute values, sources they speak in) for every participant."""
    seg = segment_sources(corpus).assign(participant_id=corpus.segments["participant_id"].astype(str).to_numpy())
    exported = {s.id for s in sources}
    speaks = {pid: list(dict.fromkeys(g["source_id"])) for pid, g in seg[seg["participant_id"] != ""].groupby(
        "participant_id", sort=False)}
    registry = corpus.participants
    columns = [a for a in corpus.attributes if a in registry.columns]     # never `name`
    out = []
    for rec in registry.to_dict("records"):
        pid = str(rec["participant_id"])
        out.append((pid, _values({a: rec[a] for a in columns}), [s for s in speaks.get(pid, []) if s in exported]))
    out += [(pid, {}, where) for pid, where in speaks.items() if pid not in set(registry["participant_id"].astype(str))]
    return out


def _selections(parent, src: Source, spans: list[tuple[int, int, str, str]], codes: dict[str, str],
                positions: str) -> None:
    """One selection per span and coder (in text order), a coding per code (`spans`: start, end,
    coder, code id; `codes`: id -> GUID in codebook order)."""
    ns = PROJECT_NS
    rank = {c: i for i, c in enumerate(codes)}
    for start, end, _, code in spans:
        if not 0 <= start <= end <= len(src.text):
            raise InputError(f"coding {code} at {start}-{end} lies outside source '{src.id}' "
                             f"({len(src.text)} characters)", path="codings",
                             fix="pass the corpus the codings were made on")
    # plain tuples, not a frame per source: pandas' per-group overhead was 2 s for the thesis
    ordered = sorted(spans, key=lambda s: (s[0], s[1], s[2], rank[s[3]]))
    for (start, end, coder), group in groupby(ordered, key=lambda s: s[:3]):
        key = f"{src.id}:{start}:{end}:{coder}"
        ustart, uend = to_units([start, end], src.text, positions)
        user = guid("user", coder)
        sel = _el(parent, "PlainTextSelection", ns, guid=guid("selection", key), startPosition=str(ustart),
                  endPosition=str(uend), creatingUser=user)
        # codebook order, keyed by GUID: an imported project exports to the same bytes
        for code in dict.fromkeys(codes[s[3]] for s in group):
            c = _el(sel, "Coding", ns, guid=guid("coding", f"{key}:{code}"), creatingUser=user)
            _el(c, "CodeRef", ns, targetGUID=code)


def codebook_xml(codebook: Codebook) -> bytes:
    """A REFI-QDA Codebook (`.qdc`) document."""
    from lxml import etree

    root = etree.Element(f"{{{CODEBOOK_NS}}}CodeBook", {"origin": ORIGIN}, nsmap={None: CODEBOOK_NS})
    add_codes(root, codebook, CODEBOOK_NS)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# ---------------------------------------------------------------- files
def write_zip(out: str | Path, members: list[tuple[str, bytes]]) -> Path:
    """A zip with members in the given order, fixed dates and modes (byte-stable), written atomically."""
    with atomic_path(out) as tmp, zipfile.ZipFile(tmp, "w") as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3       # Unix, whatever system writes it
            zf.writestr(info, data, compresslevel=6)
    return Path(out)


def export_qdpx(corpus: str | Path | Corpus, out: str | Path, *, codings: str | Path | pd.DataFrame | None = None,
                codebook: str | Path | Codebook | None = None, coder: str = "hcrisis",
                positions: str = "codepoints", allow_identifiers: bool = False) -> Exported:
    """Write the corpus (with the codebook and codings, if given) as a REFI-QDA project.

    `codings`: a CSV or the frame of `hcrisis.coding.apply.apply_codebook`; `corpus` and
    `codebook` may be loaded already (a study's coding step passes its own)."""
    from hcrisis.ingest.privacy import guard_export

    if positions not in MODES:
        raise InputError(f"unknown positions '{positions}'", fix="use --positions codepoints or --positions utf16")
    c = as_corpus(corpus)
    book = codebook if isinstance(codebook, Codebook) or codebook is None else load_codebook(
        codebook, require_rules=False)
    spans = pd.DataFrame(columns=["source_id", "code_id", "start", "end", "coder"])
    if codings is not None:
        if book is None:
            raise InputError("codings need the codebook they were made with", path=str(codings),
                             fix="pass --codebook FILE")
        table, where = read_codings(codings)
        spans = coding_spans(table, c, coder=coder, where=where)
        unknown = sorted(set(spans["code_id"]) - set(book.by_id))
        if unknown:
            raise InputError(f"code id(s) not in the codebook: {', '.join(unknown[:5])}", path=where,
                             fix=f"pass the codebook the codings were made with (not {codebook})")
    sources = corpus_sources(c)
    # The project carries every source's full text: refuse identifiers as every export does.
    guard_export(pd.DataFrame({"segment_id": [s.id for s in sources], "text": [s.text for s in sources]}),
                 out, allow_identifiers, c)
    cases = _cases(c, sources)
    xml = project_xml(c.name, sources, book, spans, cases, c.attributes, positions)
    members = [("project.qde", xml)] + [(f"sources/{guid('source', s.id)}.txt", s.text.encode("utf-8"))
                                        for s in sources]
    write_zip(out, members)
    return Exported(Path(out), len(sources), len(book.codes) if book else 0,
                    int(spans.drop_duplicates(["source_id", "start", "end", "coder", "code_id"]).shape[0]),
                    spans["coder"].nunique(), len(cases), positions)


def export_qdc(codebook: str | Path, out: str | Path) -> Exported:
    """Write a codebook as a REFI-QDA Codebook file."""
    book = load_codebook(codebook, require_rules=False)
    write_atomic(out, codebook_xml(book))
    return Exported(Path(out), 0, len(book.codes), 0, 0, 0, "")
