"""`hcrisis import qdpx|qdc`: a REFI-QDA project or codebook as hcrisis files.

`import_qdpx` turns a project into a corpus folder:

- `manifest.yaml`: each text source a document (`sources/<id>.txt`, its
  text in UTF-8 with LF line ends, kind `other` for the researcher to set),
  its variable values as attributes, its participant when exactly one case
  refers to it; `participants.csv`: each case and its variable values;
- `codebook.yaml`: the code tree (labels, colours, descriptions split back
  into definition / when to use / when not to use / example, each code's
  REFI GUID as `refi_guid`), rules left for the researcher to write;
- `codings.csv`: `document_id, code_id, start, end, coder, text, selection`
  with start/end in hcrisis's offsets (code points into the LF text), the
  coded text, and the REFI selection's GUID.

Real projects are not tidy, so the reader takes `Sources/` in any case,
`internal://` paths or bare ones, a UTF-8 BOM and CRLF line ends (positions
moved back by the CRs before them), sources without a name (named by their
file or GUID), code names repeated under different parents (ids made unique
with the parent's id; codes of a codebook given with `codebook`, matched
by GUID, keep its ids), `{braced}` and mixed-case GUIDs, and codebook
namespaces of older versions. Positions are code points unless a selection
ends beyond its text in code points but within it in UTF-16 units (NVivo),
or `positions` says which; the choice and why are reported. PDF sources are
read through their plain-text representation; pictures, audio, video and
PDFs without one are skipped, each listed with its kind and the codings it
held; zero-length selections are skipped and counted; so is a source
whose text file is missing when nothing in it is coded. A coded source whose
text file is missing, a selection outside its text or a coding of an
unknown code stops the import with a one-line error, or with `skip_bad` is
skipped and listed. Nothing is written unless the whole import succeeds
(the folder is built beside its destination and renamed into place).
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from hcrisis.errors import HcrisisError, InputError
from hcrisis.exchange.archive import Archive, open_archive, parse_xml
from hcrisis.exchange.positions import MODES, from_units, length, lf_offsets
from hcrisis.exchange.refi import NS_PREFIX, colour, normal_guid, parse_description
from hcrisis.files import atomic_path, read_bytes, temp_folder, write_atomic
from hcrisis.ingest.corpus import SEGMENT_COLUMNS
from hcrisis.tables import table_to_csv

CODING_COLUMNS = ["document_id", "code_id", "start", "end", "coder", "text", "selection"]
MEDIA = {"PictureSource": "picture", "AudioSource": "audio", "VideoSource": "video", "PDFSource": "PDF"}
RESERVED = set(SEGMENT_COLUMNS) | {"participant_id", "name", "notes"}
CODEBOOK_NOTE = ("# Imported from {file} (REFI-QDA). Each code keeps its REFI GUID (refi_guid), so an\n"
                 "# export gives the tool its own codes back. Write each code's rules (see 'Codebook\n"
                 "# format' in the README) before 'hcrisis code'; 'hcrisis codebook check' lists the\n"
                 "# codes still without rules.\n")


# ---------------------------------------------------------------- XML helpers
def local(el) -> str:
    from lxml import etree

    return etree.QName(el).localname


def kids(el, name: str) -> list:
    """Children with local name `name`, whatever their namespace version."""
    return [c for c in el if isinstance(c.tag, str) and local(c) == name]


def kid(el, name: str):
    found = kids(el, name)
    return found[0] if found else None


def _root(data: bytes, where: str, name: str):
    root = parse_xml(data, where)
    from lxml import etree

    ns = etree.QName(root).namespace or ""
    if local(root) != name or not ns.startswith(NS_PREFIX):
        raise InputError(f"root element is <{local(root)}> in namespace '{ns}', not a REFI-QDA <{name}>",
                         path=where, fix="give a file exported by a QDA tool in REFI-QDA format")
    return root


# ---------------------------------------------------------------- results
@dataclass
class Skipped:
    kind: str          # what was skipped: "picture source", "zero-length selection", ...
    what: str          # its name, or a count
    why: str
    codings: int = 0


@dataclass
class Imported:
    out: Path
    sources: int = 0
    codes: int = 0
    codings: int = 0
    cases: int = 0
    positions: str = "codepoints"
    positions_why: str = ""
    skipped: list[Skipped] = field(default_factory=list)

    def report(self) -> list[str]:
        """The import's counts, the position convention used and every skip, one line each."""
        unit = "UTF-16 code units" if self.positions == "utf16" else "code points"
        lines = [(f"read {self.sources} source(s), {self.codes} code(s), {self.codings} coding(s), "
                  f"{self.cases} case(s); wrote {self.out}"),
                 f"positions: {unit} ({self.positions_why})"]
        lines += [f"skipped: {s.kind} {s.what}: {s.why}" + (f" ({s.codings} coding(s) not imported)"
                                                             if s.codings else "") for s in self.skipped]
        return lines


# ---------------------------------------------------------------- code tree
def slug(name: str, fallback: str = "code") -> str:
    """An hcrisis code id (^[a-z][a-z0-9_]*$) from a code name."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    s = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")[:60]
    return s if s[:1].isalpha() else f"{fallback}_{s}".strip("_")


def read_code_tree(codes_el, where: str, known: dict[str, str] | None = None) -> tuple[list[dict], dict[str, str]]:
    """Codebook YAML mappings of a <Codes> element, and each code GUID's id; `known` maps GUIDs to
    the ids of an existing codebook (`known_codes`), which such codes keep."""
    ids: dict[str, str] = {}
    known = known or {}
    taken: set[str] = set(known.values())

    def unique(name: str, parent: str | None, g: str) -> str:
        if g in known:
            return known[g]
        base = slug(name)
        cid = base if base not in taken or parent is None else f"{parent}_{base}"
        n = 2
        while cid in taken:
            cid, n = f"{base}_{n}", n + 1
        taken.add(cid)
        return cid

    def walk(el, parent: str | None) -> list[dict]:
        out = []
        for code in kids(el, "Code"):
            name = (code.get("name") or "").strip() or "(unnamed code)"
            g = normal_guid(code.get("guid"))
            if g is None:
                raise InputError(f"code '{name}' has a malformed GUID '{code.get('guid')}'", path=where,
                                 line=code.sourceline, fix="export the codebook again from your QDA tool")
            cid = unique(name, parent, g)
            ids[g] = cid
            item = {"id": cid, "label": name}
            if colour(code.get("color")):
                item["colour"] = colour(code.get("color"))
            desc = kid(code, "Description")
            item.update(parse_description(desc.text if desc is not None else None))
            item["refi_guid"] = g
            children = walk(code, cid)
            if children:
                item["codes"] = children
            out.append(item)
        return out

    return (walk(codes_el, None) if codes_el is not None else []), ids


def known_codes(codebook: str | Path | None) -> dict[str, str]:
    """GUID -> id of an existing codebook's codes: each `refi_guid`, else the GUID hcrisis exports it with."""
    if codebook is None:
        return {}
    from hcrisis.coding.codebook import load_codebook
    from hcrisis.exchange.refi_export import code_guid

    return {code_guid(c): c.id for c in load_codebook(codebook, require_rules=False).codes}


def codebook_yaml(name: str, codes: list[dict], source: str) -> str:
    data = {"codebook": name, "description": f"Imported from {source} (REFI-QDA)", "codes": codes}
    return CODEBOOK_NOTE.format(file=source) + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


# ---------------------------------------------------------------- sources
@dataclass
class TextSource:
    guid: str
    name: str
    kind: str                        # "text" or "PDF"
    raw: str                         # decoded text as stored (CRLF kept): positions count it
    selections: list                 # PlainTextSelection elements
    whole: list                      # Coding elements on the source itself (the whole text)
    values: dict[str, str]


class _Reader:
    """One project's parse: users, codes, variables, cases and sources, with the skips."""

    def __init__(self, archive: Archive, root, where: str, skip_bad: bool, known: dict[str, str]):
        self.archive, self.root, self.where, self.skip_bad = archive, root, where, skip_bad
        self.skipped: list[Skipped] = []
        self.users = {normal_guid(u.get("guid")): (u.get("name") or u.get("guid"))
                      for us in kids(root, "Users") for u in kids(us, "User")}
        book = kid(root, "CodeBook")
        self.codes, self.code_ids = read_code_tree(kid(book, "Codes") if book is not None else None, where, known)
        self.variables = {normal_guid(v.get("guid")): v.get("name") or v.get("guid")
                          for vs in kids(root, "Variables") for v in kids(vs, "Variable")}

    def bad(self, error: InputError, skip: Skipped) -> None:
        """Stop at a bad item, or with skip_bad list it and go on."""
        if not self.skip_bad:
            raise error
        self.skipped.append(skip)

    def values(self, el) -> dict[str, str]:
        out = {}
        for vv in kids(el, "VariableValue"):
            ref = kid(vv, "VariableRef")
            name = self.variables.get(normal_guid(ref.get("targetGUID") if ref is not None else None))
            value = next((c.text for c in vv if isinstance(c.tag, str) and local(c).endswith("Value")), None)
            if name and value is not None and value.strip():
                out[name] = value.strip()
        return out

    def cases(self) -> list[tuple[str, dict[str, str], list[str]]]:
        out, seen = [], set()
        for cs in kids(self.root, "Cases"):
            for case in kids(cs, "Case"):
                name = (case.get("name") or "").strip() or normal_guid(case.get("guid")) or "case"
                pid, n = name, 2
                while pid in seen:
                    pid, n = f"{name}-{n}", n + 1
                seen.add(pid)
                refs = [normal_guid(r.get("targetGUID")) for r in kids(case, "SourceRef")]
                out.append((pid, self.values(case), [r for r in refs if r]))
        return out

    def sources(self) -> list[TextSource]:
        out = []
        for group in kids(self.root, "Sources"):
            for src in (c for c in group if isinstance(c.tag, str)):
                tag, name = local(src), src.get("name") or ""
                if tag == "TextSource":
                    text = self.text_of(src, name)
                    if text is not None:
                        out.append(self.text_source(src, src, name, text, "text"))
                elif tag == "PDFSource" and kid(src, "Representation") is not None:
                    rep = kid(src, "Representation")
                    text = self.text_of(rep, name or rep.get("name") or "")
                    areas = kids(src, "PDFSelection")
                    if areas:
                        self.skipped.append(Skipped("PDF area selection(s) of", _q(name, src),
                                                    f"{len(areas)} region(s) of a page, not text",
                                                    _codings_in(areas)))
                    if text is not None:
                        out.append(self.text_source(src, rep, name, text, "PDF"))
                else:
                    why = ("no plain-text representation" if tag == "PDFSource" else
                           "hcrisis reads text only" if tag in MEDIA else f"unknown source type <{tag}>")
                    self.skipped.append(Skipped(f"{MEDIA.get(tag, tag)} source", _q(name, src), why,
                                                _codings_in([src])))
        return out

    def text_source(self, src, text_el, name: str, raw: str, kind: str) -> TextSource:
        g = normal_guid(src.get("guid")) or normal_guid(text_el.get("guid")) or ""
        return TextSource(g, name, kind, raw, kids(text_el, "PlainTextSelection"),
                          kids(text_el, "Coding") + (kids(src, "Coding") if src is not text_el else []),
                          self.values(src))

    def text_of(self, el, name: str) -> str | None:
        """The plain text of a text source (inline or a file in the archive); None if skipped."""
        inline = kid(el, "PlainTextContent")
        if inline is not None:
            return (inline.text or "").lstrip("\ufeff")
        ref = el.get("plainTextPath") or ""
        member = self.member(ref)
        shown = _q(name, el)
        if member is None and not _codings_in([el]):      # nothing coded in it: listed, no error
            self.skipped.append(Skipped("text source", shown, f"text file '{ref or '(none)'}' missing from "
                                        "the archive"))
            return None
        if member is None:
            self.bad(InputError(f"text source {shown}: its text file '{ref or '(none)'}' is missing from the "
                                "archive", path=self.where,
                                fix="export the project again with its sources, or pass --skip-bad to skip it"),
                     Skipped("text source", shown, f"text file '{ref or '(none)'}' missing from the archive",
                             _codings_in([el])))
            return None
        data = self.archive.read(member)
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            self.bad(InputError(f"text source {shown}: '{member}' is not UTF-8 (byte {exc.start})",
                                path=self.where, fix="REFI-QDA text sources are UTF-8; re-export the project "
                                "or pass --skip-bad to skip it"),
                     Skipped("text source", shown, f"'{member}' is not UTF-8", _codings_in([el])))
            return None

    def member(self, ref: str) -> str | None:
        """The archive member a plainTextPath names: `internal://x.txt`, `sources/x.txt` or `x.txt`."""
        if not ref or re.match(r"(relative|absolute)://", ref):
            return None
        name = ref.split("://", 1)[1] if ref.startswith("internal://") else ref
        name = name.lstrip("/")
        return self.archive.find(f"sources/{name}") or self.archive.find(name)


def _q(name: str, el) -> str:
    return f"'{name}'" if name else f"(unnamed, GUID {el.get('guid')})"


def _codings_in(elements: list) -> int:
    return sum(1 for el in elements for c in el.iter() if isinstance(c.tag, str) and local(c) == "Coding")


# ---------------------------------------------------------------- positions
def choose_positions(sources: list[TextSource], forced: str | None) -> tuple[str, str]:
    """The position convention of the project's selections, and why (module docstring)."""
    if forced is not None:
        if forced not in MODES:
            raise InputError(f"unknown positions '{forced}'", fix="use --positions codepoints or --positions utf16")
        return forced, "as --positions says"
    ends = [(s, _position(sel, "endPosition") or 0) for s in sources for sel in s.selections]
    if all(e <= length(s.raw, "codepoints") for s, e in ends):
        differ = any(length(s.raw, "utf16") != len(s.raw) for s, _ in ends)
        return "codepoints", ("the standard's; every selection fits its text" +
                              ("; pass --positions utf16 if the project came from NVivo" if differ else ""))
    if all(e <= length(s.raw, "utf16") for s, e in ends):
        return "utf16", "detected: selections end beyond their text in code points but fit UTF-16 units, as NVivo counts"
    return "codepoints", "the standard's; some selections fit neither convention"


def _position(sel, attr: str) -> int | None:
    try:
        return int(sel.get(attr))
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- import
def doc_id(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", unicodedata.normalize("NFKC", name)).strip("-.") or "source"
    did, n = base[:80], 2
    while did in taken:
        did, n = f"{base[:80]}-{n}", n + 1
    taken.add(did)
    return did


class _Builder:
    """Documents and codings from the text sources, in hcrisis's offsets."""

    def __init__(self, reader: _Reader, positions: str):
        self.reader, self.positions = reader, positions
        self.rows: list[tuple] = []
        self.zero = 0
        self.zero_codings = 0

    def source(self, src: TextSource, did: str) -> str:
        """Add the source's codings; return its canonical (LF) text."""
        from hcrisis.ingest.readers.decode import normalise_newlines

        text = normalise_newlines(src.raw)
        spans = [(sel, _position(sel, "startPosition"), _position(sel, "endPosition")) for sel in src.selections]
        for sel, s, e in spans:
            cp = from_units([s, e], src.raw, self.positions) if s is not None and e is not None else [None, None]
            if None in cp or cp[0] > cp[1]:
                self.reader.bad(InputError(
                    f"selection {sel.get('guid')} of source '{src.name or src.guid}' at {s}-{e} lies outside its "
                    f"text ({length(src.raw, self.positions)} {'UTF-16 units' if self.positions == 'utf16' else 'characters'})",
                    path=self.reader.where, line=sel.sourceline,
                    fix="check --positions (codepoints or utf16), or pass --skip-bad to skip the selection"),
                    Skipped("selection", str(sel.get("guid")), f"outside its source '{src.name}'",
                            _codings_in([sel])))
                continue
            start, end = lf_offsets(cp, src.raw)
            if start == end:
                self.zero += 1
                self.zero_codings += _codings_in([sel])
                continue
            self.add(did, text, start, end, kids(sel, "Coding"), sel)
        self.add(did, text, 0, len(text), src.whole, None)
        return text

    def add(self, did: str, text: str, start: int, end: int, codings: list, sel) -> None:
        for coding in codings:
            ref = kid(coding, "CodeRef")
            target = normal_guid(ref.get("targetGUID") if ref is not None else None)
            code = self.reader.code_ids.get(target)
            if code is None:
                self.reader.bad(InputError(f"coding {coding.get('guid')} refers to code "
                                           f"'{ref.get('targetGUID') if ref is not None else ''}', which the "
                                           "codebook does not hold", path=self.reader.where, line=coding.sourceline,
                                           fix="export the project again, or pass --skip-bad to skip the coding"),
                                Skipped("coding", str(coding.get("guid")), "refers to a code not in the codebook", 1))
                continue
            users = self.reader.users
            user = normal_guid(coding.get("creatingUser")) or normal_guid(sel.get("creatingUser") if sel is not None
                                                                         else None)
            coder = users.get(user) or user or "unknown"
            self.rows.append((did, code, start, end, coder, text[start:end],
                              normal_guid(sel.get("guid")) if sel is not None else ""))


def import_qdpx(path: str | Path, out: str | Path, *, positions: str | None = None,
                skip_bad: bool = False, codebook: str | Path | None = None) -> Imported:
    """Read a REFI-QDA project into a corpus folder, codebook.yaml and codings.csv (module docstring);
    codes of `codebook` (matched by GUID) keep their ids."""
    known = known_codes(codebook)
    archive = open_archive(path)
    try:
        qde = archive.find("project.qde") or next(
            (n for low, n in archive.names.items() if low.endswith(".qde") and "/" not in low), None)
        if qde is None:
            raise InputError("no project.qde in the archive", path=path,
                             fix="give the .qdpx file your QDA tool exported")
        where = f"{path}:{qde}"
        reader = _Reader(archive, _root(archive.read(qde), where, "Project"), where, skip_bad, known)
        sources = reader.sources()
    finally:
        archive.zf.close()
    mode, why = choose_positions(sources, positions)
    files, manifest, builder = _corpus_files(reader, sources, mode, Path(path).stem)
    if builder.zero:
        reader.skipped.append(Skipped("zero-length selection(s):", str(builder.zero),
                                      "no text to code", builder.zero_codings))
    codings = pd.DataFrame(builder.rows, columns=CODING_COLUMNS)
    files["codebook.yaml"] = codebook_yaml(manifest["name"], reader.codes, Path(path).name)
    files["codings.csv"] = table_to_csv(codings)
    _write_folder(Path(out), files)
    return Imported(Path(out), len(manifest["documents"]), len(reader.code_ids), len(codings),
                    len(reader.cases()), mode, why, reader.skipped)


def _corpus_files(reader: _Reader, sources: list[TextSource], mode: str, stem: str):
    """The corpus folder's files (path -> text), its manifest, and the codings' builder."""
    builder = _Builder(reader, mode)
    cases = reader.cases()
    rename = {v: (f"{v}_variable" if v in RESERVED else v) for v in reader.variables.values()}
    files: dict[str, str] = {}
    docs, taken = [], set()
    for src in sources:
        if not src.raw.strip():
            reader.skipped.append(Skipped(f"{src.kind} source", f"'{src.name}'", "empty text",
                                          _codings_in(src.selections + src.whole)))
            continue
        did = doc_id(src.name or src.guid, taken)
        files[f"sources/{did}.txt"] = builder.source(src, did)
        doc = {"id": did, "file": f"sources/{did}.txt", "kind": "other"}
        if src.values:
            doc["attributes"] = {rename[k]: v for k, v in src.values.items()}
        owners = [pid for pid, _, refs in cases if src.guid in refs]
        if len(owners) == 1:
            doc["participants"] = owners
        docs.append(doc)
    used = [v for v in reader.variables.values()
            if any(v in s.values for s in sources) or any(v in vals for _, vals, _ in cases)]
    manifest: dict = {"name": reader.root.get("name") or stem,
                      "description": f"Imported from {stem}.qdpx (REFI-QDA); set each document's kind",
                      "attributes": {rename[v]: {} for v in used}}
    if cases:
        columns = [v for v in used if any(v in vals for _, vals, _ in cases)]
        table = pd.DataFrame([[pid] + [vals.get(c, "") for c in columns] for pid, vals, _ in cases],
                             columns=["participant_id"] + [rename[c] for c in columns])
        files["participants.csv"] = table_to_csv(table)
        manifest["participants"] = "participants.csv"
    manifest["documents"] = docs
    if docs:     # a project without text gives a codebook, and no corpus
        files["manifest.yaml"] = yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=100)
    return files, manifest, builder


def _write_folder(out: Path, files: dict[str, str]) -> None:
    """Write every file into a fresh folder beside `out`, check it loads, then rename it into place."""
    from hcrisis.coding.codebook import load_codebook
    from hcrisis.ingest.corpus import load_corpus

    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError("output folder exists and is not empty", path=out,
                         fix="choose a new folder for the imported project")
    tmp = temp_folder(out.parent, out.name, "import")
    try:
        for name, text in files.items():
            write_atomic(tmp / name, text)
        if "manifest.yaml" in files:
            load_corpus(tmp)                      # the corpus must load as written
        load_codebook(tmp / "codebook.yaml", require_rules=False)
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    except HcrisisError as exc:
        raise InputError(f"the imported project does not load: {exc.one_line()}", path=out,
                         fix="report this with the .qdpx file") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def import_qdc(path: str | Path, out: str | Path, *, codebook: str | Path | None = None) -> int:
    """Write a REFI-QDA Codebook file as codebook.yaml; return the number of codes."""
    from hcrisis.coding.codebook import load_codebook

    known = known_codes(codebook)
    root = _root(read_bytes(path), str(path), "CodeBook")
    codes, ids = read_code_tree(kid(root, "Codes"), str(path), known)
    text = codebook_yaml(slug(Path(path).stem, "codebook"), codes, Path(path).name)
    with atomic_path(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
        load_codebook(tmp, require_rules=False)       # renamed into place only if it loads
    return len(ids)
