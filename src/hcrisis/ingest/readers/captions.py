"""Caption files (.vtt, .srt) as speaker turns with times.

Teams WebVTT marks speakers with voice tags (`<v Jane Smith>`), Zoom and
most .srt exports with a `Name:` prefix (found as in .txt files, display
names with brackets, apostrophes and device names included). Each cue's
speaker is resolved, a cue naming nobody continues the previous speaker,
and consecutive cues of one speaker are merged into one turn that runs from
the first cue's start to the last cue's end.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, replace
from pathlib import Path

from hcrisis.errors import InputError
from hcrisis.files import read_bytes
from hcrisis.ingest.readers import ReaderOptions, Transcript, register
from hcrisis.ingest.readers.blocks import Block, assemble, parsing
from hcrisis.ingest.readers.decode import decode_text
from hcrisis.ingest.readers.text import Label, finder_for, parse_time

_TAG = re.compile(r"</?[A-Za-z][^>]*>|\{\\[^}]*\}")  # leftover markup: <i>, <c.x>, {\an8}


@dataclass
class Cue:
    where: str          # cue id or number, for error messages
    start: float
    end: float
    text: str
    speaker: str | None = None


@register("vtt")
def read_vtt(path: Path, options: ReaderOptions) -> Transcript:
    text = decode_text(read_bytes(path, options.max_bytes), path)
    with parsing(path, "vtt"):
        import webvtt

        cues = [Cue(c.identifier or str(i), parse_time(c.start), parse_time(c.end), c.text, c.voice)
                for i, c in enumerate(webvtt.from_string(text), 1)]
    # webvtt-py drops cues it cannot parse; a lost cue is lost data.
    timings = sum("-->" in line for line in text.split("\n"))
    if timings != len(cues):
        raise InputError(f"{timings - len(cues)} of {timings} cues have malformed timing lines",
                         path=path, fix="fix the timing lines (hh:mm:ss.ttt --> hh:mm:ss.ttt)")
    return cue_transcript(path, "vtt", cues, options)


@register("srt")
def read_srt(path: Path, options: ReaderOptions) -> Transcript:
    text = decode_text(read_bytes(path, options.max_bytes), path)
    with parsing(path, "srt"):
        import pysrt

        cues = [Cue(str(s.index), s.start.ordinal / 1000, s.end.ordinal / 1000, s.text)
                for s in pysrt.from_string(text, error_handling=pysrt.ERROR_RAISE)]
    return cue_transcript(path, "srt", cues, options)


def cue_transcript(path: Path, fmt: str, cues: list[Cue], options: ReaderOptions) -> Transcript:
    """Resolve speakers, merge consecutive cues of one speaker, assemble the turns.

    A `Name:` prefix counts as in .txt files (it recurs in the file, is a role
    label or is declared); a cue without one continues the previous speaker,
    as Zoom writes a long turn over several cues.
    """
    finder = finder_for(options, path)
    bodies: list[str] = []
    found: list[Label] = []
    for cue in cues:
        if cue.end < cue.start:
            raise InputError(f"cue {cue.where} ends before it starts", path=path,
                             fix="fix the cue's timing line")
        body = html.unescape(_TAG.sub("", cue.text)).strip()
        if finder is not None and not (cue.speaker or "").strip():
            # numbered by cue (start = cue index) so the kept ones can be told apart
            label = finder.match(body.split("\n", 1)[0])
            found += [replace(label, start=len(bodies))] if label else []
        bodies.append(body)
    kept = {lab.start: lab for lab in finder.keep(found)} if finder is not None else {}
    merged: list[Cue] = []
    for i, (cue, body) in enumerate(zip(cues, bodies)):
        speaker = (cue.speaker or "").strip() or None
        if i in kept:
            speaker, body = kept[i].speaker, body[kept[i].body:].strip()
        if not body:
            continue
        if speaker is None and finder is not None and merged:
            speaker = merged[-1].speaker
        if merged and speaker is not None and merged[-1].speaker == speaker:
            last = merged[-1]
            last.text, last.end = f"{last.text}\n{body}", max(last.end, cue.end)
        else:
            merged.append(Cue(cue.where, cue.start, cue.end, body, speaker))
    blocks = [Block.turn(c.speaker, c.text, c.start, c.end) for c in merged]
    return assemble(path, fmt, blocks, options)
