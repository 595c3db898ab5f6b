"""Plain-text and Markdown transcripts with speaker-turn lines.

Recognised by default at the start of a line: `Interviewer:`, `Q:`/`A:`,
`R:`, `P1:`, `Speaker 2:`, `Dr Jane Smith:`, `[00:12:03] Name:`,
`00:12:03 Speaker 1:` (or `00:12:03 Speaker 1` alone on its line). Lines
without a label continue the current turn; a file with no labels at all
becomes one turn per paragraph.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from hcrisis.errors import InputError
from hcrisis.files import read_bytes
from hcrisis.ingest.readers import ReaderOptions, Transcript, Turn, register
from hcrisis.ingest.readers.decode import decode_text
from hcrisis.saferegex import UserRegex

_TIME = r"(?:\[?(?P<time>\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?)\]?\s+)?"
# A label is one to four capitalised words or a short code such as P1 or Q
# on one line, followed by a colon; markdown bold (**Name:**) is tolerated.
_LABEL = (r"(?P<speaker>(?:[A-Z][\w'’.\-]*|[A-Z]{1,3}\d{0,3})"
          r"(?:[ \t](?:[A-Z][\w'’.\-]*|\d{1,3})){0,3})")
# After a timestamp the colon is optional when the label ends the line
# (`00:12:03 Speaker 1` above the turn's text).
DEFAULT_PATTERN = (rf"^[ \t]*(?:\*\*)?{_TIME}{_LABEL}"
                   r"(?:[ \t]*(?:\*\*)?:(?:\*\*)?[ \t]*|(?(time)[ \t]*$|(?!)))")


def parse_time(value: str | None) -> float | None:
    if not value:
        return None
    parts = value.replace(",", ".").split(":")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return seconds


_DEFAULT_RX = re.compile(DEFAULT_PATTERN, re.MULTILINE)


def compile_pattern(pattern: str | None, path: Path) -> re.Pattern[str] | UserRegex:
    """The default label pattern, or the manifest's run under `hcrisis.saferegex`'s guarantee."""
    if pattern is None:
        return _DEFAULT_RX
    try:
        rx = UserRegex(pattern, "speaker pattern", path, re.MULTILINE)
    except re.error as exc:
        raise InputError(f"invalid speaker pattern: {exc}", path=path,
                         fix="fix speakers.pattern in the manifest") from None
    if "speaker" not in rx.groupindex:
        raise InputError("speaker pattern has no named group 'speaker'", path=path,
                         fix="use (?P<speaker>...) in speakers.pattern")
    return rx


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


@dataclass(frozen=True)
class Label:
    """A speaker label at `start`; the turn's text begins at `body`.

    Structured readers (docx tables, caption cues) build labels directly;
    `speaker` may be None for a turn boundary without a speaker.
    """

    start: int
    body: int
    speaker: str | None
    time_start: float | None = None
    time_end: float | None = None


def find_labels(text: str, rx: re.Pattern[str] | UserRegex) -> list[Label]:
    """Speaker labels matched by `rx` at the start of a line."""
    return [Label(m.start(), m.end(), (m.group("speaker") or "").strip() or None,
                  parse_time(m.groupdict().get("time")))
            for m in rx.finditer(text) if m.start() == 0 or text[m.start() - 1] == "\n"]


def turns_from_labels(text: str, labels: list[Label]) -> list[Turn]:
    """Each label's turn runs to the next label; text before the first is paragraphs."""
    if not labels:
        return paragraph_turns(text)
    turns = paragraph_turns(text[:labels[0].start])
    for i, lab in enumerate(labels):
        stop = labels[i + 1].start if i + 1 < len(labels) else len(text)
        s, e = _trim(text, lab.body, stop)
        if e == s:  # a label with nothing said
            continue
        turns.append(Turn(lab.speaker, s, e, lab.time_start, lab.time_end))
    return turns


def split_turns(text: str, rx: re.Pattern[str] | UserRegex) -> list[Turn]:
    """Split canonical text into turns at speaker-label lines."""
    return turns_from_labels(text, find_labels(text, rx))


# A newline that ends a paragraph: the next line is blank (spaces and tabs at most).
_PARAGRAPH_END = re.compile(r"\n(?=[ \t]*\n)")


def paragraph_turns(text: str, offset: int = 0) -> list[Turn]:
    """One turn per blank-line-separated paragraph, without speaker.

    The text is cut at paragraph ends rather than matched paragraph by
    paragraph: a regex repeating an alternation per character kept a
    backtracking frame per character (about 120 bytes each), so a 48 MB
    transcript without labels ran out of memory.
    """
    turns, start = [], 0
    ends = [m.start() for m in _PARAGRAPH_END.finditer(text)] + [len(text)]
    for end in ends:
        s, e = _trim(text, start, end)
        if e > s:
            turns.append(Turn(None, s + offset, e + offset))
        start = end + 1
    return turns


@register("txt", "md", "text")
def read_text(path: Path, options: ReaderOptions) -> Transcript:
    text = decode_text(read_bytes(path, options.max_bytes), path)
    if options.paragraphs_only:
        turns = paragraph_turns(text)
    else:
        turns = split_turns(text, compile_pattern(options.speaker_pattern, path))
    if not turns:
        raise InputError("transcript is empty", path=path, fix="check that the file has text")
    return Transcript(str(path), path.suffix.lower().lstrip("."), text, turns)
