"""`hcrisis corpus init`: a manifest skeleton for a folder of transcripts.

Every transcript in a supported format is read once; the skeleton lists it
with an id, its file, a guessed kind and the speaker labels found, each
mapped to a placeholder participant id or to `interviewer`. The researcher
completes it (attributes, the same id for the same person across documents,
participant attribute values); from then on the folder is a corpus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from hcrisis.ingest.corpus import DEFAULT_INTERVIEWER_LABELS, INTERVIEWER, MANIFEST
from hcrisis.errors import CorpusError, HcrisisError, InputError
from hcrisis.files import write_atomic
from hcrisis.ingest.readers import Transcript, read_transcript, supported_formats

_HEADER = """\
# Corpus manifest skeleton written by `hcrisis corpus init`. To complete it:
# - declare the attributes you analyse by (e.g. sector, role, gender) under
#   `attributes` and give documents and participants their values;
# - check each document's kind (national interview, case-study interview,
#   interview, focus group, policy document, published excerpt, other);
# - check each document's speakers: every label maps to a participant id or
#   to `interviewer`; the placeholder ids (P01, ...) are one per label, so
#   give the same person the same id across documents.
"""
_FOCUS_NAME = re.compile(r"(?:^|[^a-z])(?:fg|focus)", re.IGNORECASE)


@dataclass
class InitReport:
    manifest: Path
    documents: int = 0
    labels: int = 0
    bad: list[str] = field(default_factory=list)


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
    documents, participants, ids = [], [], set()
    for path in transcript_files(root):
        try:
            transcript = read_transcript(path)
        except HcrisisError as exc:
            report.bad.append(exc.one_line())
            continue
        entry = _document_entry(root, path, transcript, ids, participants)
        documents.append(entry)
        report.labels += len(entry.get("speakers", {}))
    if not documents:
        raise CorpusError("no readable transcripts found", path=root,
                          fix=f"add files in one of the formats {', '.join(supported_formats())}")
    report.documents = len(documents)
    data: dict = {"name": root.resolve().name, "description": "", "attributes": {}}
    if participants:
        data["participants"] = [{"participant_id": p} for p in participants]
    data["documents"] = documents
    bad = "".join(f"# not read: {line}\n" for line in report.bad)
    text = _HEADER + bad + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)
    write_atomic(target, text)
    return report


def transcript_files(root: Path) -> list[Path]:
    """Files in a supported format, hidden folders skipped, in path order."""
    formats = set(supported_formats())
    return sorted((p for p in root.rglob("*")
                   if p.is_file() and p.suffix.lower().lstrip(".") in formats
                   and p.stem.lower() != "readme"
                   and not any(part.startswith(".") for part in p.relative_to(root).parts)),
                  key=lambda p: p.relative_to(root).as_posix())


def _document_entry(root: Path, path: Path, transcript: Transcript, ids: set[str],
                    participants: list[str]) -> dict:
    rel = path.relative_to(root).as_posix()
    doc_id = _unique_id(re.sub(r"[^a-z0-9]+", "-", rel.rsplit(".", 1)[0].lower()).strip("-"), ids)
    labels = list(dict.fromkeys(t.speaker for t in transcript.turns if t.speaker))
    interviewer = guess_interviewer(transcript, labels)
    speakers = {}
    for label in labels:
        if label in interviewer:
            speakers[label] = INTERVIEWER
        else:
            participants.append(f"P{len(participants) + 1:02d}")
            speakers[label] = participants[-1]
    kind = "other"
    if labels:
        focus = len(labels) - len(interviewer) > 2 or _FOCUS_NAME.search(path.stem)
        kind = "focus group" if focus else "interview"
    entry = {"id": doc_id, "file": rel, "kind": kind}
    if speakers:
        entry["speakers"] = speakers
    return entry


def _unique_id(base: str, ids: set[str]) -> str:
    base = base or "doc"
    doc_id, n = base, 1
    while doc_id in ids:
        n += 1
        doc_id = f"{base}-{n}"
    ids.add(doc_id)
    return doc_id


def guess_interviewer(transcript: Transcript, labels: list[str]) -> set[str]:
    """Labels such as `Interviewer`/`Q`/`Moderator`; else the one who asks most.

    Without a conventional label, the speaker with the largest share of turns
    ending in a question mark is guessed (first in order on ties).
    """
    known = {x.lower() for x in DEFAULT_INTERVIEWER_LABELS}
    named = {lab for lab in labels if lab.lower() in known}
    if named or len(labels) < 2:
        return named
    asks = {lab: [0, 0] for lab in labels}
    for turn in transcript.turns:
        if turn.speaker:
            asks[turn.speaker][0] += transcript.turn_text(turn).rstrip().endswith("?")
            asks[turn.speaker][1] += 1
    best = max(labels, key=lambda lab: asks[lab][0] / asks[lab][1])
    return {best} if asks[best][0] else set()
