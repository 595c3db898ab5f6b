"""`hcrisis corpus init` and focus-group speaker mapping, end to end on mixed formats."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from hcrisis.cli import app
from hcrisis.corpus import corpus_summary, load_corpus
from hcrisis.errors import CorpusError
from hcrisis.init import init_corpus

from conftest import write
from formats import TEAMS_VTT, make_docx

SRT = ("1\n00:00:01,000 --> 00:00:02,000\nInterviewer: What skills will leaders need?\n\n"
       "2\n00:00:02,500 --> 00:00:06,000\nR: Resilience and communication skills.\n")


def mixed_folder(root: Path) -> Path:
    """Interviews (.docx, .srt, .txt), a Teams focus group (.vtt) and files init must skip.

    In the focus group Jane Smith asks the questions, so she is guessed as the
    moderator; in notes.txt Ann does.
    """
    (root / "interviews").mkdir(parents=True)
    make_docx(root / "interviews" / "int01.docx",
              [[("Interviewer:", True), (" What skills matter?", False)],
               [("Ruth", True), (": Communication skills, and budgets.", False)]])
    write(root / "interviews" / "int02.srt", SRT)
    write(root / "fg-sheffield.vtt", TEAMS_VTT)
    write(root / "notes.txt", "Ann: Did the board agree?\nBen: Mostly, yes.\nAnn: And tenants?\n"
                              "Ben: They were consulted.\n")
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
    assert (report.documents, report.labels) == (4, 9)
    assert report.bad == [f"{root / 'broken.docx'}: not a .docx file (not a zip archive)"
                          " (give the file its right extension or set 'format' in the manifest)"]
    text = (root / "manifest.yaml").read_text()
    assert text.startswith("# Corpus manifest skeleton written by `hcrisis corpus init`")
    assert f"# not read: {report.bad[0]}\n" in text
    assert text.split("# not read: ")[1].split("\n", 1)[1] == SKELETON
    corpus = load_corpus(root)   # usable as a corpus straight away
    assert corpus.unmapped_speakers == []
    assert corpus.segments.groupby("document_id")["is_interviewer"].sum().to_dict() == {
        "fg-sheffield": 1, "interviews-int01": 1, "interviews-int02": 1, "notes": 2}


def test_init_refuses_to_overwrite(tmp_path):
    root = mixed_folder(tmp_path / "corpus")
    runner = CliRunner()
    first = runner.invoke(app, ["corpus", "init", str(root)])
    assert first.exit_code == 0
    assert f"wrote {root / 'manifest.yaml'}: 4 documents, 9 speaker labels" in first.output
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
        ["(none)", 4, 0, 6, 26], ["housing association", 2, 2, 2, 9],
        ["local authority", 2, 2, 3, 9]]


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


def _has_commands(*names: str) -> bool:
    import typer.main

    return set(names) <= set(typer.main.get_command(app).commands)


STUDY = """\
study: mixed
corpus: corpus
outputs: outputs
segments:
  - {id: la, label: Local authority, where: {sector: local authority}}
  - {id: ha, label: Housing association, where: {sector: housing association}}
"""
CODEBOOK = """\
codebook: mini
codes:
  - {id: communication, label: Communication, rules: {keywords: [communication]}}
  - {id: money, label: Money, rules: {keywords: [budget, number]}}
"""


@pytest.mark.skipif(not _has_commands("freq", "code"), reason="freq/code commands not built yet")
def test_end_to_end_init_fill_freq_code_scan(tmp_path):
    """.docx + .srt + .vtt + .txt: init, fill, then per-participant freq, coding and scan."""
    root = mixed_folder(tmp_path / "corpus")
    (root / "broken.docx").unlink()
    runner = CliRunner()
    assert runner.invoke(app, ["corpus", "init", str(root)]).exit_code == 0
    write(root / "manifest.yaml", FILLED)           # the researcher completes the skeleton
    write(tmp_path / "study.yaml", STUDY)
    write(tmp_path / "cb.yaml", CODEBOOK)
    out = tmp_path / "out"
    for seg in ("la", "ha"):
        r = runner.invoke(app, ["freq", str(root), "--study", str(tmp_path / "study.yaml"),
                                "--segment", seg, "--out", str(out)])
        assert r.exit_code == 0, r.output
    # interviewers (Interviewer, Jane Smith, Ann) and the unmapped Ann Lee are not counted
    ha = pd.read_csv(out / "freq_ha.csv")
    la = pd.read_csv(out / "freq_la.csv")
    assert dict(zip(ha["word"], ha["count"])) == {"communication": 2, "knowing": 1, "numbers": 1,
                                                  "resilience": 1, "skills": 1}
    assert dict(zip(la["word"], la["count"])) == {"budgets": 1, "communication": 1,
                                                  "consulted": 1, "skills": 1}
    r = runner.invoke(app, ["code", str(root), "--codebook", str(tmp_path / "cb.yaml"),
                            "--out", str(tmp_path / "coding")])
    assert r.exit_code == 0, r.output
    matrix = pd.read_csv(tmp_path / "coding" / "matrix_sector.csv", keep_default_na=False)
    got = matrix[matrix["segments"] > 0][["code_id", "sector", "segments", "participants"]]
    assert got.values.tolist() == [["communication", "housing association", 2, 2],
                                   ["communication", "local authority", 1, 1],
                                   ["money", "local authority", 1, 1]]
    scan = runner.invoke(app, ["privacy", "scan", str(root)], terminal_width=200)
    assert scan.exit_code == 0
    assert scan.output.strip().splitlines()[-1] == "6 findings; speaker label 6"
