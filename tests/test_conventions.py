"""A folder mixing every label convention goes through `corpus init` to a corpus, unedited,
whose words per speaker and per role are the fixtures' hand-counted values."""

from __future__ import annotations

import json

import pandas as pd
from hypothesis import given, strategies as st
from typer.testing import CliRunner

from hcrisis.cli import app
from hcrisis.ingest.corpus import corpus_summary, load_corpus
from hcrisis.ingest.privacy import redact
from hcrisis.ingest.readers.text import LabelFinder, split_turns
from hcrisis.ingest.roles import is_role_label

from conventions import WORDS, write_folder


def test_mixed_conventions_through_init(tmp_path):
    root = write_folder(tmp_path / "mixed")
    result = CliRunner().invoke(app, ["corpus", "init", str(root)])
    assert result.exit_code == 0, result.output
    assert f"not read: {root / 'old.doc'}: old Word .doc files cannot be read (open it in Word or " \
           "LibreOffice and save it as .docx)" in result.stderr
    assert "warning: notes: no speaker label found: the text is kept as unlabelled paragraphs" in result.stderr
    assert "warning: two-interviewers: interviewer words (20) exceed participant words (17)" in result.stderr
    assert ("zoom-meeting (interview): 'Lena Moritz (SL)' -> interviewer (guess) 14, "
            "'Tomas O'Hare’s iPad' -> P09 (guess) 17, 'GRETA VANCE' -> P10 (guess) 8; "
            "words: interviewer 14, participant 25, unlabelled 0") in result.stdout
    assert "responses (table of responses): check its text_column" in result.stdout
    corpus = load_corpus(root)
    seg = corpus.segments[corpus.segments["kind"] != "survey response"]
    per_speaker = seg.assign(n=_words(seg)).groupby(["document_id", "speaker"]).agg(
        n=("n", "sum"), role=("speaker_role", "first"))
    assert {k: (r.n, r.role) for k, r in per_speaker.iterrows()} == WORDS
    by_role = corpus_summary(corpus, "role").set_index("role")["words"].to_dict()
    expected = {role: sum(n for n, r in WORDS.values() if r == role) for role in ("interviewer", "participant",
                                                                                  "unlabelled")}
    expected["participant"] += 5 + 5          # the two survey responses
    assert by_role == expected
    assert corpus_summary(corpus, "speaker").set_index("speaker")["words"]["Interviewer"] == 8 + 30 + 8
    kinds = {d["id"]: d["kind"] for d in corpus.manifest["documents"]}
    assert kinds == {**{doc: "interview" for doc, _ in WORDS}, "notes": "other"}
    table = corpus.manifest["tables"]
    assert table == [{"id": "responses", "file": "responses.csv", "kind": "survey response",
                      "text_column": "comment"}]


def _words(seg: pd.DataFrame) -> list[int]:
    from hcrisis.text.tokens import counted_words, tokenize_segments
    return counted_words(tokenize_segments(seg)).tolist()


def test_corpus_info_csv_and_json(tmp_path):
    root = write_folder(tmp_path / "mixed")
    runner = CliRunner()
    assert runner.invoke(app, ["corpus", "init", str(root)]).exit_code == 0
    result = runner.invoke(app, ["corpus", "info", str(root), "--by", "document", "--format", "csv"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == ("document,documents,participants,segments,words,participant_words,"
                        "interviewer_words,unlabelled_words")
    assert "zoom-meeting,1,2,5,39,25,14,0" in lines
    assert "notes,1,0,1,8,0,0,8" in lines
    assert "two-interviewers,1,1,6,37,17,20,0" in lines
    js = runner.invoke(app, ["corpus", "info", str(root), "--by", "role", "--format", "json"])
    assert [r["role"] for r in json.loads(js.stdout)] == ["interviewer", "participant", "unlabelled"]
    bad = runner.invoke(app, ["corpus", "info", str(root), "--format", "xml"])
    assert bad.exit_code == 1
    assert bad.output.strip() == "Error: unknown format 'xml' (use --format table or csv or json)"


def test_redacted_zoom_meeting_names_none_of_its_speakers(tmp_path):
    root = write_folder(tmp_path / "mixed")
    assert CliRunner().invoke(app, ["corpus", "init", str(root)]).exit_code == 0
    counts = redact(load_corpus(root), tmp_path / "red", tmp_path / "keys" / "k.csv")
    text = (tmp_path / "red" / "documents" / "zoom-meeting.txt").read_text()
    for name in ("Lena", "Moritz", "Tomas", "O'Hare", "Hare", "GRETA", "Greta", "VANCE", "Vance"):
        assert name not in text
    assert counts["replaced"]["speaker label"] == 5 and counts["replaced"]["name"] == 2   # 5 turns
    red = load_corpus(tmp_path / "red")
    zoom = red.segments[red.segments["document_id"] == "zoom-meeting"]
    assert zoom["is_interviewer"].tolist() == [True, False, True, False, False]


PROSE = st.lists(st.text(alphabet="abcdefghij ,.", min_size=1, max_size=40), min_size=1, max_size=8)
WORD = st.from_regex(r"[A-Z][a-z]{2,9}( [A-Z][a-z]{2,9})?", fullmatch=True).filter(
    lambda w: not is_role_label(w))


@given(PROSE, WORD, st.integers(min_value=0, max_value=8))
def test_label_occurring_once_in_prose_is_not_a_speaker(lines, word, at):
    """`Word: ...` once among prose lines (any place) is text, not a speaker."""
    lines = list(lines)
    lines.insert(min(at, len(lines)), f"{word}: {lines[0]}")
    text = "\n".join(lines)
    assert all(t.speaker is None for t in split_turns(text, LabelFinder()))


def test_a_role_in_brackets_after_a_display_name():
    """Meeting tools write "Name (Host)": the speaker asks (an interviewer role), and the
    label is still a person's name, which privacy tools replace."""
    from hcrisis.ingest.roles import INTERVIEWER, PARTICIPANT, label_role

    assert [label_role(x) for x in ["Dana O’Neil (Host)", "Bo Ray (Participant 3)", "Ann Lee (SL)",
                                    "Sam’s iPad"]] == [INTERVIEWER, PARTICIPANT, None, None]
    assert not is_role_label("Dana O’Neil (Host)") and is_role_label("Interviewer 2")
