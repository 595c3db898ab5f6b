"""`hcrisis corpus init`: a manifest skeleton for a folder of transcripts.

Every transcript in a supported format is read once; the skeleton lists it
with an id, its file, a guessed kind and the speaker labels found, each
mapped to `interviewer` or to a placeholder participant id. Roles come from
the labels (`hcrisis.ingest.roles`: `Interviewer 2`, `Q`, `Moderator` ask;
`R1`, `Interviewee` answer); where no label says, the speaker who asks most
is guessed as the interviewer, and the report says it was a guess. CSV files
are proposed as tables of responses with their text column guessed (the
column with the longest texts). The researcher checks and completes the
skeleton (attributes, the same id for the same person across documents);
from then on the folder is a corpus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from hcrisis.errors import CorpusError, HcrisisError, InputError
from hcrisis.files import write_atomic
from hcrisis.ingest.corpus import MANIFEST, read_csv_table
from hcrisis.ingest.readers import Transcript, read_transcript, supported_formats
from hcrisis.ingest.roles import INTERVIEWER, PARTICIPANT, UNLABELLED, label_role

_HEADER = """\
# Corpus manifest skeleton written by `hcrisis corpus init`. To complete it:
# - declare the attributes you analyse by (e.g. sector, role, gender) under
#   `attributes` and give documents and participants their values;
# - check each document's kind (national interview, case-study interview,
#   interview, focus group, policy document, published excerpt, other);
# - check each document's speakers: every label maps to a participant id or
#   to `interviewer`; the placeholder ids (P01, ...) are one per label, so
#   give the same person the same id across documents;
# - check each table's text_column (guessed: the column with the longest texts).
"""
_FOCUS_NAME = re.compile(r"(?:^|[^a-z])(?:fg|focus)", re.IGNORECASE)
TABLE_FORMATS = ("csv",)


@dataclass
class SpeakerReport:
    label: str
    target: str          # `interviewer` or a placeholder participant id
    role: str
    words: int
    guessed: bool = False


@dataclass
class DocumentReport:
    id: str
    file: str
    kind: str
    speakers: list[SpeakerReport]
    words: dict[str, int]          # by role: interviewer, participant, unlabelled
    warnings: list[str] = field(default_factory=list)


@dataclass
class InitReport:
    manifest: Path
    documents: list[DocumentReport] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)

    @property
    def labels(self) -> int:
        return sum(len(d.speakers) for d in self.documents)


def init_corpus(folder: str | Path, force: bool = False) -> InitReport:
    """Write `manifest.yaml` into `folder`; refuse to overwrite one unless `force`."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError("not a folder", path=root, fix="name the folder of transcripts")
    target = root / MANIFEST
    if target.exists() and not force:
        raise CorpusError(f"{MANIFEST} already exists", path=target,
                          fix="edit it, or re-run with --force to overwrite it")
    report = InitReport(target)
    documents, tables, participants, ids = [], [], [], set()
    for path in transcript_files(root):
        try:
            if path.suffix.lower().lstrip(".") in TABLE_FORMATS:
                entry = _table_entry(root, path, ids)
                if entry:
                    tables.append(entry)
                continue
            doc = describe_document(root, path, read_transcript(path), ids, participants)
        except HcrisisError as exc:
            report.bad.append(exc.one_line())
            continue
        report.documents.append(doc)
        documents.append(_manifest_entry(doc))
    report.tables = [t["id"] for t in tables]
    if not documents and not tables:
        raise CorpusError("no readable transcripts found", path=root,
                          fix=f"add files in one of the formats {', '.join(supported_formats())}")
    data: dict = {"name": root.resolve().name, "description": "", "attributes": {}}
    if participants:
        data["participants"] = [{"participant_id": p} for p in participants]
    if documents:
        data["documents"] = documents
    if tables:
        data["tables"] = tables
    notes = "".join(f"# not read: {line}\n" for line in report.bad)
    notes += "".join(f"# check {d.id}: {w}\n" for d in report.documents for w in d.warnings)
    text = _HEADER + notes + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)
    write_atomic(target, text)
    return report


def transcript_files(root: Path) -> list[Path]:
    """Transcripts, old .doc files (reported) and CSV tables; hidden folders skipped, in path order."""
    formats = {*supported_formats(), "doc", *TABLE_FORMATS}
    return sorted((p for p in root.rglob("*")
                   if p.is_file() and p.suffix.lower().lstrip(".") in formats
                   and p.stem.lower() != "readme"
                   and not any(part.startswith(".") for part in p.relative_to(root).parts)),
                  key=lambda p: p.relative_to(root).as_posix())


def _doc_id(root: Path, path: Path, ids: set[str]) -> str:
    rel = path.relative_to(root).as_posix()
    return _unique_id(re.sub(r"[^a-z0-9]+", "-", rel.rsplit(".", 1)[0].lower()).strip("-"), ids)


def describe_document(root: Path, path: Path, transcript: Transcript, ids: set[str],
                      participants: list[str]) -> DocumentReport:
    """Labels, their roles (given or guessed), words per role, kind and warnings of one transcript."""
    labels = list(dict.fromkeys(t.speaker for t in transcript.turns if t.speaker))
    roles = {lab: label_role(lab) for lab in labels}
    guessed = set()
    if INTERVIEWER not in roles.values():
        guessed = guess_interviewer(transcript, [lab for lab in labels if roles[lab] is None])
    words = _words_by_speaker(transcript)
    speakers = []
    for lab in labels:
        role = INTERVIEWER if lab in guessed else roles[lab] or PARTICIPANT
        if role == PARTICIPANT:
            participants.append(f"P{len(participants) + 1:02d}")
        speakers.append(SpeakerReport(lab, INTERVIEWER if role == INTERVIEWER else participants[-1], role,
                                      words.get(lab, 0), roles[lab] is None))
    by_role = {r: sum(s.words for s in speakers if s.role == r) for r in (INTERVIEWER, PARTICIPANT)}
    by_role[UNLABELLED] = words.get(None, 0)
    n_participants = sum(s.role == PARTICIPANT for s in speakers)
    kind = "other"
    if labels:
        kind = "focus group" if n_participants > 2 or _FOCUS_NAME.search(path.stem) else "interview"
    doc = DocumentReport(_doc_id(root, path, ids), path.relative_to(root).as_posix(), kind, speakers, by_role)
    doc.warnings = _warnings(doc)
    return doc


def _warnings(doc: DocumentReport) -> list[str]:
    out = []
    if not doc.speakers:
        out.append("no speaker label found: the text is kept as unlabelled paragraphs")
    if doc.words[INTERVIEWER] > doc.words[PARTICIPANT]:
        out.append(f"interviewer words ({doc.words[INTERVIEWER]}) exceed participant words "
                   f"({doc.words[PARTICIPANT]})")
    guessed = [s for s in doc.speakers if s.guessed]
    if guessed:
        asks = [f"'{s.label}'" for s in guessed if s.role == INTERVIEWER]
        answer = [f"'{s.label}'" for s in guessed if s.role == PARTICIPANT]
        parts = [f"{', '.join(asks)} interviewer (asks most questions)"] * bool(asks)
        parts += [f"{', '.join(answer)} participant"] * bool(answer)
        out.append(f"roles guessed (no role label): {'; '.join(parts)}")
    return out


def _words_by_speaker(transcript: Transcript) -> dict[str | None, int]:
    """Counted words (as `corpus info` counts them) per speaker label; None: unlabelled text."""
    from hcrisis.text.tokens import counted_words, tokenize

    turns = transcript.turns
    counts = counted_words(tokenize([transcript.turn_text(t) for t in turns], [str(i) for i in range(len(turns))]))
    out: dict[str | None, int] = {}
    for turn, n in zip(turns, counts.tolist()):
        out[turn.speaker] = out.get(turn.speaker, 0) + n
    return out


def _manifest_entry(doc: DocumentReport) -> dict:
    entry: dict = {"id": doc.id, "file": doc.file, "kind": doc.kind}
    if doc.speakers:
        entry["speakers"] = {s.label: s.target for s in doc.speakers}
    return entry


def _table_entry(root: Path, path: Path, ids: set[str]) -> dict | None:
    """A CSV of responses as a table entry, its text column the one with the longest texts.

    A participant registry (a `participant_id` column) and a CSV without text
    are left out; the researcher confirms `text_column`.
    """
    df = read_csv_table(path)
    if "participant_id" in df.columns or df.empty:
        return None
    lengths = {c: df[c].str.len().mean() for c in df.columns
               if df[c].str.contains(r"[^\W\d_]{2,}", regex=True).any()}
    if not lengths:
        return None
    text = max(lengths, key=lambda c: (lengths[c], -list(df.columns).index(c)))
    return {"id": _doc_id(root, path, ids), "file": path.relative_to(root).as_posix(),
            "kind": "survey response", "text_column": text}


def _unique_id(base: str, ids: set[str]) -> str:
    base = base or "doc"
    doc_id, n = base, 1
    while doc_id in ids:
        n += 1
        doc_id = f"{base}-{n}"
    ids.add(doc_id)
    return doc_id


def guess_interviewer(transcript: Transcript, labels: list[str]) -> set[str]:
    """The label among `labels` with the largest share of turns ending in a question mark.

    Ties go to the first in order; nobody is guessed when fewer than two
    labels are open or nobody asks.
    """
    if len(labels) < 2:
        return set()
    asks = {lab: [0, 0] for lab in labels}
    for turn in transcript.turns:
        if turn.speaker in asks:
            asks[turn.speaker][0] += transcript.turn_text(turn).rstrip().endswith("?")
            asks[turn.speaker][1] += 1
    best = max(labels, key=lambda lab: asks[lab][0] / asks[lab][1])
    return {best} if asks[best][0] else set()
