"""Multi-word terms: candidates, C-value, collocation strength, keyness and merging.

Candidates come from the token stream of `hcrisis.text.tokens` (tokenised once):
n-grams of 2–4 tokens of participant speech (interviewer turns excluded by
the study segment) that do not start or end with a stop word, contain no
punctuation (or whitespace token) and do not cross a sentence or turn
boundary. Inner stop words are allowed ("right to buy"). A term is the
sequence of its tokens' lemmas, so "housing associations" and "housing
association" are one term, shown in its most frequent lower-cased surface
form (ties alphabetical); `members` lists every surface form with its count.
All n-grams are built with numpy: level-m ids are hash codes of (level m-1
id, next lemma), so no Python loop runs over tokens. With a trained
pipeline that has a parser (`--model`), noun chunks trimmed of edge stop
words and punctuation are an additional candidate source (column
`noun_chunks`: how many of a term's occurrences are noun chunks).

Scores, for a candidate a of |a| tokens with frequency f(a) in the scope:

- C-value (Frantzi, Ananiadou & Mima 2000, "Automatic recognition of
  multi-word terms: the C-value/NC-value method", §2.1):
  C(a) = log2|a|·f(a) if a is not nested, else
  C(a) = log2|a|·(f(a) − (1/P(T_a))·Σ_{b∈T_a} f(b)),
  T_a the candidates (after the frequency and document thresholds) that
  contain a as a contiguous sub-sequence of lemmas, P(T_a) their number.
  |a| counts every token, inner stop words included; since |a| ≥ 2 the
  log2|a| = 0 problem of unigrams does not arise, so the original formula
  is used unchanged (no log2(|a|+1) variant).
- Collocation strength of the parts, as quanteda's bigram collocation
  scores "lr" and "pmi" (Benoit et al. 2018; its current
  `textstat_collocations` reports λ and z instead): the n-gram is split
  into a left part L (the first k tokens) and a right part R (the rest). The 2×2 table over the
  scope's N words (tokens that are not punctuation) is
      O11 = f(a),  O12 = f(L) − f(a),  O21 = f(R) − f(a),  O22 = N − O11 − O12 − O21
  with f(L), f(R) the counts of L and R as lemma sequences inside one
  sentence. G² is Dunning's (1993) log-likelihood over the four cells
  (`hcrisis.text.keyness.g2(..., full_table=True)`) and PMI = log2(O11·N/(f(L)·f(R)))
  (Church & Hanks 1990). A bigram has one split; a longer n-gram takes every
  split k = 1..|a|−1 and reports the one with the smallest G² (its weakest
  link) together with that split's PMI.

Rows are sorted by C-value descending, then count descending, then lemma key.
Terms of two segments are compared with the word-keyness statistics of
`hcrisis.text.keyness.keyness`, rates per 10,000 words of each segment.

`coverage` (`hcrisis terms --uncovered CODEBOOK`) runs the codebook's
compiled matchers on each term: frequent terms no code matches are
candidate new codes, and each code lists the terms it already covers.

`merge_terms` finds accepted terms in the token stream (longest first,
non-overlapping, left to right) so that `hcrisis freq --terms` and the
clouds count "social purpose" as one item instead of "social" and "purpose"
(`merged_frequency_table`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from hcrisis.errors import InputError
from hcrisis.ingest.segments import ALL, Segment
from hcrisis.tables import write_table
from hcrisis.text.tokens import Tokens, lemmatize_form


MIN_N, MAX_N = 2, 4
TERM_COLUMNS = ["rank", "term", "length", "count", "documents", "participants",
                "c_value", "g2", "pmi", "members"]
G2_P001 = 10.83  # chi-square 1 df critical value at p = 0.001


@dataclass(frozen=True)
class TermSettings:
    """Extraction thresholds; study files set them under `settings.terms`.

    `accepted` lists the terms that `--terms` merges; without it the top
    `merge_top` terms of the whole corpus by C-value with G² ≥ `min_g2` are
    merged.
    """

    min_freq: int = 2
    min_docs: int = 1
    top: int = 500
    merge_top: int = 50
    min_g2: float = G2_P001
    accepted: tuple[str, ...] | None = None

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | None = None, path: str | Path | None = None,
                     **overrides: Any) -> "TermSettings":
        """Settings from plain values (a study's `settings.terms`, read from `path`),
        then the non-None `overrides` (command-line options)."""
        raw = dict(raw or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise InputError(f"unknown settings.terms key(s): {', '.join(unknown)}", path=path,
                             fix=f"use {', '.join(sorted(known))}")
        kwargs = dict(raw)
        if "accepted" in kwargs:
            kwargs["accepted"] = tuple(str(t) for t in kwargs["accepted"])
        kwargs.update({k: v for k, v in overrides.items() if v is not None})
        s = cls(**kwargs)
        if s.min_freq < 1 or s.min_docs < 1 or s.top < 1:
            raise InputError("min_freq, min_docs and top must be at least 1", fix="pass positive values")
        return s


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, names) of an object array, names sorted."""
    names, codes = np.unique(values.astype(str), return_inverse=True)
    return codes.astype(np.int64), names


def _levels(base: np.ndarray, max_n: int) -> list[np.ndarray]:
    """ids[m][i]: a code of the m tokens base[i:i+m] (ids[1] = base); equal codes, equal sequences.

    Each level codes the pair (level m-1 code, next token) with a hash
    factorisation, so building all levels is linear in the tokens.
    """
    v = int(base.max()) + 1 if base.size else 1
    ids = [np.empty(0, np.int64), base]
    for m in range(2, max_n + 1):
        n = max(base.size - m + 1, 0)
        ids.append(_factorize(ids[m - 1][:n] * v + base[m - 1:m - 1 + n]))
    return ids


def _factorize(values: np.ndarray) -> np.ndarray:
    return pd.factorize(values)[0].astype(np.int64)


def _sequence_codes(base: np.ndarray, pos: np.ndarray, m: int) -> np.ndarray:
    """A code of the m tokens base[p:p+m] for each p in pos (equal codes, equal sequences)."""
    v = int(base.max()) + 1 if base.size else 1
    code = base[pos]
    for j in range(1, m):
        code = _factorize(code * v + base[pos + j])
    return code


def _unique_pairs(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (x, y) pairs of non-negative ints, sorted: (x of each, first index, count)."""
    width = int(y.max()) + 1 if y.size else 1
    _, first, count = np.unique(x.astype(np.int64) * width + y, return_index=True, return_counts=True)
    return x[first], first, count


def _join(names: np.ndarray, codes: np.ndarray, pos: np.ndarray, m: int,
          space: np.ndarray | None = None) -> list[str]:
    """The m tokens at each position as a string: names[codes[p]] ... names[codes[p+m-1]].

    Joined by single spaces (the lemma key that indexes a term table), or,
    with `space` (per token: whitespace follows), as written ("don't",
    "master's degree": the shown surface forms).
    """
    cols = []
    for j in range(m):
        cols.append(names[codes[pos + j]].tolist())
        if j < m - 1:
            cols.append([" "] * pos.size if space is None else np.where(space[pos + j], " ", "").tolist())
    return ["".join(t) for t in zip(*cols)]


def term_words(term: str) -> list[str]:
    """The lower-cased tokens of a written term ("master's degree" -> master, 's, degree)."""
    term = term.strip().lower()
    if term.replace(" ", "").isalnum():
        return term.split()    # the common case, without loading spaCy
    from hcrisis.text.tokens import shared_pipeline
    return [t.text for t in shared_pipeline().make_doc(term) if not t.is_space]


def _lookup(sorted_ids: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each wanted id in sorted_ids, and whether it is there."""
    if not sorted_ids.size:
        return np.zeros(wanted.size, np.int64), np.zeros(wanted.size, bool)
    at = np.minimum(np.searchsorted(sorted_ids, wanted), sorted_ids.size - 1)
    return at, sorted_ids[at] == wanted


class TermIndex:
    """Every n-gram of one tokenised corpus, ready to be counted over any scope."""

    def __init__(self, tokens: Tokens, segments: pd.DataFrame, max_n: int = MAX_N,
                 chunks: np.ndarray | None = None):
        self.tokens, self.segments, self.max_n = tokens, segments, max_n
        types = tokens.types
        lemma_of_type, self.lemma_names = _codes(types["lemma"].to_numpy(dtype=object))
        lower_of_type, self.lower_names = _codes(types["lower"].to_numpy(dtype=object))
        self.lemma = lemma_of_type[tokens.type_id]
        self.lower = lower_of_type[tokens.type_id]
        punct = types["is_punct"].to_numpy(dtype=bool)[tokens.type_id]
        stop = types["is_stop"].to_numpy(dtype=bool)[tokens.type_id]
        self.word = ~punct
        self.seg = tokens.segment
        sent = tokens.sentence()
        self.ids = _levels(self.lemma, max_n)
        cum_punct = np.concatenate([[0], np.cumsum(punct)])
        self.in_sent, self.cand = [None, self.word], [None, None]
        for m in range(2, max_n + 1):
            n = self.ids[m].size
            same = sent[:n] == sent[m - 1:m - 1 + n]
            self.in_sent.append(same)
            self.cand.append(same & (cum_punct[m:m + n] == cum_punct[:n]) & ~stop[:n] & ~stop[m - 1:m - 1 + n])
        self.chunk = [None, None] + [np.zeros(self.ids[m].size, bool) for m in range(2, max_n + 1)]
        self.has_chunks = chunks is not None
        if chunks is not None:
            for start, m in chunks:
                if MIN_N <= m <= max_n and self.in_sent[m][start]:
                    self.cand[m][start] = self.chunk[m][start] = True
        self.doc_code = _codes(segments["document_id"].to_numpy(dtype=object))[0]
        pid = segments["participant_id"].fillna("").astype(str).to_numpy(dtype=object)
        self.pid_code = np.where(pid == "", -1, _codes(pid)[0])

    # -- scopes
    def rows(self, scope: Segment | np.ndarray) -> np.ndarray:
        return scope.mask(self.segments) if isinstance(scope, Segment) else np.asarray(scope, bool)

    def words(self, scope: Segment | np.ndarray) -> int:
        """Words (tokens that are not punctuation) in the scope: the rate denominator."""
        return int((self.word & self.rows(scope)[self.seg]).sum())

    def _positions(self, m: int, inside: np.ndarray) -> np.ndarray:
        """Candidate starts of level m among the tokens `inside` the scope."""
        return np.flatnonzero(self.cand[m] & inside[:self.ids[m].size])

    # -- the table
    def table(self, scope: Segment | np.ndarray = ALL, min_freq: int = 2, min_docs: int = 1,
              top: int | None = None) -> pd.DataFrame:
        """The term table of a scope (see the module docstring), indexed by lemma key."""
        inside = self.rows(scope)[self.seg]     # per token: in the scope
        levels = {m: self._level_stats(m, inside) for m in range(MIN_N, self.max_n + 1)}
        for m, lv in levels.items():
            keep = (lv["count"] >= min_freq) & (lv["documents"] >= min_docs)
            for k in list(lv):
                lv[k] = lv[k][keep]
        self._c_values(levels)
        self._strength(levels, inside)
        if top is not None:    # the rows that can rank in the top, before building their lemma keys
            c = np.concatenate([lv["c_value"] for lv in levels.values()])
            n = np.concatenate([lv["count"] for lv in levels.values()])
            if c.size > top:
                kth = np.lexsort((-n, -c))[top - 1]                      # ties with it may rank too
                keep = (c > c[kth]) | ((c == c[kth]) & (n >= n[kth]))
                at = np.cumsum([0] + [lv["id"].size for lv in levels.values()])
                for i, lv in enumerate(levels.values()):
                    for k in list(lv):
                        lv[k] = lv[k][keep[at[i]:at[i + 1]]]
        df = ranked(pd.concat([self._frame(m, lv) for m, lv in levels.items()]), top)
        return finish_table(df, *self._forms(df, inside), int((self.word & inside).sum()))

    def _level_stats(self, m: int, inside: np.ndarray) -> dict[str, np.ndarray]:
        """Count, documents, participants and a position of every level-m candidate."""
        pos = self._positions(m, inside)
        ids = self.ids[m][pos]
        counts = np.bincount(ids, minlength=self.ids[m].size)   # ids are dense codes: no sort needed
        uniq = np.flatnonzero(counts)
        at = np.empty(counts.size, dtype=np.int64)
        at[ids] = pos                                          # any occurrence: its lemmas are the term's
        out = {"id": uniq, "pos": at[uniq], "count": counts[uniq],
               "documents": self._distinct(ids, uniq, self.doc_code[self.seg[pos]]),
               "participants": self._distinct(ids, uniq, self.pid_code[self.seg[pos]])}
        if self.has_chunks:
            out["noun_chunks"] = np.bincount(np.searchsorted(uniq, ids), weights=self.chunk[m][pos],
                                             minlength=uniq.size).astype(int)
        return out

    @staticmethod
    def _distinct(ids: np.ndarray, uniq: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Distinct non-negative labels per id."""
        ok = labels >= 0
        width = int(labels.max()) + 1 if labels.size else 1
        pairs = pd.unique(ids[ok] * width + labels[ok])    # hashing: no sort needed
        return np.bincount(np.searchsorted(uniq, pairs // width), minlength=uniq.size)

    def _c_values(self, levels: dict[int, dict[str, np.ndarray]]) -> None:
        """C-value (Frantzi et al. 2000) of every kept candidate, nestedness over kept candidates."""
        nested_sum = {m: np.zeros(lv["id"].size) for m, lv in levels.items()}
        nested_n = {m: np.zeros(lv["id"].size) for m, lv in levels.items()}
        for m, lv in levels.items():      # b: the longer candidate
            for k in range(MIN_N, m):     # a: its sub-sequences of k tokens
                subs = np.stack([self.ids[k][lv["pos"] + o] for o in range(m - k + 1)])
                b = np.broadcast_to(np.arange(lv["id"].size), subs.shape)
                a_ids, first, _ = _unique_pairs(subs.ravel(), b.ravel())  # each b once per a
                b_rows = b.ravel()[first]
                at, hit = _lookup(levels[k]["id"], a_ids)
                np.add.at(nested_sum[k], at[hit], lv["count"][b_rows[hit]])
                np.add.at(nested_n[k], at[hit], 1)
        for m, lv in levels.items():
            lv["c_value"] = c_value(m, lv["count"], nested_sum[m], nested_n[m])

    def _strength(self, levels: dict[int, dict[str, np.ndarray]], inside: np.ndarray) -> None:
        """G² and PMI of the weakest split of every kept candidate (module docstring)."""
        counts = {}
        for k in range(1, self.max_n):
            n = self.ids[k].size
            counts[k] = np.bincount(self.ids[k][self.in_sent[k] & inside[:n]],
                                    minlength=int(self.ids[k].max()) + 1 if n else 1)
        total = float((self.word & inside).sum())
        for m, lv in levels.items():
            parts = [(counts[k][self.ids[k][lv["pos"]]], counts[m - k][self.ids[m - k][lv["pos"] + k]])
                     for k in range(1, m)]
            lv["g2"], lv["pmi"] = weakest_split(lv["count"], parts, total)

    def _frame(self, m: int, lv: dict[str, np.ndarray]) -> pd.DataFrame:
        """The level-m rows, indexed by lemma key (surface forms come later, for the rows kept)."""
        df = pd.DataFrame({"length": m, "count": lv["count"], "documents": lv["documents"],
                           "participants": lv["participants"], "c_value": lv["c_value"],
                           "g2": lv["g2"], "pmi": lv["pmi"], "_id": lv["id"]},
                          index=_join(self.lemma_names, self.lemma, lv["pos"], m))
        if "noun_chunks" in lv:
            df["noun_chunks"] = lv["noun_chunks"]
        return df

    def _forms(self, table: pd.DataFrame, inside: np.ndarray) -> tuple[list[str], list[str]]:
        """Shown form (most frequent surface form, ties alphabetical) and 'form (n), ...' per row."""
        found: dict[tuple[int, int], tuple[str, str]] = {}
        for m, wanted in table.groupby("length", sort=False)["_id"]:
            pos = self._positions(m, inside)
            pos = pos[np.isin(self.ids[m][pos], wanted.to_numpy())]
            ids, first, count = _unique_pairs(self.ids[m][pos], _sequence_codes(self.lower, pos, m))
            f = pd.DataFrame({"id": ids, "n": count, "form": _join(self.lower_names, self.lower, pos[first], m,
                                                                    self.tokens.space)})
            found.update({(m, i): shown for i, shown in shown_forms(f).items()})
        rows = [found[m, i] for m, i in zip(table["length"].tolist(), table["_id"].tolist())]
        return [r[0] for r in rows], [r[1] for r in rows]


def c_value(m: int, count: np.ndarray, nested_sum: np.ndarray, nested_n: np.ndarray) -> np.ndarray:
    """C-value of candidates of m tokens: their counts, and the summed counts and number of the
    kept candidates they are nested in (module docstring)."""
    f = count.astype(float)
    return np.log2(m) * np.where(nested_n > 0, f - nested_sum / np.maximum(nested_n, 1), f)


def weakest_split(count: np.ndarray, parts: list[tuple[np.ndarray, np.ndarray]],
                  total: float) -> tuple[np.ndarray, np.ndarray]:
    """G² and PMI of each candidate's weakest split, from its count, (f(L), f(R)) of each
    split and the scope's words (module docstring)."""
    from hcrisis.text.keyness import g2

    f = count.astype(float)
    g_all, p_all = [], []
    for fl, fr in parts:
        fl, fr = fl.astype(float), fr.astype(float)
        o12, o21 = np.maximum(fl - f, 0), np.maximum(fr - f, 0)
        g_all.append(g2(f, o12, f + o21, np.maximum(total - f - o21, o12), full_table=True))
        with np.errstate(divide="ignore"):
            p_all.append(np.log2(f * total / (fl * fr)))
    if not f.size:
        return f, f
    g_all, p_all = np.array(g_all), np.array(p_all)
    weakest = np.argmin(g_all, axis=0)
    return np.take_along_axis(g_all, weakest[None], 0)[0], np.take_along_axis(p_all, weakest[None], 0)[0]


def ranked(df: pd.DataFrame, top: int | None) -> pd.DataFrame:
    """Rows (indexed by lemma key) by C-value, count, then key; the first `top`."""
    df = df.rename_axis("key").reset_index()
    df = df.sort_values(["c_value", "count", "key"], ascending=[False, False, True], kind="mergesort")
    return (df.head(top) if top is not None else df).set_index("key")


def shown_forms(forms: pd.DataFrame) -> dict:
    """Per term id: its shown form and 'form (n), ...', from rows (id, n, form) of each distinct
    surface form (in order of first occurrence within an id)."""
    f = forms.sort_values(["id", "n", "form"], ascending=[True, False, True], kind="mergesort")
    ids, ns, names = f["id"].tolist(), f["n"].tolist(), f["form"].tolist()
    starts = [i for i in range(len(ids)) if i == 0 or ids[i] != ids[i - 1]]
    return {ids[a]: (names[a], ", ".join(f"{names[i]} ({ns[i]})" for i in range(a, b)))
            for a, b in zip(starts, starts[1:] + [len(ids)])}


def finish_table(df: pd.DataFrame, term: list[str], members: list[str], words: int) -> pd.DataFrame:
    """The ranked rows with rank, shown term and members, in `TERM_COLUMNS` order."""
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    df.insert(1, "term", term)
    df["members"] = members
    df = df[[c for c in TERM_COLUMNS + ["noun_chunks"] if c in df]]
    df.index.name = None
    df.attrs["words"] = words
    return df


# ---------------------------------------------------------------- noun chunks
def noun_chunk_spans(tokens: Tokens, nlp) -> np.ndarray:
    """(start token, length) of every noun chunk, trimmed of edge stop words and punctuation.

    Needs a trained pipeline with a parser (`--model`); the Docs are rebuilt
    from the token arrays and only the pipeline's components are run.
    """
    stop = tokens.types["is_stop"].to_numpy(dtype=bool) | tokens.types["is_punct"].to_numpy(dtype=bool)
    out = []
    for i, doc in enumerate(tokens.docs(nlp)):
        for _, proc in nlp.pipeline:
            doc = proc(doc)
        base = int(tokens.bounds[i])
        for chunk in doc.noun_chunks:
            s, e = chunk.start, chunk.end
            while s < e and stop[tokens.type_id[base + s]]:
                s += 1
            while e > s and stop[tokens.type_id[base + e - 1]]:
                e -= 1
            out.append((base + s, e - s))
    return np.array(out, dtype=np.int64).reshape(-1, 2)


# ---------------------------------------------------------------- merging
@dataclass
class Merged:
    """Occurrences of accepted terms in a token stream (non-overlapping)."""

    terms: list[str]
    start: np.ndarray      # first token of each occurrence
    term: np.ndarray       # index into `terms` of each occurrence
    covered: np.ndarray    # per token: inside an occurrence

    def counts(self, tokens: Tokens, rows: np.ndarray) -> pd.Series:
        """Occurrences per term in the segment rows `rows` (a boolean mask)."""
        inside = rows[tokens.segment[self.start]] if self.start.size else np.zeros(0, bool)
        n = np.bincount(self.term[inside], minlength=len(self.terms))
        return pd.Series(n, index=self.terms, name="count")


def merge_terms(tokens: Tokens, accepted: Iterable[str]) -> Merged:
    """Find accepted terms in the tokens: lemma-matched, within one sentence, longest first.

    Each accepted term is split on whitespace and lemmatised like the tokens
    (so "housing associations" also finds "housing association"). Longer
    terms claim their tokens first; among equal lengths, earlier occurrences
    and then the list order win; an occurrence overlapping a claimed token is
    dropped. Returns the occurrences and the covered tokens, from which
    `Merged.counts` gives term counts over any scope.
    """
    terms = list(dict.fromkeys(t.strip().lower() for t in accepted if t.strip()))
    names, lemma_of_type = np.unique(tokens.types["lemma"].to_numpy(dtype=str), return_inverse=True)
    lemma = lemma_of_type.ravel()[tokens.type_id]          # codes: comparing them is far faster than strings
    code = {w: i for i, w in enumerate(names.tolist())}
    sent = tokens.sentence()
    covered = np.zeros(len(tokens), bool)
    starts, which = [], []
    # the corpus's own lemmas first: loading the lookup table costs seconds
    known = dict(zip(tokens.types["lower"], tokens.types["lemma"]))
    written = [term_words(t) for t in terms]
    for i in sorted(range(len(terms)), key=lambda i: -len(written[i])):
        words = [code.get(known.get(w) or lemmatize_form(w), -1) for w in written[i]]
        m = len(words)
        n = len(tokens) - m + 1
        if n <= 0 or min(words) < 0:      # a lemma the corpus lacks: no occurrence
            continue
        hit = sent[:n] == sent[m - 1:m - 1 + n]
        for j, w in enumerate(words):
            hit &= lemma[j:j + n] == w
        for p in np.flatnonzero(hit):
            if not covered[p:p + m].any():
                covered[p:p + m] = True
                starts.append(p)
                which.append(i)
    order_by_pos = np.argsort(np.array(starts, dtype=np.int64), kind="stable")
    return Merged(terms, np.array(starts, dtype=np.int64)[order_by_pos],
                  np.array(which, dtype=np.int64)[order_by_pos], covered)


def merged_frequency_table(counter, scope: Segment | np.ndarray, accepted: Iterable[str],
                           top: int | None = None, merged: Merged | None = None) -> pd.DataFrame:
    """A `hcrisis.text.freq` frequency table where accepted terms are single items.

    Tokens inside an accepted term's occurrence are not counted as words;
    each occurrence counts once as the term. The denominator is the counted
    words left plus the term occurrences, so weighted percentages still sum
    to 100 over all items. Same columns and sort order as `freq.frequency_table`.
    `merged`: `merge_terms(counter.tokens, accepted)`, made once for several scopes.
    """
    from hcrisis.text.freq import FREQ_COLUMNS, frequency_table

    tokens = counter.tokens
    merged = merged if merged is not None else merge_terms(tokens, accepted)
    rows = counter.rows(scope)
    in_scope = rows[tokens.segment]
    words = np.bincount(counter.form_id[counter.counted & in_scope & ~merged.covered],
                        minlength=len(counter.forms))
    table = frequency_table(counter.forms, counter.group_of_form, words)
    found = merged.counts(tokens, rows)
    found = found[found > 0]
    extra = pd.DataFrame({"word": found.index, "length": found.index.str.len(), "count": found.to_numpy(),
                          "members": [f"{t} ({n})" for t, n in found.items()]}, index="term:" + found.index)
    out = pd.concat([table.drop(columns=["rank", "weighted_percentage"]), extra])
    out = out.sort_values(["count", "word"], ascending=[False, True], kind="mergesort")
    total = int(out["count"].sum())
    if top is not None:
        out = out.head(top)
    out["rank"] = np.arange(1, len(out) + 1)
    out["weighted_percentage"] = 100.0 * out["count"] / total if total else 0.0
    out = out[FREQ_COLUMNS]
    out.attrs["denominator"] = total
    out.attrs["terms"] = int(found.sum())
    return out


# ---------------------------------------------------------------- keyness
def term_keyness(index: TermIndex, scope_a: Segment | np.ndarray, scope_b: Segment | np.ndarray,
                 settings: TermSettings, labels: tuple[str, str] = ("A", "B"),
                 correction: str = "fdr_bh") -> pd.DataFrame:
    """Keyness (`hcrisis.text.keyness.keyness`) of the terms of A ∪ B, rates per 10,000 words of each side.

    The candidates are those of the two scopes together (same thresholds),
    each named by its surface form over both; counts are per side.
    """
    ra, rb = index.rows(scope_a), index.rows(scope_b)
    both = index.table(ra | rb, settings.min_freq, settings.min_docs)
    return keyness_of(both, [index.table(r, 1, 1)["count"] for r in (ra, rb)], (index.words(ra), index.words(rb)),
                      labels, correction)


def keyness_of(both: pd.DataFrame, counts: list[pd.Series], words: tuple[int, int], labels: tuple[str, str],
               correction: str) -> pd.DataFrame:
    """Keyness of the terms of the union's table `both`, from each side's count of every
    candidate (by lemma key) and words."""
    from hcrisis.text.keyness import keyness

    side = [c.reindex(both.index, fill_value=0).rename(both["term"]) for c in counts]
    return keyness(side[0], side[1], total_a=words[0], total_b=words[1], labels=labels, correction=correction)


# ---------------------------------------------------------------- codebook coverage
def coverage(table: pd.DataFrame, codebook_path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Which codes' rules match each term, and the frequent terms no code matches.

    A code covers a term when its rule matches (`hcrisis.coding.codebook`'s
    compiled matchers, run on the term's surface form) together span every
    non-stop token of the term; a match on some of them is partial. Returns
    (uncovered terms, per-code coverage); exclusion rules are ignored.
    """
    from spacy.tokens import Doc

    from hcrisis.coding.codebook import load_codebook
    from hcrisis.coding.matcher import compile_codebook, doc_tokens
    from hcrisis.text.tokens import english_stop_words

    book = load_codebook(codebook_path)
    compiled = compile_codebook(book)
    words = [term_words(str(t)) for t in table["term"]]
    docs = [Doc(compiled.nlp.vocab, words=ws, lemmas=[lemmatize_form(w) for w in ws]) for ws in words]
    tokens = doc_tokens(docs)
    rule, start, end = compiled.matches(tokens, [d.text for d in docs], docs=lambda rows: [docs[r] for r in rows])
    spans: list[dict[int, set[int]]] = [{} for _ in docs]      # per term: code -> its tokens matched
    for r, i, s, e in zip(rule.tolist(), tokens.segment[start].tolist(), start.tolist(), end.tolist()):
        if not compiled.rules[r].exclude:
            base = int(tokens.bounds[i])
            spans[i].setdefault(compiled.rules[r].code, set()).update(range(s - base, e - base))
    full: dict[int, list[str]] = {}
    partial: list[list[str]] = []
    stop_words = english_stop_words()
    for ws, term, count, got_by_code in zip(words, table["term"], table["count"], spans):
        need = {i for i, w in enumerate(ws) if w not in stop_words}
        for ci, got in got_by_code.items():
            if need <= got:
                full.setdefault(ci, []).append(f"{term} ({count})")
        partial.append(sorted(book.codes[ci].id for ci, got in got_by_code.items() if not need <= got))
    covered = {t.split(" (")[0] for ts in full.values() for t in ts}
    unc = table.assign(partly_matched_by=[", ".join(p) for p in partial])
    unc = unc[~unc["term"].isin(covered)]
    unc = unc[["term", "count", "documents", "c_value", "g2", "partly_matched_by"]].reset_index(drop=True)
    per_code = pd.DataFrame({"code_id": [c.id for c in book.codes], "label": [c.label for c in book.codes],
                             "terms_covered": [len(full.get(i, [])) for i in range(len(book.codes))],
                             "terms": [", ".join(full.get(i, [])) for i in range(len(book.codes))]})
    return unc, per_code


# ---------------------------------------------------------------- tables as written, merged terms
def table_title(seg: Segment, table: pd.DataFrame, settings: TermSettings) -> str:
    return (f"Multi-word terms: {seg.label} ({seg.id}); {table.attrs['words']:,} words; "
            f"2-4 token n-grams, count >= {settings.min_freq}, documents >= {settings.min_docs}; "
            "sorted by C-value (Frantzi et al. 2000)")


def write_terms(table: pd.DataFrame, out: Path, seg: Segment, settings: TermSettings) -> list[Path]:
    """terms_<segment>.csv and .md."""
    return write_table(table.reset_index(drop=True), Path(out) / f"terms_{seg.id}",
                       title=table_title(seg, table, settings))


def accepted_terms(tokens: Tokens, segments: pd.DataFrame, settings: TermSettings,
                   index: TermIndex | None = None) -> list[str]:
    """The terms `--terms` merges: `settings.accepted`, else the top `merge_top` of all
    participants by C-value among those with G² ≥ `min_g2` (p < 0.001 by default).
    `index`: the tokens' `TermIndex`, if already built."""
    if settings.accepted is not None:
        return list(settings.accepted)
    table = (index or TermIndex(tokens, segments)).table(ALL, settings.min_freq, settings.min_docs)
    return table.loc[table["g2"] >= settings.min_g2, "term"].head(settings.merge_top).tolist()
