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
- codings: each partition is coded as a whole corpus would be (the codebook's
  description idf comes from the codebook alone, so a unit's coding does not
  depend on other partitions); the merge shifts rows by the partition's
  first row and orders the codings as `apply_codebook` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hcrisis.engine.partitions import Partition, Source, open_source
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


def _tokens_of(segments: pd.DataFrame, needed: np.ndarray):
    """Tokens of the needed rows only: other rows are tokenised as empty texts."""
    from hcrisis.text.tokens import tokenize

    texts = [t if keep else "" for t, keep in zip(segments["text"].tolist(), needed.tolist())]
    return tokenize(texts, segments["segment_id"].tolist(), processes=1)


# ---------------------------------------------------------------- word counts
@dataclass
class CountJob:
    source: Source
    settings: FreqSettings
    scopes: tuple[Scope, ...]


@dataclass
class Counts:
    """Counted tokens per form (rows: scopes), all tokens per scope, segment rows read."""

    forms: np.ndarray
    counts: np.ndarray
    tokens: np.ndarray
    rows: int


def count_partial(part: Partition, job: CountJob) -> Counts:
    segments = job.source.segments(part)
    masks = [scope.mask(segments) for scope in job.scopes]
    counter = FreqCounter(_tokens_of(segments, np.logical_or.reduce(masks)), segments, job.settings)
    counts = np.stack([counter.form_counts(m) for m in masks])
    used = counts.any(axis=0)
    return Counts(counter.forms[used], counts[:, used], np.array([counter.tokens_in(m) for m in masks]),
                  len(segments))


class Tally:
    """Partial counts added as they arrive: forms looked up in a dict (a partial's few
    thousand forms cost milliseconds, whatever the total), sorted once at the end."""

    def __init__(self, n_scopes: int):
        self.index: dict[str, int] = {}
        self.counts = np.zeros((n_scopes, 1024), dtype=np.int64)
        self.tokens = np.zeros(n_scopes, dtype=np.int64)
        self.rows = 0

    def add(self, part: Counts) -> None:
        at = np.fromiter((self.index.setdefault(f, len(self.index)) for f in part.forms.tolist()),
                         dtype=np.int64, count=len(part.forms))
        if len(self.index) > self.counts.shape[1]:
            grown = np.zeros((self.counts.shape[0], max(2 * self.counts.shape[1], len(self.index))), np.int64)
            grown[:, :self.counts.shape[1]] = self.counts
            self.counts = grown
        self.counts[:, at] += part.counts          # a partial's forms are distinct
        self.tokens += part.tokens
        self.rows += part.rows

    def total(self) -> Counts:
        """The merged counts, forms sorted (as `FreqCounter`'s)."""
        forms = np.array(list(self.index), dtype=object)
        order = np.argsort(forms, kind="stable")
        return Counts(forms[order], self.counts[:, :len(forms)][:, order], self.tokens, self.rows)


class ScopeCounts(WordGroups):
    """Merged counts of a corpus's scopes, with `WordGroups`' tables."""

    def __init__(self, counts: Counts, settings: FreqSettings):
        super().__init__(counts.forms, settings)
        self.counts, self.tokens = counts.counts, counts.tokens

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
    if not total.rows:
        raise CorpusError("corpus has no text segments", path=corpus,
                          fix="list at least one non-empty document or table")
    return ScopeCounts(total, settings)


# ---------------------------------------------------------------- codings
@dataclass
class CodeJob:
    source: Source
    codebook: Any


def code_partial(part: Partition, job: CodeJob) -> tuple[pd.DataFrame, int]:
    """The partition's codings (rows of its own segments table) and its number of rows."""
    from hcrisis.coding.apply import apply_codebook, coded_rows

    segments = job.source.segments(part)
    needed = np.zeros(len(segments), dtype=bool)
    needed[coded_rows(segments)] = True
    return apply_codebook(job.codebook, segments, _tokens_of(segments, needed)), len(segments)


def merge_codings(partials: list[tuple[pd.DataFrame, int]], segment_ids: np.ndarray) -> pd.DataFrame:
    """Codings of every partition, rows shifted to the whole table's, in `apply_codebook`'s order."""
    first = np.cumsum([0] + [n for _, n in partials])
    df = pd.concat([c.assign(row=c["row"] + first[i]) for i, (c, _) in enumerate(partials)], ignore_index=True)
    rank = pd.factorize(segment_ids, sort=True)[0][df["row"].to_numpy()]
    return df.take(np.lexsort((df["order"].to_numpy(), df["start"].to_numpy(), rank))).reset_index(drop=True)


def code_corpus(corpus, codebook, segment_ids: np.ndarray, engine: Engine | None = None,
                partitions: list[Partition] | None = None) -> pd.DataFrame:
    """`apply_codebook` over a corpus, by partition; `segment_ids` of the whole segments table."""
    source = open_source(corpus)
    partials = list((engine or Engine()).map(code_partial, partitions or source.partitions(),
                                             CodeJob(source, codebook)))
    return merge_codings(partials, segment_ids)


# ---------------------------------------------------------------- commands
def _study_scopes(corpus, study_path, default_corpus):
    """The study (if any) and the corpus to read: given, else the study's, else the default;
    the study's segments checked against the corpus's columns."""
    from hcrisis.study.model import check_segment_columns, load_study

    study = load_study(study_path) if study_path is not None else None
    corpus = corpus if corpus is not None else (study.corpus_path if study else default_corpus)
    if study is not None:
        check_segment_columns(study, pd.DataFrame(columns=open_source(corpus).columns()))
    return study, corpus


def freq_table(corpus, study_path, default_corpus, segment_id: str | None, *, engine: Engine | None = None,
               **overrides: Any) -> tuple[pd.DataFrame, Segment, FreqSettings]:
    """`hcrisis freq`: the frequency table of one segment (top rows), its segment and settings."""
    from hcrisis.text.freq import resolve_segment, settings_from

    study, corpus = _study_scopes(corpus, study_path, default_corpus)
    settings, seg = settings_from(study, **overrides), resolve_segment(study, segment_id)
    return count_words(corpus, [Scope(seg)], settings, engine).table(0, top=settings.top), seg, settings


def keyness_table(corpus, study_path, default_corpus, a: str, b: str | None, *, correction: str = "fdr_bh",
                  engine: Engine | None = None) -> pd.DataFrame:
    """`hcrisis compare`: keyness of segment `a` against `b`, or against the rest when `b` is None."""
    from hcrisis.text.freq import resolve_segment, settings_from

    study, corpus = _study_scopes(corpus, study_path, default_corpus)
    seg_a = resolve_segment(study, a)
    scope_b = Scope(resolve_segment(study, b)) if b else Scope(seg_a, rest=True)
    counts = count_words(corpus, [Scope(seg_a), scope_b], settings_from(study), engine)
    return counts.keyness(0, 1, labels=(a, b or "rest"), correction=correction)


@dataclass
class CodeRun:
    codebook: Any
    codings: pd.DataFrame
    segments: int
    written: list


def run_code(corpus, codebook, out, *, allow_identifiers: bool = False, engine: Engine | None = None) -> CodeRun:
    """`hcrisis code`: load, code partition by partition, check the quotations, write every output."""
    from pathlib import Path

    from hcrisis.coding.apply import guard_quotes, write_outputs
    from hcrisis.coding.codebook import load_codebook
    from hcrisis.ingest.corpus import as_corpus

    book = load_codebook(codebook)
    loaded = as_corpus(corpus)
    segments = loaded.segments
    codings = code_corpus(corpus, book, segments["segment_id"].to_numpy(), engine)
    guard_quotes(codings, segments, Path(out), allow_identifiers, loaded)
    return CodeRun(book, codings, len(segments),
                   write_outputs(codings, book, segments, Path(out), loaded.attributes))
