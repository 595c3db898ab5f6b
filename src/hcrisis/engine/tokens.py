"""A corpus's tokens made partition by partition on an engine, joined in partition order.

Tokens never depend on which texts are tokenised together (each distinct
span is tokenised on its own: `hcrisis.text.tokens`), so each partition is
tokenised where it is read (this process or a Dask worker) and
`join_tokens` concatenates the partitions' token arrays. Only the type
tables need merging: the whole-corpus tokeniser numbers word types by
language (in sorted order), then by spaCy's orth hash of the form (the order
of `np.unique` over the hashes), so each partition also returns its types'
hashes and the joined table is sorted the same way. The result equals
`tokenize_segments` of the whole segments table, array for array (tested).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hcrisis.engine.partitions import Partition, Source, open_source
from hcrisis.engine.run import Engine
from hcrisis.errors import CorpusError
from hcrisis.text.tokens import Tokens


@dataclass
class TokenJob:
    source: Source


def tokens_partial(part: Partition, job: TokenJob) -> tuple[Tokens, np.ndarray]:
    """A partition's tokens and the orth hash of each of its word types."""
    from hcrisis.text.tokens import shared_pipeline, tokenize_segments

    tokens = tokenize_segments(job.source.segments(part), processes=1)
    strings = {lang: shared_pipeline(None, lang).vocab.strings for lang in tokens.types["language"].unique()}
    hashes = np.fromiter((strings[lang][form] for form, lang in zip(tokens.types["form"], tokens.types["language"])),
                         dtype=np.uint64, count=len(tokens.types))
    return tokens, hashes


def join_tokens(partials: list[tuple[Tokens, np.ndarray]]) -> Tokens:
    """The partitions' tokens as one `Tokens`, types numbered as the whole-corpus tokeniser does."""
    types = pd.concat([t.types.assign(_hash=h) for t, h in partials], ignore_index=True)
    first = ~types.duplicated(["language", "_hash"]).to_numpy()
    order = np.lexsort((types["_hash"].to_numpy(), types["language"].to_numpy(dtype=str)))
    order = order[first[order]]                                  # each type once, in the tokeniser's order
    new_id = np.empty(len(types), dtype=np.int64)
    key = pd.MultiIndex.from_frame(types[["language", "_hash"]])
    new_id[:] = pd.Index(key[order]).get_indexer(key)
    offsets = np.cumsum([0] + [len(t.types) for t, _ in partials])
    lengths = [np.diff(t.bounds) for t, _ in partials]
    return Tokens(
        segment_ids=[s for t, _ in partials for s in t.segment_ids],
        bounds=np.concatenate([[0], np.cumsum(np.concatenate(lengths))]).astype(np.int64),
        type_id=np.concatenate([new_id[o + t.type_id] for o, (t, _) in zip(offsets, partials)]),
        start=np.concatenate([t.start for t, _ in partials]),
        sent_start=np.concatenate([t.sent_start for t, _ in partials]),
        space=np.concatenate([t.space for t, _ in partials]),
        types=types.drop(columns="_hash").take(order).reset_index(drop=True),
        model=partials[0][0].model)


def engine_tokens(corpus, engine: Engine | None = None, partitions: list[Partition] | None = None,
                  segment_ids: list[str] | None = None) -> Tokens:
    """The tokens of a corpus (folder, packed folder or loaded), tokenised partition by
    partition on `engine` (default: in this process) and joined; with `segment_ids`,
    in that order (the rows of the corpus's segments table)."""
    source = open_source(corpus)
    partials = list((engine or Engine()).map(tokens_partial, partitions or source.partitions(), TokenJob(source)))
    if not partials:
        from hcrisis.text.tokens import tokenize_segments
        return tokenize_segments(pd.DataFrame({"segment_id": [], "text": []}))
    tokens = join_tokens(partials)
    if segment_ids is None or segment_ids == tokens.segment_ids:
        return tokens
    rows = pd.Index(tokens.segment_ids).get_indexer(segment_ids)
    if (rows < 0).any() or len(rows) != len(tokens.segment_ids):
        raise CorpusError("the corpus's files changed while it was read", path=source.path,
                          fix="run the command again")
    return tokens.subset(rows)
