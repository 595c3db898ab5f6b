"""Quotation extraction: attribution variants, headings, excerpt rules, propagation, the CLI."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from hcrisis.cli import app
from hcrisis.ingest.corpus import corpus_summary, load_corpus
from hcrisis.thesis.quotes import (excerpt_crosstab, excerpt_tables, extract_quotes, intro_attribution, parse_attribution,
                            parse_heading)

ROOT = Path(__file__).resolve().parents[1]
THESIS = ROOT.parent / "shared" / "seeds" / "thesis-housing-professional.txt"
NI, CSI, FG = "national interview", "case-study interview", "focus group"
LA, HA, NB = "local authority", "housing association", "national body"


@pytest.mark.parametrize("text, pid, role, sector, stype", [
    ("Int. 09", "INT-09", "", "", NI),
    ("Int 9", "INT-09", "", "", NI),
    ("Int.9", "INT-09", "", "", NI),
    ("ALMO Chief Exec – Int. 09", "INT-09", "ALMO Chief Exec", "ALMO", NI),
    ("Retired HA Chief Exec. - Int. 6", "INT-06", "Retired HA Chief Exec.", HA, NI),
    ("CS Int. 4", "CS-INT-04", "", "", CSI),
    ("LA Case Study – CS Int. 17", "CS-INT-17", "LA Case Study", LA, CSI),
    ("National Housing Association – FG 2 participant", "FG-NHA-2",
     "National Housing Association – participant", HA, FG),
    ("Local Authority - FG2", "FG-LA-2", "Local Authority", LA, FG),
    ("FG1 Rep", "", "Rep", "", FG),
    ("LA Focus Group 1, Participant 3", "FG-LA-1-P3", "LA", LA, FG),
    ("Rep 4, National Housing Association, Focus Group 2", "FG-NHA-2-P4", "National Housing Association", HA, FG),
    ("Interview 1 from ALMO case study", "CS-ALMO-INT-01", "ALMO case study", "ALMO", CSI),
    ("CIH Rep 3", "CIH-3", "CIH", NB, NI),
    ("Civil Servant, Int. 22", "INT-22", "Civil Servant", NB, NI),
    ("Int. 37 – Housing Finance Consultant", "INT-37", "Housing Finance Consultant", "other", NI),
    ("Northern Housing Rep – Int. 04", "INT-04", "Northern Housing Rep", NB, NI),
    ("District Council Housing Director, Int. 5", "INT-05", "District Council Housing Director", LA, NI),
    ("ALMO, Head of Service", "", "ALMO, Head of Service", "ALMO", ""),
    ("LA Case Study", "", "LA Case Study", LA, CSI),
])
def test_attribution_variants(text, pid, role, sector, stype):
    a = parse_attribution(text)
    assert (a.participant_id, a.role_label, a.sector, a.source_type) == (pid, role, sector, stype)


@pytest.mark.parametrize("text, context, pid, case_study", [
    ("FG1 Rep", ("LA", "2"), "FG-LA-1", "local authority"),        # the number given wins
    ("Rep 2", ("RHA", "1"), "FG-RHA-1-P2", "regional housing association"),
    ("Rep 2", ("NHA", ""), "", "national housing association"),      # no focus-group number: no participant
    ("Rep 2", None, "", ""),                                          # no focus group named at all
])
def test_focus_group_context(text, context, pid, case_study):
    a = parse_attribution(text, context)
    assert (a.participant_id, a.case_study) == (pid, case_study)


@pytest.mark.parametrize("intro, pid, role", [
    ("As this retired local authority Director (Int. 03) noted:", "INT-03", "retired local authority Director"),
    ("Supply mattered, as a Housing Association Board Chair Int. 08) commented:", "INT-08",
     "Housing Association Board Chair"),
    ("This was stressed. As this ALMO Chief stated (CS Int, 10):", "CS-INT-10", "ALMO Chief"),
    ("As this (Housing Association Board Chair - Int. 8) articulated:", "INT-08", "Housing Association Board Chair"),
    ("Others disagreed. As Int. 22 noted:", "INT-22", ""),
    ("It affected the welfare of the tenant base (Int. 35):", "INT-35", ""),   # no post named: no role
])
def test_intro_attribution(intro, pid, role):
    _, a = intro_attribution(intro, None)
    assert (a.participant_id, a.role_label) == (pid, role)


def test_intro_without_identifier():
    assert intro_attribution("Another participant stated:", None) is None


@pytest.mark.parametrize("line, expected", [
    ("[bookmark: _Toc121666873]6.5.1 How Commercial is Too Commercial? ", ("6.5.1", "How Commercial is Too Commercial?")),
    ("[bookmark: _Toc121666851]5. 2 People First ", ("5.2", "People First")),
    ("5.8 There is Not One Housing Crisis ", ("5.8", "There is Not One Housing Crisis")),
    ("[bookmark: _Toc121666867]Chapter 6 - Context and Challenges ", ("6", "Context and Challenges")),
    ("[bookmark: _Toc121666933]9 Introduction ", ("9", "Introduction")),
    ("1.\tWhat are the contemporary and future challenges? ", None),
    ("2.444 million homes are owned by housing associations.", None),
    ("\t2.5 Table cell", None),
])
def test_headings(line, expected):
    assert parse_heading(line) == expected


SNIPPET = """[bookmark: _Toc1]Chapter 2 - Theory
“A literature quotation in chapter two.” (Vera 2016: 6)

[bookmark: _Toc2]6.1 Findings
As this retired local authority Director (Int. 03) noted:

“First quotation, introduced.”

“Second quotation, attribution on the next line.”
(ALMO Chief Exec – Int. 09)

“Third quotation with the attribution at the end.” (Int 9)

\t

“A quotation running over two paragraphs,

“and ending here.”
(CS Int. 4)

“A literature quotation in a findings chapter.” (Ridder, 2017: 298)

Another participant stated:

“Unattributed quotation.”

6.2 Focus Groups
As these local authority focus group participants commented:

“Focus group member.”
(FG2 Rep)

“Another one.”
(Rep 3)
"""


def test_extract_snippet():
    excerpts, literature = extract_quotes(SNIPPET)
    got = [(e.source_line, e.section, e.info.participant_id, e.attribution_place) for e in excerpts]
    assert got == [
        (7, "6.1", "INT-03", "introduction"),
        (9, "6.1", "INT-09", "next line"),
        (12, "6.1", "INT-09", "end"),
        (16, "6.1", "CS-INT-04", "next line"),
        (25, "6.1", "", ""),
        (30, "6.2", "FG-LA-2", "next line"),
        (33, "6.2", "FG-LA-2-P3", "next line"),
    ]
    assert literature == [21]
    assert excerpts[3].text == "“A quotation running over two paragraphs,\n\n“and ending here.”"
    assert excerpts[2].text == "“Third quotation with the attribution at the end.”"
    assert excerpts[0].section_title == "Findings"


def _excerpt_frame(rows):
    excerpts, _ = extract_quotes(rows)
    return excerpt_tables(excerpts)


def test_propagation_and_provenance():
    text = ("[bookmark: _T]7.1 A\n“One.”\n(ALMO Chief Exec – Int. 09)\n\n“Two.” (Int 9)\n\n"
            "“Three.” (Housing Strategy Manager, Int. 19)\n")
    ex, people, conflicts = _excerpt_frame(text)
    assert ex[["participant_id", "sector", "sector_provenance"]].values.tolist() == [
        ["INT-09", "ALMO", "role label at line 2"],
        ["INT-09", "ALMO", "propagated from line 2"],
        ["INT-19", "", ""],
    ]
    assert people[["participant_id", "sector", "sector_provenance"]].values.tolist() == [
        ["INT-09", "ALMO", "role label at line 2"], ["INT-19", "", ""]]
    assert conflicts == []


def test_conflicting_sectors_are_reported_not_guessed():
    text = "[bookmark: _T]7.1 A\n“One.” (Northern Housing Rep – Int. 04)\n\n“Two.” (Retired LA Director, Int. 4)\n"
    ex, people, conflicts = _excerpt_frame(text)
    assert ex["sector"].tolist() == ["", ""]
    assert conflicts == ["INT-04: local authority (line 4) vs national body (line 2)"]
    assert people.loc[0, "notes"] == "sector conflict: local authority (line 4) vs national body (line 2)"


def test_cli_extract_writes_a_loadable_corpus(tmp_path):
    src = tmp_path / "thesis.txt"
    src.write_text(SNIPPET, encoding="utf-8")
    out = tmp_path / "corpus"
    result = CliRunner().invoke(app, ["quotes", "extract", str(src), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "excerpts: 7" in result.output
    assert "unattributed at lines: 25" in result.output
    assert "First quotation" not in result.output and "member" not in result.output  # never text
    corpus = load_corpus(out)
    summary = corpus_summary(corpus, "source_type")
    assert summary[["source_type", "segments"]].values.tolist() == [
        ["(none)", 1], ["case-study interview", 1], ["focus group", 2], ["national interview", 3]]
    assert (out / "participants.csv").read_text().splitlines()[0] == (
        "participant_id,source_type,sector,sector_provenance,case_study,case_study_provenance,notes")


def test_cli_missing_document(tmp_path):
    result = CliRunner().invoke(app, ["quotes", "extract", str(tmp_path / "nope.txt"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {tmp_path / 'nope.txt'}: file not found (check the path)"
    assert not (tmp_path / "o").exists()


def test_cli_document_without_quotations(tmp_path):
    src = tmp_path / "plain.txt"
    src.write_text("[bookmark: _T]6.1 A\nNo quotations here.\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["quotes", "extract", str(src), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "no quotation paragraphs found in chapters 5-9" in result.output
    assert not (tmp_path / "o").exists()


@pytest.mark.skipif(not THESIS.exists(), reason="shared thesis text not available")
def test_committed_corpus_is_what_the_command_writes(tmp_path):
    """The published quotations name a few people as the thesis prints them (a minister,
    colleagues by first name), so the excerpt corpus is written with --allow-identifiers."""
    refused = CliRunner().invoke(app, ["quotes", "extract", str(THESIS), "--out", str(tmp_path / "r")])
    assert refused.exit_code == 1 and "refusing to write: contains name" in refused.output
    result = CliRunner().invoke(app, ["quotes", "extract", str(THESIS), "--out", str(tmp_path),
                                      "--allow-identifiers"])
    assert result.exit_code == 0, result.output
    committed = ROOT / "corpora" / "thesis-excerpts"
    for name in ("manifest.yaml", "excerpts.csv", "participants.csv"):
        assert (tmp_path / name).read_bytes() == (committed / name).read_bytes(), name


def test_documents_corpus_loads():
    corpus = load_corpus(ROOT / "corpora" / "documents")
    assert corpus.segments["kind"].unique().tolist() == ["policy document"]
    assert len(corpus.segments) > 10
    assert isinstance(corpus.participants, pd.DataFrame)


@pytest.mark.parametrize("gap, expected", [
    ("\nHe went on to argue that more was needed:\n\n", ("INT-29", "continuation")),
    ("\nAdding:\n\n", ("INT-29", "continuation")),
    ("\nCosts rose. For him, the problem was clear:\n\n", ("INT-29", "continuation")),
    # a withheld quotation leaves an extra empty line: the speaker is then not known
    ("\n\nThis participant added:\n\n", ("", "")),
    ("\nAnother participant stated:\n\n", ("", "")),
])
def test_continuation_of_the_previous_speaker(gap, expected):
    text = "[bookmark: _T]7.1 A\n“One.”\n(HA Chief Exec Int. 29)\n" + gap + "“Two.”\n"
    excerpts, _ = extract_quotes(text)
    assert (excerpts[1].info.participant_id, excerpts[1].attribution_place) == expected


def test_excerpt_crosstab():
    seg = pd.DataFrame({"source_type": ["focus group", "focus group", ""],
                        "sector": ["ALMO", "", ""]})
    table = excerpt_crosstab(seg)
    assert table.columns.tolist() == ["source_type", "(none)", "ALMO", "total"]
    assert table.values.tolist() == [["(none)", 1, 0, 1], ["focus group", 1, 1, 2], ["total", 2, 1, 3]]
