"""Manifest loading, the segments table and its errors."""

from __future__ import annotations

import pytest

from hcrisis.ingest.corpus import SEGMENT_COLUMNS, corpus_summary, load_corpus
from hcrisis.errors import CorpusError, InputError, SchemaError

from conftest import write


def test_segments_table(tiny_corpus):
    c = load_corpus(tiny_corpus)
    seg = c.segments
    assert list(seg.columns) == SEGMENT_COLUMNS + ["sector", "source_type", "gender"]
    rows = seg[["segment_id", "speaker", "participant_id", "is_interviewer", "start", "end", "text",
                "sector", "gender"]].values.tolist()
    assert rows == [
        ["int01:0000", "Interviewer", "", True, 13, 25, "What skills?", "", ""],
        ["int01:0001", "R", "P01", False, 29, 63, "People skills matter.\nHousing too.",
         "local authority", "female"],
        ["int02:0000", "Q", "", True, 3, 15, "And leaders?", "", ""],
        ["int02:0001", "A", "P02", False, 19, 39, "Leaders need vision.", "housing association", "male"],
        ["fg1:0000", "Moderator", "", True, 11, 19, "Welcome.", "housing association", ""],
        ["fg1:0001", "P1", "F01", False, 24, 41, "Training matters.", "housing association", "female"],
        ["fg1:0002", "P2", "F02", False, 46, 60, "Tenants first.", "housing association", "male"],
        ["fg1:0003", "P3", "", False, 65, 69, "Yes.", "housing association", ""],
    ]
    assert c.unmapped_speakers == [("fg1", "P3")]


def test_offsets_point_into_canonical_text(tiny_corpus):
    c = load_corpus(tiny_corpus)
    for row in c.segments.itertuples():
        assert c.transcripts[row.document_id].text[row.start:row.end] == row.text


def test_table_corpus(tmp_path):
    write(tmp_path / "manifest.yaml", """\
name: survey
attributes: {sector: {}}
tables:
  - id: responses
    file: r.csv
    kind: survey response
    text_column: answer
    id_column: rid
    attribute_columns: [sector]
""")
    write(tmp_path / "r.csv", 'rid,answer,sector\nr1,"Housing, first",ALMO\nr2,More staff,\n')
    seg = load_corpus(tmp_path).segments
    assert seg[["segment_id", "text", "sector", "start", "end"]].values.tolist() == [
        ["r1", "Housing, first", "ALMO", 0, 14], ["r2", "More staff", "", 0, 10]]


def test_summary_by_attribute(tiny_corpus):
    df = corpus_summary(load_corpus(tiny_corpus), "sector")
    # words: alphabetic tokens of 3+ letters ("What skills?" 2, "Yes." 1, "Housing too." 2)
    assert list(df.columns) == ["sector", "documents", "participants", "segments", "words",
                                "participant_words", "interviewer_words", "unlabelled_words"]
    assert df.values.tolist() == [
        ["(none)", 2, 0, 2, 4, 0, 4, 0],
        ["housing association", 2, 3, 5, 9, 8, 1, 0],
        ["local authority", 1, 1, 1, 5, 5, 0, 0],
    ]


def test_summary_by_role_and_speaker(tiny_corpus):
    c = load_corpus(tiny_corpus)
    by_role = corpus_summary(c, "role")
    assert by_role[["role", "documents", "segments", "words"]].values.tolist() == [
        ["interviewer", 3, 3, 5], ["participant", 3, 5, 13]]
    by_speaker = corpus_summary(c, "speaker").set_index("speaker")["words"].to_dict()
    assert by_speaker == {"A": 3, "Interviewer": 2, "Moderator": 1, "P1": 2, "P2": 2, "P3": 1, "Q": 2, "R": 5}


def _manifest(tmp_path, text):
    write(tmp_path / "manifest.yaml", text)
    return tmp_path


def test_missing_manifest(tmp_path):
    with pytest.raises(InputError, match="no manifest.yaml in the corpus folder"):
        load_corpus(tmp_path)


def test_malformed_yaml_names_line(tmp_path):
    _manifest(tmp_path, "name: x\ndocuments:\n  - id: [unclosed\n")
    with pytest.raises(InputError) as exc:
        load_corpus(tmp_path)
    assert exc.value.line == 4 and "malformed YAML" in exc.value.message


def test_unknown_keys_and_attributes_all_reported(tmp_path):
    _manifest(tmp_path, """\
name: x
colour: red
attributes: {sector: {}}
documents:
  - id: d1
    file: d1.txt
    kind: national interview
    attributes: {sectr: LA}
""")
    write(tmp_path / "d1.txt", "Q: hi\n")
    with pytest.raises(SchemaError) as exc:
        load_corpus(tmp_path)
    assert exc.value.problems == [("colour", 2, "unknown key (known keys: attributes, base_folder, description, "
                                   "documents, language, name, participants, settings, source, speakers, tables)")]
    _manifest(tmp_path, (tmp_path / "manifest.yaml").read_text().replace("colour: red\n", ""))
    with pytest.raises(SchemaError) as exc:
        load_corpus(tmp_path)
    assert exc.value.problems == [("documents[0].attributes.sectr", 7,
                                   "unknown attribute (declare it under 'attributes')")]


def test_bad_kind_and_missing_key(tmp_path):
    _manifest(tmp_path, "name: x\ndocuments:\n  - id: d1\n    kind: podcast\n")
    with pytest.raises(SchemaError) as exc:
        load_corpus(tmp_path)
    messages = [m for _, _, m in exc.value.problems]
    assert any("'podcast' is not one of" in m for m in messages)
    assert "missing required key 'file'" in messages


def test_missing_document_file(tmp_path):
    _manifest(tmp_path, "name: x\ndocuments:\n  - {id: d1, file: nope.txt, kind: interview}\n")
    with pytest.raises(CorpusError, match="document 'd1' points at missing file 'nope.txt'"):
        load_corpus(tmp_path)


def test_empty_corpus(tmp_path):
    _manifest(tmp_path, "name: x\ntables:\n  - {id: t, file: t.csv, kind: other, text_column: text}\n")
    write(tmp_path / "t.csv", "text\n")
    with pytest.raises(CorpusError, match="corpus has no text segments"):
        load_corpus(tmp_path)


def test_undecodable_document(tmp_path):
    _manifest(tmp_path, "name: x\ndocuments:\n  - {id: d1, file: d.txt, kind: interview}\n")
    write(tmp_path / "d.txt", b"Q: \x81\x8d\x00 binary")
    with pytest.raises(InputError, match="binary file, not text"):
        load_corpus(tmp_path)


def test_skip_bad_lists_bad_documents(tmp_path):
    _manifest(tmp_path, "name: x\ndocuments:\n  - {id: d1, file: d.txt, kind: interview}\n"
                        "  - {id: d2, file: e.txt, kind: interview}\n")
    write(tmp_path / "d.txt", b"\x00\x01")
    write(tmp_path / "e.txt", "Q: fine\n")
    c = load_corpus(tmp_path, skip_bad=True)
    assert c.segments["document_id"].tolist() == ["d2"]
    assert len(c.skipped) == 1 and "d.txt: binary file" in c.skipped[0]


def test_manifest_without_documents(tmp_path):
    path = _manifest(tmp_path, "name: x\n") / "manifest.yaml"
    with pytest.raises(SchemaError) as err:
        load_corpus(tmp_path)
    assert err.value.one_line() == (
        f"{path}: (top level): no documents or tables listed (list the transcripts under "
        "'documents:' or write a manifest with 'hcrisis corpus init')")


def test_registry_unknown_column(tmp_path):
    _manifest(tmp_path, "name: x\nparticipants: p.csv\ndocuments:\n  - {id: d1, file: d.txt, kind: interview}\n")
    write(tmp_path / "p.csv", "participant_id,age\nP1,40\n")
    write(tmp_path / "d.txt", "Q: x\n")
    with pytest.raises(CorpusError, match="unknown attribute column"):
        load_corpus(tmp_path)


def test_policy_document_is_split_by_paragraph(tmp_path):
    _manifest(tmp_path, "name: x\ndocuments:\n  - {id: d1, file: d.txt, kind: policy document}\n")
    write(tmp_path / "d.txt", "Summary: the review.\n\nNote: second paragraph.\n")
    seg = load_corpus(tmp_path).segments
    assert seg[["speaker", "text"]].values.tolist() == [
        ["", "Summary: the review."], ["", "Note: second paragraph."]]
