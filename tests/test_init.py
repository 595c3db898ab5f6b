"""`hcrisis corpus init` and focus-group speaker mapping, end to end on mixed formats."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from hcrisis.cli import app
from hcrisis.ingest.corpus import corpus_summary, load_corpus
from hcrisis.errors import CorpusError
from hcrisis.ingest.scaffold import init_corpus

from conftest import write
from formats import TEAMS_VTT, make_docx

SRT = ("1\n00:00:01,000 --> 00:00:02,000\nInterviewer: What skills will leaders need?\n\n"
       "2\n00:00:02,500 --> 00:00:06,000\nR: Resilience and communication skills.\n")


def write_transcripts(root: Path, srt: str, focus_group: str, vtt: str, notes: str) -> Path:
    """interviews/int01.docx (bold labels), interviews/int02.srt, a focus group .vtt, notes.txt."""
    (root / "interviews").mkdir(parents=True)
    make_docx(root / "interviews" / "int01.docx",
              [[("Interviewer:", True), (" What skills matter?", False)],
               [("Ruth", True), (": Communication skills, and budgets.", False)]])
    write(root / "interviews" / "int02.srt", srt)
    write(root / focus_group, vtt)
    write(root / "notes.txt", notes)
    return root


def mixed_folder(root: Path) -> Path:
    """Interviews (.docx, .srt, .txt), a Teams focus group (.vtt) and files init must skip.

    In the focus group Jane Smith asks the questions, so she is guessed as the
    moderator; in notes.txt Ann does.
    """
    write_transcripts(root, SRT, "fg-sheffield.vtt", TEAMS_VTT,
                      "Ann: Did the board agree?\nBen: Mostly, yes.\nAnn: And tenants?\nBen: They were consulted.\n")
    write(root / "broken.docx", "not really a docx")
    write(root / "participants.csv", "participant_id\n")   # not a transcript format: ignored
    write(root / "README.md", "# About these transcripts\n")
    write(root / ".hidden" / "x.txt", "R: hidden\n")
    return root


SKELETON = """\
name: corpus
description: ''
attributes: {}
participants:
- participant_id: P01
- participant_id: P02
- participant_id: P03
- participant_id: P04
- participant_id: P05
documents:
- id: fg-sheffield
  file: fg-sheffield.vtt
  kind: focus group
  speakers:
    Jane Smith: interviewer
    Bob Jones: P01
    Ann Lee: P02
- id: interviews-int01
  file: interviews/int01.docx
  kind: interview
  speakers:
    Interviewer: interviewer
    Ruth: P03
- id: interviews-int02
  file: interviews/int02.srt
  kind: interview
  speakers:
    Interviewer: interviewer
    R: P04
- id: notes
  file: notes.txt
  kind: interview
  speakers:
    Ann: interviewer
    Ben: P05
"""


def test_init_writes_skeleton_that_loads(tmp_path):
    root = mixed_folder(tmp_path / "corpus")
    report = init_corpus(root)
    assert (len(report.documents), report.labels) == (4, 9)
    assert report.bad == [f"{root / 'broken.docx'}: not a .docx file (not a zip archive)"
                          " (give the file its right extension or set 'format' in the manifest)"]
    text = (root / "manifest.yaml").read_text()
    assert text.startswith("# Corpus manifest skeleton written by `hcrisis corpus init`")
    assert f"# not read: {report.bad[0]}\n" in text
    assert "".join(line for line in text.splitlines(True) if not line.startswith("#")) == SKELETON
    assert ("# check fg-sheffield: roles guessed (no role label): 'Jane Smith' interviewer (asks most "
            "questions); 'Bob Jones', 'Ann Lee' participant\n") in text
    assert "# check notes: interviewer words (6) exceed participant words (5)\n" in text
    corpus = load_corpus(root)   # usable as a corpus straight away
    assert corpus.unmapped_speakers == []
    assert corpus.segments.groupby("document_id")["is_interviewer"].sum().to_dict() == {
        "fg-sheffield": 1, "interviews-int01": 1, "interviews-int02": 1, "notes": 2}


def test_init_refuses_to_overwrite(tmp_path):
    root = mixed_folder(tmp_path / "corpus")
    runner = CliRunner()
    first = runner.invoke(app, ["corpus", "init", str(root)])
    assert first.exit_code == 0
    assert f"wrote {root / 'manifest.yaml'}: 4 documents, 0 tables, 9 speaker labels" in first.output
    again = runner.invoke(app, ["corpus", "init", str(root)])
    assert again.exit_code == 1
    assert again.output.strip().endswith(f"Error: {root / 'manifest.yaml'}: manifest.yaml already exists"
                                         " (edit it, or re-run with --force to overwrite it)")
    assert runner.invoke(app, ["corpus", "init", str(root), "--force"]).exit_code == 0


def test_init_empty_folder(tmp_path):
    with pytest.raises(CorpusError, match="no readable transcripts found"):
        init_corpus(tmp_path)


# --- a filled manifest: focus-group speakers mapped to participants -------------------

FILLED = """\
name: mixed
attributes:
  sector: {values: [local authority, housing association]}
  source_type: {}
participants:
  - {participant_id: N01, sector: local authority}
  - {participant_id: N02, sector: housing association}
  - {participant_id: F01, sector: housing association}
  - {participant_id: N03, sector: local authority}
documents:
  - id: int01
    file: interviews/int01.docx
    kind: national interview
    attributes: {source_type: national interview}
    participants: [N01]
  - id: int02
    file: interviews/int02.srt
    kind: national interview
    attributes: {source_type: national interview}
    participants: [N02]
  - id: fg1
    file: fg-sheffield.vtt
    kind: focus group
    attributes: {source_type: focus group}
    speakers: {Jane Smith: interviewer, Bob Jones: F01}
  - id: int03
    file: notes.txt
    kind: case-study interview
    speakers: {Ann: interviewer, Ben: N03}
"""


@pytest.fixture
def filled(tmp_path) -> Path:
    root = mixed_folder(tmp_path / "corpus")
    (root / "broken.docx").unlink()
    write(root / "manifest.yaml", FILLED)
    return root


def test_focus_group_speakers_by_participant(filled):
    corpus = load_corpus(filled)
    seg = corpus.segments
    fg = seg[seg["document_id"] == "fg1"]
    assert fg[["speaker", "participant_id", "is_interviewer", "sector"]].values.tolist() == [
        ["Jane Smith", "", True, ""],
        ["Bob Jones", "F01", False, "housing association"],
        ["Ann Lee", "", False, ""],
    ]
    assert corpus.unmapped_speakers == [("fg1", "Ann Lee")]   # listed, not dropped
    by_sector = corpus_summary(corpus, "sector")
    assert by_sector.values.tolist() == [
        ["(none)", 4, 0, 6, 25, 1, 24, 0], ["housing association", 2, 2, 2, 8, 8, 0, 0],
        ["local authority", 2, 2, 3, 9, 9, 0, 0]]


def test_corpus_info_prints_unmapped_labels(filled):
    result = CliRunner().invoke(app, ["corpus", "info", str(filled)])
    assert result.exit_code == 0
    assert "unmapped speaker label in fg1: 'Ann Lee'" in result.output


def test_corpus_info_skip_bad(filled):
    bad = write(filled / "interviews" / "int02.srt", "1\n00:00:05,000 --> 00:00:01,000\nR: x\n")
    runner = CliRunner()
    failed = runner.invoke(app, ["corpus", "info", str(filled)])
    assert failed.exit_code == 1
    assert failed.output.strip().splitlines()[-1] == (
        f"Error: {bad}: cue 1 ends before it starts (fix the cue's timing line)")
    ok = runner.invoke(app, ["corpus", "info", str(filled), "--skip-bad"])
    assert ok.exit_code == 0
    assert f"skipped: {bad}: cue 1 ends before it starts (fix the cue's timing line)" in ok.output


CODEBOOK = Path(__file__).resolve().parents[1] / "codebooks" / "thesis.yaml"


@pytest.mark.parametrize("command", [
    ["freq", "{corpus}", "--out", "{out}"],
    ["freq", "--study", "{study}", "--segment", "la", "--out", "{out}"],   # the study's corpus
    ["compare", "--study", "{study}", "--segment", "la", "--segment", "ha", "--out", "{out}"],
    ["kwic", "{corpus}", "communication"],
    ["cloud", "--study", "{study}", "--segment", "ha", "--out", "{out}"],
    ["terms", "{corpus}", "--min-freq", "1", "--out", "{out}"],
    ["code", "{corpus}", "--codebook", str(CODEBOOK), "--out", "{out}"],
    ["agree", "{corpus}", "--codings", "{codings}", "--gold", "{codings}", "--codebook", str(CODEBOOK),
     "--out", "{out}"],
    ["suggest", "{corpus}", "--codings", "{codings}", "--topics", "1", "--out", "{out}"],
], ids=lambda c: " ".join(c[:2]))
def test_analysis_commands_skip_bad(filled, tmp_path, command):
    """Each command that reads a corpus stops at a broken file, or with --skip-bad lists it and goes on."""
    bad = write(filled / "interviews" / "int02.srt", "1\n00:00:05,000 --> 00:00:01,000\nR: x\n")
    study = write(filled.parent / "study.yaml", E2E_STUDY)
    codings = write(tmp_path / "codings.csv", "segment_id,code_id\nint01:0001,communication\n"
                                              "fg1:0001,communication\nint03:0001,know_the_numbers\n")
    args = [a.format(corpus=filled, study=study, out=tmp_path / "out", codings=codings) for a in command]
    line = f"{bad}: cue 1 ends before it starts (fix the cue's timing line)"
    runner = CliRunner()
    failed = runner.invoke(app, args)
    assert (failed.exit_code, failed.output.strip().splitlines()[-1]) == (1, f"Error: {line}")
    assert not (tmp_path / "out").exists()
    ok = runner.invoke(app, [*args, "--skip-bad"])
    assert ok.exit_code == 0, ok.output
    assert f"skipped: {line}" in ok.output


# --- end to end: a mixed folder through init, a filled manifest, freq, code and scan ------

FG_VTT = """\
WEBVTT

1/0-0
00:00:01.000 --> 00:00:03.000
<v Jane Smith>Welcome. What skills matter most?</v>

1/1-0
00:00:03.000 --> 00:00:04.000
<v Jane Smith>Think about tenants.</v>

1/2-0
00:00:04.500 --> 00:00:07.000
<v Bob Jones>Communication with tenants. Communication matters.</v>

1/3-0
00:00:07.000 --> 00:00:09.000
<v Ann Lee>Budgets, numbers and rents.</v>

1/4-0
00:00:09.000 --> 00:00:11.000
<v Raj Patel>I worked at Acme Homes on budgets.</v>

1/5-0
00:00:11.000 --> 00:00:12.000
<v Jane Smith>Anything else?</v>

1/6-0
00:00:12.000 --> 00:00:13.000
<v Bob Jones>Trust.</v>
"""
INT02_SRT = """\
1
00:00:01,000 --> 00:00:02,000
Interviewer: What skills will leaders need?

2
00:00:02,500 --> 00:00:06,000
R: Resilience and communication skills.

3
00:00:06,000 --> 00:00:08,000
Write to r.khan@example.org later.
"""
NOTES_TXT = "[00:00:01] Interviewer: And training?\n[00:00:04] Speaker 1: Training budgets. Ring 0114 496 0123.\n"


def study_folder(root: Path) -> Path:
    """Two national interviews (.docx, .srt), a focus group (.vtt), a follow-up (.txt)."""
    return write_transcripts(root, INT02_SRT, "fg-leeds.vtt", FG_VTT, NOTES_TXT)


def fill_manifest(root: Path) -> None:
    """What a researcher does with the skeleton: real ids (R and Speaker 1 are one person),
    kinds, declared attributes, a registry with names, the organisations to look for."""
    manifest = yaml.safe_load((root / "manifest.yaml").read_text())
    ids = {"P01": "F01", "P02": "F02", "P03": "F03", "P04": "N01", "P05": "N02", "P06": "N02"}
    kinds = {"fg-leeds": "focus group", "interviews-int01": "national interview",
             "interviews-int02": "national interview", "notes": "case-study interview"}
    for doc in manifest["documents"]:
        doc["kind"] = kinds[doc["id"]]
        doc["speakers"] = {label: ids.get(pid, pid) for label, pid in doc["speakers"].items()}
    manifest["attributes"] = {"sector": {"values": ["local authority", "housing association"]}}
    manifest["participants"] = "participants.csv"
    manifest["settings"] = {"privacy": {"organisations": ["Acme Homes"]}}
    write(root / "manifest.yaml", yaml.safe_dump(manifest, sort_keys=False))
    write(root / "participants.csv", "participant_id,name,sector\n"
          "N01,Ruth Ellis,local authority\nN02,Rosa Khan,housing association\n"
          "F01,Bob Jones,housing association\nF02,Ann Lee,local authority\n"
          "F03,Raj Patel,housing association\n")


E2E_STUDY = """\
study: mixed
corpus: corpus
outputs: outputs
segments:
  - {id: la, label: Local authority, where: {sector: local authority}}
  - {id: ha, label: Housing association, where: {sector: housing association}}
  - {id: n02, label: Rosa Khan, where: {participant_id: N02}}
  - {id: f01, label: Bob Jones, where: {participant_id: F01}}
"""
E2E_CODEBOOK = """\
codebook: mini
codes:
  - {id: communication, label: Communication, rules: {keywords: [communication]}}
  - {id: money, label: Money, rules: {keywords: [budget, number, rent]}}
  - {id: trust, label: Trust, rules: {keywords: [trust]}}
"""


def test_end_to_end_init_fill_freq_code_scan(tmp_path):
    """.docx + .srt + .vtt + .txt: init, fill, then per-participant freq, coding and scan."""
    root = study_folder(tmp_path / "corpus")
    runner = CliRunner()
    init = runner.invoke(app, ["corpus", "init", str(root)])
    assert init.output.splitlines()[-1] == (f"wrote {root / 'manifest.yaml'}: 4 documents, 0 tables, "
                                            "10 speaker labels; check and complete it before analysis")
    skeleton = yaml.safe_load((root / "manifest.yaml").read_text())
    assert {d["id"]: d["speakers"] for d in skeleton["documents"]} == {
        "fg-leeds": {"Jane Smith": "interviewer", "Bob Jones": "P01", "Ann Lee": "P02", "Raj Patel": "P03"},
        "interviews-int01": {"Interviewer": "interviewer", "Ruth": "P04"},
        "interviews-int02": {"Interviewer": "interviewer", "R": "P05"},
        "notes": {"Interviewer": "interviewer", "Speaker 1": "P06"}}
    fill_manifest(root)
    study, book, out = write(tmp_path / "study.yaml", E2E_STUDY), write(tmp_path / "cb.yaml", E2E_CODEBOOK), tmp_path / "t"

    counts = {}
    for seg in ("la", "ha", "n02", "f01"):
        r = runner.invoke(app, ["freq", str(root), "--study", str(study), "--segment", seg, "--out", str(out)])
        assert r.exit_code == 0, r.output
        table = pd.read_csv(out / f"freq_{seg}.csv")
        counts[seg] = dict(zip(table["word"], table["count"]))
    # moderator and interviewer turns are not counted; a focus group splits by participant
    assert counts == {
        "la": {"budgets": 2, "communication": 1, "numbers": 1, "rents": 1, "skills": 1},   # N01 + F02
        "ha": {"communication": 3, "budgets": 2, "acme": 1, "homes": 1, "later": 1, "matters": 1,
               "resilience": 1, "ring": 1, "skills": 1, "tenants": 1, "training": 1, "trust": 1,
               "worked": 1, "write": 1},                                                              # N02 + F01 + F03
        "n02": {"budgets": 1, "communication": 1, "later": 1, "resilience": 1, "ring": 1,
                "skills": 1, "training": 1, "write": 1},                                              # two documents
        "f01": {"communication": 2, "matters": 1, "tenants": 1, "trust": 1},            # two turns
    }

    r = runner.invoke(app, ["code", str(root), "--codebook", str(book), "--out", str(tmp_path / "coding"),
                            "--allow-identifiers"])
    assert r.exit_code == 0, r.output
    codings = pd.read_csv(tmp_path / "coding" / "codings.csv")
    who = load_corpus(root).segments.set_index("segment_id")["participant_id"]
    per_participant = codings.assign(participant=codings["segment_id"].map(who)) \
        .groupby(["participant", "code_id"]).size().to_dict()
    assert per_participant == {("F01", "communication"): 1, ("F01", "trust"): 1, ("F02", "money"): 1,
                               ("F03", "money"): 1, ("N01", "communication"): 1, ("N01", "money"): 1,
                               ("N02", "communication"): 1, ("N02", "money"): 1}
    refused = runner.invoke(app, ["code", str(root), "--codebook", str(book), "--out", str(tmp_path / "c2")])
    assert refused.exit_code == 1 and "refusing to write: contains organisation (segment fg-leeds:0003)" in refused.output

    scan = runner.invoke(app, ["privacy", "scan", str(root)], env={"COLUMNS": "200"})
    assert scan.exit_code == 0, scan.output
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in scan.output.splitlines()
            if line.startswith("│")]
    # offsets into each document's canonical text; a name used as a speaker label once per document
    assert rows == [
        ["fg-leeds", "fg-leeds:0000", "0", "10", "speaker label", "J*** S***"],
        ["fg-leeds", "fg-leeds:0001", "68", "77", "speaker label", "B*** J***"],
        ["fg-leeds", "fg-leeds:0002", "131", "138", "speaker label", "A*** L***"],
        ["fg-leeds", "fg-leeds:0003", "169", "178", "speaker label", "R*** P***"],
        ["fg-leeds", "fg-leeds:0003", "192", "202", "organisation", "A*** H***"],
        ["interviews-int01", "interviews-int01:0001", "34", "38", "speaker label", "R***"],
        ["interviews-int02", "interviews-int02:0001", "94", "112", "email", "r***@e***.org"],
        ["notes", "notes:0001", "83", "96", "phone", "0*** 4*** 0***"],
    ]
    assert scan.output.strip().splitlines()[-1] == \
        "8 findings; email 1; organisation 1; phone 1; speaker label 5"


def test_example_transcripts_become_a_corpus(tmp_path):
    """The folder `hcrisis corpus init --help` names: one file per format, all readable."""
    import shutil

    from conftest import ROOT

    root = Path(shutil.copytree(ROOT / "examples" / "transcripts", tmp_path / "transcripts"))
    report = init_corpus(root)
    assert (len(report.documents), report.labels, report.bad) == (4, 10, [])
    segments = load_corpus(root).segments
    assert segments.groupby("document_id").size().to_dict() == {
        "fg-sheffield": 4, "int01": 4, "int02": 2, "int03": 4}   # Bob Jones's two cues: one turn
