"""`hcrisis freq` and `hcrisis compare` as library calls: count once, write each table.

Kept apart from `hcrisis.text.freq` (the counting) because `freq --terms`
merges multi-word terms, which `hcrisis.text.terms` builds on that counting.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import pandas as pd

from hcrisis.errors import InputError
from hcrisis.ingest.corpus import as_corpus
from hcrisis.ingest.privacy import item_guard
from hcrisis.ingest.segments import Segment, Selection
from hcrisis.tables import write_table
from hcrisis.engine.stages import Scope, ScopeCounts, count_selected
from hcrisis.text.freq import FreqSettings, check_languages, count_words, write_frequencies
from hcrisis.text.terms import TermSettings, accepted_terms, merge_terms, merged_frequency_table

if TYPE_CHECKING:
    from hcrisis.engine import Engine
    from hcrisis.ingest.corpus import Corpus


@dataclass
class FreqRun:
    tables: dict[str, pd.DataFrame]    # by segment id
    written: list[Path]


def run_freq(corpus: str | Path | Corpus, segments: Sequence[Segment] | Selection, out: str | Path, *,
             settings: FreqSettings = FreqSettings(), terms: TermSettings | None = None,
             allow_identifiers: bool = False, engine: Engine | None = None) -> FreqRun:
    """`hcrisis freq`: the frequency table of each segment (given, or chosen by a
    `Selection` on the corpus), written as freq_<segment>.csv/.md. With `terms`,
    multi-word terms count as single items (`merged_frequency_table`). A table whose
    words include an identifier is refused unless `allow_identifiers`. With an `engine`
    (and no terms) the corpus is read once, partition by partition, on it
    (`hcrisis.engine`: the same tables, one partition's tokens in memory at a time)."""
    chosen = segments if isinstance(segments, Selection) else Selection(given=tuple(segments))
    if engine is not None and terms is None:
        total, source, segments = count_selected(corpus, chosen, settings, engine)
        counts = _checked(ScopeCounts(total, settings, source, [Scope(seg) for seg in segments]))
        c = counts.corpus()
        tables = {seg.id: counts.table(i, top=settings.top) for i, seg in enumerate(segments)}
    else:
        c = as_corpus(corpus)
        segments = chosen.resolve(c.segments, c.manifest_path)
        counter = count_words(c, settings, segments)
        if terms is not None:
            accepted = accepted_terms(counter.tokens, counter.segments, terms)
            merged = merge_terms(counter.tokens, accepted)     # once for every segment
            tables = {seg.id: merged_frequency_table(counter, seg, accepted, top=settings.top, merged=merged)
                      for seg in segments}
        else:
            tables = {seg.id: counter.table(seg, top=settings.top) for seg in segments}
    guard = item_guard(c, allow_identifiers)
    for seg in segments:       # every table checked before any is written
        guard(tables[seg.id]["word"], Path(out) / f"freq_{seg.id}.csv")
    written = [p for seg in segments for p in write_frequencies(tables[seg.id], out, seg, settings)]
    return FreqRun(tables, written)


@dataclass
class KeynessRun:
    tables: dict[tuple[str, str], pd.DataFrame]    # by (A, B) segment ids; B "rest" for the rest
    written: list[Path]


def run_compare(corpus: str | Path | Corpus, pairs: Sequence[tuple[Segment, Segment | None]] | Selection,
                out: str | Path, *, settings: FreqSettings = FreqSettings(),
                correction: str = "fdr_bh", engine: Engine | None = None) -> KeynessRun:
    """`hcrisis compare`: keyness of every word of A against B (None: every other
    participant turn), written as keyness_<A>_vs_<B>.csv/.md; the pairs given, or those
    of the segments a `Selection` chooses (`compare_pairs`). With an `engine`, counted
    partition by partition (as `run_freq`)."""
    asked = pairs
    chosen = asked if isinstance(asked, Selection) else \
        Selection(given=tuple(s for pair in asked for s in pair if s is not None))
    if engine is not None:
        total, source, sides = count_selected(corpus, chosen, settings, engine)
        pairs = _pairs(asked, sides)
        counts = _checked(ScopeCounts(total, settings, source, _compared(pairs)))
        form_counts = list(counts.counts)
        keyness = counts.counts_keyness
    else:
        c = as_corpus(corpus)
        pairs = _pairs(asked, chosen.resolve(c.segments, c.manifest_path))
        counter = count_words(c, settings, [s for pair in pairs for s in pair if s is not None])
        form_counts = [counter.form_counts(s.mask(counter.segments) if s.rest else s.segment)
                       for s in _compared(pairs)]
        keyness = counter.counts_keyness
    tables, written = {}, []
    for k, (a, b) in enumerate(pairs):
        name_b = b.id if b is not None else "rest"
        for name, counted in ((a.id, form_counts[2 * k]), (name_b, form_counts[2 * k + 1])):
            if not counted.any():
                raise InputError(f"cannot compare: segment '{name}' has no counted words ({settings.describe()})",
                                 fix="choose segments that both have counted words, or --stop-words none")
        table = keyness(form_counts[2 * k], form_counts[2 * k + 1], labels=(a.id, name_b), correction=correction)
        tables[a.id, name_b] = table
        written += write_table(table, Path(out) / f"keyness_{a.id}_vs_{name_b}",
                               title=f"Keyness {a.id} vs {name_b}: {table.attrs['tests']} words tested, "
                                     f"p adjusted ({correction})")
    return KeynessRun(tables, written)


def compare_pairs(sides: list[Segment], by: bool) -> list[tuple[Segment, Segment | None]]:
    """What `compare` compares: with `--by`, each segment against the rest; else one
    segment against the rest or two against each other."""
    if by:
        return [(s, None) for s in sides]
    if len(sides) in (1, 2):
        return [(sides[0], sides[1] if len(sides) == 2 else None)]
    raise InputError(f"compare needs one or two segments, not {len(sides)}",
                     fix="e.g. --where sector=x --where sector=y, --where sector=x (against the rest) "
                         "or --by sector")


def _pairs(asked, sides: list[Segment]) -> list[tuple[Segment, Segment | None]]:
    """The pairs given, or those of the sides a `Selection` chose."""
    return compare_pairs(sides, bool(asked.by)) if isinstance(asked, Selection) else list(asked)


def _compared(pairs: Sequence[tuple[Segment, Segment | None]]) -> list[Scope]:
    """A and B of every pair (B the rest of A where None)."""
    return [s for a, b in pairs for s in (Scope(a), Scope(b) if b is not None else Scope(a, rest=True))]


def _checked(counts: ScopeCounts) -> ScopeCounts:
    """The whole corpus's check of the counted scopes on its outline (one language per
    scope) before anything is written: only partial counts and the segments' outline (no
    text) reach this process. (The scopes' segments were checked when selected.)"""
    for scope in counts.scopes:
        check_languages(scope.mask(counts.outline), counts.outline, counts.settings, scope.segment.id)
    return counts
