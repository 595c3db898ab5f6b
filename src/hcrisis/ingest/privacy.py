"""Identifiers in transcripts: scanning, pseudonymised copies, the export guard.

The scanner finds e-mail addresses, UK phone numbers, UK postcodes, URLs
with personal paths (social-media profiles, `~user`, `/people/...`), names
(the participant registry's `name` column and every speaker label that is
not a generic one such as `P1`, `Speaker 2` or `Interviewer`) and the
organisation names listed in the manifest under
`settings: {privacy: {organisations: [...]}}`. Findings are reported by
document, segment, offsets and kind; the matched item is only ever shown
masked (`j***@e***.org`) and the surrounding text never.

`redact` writes a pseudonymised copy of a corpus with consistent
replacements (`[PARTICIPANT-07]`, `[EMAIL]`, `[ORG-2]`) and a separate key
file; `guard_export` stops an export that would write identifiers, and
`hide_identifiers` masks them in text shown in the terminal (KWIC).
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, NoReturn
from urllib.parse import urlsplit

import pandas as pd
import yaml

from hcrisis.ingest.corpus import MANIFEST, Corpus, as_corpus, data_path, read_csv_table
from hcrisis.errors import PrivacyError
from hcrisis.files import write_atomic
from hcrisis.ingest.names import TITLES, find_names
from hcrisis.ingest.readers.text import DEFAULT_PATTERN
from hcrisis.ingest.roles import is_role_label
from hcrisis.tables import table_to_csv

# Earlier kinds win when two findings overlap (an e-mail holds a name).
KINDS = ("email", "url", "phone", "postcode", "ni_number", "organisation", "name")
_PATTERNS = {
    "email": re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
    "url": re.compile(r"(?:https?://|www\.)[^\s<>\"'()\[\]]+", re.IGNORECASE),
    # 0 or +44 (optionally "(0)") then 9-10 digits, spaces/hyphens/brackets between.
    "phone": re.compile(r"(?<![\w+])(?:\+44[ -]?(?:\(0\)[ -]?)?|\(?0)(?:\d\)?[ -]?){8,9}\d(?!\d)"),
    "postcode": re.compile(r"\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR) ?\d[A-Z]{2}\b"),
    # National Insurance number: two prefix letters (not D F I Q U V, second not O,
    # not BG GB KN NK NT TN ZZ), six digits, suffix A-D; spaces optional.
    "ni_number": re.compile(r"\b(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
                            r" ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b"),
}
_SOCIAL_HOSTS = ("linkedin.com", "facebook.com", "twitter.com", "x.com", "instagram.com",
                 "tiktok.com", "threads.net", "github.com", "youtube.com", "bsky.app")
_PERSONAL_PATH = re.compile(r"/(?:~|@|in/|users?/|people/|profiles?/|staff/|members?/|author/)",
                            re.IGNORECASE)
# Labels that name a code, not a person (roles: `hcrisis.ingest.roles`).
_GENERIC_LABEL = re.compile(r"(?:[A-Z]{1,3}\d{0,3}|id\d{1,4}|(?i:chair|note-?taker))")
# What meeting software adds to a display name: bracketed notes, pronouns, devices.
_LABEL_EXTRAS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|['’]s\s+(?:i(?:pad|phone|mac)|mac(?:book)?|"
                           r"galaxy|pixel|android|laptop|pc|computer|phone|tablet|surface)\b.*$",
                           re.IGNORECASE)
_DEFAULT_LABEL = re.compile(DEFAULT_PATTERN, re.MULTILINE)
_FIX = "re-run with --allow-identifiers or redact the corpus first"


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int
    value: str


def mask(value: str, kind: str) -> str:
    """Keep each word's first character (and an e-mail's top-level domain)."""
    if kind == "email":
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain[:1]}***.{domain.rsplit('.', 1)[-1]}"
    return re.sub(r"(\w)\w*", r"\1***", value)


def is_generic_label(label: str) -> bool:
    """A role (`Interviewer 2`, `Speaker 1`) or a code (`P1`, `id3`): not a name."""
    return is_role_label(label) or bool(_GENERIC_LABEL.fullmatch(label.strip()))


def label_name(label: str) -> str:
    """The person's name in a display label: `Ann Lee (SL)` -> `Ann Lee`, `Bob’s iPad` -> `Bob`."""
    return " ".join(_LABEL_EXTRAS.sub(" ", label).split())


def _personal_url(url: str) -> bool:
    try:
        parts = urlsplit(url if "://" in url else "http://" + url)
        host = (parts.hostname or "").lower()
    except ValueError:  # malformed port or IPv6 literal: treat as identifying
        return True
    if _PERSONAL_PATH.search(parts.path + "/"):
        return True
    social = any(host == h or host.endswith("." + h) for h in _SOCIAL_HOSTS)
    return social and parts.path.strip("/") != ""


def _alternation(items: Iterable[str], flags: int = 0) -> re.Pattern[str] | None:
    words = sorted({i.strip() for i in items if i.strip()}, key=lambda s: (-len(s), s))
    if not words:
        return None
    alts = "|".join(r"\s+".join(map(re.escape, w.split())) for w in words)
    return re.compile(rf"(?<!\w)(?:{alts})(?!\w)", flags)


@dataclass
class Scanner:
    """Finds identifiers in text.

    `names` maps a name (full or one of its parts) to the person it
    identifies (a participant id, or `label:<label>` for an unmapped label);
    `organisations` is the manifest's list, numbered from 1 in that order.
    """

    names: dict[str, str] = field(default_factory=dict)
    organisations: list[str] = field(default_factory=list)
    detect_names: bool = True     # also names in free text (`hcrisis.ingest.names`)

    def __post_init__(self) -> None:
        self._names = _alternation(self.names)
        self._orgs = _alternation(self.organisations, re.IGNORECASE)

    def find(self, text: str) -> list[Finding]:
        """Non-overlapping findings in text order."""
        found = []
        for kind, rx in _PATTERNS.items():
            for m in rx.finditer(text):
                value = m.group().rstrip(".,;:!?") if kind == "url" else m.group()
                if kind != "url" or _personal_url(value):
                    found.append(Finding(kind, m.start(), m.start() + len(value), value))
        for kind, rx in (("organisation", self._orgs), ("name", self._names)):
            if rx is not None:
                found += [Finding(kind, m.start(), m.end(), m.group()) for m in rx.finditer(text)]
        if self.detect_names:
            found += [Finding("name", a, b, text[a:b]) for a, b in find_names(text)]
        found.sort(key=lambda f: (f.start, -(f.end - f.start), KINDS.index(f.kind)))
        kept: list[Finding] = []
        for f in found:
            if not kept or f.start >= kept[-1].end:
                kept.append(f)
        return kept

    def person_of(self, name: str) -> str | None:
        """The known person a found name stands for (`Mr Jones` as `Jones`), if any."""
        words = _norm(name).split()
        while words:
            if " ".join(words) in self.names:
                return self.names[" ".join(words)]
            if words[0].rstrip(".").lower() not in TITLES:
                return None
            words = words[1:]
        return None

    @classmethod
    def from_corpus(cls, corpus: Corpus | str | Path) -> "Scanner":
        corpus = as_corpus(corpus)
        names: dict[str, str] = {}
        reg = corpus.participants
        if "name" in reg.columns:
            for pid, name in sorted(zip(reg["participant_id"], reg["name"])):
                _add_name(names, name, pid)
        for label, person in sorted(speaker_people(corpus).items()):
            if label != person and not is_generic_label(label):
                names.setdefault(_norm(label), person)
                _add_name(names, label_name(label), person)
        privacy = corpus.manifest.get("settings", {}).get("privacy", {})
        orgs = privacy.get("organisations", []) if isinstance(privacy, dict) else []
        return cls(names, [str(o) for o in orgs] if isinstance(orgs, list) else [])


def _norm(text: str) -> str:
    return " ".join(str(text).split())


def _add_name(names: dict[str, str], name: str, person: str) -> None:
    """Register a full name and its parts (not titles or initials); first person wins."""
    name = _norm(name)
    if not name:
        return
    names.setdefault(name, person)
    if name.isupper():      # a label in capitals (GRETA VANCE) is written Greta Vance in turns
        _add_name(names, name.title(), person)
    parts = [p.strip(".,") for p in name.split()]
    if len(parts) > 1:
        for part in parts:
            if len(part) > 2 and part.lower() not in TITLES:
                names.setdefault(part, person)


def speaker_people(corpus: Corpus) -> dict[str, str]:
    """Every speaker label of the corpus -> the person it stands for.

    Labels come from the segments and the manifest's `speakers` maps; a label
    mapped to a participant (or the sole participant of an interview) stands
    for that participant, any other label for itself.
    """
    seg = corpus.segments
    people: dict[str, str] = {}
    mapped = seg[(seg["speaker"] != "") & (seg["participant_id"] != "")]
    for label, pid in sorted(set(zip(mapped["speaker"], mapped["participant_id"]))):
        people.setdefault(label, pid)
    for doc in corpus.manifest.get("documents", []):
        for label, target in sorted(doc.get("speakers", {}).items()):
            people.setdefault(label, target if target != "interviewer" else f"label:{label}")
    for label in sorted(set(seg["speaker"]) - {""}):
        people.setdefault(label, f"label:{label}")
    return people


def scan_corpus(corpus: Corpus, scanner: Scanner | None = None) -> pd.DataFrame:
    """Findings by document, segment and offsets (into the document's text), masked.

    A speaker label that is a name is reported once per document, at its
    first turn (kind `speaker label`), as exports may carry the speaker column.
    """
    scanner = scanner or Scanner.from_corpus(corpus)
    rows, seen = [], set()
    cols = ["document_id", "segment_id", "speaker", "start", "text"]
    for seg in corpus.segments[cols].itertuples(index=False):
        if _norm(seg.speaker) in scanner.names and (seg.document_id, seg.speaker) not in seen:
            seen.add((seg.document_id, seg.speaker))
            text = corpus.transcripts[seg.document_id].text
            at = text.rfind(seg.speaker, 0, seg.start)
            rows.append({"document_id": seg.document_id, "segment_id": seg.segment_id,
                         "start": at, "end": at + len(seg.speaker), "kind": "speaker label",
                         "item": mask(seg.speaker, "name")})
        for f in scanner.find(seg.text):
            rows.append({"document_id": seg.document_id, "segment_id": seg.segment_id,
                         "start": seg.start + f.start, "end": seg.start + f.end,
                         "kind": f.kind, "item": mask(f.value, f.kind)})
    # Segments are in corpus order already; findings within one in text order.
    return pd.DataFrame(rows, columns=["document_id", "segment_id", "start", "end", "kind", "item"])


# Text-bearing and id columns of exported tables: segments, quotations, KWIC lines.
TEXT_COLUMNS = ("text", "quote", "left", "match", "right")
ID_COLUMNS = ("segment_id", "excerpt_id")


def _texts(texts_or_segments: Any) -> Iterable[tuple[str, str]]:
    if isinstance(texts_or_segments, pd.DataFrame):
        df = texts_or_segments
        cols = [c for c in TEXT_COLUMNS if c in df.columns]
        id_col = next((c for c in ID_COLUMNS if c in df.columns), None)
        ids = df[id_col] if id_col else pd.Series(range(1, len(df) + 1), index=df.index)
        texts = df[cols].astype(str).agg(" ".join, axis=1) if cols else pd.Series([""] * len(df))
        return zip(ids.astype(str), texts)
    if isinstance(texts_or_segments, str):
        return [("1", texts_or_segments)]
    return ((str(i), str(t)) for i, t in enumerate(texts_or_segments, 1))


def hide_identifiers(text: str, start: int, end: int, findings: list[Finding]) -> tuple[str, list[str]]:
    """`text[start:end]`, whitespace collapsed, with every finding overlapping it
    (even in part) replaced by its kind (`[EMAIL]`); and those kinds in order."""
    parts, kinds, at = [], [], start
    for f in findings:
        if f.end > start and f.start < end:
            parts += [text[at:max(at, f.start)], f"[{f.kind.upper()}]"]
            kinds.append(f.kind)
            at = min(end, f.end)
    parts.append(text[at:end])
    return " ".join("".join(parts).split()), kinds


def refuse(kind: str, where: str, destination: str | Path) -> NoReturn:
    """The export guard's one-line refusal."""
    raise PrivacyError(f"refusing to write: contains {kind} (segment {where})", path=destination, fix=_FIX)


def guard_masked(table: pd.DataFrame, destination: str | Path) -> None:
    """Refuse to write a table in which identifiers were masked (`attrs['identifiers']`)."""
    hidden = table.attrs.get("identifiers", [])
    if hidden:
        refuse(hidden[0][1], hidden[0][0], destination)


def guard_export(texts_or_segments: Any, destination: str | Path, allow_identifiers: bool,
                 scanner: Scanner | Corpus | str | Path | None = None) -> None:
    """Raise PrivacyError if text about to be written to `destination` holds identifiers.

    `texts_or_segments` is a DataFrame (its columns among TEXT_COLUMNS, named
    by a column of ID_COLUMNS if present) or an iterable of strings (numbered from 1).
    `scanner` may be a corpus (or its folder) to check its names and
    organisations too; without one only e-mails, URLs, phones and postcodes
    are checked.
    """
    if allow_identifiers:
        return
    if not isinstance(scanner, Scanner):
        scanner = Scanner() if scanner is None else Scanner.from_corpus(scanner)
    for seg, text in _texts(texts_or_segments):
        found = scanner.find(text)
        if found:
            refuse(found[0].kind, seg, destination)


def item_identifier(item: str, scanner: Scanner) -> str | None:
    """The kind of identifier a table item (a word, a term) is, if any.

    The scanner's findings over the item, and also a word of a known name in
    any case, since frequency tables and clouds show words lower-cased
    ("saurabh", "kupor").
    """
    found = scanner.find(item)
    if found:
        return found[0].kind
    words = {w.casefold() for w in scanner.names for w in w.split()}
    return "name" if any(w.casefold() in words for w in item.split()) else None


def guard_items(items: Iterable[str], destination: str | Path, allow_identifiers: bool,
                scanner: Scanner) -> None:
    """Refuse to write a frequency table, cloud or term list holding an identifier item."""
    if allow_identifiers:
        return
    for rank, item in enumerate(items, 1):
        kind = item_identifier(str(item), scanner)
        if kind is not None:
            raise PrivacyError(f"refusing to write: item {rank} is a {kind} ({mask(str(item), kind)})",
                               path=destination, fix=_FIX)


def item_guard(corpus: Corpus, allow_identifiers: bool) -> Callable[[Iterable[str], Path], None]:
    """`guard(items, destination)`: `guard_items` with the corpus's scanner, built once
    (nothing is checked with `allow_identifiers`)."""
    if allow_identifiers:
        return lambda items, destination: None
    scanner = Scanner.from_corpus(corpus)
    return lambda items, destination: guard_items(items, destination, False, scanner)


class Pseudonymiser:
    """Consistent replacements, recording every original for the key file."""

    def __init__(self, scanner: Scanner):
        self.scanner = scanner
        persons = sorted(set(scanner.names.values()))
        width = max(2, len(str(len(persons))))
        self.person = {p: f"PARTICIPANT-{i:0{width}d}" for i, p in enumerate(persons, 1)}
        self.key: set[tuple[str, str, str]] = set()
        self.other_labels: dict[str, str] = {}
        self.other_names: dict[str, str] = {}
        self.counts: Counter = Counter()     # replacements made, by kind

    def replacement(self, f: Finding) -> str:
        self.counts[f.kind] += 1
        person = self.scanner.person_of(f.value)
        if f.kind == "name" and person is not None:
            token = f"[{self.person[person]}]"
        elif f.kind == "name":     # found in free text, not a known participant
            token = self.other_names.setdefault(_norm(f.value), f"[NAME-{len(self.other_names) + 1}]")
        elif f.kind == "organisation":
            orgs = [_norm(o).lower() for o in self.scanner.organisations]
            token = f"[ORG-{orgs.index(_norm(f.value).lower()) + 1}]"
        else:
            token = f"[{f.kind.upper()}]"
        self.key.add((token, f.kind, f.value))
        return token

    def text(self, text: str) -> str:
        for f in reversed(self.scanner.find(text)):
            text = text[:f.start] + self.replacement(f) + text[f.end:]
        return text

    def label(self, label: str) -> str:
        """A speaker label the .txt reader recognises and that names nobody."""
        if _norm(label) in self.scanner.names:
            token = self.person[self.scanner.names[_norm(label)]]
        else:
            m = _DEFAULT_LABEL.match(label + ": x")
            if m and m.group("speaker") == label:
                return label
            token = self.other_labels.setdefault(label, f"SPEAKER-{len(self.other_labels) + 1}")
        self.key.add((token, "label", label))
        return token

    def document_id(self, doc_id: str, n: int) -> str:
        """`doc-<n>` for an id holding a name (`int-jane-smith`), else the id itself."""
        words = [w for w in re.split(r"[^A-Za-z]+", doc_id) if len(w) > 2]
        known = {p.casefold() for p in self.scanner.names}
        if not any(w.casefold() in known for w in words) and not find_names(" , ".join(w.title() for w in words)):
            return doc_id
        self.counts["document id"] += 1
        self.key.add((f"doc-{n:02d}", "document id", doc_id))
        return f"doc-{n:02d}"


def check_key_path(key: Path, out: Path) -> None:
    """The key re-identifies participants: never beside the copy or the outputs."""
    resolved = key.resolve()
    for folder in (out.resolve(), (Path.cwd() / "outputs").resolve()):
        if resolved == folder or folder in resolved.parents:
            raise PrivacyError(f"refusing to write the key file inside {folder}", path=key,
                               fix="write the key outside the redacted copy and outputs/")
    if "outputs" in resolved.parts[:-1]:
        raise PrivacyError("refusing to write the key file inside an outputs/ folder", path=key,
                           fix="write the key outside the redacted copy and outputs/")


def redact(corpus: Corpus, out: str | Path, key: str | Path) -> dict[str, Any]:
    """Write a pseudonymised copy of `corpus` to `out` and its key to `key`.

    Only what was redacted is copied: transcripts re-rendered from their
    turns with every name (registry, speaker labels, names found in free
    text), e-mail, phone, postcode, NI number, personal URL and organisation
    replaced; a table's id, participant, text and declared attribute columns
    (every one scanned; other columns are left out); the registry without
    names and with free-text notes replaced; document ids that hold a name
    renamed. Returns the counts, with `replaced` by kind.
    """
    out, key = Path(out), Path(key)
    check_key_path(key, out)
    if out.resolve() == corpus.root.resolve() or (out.exists() and any(out.iterdir())):
        raise PrivacyError("output folder is not empty", path=out, fix="choose a new folder")
    pseudo = Pseudonymiser(Scanner.from_corpus(corpus))
    manifest = copy.deepcopy(corpus.manifest)
    # files a `skip_bad` load left out are not copied
    read = set(corpus.transcripts) | set(corpus.segments["document_id"])
    for kind in ("documents", "tables"):
        if kind in manifest:
            manifest[kind] = [entry for entry in manifest[kind] if entry["id"] in read]
    entries = [*manifest.get("documents", []), *manifest.get("tables", [])]
    new_ids = {e["id"]: pseudo.document_id(e["id"], n) for n, e in enumerate(entries, 1)}
    by_document = dict(tuple(corpus.segments.groupby("document_id", sort=False)))   # one pass, not one per document
    for doc in manifest.get("documents", []):
        rows = by_document.get(doc["id"], corpus.segments.iloc[:0])
        doc["id"] = new_ids[doc["id"]]
        write_atomic(out / "documents" / f"{doc['id']}.txt", _render(rows, pseudo))
        doc["file"] = f"documents/{doc['id']}.txt"
        doc.pop("format", None)
        doc["speakers"] = {pseudo.label(k): v for k, v in doc.get("speakers", {}).items()}
        if not doc["speakers"]:
            del doc["speakers"]
        if "interviewer" in doc:
            doc["interviewer"] = [pseudo.label(x) for x in doc["interviewer"]]
    for table in manifest.get("tables", []):   # read again as loading read it: inside the corpus
        path = data_path(corpus.root, corpus.manifest, table["file"], f"tables[{table['id']}].file")
        df = _redact_table(read_csv_table(path), table, pseudo)
        table["id"] = new_ids[table["id"]]
        write_atomic(out / "tables" / f"{table['id']}.csv", table_to_csv(df))
        table["file"] = f"tables/{table['id']}.csv"
    _redact_manifest(manifest, corpus, out, pseudo)
    key_df = pd.DataFrame(sorted(pseudo.key), columns=["replacement", "kind", "original"])
    write_atomic(key, table_to_csv(key_df))
    return {"documents": len(manifest.get("documents", [])), "tables": len(manifest.get("tables", [])),
            "replacements": len(key_df), "replaced": dict(sorted(pseudo.counts.items()))}


def _redact_table(df: pd.DataFrame, table: dict, pseudo: Pseudonymiser) -> pd.DataFrame:
    """The columns the manifest names (id, participant, text, attributes), every one scanned."""
    named = [table.get("id_column"), table.get("participant_column"), table["text_column"],
             *table.get("attribute_columns", [])]
    columns = [c for c in dict.fromkeys(named) if c]
    if "attribute_columns" in table:
        table["attribute_columns"] = [c for c in table["attribute_columns"] if c in columns]
    return df[columns].apply(lambda col: col.map(pseudo.text))


def _render(rows: pd.DataFrame, pseudo: Pseudonymiser) -> str:
    """Turns as `[hh:mm:ss] Label: text` paragraphs, which the .txt reader reads back."""
    parts = []
    for row in rows.sort_values("position").itertuples(index=False):
        label = pseudo.label(row.speaker) if row.speaker else ""
        if label != row.speaker:
            pseudo.counts["speaker label"] += 1
        head = f"{label}: " if label else ""
        if head and pd.notna(row.time_start):
            t = int(row.time_start)
            head = f"[{t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}] " + head
        parts.append(head + pseudo.text(row.text))
    return "\n\n".join(parts) + "\n"


def _redact_manifest(manifest: dict, corpus: Corpus, out: Path, pseudo: Pseudonymiser) -> None:
    speakers = manifest.get("speakers", {})
    speakers.pop("pattern", None)  # labels are rewritten in the default label form
    if "interviewer" in speakers:
        speakers["interviewer"] = [pseudo.label(x) for x in speakers["interviewer"]]
    privacy = manifest.get("settings", {}).get("privacy")
    if isinstance(privacy, dict):
        privacy.pop("organisations", None)
    if "description" in manifest:
        manifest["description"] = pseudo.text(manifest["description"])
    reg = corpus.participants.drop(columns=["name"], errors="ignore")
    reg = reg.apply(lambda col: col.map(lambda v: "[NOTES]" if v else v) if col.name == "notes"
                    else col.map(pseudo.text))
    if "participants" in manifest:
        write_atomic(out / "participants.csv", table_to_csv(reg))
        manifest["participants"] = "participants.csv"
    write_atomic(out / MANIFEST, yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True))
