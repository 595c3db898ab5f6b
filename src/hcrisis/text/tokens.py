"""Tokens, once: the toolkit's one spaCy pipeline and the token table.

`build_pipeline()` gives `spacy.blank("en")` with spaCy's rule-based
sentencizer, speech contractions (gonna, wanna, gotta, kinda, dunno,
y'know, ... in `data/contractions.yaml`) kept as one token each, and
`hcrisis_lemmatizer`, a registered component that looks
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

import os
import re
import weakref
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

import numpy as np

from hcrisis.errors import HcrisisError

if TYPE_CHECKING:
    import pandas as pd

SENTENCE_PUNCT = (".", "!", "?", "…")


def _data_map(name: str) -> dict[str, str]:
    from hcrisis.yamlspec import parse_yaml
    text = resources.files("hcrisis").joinpath(f"data/{name}").read_text("utf-8")
    return {str(k): str(v) for k, v in (parse_yaml(text) or {}).items()}


@lru_cache(maxsize=1)
def speech_contractions() -> dict[str, str]:
    """Contractions of speech kept as one token -> lemma (`data/contractions.yaml`)."""
    return _data_map("contractions.yaml")


@lru_cache(maxsize=1)
def lemma_overrides() -> dict[str, str]:
    """`data/lemma_overrides.yaml` and the lemmas of speech contractions."""
    return {**speech_contractions(), **_data_map("lemma_overrides.yaml")}


@lru_cache(maxsize=1)
def english_stop_words() -> frozenset[str]:
    """spaCy's English stop list (`spacy.lang.en.stop_words.STOP_WORDS`)."""
    return stop_words("en")


@lru_cache(maxsize=None)
def stop_words(language: str) -> frozenset[str]:
    """spaCy's stop list of a language (`spacy.lang.<code>.stop_words.STOP_WORDS`; empty if none).

    Its module is executed from spaCy's files without importing the `spacy`
    package (over a second), so counting words never needs spaCy itself;
    the module only builds the set.
    """
    import importlib.util

    spec = importlib.util.find_spec("spacy")          # finds, does not import, the package
    path = Path(spec.origin).parent / "lang" / language / "stop_words.py"
    if not path.is_file():
        return frozenset()
    module = importlib.util.module_from_spec(
        importlib.util.spec_from_file_location(f"_hcrisis_stop_words_{language}", path))
    module.__spec__.loader.exec_module(module)
    return frozenset(module.STOP_WORDS)


def lemmatize_form(form: str, language: str = "en") -> str:
    """Lemma of one lower-cased word form (the form itself where a language has no lookup table)."""
    if language != "en":
        return _lookup_table(language).get(form, form)
    over = lemma_overrides()
    if form in over:
        return over[form]
    return _lookup(form)


@lru_cache(maxsize=None)
def _lookup(form: str) -> str:
    return _lookup_table("en").get(form, form)


@lru_cache(maxsize=None)
def _lookup_table(language: str) -> dict[str, str]:
    """spaCy's lookup lemmas of a language (spacy-lookups-data `<code>_lemma_lookup`), found
    and read as spaCy does (`hcrisis.text.lookups`) but kept as a dict: a spaCy `Table`
    hashes every one of its keys into the string store first (a fifth of a second per run),
    and a process that only looks lemmas up need not import spaCy (most of a second);
    {} when spacy-lookups-data has no lookup table for the language."""
    from hcrisis.text.lookups import lookup_tables, read_table

    tables = lookup_tables(language)
    if "lemma_lookup" not in tables:
        return {}
    data = read_table(tables["lemma_lookup"])
    # some languages (French) list candidate lemmas; the first is the lookup lemma
    return {k: v[0] if isinstance(v, list) else v for k, v in data.items()} if language != "en" else data


def _register_components() -> None:
    from hcrisis.text.spacy_import import import_spacy

    import_spacy()
    from spacy.language import Language

    if "hcrisis_lemmatizer" in Language.factories:
        return

    @Language.factory("hcrisis_lemmatizer")
    def make_lemmatizer(nlp, name):  # noqa: ARG001 - spaCy factory signature
        def lemmatize(doc):
            for token in doc:
                token.lemma_ = lemmatize_form(token.lower_, nlp.lang)
            return doc
        return lemmatize


def add_speech_contractions(nlp) -> None:
    """Keep each speech contraction one token (tokenizer special cases), in three casings."""
    from spacy.symbols import ORTH

    for form in speech_contractions():
        for variant in {form, form.capitalize(), form.upper()}:
            nlp.tokenizer.add_special_case(variant, [{ORTH: variant}])


def build_pipeline(model: str | None = None, language: str = "en"):
    """The toolkit's spaCy pipeline: blank for `language` (ISO code), or a named installed model."""
    _register_components()
    import spacy

    if model:
        try:
            nlp = spacy.load(model)
        except OSError:
            raise HcrisisError(f"spaCy pipeline '{model}' is not installed",
                               fix="install it or leave out --model to use the blank English pipeline") from None
    else:
        try:
            nlp = spacy.blank(language)
        except (ImportError, KeyError, ValueError):
            raise HcrisisError(f"unknown language '{language}'",
                               fix="set `language` in the manifest to an ISO code spaCy supports "
                                   "(en, fr, de, es, cy, ...)") from None
    if nlp.lang == "en":
        add_speech_contractions(nlp)
    if not nlp.has_pipe("sentencizer") and not nlp.has_pipe("parser") and not nlp.has_pipe("senter"):
        nlp.add_pipe("sentencizer")
    if not nlp.has_pipe("lemmatizer"):
        nlp.add_pipe("hcrisis_lemmatizer")
    return nlp


@lru_cache(maxsize=4)
def shared_pipeline(model: str | None = None, language: str = "en"):
    """`build_pipeline(model, language)`, built once per process (~0.2 s each) and shared by the
    stages that only tokenise with it and add strings to its vocabulary: tokenising
    a corpus, compiling codebooks, splitting terms."""
    return build_pipeline(model, language)


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

    def words_in(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Tokens with a letter or digit (not punctuation) in each range `starts[i]:ends[i]`."""
        word = ~self.types["is_punct"].to_numpy(dtype=bool)[self.type_id]
        cumulative = np.concatenate([[0], np.cumsum(word)])
        return cumulative[ends] - cumulative[starts]

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
        """Rebuild one spaCy Doc per segment (words, spaces, sentences, lemmas).

        Words and spaces go through the Doc constructor; sentence starts and
        lemmas are set in one `Doc.from_array` call, which is much faster than
        the constructor's per-token `sent_starts` and `lemmas`.
        """
        from spacy.attrs import LEMMA, SENT_START
        from spacy.tokens import Doc

        nlp = nlp or shared_pipeline(self.model)
        forms = self.types["form"].tolist()
        lemma = np.array([nlp.vocab.strings.add(w) for w in self.types["lemma"]], dtype=np.uint64)
        starts = np.where(self.sent_start, 1, -1).astype(np.int64).view(np.uint64)
        bounds = self.bounds.tolist()
        for a, b in zip(bounds[:-1], bounds[1:]):
            ids = self.type_id[a:b]
            doc = Doc(nlp.vocab, words=[forms[t] for t in ids.tolist()], spaces=self.space[a:b].tolist())
            if b > a:
                values = np.stack([starts[a:b], lemma[ids]], axis=1)
                values[0, 0] = 1                                  # a segment opens a sentence
                doc.from_array([SENT_START, LEMMA], values)
            yield doc


# Above this many characters (about 330,000 words) `tokenize` splits the texts
# between processes. Measured on 2 cores: a sixth less time at 0.5M words (each
# process warms its own tokenizer cache, which limits the gain), a third less at
# 5M words; below, forking costs more than it saves.
PARALLEL_CHARS = 2_000_000
MAX_PROCESSES = 2
_SENTENCE_PIPES = ("sentencizer", "senter", "parser")


def tokenize(texts: Iterable[str], segment_ids: list[str], nlp=None, *,
             model: str | None = None, progress=None, processes: int | None = None) -> Tokens:
    """Tokenise texts (one per segment) once into a `Tokens` table (`token_arrays`,
    then the table of word types)."""
    texts = list(texts)
    if len(texts) != len(segment_ids):
        raise ValueError("one text per segment id is required")
    return token_arrays(texts, nlp, model=model, progress=progress, processes=processes).to_tokens(segment_ids)


@dataclass
class TokenArrays:
    """What spaCy gives for a list of texts, as arrays and lists only (no pandas:
    `hcrisis.study.parallel` makes these in a process that never imports it).

    Per token `type_id`, `start`, `sent_start`, `space` and segment `bounds` as
    in `Tokens`; per word type its `forms`, `lemmas` and spaCy's lexical flags.
    """

    bounds: np.ndarray
    type_id: np.ndarray
    start: np.ndarray
    sent_start: np.ndarray
    space: np.ndarray
    forms: list[str]
    lemmas: list[str]
    is_punct: list[bool]
    is_alpha: list[bool]
    like_num: list[bool]
    model: str | None = None
    language: str = "en"

    def to_tokens(self, segment_ids: list[str]) -> Tokens:
        return Tokens(segment_ids=list(segment_ids), bounds=self.bounds, type_id=self.type_id,
                      start=self.start, sent_start=self.sent_start, space=self.space,
                      types=self._type_table(), model=self.model)

    def _type_table(self) -> pd.DataFrame:
        """One row per word type."""
        import pandas as pd

        stop = stop_words(self.language)
        lowers = [f.lower() for f in self.forms]
        return pd.DataFrame({
            "form": self.forms, "lower": lowers, "lemma": self.lemmas,
            "is_stop": [lw in stop for lw in lowers],
            "is_punct": self.is_punct, "is_alpha": self.is_alpha, "like_num": self.like_num,
            "language": self.language,
        })


def token_arrays(texts: list[str], nlp=None, *, model: str | None = None, progress=None,
                 processes: int | None = None) -> TokenArrays:
    """spaCy's tokens of texts, with each word type's lemma and flags looked up once.

    With the rule-based sentencizer (the default pipeline) only spaCy's
    tokenizer runs and sentence starts are computed from the token arrays
    (`sentencizer_starts`, the same rule vectorised), which is several times
    faster than running the component; above `PARALLEL_CHARS` characters the
    texts are tokenised in `processes` processes (default: up to
    `MAX_PROCESSES` CPUs), with results identical to one process. A trained
    pipeline's parser or senter runs through `nlp.pipe`.
    """
    nlp = nlp or shared_pipeline(model)
    senters = [p for p in nlp.pipe_names if p in _SENTENCE_PIPES]
    if senters == ["sentencizer"]:
        if processes is None:
            big = sum(map(len, texts)) >= PARALLEL_CHARS
            processes = min(MAX_PROCESSES, os.cpu_count() or 1) if big else 1
        orth, idx, space, lengths, uniq = _tokenize_parallel(nlp, texts, processes, progress)
        sent = None
    else:
        orth, idx, space, sent, lengths = _pipe_arrays(nlp, texts, progress)
        uniq = np.unique(orth)
    bounds = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    # the types are known, so no sort of every token (np.unique's) is needed
    type_id = np.searchsorted(uniq, orth)
    del orth
    lexemes = [nlp.vocab[int(h)] for h in uniq]
    if sent is None:
        punct_chars = nlp.get_pipe("sentencizer").punct_chars
        brk = np.array([lx.orth_ in punct_chars for lx in lexemes], dtype=bool)
        word = ~brk & ~np.array([lx.is_punct for lx in lexemes], dtype=bool)
        sent = sentencizer_starts(word[type_id], brk[type_id], bounds)
    forms = [lx.orth_ for lx in lexemes]
    return TokenArrays(
        bounds=bounds, type_id=type_id.astype(np.int64, copy=False), start=idx.astype(np.int64, copy=False),
        sent_start=sent, space=space, forms=forms, lemmas=[lemmatize_form(f.lower(), nlp.lang) for f in forms],
        is_punct=[lx.is_punct or not any(ch.isalnum() for ch in lx.text) for lx in lexemes],
        is_alpha=[lx.is_alpha for lx in lexemes], like_num=[lx.like_num for lx in lexemes], model=model,
        language=nlp.lang,
    )


def sentencizer_starts(word: np.ndarray, brk: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """spaCy's Sentencizer rule over token arrays, for all segments at once.

    `brk`: the token is one of the sentencizer's punct_chars; `word`: it is
    neither that nor punctuation. Each segment's first token starts a
    sentence, and so does every `word` token with a `brk` token between it
    and the segment's previous `word` token (so closing quotes and brackets
    after a full stop stay in its sentence).
    """
    starts = np.zeros(len(word), dtype=bool)
    breaks_before = np.concatenate([[0], np.cumsum(brk)])  # brk tokens before index i
    w = np.flatnonzero(word)
    seg_start = bounds[np.searchsorted(bounds, w, side="right") - 1]   # first token of w's segment
    since = np.maximum(np.concatenate([[0], w[:-1] + 1]), seg_start).astype(np.int64)
    starts[w[breaks_before[w] > breaks_before[since]]] = True
    starts[bounds[:-1][np.diff(bounds) > 0]] = True
    return starts


def _pipe_arrays(nlp, texts: list[str], progress):
    """Token arrays from `nlp.pipe` with the pipeline's sentence component (trained models)."""
    from spacy.attrs import IDX, ORTH, SENT_START, SPACY

    disable = [p for p in nlp.pipe_names if p not in _SENTENCE_PIPES]
    parts, lengths = [], []
    with nlp.select_pipes(disable=disable):
        for doc in nlp.pipe(texts, batch_size=256):
            parts.append(doc.to_array([ORTH, IDX, SENT_START, SPACY]))
            lengths.append(len(doc))
            if progress is not None:
                progress(1)
    arr = np.concatenate(parts) if parts else np.zeros((0, 4), dtype=np.uint64)
    return (arr[:, 0].astype(np.uint64), arr[:, 1].astype(np.int64), arr[:, 3] == 1,
            arr[:, 2] == 1, lengths)


def _tokenizer_arrays(nlp, texts: list[str], progress=None):
    """Orth hashes, character offsets, trailing-space flags, lengths and the distinct orth
    hashes (sorted) from the tokenizer only."""
    from spacy.attrs import IDX, ORTH, SPACY

    orth, idx, space, lengths = [], [], [], []
    for doc in nlp.tokenizer.pipe(texts, batch_size=256):
        arr = doc.to_array([ORTH, IDX, SPACY])
        # per column, so the 3-column uint64 arrays do not all stay alive (memory at 5M words)
        orth.append(arr[:, 0].copy())
        idx.append(arr[:, 1].astype(np.int64))
        space.append(arr[:, 2] == 1)
        lengths.append(len(doc))
        if progress is not None:
            progress(1)
    orth = _cat(orth, np.uint64)
    return orth, _cat(idx, np.int64), _cat(space, bool), lengths, np.unique(orth)


def _cat(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts) if parts else np.array([], dtype=dtype)


# ---- tokenising each distinct whitespace-delimited span once ---------------
#
# spaCy's tokenizer splits a text into runs of non-space and space characters
# first and tokenises each run on its own (keyed by the run's hash in its
# cache): a single ' ' after a run is absorbed as that run's trailing space,
# any other whitespace run is a span of its own (`Tokenizer._tokenize_affixes`).
# `_span_arrays` applies that rule to all texts at once with numpy and asks
# spaCy only about the distinct spans, so the per-word work spaCy's loop does
# in Python objects (a Doc, a hash and a cache lookup per span) is done once
# per word type instead of once per word. Each span is tokenised on its own, so
# tokens never depend on which texts are tokenised together (partitions); this
# equals `nlp.tokenizer.pipe` except where spaCy's pass over a whole text
# re-tokenises a span seen after a special case ('a:) :)a' gives ':', ')' for
# the second emoticon; "' ''sa" gives "'", "'", "sa" for the second span, "''",
# "sa" alone). Tested against a plain loop over the spans and against
# `nlp.tokenizer.pipe` on text without such special cases.

@lru_cache(maxsize=1)
def _space_table() -> np.ndarray:
    """`str.isspace` of every code point (1.1 MB, indexed by code point)."""
    table = np.zeros(0x110000, dtype=bool)
    table[[c for c in range(0x3001) if chr(c).isspace()]] = True   # none above U+3000
    return table


def _runs(codes: np.ndarray, lengths: np.ndarray):
    """Runs of `codes` (the code points of texts joined by one separator each): start,
    end and kind (0 non-space, 1 space) of every run inside a text, and its text."""
    kind = _space_table()[codes].view(np.int8)
    ends_with_sep = np.cumsum(lengths + 1)
    kind[ends_with_sep[:-1] - 1] = 2                   # separators: runs of their own, dropped
    edges = np.flatnonzero(kind[1:] != kind[:-1]) + 1
    starts = np.concatenate([[0], edges]) if len(kind) else edges
    ends = np.concatenate([edges, [len(kind)]]) if len(kind) else edges
    run_kind = kind[starts]
    keep = run_kind != 2
    starts, ends, run_kind = starts[keep], ends[keep], run_kind[keep]
    return starts, ends, run_kind, np.searchsorted(ends_with_sep, starts, side="right")


def _tokenize_distinct(nlp, spans: list[str]):
    """Tokens of each distinct span, each tokenised on its own: orth hashes, offsets in
    the span, and each span's token count. (Batching spans into one Doc is no faster
    and is not neutral: after a special case such as ':)' spaCy tokenises later spans
    of the same Doc differently, so tokens would depend on the batch.)"""
    from spacy.attrs import IDX, ORTH

    orth, rel, counts = [], [], np.empty(len(spans), dtype=np.int64)
    for k, text in enumerate(spans):
        arr = nlp.tokenizer(text).to_array([ORTH, IDX])
        orth.append(arr[:, 0])
        rel.append(arr[:, 1])
        counts[k] = len(arr)
    return _cat(orth, np.uint64), _cat(rel, np.uint64).astype(np.int64), counts


def _irregular_runs(texts: list[str]):
    """For texts with whitespace other than single spaces between words: each word's
    offset and whether the ' ' after it is absorbed, and every whitespace span
    (text row, offset, string), by spaCy's rule (see above)."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    joined = "\n".join(texts)
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    starts, ends, kind, text_of = _runs(codes, lengths)
    first_char = np.cumsum(lengths + 1) - lengths - 1
    prev_word = np.r_[False, (kind[:-1] == 0) & (text_of[:-1] == text_of[1:])]
    absorbed = (kind == 1) & prev_word & (codes[starts] == 32)
    span_start = starts + absorbed
    word = kind == 0
    spaces = np.flatnonzero((kind == 1) & (span_start < ends))
    offsets = span_start - first_char[text_of]
    return (offsets[word], np.r_[absorbed[1:], False][word], text_of[spaces], offsets[spaces],
            [joined[x:y] for x, y in zip(span_start[spaces].tolist(), ends[spaces].tolist())])


def _single_spaced(text: str) -> bool:
    """Words separated by single spaces, nothing before or after (' ' is the only
    printable whitespace character)."""
    return text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " " and text != ""


def _span_arrays(nlp, texts: list[str], progress=None):
    """Orth hashes, character offsets, trailing-space flags and token counts of texts,
    and distinct orth hashes, as `_tokenizer_arrays` gives them, tokenising each distinct
    span once.

    A text whose words are separated by single spaces (most turns) needs no
    scan of its characters: offsets follow from the words' lengths.
    """
    regular = np.fromiter(map(_single_spaced, texts), dtype=bool, count=len(texts))
    irregular = np.flatnonzero(~regular)
    n_words = np.fromiter((t.count(" ") + 1 if r else len(t.split()) for t, r in zip(texts, regular.tolist())),
                          dtype=np.int64, count=len(texts))
    words = "\n".join(texts).split()      # one split: far cheaper than one per text
    text_of = np.repeat(np.arange(len(texts)), n_words)
    first_word = np.cumsum(n_words) - n_words
    step = np.fromiter(map(len, words), dtype=np.int64, count=len(words)) + 1
    position = np.cumsum(step) - step
    offset = position - position[first_word[text_of]] if len(words) else position
    absorbs = np.zeros(len(words), dtype=bool)          # a ' ' follows, in the same text
    absorbs[:-1] = text_of[1:] == text_of[:-1]
    distinct = list(dict.fromkeys(words))
    ids = dict(zip(distinct, range(len(distinct))))
    span_id = np.fromiter(map(ids.__getitem__, words), dtype=np.int64, count=len(words))
    del words, ids
    spaces: list[str] = []
    if len(irregular):
        w_off, w_abs, s_text, s_off, s_str = _irregular_runs([texts[i] for i in irregular])
        rows = np.concatenate([np.arange(first_word[i], first_word[i] + n_words[i]) for i in irregular])
        offset[rows], absorbs[rows] = w_off, w_abs
        spaces = list(dict.fromkeys(s_str))
        space_ids = {t: len(distinct) + k for k, t in enumerate(spaces)}
        # whitespace spans go between the words, in text order: by (text, offset)
        s_text = irregular[s_text]
        step = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + 1
        first_char = np.cumsum(step) - step                  # of each text, were they joined
        at = np.searchsorted(first_char[text_of] + offset, first_char[s_text] + s_off)
        text_of, offset = np.insert(text_of, at, s_text), np.insert(offset, at, s_off)
        absorbs = np.insert(absorbs, at, False)
        span_id = np.insert(span_id, at, [space_ids[t] for t in s_str])
    flat_orth, flat_rel, n_tok = _tokenize_distinct(nlp, distinct + spaces)
    # each span occurrence expanded to its tokens
    per = n_tok[span_id]
    last = np.cumsum(per)
    flat = np.repeat(np.cumsum(n_tok)[span_id] - last, per) + np.arange(int(last[-1]) if len(last) else 0)
    idx = np.repeat(offset, per) + flat_rel[flat]
    space = np.zeros(len(flat), dtype=bool)
    space[(last - 1)[absorbs & (per > 0)]] = True
    counts = np.bincount(text_of, weights=per, minlength=len(texts)).astype(np.int64)
    if progress is not None:
        progress(len(texts))
    return flat_orth[flat], idx, space, counts.tolist(), np.unique(flat_orth)


def _fast_arrays(nlp, texts: list[str], progress=None):
    """`_span_arrays`, unless a special case of the tokenizer mixes spaces with other
    characters (a custom pipeline's rule could then join runs): `_tokenizer_arrays`."""
    return (_tokenizer_arrays if rules_mix_spaces(nlp) else _span_arrays)(nlp, texts, progress)


def rules_mix_spaces(nlp) -> bool:
    """Whether a special case of the tokenizer mixes spaces with other characters (it
    could join whitespace-delimited spans, which the span paths tokenise apart)."""
    return any(any(c.isspace() for c in k) and not k.isspace() for k in nlp.tokenizer.rules)


# ---- word tokens for counting ------------------------------------------------
#
# A frequency table needs each token's word type and its segment, not its offset,
# trailing space or sentence. `word_tokens` finds the distinct spans of texts as
# `_span_arrays` does (the same rule, so the same tokens) but splits single-spaced
# texts in Arrow (one split and one dictionary encoding in C instead of a Python
# string and dict lookup per word), tokenises each distinct span once per process
# (a partition's spans are mostly the previous partitions' too) and expands span
# occurrences to type ids only.

@dataclass
class WordTokens:
    """Tokens as word counts read them (`hcrisis.text.freq.FreqCounter`): each token's
    `type_id` (row of `types`: form, lower, is_alpha, is_stop, language) and each
    segment's tokens, `bounds[i]:bounds[i+1]`, in text order."""

    bounds: np.ndarray
    type_id: np.ndarray
    types: pd.DataFrame

    @property
    def segment(self) -> np.ndarray:
        """Segment row of every token."""
        return np.repeat(np.arange(len(self.bounds) - 1), np.diff(self.bounds))


# Every character `str.isspace` calls whitespace (what Python's `\s` matches), listed for
# RE2, whose `\s` is ASCII only; and all of them but ' '.
_SPACES = "".join(f"\\x{{{c:x}}}" for c in range(0x3001) if chr(c).isspace())
_OTHER_SPACES = _SPACES.replace("\\x{20}", "")
# A text that is not single-spaced words (see `_single_spaced`) holds whitespace other
# than ' ', two ' ' in a row, or a ' ' at either end.
_NOT_SINGLE_SPACED = f"[{_OTHER_SPACES}]|  |^ | $"
# Tokens of each distinct span, per pipeline (while it lives), kept across partitions (bounded).
_SPAN_TOKENS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
MAX_CACHED_SPANS = 2_000_000


def _span_occurrences(texts: list[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The distinct span of every span occurrence (text order), occurrences per text,
    and the distinct spans: single-spaced texts split at ' ', the others where
    `_cut_spans` marks them (with a character none of them holds), all in Arrow."""
    import pyarrow as pa
    import pyarrow.compute as pc

    every = pa.array(texts, pa.large_string())
    nonempty = pc.greater(pc.binary_length(every), 0).to_numpy(zero_copy_only=False)
    other = pc.match_substring_regex(every, _NOT_SINGLE_SPACED).to_numpy(zero_copy_only=False) & nonempty
    plain = nonempty & ~other
    rest = [texts[i] for i in np.flatnonzero(other)]
    cut = next(c for c in map(chr, range(0x110000)) if not any(c in t for t in rest))
    counts = np.zeros(len(texts), dtype=np.int64)
    words = []
    for rows, strings, sep in ((plain, every.filter(pa.array(plain)), " "),
                               (other, _cut_spans(every.filter(pa.array(other)), cut), cut)):
        if len(strings):
            split = pc.split_pattern(strings, sep)
            counts[rows] = np.diff(split.offsets.to_numpy())
            words.append(split.flatten())
    encoded = pc.dictionary_encode(pa.concat_arrays(words)) if words else None
    occurrences = np.empty(int(counts.sum()), dtype=np.int64)
    in_other = np.repeat(other, counts)
    if encoded is not None:     # single-spaced texts' spans first, then the others'
        ids = encoded.indices.to_numpy()
        occurrences[~in_other] = ids[:len(occurrences) - int(in_other.sum())]
        occurrences[in_other] = ids[len(occurrences) - int(in_other.sum()):]
    return occurrences, counts, encoded.dictionary.to_pylist() if encoded is not None else []


def _cut_spans(strings, cut: str):
    """Arrow strings with `cut` where spaCy's rule cuts a text that is not single-spaced
    into spans: the ' ' a word absorbs becomes `cut`, and `cut` goes between a word and
    other whitespace and between whitespace and a word; none at the end. Three RE2
    passes, equal to the lookbehind regex `(?<=\\S) |(?<=\\S)(?=\\s)|(?<=\\s)(?<!\\S )(?=\\S)`
    (tested), a third of its time: after the first pass, an absorbed ' ' is `cut`, so
    any whitespace left before a word is cut from it."""
    import pyarrow.compute as pc

    pattern, mark = f"\\x{{{ord(cut):x}}}", "\\\\" if cut == "\\" else cut
    word = f"[^{_SPACES}{pattern}]"
    strings = pc.replace_substring_regex(strings, f"([^{_SPACES}]) ", "\\1" + mark)
    strings = pc.replace_substring_regex(strings, f"({word})([{_OTHER_SPACES}])", f"\\1{mark}\\2")
    strings = pc.replace_substring_regex(strings, f"([{_SPACES}])({word})", f"\\1{mark}\\2")
    return pc.replace_substring_regex(strings, f"{pattern}$", "")


def _span_tokens(nlp, spans: list[str]) -> list[tuple[str, ...]]:
    """The token forms of each span, each tokenised on its own (as `_tokenize_distinct`),
    looked up in this process's cache first."""
    cache = _SPAN_TOKENS.setdefault(nlp, {})
    if len(cache) > MAX_CACHED_SPANS:
        cache.clear()
    new = [x for x in spans if x not in cache]
    if new:
        orth, _, n_tok = _tokenize_distinct(nlp, new)
        strings = nlp.vocab.strings
        forms = [strings[int(h)] for h in orth]
        ends = np.cumsum(n_tok).tolist()
        cache.update(zip(new, (tuple(forms[e - n:e]) for e, n in zip(ends, n_tok.tolist()))))
    return [cache[x] for x in spans]


def word_tokens(texts: list[str], nlp) -> WordTokens:
    """The word tokens of texts (one per segment), equal to `tokenize`'s types and order."""
    import pandas as pd

    occurrences, per_text, spans = _span_occurrences(texts)
    types: dict[str, int] = {}
    tokens = _span_tokens(nlp, spans)
    flat = [types.setdefault(form, len(types)) for forms in tokens for form in forms]
    n_tok = np.fromiter(map(len, tokens), dtype=np.int64, count=len(spans))
    per = n_tok[occurrences]
    last = np.cumsum(per)
    index = np.repeat(np.cumsum(n_tok)[occurrences] - last, per) + np.arange(int(last[-1]) if len(last) else 0)
    ends = np.concatenate([[0], last])[np.cumsum(per_text)]
    forms = list(types)
    stop = stop_words(nlp.lang)
    lowers = [f.lower() for f in forms]
    table = pd.DataFrame({"form": forms, "lower": lowers, "is_alpha": [nlp.vocab[f].is_alpha for f in forms],
                          "is_stop": [lw in stop for lw in lowers], "language": nlp.lang})
    return WordTokens(np.concatenate([[0], ends]).astype(np.int64),
                      np.asarray(flat, dtype=np.int64)[index], table)


# The pipeline and texts a forked worker reads (inherited, not pickled).
_FORK_INPUT: tuple = ()


def _worker_arrays(a: int, b: int):
    """In a forked worker: texts[a:b] as arrays, plus the strings of their word types
    (the parent's StringStore has not seen new ones)."""
    nlp, texts = _FORK_INPUT
    orth, idx, space, lengths, types = _fast_arrays(nlp, texts[a:b])
    return orth, idx, space, lengths, types, [nlp.vocab.strings[int(h)] for h in types]


def _tokenize_parallel(nlp, texts: list[str], processes: int, progress):
    """`_tokenizer_arrays` of contiguous chunks of about equal size: the last chunk in
    this process, the others in forked workers; concatenated in order, so the result
    does not depend on the number of processes."""
    import multiprocessing

    chars = np.cumsum([len(t) for t in texts])
    cuts = np.searchsorted(chars, chars[-1] * np.arange(1, processes) / processes, side="right") \
        if texts else []
    edges = sorted({0, len(texts), *(int(c) for c in cuts)})
    if len(edges) <= 2 or "fork" not in multiprocessing.get_all_start_methods():
        return _fast_arrays(nlp, texts, progress)
    import os
    from concurrent.futures import ProcessPoolExecutor

    from hcrisis.workers import die_with_parent

    global _FORK_INPUT
    _FORK_INPUT = (nlp, texts)
    try:
        with ProcessPoolExecutor(len(edges) - 2, mp_context=multiprocessing.get_context("fork"),
                                 initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
            jobs = [pool.submit(_worker_arrays, a, b) for a, b in zip(edges[:-2], edges[1:-1])]
            last = _fast_arrays(nlp, texts[edges[-2]:], progress)
            done = [job.result() for job in jobs]
    finally:
        _FORK_INPUT = ()
    for (*_, lengths, _types, strings) in done:
        for text in strings:
            nlp.vocab.strings.add(text)
        if progress is not None:
            progress(len(lengths))
    parts = [d[:5] for d in done] + [last]
    return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]), [n for p in parts for n in p[3]],
            np.unique(np.concatenate([p[4] for p in parts])))


def counted_words(tokens: Tokens | WordTokens, min_length: int = 3) -> np.ndarray:
    """Per segment, the tokens the frequency tables count before stop words are
    removed: alphabetic, at least `min_length` characters."""
    long_alpha = (tokens.types["is_alpha"].to_numpy(dtype=bool)
                  & (tokens.types["form"].str.len().to_numpy() >= min_length))
    cumulative = np.concatenate([[0], np.cumsum(long_alpha[tokens.type_id])])
    return cumulative[tokens.bounds[1:]] - cumulative[tokens.bounds[:-1]]


def tokenize_segments(segments: pd.DataFrame, nlp=None, *, model: str | None = None,
                      progress=None, processes: int | None = None) -> Tokens:
    """Tokenise the `text` column of a segments table.

    Each language of the `language` column (default `en`) is tokenised with
    its own blank pipeline, stop words and lemmas; word types are kept apart
    by language (the same form may be a type of two languages), and tokens
    stay in the segments' order.
    """
    languages = segments["language"] if "language" in segments else None
    if nlp is not None or model or languages is None or languages.nunique() <= 1:
        language = str(languages.iloc[0]) if languages is not None and len(languages) else "en"
        nlp = nlp or shared_pipeline(model, language)
        return tokenize(segments["text"].tolist(), segments["segment_id"].tolist(), nlp,
                        model=model, progress=progress, processes=processes)
    parts = {}
    for language, rows in sorted(segments.groupby("language", sort=True).indices.items()):
        texts = segments["text"].to_numpy()[rows].tolist()
        parts[language] = (rows, token_arrays(texts, shared_pipeline(None, language), progress=progress,
                                               processes=processes))
    return merge_languages(parts, segments["segment_id"].tolist())


def merge_languages(parts: dict[str, tuple[np.ndarray, TokenArrays]], segment_ids: list[str]) -> Tokens:
    """One `Tokens` from per-language token arrays of segment rows, in segment order,
    the type tables stacked (type ids of each language offset past the previous ones)."""
    import pandas as pd

    n = len(segment_ids)
    lengths = np.zeros(n, dtype=np.int64)
    pieces: list[tuple[int, int, int, TokenArrays]] = []    # (row, first token, type offset, arrays)
    offset = 0
    for rows, arrays in parts.values():
        for k, row in enumerate(rows):
            lengths[row] = arrays.bounds[k + 1] - arrays.bounds[k]
            pieces.append((int(row), int(arrays.bounds[k]), offset, arrays))
        offset += len(arrays.forms)
    pieces.sort(key=lambda p: p[0])
    take = [(np.arange(first, first + lengths[row]), type_offset, arrays)
            for row, first, type_offset, arrays in pieces]
    types = pd.concat([arrays._type_table() for _, arrays in parts.values()], ignore_index=True)
    return Tokens(segment_ids=list(segment_ids), bounds=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
                  type_id=_gather(take, "type_id", shift=True).astype(np.int64),
                  start=_gather(take, "start").astype(np.int64),
                  sent_start=_gather(take, "sent_start").astype(bool),
                  space=_gather(take, "space").astype(bool), types=types)


def _gather(take: list, column: str, shift: bool = False) -> np.ndarray:
    """A per-token array of `TokenArrays` pieces (token indices, type offset, arrays), concatenated."""
    parts = [getattr(arrays, column)[idx] + (offset if shift else 0) for idx, offset, arrays in take]
    return np.concatenate(parts) if parts else np.array([], dtype=np.int64)
