"""The .txt/.md transcript reader: speaker turns with exact offsets."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from hcrisis.errors import InputError
from hcrisis.ingest.readers import ReaderOptions, read_transcript
from hcrisis.ingest.readers.text import LabelFinder, paragraph_turns, parse_time, split_turns

from conftest import write

RX = LabelFinder()


@pytest.mark.parametrize("line,speaker", [
    ("Interviewer: hello", "Interviewer"),
    ("Q: hello", "Q"),
    ("A: hello", "A"),
    ("R: hello", "R"),
    ("P1: hello", "P1"),
    ("Speaker 2: hello", "Speaker 2"),
    ("[00:12:03] Jane Smith: hello", "Jane Smith"),
    ("interviewer: hello", "interviewer"),
    ("Interviewer1 : hello", "Interviewer1"),
    ("INT: hello", "INT"),
    ("R1: hello", "R1"),
    ("00:12:03 Speaker 1: hello", "Speaker 1"),
    ("**Interviewer:** hello", "Interviewer"),
])
def test_speaker_labels(line, speaker):
    turns = split_turns(line, RX)
    assert [(t.speaker, line[t.start:t.end]) for t in turns] == [(speaker, "hello")]


def test_sentence_with_colon_is_not_a_label():
    text = "Housing matters because of this: people first.\n"
    assert [t.speaker for t in split_turns(text, RX)] == [None]


def test_turn_offsets_exact():
    text = "Header line\n\nInterviewer: What skills?\nR: People skills.\nAnd housing.\n"
    turns = split_turns(text, RX)
    assert [(t.speaker, t.start, t.end) for t in turns] == [
        (None, 0, 11), ("Interviewer", 26, 38), ("R", 42, 69)]
    assert text[42:69] == "People skills.\nAnd housing."


def test_timestamp_kept():
    turns = split_turns("[00:12:03] Jane: hi\n[01:02:03.5] Bob: yo\n", RX)
    assert [t.time_start for t in turns] == [723.0, 3723.5]
    assert parse_time("12:03") == 723.0


def test_label_without_text_gives_no_turn():
    assert [t.speaker for t in split_turns("Q:\nA: yes\n", RX)] == ["A"]


def test_paragraphs_without_labels():
    text = "First para\nstill first.\n\n  \nSecond para."
    assert [(t.start, t.end) for t in paragraph_turns(text)] == [(0, 23), (28, 40)]


@pytest.mark.parametrize("raw", [
    b"Q: hi\nA: there\n",
    b"Q: hi\r\nA: there\r\n",
    b"\xef\xbb\xbfQ: hi\r\nA: there\r\n",
])
def test_offsets_stable_under_bom_and_crlf(tmp_path, raw):
    t = read_transcript(write(tmp_path / "t.txt", raw))
    assert t.text == "Q: hi\nA: there\n"
    assert [(x.speaker, x.start, x.end) for x in t.turns] == [("Q", 3, 5), ("A", 9, 14)]


def test_custom_pattern(tmp_path):
    p = write(tmp_path / "t.txt", "#ANNA hello\n#BOB there\n")
    t = read_transcript(p, ReaderOptions(speaker_pattern=r"^#(?P<speaker>[A-Z]+) "))
    assert [(x.speaker, t.turn_text(x)) for x in t.turns] == [("ANNA", "hello"), ("BOB", "there")]


def test_pattern_without_group_rejected(tmp_path):
    p = write(tmp_path / "t.txt", "x")
    with pytest.raises(InputError, match="no named group 'speaker'"):
        read_transcript(p, ReaderOptions(speaker_pattern=r"^\w+:"))


def test_empty_file_rejected(tmp_path):
    with pytest.raises(InputError, match="transcript is empty"):
        read_transcript(write(tmp_path / "t.txt", "\n\n"))


def test_unsupported_format(tmp_path):
    with pytest.raises(InputError, match=r"unsupported transcript format '\.xyz'"):
        read_transcript(write(tmp_path / "t.xyz", "x"))


@given(st.lists(st.tuples(st.sampled_from(["Q", "A", "Speaker 2", None]),
                          st.text(alphabet="abc .,\n", min_size=1, max_size=30)), max_size=8),
       st.booleans())
def test_property_turns_are_ordered_slices(parts, crlf):
    text = "".join(f"{s}: {t}\n" if s else f"{t}\n" for s, t in parts)
    if crlf:
        text = text.replace("\n", "\r\n")
    canonical = text.replace("\r\n", "\n")
    turns = split_turns(canonical, RX)
    ends = [0]
    for turn in turns:
        assert ends[-1] <= turn.start <= turn.end <= len(canonical)
        seg = canonical[turn.start:turn.end]
        assert seg == seg.strip() and seg
        ends.append(turn.end)


# Lines built like label lines (a time, a label, a separator, then text) and from
# loose pieces, so that several forms compete on a line and long lines carry
# inline labels.
_LEADS = ["", " ", "[00:12:03] ", "00:12:03 - ", "**", "(0:03) "]
_LABELS = ["Interviewer", "int", "Q", "R2", "Speaker 1", "Ann Lee (SL)", "Bob’s iPad", "Dr Jane Smith", "[id1]",
           "[inaudible]", "Note", "well then", "e.g.", ""]
_SEPARATORS = [":", ": ", "**: ", ":** ", "", " 0:03", " (00:00:05):", "  ", " 1/2:", "\t:"]
_PIECES = [*_LABELS, *_SEPARATORS, " ", "thanks.", "so", "Well,", "?", "x" * 390]
_ENDS = ["thanks.", "ok?", "(so)", "e.g.", "“yes”", "no!", "a, ", "[x]", "so: "]
_INLINE_PIECE = st.tuples(*(st.sampled_from(x) for x in (_ENDS, [" ", "  ", "\t", ""], _LABELS, _SEPARATORS,
                                                         ["", " Well", "x" * 60])))
_LINE = st.one_of(st.tuples(*(st.sampled_from(x) for x in (_LEADS, _LABELS, _SEPARATORS, _PIECES))).map("".join),
                  st.lists(st.sampled_from(_PIECES), max_size=8).map("".join),
                  # long lines (a transcript saved on one line) with labels after sentence ends
                  st.lists(_INLINE_PIECE.map("".join), max_size=12).map(lambda xs: "y " * 200 + "".join(xs)))


def _per_line(finder: LabelFinder, text: str):
    """The candidates as found one form and one line at a time (`LabelFinder.match`),
    inline labels looked behind at (the definition the one-regex scan must equal)."""
    import re

    from hcrisis.ingest.readers.text import _INLINE, LONG_LINE, Label

    inline = re.compile(r"(?<=[.?!…\"”)\]])" + _INLINE.pattern[len(r"[.?!…\"”)\]]"):])
    found, pos = [], 0
    for line in text.split("\n"):
        label = finder.match(line, pos)
        found += [label] if label is not None else []
        if len(line) > LONG_LINE:
            found += [Label(pos + m.start("speaker"), pos + m.end(), m.group("speaker"), form="inline")
                      for m in inline.finditer(line)]
        pos += len(line) + 1
    return found


@settings(max_examples=300)
@given(st.lists(_LINE, max_size=12).map("\n".join), st.sampled_from([(), ("Dr Jane Smith",), ("INT", "Bob’s iPad")]))
def test_property_one_scan_finds_what_each_form_per_line_finds(text, declared):
    finder = LabelFinder(declared=declared)
    assert finder.candidates(text) == _per_line(finder, text)
