"""Term tables reduced by partition: equal to `hcrisis.text.terms.TermIndex.table` for any partitioning.

Candidates never cross a turn (nor a sentence), and a document is never
split between partitions, so a term's count and its number of documents
are sums over partitions; the rest of a table is exact too, in two passes
over the partitions (each read and tokenised where it is reduced):

1. `candidates_partial`: per scope and length, each candidate's lemma key
   with its count and documents, and the scope's words (non-punctuation
   tokens). Merged by key; the thresholds (min_freq, min_docs), C-value
   (nestedness among the kept candidates of the whole scope) and the top
   rows follow from the merged counts alone, since the table's order is
   C-value, count, key.
2. `details_partial`, for the kept rows only: each term's participants (as
   distinct (term, participant) pairs: a participant may speak in several
   partitions), its surface forms with counts (the shown form comes from a
   form's first occurrence), and the in-sentence counts f(L), f(R) of the
   parts of its splits, for G² and PMI.

Only these small tables travel; a partition's tokens stay where it is read.
Where the workers share this machine's disk (the local engine, a local Dask
cluster) the first pass leaves each partition's tokens in a temporary
folder as an Arrow file and the second maps it rather than tokenising again.
Term keyness (`--compare`) takes both segments' counts and the table of
their union from the same passes.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hcrisis.engine.partitions import (Partition, Source, check_unique_ids, id_hashes, merge_outlines, open_source,
                                      outline)
from hcrisis.engine.run import Engine
from hcrisis.errors import CorpusError
from hcrisis.files import temp_folder
from hcrisis.ingest.segments import Segment
from hcrisis.text.terms import (MAX_N, MIN_N, TermIndex, TermSettings, _join, _sequence_codes, _unique_pairs,
                                c_value, finish_table, ranked, shown_forms, weakest_split)


@dataclass(frozen=True)
class TermScope:
    """The segment rows of any of `segments` (one segment, or both sides of a keyness test)."""

    segments: tuple[Segment, ...]
    min_freq: int
    min_docs: int
    top: int | None

    def mask(self, table: pd.DataFrame) -> np.ndarray:
        return np.logical_or.reduce([s.mask(table) for s in self.segments])


@dataclass
class TermJob:
    source: Source
    scopes: tuple[TermScope, ...]
    wanted: tuple[dict[int, list[str]], ...] = ()     # pass 2: per scope, the kept keys by length
    spill: str | None = None    # a folder every worker shares: pass 1's tokens, read back by pass 2


def _index(part: Partition, job: TermJob) -> tuple[pd.DataFrame, TermIndex, list[np.ndarray]]:
    """The partition's segments, the `TermIndex` of its scopes' rows and each scope's token mask.
    With a spill folder the first pass leaves there the partition's tokens (Arrow,
    `hcrisis.text.tokenfile`) and the columns of its segments the second pass reads
    (documents, participants, scope rows), which then neither reads nor tokenises again."""
    from hcrisis.engine.stages import tokens_of_rows
    from hcrisis.text.tokenfile import read_tokens, write_tokens

    spilled = Path(job.spill) / f"part-{part.index:05d}" if job.spill else None
    if spilled is not None and spilled.with_suffix(".arrow").is_file():
        tokens, segments = read_tokens(spilled.with_suffix(".arrow")), pd.read_pickle(spilled.with_suffix(".pkl"))
        rows = [segments[f"_scope{i}"].to_numpy() for i in range(len(job.scopes))]
    else:
        segments = job.source.segments(part)
        rows = [scope.mask(segments) for scope in job.scopes]
        tokens = tokens_of_rows(segments, np.logical_or.reduce(rows))
        if spilled is not None:
            kept = segments[["document_id", "participant_id"]].assign(**{f"_scope{i}": r for i, r in enumerate(rows)})
            kept.to_pickle(spilled.with_suffix(".pkl"))
            write_tokens(tokens, spilled.with_suffix(".arrow"))   # last: the pair is complete when it exists
    index = TermIndex(tokens, segments)
    return segments, index, [r[index.seg] for r in rows]


def _candidates(index: TermIndex, m: int, inside: np.ndarray) -> tuple[dict, list[str]]:
    """`TermIndex._level_stats` of level m and the lemma key of each candidate."""
    lv = index._level_stats(m, inside)
    return lv, _join(index.lemma_names, index.lemma, lv["pos"], m)


# ---------------------------------------------------------------- pass 1
@dataclass
class Candidates:
    levels: list[dict[int, pd.DataFrame]]   # per scope, per length: count, documents by key
    words: np.ndarray                        # per scope
    outline: pd.DataFrame
    ids: np.ndarray                          # hashes of its segment ids (`id_hashes`)


def candidates_partial(part: Partition, job: TermJob) -> Candidates:
    segments, index, insides = _index(part, job)
    levels = []
    for inside in insides:
        levels.append({})
        for m in range(MIN_N, MAX_N + 1):
            lv, keys = _candidates(index, m, inside)
            levels[-1][m] = pd.DataFrame({"count": lv["count"], "documents": lv["documents"]}, index=keys)
    return Candidates(levels, np.array([int((index.word & inside).sum()) for inside in insides]), outline(segments),
                      id_hashes(segments))


def merge_candidates(partials: list[Candidates], scope: int) -> dict[int, pd.DataFrame]:
    """Per length, the merged counts and documents of scope number `scope`, by key."""
    return {m: pd.concat([p.levels[scope][m] for p in partials]).groupby(level=0, sort=False).sum()
            for m in range(MIN_N, MAX_N + 1)}


def kept(levels: dict[int, pd.DataFrame], scope: TermScope) -> pd.DataFrame:
    """The candidates over the thresholds with their C-values (nestedness among them), ranked, top rows."""
    kept_levels = {m: lv[(lv["count"] >= scope.min_freq) & (lv["documents"] >= scope.min_docs)]
                   for m, lv in levels.items()}
    nested_sum = {m: np.zeros(len(lv)) for m, lv in kept_levels.items()}
    nested_n = {m: np.zeros(len(lv)) for m, lv in kept_levels.items()}
    for m, lv in kept_levels.items():                      # b: the longer candidate
        words = [key.split(" ") for key in lv.index]
        for k in range(MIN_N, m):                          # a: its sub-sequences of k tokens, once per b
            pairs = {(" ".join(w[o:o + k]), b) for b, w in enumerate(words) for o in range(m - k + 1)}
            a_keys = [a for a, _ in pairs]
            b_rows = np.fromiter((b for _, b in pairs), dtype=np.int64, count=len(pairs))
            at = kept_levels[k].index.get_indexer(a_keys)
            hit = at >= 0
            np.add.at(nested_sum[k], at[hit], lv["count"].to_numpy()[b_rows[hit]])
            np.add.at(nested_n[k], at[hit], 1)
    frames = [lv.assign(length=m, c_value=c_value(m, lv["count"].to_numpy(), nested_sum[m], nested_n[m]))
              for m, lv in kept_levels.items()]
    return ranked(pd.concat(frames), scope.top)


# ---------------------------------------------------------------- pass 2
@dataclass
class Details:
    participants: list[pd.DataFrame]   # per scope: distinct (key, participant)
    forms: list[pd.DataFrame]          # per scope: key, lowers, form (first occurrence), n
    parts: list[dict[int, pd.Series]]  # per scope, per length k: in-sentence count of each part key


def _split_parts(wanted: dict[int, list[str]]) -> dict[int, list[str]]:
    """The left and right parts of every split of the wanted keys, by length."""
    parts: dict[int, set[str]] = {}
    for m, keys in wanted.items():
        for key in keys:
            w = key.split(" ")
            for k in range(1, m):
                parts.setdefault(k, set()).add(" ".join(w[:k]))
                parts.setdefault(m - k, set()).add(" ".join(w[k:]))
    return {k: sorted(v) for k, v in parts.items()}


def _part_counts(index: TermIndex, inside: np.ndarray, k: int, keys: list[str]) -> pd.Series:
    """In-sentence occurrences in the scope of each lemma sequence `keys` (of k lemmas), as
    `TermIndex._strength` counts them, found by encoding k lemma codes in one integer."""
    code = {w: i for i, w in enumerate(index.lemma_names.tolist())}
    v = max(len(code), 1)
    n = index.ids[k].size
    at = np.flatnonzero(index.in_sent[k] & inside[:n])
    enc = np.zeros(at.size, dtype=np.int64)
    for j in range(k):
        enc = enc * v + index.lemma[at + j]
    wanted = np.full(len(keys), -1, dtype=np.int64)
    for i, key in enumerate(keys):
        codes = [code.get(w) for w in key.split(" ")]
        if None not in codes:
            wanted[i] = 0
            for c in codes:
                wanted[i] = wanted[i] * v + c
    found, counts = np.unique(enc[np.isin(enc, wanted)], return_counts=True)
    result = np.zeros(len(keys), dtype=np.int64)
    if found.size:
        at = np.minimum(np.searchsorted(found, wanted), found.size - 1)
        hit = (wanted >= 0) & (found[at] == wanted)
        result[hit] = counts[at[hit]]
    return pd.Series(result, index=keys)


def details_partial(part: Partition, job: TermJob) -> Details:
    segments, index, insides = _index(part, job)
    pid = segments["participant_id"].fillna("").astype(str).to_numpy(dtype=object)
    out = Details([], [], [])
    for inside, wanted in zip(insides, job.wanted):
        levels = [_level_details(index, m, inside, keys, pid) for m, keys in wanted.items()]
        out.participants.append(pd.concat([people for people, _ in levels], ignore_index=True))
        out.forms.append(pd.concat([forms for _, forms in levels], ignore_index=True))
        out.parts.append({k: _part_counts(index, inside, k, keys) for k, keys in _split_parts(wanted).items()})
    return out


def _level_details(index: TermIndex, m: int, inside: np.ndarray, keys: list[str],
                   pid: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Distinct (key, participant) pairs of the wanted terms of length m, and their surface
    forms: key, lower-cased tokens, form as written at its first occurrence, count (in
    order of first occurrence within a key, as `TermIndex._forms` lists them)."""
    lv, all_keys = _candidates(index, m, inside)
    pos = index._positions(m, inside)
    pos = pos[np.isin(index.ids[m][pos], lv["id"][pd.Index(all_keys).isin(keys)])]
    key_of = dict(zip(lv["id"].tolist(), all_keys))
    who = pid[index.seg[pos]]
    people = pd.DataFrame({"key": [key_of[i] for i in index.ids[m][pos].tolist()], "participant": who})
    term_ids, first, count = _unique_pairs(index.ids[m][pos], _sequence_codes(index.lower, pos, m))
    forms = pd.DataFrame({"key": [key_of[i] for i in term_ids.tolist()],
                          "lowers": _join(index.lower_names, index.lower, pos[first], m),
                          "form": _join(index.lower_names, index.lower, pos[first], m, index.tokens.space),
                          "n": count, "first": pos[first]})
    forms = forms.sort_values(["key", "first"], kind="mergesort").drop(columns="first")
    return people.loc[who != ""].drop_duplicates(), forms


def finish(table: pd.DataFrame, partials: list[Details], scope: int, words: int) -> pd.DataFrame:
    """The kept rows with participants, G², PMI, shown term and members (merged details)."""
    table = table.copy()
    people = pd.concat([p.participants[scope] for p in partials], ignore_index=True).drop_duplicates()
    table["participants"] = people.groupby("key").size().reindex(table.index, fill_value=0).astype(np.int64)
    parts = {k: sum(p.parts[scope][k] for p in partials) for k in partials[0].parts[scope]} if partials else {}
    g2, pmi = np.zeros(len(table)), np.zeros(len(table))
    for m, rows in table.groupby("length", sort=False).indices.items():
        words_of = [key.split(" ") for key in table.index[rows]]
        splits = [(parts[k].reindex([" ".join(w[:k]) for w in words_of]).to_numpy(),
                   parts[m - k].reindex([" ".join(w[k:]) for w in words_of]).to_numpy()) for k in range(1, m)]
        g2[rows], pmi[rows] = weakest_split(table["count"].to_numpy()[rows], splits, float(words))
    table["g2"], table["pmi"] = g2, pmi
    forms = pd.concat([p.forms[scope] for p in partials], ignore_index=True)
    forms = forms.groupby(["key", "lowers"], sort=False).agg(form=("form", "first"), n=("n", "sum")).reset_index()
    shown = shown_forms(forms.assign(id=table.index.get_indexer(forms["key"])))
    rows = [shown[i] for i in range(len(table))]
    table = table[["length", "count", "documents", "participants", "c_value", "g2", "pmi"]]
    return finish_table(table, [r[0] for r in rows], [r[1] for r in rows], words)


# ---------------------------------------------------------------- the stage
@dataclass
class PartitionedTerms:
    tables: list[pd.DataFrame]   # per scope
    counts: list[pd.Series]      # per scope: the count of every candidate (before thresholds)
    words: np.ndarray            # per scope
    outline: pd.DataFrame
    source: Source

    def corpus(self):
        return self.source.outline_corpus(self.outline)


def partitioned_terms(corpus, scopes: list[TermScope], engine: Engine | None = None,
                      partitions: list[Partition] | None = None, check=None) -> PartitionedTerms:
    """The term table of every scope over a corpus (folder, packed folder or loaded), by
    partition on `engine`; `check(corpus)` runs between the passes, on the corpus with its
    outline as segments table (the whole corpus's checks of the segments)."""
    source = open_source(corpus)
    parts = partitions or source.partitions()
    engine = engine or Engine()
    spill = temp_folder(tempfile.gettempdir(), "hcrisis-terms", "terms")
    try:
        return _two_passes(corpus, source, parts, scopes, engine, check, str(spill) if _shares_disk(engine) else None)
    finally:
        shutil.rmtree(spill, ignore_errors=True)


def _shares_disk(engine: Engine) -> bool:
    """Do the engine's workers see this machine's files (this process, or a local cluster)?"""
    return engine.name == "local" or getattr(engine, "cluster", None) is not None


def _two_passes(corpus, source: Source, parts: list[Partition], scopes: list[TermScope], engine: Engine,
                check, spill: str | None) -> PartitionedTerms:
    first = list(engine.map(candidates_partial, parts, TermJob(source, tuple(scopes), spill=spill)))
    rows = merge_outlines([p.outline for p in first])
    if rows.empty:
        raise CorpusError("corpus has no text segments", path=source.path,
                          fix="list at least one non-empty document or table")
    check_unique_ids(source, parts, [p.ids for p in first])
    if check is not None:
        check(source.outline_corpus(rows))
    merged = [merge_candidates(first, i) for i in range(len(scopes))]
    tables = [kept(levels, scope) for levels, scope in zip(merged, scopes)]
    wanted = tuple({int(m): t.index[(t["length"] == m).to_numpy()].tolist() for m in range(MIN_N, MAX_N + 1)}
                   for t in tables)
    second = list(engine.map(details_partial, parts, TermJob(source, tuple(scopes), wanted, spill)))
    words = np.sum([p.words for p in first], axis=0)
    tables = [finish(t, second, i, int(words[i])) for i, t in enumerate(tables)]
    counts = [pd.concat([lv["count"] for lv in levels.values()]) for levels in merged]
    return PartitionedTerms(tables, counts, words, rows, source)


def scopes_of(segments: list[Segment], settings: TermSettings, compare: bool) -> list[TermScope]:
    """One scope per segment; with `compare`, also each side's candidates (every count) and
    their union (every kept row), as `hcrisis.text.terms.term_keyness` reads them."""
    scopes = [TermScope((s,), settings.min_freq, settings.min_docs, settings.top) for s in segments]
    if compare:
        a, b = segments
        scopes += [TermScope((a, b), settings.min_freq, settings.min_docs, None)]
    return scopes
