"""Tokens, once: the toolkit's one spaCy pipeline and the token table.

`build_pipeline()` gives `spacy.blank("en")` with spaCy's rule-based
sentencizer and `hcrisis_lemmatizer`, a registered component that looks
lemmas up once per word type in spacy-lookups-data's English table, with
the overrides in `data/lemma_overrides.yaml` (so "housing" is never merged
with "house"). A trained pipeline is used only when the user names one.

`tokenize(segments)` tokenises each segment (speaker turn or paragraph: much
faster than whole transcripts, since spaCy's tokenizer cache is bypassed
for the rest of a Doc after a special case) and keeps compact numpy arrays
rather than Docs, which cost far more memory. Stages that need Docs (the
codebook's matchers) rebuild them from the arrays without re-tokenising.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Iterable, Iterator

import numpy as np
import pandas as pd

from .errors import HcrisisError

SENTENCE_PUNCT = (".", "!", "?", "…")


@lru_cache(maxsize=1)
def lemma_overrides() -> dict[str, str]:
    import yaml
    text = resources.files("hcrisis").joinpath("data/lemma_overrides.yaml").read_text("utf-8")
    return {str(k): str(v) for k, v in (yaml.safe_load(text) or {}).items()}


def lemmatize_form(form: str) -> str:
    """Lemma of one lower-cased word form."""
    over = lemma_overrides()
    if form in over:
        return over[form]
    return _lookup(form)


@lru_cache(maxsize=None)
def _lookup(form: str) -> str:
    return _lookup_table().get(form, form)


@lru_cache(maxsize=1)
def _lookup_table():
    """spaCy's English lookup lemmas (spacy-lookups-data `en_lemma_lookup`)."""
    from spacy.lookups import load_lookups
    return load_lookups("en", ["lemma_lookup"]).get_table("lemma_lookup")


def _register_components() -> None:
    from spacy.language import Language

    if "hcrisis_lemmatizer" in Language.factories:
        return

    @Language.factory("hcrisis_lemmatizer")
    def make_lemmatizer(nlp, name):  # noqa: ARG001 - spaCy factory signature
        def lemmatize(doc):
            for token in doc:
                token.lemma_ = lemmatize_form(token.lower_)
            return doc
        return lemmatize


def build_pipeline(model: str | None = None):
    """The toolkit's spaCy pipeline: blank English, or a named installed model."""
    import spacy

    _register_components()
    if model:
        try:
            nlp = spacy.load(model)
        except OSError:
            raise HcrisisError(f"spaCy pipeline '{model}' is not installed",
                               fix="install it or leave out --model to use the blank English pipeline") from None
    else:
        nlp = spacy.blank("en")
    if not nlp.has_pipe("sentencizer") and not nlp.has_pipe("parser") and not nlp.has_pipe("senter"):
        nlp.add_pipe("sentencizer")
    if not nlp.has_pipe("lemmatizer"):
        nlp.add_pipe("hcrisis_lemmatizer")
    return nlp


@dataclass
class Tokens:
    """Every token of a segments table, as arrays.

    Per token: `type_id` (row of `types`), `segment` (row of the segments
    table), `start` (character offset in the segment's text), `sent_start`
    (True at the first token of a sentence) and `space` (whitespace follows).
    `bounds[i]:bounds[i+1]` are the tokens of segment i. `types` has one row
    per distinct surface form: form, lower, lemma, is_stop, is_punct,
    is_alpha, like_num.
    """

    segment_ids: list[str]
    bounds: np.ndarray
    type_id: np.ndarray
    start: np.ndarray
    sent_start: np.ndarray
    space: np.ndarray
    types: pd.DataFrame
    model: str | None = None

    def __len__(self) -> int:
        return int(self.type_id.shape[0])

    @property
    def segment(self) -> np.ndarray:
        """Segment row of every token."""
        return np.repeat(np.arange(len(self.segment_ids)), np.diff(self.bounds))

    def sentence(self) -> np.ndarray:
        """A corpus-wide sentence number for every token (new at segment starts)."""
        starts = self.sent_start.copy()
        starts[self.bounds[:-1][np.diff(self.bounds) > 0]] = True
        return np.cumsum(starts) - 1

    def column(self, name: str) -> np.ndarray:
        """A per-token array of a `types` column (e.g. 'lower', 'lemma')."""
        return self.types[name].to_numpy()[self.type_id]

    def subset(self, rows: Iterable[int]) -> "Tokens":
        """The tokens of the given segment rows, in that order."""
        rows = list(rows)
        parts = [np.arange(self.bounds[r], self.bounds[r + 1]) for r in rows]
        idx = np.concatenate(parts) if parts else np.array([], dtype=np.int64)
        lengths = [self.bounds[r + 1] - self.bounds[r] for r in rows]
        return Tokens([self.segment_ids[r] for r in rows],
                      np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
                      self.type_id[idx], self.start[idx], self.sent_start[idx],
                      self.space[idx], self.types, self.model)

    def docs(self, nlp=None) -> Iterator:
        """Rebuild one spaCy Doc per segment (words, spaces, sentences, lemmas)."""
        from spacy.tokens import Doc

        nlp = nlp or build_pipeline(self.model)
        forms = self.types["form"].tolist()
        lemmas = self.types["lemma"].tolist()
        for i in range(len(self.segment_ids)):
            a, b = self.bounds[i], self.bounds[i + 1]
            ids = self.type_id[a:b]
            words = [forms[t] for t in ids]
            if not words:
                yield Doc(nlp.vocab, words=[])
                continue
            sents = self.sent_start[a:b].tolist()
            sents[0] = True
            yield Doc(nlp.vocab, words=words, spaces=self.space[a:b].tolist(),
                      sent_starts=sents, lemmas=[lemmas[t] for t in ids])


def tokenize(texts: Iterable[str], segment_ids: list[str], nlp=None, *,
             model: str | None = None, progress=None) -> Tokens:
    """Tokenise texts (one per segment) once into a `Tokens` table."""
    from spacy.attrs import IDX, ORTH, SENT_START, SPACY

    nlp = nlp or build_pipeline(model)
    disable = [p for p in nlp.pipe_names if p not in ("sentencizer", "senter", "parser")]
    orth_parts, idx_parts, sent_parts, space_parts, lengths = [], [], [], [], []
    with nlp.select_pipes(disable=disable):
        for doc in nlp.pipe(texts, batch_size=256):
            arr = doc.to_array([ORTH, IDX, SENT_START, SPACY])
            orth_parts.append(arr[:, 0].astype(np.uint64))
            idx_parts.append(arr[:, 1])
            sent_parts.append(arr[:, 2] == 1)
            space_parts.append(arr[:, 3] == 1)
            lengths.append(len(doc))
            if progress is not None:
                progress(1)
    if len(lengths) != len(segment_ids):
        raise ValueError("one text per segment id is required")
    orth = np.concatenate(orth_parts) if orth_parts else np.array([], dtype=np.uint64)
    uniq, type_id = np.unique(orth, return_inverse=True)
    types = _type_table(nlp, uniq)
    return Tokens(
        segment_ids=list(segment_ids),
        bounds=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        type_id=type_id.astype(np.int64),
        start=_cat(idx_parts, np.int64), sent_start=_cat(sent_parts, bool),
        space=_cat(space_parts, bool), types=types, model=model,
    )


def _cat(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.array([], dtype=dtype)


def _type_table(nlp, hashes: np.ndarray) -> pd.DataFrame:
    """One row per word type, with lemma and lexical flags looked up once."""
    from spacy.lang.en.stop_words import STOP_WORDS

    strings = nlp.vocab.strings
    forms = [strings[int(h)] for h in hashes]
    lowers = [f.lower() for f in forms]
    lexemes = [nlp.vocab[f] for f in forms]
    return pd.DataFrame({
        "form": forms,
        "lower": lowers,
        "lemma": [lemmatize_form(lw) for lw in lowers],
        "is_stop": [lw in STOP_WORDS for lw in lowers],
        "is_punct": [lx.is_punct or not any(ch.isalnum() for ch in lx.text) for lx in lexemes],
        "is_alpha": [lx.is_alpha for lx in lexemes],
        "like_num": [lx.like_num for lx in lexemes],
    })


def tokenize_segments(segments: pd.DataFrame, nlp=None, *, model: str | None = None,
                      progress=None) -> Tokens:
    """Tokenise the `text` column of a segments table."""
    return tokenize(segments["text"].tolist(), segments["segment_id"].tolist(), nlp,
                    model=model, progress=progress)
