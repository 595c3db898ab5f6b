"""Character positions in REFI-QDA text sources.

REFI-QDA counts a text selection's `startPosition`/`endPosition` in Unicode
code points from 0 (REFI-QDA 1.5, section 10.2), as Python's `str` does;
NVivo counts UTF-16 code units, which differ after any character outside the
Basic Multilingual Plane (an emoji is one code point and two UTF-16 units).
hcrisis's own offsets are code points into a document's canonical text
(LF line ends), so an imported source saved with CRLF has its positions
moved back by the CRs before them.
"""

from __future__ import annotations

import re

import numpy as np

MODES = ("codepoints", "utf16")


def _unit_ends(text: str) -> np.ndarray:
    """UTF-16 offset of every code-point boundary of `text` (length len(text) + 1)."""
    wide = np.frombuffer(text.encode("utf-32-le"), dtype="<u4") > 0xFFFF
    return np.concatenate(([0], np.cumsum(wide.astype(np.int64) + 1)))


def length(text: str, mode: str) -> int:
    """The text's length in `mode`'s units."""
    return len(text) if mode == "codepoints" else len(text.encode("utf-16-le")) // 2


def to_units(offsets: list[int], text: str, mode: str) -> list[int]:
    """Code-point offsets into `text` as `mode` units (for export)."""
    if mode == "codepoints":
        return list(offsets)
    ends = _unit_ends(text)
    return [int(ends[o]) for o in offsets]


def from_units(offsets: list[int], text: str, mode: str) -> list[int | None]:
    """`mode` offsets into `text` as code points; None for one outside the text or
    inside a surrogate pair (between the two halves of an emoji)."""
    n = length(text, mode)
    if mode == "codepoints":
        return [o if 0 <= o <= n else None for o in offsets]
    ends = _unit_ends(text)
    out: list[int | None] = []
    for o in offsets:
        cp = int(np.searchsorted(ends, o))
        out.append(cp if 0 <= o <= n and ends[cp] == o else None)
    return out


def lf_offsets(offsets: list[int], raw: str) -> list[int]:
    """Offsets into `raw` (which may hold CRLF) as offsets into its LF-normalised text."""
    if "\r\n" not in raw:
        return list(offsets)
    crs = np.array([m.start() for m in re.finditer("\r\n", raw)], dtype=np.int64)
    return [o - int(np.searchsorted(crs, o)) for o in offsets]
