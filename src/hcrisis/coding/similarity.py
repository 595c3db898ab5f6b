"""Description similarity: how close a coding unit's words are to a code's description.

A codebook describes each code in words: its label, definition, when to use
it, an example, and the terms of its rules. `DescriptionIndex` represents a
code by the TF-IDF vector of those words and a coding unit by the TF-IDF
vector of its own words over the same vocabulary; their cosine is the unit's
similarity to the code. Weights follow Salton & Buckley (1988) as
scikit-learn's `TfidfVectorizer(sublinear_tf=True)` computes them (the tests
cross-check it): tf = 1 + ln(count), idf = ln((1 + n) / (1 + df)) + 1 over
the n code descriptions, each vector L2-normalised. The idf comes from the
codebook alone, so a unit's similarity does not depend on the rest of the
corpus. Words are lemmas (`hcrisis.text.tokens`) of alphabetic tokens of three or
more letters that are not on spaCy's English stop list; wildcard keywords
(`manag*`) and `when_not_to_use` (which names other codes' topics) are left
out.

A codebook opts in with `similarity: {weight: w, fallback: m}`: `hcrisis
code` adds w × cosine to the score of every coding its rules make, so among
the codes the rules found a unit's primary code is also the one whose
description fits it best, and (with `fallback`) codes each segment that no
rule reaches with its most similar turn- or paragraph-level code when the
cosine is at least m (a coding with no matched terms and 0 hits).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Callable

import numpy as np

if TYPE_CHECKING:
    from hcrisis.coding.codebook import Code, Codebook
    from hcrisis.text.tokens import Tokens

MIN_LETTERS = 3
_PIECE = re.compile(r"\n|(?<=[.;:!?])\s+")
CHUNK = 1024          # units per dense block when comparing units with every code
PAIRS = 8192          # codings per block in `similarity_to`: its arrays stay in the CPU cache (60 → 40 ms)
DESCRIPTION_FIELDS = ("label", "definition", "when_to_use", "example")


def description_fields(code: Code) -> str:
    """The code's descriptive fields, one a line."""
    return "\n".join(str(code.data.get(f) or "") for f in DESCRIPTION_FIELDS)


def rule_terms(code: Code) -> list[str]:
    """The code's keywords, phrases and near terms, wildcards left out."""
    rules = code.rules or {}
    terms = [k for k in rules.get("keywords", []) if not k.endswith("*")]
    terms += list(rules.get("phrases", []))
    return terms + [t for near in rules.get("near", []) for t in near["terms"] if not t.endswith("*")]


def counted_words(lower: list[str], is_alpha: list[bool]) -> list[bool]:
    """Which word types count: alphabetic, at least three letters, not a stop word."""
    from hcrisis.text.tokens import english_stop_words

    stop = english_stop_words()
    return [a and len(w) >= MIN_LETTERS and w not in stop for w, a in zip(lower, is_alpha)]


class DescriptionIndex:
    """TF-IDF vectors of a codebook's code descriptions (rows in codebook order)."""

    def __init__(self, codebook: Codebook, nlp, words: Callable[[str], list[tuple[str, bool]]] | None = None):
        """`words(term)`: a rule term's lower-cased tokens and whether each is alphabetic (default: by
        `nlp`); coding passes the compiled codebook's (`CompiledCodebook.words`), tokenised once."""
        from hcrisis.text.tokens import lemmatize_form, tokenize

        words = words or (lambda term: [(t.lower_, t.is_alpha) for t in nlp.make_doc(term)])
        # one text per line or sentence: spaCy stops using its tokenizer cache for the rest
        # of a text after a special case ("don't"), which made whole descriptions slow
        pieces = [[p for p in _PIECE.split(description_fields(c)) if p] for c in codebook.codes]
        desc = tokenize([p for ps in pieces for p in ps], [str(i) for i, ps in enumerate(pieces) for _ in ps], nlp)
        edges = desc.bounds[np.concatenate([[0], np.cumsum([len(ps) for ps in pieces])])]
        said = [(i, w, a) for i, c in enumerate(codebook.codes) for term in rule_terms(c) for w, a in words(term)]
        code, lower, alpha = zip(*said) if said else ((), (), ())
        lemmas = [lemmatize_form(w) if k else "" for w, k in zip(lower, counted_words(lower, alpha))]
        types = desc.types
        keep = counted_words(types["lower"].tolist(), types["is_alpha"].tolist())
        self.vocab = {w: i for i, w in enumerate(sorted({lm for lm, k in zip(types["lemma"], keep) if k}
                                                        | set(lemmas) - {""}))}
        self._types, self._vid = None, None
        term_word = np.array([self.vocab.get(lm, -1) for lm in lemmas], dtype=np.int64)
        counts = self._counts(desc, edges[:-1], edges[1:], (np.array(code, dtype=np.int64), term_word))
        n = len(codebook.codes)
        df = np.bincount(counts[1], minlength=len(self.vocab))
        self.idf = np.log((1 + n) / (1 + df)) + 1
        row, col, weight, _ = self._weights(counts, n)
        self.codes = np.zeros((n, max(len(self.vocab), 1)))   # codes × vocabulary
        self.codes[row, col] = weight

    def _counts(self, tokens: Tokens, starts: np.ndarray, ends: np.ndarray, more=None):
        """(unit, word, count) of the described words in each token range, and of `more` (unit, word) words."""
        vid = self._word_ids(tokens.types)
        starts, ends = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
        lengths = ends - starts
        unit = np.repeat(np.arange(starts.size), lengths)
        pos = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(int(lengths.sum()))
        word = vid[tokens.type_id[pos]] if pos.size else np.array([], dtype=np.int64)
        if more is not None:
            unit, word = np.concatenate([unit, more[0]]), np.concatenate([word, more[1]])
        size = max(len(self.vocab), 1)
        key, count = np.unique(unit[word >= 0] * size + word[word >= 0], return_counts=True)
        return key // size, key % size, count

    def _word_ids(self, types) -> np.ndarray:
        """The vocabulary index of each word type of a token table (-1: not counted or not described);
        remembered for the last table (coding asks twice)."""
        if self._types is not types:
            keep = counted_words(types["lower"].tolist(), types["is_alpha"].tolist())
            self._vid = np.array([self.vocab.get(lm, -1) if k else -1
                                  for lm, k in zip(types["lemma"].tolist(), keep)], dtype=np.int64)
            self._types = types
        return self._vid

    def _weights(self, counts, n_units: int):
        """Sublinear TF-IDF weights of `_counts`, L2-normalised per unit: (unit, word, weight),
        sorted by unit, and where each unit's entries start (`bounds`)."""
        row, col, count = counts
        weight = (1 + np.log(count)) * self.idf[col]
        norm = np.sqrt(np.bincount(row, weight ** 2, minlength=n_units))
        return row, col, weight / norm[row] if row.size else weight, np.searchsorted(row, np.arange(n_units + 1))

    def similarity(self, tokens: Tokens, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Cosine of each unit (tokens `starts[i]:ends[i]`) with each code: units × codes."""
        n = len(starts)
        row, col, weight, bounds = self._weights(self._counts(tokens, starts, ends), n)
        out = np.zeros((n, len(self.codes)))
        for a in range(0, n, CHUNK):       # dense blocks of units × vocabulary
            b = min(a + CHUNK, n)
            block = np.zeros((b - a, self.codes.shape[1]))
            block[row[bounds[a]:bounds[b]] - a, col[bounds[a]:bounds[b]]] = weight[bounds[a]:bounds[b]]
            out[a:b] = block @ self.codes.T
        return out

    def similarity_to(self, tokens: Tokens, starts: np.ndarray, ends: np.ndarray,
                      codes: np.ndarray) -> np.ndarray:
        """Cosine of unit i (tokens `starts[i]:ends[i]`) with code `codes[i]` only."""
        # each distinct unit weighed once: a unit holds several codings
        span = len(tokens) + 1
        units, which = np.unique(np.asarray(starts, dtype=np.int64) * span + np.asarray(ends, dtype=np.int64),
                                 return_inverse=True)
        codes = np.asarray(codes, dtype=np.int64)
        _, col, weight, bounds = self._weights(self._counts(tokens, units // span, units % span), len(units))
        out = np.zeros(which.size)
        for a in range(0, which.size, PAIRS):   # each unit's words paired with the coding's code
            unit, code = which[a:a + PAIRS], codes[a:a + PAIRS]
            lengths = bounds[unit + 1] - bounds[unit]
            pair = np.repeat(np.arange(unit.size), lengths)
            at = np.repeat(bounds[unit] - np.cumsum(lengths) + lengths, lengths) + np.arange(int(lengths.sum()))
            flat = code[pair] * self.codes.shape[1] + col[at]
            out[a:a + PAIRS] = np.bincount(pair, weight[at] * self.codes.ravel().take(flat), minlength=unit.size)
        return out


def score_by_description(coded, codebook: Codebook, nlp, tokens: Tokens, rows: list[int], texts: list[str],
                         words: Callable[[str], list[tuple[str, bool]]] | None = None):
    """Add the codebook's `similarity` to a coded-units frame (`CompiledCodebook.code`):
    a `similarity` column, `score` raised by weight × similarity and, with a
    fallback, one coding for each row in `rows` that no rule coded. `words`: see `DescriptionIndex`."""
    import pandas as pd

    settings = codebook.data.get("similarity")
    if not settings:
        return coded.assign(similarity=np.nan)
    index = DescriptionIndex(codebook, nlp, words)
    weight = float(settings["weight"])
    own = index.similarity_to(tokens, coded["token_start"].to_numpy(), coded["token_end"].to_numpy(),
                              coded["code"].to_numpy())
    coded = coded.assign(similarity=own, score=coded["score"] + weight * own)
    if settings.get("fallback") is None:
        return coded
    return pd.concat([coded, _fallback(index, codebook, tokens, rows, texts, coded, weight,
                                       float(settings["fallback"]))], ignore_index=True) \
        .sort_values(["row", "unit", "code"], kind="mergesort").reset_index(drop=True)


def _fallback(index: DescriptionIndex, codebook: Codebook, tokens: Tokens, rows: list[int], texts: list[str],
              coded, weight: float, minimum: float):
    """The most similar turn/paragraph code of each row no rule coded, at or above `minimum`."""
    import pandas as pd

    todo = np.setdiff1d(np.asarray(rows, dtype=np.int64), coded["row"].to_numpy(dtype=np.int64))
    starts, ends = tokens.bounds[todo], tokens.bounds[todo + 1]
    sim = index.similarity(tokens, starts, ends)
    sim[:, [c.unit == "sentence" for c in codebook.codes]] = -1
    best = sim.argmax(axis=1) if len(todo) else np.zeros(0, dtype=np.int64)
    cos = sim[np.arange(len(todo)), best] if len(todo) else np.zeros(0)
    ok = cos >= minimum
    n = int(ok.sum())
    return pd.DataFrame({
        "row": todo[ok], "unit": np.full(n, -1), "code": best[ok], "start": np.zeros(n, dtype=np.int64),
        "end": np.array([len(texts[r]) for r in todo[ok].tolist()], dtype=np.int64),
        "hits": np.zeros(n, dtype=np.int64), "terms": np.full(n, "", dtype=object), "score": weight * cos[ok],
        "spans": [[] for _ in range(n)], "words": tokens.words_in(starts[ok], ends[ok]),
        "token_start": starts[ok], "token_end": ends[ok], "similarity": cos[ok]})
