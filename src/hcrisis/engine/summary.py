"""The corpus description (`hcrisis corpus info`) reduced by partition.

Each partition is read and tokenised on its own and reduced to its segments
and words per (group, document, participant) (`summary_partial`) and its
unmapped speaker labels; the merge counts documents and participants once
(`merge_summaries`), so the table equals `corpus_summary`'s on the whole
corpus while memory stays one partition's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hcrisis.engine.partitions import Partition, Source, check_unique_ids, id_hashes, open_source
from hcrisis.engine.run import Engine
from hcrisis.errors import CorpusError
from hcrisis.ingest.corpus import merge_summaries, summary_column, summary_partial, unmapped_speakers


@dataclass
class SummaryJob:
    source: Source
    column: str | None
    min_length: int


@dataclass
class Description:
    name: str                                    # the corpus's
    table: pd.DataFrame                          # corpus_summary's
    unmapped_speakers: list[tuple[str, str]]     # (document, label), in corpus order


def summary_of_partition(part: Partition, job: SummaryJob) -> tuple[pd.DataFrame, list[tuple[str, str]], np.ndarray]:
    from hcrisis.engine.stages import word_tokens_of_rows
    from hcrisis.text.tokens import counted_words

    # read and tokenised as word counts are (`freq`): the texts apart, word types only
    rows, texts = job.source.rows(part)
    words = counted_words(word_tokens_of_rows(rows, texts, np.ones(len(rows), dtype=bool)), job.min_length)
    return summary_partial(rows, job.column, words), unmapped_speakers(rows), id_hashes(rows)


def describe_corpus(corpus, by: str | None = None, min_length: int = 3, engine: Engine | None = None,
                    partitions: list[Partition] | None = None) -> Description:
    """`corpus_summary` of a corpus folder, packed folder or loaded corpus, by partition
    (the source's own unless given)."""
    source = open_source(corpus)
    column = summary_column(by, source.attributes(), source.columns(), source.path)
    parts = partitions or source.partitions()
    partials = list((engine or Engine()).map(summary_of_partition, parts, SummaryJob(source, column, min_length)))
    check_unique_ids(source, parts, [h for _, _, h in partials])
    tables = [t for t, _, _ in partials if not t.empty]
    if not tables:
        raise CorpusError("corpus has no text segments", path=source.path,
                          fix="list at least one non-empty document or table")
    return Description(source.name, merge_summaries(tables, by), [u for _, found, _ in partials for u in found])

