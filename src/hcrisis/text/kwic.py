"""Keyword in context (NVivo's Text Search Query with narrow/broad context).

A query word matches by lemma (every form sharing the query's lemma, with
the toolkit's lemma overrides, so `house` never finds "housing"), by exact
lower-cased form, or by wildcard (`manag*`, fnmatch on the lower-cased
form). Each hit is shown with `window` words (punctuation not counted) either side inside its turn,
or with its whole turn (`paragraph=True`, NVivo's broad context), and the
attribution columns of its segment. Only the window is returned, never more
transcript text than needed; with a privacy `Scanner`, identifiers in it
(even partly shown) are replaced by their kind (`[EMAIL]`, `[NAME]`).
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hcrisis.errors import InputError
from hcrisis.ingest.privacy import Scanner, hide_identifiers
from hcrisis.ingest.segments import ALL, Segment, check_segments
from hcrisis.text.tokens import Tokens, lemmatize_form

if TYPE_CHECKING:
    from hcrisis.ingest.corpus import Corpus

MATCHES = ("lemma", "exact")
ATTRIBUTION = ["participant_id", "role_label", "sector", "source_type"]


def check_query(word: str, match: str = "lemma", window: int = 0) -> str:
    """The query lower-cased, or an error for a phrase, an unknown match or a negative window."""
    query = word.strip().lower()
    if not query or " " in query:
        raise InputError(f"cannot search for '{word}'", fix="give one word, optionally with * or ?")
    if match not in MATCHES:
        raise InputError(f"unknown match '{match}'", fix="use --match lemma or --match exact")
    if window < 0:
        raise InputError("window must be 0 or more", fix="pass --window 5, say")
    return query


def type_matches(tokens: Tokens, word: str, match: str = "lemma") -> np.ndarray:
    """Boolean per word type: does it match the query?"""
    query = check_query(word, match)
    lower = tokens.types["lower"].tolist()
    if "*" in query or "?" in query:
        return np.array([fnmatchcase(f, query) for f in lower], dtype=bool)
    if match == "exact":
        return np.array([f == query for f in lower], dtype=bool)
    return (tokens.types["lemma"] == lemmatize_form(query)).to_numpy()


def _window(word: np.ndarray, a: int, b: int, i: int, n: int) -> tuple[int, int]:
    """Token range holding `n` words (punctuation is free) either side of token i in [a, b)."""
    left = a + np.flatnonzero(word[a:i])
    right = i + 1 + np.flatnonzero(word[i + 1:b])
    lo = i if n == 0 else (left[-n] if len(left) >= n else a)
    hi = i + 1 if n == 0 else (right[n - 1] + 1 if len(right) >= n else b)
    return int(lo), int(hi)


def kwic(tokens: Tokens, segments: pd.DataFrame, word: str, *, window: int = 5,
         paragraph: bool = False, rows: np.ndarray | None = None, match: str = "lemma",
         scanner: Scanner | None = None) -> pd.DataFrame:
    """One row per hit: document, segment, attribution, left, match, right.

    Sorted by document, then order in the corpus. `rows` limits the search
    to a row mask of the segments table (a study segment). With a `scanner`,
    identifiers overlapping the shown text are masked and listed, in row
    order, as (segment_id, kind) in `attrs['identifiers']`.
    """
    check_query(word, match, window)
    hit = type_matches(tokens, word, match)[tokens.type_id]
    if rows is not None:
        hit &= np.asarray(rows, bool)[tokens.segment]
    seg_of = tokens.segment
    word = ~tokens.column("is_punct")
    end = tokens.start + tokens.types["form"].str.len().to_numpy()[tokens.type_id]
    attrs = [c for c in ATTRIBUTION if c in segments.columns]
    found: dict[int, list] = {}
    records = []
    for i in np.flatnonzero(hit):
        r = seg_of[i]
        a, b = tokens.bounds[r], tokens.bounds[r + 1]
        lo, hi = (a, b) if paragraph else _window(word, a, b, i, window)
        row = segments.iloc[r]
        if scanner is not None and r not in found:
            found[r] = scanner.find(row["text"])
        record = {"document_id": row["document_id"], "segment_id": row["segment_id"],
                  **{c: row[c] for c in attrs}, "_order": i, "_kinds": []}
        for column, (x, y) in (("left", (lo, i)), ("match", (i, i + 1)), ("right", (i + 1, hi))):
            shown, kinds = (hide_identifiers(row["text"], tokens.start[x], end[y - 1], found.get(r, []))
                            if y > x else ("", []))
            record[column] = shown
            record["_kinds"] += kinds
        records.append(record)
    columns = ["document_id", "segment_id", *attrs, "left", "match", "right"]
    df = pd.DataFrame(records, columns=[*columns, "_order", "_kinds"])
    df = df.sort_values(["document_id", "_order"], kind="mergesort")
    hidden = list(dict.fromkeys((seg, k) for seg, kinds in zip(df["segment_id"], df["_kinds"])
                                for k in kinds))
    df = df[columns].reset_index(drop=True)
    df.attrs["identifiers"] = hidden
    return df


def run_kwic(corpus: str | Path | Corpus, word: str, segment: Segment = ALL, out: str | Path | None = None, *,
             window: int = 5, paragraph: bool = False, match: str = "lemma",
             allow_identifiers: bool = False) -> tuple[pd.DataFrame, list[Path]]:
    """`hcrisis kwic`: the hits of `word` in a segment, identifiers masked unless allowed;
    with `out`, also written (FILE.csv and .md), refused if a hit shows an identifier."""
    from hcrisis.ingest.corpus import as_corpus
    from hcrisis.ingest.privacy import guard_masked
    from hcrisis.tables import write_table
    from hcrisis.text.freq import tokenize_with_progress

    c = as_corpus(corpus)
    check_segments([segment], c.segments, c.manifest_path)
    check_query(word, match, window)     # before the slow part (tokenising)
    hits = kwic(tokenize_with_progress(c.segments), c.segments, word, window=window, paragraph=paragraph,
                rows=segment.mask(c.segments), match=match,
                scanner=None if allow_identifiers else Scanner.from_corpus(c))
    if out is None:
        return hits, []
    guard_masked(hits, Path(out))
    return hits, write_table(hits, Path(out).with_suffix(""))
