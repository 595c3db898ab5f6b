"""Plain-text and Markdown transcripts with speaker-turn lines.

Recognised by default at the start of a line: `Interviewer:`, `Q:`/`A:`,
`R:`, `P1:`, `Speaker 2:`, `Dr Jane Smith:`, `[00:12:03] Name:`,
`00:12:03 Speaker 1:`. Lines without a label continue the current turn; a
file with no labels at all becomes one turn per paragraph.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import InputError
from ..io import read_bytes
from . import ReaderOptions, Transcript, Turn, register
from .decode import decode_text

_TIME = r"(?:\[?(?P<time>\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?)\]?\s+)?"
# A label is one to four capitalised words or a short code such as P1 or Q,
# followed by a colon; markdown bold (**Name:**) is tolerated.
_LABEL = (r"(?P<speaker>(?:[A-Z][\w'’.\-]*|[A-Z]{1,3}\d{0,3})"
          r"(?:\s(?:[A-Z][\w'’.\-]*|\d{1,3})){0,3})")
DEFAULT_PATTERN = rf"^[ \t]*(?:\*\*)?{_TIME}{_LABEL}\s*(?:\*\*)?:(?:\*\*)?[ \t]*"


def parse_time(value: str | None) -> float | None:
    if not value:
        return None
    parts = value.replace(",", ".").split(":")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return seconds


def compile_pattern(pattern: str | None, path: Path) -> re.Pattern[str]:
    source = pattern or DEFAULT_PATTERN
    try:
        rx = re.compile(source, re.MULTILINE)
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


def split_turns(text: str, rx: re.Pattern[str]) -> list[Turn]:
    """Split canonical text into turns at speaker-label lines."""
    starts = [m for m in rx.finditer(text) if m.start() == 0 or text[m.start() - 1] == "\n"]
    if not starts:
        return paragraph_turns(text)
    turns = paragraph_turns(text[:starts[0].start()])
    for i, m in enumerate(starts):
        stop = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        s, e = _trim(text, m.end(), stop)
        if e == s:  # a label with nothing said
            continue
        groups = m.groupdict()
        speaker = groups["speaker"].strip()
        turns.append(Turn(speaker or None, s, e, parse_time(groups.get("time"))))
    return turns


def paragraph_turns(text: str, offset: int = 0) -> list[Turn]:
    """One turn per blank-line-separated paragraph, without speaker."""
    turns = []
    for m in re.finditer(r"\S(?:.|\n(?![ \t]*\n))*", text):
        s, e = _trim(text, m.start(), m.end())
        if e > s:
            turns.append(Turn(None, s + offset, e + offset))
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
