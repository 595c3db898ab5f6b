"""Stages reduced by partition: word counts per scope, and codings.

Each `*_partial` runs where a partition is read (this process, or a Dask
worker) and returns a small result; the `merge_*` functions combine the
partials in partition order into what the whole-corpus path computes:

- word counts: each partition counts, for every group of its segment rows
  that agree on the columns the scopes read (`row_groups`), the counted
  tokens per lower-cased form (`FreqCounter.counts_by_rows`: the counting
  rule, filler sequences within a turn, interviewer turns left out) and
  returns its forms with non-zero counts and its outline; the merge (`Tally`)
  adds counts group by group and form by form as partials arrive. A scope's
  counts are its groups' sums (`ScopeCounts`), so the scopes may be chosen
  after the count, on the merged outline (`count_selected`), and
  `WordGroups` makes the tables from them. Stems and groups are computed
  once, per form, after the merge.
- codings: `hcrisis.coding.apply.code_corpus`, on the same engines.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
import numpy as np
import pandas as pd

from hcrisis import libc
from hcrisis.engine.partitions import (Partition, Source, check_unique_ids, compact, id_hashes, merge_outlines,
                                      open_source)
from hcrisis.engine.run import Engine
from hcrisis.errors import CorpusError
from hcrisis.ingest.segments import INTERVIEWER_COLUMN, Segment, Selection
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


def word_tokens_of_rows(rows: pd.DataFrame, texts: list[str], needed: np.ndarray):
    """`tokens_of_rows` of segment rows and their texts as word counts read them
    (`hcrisis.text.tokens.word_tokens`: types and order only) where the needed rows share
    one language and its pipeline tokenises span by span; else `tokens_of_rows`."""
    from hcrisis.text.tokens import rules_mix_spaces, shared_pipeline, word_tokens

    languages = set(rows["language"].to_numpy()[needed]) if "language" in rows else {"en"}
    nlp = shared_pipeline(None, str(languages.pop())) if len(languages) == 1 else None
    if nlp is None or rules_mix_spaces(nlp):
        return tokens_of_rows(rows.assign(text=texts), needed)
    return word_tokens([t if keep else "" for t, keep in zip(texts, needed.tolist())], nlp)


# ---------------------------------------------------------------- word counts
@dataclass
class CountJob:
    """What every partition counts: for the `scopes`, or for the segments a `selection`
    names (chosen once the corpus is read: `count_selected`)."""

    source: Source
    settings: FreqSettings
    scopes: tuple[Scope, ...] = ()
    selection: Selection | None = None

    def columns(self) -> list[str]:
        """The columns that decide which scopes hold a row: rows are counted by their values."""
        if self.selection is not None:
            return self.selection.columns()
        return list(dict.fromkeys([INTERVIEWER_COLUMN, *(c for scope in self.scopes for c in scope.segment.where)]))

    def pool(self, segments: pd.DataFrame) -> np.ndarray:
        """The rows any scope may hold (the others are not tokenised)."""
        if self.selection is not None:
            return self.selection.pool().mask(segments)
        return np.logical_or.reduce([scope.mask(segments) for scope in self.scopes])


@dataclass
class Counts:
    """Counted tokens per form (rows: groups of segment rows with the same `keys`, the
    values of the job's columns, one row each), all tokens per group, and the outline of
    the segment rows read (`hcrisis.engine.partitions.compact`) with the hashes of their
    ids (`id_hashes`: a partial's, for `check_unique_ids`); the job's `scopes`."""

    forms: np.ndarray
    counts: np.ndarray
    tokens: np.ndarray
    keys: pd.DataFrame
    outline: pd.DataFrame
    scopes: tuple[Scope, ...] = ()
    ids: np.ndarray | None = None


def row_groups(segments: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """The group of every row (rows with the same values in `columns`, numbered in order
    of first appearance) and each group's values (its first row)."""
    index: dict[tuple, int] = {}
    keys = zip(*(segments[c].tolist() for c in columns))
    group = np.fromiter((index.setdefault(k, len(index)) for k in keys), dtype=np.int64, count=len(segments))
    first = np.unique(group, return_index=True)[1]
    return group, segments[columns].iloc[first].reset_index(drop=True)


def count_partial(part: Partition, job: CountJob) -> Counts:
    rows, texts = job.source.rows(part)
    group, keys = row_groups(rows, [c for c in job.columns() if c in rows])
    needed = job.pool(rows)
    # one language per scope is checked on the whole corpus (its outline), with the scopes' names
    whole = replace(job.settings, languages="together")
    counter = FreqCounter(word_tokens_of_rows(rows, texts, needed), rows, whole)
    counts, tokens = counter.counts_by_rows(np.where(needed, group, -1), len(keys))
    used = counts.any(axis=0)
    return Counts(counter.forms[used], counts[:, used], tokens, keys, compact(rows), job.scopes, id_hashes(rows))


def _tuples(keys: pd.DataFrame) -> list[tuple]:
    return list(zip(*(keys[c].tolist() for c in keys.columns))) if len(keys.columns) else [()] * len(keys)


class Tally:
    """Partial counts added as they arrive: forms and groups looked up in dicts (a
    partial's few thousand forms cost milliseconds, whatever the total), sorted once at
    the end."""

    def __init__(self):
        self.index: dict[str, int] = {}
        self.groups: dict[tuple, int] = {}
        self.keys: list[pd.DataFrame] = []
        self.counts = np.zeros((4, 1024), dtype=np.int64)
        self.tokens = np.zeros(4, dtype=np.int64)
        self.outlines: list[pd.DataFrame] = []
        self.ids: list[np.ndarray] = []
        self.scopes: tuple[Scope, ...] = ()

    def add(self, part: Counts) -> None:
        at = _positions(self.index, part.forms.tolist())
        n_groups = len(self.groups)
        rows = _positions(self.groups, _tuples(part.keys))
        self.keys.append(part.keys[rows >= n_groups])
        self._grow(len(self.groups), len(self.index))
        self.counts[np.ix_(rows, at)] += part.counts          # a partial's forms and groups are distinct
        self.tokens[rows] += part.tokens
        self.outlines.append(part.outline)
        self.ids.append(part.ids)
        self.scopes = part.scopes

    def _grow(self, rows: int, columns: int) -> None:
        have_rows, have_columns = self.counts.shape
        if rows > have_rows or columns > have_columns:
            grown = np.zeros((max(2 * have_rows, rows) if rows > have_rows else have_rows,
                              max(2 * have_columns, columns) if columns > have_columns else have_columns), np.int64)
            grown[:have_rows, :have_columns] = self.counts
            self.counts = grown
            self.tokens = np.r_[self.tokens, np.zeros(grown.shape[0] - have_rows, np.int64)]

    def total(self) -> Counts:
        """The merged counts, forms sorted (as `FreqCounter`'s)."""
        forms = np.array(list(self.index), dtype=object)
        order = np.argsort(forms, kind="stable")
        n = len(self.groups)
        keys = pd.concat(self.keys, ignore_index=True) if self.keys else pd.DataFrame()
        rows, self.outlines = merge_outlines(self.outlines), []
        return Counts(forms[order], self.counts[:n, :len(forms)][:, order], self.tokens[:n], keys, rows,
                      self.scopes)


def _positions(index: dict, items: list) -> np.ndarray:
    """Each item's position in `index`, new items appended."""
    return np.fromiter((index.setdefault(x, len(index)) for x in items), dtype=np.int64, count=len(items))


class ScopeCounts(WordGroups):
    """Merged counts of a corpus's scopes (the counts' own unless given), with
    `WordGroups`' tables."""

    def __init__(self, counts: Counts, settings: FreqSettings, source: Source,
                 scopes: list[Scope] | None = None):
        super().__init__(counts.forms, settings)
        self.scopes = tuple(counts.scopes if scopes is None else scopes)
        # each scope sums its groups' rows (few per scope: no product over every group)
        holds = [np.flatnonzero(scope.mask(counts.keys)) for scope in self.scopes]
        self.counts = np.array([counts.counts[g].sum(axis=0) for g in holds],
                               dtype=np.int64).reshape(len(holds), len(self.forms))
        self.tokens = np.array([int(counts.tokens[g].sum()) for g in holds], dtype=np.int64)
        self.source, self.outline = source, counts.outline

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


def tally(job: CountJob, engine: Engine | None = None, partitions: list[Partition] | None = None) -> Counts:
    """The job's counts over a corpus, by partition (the source's own unless given)."""
    merged, parts = Tally(), partitions or job.source.partitions()
    for partial in (engine or Engine()).map(count_partial, parts, job):
        merged.add(partial)
    total = merged.total()
    if total.outline.empty:
        raise CorpusError("corpus has no text segments", path=job.source.path,
                          fix="list at least one non-empty document or table")
    check_unique_ids(job.source, parts, merged.ids)   # each partition's own ids are checked as it is read
    return total


def count_words(corpus, scopes: list[Scope], settings: FreqSettings, engine: Engine | None = None,
                partitions: list[Partition] | None = None) -> ScopeCounts:
    """Counts of every scope over a corpus (folder, packed folder or loaded), by partition
    (the source's own unless given)."""
    source = open_source(corpus)
    return ScopeCounts(tally(CountJob(source, settings, tuple(scopes)), engine, partitions),
                       settings, source)


def count_selected(corpus, selection: Selection, settings: FreqSettings,
                   engine: Engine | None = None) -> tuple[Counts, Source, list[Segment]]:
    """Counts by groups of rows over a corpus, read once, and the segments `selection`
    chooses on its outline (with `select`'s errors, after the corpus's own)."""
    source = open_source(corpus)
    if engine is None or engine.name == "local":
        libc.reuse_freed_memory()
    total = tally(CountJob(source, settings, selection=selection), engine)
    return total, source, selection.resolve(total.outline, source.path)
