"""`hcrisis freq`, `hcrisis compare` and `hcrisis terms` as library calls: count once, write each table.

Kept apart from `hcrisis.text.freq` (the counting) because `freq --terms`
merges multi-word terms, which `hcrisis.text.terms` builds on that counting,
and from `hcrisis.text.terms` because its engine path (`hcrisis.engine.terms`)
builds on that module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import pandas as pd

from hcrisis.errors import InputError
from hcrisis.ingest.corpus import as_corpus
from hcrisis.ingest.privacy import item_guard
from hcrisis.ingest.segments import Segment, Selection, check_segments
from hcrisis.tables import write_table
from hcrisis.engine.stages import Scope, ScopeCounts, count_selected
from hcrisis.text.freq import FreqSettings, check_languages, count_words, write_frequencies
from hcrisis.text.terms import (TermIndex, TermSettings, accepted_terms, coverage, keyness_of, merge_terms,
                                merged_frequency_table, noun_chunk_spans, term_keyness, write_terms)

if TYPE_CHECKING:
    from hcrisis.engine import Engine
    from hcrisis.ingest.corpus import Corpus
    from hcrisis.text.tokens import Tokens


@dataclass
class FreqRun:
    tables: dict[str, pd.DataFrame]    # by segment id
    written: list[Path]


def run_freq(corpus: str | Path | Corpus, segments: Sequence[Segment] | Selection, out: str | Path, *,
             settings: FreqSettings = FreqSettings(), terms: TermSettings | None = None,
             allow_identifiers: bool = False, engine: Engine | None = None, tokens: Tokens | None = None) -> FreqRun:
    """`hcrisis freq`: the frequency table of each segment (given, or chosen by a
    `Selection` on the corpus), written as freq_<segment>.csv/.md. With `terms`,
    multi-word terms count as single items (`merged_frequency_table`). A table whose
    words include an identifier is refused unless `allow_identifiers`. With an `engine`
    (and no terms) the corpus is read once, partition by partition, on it
    (`hcrisis.engine`: the same tables, one partition's tokens in memory at a time).
    `tokens`: the loaded corpus's tokens if already made (a study's stored tokens): counted
    here, with the same tables."""
    chosen = segments if isinstance(segments, Selection) else Selection(given=tuple(segments))
    if engine is not None and terms is None and tokens is None:
        total, source, segments = count_selected(corpus, chosen, settings, engine)
        counts = _checked(ScopeCounts(total, settings, source, [Scope(seg) for seg in segments]))
        c = counts.corpus()
        tables = {seg.id: counts.table(i, top=settings.top) for i, seg in enumerate(segments)}
    else:
        c = as_corpus(corpus)
        segments = chosen.resolve(c.segments, c.manifest_path)
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


@dataclass
class TermsRun:
    tables: dict[str, pd.DataFrame]
    written: list[Path]
    keyness: pd.DataFrame | None = None
    uncovered: dict[str, pd.DataFrame] = field(default_factory=dict)   # by segment id


def run_terms(corpus: str | Path | Corpus, segments: Sequence[Segment], out: str | Path, *,
              settings: TermSettings = TermSettings(), model: str | None = None, compare: bool = False,
              uncovered: str | Path | None = None, allow_identifiers: bool = False, engine=None) -> TermsRun:
    """`hcrisis terms`: the term table of each segment (terms_<segment>.csv/.md); with
    `compare`, term keyness of the two segments; with `uncovered` (a codebook), the
    terms of each segment no code matches and the terms each code covers. A table
    holding an identifier term is refused unless `allow_identifiers`. With an `engine`
    (and no `model`) the corpus is reduced partition by partition on it
    (`hcrisis.engine.terms`: the same tables, one partition's tokens in memory at a time)."""

    if compare and len(segments) != 2:
        raise InputError(f"term keyness needs two segments, not {len(segments)}",
                         fix="select two, e.g. --where sector=x --where sector=y --compare")
    check_model_engine(model, engine.name if engine is not None else "local")
    run = TermsRun({}, [])
    if engine is not None and not model:
        c = _partitioned_terms(corpus, segments, settings, compare, engine, run)
    else:
        c = _whole_corpus_terms(corpus, segments, settings, model, compare, run)
    guard = item_guard(c, allow_identifiers)
    if compare:
        a, b = segments
        guard(run.keyness["item"], Path(out) / f"terms_keyness_{a.id}_vs_{b.id}.csv")
    for seg in segments:       # every table checked before any is written
        guard(run.tables[seg.id]["term"], Path(out) / f"terms_{seg.id}.csv")
    for seg in segments:
        table = run.tables[seg.id]
        run.written += write_terms(table, out, seg, settings)
        if uncovered is not None:
            run.uncovered[seg.id], per_code = coverage(table, uncovered)
            name = Path(uncovered).name
            run.written += write_table(run.uncovered[seg.id], Path(out) / f"terms_uncovered_{seg.id}",
                                       title=f"Terms of {seg.id} that no code of {name} matches")
            run.written += write_table(per_code, Path(out) / f"terms_codebook_coverage_{seg.id}",
                                       title=f"Terms of {seg.id} each code of {name} covers")
    if compare:
        run.written += write_table(run.keyness, Path(out) / f"terms_keyness_{a.id}_vs_{b.id}",
                                   title=f"Term keyness {a.id} vs {b.id}: {len(run.keyness)} terms tested")
    return run


def check_model_engine(model: str | None, engine: str) -> None:
    """Noun chunks (`--model`) are found on the whole corpus in this process, not on an engine's workers."""
    if model and engine == "dask":
        raise InputError(f"--model needs the whole corpus's parses in one process, not --engine {engine}",
                         fix="leave out --model or use --engine local")


def _whole_corpus_terms(corpus, segments: Sequence[Segment], settings: TermSettings, model: str | None,
                        compare: bool, run: TermsRun):
    """The tables of `run_terms` from the whole corpus's tokens in this process; the corpus."""
    from hcrisis.ingest.corpus import as_corpus
    from hcrisis.text.freq import tokenize_with_progress
    from hcrisis.text.tokens import build_pipeline

    c = as_corpus(corpus)
    check_segments(segments, c.segments, c.manifest_path)
    nlp = build_pipeline(model) if model else None       # checked before the slow part (tokenising)
    tokens = tokenize_with_progress(c.segments)
    index = TermIndex(tokens, c.segments, chunks=noun_chunk_spans(tokens, nlp) if nlp is not None else None)
    run.tables.update({seg.id: index.table(seg, settings.min_freq, settings.min_docs, settings.top)
                       for seg in segments})
    if compare:
        a, b = segments
        run.keyness = term_keyness(index, a, b, settings, labels=(a.id, b.id))
    return c


def _partitioned_terms(corpus, segments: Sequence[Segment], settings: TermSettings, compare: bool, engine,
                       run: TermsRun):
    """The tables of `run_terms` by partition (`hcrisis.engine.terms`); the corpus (its outline)."""
    from hcrisis.engine.terms import partitioned_terms, scopes_of

    def check(c) -> None:    # on the whole corpus's outline, before the second pass
        check_segments(segments, c.segments, c.manifest_path)

    terms = partitioned_terms(corpus, scopes_of(list(segments), settings, compare), engine, check=check)
    run.tables.update({seg.id: terms.tables[i] for i, seg in enumerate(segments)})
    if compare:
        a, b = segments
        run.keyness = keyness_of(terms.tables[2], terms.counts[:2], (int(terms.words[0]), int(terms.words[1])),
                                 (a.id, b.id), "fdr_bh")
    return terms.corpus()
