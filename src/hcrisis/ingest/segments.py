"""Segments: named slices of a corpus's segments table, selected by attribute values.

A segment (e.g. "local authority interviews") keeps the rows whose attribute
columns hold one of the wanted values; interviewer turns are left out unless
`include_interviewer` is set or the segment selects on `is_interviewer`
itself (`where: {is_interviewer: true}` is the interviewer's turns). Studies
declare segments by id; commands make them from `--where ATTR=VALUE` or
`--by ATTR` (`select`).

Every selection is checked against the corpus before anything is counted
(`check_segments`): an attribute that is not declared, a value that matches
nothing, or a segment with no words is an error naming the segment, the
attribute and the values that exist.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from hcrisis.errors import InputError
from hcrisis.ingest.corpus import SEGMENT_COLUMNS

INTERVIEWER_COLUMN = "is_interviewer"
# Columns of every segments table that a selection may name besides the
# corpus's declared attributes.
SELECTABLE = ("document_id", "kind", "participant_id", "speaker", INTERVIEWER_COLUMN, "speaker_role", "language")
TRUE, FALSE = ("true", "yes", "1"), ("false", "no", "0")
SHOWN_VALUES = 12   # values listed in an error message
_WORD = re.compile(r"\w")


@dataclass(frozen=True)
class Segment:
    """A named slice of the segments table (e.g. the thesis's Figure 5.2)."""

    id: str
    label: str
    where: dict[str, Any] = field(default_factory=dict)
    figure: str | None = None
    section: str | None = None
    include_interviewer: bool = False

    def mask(self, segments: pd.DataFrame) -> np.ndarray:
        """Boolean mask of the rows of `segments` in this segment."""
        keep = np.ones(len(segments), dtype=bool)
        if not (self.include_interviewer or INTERVIEWER_COLUMN in self.where) and INTERVIEWER_COLUMN in segments:
            keep &= ~segments[INTERVIEWER_COLUMN].to_numpy(dtype=bool)
        for column, wanted in self.where.items():
            keep &= _matches(segments[column], _values(wanted))
        return keep

    def describe(self) -> str:
        """The selection in words: `sector = ALMO or HA; role = nurse`."""
        return describe(self.where)


ALL = Segment("all", "All participants")


def describe(where: dict[str, Any]) -> str:
    """Attribute conditions in words: `sector = ALMO or HA; role = nurse`."""
    return "; ".join(f"{c} = {' or '.join(map(str, _values(v)))}" for c, v in where.items()) \
        or "every participant turn"


def _values(wanted: Any) -> list:
    return list(wanted) if isinstance(wanted, (list, tuple)) else [wanted]


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    return True if text in TRUE else False if text in FALSE else None


def _matches(column: pd.Series, values: list) -> np.ndarray:
    """Rows of `column` holding one of `values` (booleans for a boolean column)."""
    if column.dtype == bool:
        wanted = {_as_bool(v) for v in values}
        return column.isin([w for w in wanted if w is not None]).to_numpy()
    strings = column if column.dtype != object and pd.api.types.is_string_dtype(column) else column.astype(str)
    return strings.isin([str(v) for v in values]).to_numpy()


def attributes_of(segments: pd.DataFrame) -> list[str]:
    """The declared attributes of a segments table: its columns after the fixed ones."""
    return [c for c in segments.columns if c not in SEGMENT_COLUMNS]


def find_segment(declared: Sequence[Segment], seg_id: str, path: str | Path | None = None) -> Segment:
    """A declared segment by id (of the study file `path`); `all` is every participant
    turn unless declared."""
    for seg in declared:
        if seg.id == seg_id:
            return seg
    if seg_id == ALL.id:
        return ALL
    if not declared:
        raise InputError(f"no segment '{seg_id}' without a study file",
                         fix="pass --study FILE declaring it, or select with --where ATTR=VALUE or --by ATTR")
    known = ", ".join(dict.fromkeys([ALL.id, *(s.id for s in declared)]))
    raise InputError(f"no segment '{seg_id}' in the study", path=path, fix=f"use one of {known}")


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")
    return slug or f"{zlib.crc32(str(text).encode('utf-8')):08x}"


def where_segment(where: dict[str, Any]) -> Segment:
    """A segment from attribute conditions; its id names them (`sector-local-authority`)."""
    seg_id = "_".join(f"{_slug(column)}-{'-'.join(_slug(v) for v in _values(wanted))}"
                      for column, wanted in where.items())
    return Segment(seg_id, describe(where), dict(where))


def parse_where(spec: str) -> Segment:
    """`ATTR=V1,V2;ATTR2=V` (conditions joined by `;`, alternatives by `,`) as a segment."""
    where: dict[str, Any] = {}
    for part in spec.split(";"):
        attr, eq, values = part.partition("=")
        wanted = [v.strip() for v in values.split(",") if v.strip()]
        if not eq or not attr.strip() or not wanted:
            raise InputError(f"cannot read --where '{spec}'",
                             fix="write ATTR=VALUE, e.g. --where 'sector=local authority' or --where wave=early,late")
        where[attr.strip()] = wanted if len(wanted) > 1 else wanted[0]
    return where_segment(where)


def by_segments(segments: pd.DataFrame, attribute: str, path: str | Path | None = None) -> list[Segment]:
    """One segment per value of `attribute` in participant speech, in sorted order."""
    problem = _unknown_attribute(attribute, segments)
    if problem:
        raise InputError(f"--by {attribute}: {problem}", path=path, fix=DECLARE)
    values = sorted({str(v) for v in segments[attribute][ALL.mask(segments)].unique() if str(v) != ""})
    if not values:
        raise InputError(f"attribute '{attribute}' has no values in participant speech", path=path,
                         fix="choose another attribute for --by")
    return [where_segment({attribute: v}) for v in values]


def select(segments: pd.DataFrame, declared: Sequence[Segment] = (), *, ids: Sequence[str] = (),
           where: Sequence[str] = (), by: str | None = None, default_all: bool = True,
           path: str | Path | None = None, study_path: str | Path | None = None) -> list[Segment]:
    """The segments a command works on: `ids` of the study (and `all`), then each
    `--where` spec, then one per value of `by`; `all` if none is given and
    `default_all`. Each is checked against the segments table (`check_segments`;
    errors name `path`, the corpus manifest, or `study_path`, the study declaring them)."""
    chosen = [find_segment(declared, i, study_path) for i in ids] + [parse_where(w) for w in where]
    if by:
        chosen += by_segments(segments, by, path)
    if not chosen and default_all:
        chosen = [find_segment(declared, ALL.id)]
    twice = sorted(i for i, n in Counter(s.id for s in chosen).items() if n > 1)
    if twice:
        raise InputError(f"segment '{twice[0]}' is selected twice", fix="select each segment once")
    check_segments(chosen, segments, path)
    return chosen


@dataclass(frozen=True)
class Selection:
    """The segments a command names (`select`'s arguments), chosen on a segments table
    once one is read: a partitioned count reads the corpus once, by groups of rows
    that agree on `columns()`, and selects on the outline it gathered on the way.
    `given` segments (a library caller's) are only checked."""

    given: tuple[Segment, ...] = ()
    declared: tuple[Segment, ...] = ()
    ids: tuple[str, ...] = ()
    where: tuple[str, ...] = ()
    by: str | None = None
    default_all: bool = True
    study_path: str | Path | None = None

    def resolve(self, segments: pd.DataFrame, path: str | Path | None = None) -> list[Segment]:
        """`select` on `segments` (errors name `path`, the corpus manifest)."""
        if self.given:
            check_segments(self.given, segments, path)
            return list(self.given)
        return select(segments, self.declared, ids=self.ids, where=self.where, by=self.by,
                      default_all=self.default_all, path=path, study_path=self.study_path)

    def named(self) -> list[Segment]:
        """The segments chosen whatever the corpus holds: ids, `--where` specs and `all`,
        or [] if one of them is in error (`resolve` raises it, after the corpus's own errors)."""
        if self.given:
            return list(self.given)
        try:
            chosen = [find_segment(self.declared, i) for i in self.ids] + [parse_where(w) for w in self.where]
            return chosen or [find_segment(self.declared, ALL.id) for _ in range(self.default_all)]
        except InputError:
            return []

    def columns(self) -> list[str]:
        """The columns whose values decide which selected segments hold a row."""
        named = [c for seg in self.named() for c in seg.where]
        return list(dict.fromkeys([INTERVIEWER_COLUMN, *named, *([self.by] if self.by else [])]))

    def pool(self) -> Segment:
        """The rows any selected segment may hold: participant speech, and the
        interviewer's turns if a segment may select them."""
        named = self.named()
        interviewer = (len(named) < len(self.ids) + len(self.where) or self.by == INTERVIEWER_COLUMN
                       or any(s.include_interviewer or INTERVIEWER_COLUMN in s.where for s in named))
        return Segment("pool", "", include_interviewer=interviewer)


# ---------------------------------------------------------------- validation
DECLARE = "declare it under 'attributes' in the corpus manifest, or use a declared one"
USE_LISTED = "use one of the values listed"


def _unknown_attribute(column: str, segments: pd.DataFrame) -> str | None:
    declared = attributes_of(segments)
    if column in declared or column in SELECTABLE:
        return None
    return (f"unknown attribute '{column}' (declared: {', '.join(declared) or 'none'}; "
            f"also {', '.join(SELECTABLE)})")


def _listing(values: Sequence[str]) -> str:
    shown = ", ".join(values[:SHOWN_VALUES])
    more = len(values) - SHOWN_VALUES
    return shown + (f" and {more} more" if more > 0 else "") if values else "none"


def segment_problems(seg: Segment, segments: pd.DataFrame) -> list[tuple[str | None, str, str]]:
    """What is wrong with a segment on this segments table, as (attribute or None,
    message, fix): unknown attributes, values matching nothing, no words."""
    problems: list[tuple[str | None, str, str]] = []
    # values are looked for in the rows the segment may select (participant speech
    # unless it includes the interviewer), so a value only the interviewer has is reported
    allowed = Segment("pool", "", include_interviewer=seg.include_interviewer
                      or INTERVIEWER_COLUMN in seg.where).mask(segments)
    for column, wanted in seg.where.items():
        unknown = _unknown_attribute(column, segments)
        if unknown:
            problems.append((column, f"segment '{seg.id}': {unknown}", DECLARE))
            continue
        for value in _values(wanted):
            if not (_matches(segments[column], [value]) & allowed).any():
                present = segments[column][allowed]
                existing = sorted({str(v).lower() if present.dtype == bool else str(v)
                                   for v in present.unique() if str(v) != ""})
                problems.append((column, f"segment '{seg.id}': {column} '{value}' matches nothing in "
                                         f"the corpus (values of {column}: {_listing(existing)})", USE_LISTED))
    if not problems:
        rows, text = np.flatnonzero(seg.mask(segments)), segments["text"]
        # row by row, stopping at the first turn with a word: in practice the first one
        if not any(_WORD.search(str(text.iat[r])) for r in rows):
            problems.append((None, f"segment '{seg.id}' has 0 words in the corpus ({seg.describe()}: "
                                   f"{len(rows)} turn(s) selected)",
                             "its conditions exist apart but not together; widen the selection"))
    return problems


def check_segments(chosen: Sequence[Segment], segments: pd.DataFrame, path: str | Path | None = None) -> None:
    """Raise the first problem of any segment (`segment_problems`) as one line
    naming `path` (the corpus manifest)."""
    for seg in chosen:
        problems = segment_problems(seg, segments)
        if problems:
            _, message, fix = problems[0]
            raise InputError(message, path=path, fix=fix)
