"""Privacy: identifier scan on a planted corpus, masking, redaction, export guard."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from typer.testing import CliRunner

from hcrisis.cli import app
from hcrisis.ingest.corpus import load_corpus
from hcrisis.errors import PrivacyError
from hcrisis.text.kwic import kwic
from hcrisis.ingest.privacy import KINDS, Scanner, guard_export, is_generic_label, mask, redact, scan_corpus
from hcrisis.text.tokens import tokenize_segments

from conftest import write

INT01 = ("Interviewer: Thanks, Jane. How do we reach you?\n"
         "R: Write to jane.smith@example.org or ring 0114 496 0123, or +44 (0)7700 900123.\n"
         "My office is at S10 2TN, see https://www.gov.uk/guidance and www.linkedin.com/in/jane-s.\n")
FG1 = """\
WEBVTT

NOTE planted identifiers

1/0-0
00:00:01.000 --> 00:00:02.000
<v Moderator>Welcome. Bob, you work at Acme Homes?</v>

1/1-0
00:00:02.000 --> 00:00:04.000
<v Bob Jones>Yes, before that sheffield city council.</v>

1/2-0
00:00:04.000 --> 00:00:05.000
<v Carol>Same as Mr Jones.</v>
"""


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    return make_planted(tmp_path / "planted")


def make_planted(root: Path) -> Path:
    write(root / "manifest.yaml", """\
name: planted
description: Interviews with Jane Smith and others
attributes:
  sector: {}
participants: participants.csv
documents:
  - id: int01
    file: int01.txt
    kind: interview
    participants: [P01]
  - id: fg1
    file: fg1.vtt
    kind: focus group
    speakers: {Moderator: interviewer, Bob Jones: F01}
settings:
  privacy: {organisations: [Sheffield City Council, Acme Homes]}
""")
    write(root / "participants.csv",
          "participant_id,name,sector\nP01,Jane Smith,local authority\nF01,Bob Jones,housing association\n")
    write(root / "int01.txt", INT01)
    write(root / "fg1.vtt", FG1)
    return root


EXPECTED = [
    # document, segment, start, end, kind, masked item
    ("int01", "int01:0000", 21, 25, "name", "J***"),
    ("int01", "int01:0001", 60, 82, "email", "j***@e***.org"),
    ("int01", "int01:0001", 91, 104, "phone", "0*** 4*** 0***"),
    ("int01", "int01:0001", 109, 127, "phone", "+4*** (0***)7*** 9***"),
    ("int01", "int01:0001", 145, 152, "postcode", "S*** 2***"),
    ("int01", "int01:0001", 190, 216, "url", "w***.l***.c***/i***/j***-s***"),  # gov.uk is not personal
    ("fg1", "fg1:0000", 20, 23, "name", "B***"),
    ("fg1", "fg1:0000", 37, 47, "organisation", "A*** H***"),
    ("fg1", "fg1:0001", 50, 59, "speaker label", "B*** J***"),   # once per document
    ("fg1", "fg1:0001", 78, 100, "organisation", "s*** c*** c***"),
    ("fg1", "fg1:0002", 103, 108, "speaker label", "C***"),       # unmapped, still a name
    ("fg1", "fg1:0002", 118, 126, "name", "M*** J***"),     # the title goes with the name
]


def test_scan_planted_corpus_exact_findings(planted):
    corpus = load_corpus(planted)
    got = scan_corpus(corpus)
    assert list(got.columns) == ["document_id", "segment_id", "start", "end", "kind", "item"]
    assert [tuple(r) for r in got.itertuples(index=False)] == EXPECTED
    for doc, _seg, start, end, _kind, _item in EXPECTED:  # offsets point into the canonical text
        assert corpus.transcripts[doc].text[start:end].strip()


def test_generic_labels_are_not_names():
    assert all(is_generic_label(x) for x in ["P1", "Q", "Speaker 2", "interviewer", "Participant 10"])
    assert not any(is_generic_label(x) for x in ["Jane Smith", "Carol", "Bob"])


@pytest.mark.parametrize("value,kind,masked", [
    ("jane.smith@example.org", "email", "j***@e***.org"),
    ("S10 2TN", "postcode", "S*** 2***"),
    ("Jane Smith", "name", "J*** S***"),
])
def test_mask(value, kind, masked):
    assert mask(value, kind) == masked


@pytest.mark.parametrize("text,kinds", [
    ("call 020 7946 0958 now", ["phone"]),
    ("call 07700900123", ["phone"]),
    ("in 2024 we had 12345 homes", []),
    ("see https://example.org/~jsmith/cv.", ["url"]),
    ("see https://twitter.com/", []),
    ("see https://x.com/janesmith", ["url"]),
    ("at M1 1AE and SW1A 1AA", ["postcode", "postcode"]),
    ("Jane.Smith@Example.co.uk", ["email"]),   # the name inside an e-mail is one finding
])
def test_pattern_kinds(text, kinds):
    assert [f.kind for f in Scanner(names={"Jane": "P01"}).find(text)] == kinds


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("Jane Smith@acme.org 0123+44()/:~wAHS1TN\n")), max_size=80))
def test_findings_are_exact_and_disjoint(text):
    scanner = Scanner(names={"Jane Smith": "P01", "Jane": "P01"}, organisations=["Acme Homes"])
    found = scanner.find(text)
    assert all(text[f.start:f.end] == f.value and f.kind in KINDS for f in found)
    assert all(a.end <= b.start for a, b in zip(found, found[1:]))


def test_guard_export_message():
    df = pd.DataFrame({"segment_id": ["a:0000", "a:0001"], "text": ["fine", "mail x@y.org"]})
    with pytest.raises(PrivacyError) as err:
        guard_export(df, "outputs/kwic.csv", allow_identifiers=False)
    assert err.value.one_line() == ("outputs/kwic.csv: refusing to write: contains email (segment a:0001)"
                                    " (re-run with --allow-identifiers or redact the corpus first)")
    guard_export(df, "outputs/kwic.csv", allow_identifiers=True)
    guard_export(["no identifiers here"], "out.csv", allow_identifiers=False)
    with pytest.raises(PrivacyError, match=r"contains name \(segment 2\)"):
        guard_export(["ok", "Jane said"], "out.csv", False, Scanner(names={"Jane": "P01"}))
    kwic = pd.DataFrame({"excerpt_id": ["X-3"], "left": ["ring"], "match": ["0114"], "right": ["496 0123"]})
    with pytest.raises(PrivacyError, match=r"contains phone \(segment X-3\)"):
        guard_export(kwic, "excerpts.csv", False)   # text columns joined, excerpt ids named


def test_redact_roundtrip(planted, tmp_path):
    out, key = tmp_path / "red", tmp_path / "keys" / "planted.csv"
    counts = redact(load_corpus(planted), out, key)
    assert counts == {"documents": 2, "tables": 0, "replacements": 13, "replaced": {
        "email": 1, "name": 4, "organisation": 2, "phone": 2, "postcode": 1, "speaker label": 2, "url": 1}}
    red = load_corpus(out)
    orig = load_corpus(planted)
    # same segments, participants and interviewer flags; no identifier left
    cols = ["segment_id", "participant_id", "is_interviewer", "sector"]
    assert red.segments[cols].equals(orig.segments[cols])
    assert scan_corpus(red).empty
    assert "name" not in red.participants.columns
    fg = (out / "documents" / "fg1.txt").read_text()
    # persons numbered in order of F01, P01, then unmapped labels (Carol)
    assert fg == ("[00:00:01] Moderator: Welcome. [PARTICIPANT-01], you work at [ORG-2]?\n\n"
                  "[00:00:02] PARTICIPANT-01: Yes, before that [ORG-1].\n\n"
                  "[00:00:04] PARTICIPANT-03: Same as [PARTICIPANT-01].\n")
    assert red.segments["speaker"].tolist()[-3:] == ["Moderator", "PARTICIPANT-01", "PARTICIPANT-03"]
    assert (out / "documents" / "int01.txt").read_text() == (
        "Interviewer: Thanks, [PARTICIPANT-02]. How do we reach you?\n\n"
        "R: Write to [EMAIL] or ring [PHONE], or [PHONE].\n"
        "My office is at [POSTCODE], see https://www.gov.uk/guidance and [URL].\n")
    k = pd.read_csv(key)
    assert k[k["kind"] == "organisation"].values.tolist() == [
        ["[ORG-1]", "organisation", "sheffield city council"], ["[ORG-2]", "organisation", "Acme Homes"]]
    manifest = (out / "manifest.yaml").read_text()
    assert "Jane" not in manifest and "Acme" not in manifest and "Bob" not in manifest


@pytest.mark.parametrize("key", ["red/key.csv", "outputs/key.csv", "x/outputs/k.csv"])
def test_redact_refuses_key_inside_copy_or_outputs(planted, tmp_path, monkeypatch, key):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PrivacyError, match="refusing to write the key file inside"):
        redact(load_corpus(planted), tmp_path / "red", tmp_path / key)
    assert not (tmp_path / "red").exists()


def test_redact_refuses_non_empty_folder(planted, tmp_path):
    with pytest.raises(PrivacyError, match="output folder is not empty"):
        redact(load_corpus(planted), planted, tmp_path / "k.csv")


def test_cli_scan_never_prints_text(planted):
    result = CliRunner().invoke(app, ["privacy", "scan", str(planted)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "12 findings; email 1; name 3; organisation 2; phone 2; postcode 1; speaker label 2; url 1" in result.output
    for secret in ("jane.smith", "Acme", "Jones", "7946", "2TN", "Thanks", "linkedin"):
        assert secret not in result.output


def test_cli_scan_skip_bad(planted):
    write(planted / "int01.txt", b"\x00\x01binary")
    runner = CliRunner()
    bad = runner.invoke(app, ["privacy", "scan", str(planted)])
    assert bad.exit_code == 1 and "binary file, not text" in bad.output
    ok = runner.invoke(app, ["privacy", "scan", str(planted), "--skip-bad"], terminal_width=200)
    assert ok.exit_code == 0
    assert f"skipped: {planted / 'int01.txt'}: binary file, not text" in ok.output
    assert "6 findings; name 2; organisation 2; speaker label 2" in ok.output


def test_cli_redact(planted, tmp_path):
    result = CliRunner().invoke(app, ["privacy", "redact", str(planted), "--out", str(tmp_path / "r"),
                                      "--key", str(tmp_path / "k.csv")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"wrote {tmp_path / 'r'}: 2 documents, 0 tables, 13 distinct")


def test_cli_redact_skip_bad(planted, tmp_path):
    write(planted / "int01.txt", b"\x00\x01binary")
    out = tmp_path / "r"
    result = CliRunner().invoke(app, ["privacy", "redact", str(planted), "--out", str(out),
                                      "--key", str(tmp_path / "k.csv"), "--skip-bad"])
    assert result.exit_code == 0, result.output
    assert result.stderr == (f"skipped: {planted / 'int01.txt'}: binary file, not text (or UTF-16 without"
                             " a byte-order mark) (export the transcript as .txt, .docx, .odt, .pdf,"
                             " .vtt or .srt)\n")
    assert [d["id"] for d in load_corpus(out).manifest["documents"]] == ["fg1"]   # the bad file left out
    assert sorted(p.name for p in (out / "documents").iterdir()) == ["fg1.txt"]


# --- the guard wired into exporting commands ---------------------------------------

MINI_CODEBOOK = "codebook: mini\ncodes:\n  - id: skills\n    label: Skills\n    rules: {keywords: [ring, work]}\n"


def test_kwic_export_guarded(planted, tmp_path):
    out = tmp_path / "kwic.csv"
    runner = CliRunner()
    refused = runner.invoke(app, ["kwic", str(planted), "ring", "--out", str(out)])
    assert refused.exit_code == 1
    assert refused.output.strip().splitlines()[-1] == (
        f"Error: {out}: refusing to write: contains email (segment int01:0001)"
        " (re-run with --allow-identifiers or redact the corpus first)")
    assert not out.exists()
    allowed = runner.invoke(app, ["kwic", str(planted), "ring", "--out", str(out), "--allow-identifiers"])
    assert allowed.exit_code == 0 and out.exists()


def test_kwic_masks_identifiers_even_partly_shown(planted):
    c = load_corpus(planted)
    tokens, scanner = tokenize_segments(c.segments), Scanner.from_corpus(c)
    hits = kwic(tokens, c.segments, "ring", scanner=scanner)
    assert hits[["left", "match", "right"]].values.tolist() == [
        ["Write to [EMAIL] or", "ring", "[PHONE], or [PHONE]"]]   # the window cuts the 2nd phone
    assert hits.attrs["identifiers"] == [("int01:0001", "email"), ("int01:0001", "phone")]
    # the window ends inside "sheffield city council": the part shown is masked too
    edge = kwic(tokens, c.segments, "before", window=2, scanner=scanner)
    assert edge[["left", "match", "right"]].values.tolist() == [["Yes,", "before", "that [ORGANISATION]"]]
    raw = kwic(tokens, c.segments, "before", window=2)
    assert raw["right"].tolist() == ["that sheffield"] and raw.attrs["identifiers"] == []


def test_cli_kwic_terminal_masked_and_window_only(planted):
    runner = CliRunner()
    result = runner.invoke(app, ["kwic", str(planted), "ring", "--window", "1"], terminal_width=200)
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("int01:0001"))
    assert line.split() == ["int01:0001", "P01", "or", "ring", "[PHONE]"]   # centred keyword column
    for beyond in ("jane", "0114", "Write", "office", "S10"):   # identifiers and text outside the window
        assert beyond not in result.output
    assert result.stderr.strip().splitlines()[-1] == (
        "identifiers masked in 1 segment(s): phone (see hcrisis privacy scan)")
    shown = runner.invoke(app, ["kwic", str(planted), "ring", "--window", "1", "--allow-identifiers"],
                          terminal_width=200)
    assert "int01:0001 P01" in shown.output and "or  ring  0114" in shown.output
    assert "masked" not in shown.output


def test_code_quotations_guarded(planted, tmp_path):
    book = write(tmp_path / "cb.yaml", MINI_CODEBOOK)
    out = tmp_path / "coding"
    args = ["code", str(planted), "--codebook", str(book), "--out", str(out)]
    runner = CliRunner()
    refused = runner.invoke(app, args)
    assert refused.exit_code == 1
    assert refused.output.strip().splitlines()[-1] == (
        f"Error: {out / 'quotes'}: refusing to write: contains email (segment int01:0001)"
        " (re-run with --allow-identifiers or redact the corpus first)")
    assert not out.exists()
    assert not list(tmp_path.glob(".coding*"))      # nor the partitions' pieces (hcrisis.coding.codings)
    assert runner.invoke(app, args + ["--allow-identifiers"]).exit_code == 0
    assert (out / "quotes" / "skills.md").exists()


@pytest.mark.parametrize("command", [["freq"], ["terms", "--min-freq", "1"]])
def test_frequency_tables_and_terms_refuse_identifier_items(planted, tmp_path, command):
    out = tmp_path / "out"
    runner = CliRunner()
    refused = runner.invoke(app, [command[0], str(planted), *command[1:], "--out", str(out)])
    assert refused.exit_code == 1
    assert "refusing to write: item " in refused.output and "(re-run with --allow-identifiers" in refused.output
    assert not out.exists()
    allowed = runner.invoke(app, [command[0], str(planted), *command[1:], "--out", str(out), "--allow-identifiers"])
    assert allowed.exit_code == 0, allowed.output


def test_item_identifier_kinds(planted):
    from hcrisis.ingest.privacy import item_identifier
    scanner = Scanner.from_corpus(load_corpus(planted))
    assert [item_identifier(x, scanner) for x in ["jones", "smith", "housing", "x@y.org", "ring 0114 496 0123"]] \
        == ["name", "name", None, "email", "phone"]


def test_roles_and_codes_are_not_names():
    assert all(is_generic_label(x) for x in ["Interviewer 1", "Interviewer2", "Speaker 2", "Participant 7",
                                             "id1", "INT", "R1", "Moderator"])


def test_redact_copies_only_what_it_redacted(tmp_path):
    root = tmp_path / "c"
    write(root / "manifest.yaml", """\
name: consultation
attributes: {sector: {}}
participants: participants.csv
documents:
  - {id: int-jane-smith, file: a.txt, kind: interview, participants: [P01]}
tables:
  - {id: survey, file: s.csv, kind: survey response, text_column: answer, id_column: rid,
     attribute_columns: [sector]}
""")
    write(root / "participants.csv", "participant_id,name,sector,notes\nP01,Jane Smith,ALMO,ring 07700 900123\n")
    write(root / "a.txt", "Q: How was it?\nR: Fine, Jane here.\n")
    write(root / "s.csv", "rid,answer,sector,respondent_email\nr1,Ask Jane Smith,ALMO,js@example.org\n"
                          "r2,Write to a@b.org,,x@y.org\n")
    counts = redact(load_corpus(root), tmp_path / "red", tmp_path / "keys" / "k.csv")
    red = tmp_path / "red"
    assert counts["replaced"] == {"document id": 1, "email": 1, "name": 2}
    assert (red / "tables" / "survey.csv").read_text() == (
        "rid,answer,sector\nr1,Ask [PARTICIPANT-01],ALMO\nr2,Write to [EMAIL],\n")   # no e-mail column
    assert (red / "participants.csv").read_text() == "participant_id,sector,notes\nP01,ALMO,[NOTES]\n"
    assert sorted(p.name for p in (red / "documents").iterdir()) == ["doc-01.txt"]
    assert load_corpus(red).segments["document_id"].tolist() == ["doc-01", "doc-01", "survey", "survey"]


def test_declared_lowercase_or_unusual_label_takes_effect(tmp_path):
    write(tmp_path / "manifest.yaml", """\
name: x
documents:
  - {id: a, file: a.txt, kind: interview, speakers: {anna b: P01, "#mod": interviewer}}
""")
    write(tmp_path / "a.txt", "#mod: How was it?\nAnna B: Fine.\n")     # each once, so only declared labels count
    seg = load_corpus(tmp_path).segments
    assert seg[["speaker", "participant_id", "is_interviewer"]].values.tolist() == [
        ["#mod", "", True], ["Anna B", "P01", False]]


def test_cli_scan_csv_for_scripts(planted):
    result = CliRunner().invoke(app, ["privacy", "scan", str(planted), "--format", "csv"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "document_id,segment_id,start,end,kind,item"
    assert lines[1:3] == ["int01,int01:0000,21,25,name,J***", "int01,int01:0001,60,82,email,j***@e***.org"]
    assert result.stderr.startswith("12 findings; email 1; name 3;")


def test_the_pronoun_i_is_not_a_name():
    """A capitalised word before "said"/"thought" is a name in context, but never "I" or "I've"."""
    from hcrisis.ingest.names import find_names

    text = "It was, which I thought odd. What I've said to Anna, and then Kupor said no."
    assert [text[a:b] for a, b in find_names(text)] == ["Anna", "Kupor"]
