"""Keyword in context (NVivo's Text Search Query with narrow/broad context).

A query word matches by lemma (every form sharing the query's lemma, with
the toolkit's lemma overrides, so `house` never finds "housing"), by exact
lower-cased form, or by wildcard (`manag*`, fnmatch on the lower-cased
form). A query of several words (`"black box"`, `"manag* skill*"`) is a
phrase: its words, each matched that way, in a row within one turn. Each hit is shown with `window` words (punctuation not counted) either side inside its turn,
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


MAX_PHRASE_WORDS = 8


def check_query(phrase: str, match: str = "lemma", window: int = 0) -> list[str]:
    """The query's words lower-cased, or an error for an empty or too long phrase, an
    unknown match or a negative window (checked before the slow part, tokenising)."""
    words = phrase.strip().lower().split()
    if not words or len(words) > MAX_PHRASE_WORDS:
        raise InputError(f"cannot search for '{phrase}'",
                         fix=f"give one to {MAX_PHRASE_WORDS} words, each optionally with * or ?")
    if match not in MATCHES:
        raise InputError(f"unknown match '{match}'", fix="use --match lemma or --match exact")
    if window < 0:
        raise InputError("window must be 0 or more", fix="pass --window 5, say")
    return words


def type_matches(tokens: Tokens, word: str, match: str = "lemma") -> np.ndarray:
    """Boolean per word type: does it match one lower-cased query word?"""
    lower = tokens.types["lower"].tolist()
    if "*" in word or "?" in word:
        return np.array([fnmatchcase(f, word) for f in lower], dtype=bool)
    if match == "exact":
        return np.array([f == word for f in lower], dtype=bool)
    return (tokens.types["lemma"] == lemmatize_form(word)).to_numpy()


def phrase_starts(tokens: Tokens, phrase: str, match: str = "lemma") -> tuple[np.ndarray, int]:
    """Token indices where the query's words occur in a row within one segment, and the
    number of words. Each word matches as `type_matches` says (lemma, exact, wildcard)."""
    words = check_query(phrase, match)
    n = len(tokens)
    if n < len(words):
        return np.array([], dtype=np.int64), len(words)
    hit = np.ones(max(0, n - len(words) + 1), dtype=bool)
    seg = tokens.segment
    for k, w in enumerate(words):
        hit &= type_matches(tokens, w, match)[tokens.type_id][k:n - len(words) + 1 + k]
        hit &= seg[k:n - len(words) + 1 + k] == seg[:n - len(words) + 1]
    return np.flatnonzero(hit), len(words)


def _window(word: np.ndarray, a: int, b: int, i: int, j: int, n: int) -> tuple[int, int]:
    """Token range holding `n` words (punctuation is free) either side of tokens [i, j) in [a, b)."""
    left = a + np.flatnonzero(word[a:i])
    right = j + np.flatnonzero(word[j:b])
    lo = i if n == 0 else (left[-n] if len(left) >= n else a)
    hi = j if n == 0 else (right[n - 1] + 1 if len(right) >= n else b)
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
    starts, width = phrase_starts(tokens, word, match)
    seg_of = tokens.segment
    if rows is not None:
        starts = starts[np.asarray(rows, bool)[seg_of[starts]]]
    word = ~tokens.column("is_punct")
    end = tokens.start + tokens.types["form"].str.len().to_numpy()[tokens.type_id]
    attrs = [c for c in ATTRIBUTION if c in segments.columns]
    found: dict[int, list] = {}
    records = []
    for i in starts:
        j = i + width          # the phrase is tokens i..j-1
        r = seg_of[i]
        a, b = tokens.bounds[r], tokens.bounds[r + 1]
        lo, hi = (a, b) if paragraph else _window(word, a, b, i, j, window)
        row = segments.iloc[r]
        if scanner is not None and r not in found:
            found[r] = scanner.find(row["text"])
        record = {"document_id": row["document_id"], "segment_id": row["segment_id"],
                  **{c: row[c] for c in attrs}, "_order": i, "_kinds": []}
        for column, (x, y) in (("left", (lo, i)), ("match", (i, j)), ("right", (j, hi))):
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
             allow_identifiers: bool = False, tokens: Tokens | None = None) -> tuple[pd.DataFrame, list[Path]]:
    """`hcrisis kwic`: the hits of `word` in a segment, identifiers masked unless allowed;
    with `out`, also written (FILE.csv and .md), refused if a hit shows an identifier.
    `tokens`: the corpus's tokens if already made (a study's stored tokens), else tokenised now."""
    from hcrisis.ingest.corpus import as_corpus
    from hcrisis.ingest.privacy import guard_masked
    from hcrisis.tables import write_table
    from hcrisis.text.freq import tokenize_with_progress

    c = as_corpus(corpus)
    check_segments([segment], c.segments, c.manifest_path)
    check_query(word, match, window)     # before the slow part (tokenising)
    hits = kwic(tokens if tokens is not None else tokenize_with_progress(c.segments), c.segments, word, window=window, paragraph=paragraph,
                rows=segment.mask(c.segments), match=match,
                scanner=None if allow_identifiers else Scanner.from_corpus(c))
    if out is None:
        return hits, []
    guard_masked(hits, Path(out))
    return hits, write_table(hits, Path(out).with_suffix(""))


def centred_lines(hits: pd.DataFrame, width: int) -> list[str]:
    """KWIC lines with the keyword column centred and never cut.

    Each line is `segment_id participant  left  match  right`: every match
    padded to the longest one, the left context right-aligned and cut from
    its start, the right context cut at its end (with `…`), so the line fits
    `width` characters whenever the keyword column does.
    """
    if hits.empty:
        return []
    who = hits["participant_id"].fillna("") if "participant_id" in hits else pd.Series("", index=hits.index)
    heads = [f"{seg} {pid}".rstrip() for seg, pid in zip(hits["segment_id"], who)]
    head_w = max(map(len, heads))
    match_w = max(map(len, hits["match"]))
    side = max(8, (width - head_w - match_w - 6) // 2)
    lines = []
    for head, left, match, right in zip(heads, hits["left"], hits["match"], hits["right"]):
        left = left if len(left) <= side else "…" + left[len(left) - side + 1:]
        right = right if len(right) <= side else right[:side - 1] + "…"
        lines.append(f"{head:<{head_w}}  {left:>{side}}  {match:^{match_w}}  {right}".rstrip())
    return lines
