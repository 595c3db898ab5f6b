"""Readers for .docx, .odt, .pdf, .vtt, .srt and the shared decoding rules.

Every fixture is written by the test itself; expected turns and offsets are
literal and hand-checked against the canonical text.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from hcrisis.errors import InputError
from hcrisis.ingest.readers import ReaderOptions, read_transcript
from hcrisis.ingest.readers.blocks import row_block
from hcrisis.ingest.readers.office import bold_label

from conftest import write
from formats import SRT, TEAMS_VTT, make_docx, make_odt, make_pdf


def turns(t):
    return [(x.speaker, t.turn_text(x), x.time_start, x.time_end) for x in t.turns]


def spans(t):
    return [(x.speaker, x.start, x.end) for x in t.turns]


# --- captions ---------------------------------------------------------------

def test_teams_vtt_voice_tags_merged_with_times(tmp_path):
    t = read_transcript(write(tmp_path / "fg.vtt", TEAMS_VTT))
    assert t.format == "vtt"
    assert t.text == ("Jane Smith: Thanks for joining, everyone.\nShall we start?\n"
                      "What skills matter most?\n\nBob Jones: Communication & knowing the numbers."
                      "\n\nAnn Lee: Resilience.")
    assert turns(t) == [
        ("Jane Smith", "Thanks for joining, everyone.\nShall we start?\nWhat skills matter most?",
         1.0, 5.25),
        ("Bob Jones", "Communication & knowing the numbers.", 5.9, 9.0),
        ("Ann Lee", "Resilience.", 9.1, 11.0),
    ]
    assert spans(t) == [("Jane Smith", 12, 82), ("Bob Jones", 95, 131), ("Ann Lee", 142, 153)]


def test_vtt_with_bom_and_crlf_reads_the_same(tmp_path):
    lf = read_transcript(write(tmp_path / "lf.vtt", TEAMS_VTT))
    crlf = read_transcript(write(tmp_path / "crlf.vtt",
                                 b"\xef\xbb\xbf" + TEAMS_VTT.replace("\n", "\r\n").encode()))
    assert (crlf.text, crlf.turns) == (lf.text, lf.turns)


def test_zoom_vtt_name_prefixes_and_unlabelled_cue_continues(tmp_path):
    vtt = ("WEBVTT\n\n1\n00:00:00.000 --> 00:00:02.000\nJane Smith: Hello.\n\n"
           "2\n00:00:02.000 --> 00:00:03.000\nstill Jane.\n\n"
           "3\n00:00:03.000 --> 00:00:04.000\nBob: Hi.\n\n"
           "4\n00:00:04.000 --> 00:00:05.000\nJane Smith: Welcome.\n\n"
           "5\n00:00:05.000 --> 00:00:06.000\nBob: Thanks.\n")
    t = read_transcript(write(tmp_path / "z.vtt", vtt))
    assert turns(t) == [("Jane Smith", "Hello.\nstill Jane.", 0.0, 3.0), ("Bob", "Hi.", 3.0, 4.0),
                        ("Jane Smith", "Welcome.", 4.0, 5.0), ("Bob", "Thanks.", 5.0, 6.0)]


def test_vtt_without_speakers_one_turn_per_cue(tmp_path):
    vtt = ("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nfirst cue\n\n"
           "00:00:01.000 --> 00:00:02.000\n<v >second cue</v>\n")
    t = read_transcript(write(tmp_path / "n.vtt", vtt))
    assert turns(t) == [(None, "first cue", 0.0, 1.0), (None, "second cue", 1.0, 2.0)]


def test_srt_prefixes_tags_and_continuation(tmp_path):
    t = read_transcript(write(tmp_path / "a.srt", SRT))
    assert t.text == "Interviewer: What skills?\n\nR: People skills.\nAnd the numbers."
    assert turns(t) == [("Interviewer", "What skills?", 1.0, 2.5),
                        ("R", "People skills.\nAnd the numbers.", 3.0, 6.0)]
    assert spans(t) == [("Interviewer", 13, 25), ("R", 30, 61)]


def test_cue_ending_before_it_starts(tmp_path):
    p = write(tmp_path / "b.srt", "1\n00:00:05,000 --> 00:00:01,000\nR: hi\n")
    with pytest.raises(InputError) as err:
        read_transcript(p)
    assert err.value.one_line() == f"{p}: cue 1 ends before it starts (fix the cue's timing line)"


def test_vtt_cue_with_malformed_timing_is_not_dropped(tmp_path):
    p = write(tmp_path / "bad.vtt", "WEBVTT\n\n00:00:xx.000 --> 00:00:01.000\nlost\n\n"
                                    "00:00:01.000 --> 00:00:02.000\nkept\n")
    with pytest.raises(InputError) as err:
        read_transcript(p)
    assert err.value.one_line() == (f"{p}: 1 of 2 cues have malformed timing lines"
                                    " (fix the timing lines (hh:mm:ss.ttt --> hh:mm:ss.ttt))")


@pytest.mark.parametrize("name,content", [
    ("bad.vtt", "not a caption file\n"),
    ("bad.srt", "1\n00:00:01 -> nonsense\nhi\n"),
])
def test_malformed_captions(tmp_path, name, content):
    with pytest.raises(InputError, match=r"not a readable \.(vtt|srt) file"):
        read_transcript(write(tmp_path / name, content))


# --- docx -------------------------------------------------------------------

def test_docx_bold_labels_prefixes_and_table(tmp_path):
    p = make_docx(tmp_path / "int.docx", [
        [("Interviewer:", True), (" What skills?", False)],
        [("Jane Smith", True), ("\tPeople skills.", False)],
        "And numbers.",
        [("R", True), (": Bold then colon.", False)],
        "P2: Prefix label.",
        [("Important", True), (" is emphasis.", False)],
    ], table=[("Speaker", "Text"), ("Interviewer", "Table question?"), ("P1", "Table answer.")])
    t = read_transcript(p)
    assert "CONFIDENTIAL" not in t.text and "Page 1" not in t.text  # header/footer ignored
    assert turns(t) == [
        ("Interviewer", "What skills?", None, None),
        ("Jane Smith", "People skills.\n\nAnd numbers.", None, None),
        ("R", "Bold then colon.", None, None),
        ("P2", "Prefix label.\n\nImportant is emphasis.", None, None),
        ("Interviewer", "Table question?", None, None),
        ("P1", "Table answer.", None, None),
    ]
    assert spans(t) == [("Interviewer", 13, 25), ("Jane Smith", 38, 66), ("R", 71, 87),
                        ("P2", 93, 130), ("Interviewer", 145, 160), ("P1", 166, 179)]


def test_docx_two_column_table_of_turns(tmp_path):
    p = make_docx(tmp_path / "t.docx", ["Focus group 3"], table=[
        ("Speaker", "Transcript"), ("Moderator", "Welcome, all."), ("Jane Smith", "Hello."),
        ("Jane Smith", "Second row."), ("", "")])
    t = read_transcript(p)
    assert t.text == ("Focus group 3\n\nModerator: Welcome, all.\n\nJane Smith: Hello.\n\n"
                      "Jane Smith: Second row.")
    assert spans(t) == [(None, 0, 13), ("Moderator", 26, 39), ("Jane Smith", 53, 59),
                        ("Jane Smith", 73, 84)]


def test_docx_table_with_time_column(tmp_path):
    p = make_docx(tmp_path / "t.docx", [], table=[("00:01:02", "Moderator", "Welcome."),
                                                   ("[01:09]", "P1", "Hello.")])
    assert turns(read_transcript(p)) == [("Moderator", "Welcome.", 62.0, None),
                                         ("P1", "Hello.", 69.0, None)]


def test_docx_paragraphs_only(tmp_path):
    p = make_docx(tmp_path / "policy.docx", ["Note: a sentence.", "Second paragraph."])
    t = read_transcript(p, ReaderOptions(paragraphs_only=True))
    assert turns(t) == [(None, "Note: a sentence.", None, None),
                        (None, "Second paragraph.", None, None)]


@pytest.mark.parametrize("text,bold,expected", [
    ("Jane: hi", "Jane:", ("Jane", 5)),
    ("Jane : hi", "Jane", ("Jane", 6)),
    ("Jane\thi", "Jane", ("Jane", 4)),
    ("Jane hi", "Jane", None),                     # emphasis, not a label
    ("Interviewer:", "Interviewer:", ("Interviewer", 12)),
    (":", ":", None),                              # empty label
    ("A very long bold opening sentence that is no name: x", "A very long bold opening sentence that is no name:", None),
])
def test_bold_label(text, bold, expected):
    assert bold_label(text, bold) == expected


def test_row_block_header_and_plain_rows():
    assert row_block(["Speaker", "Text"]) is None
    assert row_block(["only one cell"]).explicit is False
    b = row_block(["", "nobody named"])
    assert (b.speaker, b.explicit, b.text) == (None, True, "nobody named")


# --- odt and pdf --------------------------------------------------------------

def test_odt_paragraphs_heading_and_table(tmp_path):
    p = make_odt(tmp_path / "a.odt", ["Interviewer: Hello?", "P1: Yes.", "More."],
                 heading="Interview 3", table=[("P2", "From a table.")])
    t = read_transcript(p)
    assert t.text == "Interview 3\n\nInterviewer: Hello?\n\nP1: Yes.\n\nMore.\n\nP2: From a table."
    assert spans(t) == [(None, 0, 11), ("Interviewer", 26, 32), ("P1", 38, 49), ("P2", 55, 68)]


def test_pdf_text_layer_turns_across_pages(tmp_path):
    p = write(tmp_path / "a.pdf", make_pdf([["Interviewer: What skills?", "R: People skills",
                                             "and numbers."], ["continued.", "Interviewer: Thanks."]]))
    t = read_transcript(p)
    assert turns(t) == [("Interviewer", "What skills?", None, None),
                        ("R", "People skills\nand numbers.\n\ncontinued.", None, None),
                        ("Interviewer", "Thanks.", None, None)]


def test_pdf_without_text_layer(tmp_path):
    p = write(tmp_path / "scan.pdf", make_pdf([[]]))
    with pytest.raises(InputError, match="no text layer"):
        read_transcript(p)


# --- timestamps in text -------------------------------------------------------

def test_timestamp_then_label_without_colon(tmp_path):
    p = write(tmp_path / "otter.txt",
              "00:12:03 Speaker 1\nHello there.\n\n00:12:09 Speaker 2\nHi.\n10:30 we met at noon\n")
    assert turns(read_transcript(p)) == [("Speaker 1", "Hello there.", 723.0, None),
                                         ("Speaker 2", "Hi.\n10:30 we met at noon", 729.0, None)]


# --- encodings and robustness -----------------------------------------------------

@pytest.mark.parametrize("data", [
    "R: café – naïve\r\n".encode("utf-8"),
    b"\xef\xbb\xbf" + "R: café – naïve\n".encode("utf-8"),
    b"\xff\xfe" + "R: café – naïve\r\n".encode("utf-16-le"),
    b"\xfe\xff" + "R: café – naïve\n".encode("utf-16-be"),
    "R: café – naïve\n".encode("cp1252"),
])
def test_encodings_give_the_same_text(tmp_path, data):
    t = read_transcript(write(tmp_path / "e.txt", data))
    assert t.text.rstrip("\n") == "R: café – naïve"
    assert turns(t) == [("R", "café – naïve", None, None)]


@pytest.mark.parametrize("data,message", [
    (b"\xff\xfe\x00\x00R\x00\x00\x00", "UTF-32 text is not supported (re-save the file as UTF-8)"),
    (b"R: hi\x00\x01\x02", "binary file, not text (or UTF-16 without a byte-order mark)"
                           " (export the transcript as .txt, .docx, .odt, .pdf, .vtt or .srt)"),
    (b"R: \x81\x8d bad", "undecodable bytes at byte 3 (not UTF-8, UTF-16 or Windows-1252)"
                         " (re-save the file as UTF-8)"),
    (b"%PDF-1.4 rest", "this is a PDF file (.pdf), not a text file"
                       " (give the file its right extension or set 'format' in the manifest)"),
])
def test_undecodable_text_rejected(tmp_path, data, message):
    p = write(tmp_path / "x.txt", data)
    with pytest.raises(InputError) as err:
        read_transcript(p)
    assert err.value.one_line() == f"{p}: {message}"


def test_docx_saved_as_txt_and_text_saved_as_docx(tmp_path):
    docx_bytes = make_docx(tmp_path / "a.docx", ["R: hi"]).read_bytes()
    with pytest.raises(InputError, match=r"this is a zip archive \(\.docx or \.odt\)"):
        read_transcript(write(tmp_path / "wrong.txt", docx_bytes))
    with pytest.raises(InputError, match=r"not a \.docx file \(not a zip archive\)"):
        read_transcript(write(tmp_path / "wrong.docx", "R: hi\n"))
    # the manifest's `format` overrides the extension
    assert turns(read_transcript(tmp_path / "wrong.txt", fmt="docx")) == [("R", "hi", None, None)]


def test_file_over_size_limit(tmp_path):
    p = write(tmp_path / "big.vtt", "WEBVTT\n\n" + "x" * 200)
    with pytest.raises(InputError) as err:
        read_transcript(p, ReaderOptions(max_bytes=100))
    assert err.value.one_line() == (f"{p}: file is 208 bytes, over the limit of 100 bytes"
                                    " (split the file or raise the size limit)")


def _zip(path: Path, entries: dict[str, bytes]) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    path.write_bytes(buf.getvalue())
    return path


def test_zip_bomb_ratio_rejected_before_parsing(tmp_path):
    p = _zip(tmp_path / "bomb.docx", {"word/document.xml": b"\0" * (8 << 20)})
    with pytest.raises(InputError, match=r"archive expands \d+-fold, over the limit of 100 \(possible zip bomb\)"):
        read_transcript(p)


def test_zip_bomb_size_and_entries_rejected(tmp_path):
    p = _zip(tmp_path / "big.odt", {"content.xml": b"x" * 5000})
    with pytest.raises(InputError, match="archive expands to 5000 bytes, over the limit of 4000 bytes"):
        read_transcript(p, ReaderOptions(max_bytes=4000))
    many = _zip(tmp_path / "many.docx", {f"f{i}.xml": b"" for i in range(2001)})
    with pytest.raises(InputError, match="archive has 2001 entries, over the limit of 2000"):
        read_transcript(many)


def test_zip_that_is_not_a_document(tmp_path):
    p = _zip(tmp_path / "other.docx", {"hello.txt": b"hi"})
    with pytest.raises(InputError, match=r"not a readable \.docx file"):
        read_transcript(p)


def test_unsupported_format(tmp_path):
    with pytest.raises(InputError, match=r"unsupported transcript format '\.rtf'"):
        read_transcript(write(tmp_path / "a.rtf", "x"))
