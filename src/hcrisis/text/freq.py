"""Word frequencies: NVivo's Word Frequency Query with its arithmetic written down.

Counted tokens (the denominator) are the tokens of the scope that are
alphabetic (spaCy `is_alpha`), at least `min_length` characters long, not a
stop word and not part of a filler sequence, in non-interviewer turns (a
study segment with `include_interviewer: true` keeps them). Stop words
(`--stop-words default`) are spaCy's English list plus the interview
fillers of `data/fillers.yaml`; a multi-word filler ("you know") removes
only whole occurrences of the sequence inside one turn.

Words are grouped `exact` (the lower-cased form) or `stemmed` (Snowball
English stem, as NVivo's "with stemmed words" groups manage/managed/
managing), except protected forms (`housing`) which keep their own group.
For each group:

    count               = Σ counts of its member forms in the scope
    weighted_percentage = 100 · count / counted tokens of the scope

(NVivo's weighted percentage splits a word's count between the groups it
belongs to; with exact or stemmed grouping every form is in one group, so it
reduces to the formula above.) Rows are sorted by count descending, ties by
word; `word` is the group's most frequent form, ties by form.

The corpus is tokenised once (`hcrisis.text.tokens`); each scope is a boolean
mask over the token arrays counted with `np.bincount`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np
import pandas as pd

from hcrisis.errors import InputError
from hcrisis.ingest.segments import ALL, Segment, check_segments
from hcrisis.tables import write_table
from hcrisis.text.tokens import Tokens

if TYPE_CHECKING:
    from hcrisis.ingest.corpus import Corpus

GROUPINGS = ("exact", "stemmed")
FREQ_COLUMNS = ["rank", "word", "length", "count", "weighted_percentage", "members"]


@lru_cache(maxsize=1)
def default_lists() -> dict[str, Any]:
    """The packaged filler list and protected forms (data/fillers.yaml)."""
    from hcrisis.yamlspec import parse_yaml
    return parse_yaml(resources.files("hcrisis").joinpath("data/fillers.yaml").read_text("utf-8"))


@dataclass(frozen=True)
class FreqSettings:
    """Counting rule; study files set it under `settings.freq`."""

    min_length: int = 3
    stop_words: str = "default"          # default | none | path of a stop-list file
    grouping: str = "exact"              # exact | stemmed
    top: int = 1000
    fillers: tuple[str, ...] | None = None    # None: the packaged list
    extra_stop_words: tuple[str, ...] = ()
    protected: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    languages: str = "separate"          # separate | together (a scope may mix languages)

    def describe(self) -> str:
        stop = {"default": "spaCy English stop words + interview fillers",
                "none": "no stop words"}.get(self.stop_words, f"stop list {self.stop_words}")
        return (f"alphabetic tokens of at least {self.min_length} letters, {stop}, "
                f"{self.grouping} grouping")

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | None = None, **overrides: Any) -> "FreqSettings":
        """Settings from plain values (a study's `settings.freq`), then the
        non-None `overrides` (command-line options)."""
        raw = dict(raw or {})
        kwargs: dict[str, Any] = {k: raw[k] for k in ("min_length", "stop_words", "grouping", "top",
                                                                "languages")
                                  if k in raw}
        if "fillers" in raw:
            kwargs["fillers"] = tuple(str(w) for w in raw["fillers"])
        kwargs["extra_stop_words"] = tuple(str(w) for w in raw.get("extra_stop_words", []))
        kwargs["protected"] = tuple(sorted((str(k), str(v)) for k, v in raw.get("protected", {}).items()))
        kwargs.update({k: v for k, v in overrides.items() if v is not None})
        s = cls(**kwargs)
        if s.grouping not in GROUPINGS:
            raise InputError(f"unknown grouping '{s.grouping}'", fix="use exact or stemmed")
        if s.languages not in ("separate", "together"):
            raise InputError(f"unknown settings.freq.languages '{s.languages}'", fix="use separate or together")
        if s.min_length < 1 or s.top < 1:
            raise InputError("min_length and top must be at least 1", fix="pass positive values")
        return s


def stop_entries(s: FreqSettings) -> list[tuple[str, ...]]:
    """The stop list as word sequences (length 1 for single words)."""
    from hcrisis.text.tokens import english_stop_words

    if s.stop_words == "none":
        words: list[str] = []
    elif s.stop_words == "default":
        fillers = s.fillers if s.fillers is not None else default_lists()["fillers"]
        words = sorted(english_stop_words()) + [str(f) for f in fillers]
    else:
        words = _read_stop_file(Path(s.stop_words))
    return sorted({tuple(w.lower().split()) for w in [*words, *s.extra_stop_words] if w.strip()})


def _read_stop_file(path: Path) -> list[str]:
    try:
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read stop-word list: {exc.__class__.__name__}", path=path,
                         fix="give a UTF-8 text file with one word or phrase per line, "
                             "or --stop-words default|none") from None
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def _stop_types(tokens: Tokens, single: set[str], settings: FreqSettings) -> np.ndarray:
    """Stop word per word type: the default list (English) for English types and each
    other language's spaCy stop list for its types; a user's list for every type."""
    lower = tokens.types["lower"].to_numpy(dtype=object)
    listed = np.array([f in single for f in lower], dtype=bool)
    if settings.stop_words != "default" or "language" not in tokens.types:
        return listed
    english = (tokens.types["language"] == "en").to_numpy()
    return np.where(english, listed, tokens.types["is_stop"].to_numpy(dtype=bool))


class WordGroups:
    """The word groups of a sorted array of distinct lower-cased forms, and the tables
    made from counts per form: whole-corpus counts (`FreqCounter`) or counts merged
    from partitions of a corpus (`hcrisis.engine`) give the same tables."""

    def __init__(self, forms: np.ndarray, settings: FreqSettings):
        self.forms, self.settings = forms, settings
        self.group_of_form = self._groups()
        keys, self.group_index = np.unique(self.group_of_form, return_inverse=True)
        self.n_groups = len(keys)

    def _groups(self) -> np.ndarray:
        """Group key of every form: itself, or its Snowball stem unless protected."""
        if self.settings.grouping == "exact":
            return self.forms.copy()
        import snowballstemmer
        protected = dict(default_lists()["protected"])
        protected.update(dict(self.settings.protected))
        stems = snowballstemmer.stemmer("english").stemWords([str(f) for f in self.forms])
        return np.array([f"={protected[f]}" if f in protected else s
                         for f, s in zip(self.forms, stems)], dtype=object)

    def group_counts(self, form_counts: np.ndarray) -> np.ndarray:
        """Counts per group (in sorted group-key order) from counts per form."""
        return np.bincount(self.group_index, weights=form_counts, minlength=self.n_groups).astype(np.int64)

    def group_names(self, form_counts: np.ndarray) -> np.ndarray:
        """The name of every group: its most frequent form, ties by form (as in the tables)."""
        order = np.lexsort((np.arange(len(self.forms)), -form_counts, self.group_index))
        groups = self.group_index[order]
        first = order[np.r_[True, groups[1:] != groups[:-1]]] if len(order) else order
        return self.forms[first]

    def counts_table(self, form_counts: np.ndarray, top: int | None = None) -> pd.DataFrame:
        """`frequency_table` of counts per form."""
        return frequency_table(self.forms, self.group_of_form, form_counts, top)

    def counts_keyness(self, a: np.ndarray, b: np.ndarray, labels: tuple[str, str] = ("A", "B"),
                       correction: str = "fdr_bh") -> pd.DataFrame:
        """Keyness (hcrisis.text.keyness) of every word group of A against B, from counts per form.

        Groups are matched by key, and shown by their most frequent form in
        A and B together, so a group has one name on both sides.
        """
        from hcrisis.text.keyness import keyness

        names = self.group_names(a + b)
        ga, gb = self.group_counts(a), self.group_counts(b)
        return keyness(pd.Series(ga[ga > 0], index=names[ga > 0]),
                       pd.Series(gb[gb > 0], index=names[gb > 0]),
                       labels=labels, correction=correction)


class FreqCounter(WordGroups):
    """Counts of word groups over any scope of one tokenised corpus."""

    def __init__(self, tokens: Tokens, segments: pd.DataFrame, settings: FreqSettings):
        self.tokens, self.segments = tokens, segments
        self.token_segment = tokens.segment   # segment row of every token, computed once
        lower = tokens.types["lower"].to_numpy(dtype=object)
        forms, form_of_type = np.unique(lower, return_inverse=True)
        super().__init__(forms, settings)
        self.form_id = form_of_type[tokens.type_id]
        entries = stop_entries(settings)
        single = {e[0] for e in entries if len(e) == 1}
        keep_form = np.array([f.isalpha() and len(f) >= settings.min_length for f in self.forms], dtype=bool)
        alpha_type = tokens.types["is_alpha"].to_numpy(dtype=bool)
        self.counted = keep_form[self.form_id] & alpha_type[tokens.type_id] & ~_stop_types(tokens, single, settings)[tokens.type_id]
        self.counted &= ~self._sequence_mask([e for e in entries if len(e) > 1])

    def _sequence_mask(self, sequences: list[tuple[str, ...]]) -> np.ndarray:
        """Tokens inside an occurrence of a multi-word stop entry (within one turn)."""
        hit = np.zeros(len(self.form_id), dtype=bool)
        index = {f: i for i, f in enumerate(self.forms)}
        seg = self.token_segment
        for seq in sequences:
            ids = [index.get(w) for w in seq]
            k = len(seq)
            if None in ids or len(self.form_id) < k:
                continue
            n = len(self.form_id) - k + 1
            start = seg[:n] == seg[k - 1:]
            for j, fid in enumerate(ids):
                start &= self.form_id[j:j + n] == fid
            for j in range(k):
                hit[j:j + n] |= start
        return hit

    def rows(self, scope: Segment | np.ndarray) -> np.ndarray:
        """Row mask of the segments table for a study segment or a ready mask.

        A scope spanning two languages is an error unless the study's
        `settings.freq.languages` is `together`: English stop words and lemmas
        must not decide a French interview's counts silently."""
        mask = scope.mask(self.segments) if isinstance(scope, Segment) else np.asarray(scope, bool)
        check_languages(mask, self.segments, self.settings, scope.id if isinstance(scope, Segment) else None)
        return mask

    def rest(self, segment: Segment) -> np.ndarray:
        """Row mask of every non-interviewer turn outside `segment`."""
        return rest_mask(segment, self.segments)

    def form_counts(self, scope: Segment | np.ndarray) -> np.ndarray:
        """Counted tokens per form in the scope (a mask over the token arrays)."""
        in_scope = self.rows(scope)[self.token_segment]
        return np.bincount(self.form_id[self.counted & in_scope], minlength=len(self.forms))

    def counts_by_rows(self, group: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Counted tokens per form (rows: groups) and all tokens of each of `n` groups of
        segment rows (`group[row]`, -1 for rows of none), in one pass over the tokens."""
        of_token = group[self.token_segment]
        inside = of_token >= 0
        counted = self.counted & inside
        flat = np.bincount(of_token[counted] * len(self.forms) + self.form_id[counted],
                           minlength=n * len(self.forms))
        return flat.reshape(n, len(self.forms)), np.bincount(of_token[inside], minlength=n).astype(np.int64)

    def tokens_in(self, scope: Segment | np.ndarray) -> int:
        """Tokens (any kind) in the scope."""
        return int(self.rows(scope)[self.token_segment].sum())

    def table(self, scope: Segment | np.ndarray = ALL, top: int | None = None) -> pd.DataFrame:
        """The frequency table of a scope (all groups unless `top`), indexed by group key."""
        table = self.counts_table(self.form_counts(scope), top)
        table.attrs["tokens_in_scope"] = self.tokens_in(scope)
        return table

    def keyness(self, scope_a: Segment | np.ndarray, scope_b: Segment | np.ndarray,
                labels: tuple[str, str] = ("A", "B"), correction: str = "fdr_bh") -> pd.DataFrame:
        """Keyness of every word group of A against B (`WordGroups.counts_keyness`)."""
        return self.counts_keyness(self.form_counts(scope_a), self.form_counts(scope_b), labels, correction)


def check_languages(mask: np.ndarray, segments: pd.DataFrame, settings: FreqSettings, name: str | None) -> None:
    """A scope spanning two languages is an error unless `settings.languages` is `together`."""
    if settings.languages == "separate" and "language" in segments:
        found = sorted(set(segments["language"][mask].unique()))     # no object per row (an outline's categorical)
        if len(found) > 1:
            raise InputError(f"segment '{name or 'the selection'}' spans languages {', '.join(found)}",
                             fix="select one language (where: {language: en}) or set "
                                 "settings.freq.languages: together in the study")


def rest_mask(segment: Segment, segments: pd.DataFrame) -> np.ndarray:
    """Row mask of every non-interviewer turn outside `segment`."""
    return ~segment.mask(segments) & ALL.mask(segments)


def frequency_table(forms: np.ndarray, groups: np.ndarray, counts: np.ndarray,
                    top: int | None = None) -> pd.DataFrame:
    """Rank, word, length, count, weighted_percentage, members of every group.

    Indexed by group key; `attrs['denominator']` is the number of counted
    tokens (the sum over all groups, before `top`).
    """
    nz = counts > 0
    df = pd.DataFrame({"form": forms[nz].astype(str), "group": groups[nz], "n": counts[nz]})
    total = int(df["n"].sum())
    df = df.sort_values(["group", "n", "form"], ascending=[True, False, True], kind="mergesort")
    member = (df["form"] + " (" + df["n"].astype(str) + ")").tolist()
    keys = df["group"].to_numpy()
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.array([], int)
    ends = np.r_[starts[1:], len(keys)].astype(int)
    g = pd.DataFrame({"word": df["form"].to_numpy()[starts],
                      "count": np.add.reduceat(df["n"].to_numpy(), starts) if len(keys) else [],
                      "members": [", ".join(member[a:b]) for a, b in zip(starts, ends)]},
                     index=pd.Index(keys[starts], name="group"))
    g = g.sort_values(["count", "word"], ascending=[False, True], kind="mergesort")
    if top is not None:
        g = g.head(top)
    out = pd.DataFrame({
        "rank": np.arange(1, len(g) + 1),
        "word": g["word"].to_numpy(dtype=object),
        "length": g["word"].str.len().to_numpy(dtype=int),
        "count": g["count"].to_numpy(dtype=int),
        "weighted_percentage": 100.0 * g["count"].to_numpy() / total if total else 0.0,
        "members": g["members"].to_numpy(dtype=object),
    }, columns=FREQ_COLUMNS, index=g.index)
    out.attrs["denominator"] = total
    return out


def write_frequencies(table: pd.DataFrame, out_dir: Path, segment: Segment,
                      settings: FreqSettings) -> list[Path]:
    """outputs/.../freq_<segment>.csv and .md, the denominator stated in the title."""
    title = (f"Word frequencies: {segment.label} ({segment.id}); denominator "
             f"{table.attrs['denominator']:,} counted words: {settings.describe()}")
    return write_table(table, Path(out_dir) / f"freq_{segment.id}", title=title)


def tokenize_with_progress(segments: pd.DataFrame) -> Tokens:
    """Tokenise a segments table once, with a rich progress bar on stderr."""
    from rich.console import Console
    from rich.progress import Progress

    from hcrisis.text.tokens import tokenize_segments

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("tokenising", total=len(segments))
        return tokenize_segments(segments, progress=lambda n: bar.advance(task, n))


def count_words(corpus: str | Path | Corpus, settings: FreqSettings = FreqSettings(),
                segments: Sequence[Segment] = (), tokens: Tokens | None = None) -> FreqCounter:
    """A word counter over a corpus (a folder, or one loaded), tokenised once with a
    progress bar (unless its `tokens` are given); `segments` are checked against it first
    (`check_segments`)."""
    from hcrisis.ingest.corpus import as_corpus

    c = as_corpus(corpus)
    check_segments(segments, c.segments, c.manifest_path)
    return FreqCounter(tokens if tokens is not None else tokenize_with_progress(c.segments), c.segments, settings)
