"""Corpora: a folder with a `manifest.yaml`, loaded into one segments table.

A corpus lists transcript documents (read by `hcrisis.ingest.readers`) and/or
tables of responses (CSV with a text column, the shape of consultation and
survey exports, and of published excerpts). Participants live in a registry
(a CSV file or an inline list). Loading yields `Corpus.segments`, a pandas
DataFrame with one row per speaker turn, paragraph or table row; every later
stage reads only this table.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hcrisis.errors import CorpusError, HcrisisError, InputError, SchemaError
from hcrisis.files import contained, read_bytes, recording_reads
from hcrisis.ingest.readers import ReaderOptions, Transcript, read_transcript
from hcrisis.ingest.readers.decode import decode_text
from hcrisis.ingest.roles import INTERVIEWER, PARTICIPANT, UNLABELLED, label_role
from hcrisis.saferegex import slow_problem
from hcrisis.yamlspec import Field, Lines, load_validated

MANIFEST = "manifest.yaml"

DOCUMENT_KINDS = (
    "national interview", "case-study interview", "interview", "focus group",
    "policy document", "published excerpt", "survey response", "other",
)
DEFAULT_LANGUAGE = "en"

# Fixed leading columns of every segments table; attribute columns follow in
# the manifest's declaration order. `speaker_role` is interviewer, participant
# or unlabelled (text of a labelled document that no label covers).
SEGMENT_COLUMNS = [
    "segment_id", "document_id", "kind", "position", "speaker", "participant_id",
    "is_interviewer", "speaker_role", "language", "start", "end", "time_start", "time_end", "text",
]


def _speaker_pattern_ok(value: str) -> str | None:
    try:
        rx = re.compile(value, re.MULTILINE)
    except re.error as exc:
        return f"invalid regular expression: {exc}"
    if "speaker" not in rx.groupindex:
        return "no named group 'speaker' (use (?P<speaker>...))"
    return slow_problem(value, re.MULTILINE)


def _language_ok(value: str) -> str | None:
    if not re.fullmatch(r"[a-z]{2,3}|xx", value):
        return "expected an ISO 639 language code such as en, fr or de"
    return None


_LANGUAGE = Field("str", check=_language_ok)
_ATTR = Field("map", keys={"description": Field("str"), "values": Field("list", items=Field("any"))})
_SPEAKERS = Field("map", keys={
    "pattern": Field("str", check=_speaker_pattern_ok),
    "interviewer": Field("list", items=Field("str")),
})
_DOC = Field("map", keys={
    "id": Field("str", required=True),
    "file": Field("str", required=True),
    "kind": Field("str", required=True, choices=DOCUMENT_KINDS),
    "format": Field("str"),
    "segment_by": Field("str", choices=("turns", "paragraphs")),
    "attributes": Field("dict", values=Field("any")),
    "participants": Field("list", items=Field("str")),
    "speakers": Field("dict", values=Field("str")),
    "interviewer": Field("list", items=Field("str")),
    "language": _LANGUAGE,
})
_TABLE = Field("map", keys={
    "id": Field("str", required=True),
    "file": Field("str", required=True),
    "kind": Field("str", required=True, choices=DOCUMENT_KINDS),
    "text_column": Field("str", required=True),
    "id_column": Field("str"),
    "participant_column": Field("str"),
    "attribute_columns": Field("list", items=Field("str")),
    "attributes": Field("dict", values=Field("any")),
    "language": _LANGUAGE,
})
MANIFEST_SPEC = Field("map", keys={
    "name": Field("str", required=True),
    "base_folder": Field("str"),
    "description": Field("str"),
    "language": _LANGUAGE,
    "source": Field("dict", values=Field("any")),
    "attributes": Field("dict", values=_ATTR),
    "speakers": _SPEAKERS,
    "participants": Field("any"),
    "documents": Field("list", items=_DOC),
    "tables": Field("list", items=_TABLE),
    "settings": Field("dict", values=Field("any")),
})


@dataclass
class Corpus:
    """A loaded corpus: its manifest, participant registry and segments."""

    root: Path
    name: str
    manifest: dict[str, Any]
    attributes: list[str]
    participants: pd.DataFrame
    segments: pd.DataFrame
    transcripts: dict[str, Transcript] = field(default_factory=dict)
    unmapped_speakers: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    # SHA-256 of every file as it was read (resolved path -> hash): what was analysed,
    # even if a file is edited while a run goes on
    input_hashes: dict[Path, str] = field(default_factory=dict)

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST

    def input_files(self) -> list[Path]:
        """Every file the corpus reads, for provenance hashes."""
        files = [self.manifest_path]
        reg = self.manifest.get("participants")
        if isinstance(reg, str):
            files.append(data_path(self.root, self.manifest, reg, "participants"))
        for kind in ("documents", "tables"):
            files += [data_path(self.root, self.manifest, d["file"], f"{kind}[{i}].file")
                      for i, d in enumerate(self.manifest.get(kind, []))]
        return files

    def categorical_attributes(self) -> list[str]:
        """Attributes the manifest declares with a list of values (sector, role...), in its order:
        the ones worth tabulating by, unlike free text such as a section title."""
        declared = self.manifest.get("attributes", {})
        return [a for a in self.attributes if isinstance(declared.get(a), dict) and declared[a].get("values")]


def data_path(root: Path, manifest: dict, name: str, key: str) -> Path:
    """A file the manifest names (relative to the corpus folder), refused outside the
    corpus folder or, if declared, its `base_folder` (see README, "Security and privacy")."""
    within = root / manifest["base_folder"] if "base_folder" in manifest else root
    return contained(root, name, named_in=root / MANIFEST, key=key, within=within)


def load_corpus(path: str | Path, *, skip_bad: bool = False) -> Corpus:
    """Load the corpus in folder `path` (or the folder of a manifest file)."""
    with recording_reads() as hashes:
        corpus = read_spec(path).load(skip_bad=skip_bad)
    corpus.input_hashes = hashes
    return corpus


@dataclass
class CorpusSpec:
    """A corpus's manifest and participant registry, read and checked, its documents
    not yet read: `load()` reads all of them or a partition (`hcrisis.engine`)."""

    root: Path
    manifest: dict[str, Any]
    attributes: list[str]
    registry: pd.DataFrame

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST

    @cached_property
    def participant_attributes(self) -> dict[str, dict[str, str]]:
        """Each participant's non-empty attributes, looked up once per turn's speaker and
        found once per corpus, not once per partition read (a registry of 12,500
        participants took 64 ms, 41 times at 50M words)."""
        columns = [a for a in self.attributes if a in self.registry.columns]
        return {rec["participant_id"]: {a: rec[a] for a in columns if rec[a] != ""}
                for rec in self.registry.to_dict("records")}

    def entries(self) -> list[tuple[str, Path]]:
        """Id and file of every document and table, in manifest order."""
        return [(d["id"], data_path(self.root, self.manifest, d["file"], f"{k}[{i}].file"))
                for k in ("documents", "tables") for i, d in enumerate(self.manifest.get(k, []))]

    def load(self, *, skip_bad: bool = False, documents: set[str] | None = None,
             texts: list[str] | None = None) -> Corpus:
        """The corpus, or only the given documents and tables (in manifest order). With
        `texts`, the segments' texts are appended to it and kept out of the table, whose
        `text` is their outline (`outline_marks`)."""
        loader = _SegmentBuilder(self.root, self.manifest, self.attributes, self.participant_attributes, skip_bad)
        segments = loader.build(documents, texts)
        if segments.empty and loader.skipped:
            raise CorpusError(f"no readable documents: all {len(loader.skipped)} were skipped, the first "
                              f"because {loader.skipped[0]}", path=self.manifest_path,
                              fix="fix the files or remove them from the manifest")
        if segments.empty and documents is None:
            raise CorpusError("corpus has no text segments", path=self.manifest_path,
                              fix="list at least one non-empty document or table")
        return Corpus(self.root, self.manifest["name"], self.manifest, self.attributes, self.registry, segments,
                      loader.transcripts, list(loader.unmapped), loader.skipped)


def read_spec(path: str | Path) -> CorpusSpec:
    """Read and check the manifest and registry of the corpus in folder `path`."""
    root = Path(path)
    manifest_path = root if root.is_file() else root / MANIFEST
    root = manifest_path.parent
    if not root.exists():
        raise InputError("corpus folder not found", path=root, fix="check the path")
    if not manifest_path.exists():
        raise InputError(f"no {MANIFEST} in the corpus folder", path=root,
                         fix="run 'hcrisis corpus init' or add a manifest")
    manifest, lines = load_validated(manifest_path, MANIFEST_SPEC)
    attributes = list(manifest.get("attributes", {}))
    _check_attribute_names(manifest, lines, manifest_path, attributes)
    return CorpusSpec(root, manifest, attributes, _load_participants(manifest, root, attributes, manifest_path))


def as_corpus(corpus: str | Path | Corpus) -> Corpus:
    """A corpus already loaded (e.g. by the CLI with `skip_bad`), or the folder loaded now."""
    return corpus if isinstance(corpus, Corpus) else load_corpus(corpus)


def _check_attribute_names(manifest: dict, lines: Lines, path: Path, declared: list[str]) -> None:
    problems = [(f"attributes.{a}", lines.get(f"attributes.{a}"),
                 f"'{a}' is a column of every segments table (rename the attribute)")
                for a in declared if a in SEGMENT_COLUMNS]
    for kind in ("documents", "tables"):
        for i, doc in enumerate(manifest.get(kind, [])):
            for key in doc.get("attributes", {}):
                if key not in declared:
                    p = f"{kind}[{i}].attributes.{key}"
                    problems.append((p, lines.get(p), "unknown attribute (declare it under 'attributes')"))
        for i, table in enumerate(manifest.get("tables", []) if kind == "tables" else []):
            for col in table.get("attribute_columns", []):
                if col not in declared:
                    p = f"tables[{i}].attribute_columns"
                    problems.append((p, lines.get(p), f"unknown attribute '{col}' (declare it under 'attributes')"))
    ids = [d["id"] for k in ("documents", "tables") for d in manifest.get(k, [])]
    dupes = sorted(i for i, n in Counter(ids).items() if n > 1)
    if dupes:
        problems.append(("documents", lines.get("documents"), f"duplicate document id(s): {', '.join(dupes)}"))
    if not ids:
        problems.append(("(top level)", None, "no documents or tables listed (list the transcripts under "
                         "'documents:' or write a manifest with 'hcrisis corpus init')"))
    if problems:
        raise SchemaError(path, problems)


def read_csv_table(path: Path, id_column: str | None = None) -> pd.DataFrame:
    """Read a CSV strictly, as strings, with one-line errors naming the file and line.

    A row with more or fewer fields than the header, a header with an empty or
    repeated column name and, in `id_column` (when the table has it), an empty
    or repeated id are errors: read leniently, an extra field silently
    shifts a row onto the wrong columns. Blank lines are skipped. A cell
    that the table writer guarded against formula injection (`'=...`) is read
    back as it was (`hcrisis.tables.unguard_cell`).
    """
    from hcrisis.tables import unguard_cell

    reader = csv.reader(io.StringIO(decode_text(read_bytes(path), path), newline=""))
    records, lines, line = [], [], 1
    try:
        for record in reader:
            if record:
                records.append([unguard_cell(v) for v in record])
                lines.append(line)
            line = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(f"malformed CSV: {exc}", path=path, line=reader.line_num,
                         fix="check the quoting on that line") from None
    if not records:
        raise InputError("empty CSV file", path=path, fix="write a header row and the data")
    header = records[0]
    named = Counter(header)
    bad = next((f"column {i + 1} has no name" if not c.strip() else f"column '{c}' appears twice"
                for i, c in enumerate(header) if not c.strip() or named[c] > 1), None)
    if bad:
        raise InputError(f"header: {bad}", path=path, line=lines[0], fix="give every column its own name")
    for record, at in zip(records[1:], lines[1:]):
        if len(record) != len(header):
            raise InputError(f"row has {len(record)} fields, the header {len(header)}", path=path, line=at,
                             fix="quote fields that hold commas, or fix the row")
    df = pd.DataFrame(records[1:], columns=header, dtype=str)
    if id_column in header:
        _check_ids(df[id_column].tolist(), lines[1:], path, id_column)
    return df


def _check_ids(ids: list[str], lines: list[int], path: Path, column: str) -> None:
    """Every id non-empty and unique, else an error at the first offending line."""
    first: dict[str, int] = {}
    for value, at in zip(ids, lines):
        if not value.strip():
            raise InputError(f"empty {column}", path=path, line=at, fix="give every row an id")
        if value in first:
            raise InputError(f"duplicate {column} '{value}' (first on line {first[value]})", path=path,
                             line=at, fix="give each row its own id")
        first[value] = at


def _load_participants(manifest: dict, root: Path, attributes: list[str], mpath: Path) -> pd.DataFrame:
    reg = manifest.get("participants")
    if reg is None:
        return pd.DataFrame({"participant_id": pd.Series(dtype=str)})
    if isinstance(reg, str):
        rpath = data_path(root, manifest, reg, "participants")
        if not rpath.exists():
            raise CorpusError(f"participant registry '{reg}' not found", path=mpath,
                              fix="fix 'participants' or add the file")
        df = read_csv_table(rpath, "participant_id")
        where = rpath
    elif isinstance(reg, list) and all(isinstance(r, dict) for r in reg):
        df = pd.DataFrame(reg).fillna("").astype(str)
        where = mpath
        if "participant_id" in df.columns:
            _check_ids(df["participant_id"].tolist(), [None] * len(df), mpath, "participant_id")
    else:
        raise SchemaError(mpath, [("participants", None, "expected a CSV file name or a list of participants")])
    if "participant_id" not in df.columns:
        raise CorpusError("participant registry has no 'participant_id' column", path=where,
                          fix="add a participant_id column")
    unknown = [c for c in df.columns if c != "participant_id" and c not in attributes
               and not c.endswith("_provenance") and c not in ("notes", "name")]
    if unknown:
        raise CorpusError(f"unknown attribute column(s) {', '.join(unknown)} in participant registry",
                          path=where, fix="declare them under 'attributes' in the manifest")
    return df.reset_index(drop=True)


_WORD = re.compile(r"\w")


def outline_marks(texts: list[str]) -> list[str]:
    """"x" for a text with a word character and "" for one without, which is all the whole
    corpus's checks of segments read of a text (`hcrisis.ingest.segments.check_segments`,
    `select`): a segments table's outline (`hcrisis.engine.partitions.outline`)."""
    return ["x" if _WORD.search(t) else "" for t in texts]


class _SegmentBuilder:
    """Turns documents and tables into segment rows."""

    def __init__(self, root: Path, manifest: dict, attributes: list[str],
                 participant_attrs: dict[str, dict[str, str]], skip_bad: bool):
        self.root, self.manifest, self.attributes = root, manifest, attributes
        self.participant_attrs = participant_attrs    # `CorpusSpec.participant_attributes`
        self.skip_bad = skip_bad
        self.transcripts: dict[str, Transcript] = {}
        self.unmapped: dict[tuple[str, str], None] = {}   # ordered set
        self.skipped: list[str] = []
        speakers = manifest.get("speakers", {})
        self.pattern = speakers.get("pattern")
        self.interviewer = tuple(speakers.get("interviewer", ()))
        self.language = manifest.get("language", DEFAULT_LANGUAGE)

    def build(self, documents: set[str] | None = None, texts: list[str] | None = None) -> pd.DataFrame:
        rows: list[dict] = []
        for read, kind in ((self._document_rows, "documents"), (self._table_rows, "tables")):
            for i, entry in enumerate(self.manifest.get(kind, [])):
                if documents is not None and entry["id"] not in documents:
                    continue
                try:
                    rows += read(entry, data_path(self.root, self.manifest, entry["file"], f"{kind}[{i}].file"))
                except HcrisisError as exc:
                    if not self.skip_bad:
                        raise
                    self.skipped.append(exc.one_line())
        if texts is not None:    # a table of 5M words' text costs a third of reading them
            texts += [row["text"] for row in rows]
            for row, mark in zip(rows, outline_marks(texts[len(texts) - len(rows):])):
                row["text"] = mark
        df = pd.DataFrame(rows, columns=SEGMENT_COLUMNS + self.attributes)
        dupes = df["segment_id"][df["segment_id"].duplicated()]
        if not dupes.empty:   # a table's ids may clash with another table's or a document's
            raise CorpusError(f"segment id '{dupes.iloc[0]}' occurs twice", path=self.root / MANIFEST,
                              fix="make the tables' id columns unique across the corpus")
        for col in ("position", "start", "end"):
            df[col] = df[col].astype("int64")
        df["is_interviewer"] = df["is_interviewer"].astype(bool)
        return df

    def _participant_attrs(self, pid: str | None) -> dict[str, str]:
        return self.participant_attrs.get(pid, {}) if pid else {}

    def _document_rows(self, doc: dict, path: Path) -> list[dict]:
        if not path.exists():
            raise CorpusError(f"document '{doc['id']}' points at missing file '{doc['file']}'",
                              path=self.root / MANIFEST, fix="fix its 'file' entry or add the file")
        # Policy documents have no speakers: label-like lines ("Note:") must not split them.
        by = doc.get("segment_by", "paragraphs" if doc["kind"] == "policy document" else "turns")
        speakers = SpeakerMap(doc.get("speakers", {}), [*self.interviewer, *doc.get("interviewer", [])])
        options = ReaderOptions(speaker_pattern=self.pattern, paragraphs_only=by == "paragraphs",
                                declared=speakers.declared())
        transcript = read_transcript(path, options, doc.get("format"))
        self.transcripts[doc["id"]] = transcript
        sole = doc.get("participants", [])
        labelled = any(t.speaker for t in transcript.turns)
        language = doc.get("language", self.language)
        rows = []
        who: dict[str | None, tuple] = {}    # by speaker: a transcript repeats a few speakers
        for pos, turn in enumerate(transcript.turns):
            if turn.speaker not in who:
                who[turn.speaker] = self._speaker_columns(doc, turn.speaker, speakers, sole, labelled)
            is_int, pid, role, attrs = who[turn.speaker]
            rows.append({
                "segment_id": f"{doc['id']}:{pos:04d}", "document_id": doc["id"], "kind": doc["kind"],
                "position": pos, "speaker": turn.speaker or "", "participant_id": pid or "",
                "is_interviewer": is_int, "speaker_role": role, "language": language,
                "start": turn.start, "end": turn.end,
                "time_start": turn.time_start, "time_end": turn.time_end,
                "text": transcript.text[turn.start:turn.end], **attrs,
            })
        return rows

    def _speaker_columns(self, doc: dict, speaker: str | None, speakers: "SpeakerMap", sole: list[str],
                         labelled: bool) -> tuple[bool, str | None, str, dict[str, str]]:
        """Whether a speaker's turns are the interviewer's, their participant, role and attributes."""
        is_int = speakers.is_interviewer(speaker)
        pid = None if is_int or (labelled and not speaker) else self._turn_participant(doc, speaker, speakers, sole)
        role = INTERVIEWER if is_int else PARTICIPANT if (speaker or pid) else UNLABELLED
        attrs = {a: "" for a in self.attributes}
        attrs.update({k: _text(v) for k, v in doc.get("attributes", {}).items()})
        attrs.update(self._participant_attrs(pid))
        return is_int, pid, role, attrs

    def _turn_participant(self, doc: dict, speaker: str | None, speakers: "SpeakerMap",
                          sole: list[str]) -> str | None:
        target = speakers.target(speaker)
        if target is not None:
            return target
        if len(sole) == 1:
            return sole[0]
        if speaker:
            self.unmapped[(doc["id"], speaker)] = None
        return None

    def _table_rows(self, table: dict, path: Path) -> list[dict]:
        if not path.exists():
            raise CorpusError(f"table '{table['id']}' points at missing file '{table['file']}'",
                              path=self.root / MANIFEST, fix="fix its 'file' entry or add the file")
        id_col = table.get("id_column")
        df = read_csv_table(path, id_col)
        text_col = table["text_column"]
        pcol = table.get("participant_column")
        attr_cols = table.get("attribute_columns", [c for c in df.columns if c in self.attributes])
        for col in [text_col, id_col, pcol, *attr_cols]:
            if col and col not in df.columns:
                raise CorpusError(f"column '{col}' not found", path=path,
                                  fix="fix the table's column names in the manifest")
        rows = []
        for pos, rec in enumerate(df.to_dict("records")):
            pid = rec[pcol] if pcol else ""
            attrs = {a: "" for a in self.attributes}
            attrs.update({k: _text(v) for k, v in table.get("attributes", {}).items()})
            attrs.update(self._participant_attrs(pid))
            attrs.update({c: rec[c] for c in attr_cols if rec[c] != ""})
            text = rec[text_col]
            rows.append({
                "segment_id": rec[id_col] if id_col else f"{table['id']}:{pos:04d}",
                "document_id": table["id"], "kind": table["kind"], "position": pos,
                "speaker": pid, "participant_id": pid, "is_interviewer": False,
                "speaker_role": PARTICIPANT,      # a response is a participant's text
                "language": table.get("language", self.language), "start": 0, "end": len(text), "time_start": None, "time_end": None,
                "text": text, **attrs,
            })
        return rows


class SpeakerMap:
    """A document's `speakers` mapping and interviewer labels, matched in any case.

    A label mapped to `interviewer`, listed as an interviewer, or written as an
    interviewer role (`Interviewer 2`, `Q`, see `hcrisis.ingest.roles`) and not
    mapped to a participant is an interviewer; each keeps its own label.
    """

    def __init__(self, mapping: dict[str, str], interviewer: list[str]):
        self.mapping = {str(k).casefold(): str(v) for k, v in mapping.items()}
        self.interviewer = {str(x).casefold() for x in interviewer}
        self.labels = [*mapping, *interviewer]

    def declared(self) -> tuple[str, ...]:
        return tuple(str(x) for x in self.labels)

    def target(self, speaker: str | None) -> str | None:
        """The participant id a label is mapped to (None: not mapped, or an interviewer)."""
        value = self.mapping.get((speaker or "").casefold())
        return None if value in (None, INTERVIEWER) else value

    def is_interviewer(self, speaker: str | None) -> bool:
        if not speaker:
            return False
        key = speaker.casefold()
        if key in self.mapping:
            return self.mapping[key] == INTERVIEWER
        return key in self.interviewer or label_role(speaker) == INTERVIEWER


def _text(value: Any) -> str:
    return "" if value is None else str(value)


# `corpus info --by` also groups by these segments-table columns.
BY_COLUMNS = {"document": "document_id", "speaker": "speaker", "participant": "participant_id",
              "role": "speaker_role", "language": "language"}
SUMMARY_COLUMNS = ["documents", "participants", "segments", "words", "participant_words",
                   "interviewer_words", "unlabelled_words"]


def corpus_summary(corpus: Corpus, by: str | None = None, min_length: int = 3, tokens=None) -> pd.DataFrame:
    """Documents, participants, segments and words, overall or per value of `by`.

    `by` is a declared attribute (it wins over a built-in of the same name) or
    one of `BY_COLUMNS` (document, speaker, participant, role, language).
    `words` are counted as the frequency tables count them before stop words
    are removed: alphabetic tokens of at least `min_length` letters; they are
    split into participant, interviewer and unlabelled words by speaker role.
    `tokens`: the corpus's `hcrisis.text.tokens.Tokens`, if already made (else
    it is tokenised here). `hcrisis.engine.summary` computes the same table
    partition by partition.
    """
    from hcrisis.text.tokens import counted_words, tokenize_segments

    column = summary_column(by, corpus.attributes, corpus.segments.columns, corpus.manifest_path)
    words = counted_words(tokens if tokens is not None else tokenize_segments(corpus.segments), min_length)
    return merge_summaries([summary_partial(corpus.segments, column, words)], by)


def summary_column(by: str | None, attributes: list[str], columns, manifest_path: Path) -> str | None:
    """The segments-table column `corpus info --by` names (None: the whole corpus)."""
    column = by if by in attributes else BY_COLUMNS.get(by, by) if by else None
    if column is not None and column not in columns:
        raise CorpusError(f"unknown attribute '{by}'", path=manifest_path,
                          fix=f"use one of {', '.join([*attributes, *BY_COLUMNS])}")
    return column


def summary_partial(seg: pd.DataFrame, column: str | None, words: np.ndarray) -> pd.DataFrame:
    """Segments and words per (group, document, participant) of some segment rows: what
    `merge_summaries` needs of them (documents and participants are counted once
    however the rows were split)."""
    role = seg["speaker_role"].to_numpy()
    frame = pd.DataFrame({
        "group": seg[column].replace("", "(none)") if column else "all",
        "document_id": seg["document_id"], "participant_id": seg["participant_id"], "segments": 1,
        "words": words, "participant_words": np.where(role == PARTICIPANT, words, 0),
        "interviewer_words": np.where(role == INTERVIEWER, words, 0),
        "unlabelled_words": np.where(role == UNLABELLED, words, 0)})
    return frame.groupby(["group", "document_id", "participant_id"], sort=False, as_index=False).sum()


def merge_summaries(partials: list[pd.DataFrame], by: str | None) -> pd.DataFrame:
    """The `corpus_summary` table from `summary_partial`s, one row per group (sorted)."""
    frame = pd.concat(partials, ignore_index=True)
    out = frame.groupby("group", sort=True).agg(
        documents=("document_id", "nunique"),
        participants=("participant_id", lambda s: s[s != ""].nunique()),
        **{c: (c, "sum") for c in SUMMARY_COLUMNS[2:]},
    ).reset_index().rename(columns={"group": by or "corpus"})
    return out


def unmapped_speakers(seg: pd.DataFrame) -> list[tuple[str, str]]:
    """(document, label) of every speaker label mapped to no participant, in order of
    first turn: labelled turns with no participant that are not an interviewer's."""
    rows = seg[(seg["speaker"] != "") & (seg["participant_id"] == "") & ~seg["is_interviewer"].astype(bool)]
    return list(dict.fromkeys(zip(rows["document_id"].tolist(), rows["speaker"].tolist())))
