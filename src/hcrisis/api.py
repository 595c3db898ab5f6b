"""The public Python API: `import hcrisis` and call these (loaded on first use).

Functions take a corpus (a loaded `Corpus`, or its folder), plain values and
settings objects, and return pandas tables; none but `reproduce` (which runs a
study file, as `hcrisis reproduce` does) writes a file. A segment is
`"all"` (every participant turn), a `Segment`, or a mapping of attribute
conditions such as `{"sector": "ALMO"}` or `{"wave": ["early", "late"]}`,
checked against the corpus like a study's segments. Tokenise once with
`tokenize` and pass `tokens=` to every later call to spare re-tokenising.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    import pandas as pd

    from hcrisis.coding.agreement import Agreement
    from hcrisis.coding.codebook import Codebook
    from hcrisis.ingest.corpus import Corpus
    from hcrisis.ingest.segments import Segment
    from hcrisis.text.freq import FreqSettings
    from hcrisis.text.terms import TermSettings
    from hcrisis.text.tokens import Tokens

def _corpus(corpus: Corpus | str | Path) -> Corpus:
    from hcrisis.ingest.corpus import as_corpus
    return as_corpus(corpus)


def _tokens(c: Corpus, tokens: Tokens | None) -> Tokens:
    from hcrisis.text.tokens import tokenize_segments
    return tokens if tokens is not None else tokenize_segments(c.segments)


def _segment(corpus: Corpus | str | Path, spec: Any = "all") -> Segment:
    """The segment a spec names (see the module docstring), checked against the corpus."""
    from hcrisis.errors import InputError
    from hcrisis.ingest.segments import ALL, Segment, check_segments, where_segment

    c = _corpus(corpus)
    if isinstance(spec, Segment):
        seg = spec
    elif isinstance(spec, Mapping):
        seg = where_segment(dict(spec))
    elif spec == ALL.id:
        seg = ALL
    else:
        raise InputError(f"no segment '{spec}'", fix="give 'all', a Segment or conditions such as "
                                                     "{'sector': 'ALMO'}")
    check_segments([seg], c.segments, c.manifest_path)
    return seg


def tokenize(corpus: Corpus | str | Path) -> Tokens:
    """The corpus's tokens (spaCy, lemmas with the toolkit's overrides), made once and reused."""
    return _tokens(_corpus(corpus), None)


def _counter(corpus, tokens, settings):
    from hcrisis.text.freq import FreqCounter, FreqSettings

    c = _corpus(corpus)
    return c, FreqCounter(_tokens(c, tokens), c.segments, settings or FreqSettings())


def frequency_table(corpus: Corpus | str | Path, segment: Any = "all", *, tokens: Tokens | None = None,
                    settings: FreqSettings | None = None, top: int | None = None) -> pd.DataFrame:
    """Word frequencies of a segment (`hcrisis.text.freq`): rank, word, count,
    weighted_percentage, members; `attrs['denominator']` the counted words."""
    c, counter = _counter(corpus, tokens, settings)
    return counter.table(_segment(c, segment), top=top)


def keyness(corpus: Corpus | str | Path, a: Any, b: Any = None, *, tokens: Tokens | None = None,
            settings: FreqSettings | None = None, correction: str = "fdr_bh") -> pd.DataFrame:
    """Keyness of every word of segment `a` against `b` (None: every other participant
    turn): signed G², p, adjusted p, log ratio, %DIFF (`hcrisis.text.keyness`)."""
    c, counter = _counter(corpus, tokens, settings)
    seg_a = _segment(c, a)
    seg_b = _segment(c, b) if b is not None else None
    labels = (seg_a.id, seg_b.id if seg_b is not None else "rest")
    return counter.keyness(seg_a, seg_b if seg_b is not None else counter.rest(seg_a), labels=labels,
                           correction=correction)


def extract_terms(corpus: Corpus | str | Path, segment: Any = "all", *, tokens: Tokens | None = None,
                  settings: TermSettings | None = None) -> pd.DataFrame:
    """Multi-word terms of a segment ranked by C-value, with G² and PMI (`hcrisis.text.terms`)."""
    from hcrisis.text.terms import TermIndex, TermSettings

    c = _corpus(corpus)
    seg = _segment(c, segment)
    s = settings or TermSettings()
    return TermIndex(_tokens(c, tokens), c.segments).table(seg, s.min_freq, s.min_docs, s.top)


def kwic(corpus: Corpus | str | Path, word: str, segment: Any = "all", *, tokens: Tokens | None = None,
         window: int = 5, paragraph: bool = False, match: str = "lemma",
         allow_identifiers: bool = False) -> pd.DataFrame:
    """Keyword in context: one row per hit with its window, identifiers masked unless allowed."""
    from hcrisis.ingest.privacy import Scanner
    from hcrisis.text.kwic import check_query, kwic as find

    c = _corpus(corpus)
    seg = _segment(c, segment)
    check_query(word, match, window)     # before the slow part (tokenising)
    return find(_tokens(c, tokens), c.segments, word, window=window, paragraph=paragraph,
                rows=seg.mask(c.segments), match=match,
                scanner=None if allow_identifiers else Scanner.from_corpus(c))


def apply_codebook(corpus: Corpus | str | Path, codebook: Codebook | str | Path, *,
                   tokens: Tokens | None = None) -> pd.DataFrame:
    """Codings: one row per coded unit and code (`hcrisis.coding.apply`)."""
    from hcrisis.coding.apply import CODING_COLUMNS, apply_codebook as code

    c = _corpus(corpus)
    return code(codebook, c.segments, _tokens(c, tokens))[CODING_COLUMNS]


def agreement(codings: pd.DataFrame | str | Path, gold: pd.DataFrame | str | Path,
              codebook: str | Path, *, corpus: Corpus | str | Path | None = None,
              level: str | None = None, unit: str = "segment") -> Agreement:
    """Agreement of two codings (κ, α, per-code P/R/F1, confusion; with a corpus, split
    halves and the TF-IDF baseline; a gold placed in the text is also compared by
    character) at `level` theme or code (default both; `hcrisis.coding.agreement`)."""
    from hcrisis.coding.agreement import run_agree

    return run_agree(codings, gold, corpus=_corpus(corpus) if corpus is not None else None, codebook=codebook,
                     level=level, unit=unit, out=None)
