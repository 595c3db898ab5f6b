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
from hcrisis.text.freq import FreqSettings, count_words, write_frequencies
from hcrisis.text.terms import TermSettings, accepted_terms, merged_frequency_table

if TYPE_CHECKING:
    from hcrisis.ingest.corpus import Corpus


@dataclass
class FreqRun:
    tables: dict[str, pd.DataFrame]    # by segment id
    written: list[Path]


def run_freq(corpus: str | Path | Corpus, segments: Sequence[Segment], out: str | Path, *,
             settings: FreqSettings = FreqSettings(), terms: TermSettings | None = None,
             allow_identifiers: bool = False) -> FreqRun:
    """`hcrisis freq`: the frequency table of each segment, written as freq_<segment>.csv/.md.
    With `terms`, multi-word terms count as single items (`merged_frequency_table`). A
    table whose words include an identifier is refused unless `allow_identifiers`."""
    c = as_corpus(corpus)
    guard = item_guard(c, allow_identifiers)
    counter = count_words(c, settings, segments)
    if terms is not None:
        accepted = accepted_terms(counter.tokens, counter.segments, terms)
        tables = {seg.id: merged_frequency_table(counter, seg, accepted, top=settings.top) for seg in segments}
    else:
        tables = {seg.id: counter.table(seg, top=settings.top) for seg in segments}
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
                correction: str = "fdr_bh") -> KeynessRun:
    """`hcrisis compare`: keyness of every word of A against B (None: every other
    participant turn), written as keyness_<A>_vs_<B>.csv/.md."""
    counter = count_words(corpus, settings, [s for pair in pairs for s in pair if s is not None])
    tables, written = {}, []
    for a, b in pairs:
        name_b = b.id if b is not None else "rest"
        scope_b = b if b is not None else counter.rest(a)
        for name, scope in ((a.id, a), (name_b, scope_b)):
            if not counter.form_counts(scope).any():
                raise InputError(f"cannot compare: segment '{name}' has no counted words ({settings.describe()})",
                                 fix="choose segments that both have counted words, or --stop-words none")
        table = counter.keyness(a, scope_b, labels=(a.id, name_b), correction=correction)
        tables[a.id, name_b] = table
        written += write_table(table, Path(out) / f"keyness_{a.id}_vs_{name_b}",
                               title=f"Keyness {a.id} vs {name_b}: {table.attrs['tests']} words tested, "
                                     f"p adjusted ({correction})")
    return KeynessRun(tables, written)


