"""Quotation extraction: the participant quotations of a published thesis.

`extract_quotes` reads a thesis converted to plain text (one paragraph per
line) and returns one excerpt per quotation paragraph of the findings
chapters, with the attribution the thesis gives it, the section it sits under
and its line in the source. `write_excerpt_corpus` writes them as a table
corpus (`manifest.yaml`, `excerpts.csv`, `participants.csv`) that
`hcrisis.ingest.corpus.load_corpus` reads.

Rules (documented so that they can be argued with):

- An excerpt is a paragraph opening with “ or " in chapters 5–9 (the
  findings, where quotations are participants'; chapters 1–4 quote the
  literature). A quotation paragraph without a closing quotation mark and
  without an attribution continues into the next quotation paragraph, so a
  quotation running over several paragraphs stays one excerpt.
- Its attribution is the parenthesis after the closing mark, else a short
  parenthetical line right after it, else an identifier (`Int. 18`,
  `CS Int. 4`, `CIH Rep 4`, a focus group) in the last sentence of the
  introducing paragraph. An attribution carrying a year (`(Ridder, 2017: 298)`)
  is a literature citation: that quotation is not a participant excerpt.
- A quotation whose introduction names nobody but refers back to the
  previous speaker ('Adding:', 'He went on to argue', 'For him, ...',
  'This participant also noted') is that speaker's, but only when that one
  paragraph, set off by single empty lines, separates it from the previous
  excerpt: a withheld quotation leaves extra blank or tab-only lines, and the
  thesis's withheld quotations are never reconstructed.
- Identifiers: national interviews `INT-09`, case-study interviews
  `CS-INT-04`, CIH interviews `CIH-2`, focus groups `FG-<case>-<n>` with
  `-P<k>` where the participant is numbered; a bare `(Rep 2)` belongs to the
  focus group last named in its section. Labels naming no number (`LA Case
  Study`) give a source type and sector but no participant.
- Sector is derived from role words (Table 6, §4.5.6) and case study from
  §4.5.13 (1 local authority, 2 regional housing association, 3 national
  housing association, 4 ALMO); both are propagated across a participant's
  excerpts with provenance, and a participant given two sectors is left
  empty and reported as a conflict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import yaml

from hcrisis.errors import InputError
from hcrisis.files import read_bytes, sha256_file, write_atomic
from hcrisis.ingest.readers.decode import decode_text
from hcrisis.tables import table_to_csv, table_to_markdown, write_table

if TYPE_CHECKING:
    from hcrisis.study.runner import StepContext

PARTICIPANT_CHAPTERS = range(5, 10)
OPENING_MARKS = "“\""
CLOSING_MARKS = "”\"’'"

SECTORS = ("local authority", "housing association", "ALMO", "national body", "other")
SOURCE_TYPES = ("national interview", "case-study interview", "focus group")
# §4.5.13: the four case studies, with the code used in focus-group ids.
CASE_STUDIES = {"LA": "local authority", "RHA": "regional housing association",
                "NHA": "national housing association", "ALMO": "ALMO"}
CASE_SECTOR = {"LA": "local authority", "RHA": "housing association",
               "NHA": "housing association", "ALMO": "ALMO"}

_HEADING = re.compile(
    r"^(?:\[bookmark: [^\]]*\])\s*(?:Chapter\s+(?P<chapter>\d+)\b\s*[-–]?\s*"
    r"|(?P<num>\d+(?:\.\s?\d+)*)\.?\s+)?(?P<title>\S.*?)\s*$")
_BARE_HEADING = re.compile(r"^(?P<num>\d+\.\s?\d+(?:\.\d+)*)\s+(?P<title>[A-Z][^.:]{2,90}?)\s*$")
_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")
_FOOTNOTE = re.compile(r"\s*\[\d+:[^\]]*\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_END_ATTRIBUTION = re.compile(r"[”\"’'][\s.,;]*\((?P<attr>[^()]{1,160})\)[\s.,;]*$")
_LINE_ATTRIBUTION = re.compile(r"^\((?P<attr>[^()]{1,160})\)[\s.,;]*$")

_NUM = r"[.,]?\s*0*(?P<n>\d+)\b"
_CS_INT = re.compile(r"\bCS\s*Int(?:erview)?" + _NUM)
_CS_NAMED = re.compile(r"\bInterview\s+0*(?P<n>\d+)\s+from\b")
_INT = re.compile(r"\bInt(?:erview)?" + _NUM)
_CIH = re.compile(r"\bCIH\s*(?:Rep(?:resentative)?|Participant)?\s*0*(?P<n>\d+)\b")
_FG = re.compile(r"\b(?:FG|Focus\s+Group)\s*\.?\s*0*(?P<n>\d+)?", re.I)
_MEMBER = re.compile(r"\b(?:Participant|Rep|RES|Respondent)\s*0*(?P<n>\d+)\b", re.I)
_CASE_STUDY_WORDS = re.compile(r"\bcase\s+study(?:\s+interview)?\b", re.I)

# Role words -> sector, tried in order (Table 6, §4.5.6): an ALMO manages
# council stock, so ALMO is tested before local-authority words.
_SECTOR_RULES = [
    ("ALMO", re.compile(r"\bALMO\b")),
    ("local authority", re.compile(r"(?-i:\bLA\b)|\blocal authorit|\bcouncil\b|\blondon (?:borough|authority)"
                                   r"|\bdistrict\b|\bunitary\b", re.I)),
    ("housing association", re.compile(r"(?-i:\bHA\b)|\bhousing association", re.I)),
    ("national body", re.compile(r"\bCIH\b|chartered institute|\bNHF\b|\bLGA\b|\bDLUHC\b|government"
                                 r"|civil servant|parliament|lobbying|housing (?:body|organisation)"
                                 r"|representative (?:body|organisation)|northern housing|tenant", re.I)),
    ("other", re.compile(r"journalist|recruit|trainer|training provider|consultant|finance specialist"
                         r"|housing advice", re.I)),
]
_CASE_RULES = [
    ("ALMO", re.compile(r"\bALMO\b")),
    ("LA", re.compile(r"(?-i:\bLA\b)|\blocal authorit|\bcouncil\b", re.I)),
    ("RHA", re.compile(r"\bregional\s+(?:HA|housing association)", re.I)),
    ("NHA", re.compile(r"\bnational\s+(?:HA|housing association)", re.I)),
]
_DETERMINER = re.compile(r"\b(?:this|these|that|a|an|the|one|to|by)\s+", re.I)
_SPEECH_VERB = re.compile(r"\s+(?:noted|notes|stated|articulated|commented|argued|explained|attested|"
                          r"cautioned|said|suggested|observed|added|illustrates|remarked|highlighted|"
                          r"stipulated|commenting|arguing|noting)\s*$", re.I)


# An introducing phrase is a role only if it names a post or a participant.
_ROLE_NOUN = re.compile(r"\b(?:director|chief|exec\w*|CE|officer|manager|chair|rep\w*|participant|member|"
                        r"journalist|consultant|specialist|recruit\w*|trainer|servant|parliamentarian|head|"
                        r"leader|apprentice)\b", re.I)

# An introduction that refers back to the previous speaker ('Adding:', 'He went on to argue',
# 'For him, ...', 'This participant also noted ...') rather than naming one.
_CONTINUATION = re.compile(r"^(?:adding\b|(?:(?:for|though|whilst|while)\s+)?(?:he|she|him|her|this participant)\b)",
                           re.I)


@dataclass(frozen=True)
class Attribution:
    """What one attribution says about its speaker."""

    participant_id: str = ""
    role_label: str = ""
    sector: str = ""
    source_type: str = ""
    case_study: str = ""
    focus_group: tuple[str, str] | None = None  # (case code, number) named here
    note: str = ""


@dataclass
class Excerpt:
    source_line: int
    section: str
    section_title: str
    text: str
    attribution: str = ""
    attribution_place: str = ""
    info: Attribution = field(default_factory=Attribution)
    label_line: int = 0  # line of the excerpt whose label gave `info` (itself unless a continuation)

    def __post_init__(self) -> None:
        self.label_line = self.label_line or self.source_line


def derive_sector(label: str) -> str:
    """Sector from the role words of a label ('' when it names none)."""
    return next((sector for sector, rx in _SECTOR_RULES if rx.search(label)), "")


def derive_case(label: str) -> str:
    """Case-study code (LA, RHA, NHA, ALMO) named by a label, or ''."""
    return next((code for code, rx in _CASE_RULES if rx.search(label)), "")


def _role_label(text: str, spans: list[tuple[int, int]]) -> str:
    """The label with its identifier parts removed, as written otherwise."""
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + " " + text[end:]
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s*([,–-])(?:\s*[,.–-])+", r"\1", text)
    text = re.sub(r"\bfrom\s*$", "", text.strip())
    return text.strip(" ,;:–-")


def parse_attribution(text: str, fg_context: tuple[str, str] | None = None) -> Attribution:
    """Normalise one attribution such as 'ALMO Chief Exec – Int. 09' or 'LA Focus Group 1, Participant 3'.

    `fg_context` is the focus group (case code, number) last named in the
    section, used by bare member labels such as 'Rep 2'.
    """
    text = text.strip()
    fg, member = _FG.search(text), _MEMBER.search(text)
    case = derive_case(text)
    if fg or (member and fg_context and not _CIH.search(text)):
        return _focus_group(text, fg, member, case, fg_context)
    for rx, series, stype in ((_CS_INT, "CS-INT", "case-study interview"),
                              (_CS_NAMED, f"CS-{case}-INT" if case else "", "case-study interview"),
                              (_CIH, "CIH", "national interview"),
                              (_INT, "INT", "national interview")):
        m = rx.search(text)
        if m and not series:  # 'Interview 1 from ... case study' naming no known case study
            break
        if m:
            width = 1 if series == "CIH" else 2
            label = _role_label(text, [m.span()])
            if series == "CIH":
                label = label or "CIH"
            return _with_sector(Attribution(f"{series}-{int(m['n']):0{width}d}", label,
                                            source_type=stype), text, case)
    if _CASE_STUDY_WORDS.search(text):
        return _with_sector(Attribution("", text, source_type="case-study interview",
                                        note="case-study interview not identified by number"), text, case)
    return _with_sector(Attribution("", text), text, case)


def _focus_group(text: str, fg: re.Match | None, member: re.Match | None, case: str,
                 fg_context: tuple[str, str] | None) -> Attribution:
    number = fg["n"] if fg and fg["n"] else ""
    # A label naming no case study (or no number) belongs to the focus group last named.
    if fg_context and not case:
        case, number = fg_context[0], number or fg_context[1]
    label = _role_label(text, [m.span() for m in (fg, member) if m])
    pid, note = "", ""
    if case and number:
        pid = f"FG-{case}-{int(number)}" + (f"-P{int(member['n'])}" if member else "")
    else:
        note = "focus group not identified by case study and number"
    info = Attribution(pid, label, source_type="focus group",
                       focus_group=(case, number) if case else None, note=note)
    return _with_sector(info, text, case)


def _with_sector(info: Attribution, text: str, case: str) -> Attribution:
    sector = derive_sector(text)
    if not sector and case and info.source_type in ("case-study interview", "focus group"):
        sector = CASE_SECTOR[case]
    case_study = ""
    if info.source_type in ("case-study interview", "focus group") and case:
        case_study = CASE_STUDIES[case]
    return replace(info, sector=sector, case_study=case_study)


def _has_identifier(text: str) -> bool:
    return any(rx.search(text) for rx in (_CS_INT, _INT, _CIH, _FG, _CASE_STUDY_WORDS))


def intro_attribution(paragraph: str, fg_context: tuple[str, str] | None) -> tuple[str, Attribution] | None:
    """The attribution named in the last sentence of an introducing paragraph.

    'As this retired local authority Director (Int. 03) noted:' gives INT-03
    with role 'retired local authority Director'.
    """
    sentence = _SENTENCE_END.split(paragraph.strip())[-1]
    for m in reversed(list(re.finditer(r"\(([^()]{1,160})\)", sentence))):
        if _has_identifier(m[1]) and not _YEAR.search(m[1]):
            info = parse_attribution(m[1], fg_context)
            return m[1], _intro_role(info, sentence[:m.start()])
    ident = _bare_identifier(sentence)
    if ident is None:
        return None
    info = parse_attribution(ident.group(0), fg_context)
    return ident.group(0), _intro_role(info, sentence[:ident.start()])


def _bare_identifier(sentence: str) -> re.Match | None:
    """An identifier written without its own parentheses ('Int. 08)', 'As Int. 22 noted')."""
    for rx in (_CS_INT, _CIH, _INT):
        m = rx.search(sentence)
        if m:
            return m
    return None


def _intro_role(info: Attribution, before: str) -> Attribution:
    """Take the role from 'this <role> (Int. n)' or 'this <role> noted (Int. n)' when the label has none."""
    if info.role_label:
        return info
    before = _SPEECH_VERB.sub("", before.rstrip(" ,:(")).rstrip(" ,:(")
    # The shortest phrase after a determiner that names a post: 'this senior officer within a regional HA'.
    roles = [before[m.end():].strip(" ,") for m in reversed(list(_DETERMINER.finditer(before)))]
    role = next((r for r in roles if len(r.split()) <= 7 and _ROLE_NOUN.search(r)), "")
    if not role:
        return info
    return _with_sector(replace(info, role_label=role), role, derive_case(role) or
                        (info.focus_group[0] if info.focus_group else ""))


@dataclass
class _Line:
    number: int
    text: str

    @property
    def stripped(self) -> str:
        return self.text.strip()


def parse_heading(line: str) -> tuple[str, str] | None:
    """(section number, title) of a heading line, or None."""
    if line.startswith("[bookmark:"):
        m = _HEADING.match(line)
        if m is None:
            return None
        num = m["chapter"] or re.sub(r"\s+", "", m["num"] or "")
        return num, m["title"].strip()
    m = _BARE_HEADING.match(line.strip()) if not line.startswith(("\t", " ")) else None
    return (re.sub(r"\s+", "", m["num"]), m["title"].strip()) if m else None


def _is_quote(line: str) -> bool:
    s = line.strip()
    return bool(s) and s[0] in OPENING_MARKS


def _end_attribution(text: str) -> re.Match | None:
    return _END_ATTRIBUTION.search(text.rstrip())


def _closes(text: str) -> bool:
    return text.rstrip(" .,;\t")[-1:] in CLOSING_MARKS


def extract_quotes(text: str) -> tuple[list[Excerpt], list[int]]:
    """Participant excerpts of a thesis text, and the lines of literature quotations set aside."""
    lines = [_Line(i + 1, t) for i, t in enumerate(text.split("\n"))]
    excerpts: list[Excerpt] = []
    literature: list[int] = []
    section, title = "", ""
    fg_context: tuple[str, str] | None = None
    i = previous_end = 0
    while i < len(lines):
        line = lines[i]
        heading = parse_heading(line.text)
        if heading:
            section, title = heading
            fg_context = None
        if heading or not _is_quote(line.text) or _chapter(section) not in PARTICIPANT_CHAPTERS:
            i += 1
            continue
        start = i
        excerpt, i = _read_excerpt(lines, i, section, title, fg_context)
        if _YEAR.search(excerpt.attribution) and excerpt.attribution_place != "introduction":
            literature.append(excerpt.source_line)
            continue
        if (not excerpt.attribution and excerpts and excerpts[-1].attribution
                and _continues(lines, previous_end, start)):
            prev = excerpts[-1]
            excerpt.attribution = f"continuation of line {prev.source_line}"
            excerpt.attribution_place, excerpt.info, excerpt.label_line = "continuation", prev.info, prev.label_line
        previous_end = i
        if excerpt.info.focus_group:
            fg_context = excerpt.info.focus_group
        excerpts.append(excerpt)
    return excerpts, literature


def _continues(lines: list[_Line], previous_end: int, start: int) -> bool:
    """True when the quotation at `start` is introduced as the previous speaker's ('He went on to argue').

    Only when exactly one paragraph, set off by single empty lines, separates
    it from the previous excerpt: a withheld quotation leaves extra blank or
    tab-only lines, and the speaker before it is then not known.
    """
    between = [line.text for line in lines[previous_end:start]]
    return (len(between) == 3 and between[0] == between[2] == ""
            and bool(_CONTINUATION.match(_SENTENCE_END.split(between[1].strip())[-1])))


def _chapter(section: str) -> int:
    head = section.split(".")[0]
    return int(head) if head.isdigit() else 0


def _read_excerpt(lines: list[_Line], i: int, section: str, title: str,
                  fg_context: tuple[str, str] | None) -> tuple[Excerpt, int]:
    """Read the quotation starting at line index i; return it and the index after it."""
    start = i
    parts: list[str] = []
    while True:
        body = lines[i].stripped
        parts.append(body)
        nxt = _next_nonblank(lines, i + 1)
        if (_end_attribution(body) or _closes(body) or nxt is None or not _is_quote(lines[nxt].text)
                or _LINE_ATTRIBUTION.match(lines[i + 1].stripped if i + 1 < len(lines) else "")):
            break
        i = nxt
    i += 1
    excerpt = Excerpt(lines[start].number, section, title, "")
    last = parts[-1]
    m = _end_attribution(last)
    if m:
        parts[-1] = last[:m.start("attr") - 1].rstrip()
        excerpt.attribution, excerpt.attribution_place = m["attr"].strip(), "end"
    elif i < len(lines) and _LINE_ATTRIBUTION.match(lines[i].stripped):
        excerpt.attribution = _LINE_ATTRIBUTION.match(lines[i].stripped)["attr"].strip()
        excerpt.attribution_place = "next line"
        i += 1
    excerpt.text = "\n\n".join(_FOOTNOTE.sub("", p).strip() for p in parts)
    intro = _intro(lines, start)
    fg_context = _intro_focus_group(intro) or fg_context
    found = intro_attribution(intro, fg_context) if intro else None
    if excerpt.attribution:
        info = parse_attribution(excerpt.attribution, fg_context)
        if intro and found is None:  # 'summed up by an ALMO Chief Executive:' then '(Int. 09)'
            info = _intro_role(info, _SENTENCE_END.split(intro)[-1])
        excerpt.info = info
    elif found:
        excerpt.attribution, excerpt.info = found
        excerpt.attribution_place = "introduction"
    return excerpt, i


def _intro_focus_group(intro: str) -> tuple[str, str] | None:
    """'As these local authority focus group participants commented:' names a focus group."""
    fg = _FG.search(intro)
    case = derive_case(intro)
    return (case, fg["n"] or "") if fg and case else None


def _next_nonblank(lines: list[_Line], i: int) -> int | None:
    while i < len(lines) and not lines[i].stripped:
        i += 1
    return i if i < len(lines) else None


def _intro(lines: list[_Line], start: int) -> str:
    """The prose paragraph introducing the quotation at `start`, or ''."""
    i = start - 1
    while i >= 0 and not lines[i].stripped:
        i -= 1
    if i < 0:
        return ""
    prev = lines[i].stripped
    if _is_quote(prev) or _LINE_ATTRIBUTION.match(prev) or parse_heading(lines[i].text):
        return ""
    return prev


EXCERPT_COLUMNS = ["excerpt_id", "source_line", "section", "section_title", "participant_id",
                   "role_label", "sector", "sector_provenance", "source_type", "case_study",
                   "attribution", "attribution_place", "attribution_note", "text"]
PARTICIPANT_COLUMNS = ["participant_id", "source_type", "sector", "sector_provenance",
                       "case_study", "case_study_provenance", "notes"]
ATTRIBUTE_COLUMNS = ["section", "section_title", "role_label", "sector", "source_type",
                     "source_line", "case_study", "attribution", "attribution_place"]


def excerpt_tables(excerpts: list[Excerpt]) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """excerpts.csv and participants.csv rows, with sector and case study propagated; and the conflicts."""
    rows = [{
        "excerpt_id": f"EX-{e.source_line:04d}", "source_line": e.source_line, "section": e.section,
        "section_title": e.section_title, "participant_id": e.info.participant_id,
        "role_label": e.info.role_label, "sector": e.info.sector,
        "sector_provenance": f"role label at line {e.label_line}" if e.info.sector else "",
        "source_type": e.info.source_type, "case_study": e.info.case_study,
        "attribution": e.attribution, "attribution_place": e.attribution_place,
        "attribution_note": e.info.note, "text": e.text,
        "label_line": e.label_line,
    } for e in excerpts]
    ex = pd.DataFrame(rows, columns=EXCERPT_COLUMNS + ["label_line"])
    people, conflicts = [], []
    for pid, group in ex[ex["participant_id"] != ""].groupby("participant_id", sort=True):
        person = {"participant_id": pid, "source_type": group["source_type"].iloc[0], "notes": ""}
        for attr in ("sector", "case_study"):
            value, provenance, conflict = _propagate(group, attr)
            person[attr], person[f"{attr}_provenance"] = value, provenance
            if conflict:
                conflicts.append(f"{pid}: {conflict}")
                person["notes"] = (person["notes"] + "; " if person["notes"] else "") + f"{attr} conflict: {conflict}"
            own = ex["participant_id"] == pid
            if attr == "sector":
                ex.loc[own & (ex["sector"] == ""), "sector_provenance"] = (
                    provenance.replace("role label at", "propagated from") if value else "")
                if conflict:
                    ex.loc[own, "sector_provenance"] = f"conflict: {conflict}"
            ex.loc[own, attr] = value
        people.append(person)
    return ex[EXCERPT_COLUMNS], pd.DataFrame(people, columns=PARTICIPANT_COLUMNS), conflicts


def _propagate(group: pd.DataFrame, attr: str) -> tuple[str, str, str]:
    """(value, provenance, conflict) of one participant attribute from its excerpts' own labels."""
    given = group[group[attr] != ""]
    values = sorted(set(given[attr]))
    if not values:
        return "", "", ""
    if len(values) > 1:
        firsts = [f"{v} (line {given.loc[given[attr] == v, 'label_line'].min()})" for v in values]
        return "", "", " vs ".join(firsts)
    return values[0], f"role label at line {given['label_line'].min()}", ""


@dataclass
class Extraction:
    excerpts: pd.DataFrame
    participants: pd.DataFrame
    literature_lines: list[int]
    conflicts: list[str]


def extract_file(path: str | Path) -> Extraction:
    """Extract the excerpt tables of a thesis text file."""
    text = decode_text(read_bytes(path), path)
    excerpts, literature = extract_quotes(text)
    if not excerpts:
        raise InputError("no quotation paragraphs found in chapters 5-9", path=path,
                         fix="pass the thesis as plain text, one paragraph per line")
    ex, people, conflicts = excerpt_tables(excerpts)
    return Extraction(ex, people, literature, conflicts)


def write_excerpt_corpus(source: str | Path, out: str | Path, result: Extraction | None = None) -> Extraction:
    """Write the table corpus of `source` (extracted here unless given) into `out`.

    Every file is computed before any is written, and each is written atomically.
    """
    result = result or extract_file(source)
    src = Path(source)
    manifest = {
        "name": "thesis-excerpts",
        "description": ("Participant quotations published in the thesis (chapters 5-9), extracted by "
                        "'hcrisis quotes extract'; literature quotations and withheld quotations are "
                        "not included."),
        "source": {"file": src.name, "sha256": sha256_file(src)},
        "attributes": {name: {} for name in ATTRIBUTE_COLUMNS},
        "participants": "participants.csv",
        "tables": [{"id": "excerpts", "file": "excerpts.csv", "kind": "published excerpt",
                    "text_column": "text", "id_column": "excerpt_id",
                    "participant_column": "participant_id", "attribute_columns": ATTRIBUTE_COLUMNS}],
    }
    manifest["attributes"]["sector"] = {"values": list(SECTORS)}
    manifest["attributes"]["source_type"] = {"values": list(SOURCE_TYPES)}
    files = {
        "manifest.yaml": yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=100),
        "excerpts.csv": table_to_csv(result.excerpts),
        "participants.csv": table_to_csv(result.participants),
    }
    for name, data in files.items():
        write_atomic(Path(out) / name, data)
    return result


def summary_lines(result: Extraction) -> list[str]:
    """The extraction summary: counts and line numbers only, never quotation text."""
    ex = result.excerpts
    n = len(ex)
    named = int((ex["participant_id"] != "").sum())
    any_attr = int((ex["attribution"] != "").sum())
    out = [f"excerpts: {n}",
           f"attributed to a participant: {named} ({named / n:.1%})",
           f"with an attribution of any kind: {any_attr} ({any_attr / n:.1%})",
           f"participants: {len(result.participants)}"]
    for col in ("source_type", "sector", "attribution_place"):
        counts = ex[col].replace("", "(none)").value_counts().sort_index()
        out.append(f"by {col}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    unattributed = ex.loc[ex["attribution"] == "", "source_line"].tolist()
    out.append("unattributed at lines: " + (", ".join(map(str, unattributed)) or "none"))
    out.append("literature quotations set aside at lines: " + (", ".join(map(str, result.literature_lines)) or "none"))
    out.append("sector conflicts: " + ("; ".join(result.conflicts) or "none"))
    return out


def excerpt_crosstab(segments: pd.DataFrame) -> pd.DataFrame:
    """Excerpts by source type (rows) and sector (columns), '(none)' for empty, with totals."""
    seg = segments.assign(source_type=segments["source_type"].replace("", "(none)"),
                          sector=segments["sector"].replace("", "(none)"))
    table = pd.crosstab(seg["source_type"], seg["sector"], margins=True, margins_name="total")
    return table.reset_index().rename_axis(columns=None)


def excerpts(ctx: StepContext) -> None:
    """Counts of the excerpt corpus (no quotation text) for the report."""
    seg = ctx.corpus.segments
    if not {"source_type", "sector"} <= set(seg.columns):
        return
    table = excerpt_crosstab(seg)
    ctx.wrote(write_table(table, ctx.out / "excerpt_corpus", title="Excerpt corpus by source type and sector"))
    named = seg.loc[seg["participant_id"] != "", "participant_id"]
    body = (f"{len(seg)} excerpts; {len(named)} ({len(named) / len(seg):.1%}) attributed to a participant, "
            f"{named.nunique()} participants.\n\n" + table_to_markdown(table))
    ctx.add_section("Excerpt corpus", body)
