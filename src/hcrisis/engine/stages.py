"""Stages reduced by partition: word counts per scope, and codings.

Each `*_partial` runs where a partition is read (this process, or a Dask
worker) and returns a small result; the `merge_*` functions combine the
partials in partition order into what the whole-corpus path computes:

- word counts: each partition counts, for every scope, the counted tokens
  per lower-cased form (`FreqCounter.form_counts`: the counting rule,
  filler sequences within a turn, interviewer turns left out) and returns
  its forms with non-zero counts; the merge (`Tally`) adds counts form by
  form as partials arrive, and `WordGroups` makes the tables from them. Stems and
  groups are computed once, per form, after the merge.
- codings: `hcrisis.coding.apply.code_corpus`, on the same engines.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
import numpy as np
import pandas as pd

from hcrisis.engine.partitions import Partition, Source, open_source, outline
from hcrisis.engine.run import Engine
from hcrisis.errors import CorpusError
from hcrisis.ingest.segments import Segment
from hcrisis.text.freq import FreqCounter, FreqSettings, WordGroups, rest_mask


@dataclass(frozen=True)
class Scope:
    """A study segment, or (`rest`) every participant turn outside it."""

    segment: Segment
    rest: bool = False

    def mask(self, segments: pd.DataFrame) -> np.ndarray:
        return rest_mask(self.segment, segments) if self.rest else self.segment.mask(segments)


def tokens_of_rows(segments: pd.DataFrame, needed: np.ndarray):
    """Tokens of the needed rows only (other rows are tokenised as empty texts), each
    language with its own pipeline (`tokenize_segments`)."""
    from hcrisis.text.tokens import tokenize_segments

    texts = [t if keep else "" for t, keep in zip(segments["text"].tolist(), needed.tolist())]
    return tokenize_segments(segments.assign(text=texts), processes=1)


# ---------------------------------------------------------------- word counts
@dataclass
class CountJob:
    source: Source
    settings: FreqSettings
    scopes: tuple[Scope, ...]


@dataclass
class Counts:
    """Counted tokens per form (rows: scopes), all tokens per scope, and the outline of the
    segment rows read (`outline`)."""

    forms: np.ndarray
    counts: np.ndarray
    tokens: np.ndarray
    outline: pd.DataFrame


def count_partial(part: Partition, job: CountJob) -> Counts:
    segments = job.source.segments(part)
    masks = [scope.mask(segments) for scope in job.scopes]
    # one language per scope is checked on the whole corpus (its outline), with the scopes' names
    whole = replace(job.settings, languages="together")
    counter = FreqCounter(tokens_of_rows(segments, np.logical_or.reduce(masks)), segments, whole)
    counts = np.stack([counter.form_counts(m) for m in masks])
    used = counts.any(axis=0)
    return Counts(counter.forms[used], counts[:, used], np.array([counter.tokens_in(m) for m in masks]),
                  outline(segments))


class Tally:
    """Partial counts added as they arrive: forms looked up in a dict (a partial's few
    thousand forms cost milliseconds, whatever the total), sorted once at the end."""

    def __init__(self, n_scopes: int):
        self.index: dict[str, int] = {}
        self.counts = np.zeros((n_scopes, 1024), dtype=np.int64)
        self.tokens = np.zeros(n_scopes, dtype=np.int64)
        self.outlines: list[pd.DataFrame] = []

    def add(self, part: Counts) -> None:
        at = np.fromiter((self.index.setdefault(f, len(self.index)) for f in part.forms.tolist()),
                         dtype=np.int64, count=len(part.forms))
        if len(self.index) > self.counts.shape[1]:
            grown = np.zeros((self.counts.shape[0], max(2 * self.counts.shape[1], len(self.index))), np.int64)
            grown[:, :self.counts.shape[1]] = self.counts
            self.counts = grown
        self.counts[:, at] += part.counts          # a partial's forms are distinct
        self.tokens += part.tokens
        self.outlines.append(part.outline)

    def total(self) -> Counts:
        """The merged counts, forms sorted (as `FreqCounter`'s)."""
        forms = np.array(list(self.index), dtype=object)
        order = np.argsort(forms, kind="stable")
        rows = pd.concat(self.outlines, ignore_index=True) if self.outlines else pd.DataFrame()
        return Counts(forms[order], self.counts[:, :len(forms)][:, order], self.tokens, rows)


class ScopeCounts(WordGroups):
    """Merged counts of a corpus's scopes, with `WordGroups`' tables."""

    def __init__(self, counts: Counts, settings: FreqSettings, source: Source):
        super().__init__(counts.forms, settings)
        self.counts, self.tokens, self.source = counts.counts, counts.tokens, source
        self.outline = counts.outline

    def corpus(self):
        """The corpus with the outline as its segments table (`Source.outline_corpus`)."""
        return self.source.outline_corpus(self.outline)

    def table(self, scope: int, top: int | None = None) -> pd.DataFrame:
        """The frequency table of scope number `scope` (as `FreqCounter.table`)."""
        table = self.counts_table(self.counts[scope], top)
        table.attrs["tokens_in_scope"] = int(self.tokens[scope])
        return table

    def keyness(self, a: int, b: int, labels: tuple[str, str], correction: str = "fdr_bh") -> pd.DataFrame:
        return self.counts_keyness(self.counts[a], self.counts[b], labels, correction)


def count_words(corpus, scopes: list[Scope], settings: FreqSettings, engine: Engine | None = None,
                partitions: list[Partition] | None = None) -> ScopeCounts:
    """Counts of every scope over a corpus (folder, packed folder or loaded), by partition
    (the source's own unless given)."""
    source = open_source(corpus)
    job = CountJob(source, settings, tuple(scopes))
    tally = Tally(len(scopes))
    for partial in (engine or Engine()).map(count_partial, partitions or source.partitions(), job):
        tally.add(partial)
    total = tally.total()
    if total.outline.empty:
        raise CorpusError("corpus has no text segments", path=getattr(corpus, "root", corpus),
                          fix="list at least one non-empty document or table")
    return ScopeCounts(total, settings, source)

