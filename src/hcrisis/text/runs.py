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
from hcrisis.ingest.segments import Segment
from hcrisis.tables import write_table
from hcrisis.engine.stages import Scope
from hcrisis.text.freq import FreqSettings, check_languages, count_words, write_frequencies
from hcrisis.text.terms import TermSettings, accepted_terms, merge_terms, merged_frequency_table

if TYPE_CHECKING:
    from hcrisis.engine import Engine
    from hcrisis.engine.stages import ScopeCounts
    from hcrisis.ingest.corpus import Corpus
    from hcrisis.text.tokens import Tokens


@dataclass
class FreqRun:
    tables: dict[str, pd.DataFrame]    # by segment id
    written: list[Path]


def run_freq(corpus: str | Path | Corpus, segments: Sequence[Segment], out: str | Path, *,
             settings: FreqSettings = FreqSettings(), terms: TermSettings | None = None,
             allow_identifiers: bool = False, engine: Engine | None = None, tokens: Tokens | None = None) -> FreqRun:
    """`hcrisis freq`: the frequency table of each segment, written as freq_<segment>.csv/.md.
    With `terms`, multi-word terms count as single items (`merged_frequency_table`). A
    table whose words include an identifier is refused unless `allow_identifiers`. With
    an `engine` (and no terms) the corpus is counted partition by partition on it
    (`hcrisis.engine`: the same tables, one partition's tokens in memory at a time).
    `tokens`: the loaded corpus's tokens if already made (a study's stored tokens): counted
    here, with the same tables."""
    if engine is not None and terms is None and tokens is None:
        counts = _partitioned(corpus, [Scope(seg) for seg in segments], settings, engine)
        c = counts.corpus()
        tables = {seg.id: counts.table(i, top=settings.top) for i, seg in enumerate(segments)}
    else:
        c = as_corpus(corpus)
        counter = count_words(c, settings, segments, tokens)
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


def run_compare(corpus: str | Path | Corpus, pairs: Sequence[tuple[Segment, Segment | None]],
                out: str | Path, *, settings: FreqSettings = FreqSettings(),
                correction: str = "fdr_bh", engine: Engine | None = None) -> KeynessRun:
    """`hcrisis compare`: keyness of every word of A against B (None: every other
    participant turn), written as keyness_<A>_vs_<B>.csv/.md; with an `engine`, counted
    partition by partition (as `run_freq`)."""
    scopes = [s for a, b in pairs for s in (Scope(a), Scope(b) if b is not None else Scope(a, rest=True))]
    if engine is not None:
        counts = _partitioned(corpus, scopes, settings, engine)
        form_counts = list(counts.counts)
        keyness = counts.counts_keyness
    else:
        counter = count_words(corpus, settings, [s for pair in pairs for s in pair if s is not None])
        form_counts = [counter.form_counts(s.mask(counter.segments) if s.rest else s.segment) for s in scopes]
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




def _partitioned(corpus, scopes: list[Scope], settings: FreqSettings, engine: Engine) -> ScopeCounts:
    """Counts of the scopes by partition, then the whole corpus's checks of them on its
    outline (segments against the corpus, one language per scope), before anything is
    written: only partial counts and the segments' outline (no text) reach this process."""
    from hcrisis.engine.stages import count_words as count_partitions
    from hcrisis.ingest.segments import check_segments

    counts = count_partitions(corpus, scopes, settings, engine)
    outline = counts.outline
    check_segments([s.segment for s in scopes], outline, counts.corpus().manifest_path)
    for scope in scopes:
        check_languages(scope.mask(outline), outline, settings, scope.segment.id)
    return counts
