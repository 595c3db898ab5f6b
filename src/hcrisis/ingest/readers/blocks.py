"""Structured transcripts (docx, odt, pdf, captions) laid out as canonical text.

Structured readers yield `Block`s — paragraphs, table rows, merged caption
cues — and `assemble` writes them one per paragraph, separated by a blank
line, so the canonical text reads like a .txt transcript and paragraph-only
documents split exactly as text files do. A block with an explicit speaker
(bold label, table cell, voice tag) starts a turn; other blocks are scanned
for speaker-label lines as .txt files are (a label must recur in the
document, be a role label or be declared), and a block without a label
continues the current turn.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from hcrisis.errors import HcrisisError, InputError
from hcrisis.ingest.readers import ReaderOptions, Transcript
from hcrisis.ingest.readers.decode import normalise_newlines
from hcrisis.ingest.readers.text import Label, finder_for, paragraph_turns, parse_time, turns_from_labels

# A speaker label in a bold run or table cell: a short name on one line.
MAX_LABEL_CHARS = 60
MAX_LABEL_WORDS = 6
TIMESTAMP = re.compile(r"\[?(\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?)\]?")
# Header rows of turn tables ("Speaker | Text") carry no turn.
_HEADER_CELLS = {"", "speaker", "name", "text", "transcript", "time", "timestamp",
                 "utterance", "content", "dialogue"}


@dataclass(frozen=True)
class Block:
    """One paragraph of canonical text.

    `explicit` blocks start a turn whose text begins at offset `body` of the
    block (after the label); their `speaker` may be None for a cue or row
    that names nobody.
    """

    text: str
    speaker: str | None = None
    explicit: bool = False
    body: int = 0
    time_start: float | None = None
    time_end: float | None = None

    @classmethod
    def turn(cls, speaker: str | None, content: str, time_start: float | None = None,
             time_end: float | None = None) -> "Block":
        """A turn written as `Speaker: content` (or just `content`)."""
        prefix = f"{speaker}: " if speaker else ""
        return cls(prefix + content, speaker, True, len(prefix), time_start, time_end)


def is_label(value: str) -> bool:
    return (0 < len(value) <= MAX_LABEL_CHARS and len(value.split()) <= MAX_LABEL_WORDS
            and "\n" not in value)


def row_block(cells: Iterable[str]) -> Block | None:
    """A table row of turns: `speaker | text`, optionally with a time cell."""
    cells = [normalise_newlines(c).strip() for c in cells]
    if all(c.lower().rstrip(":") in _HEADER_CELLS for c in cells):
        return None
    times = [m.group(1) for c in cells if (m := TIMESTAMP.fullmatch(c))]
    rest = [c for c in cells if not TIMESTAMP.fullmatch(c)]
    if len(rest) < 2 or not (rest[0] == "" or is_label(rest[0])):
        return Block("\n".join(c for c in rest if c))
    content = "\n".join(c for c in rest[1:] if c)
    return Block.turn(rest[0].rstrip(":").strip() or None, content,
                      parse_time(times[0]) if times else None)


def assemble(path: Path, fmt: str, blocks: Iterable[Block | None],
             options: ReaderOptions) -> Transcript:
    """Lay blocks out as canonical text and split it into turns."""
    finder = finder_for(options, path)
    parts: list[str] = []
    labels: list[Label] = []
    pos = 0
    for block in blocks:
        if block is None or not (block.text.strip() or block.explicit):
            continue
        if parts:
            pos += 2
        parts.append(block.text)
        if block.explicit:
            labels.append(Label(pos, pos + block.body, block.speaker, block.time_start,
                                block.time_end))
        elif finder is not None:
            labels += [Label(lab.start + pos, lab.body + pos, lab.speaker, lab.time_start, None, lab.form)
                       for lab in finder.candidates(block.text)]
        pos += len(block.text)
    text = "\n\n".join(parts)
    turns = paragraph_turns(text) if finder is None else turns_from_labels(text, finder.keep(labels))
    if not turns:
        raise InputError("transcript is empty", path=path, fix="check that the file has text")
    return Transcript(str(path), fmt, text, turns)


@contextlib.contextmanager
def parsing(path: Path, fmt: str) -> Iterator[None]:
    """Turn any failure of a third-party parser on a bad file into one InputError.

    python-docx, odfpy, pypdf, webvtt-py and pysrt raise many exception types
    on malformed input (zip, XML, PDF syntax, cue timing errors); the user only
    needs to know the file is not a readable document of that format.
    """
    try:
        yield
    except HcrisisError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser failure means a bad file
        detail = (str(exc).splitlines() or [""])[0][:120]
        raise InputError(f"not a readable .{fmt} file ({type(exc).__name__}: {detail})",
                         path=path, fix="open and re-save it, or export it as .txt") from None
