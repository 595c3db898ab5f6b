"""Transcript readers: every format becomes one `Transcript`.

A reader turns a file into canonical text (decoded, BOM removed, line ends
normalised to LF) plus speaker turns with character offsets into that text.
Because offsets refer to the canonical text, they are the same whether the
file was saved with CRLF or LF line ends. Every later stage reads only the
segments table built from these turns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from hcrisis.errors import InputError


@dataclass(frozen=True)
class Turn:
    """One speaker turn (or one paragraph when no speaker is marked).

    `start`/`end` delimit the turn's text (without its speaker label) in the
    transcript's canonical text; times are seconds from the start of the
    recording where the format has them.
    """

    speaker: str | None
    start: int
    end: int
    time_start: float | None = None
    time_end: float | None = None


@dataclass
class Transcript:
    path: str
    format: str
    text: str
    turns: list[Turn]

    def turn_text(self, turn: Turn) -> str:
        return self.text[turn.start:turn.end]


@dataclass(frozen=True)
class ReaderOptions:
    """Per-document reader settings from the manifest.

    `speaker_pattern` is a regular expression with a named group `speaker`,
    matched at the start of a line; None uses the reader's default.
    `paragraphs_only` turns speaker detection off (policy documents).
    `declared` labels (the manifest's speaker mappings) count even when they
    occur once or are written unusually.
    """

    speaker_pattern: str | None = None
    paragraphs_only: bool = False
    declared: tuple[str, ...] = ()
    max_bytes: int = 50 * 1024 * 1024
    extra: dict = field(default_factory=dict)


Reader = Callable[[Path, ReaderOptions], Transcript]
READERS: dict[str, Reader] = {}


def register(*formats: str) -> Callable[[Reader], Reader]:
    """Register a reader for file formats (extensions without the dot)."""
    def deco(fn: Reader) -> Reader:
        for fmt in formats:
            READERS[fmt] = fn
        return fn
    return deco


def detect_format(path: str | Path) -> str:
    return Path(path).suffix.lower().lstrip(".")


def read_transcript(path: str | Path, options: ReaderOptions | None = None,
                    fmt: str | None = None) -> Transcript:
    """Read a transcript in any supported format."""
    p = Path(path)
    fmt = (fmt or detect_format(p)).lower()
    if fmt == "doc":
        raise InputError("old Word .doc files cannot be read", path=p,
                         fix="open it in Word or LibreOffice and save it as .docx")
    formats = supported_formats()
    if fmt not in formats:
        raise InputError(f"unsupported transcript format '.{fmt}'", path=p,
                         fix=f"convert it to one of {', '.join('.' + f for f in formats)}")
    return READERS[fmt](p, options or ReaderOptions())


def supported_formats() -> list[str]:
    """The registered formats (extensions without the dot), sorted.

    Reader modules are imported here, lazily, so `hcrisis --help` stays fast;
    each registers itself on import.
    """
    from hcrisis.ingest.readers import captions, office, text  # noqa: F401
    return sorted(READERS)
