"""Codebooks: a version-controlled YAML coding frame, validated and compiled to spaCy.

Format (every key except `codebook`, `codes`, and each code's `id`/`label` is optional)::

    codebook: thesis
    version: "1.0"
    description: ...
    defaults: {unit: paragraph, min_hits: 1}    # unit: sentence | turn | paragraph
    codes:                                      # themes; children under `codes:`, any depth
      - id: people_first                        # unique in the tree, ^[a-z][a-z0-9_]*$
        label: People first
        colour: "#1f77b4"
        definition / when_to_use / when_not_to_use / example: text
        thesis_sections: ["5.2"]
        unit: sentence                          # overrides defaults.unit
        min_hits: 2                             # overrides defaults.min_hits
        related: [housing_values]               # other code ids
        rules:
          keywords: [tenant, "manag*"]          # one word each, lemma-matched; `x*` = prefix
          phrases: ["social purpose"]           # case-insensitive token sequences
          patterns: [[{LOWER: know}, {LOWER: the}, {LOWER: numbers}]]   # spaCy Matcher
          near: [{terms: [leader, vision], within: 5}]
          regex: ['\\bCIH\\b']
          exclude: {keywords: [...], phrases: [...], regex: [...]}
        codes: [...]

Rule semantics:

- keywords: the keyword's lemma against each token's lemma (so `tenant`
  matches "tenants"; a word the tokenizer splits, such as "well-being", as
  its sequence of lemmas); a trailing `*` is a prefix wildcard, expanded
  against the corpus vocabulary (every lower-cased form starting with the
  prefix).
- phrases: the phrase's tokens against the text's lower-cased tokens, exactly
  (no lemmatising: write each variant). No wildcards.
- patterns: spaCy `Matcher` token patterns (LOWER, LEMMA, ORTH, IS_* and the
  like; the blank pipeline has no POS tags or dependencies).
- near: every term (lemma-matched, wildcards allowed) within `within` tokens
  of each other, counting from the first term's token to the last's (NVivo's
  NEAR); one hit per minimal window, windows not overlapping.
- regex: Python regular expressions over the segment text, case-sensitive
  unless written with `(?i)`; a match is widened to whole tokens. Accepted
  only if they compile, cannot match the empty string, are at most 300
  characters, and have no unbounded repeat (`*`, `+`, `{n,}`) of `.` (use a
  bounded `.{0,40}`) nor inside another repeat (`(a+)+`, `(\\w+\\s?)*`: the
  shapes that backtrack catastrophically).
- exclude: vetoes; a unit where any of them matches gets no coding from the
  code (keywords, phrases and regex as above).

A code applies to a unit (a sentence, or the segment row for turn/paragraph)
when its rules hit at least `min_hits` times there and no exclusion fires; a
match belongs to the unit where it starts, and every match is a hit,
overlapping ones included (spaCy keeps them all: "social" inside "social
purpose" is a second hit). A code without rules and without
child codes is rejected ("empty code"); so are unknown keys, duplicate ids,
bad regexes or token patterns and `related` ids that do not exist, all
listed at once with their paths and lines. Children do not inherit rules;
aggregate tables count a unit coded by a child for its ancestors too
(`hcrisis.coding`).

Compilation (`CompiledCodebook`): keywords (and near terms) go to one
`PhraseMatcher` on LEMMA, phrases and wildcard expansions to one on LOWER —
the fast path, linear in the text whatever the number of codes —, and only
`patterns` to a token `Matcher`; regexes run per segment. The compiled
codebook is also a spaCy pipeline component, `hcrisis_coder`, that stores
rule hits of applied codes in `doc.spans["hcrisis_codes"]` and coded units in
`doc.spans["hcrisis_units"]` (label = code id).
"""

from __future__ import annotations

import bisect
import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from .errors import InputError, SchemaError
from .schema import Field, Lines, load_yaml, validate

try:  # Python 3.11+: the regex parser without sre_parse's deprecation warning
    import re._parser as _sre
except ImportError:  # pragma: no cover
    import sre_parse as _sre  # type: ignore[no-redef]

UNITS = ("sentence", "turn", "paragraph")
RULE_KINDS = ("keywords", "phrases", "patterns", "near", "regex")
# Evidence weight of one distinct matched term, by rule kind (see `score`).
WEIGHTS = {"keywords": 1.0, "phrases": 2.0, "patterns": 2.0, "near": 2.0, "regex": 2.0}
MAX_REGEX = 300
SPAN_KEY = "hcrisis_codes"
UNIT_KEY = "hcrisis_units"

_ID = re.compile(r"[a-z][a-z0-9_]*")
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_KEYWORD = re.compile(r"[^\s*]+\*?")


# ---------------------------------------------------------------- schema
def _fullmatch(rx: re.Pattern, message: str):
    return lambda v: None if rx.fullmatch(v) else message


def _positive(n: int) -> str | None:
    return None if n >= 1 else "must be at least 1"


def _no_wildcard(phrase: str) -> str | None:
    if not phrase.strip():
        return "empty phrase"
    return "wildcards are for keywords and near terms" if "*" in phrase else None


def regex_problem(rx: str) -> str | None:
    """Why a rule regex is refused (see the module docstring), or None."""
    if len(rx) > MAX_REGEX:
        return f"regular expression longer than {MAX_REGEX} characters"
    try:
        re.compile(rx)
    except re.error as exc:
        return f"invalid regular expression: {exc}"
    parsed = _sre.parse(rx)
    if parsed.getwidth()[0] == 0:
        return "regular expression matches the empty string"
    return _repeat_problem(parsed, inside_repeat=False)


_REPEATS = {_sre.MAX_REPEAT, _sre.MIN_REPEAT} | ({_sre.POSSESSIVE_REPEAT}
                                                 if hasattr(_sre, "POSSESSIVE_REPEAT") else set())


def _sub_patterns(op, av) -> list:
    """The nested sub-patterns of one parsed regex item."""
    if op == _sre.SUBPATTERN:
        return [av[-1]]
    if op == _sre.BRANCH:
        return list(av[1])
    if op in (_sre.ASSERT, _sre.ASSERT_NOT):
        return [av[1]]
    if op == _sre.GROUPREF_EXISTS:
        return [p for p in av[1:] if p is not None]
    if getattr(_sre, "ATOMIC_GROUP", None) == op:
        return [av]
    return []


def _repeat_problem(pattern, inside_repeat: bool) -> str | None:
    for op, av in pattern:
        if op in _REPEATS:
            lo, hi, body = av
            unbounded = hi == _sre.MAXREPEAT
            if unbounded and inside_repeat:
                return "nested unbounded repetition such as (a+)+ (catastrophic backtracking)"
            if unbounded and len(body) == 1 and body[0][0] == _sre.ANY:
                return "unbounded .* or .+ (use a bounded repeat such as .{0,40})"
            problem = _repeat_problem(body, inside_repeat or hi > 1)
        else:
            problem = next((p for sub in _sub_patterns(op, av)
                            if (p := _repeat_problem(sub, inside_repeat))), None)
        if problem:
            return problem
    return None


def pattern_problem(pattern: list) -> str | None:
    """spaCy's own validation of a Matcher token pattern."""
    from spacy.schemas import validate_token_pattern

    errors = validate_token_pattern(pattern)
    return "invalid spaCy token pattern: " + "; ".join(map(str, errors)) if errors else None


def _strings(check=None) -> Field:
    return Field("list", items=Field("str", check=check))


_KEYWORDS = _strings(_fullmatch(_KEYWORD, "a keyword is one word, optionally ending in * "
                                          "(use phrases for several words)"))
_PHRASES = _strings(_no_wildcard)
_REGEX = _strings(regex_problem)
_NEAR = Field("map", keys={
    "terms": Field("list", required=True, items=Field("str", check=_fullmatch(
        _KEYWORD, "a near term is one word, optionally ending in *"))),
    "within": Field("int", required=True, check=_positive),
})
_RULES = Field("map", keys={
    "keywords": _KEYWORDS, "phrases": _PHRASES,
    "patterns": Field("list", items=Field("list", check=pattern_problem)),
    "near": Field("list", items=_NEAR), "regex": _REGEX,
    "exclude": Field("map", keys={"keywords": _KEYWORDS, "phrases": _PHRASES, "regex": _REGEX}),
})
_CODE = Field("map", keys={
    "id": Field("str", required=True, check=_fullmatch(_ID, "id must match ^[a-z][a-z0-9_]*$")),
    "label": Field("str", required=True),
    "colour": Field("str", check=_fullmatch(_COLOUR, "colour must be a hex colour such as #1f77b4")),
    "definition": Field("str"), "when_to_use": Field("str"), "when_not_to_use": Field("str"),
    "example": Field("str"),
    "thesis_sections": _strings(),
    "unit": Field("str", choices=UNITS),
    "min_hits": Field("int", check=_positive),
    "related": _strings(),
    "rules": _RULES,
})
_CODE.keys["codes"] = Field("list", items=_CODE)  # the tree is recursive
CODEBOOK_SPEC = Field("map", keys={
    "codebook": Field("str", required=True),
    "version": Field("str"),
    "description": Field("str"),
    "defaults": Field("map", keys={"unit": Field("str", choices=UNITS),
                                   "min_hits": Field("int", check=_positive)}),
    "codes": Field("list", required=True, items=_CODE),
})


# ---------------------------------------------------------------- model
@dataclass
class Code:
    """One code of the tree, with its rules and effective unit and min_hits."""

    id: str
    label: str
    path: tuple[str, ...]            # ids from the theme down to this code
    unit: str
    min_hits: int
    rules: dict[str, Any]
    data: dict[str, Any]             # the code's YAML mapping as written
    children: list[str] = field(default_factory=list)

    @property
    def parent(self) -> str | None:
        return self.path[-2] if len(self.path) > 1 else None

    @property
    def theme(self) -> str:
        return self.path[0]

    @property
    def depth(self) -> int:
        return len(self.path) - 1

    @property
    def code_path(self) -> str:
        return "/".join(self.path)


@dataclass
class Codebook:
    """A validated codebook: codes in document (pre-)order."""

    name: str
    path: Path | None
    data: dict[str, Any]
    codes: list[Code]

    def __post_init__(self) -> None:
        self.by_id = {c.id: c for c in self.codes}
        self.order = {c.id: i for i, c in enumerate(self.codes)}

    def ancestors(self, code_id: str) -> tuple[str, ...]:
        """The code and every ancestor up to its theme."""
        return self.by_id[code_id].path[::-1]

    @property
    def themes(self) -> list[Code]:
        return [c for c in self.codes if c.depth == 0]


def load_codebook(path: str | Path) -> Codebook:
    """Load and validate a codebook; raise SchemaError listing every problem."""
    data, lines = load_yaml(path)
    if data is None:
        raise InputError("file is empty", path=path, fix="see 'Codebook format' in the README")
    problems = validate(data, CODEBOOK_SPEC, lines)
    if isinstance(data, dict):
        problems += tree_problems(data, lines)
    if problems:
        problems.sort(key=lambda p: (p[1] or 0, p[0]))
        raise SchemaError(path, problems)
    return build_codebook(data, Path(path))


def tree_problems(data: dict, lines: Lines) -> list[tuple[str, int | None, str]]:
    """Checks across the tree: duplicate ids, empty codes, unknown `related` ids."""
    problems: list[tuple[str, int | None, str]] = []
    first: dict[str, str] = {}
    related: list[tuple[str, str]] = []
    for where, code in _walk(data.get("codes"), "codes"):
        cid = code.get("id")
        if not isinstance(cid, str):
            continue
        if cid in first:
            problems.append((f"{where}.id", lines.get(f"{where}.id"),
                             f"duplicate id '{cid}' (first at {first[cid]})"))
        first.setdefault(cid, f"{where}.id")
        rules = code.get("rules") if isinstance(code.get("rules"), dict) else {}
        if not code.get("codes") and not any(rules.get(k) for k in RULE_KINDS):
            problems.append((where, lines.get(where), f"empty code '{cid}': give it rules or child codes"))
        refs = code.get("related") if isinstance(code.get("related"), list) else []
        related += [(f"{where}.related[{i}]", r) for i, r in enumerate(refs) if isinstance(r, str)]
    problems += [(p, lines.get(p), f"related code '{r}' does not exist")
                 for p, r in related if r not in first]
    return problems


def _walk(codes: Any, where: str):
    """Every code mapping of a (possibly malformed) tree, with its path."""
    if not isinstance(codes, list):
        return
    for i, code in enumerate(codes):
        if isinstance(code, dict):
            yield f"{where}[{i}]", code
            yield from _walk(code.get("codes"), f"{where}[{i}].codes")


def build_codebook(data: dict, path: Path | None = None) -> Codebook:
    """Codes of validated data, with defaults resolved (no validation here)."""
    defaults = {"unit": "paragraph", "min_hits": 1, **data.get("defaults", {})}
    codes: list[Code] = []

    def add(items: list, parents: tuple[str, ...]) -> None:
        for item in items:
            code = Code(item["id"], item["label"], parents + (item["id"],),
                        item.get("unit", defaults["unit"]), item.get("min_hits", defaults["min_hits"]),
                        item.get("rules", {}), item)
            codes.append(code)
            add(item.get("codes", []), code.path)
            code.children = [c["id"] for c in item.get("codes", [])]

    add(data["codes"], ())
    return Codebook(data["codebook"], path, data, codes)


def summary(codebook: Codebook) -> dict[str, int]:
    """Counts for `hcrisis codebook check`."""
    rules = {k: sum(len(c.rules.get(k, [])) for c in codebook.codes) for k in RULE_KINDS}
    return {"themes": len(codebook.themes), "codes": len(codebook.codes),
            "depth": 1 + max(c.depth for c in codebook.codes), **rules,
            "exclusions": sum(len(v) for c in codebook.codes for v in c.rules.get("exclude", {}).values())}


# ---------------------------------------------------------------- compiling
@dataclass(frozen=True)
class Rule:
    """What one matcher key stands for."""

    code: int                        # index in codebook order
    kind: str                        # a RULE_KINDS entry, or "term" (one term of a near rule)
    exclude: bool = False
    near: int = -1                   # index of the near rule (kind "term")
    term: int = -1                   # index of the term in it


@dataclass(slots=True)
class Coded:
    """One code applied to one unit of a Doc."""

    code: int
    unit: int                        # sentence number in the Doc, or -1 for the whole Doc
    start_char: int
    end_char: int
    hits: int
    terms: tuple[str, ...]
    score: float
    spans: list[tuple[int, int]]       # token spans of the hits
    char_spans: list[tuple[int, int]]  # the same as character offsets
    words: int                         # words (not punctuation or space) in the unit


def score(weights: Iterable[float]) -> float:
    """Evidence of a coding: S / (S + 2), S = summed weights of its distinct matched terms.

    A keyword weighs 1, a phrase, token pattern, near window or regex match 2
    (`WEIGHTS`), so one phrase or two different keywords give 0.5 and the
    score rises towards 1 with more distinct evidence; repeating one term
    adds nothing.
    """
    s = float(sum(weights))
    return s / (s + 2.0)


class CompiledCodebook:
    """A codebook's rules as spaCy matchers; `code(doc)` applies it to one Doc."""

    def __init__(self, codebook: Codebook, nlp, vocabulary: Iterable[str] = ()):
        from spacy.matcher import Matcher, PhraseMatcher

        self.codebook = codebook
        self.nlp = nlp
        self.lemma = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self.lower = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.tokens = Matcher(nlp.vocab)
        self.rules: list[Rule] = []
        self.keys: dict[int, int] = {}               # matcher key hash -> rule index
        self.regexes: list[tuple[re.Pattern, int]] = []
        self.near: list[tuple[int, int]] = []         # (within, number of terms), by near index
        self.prefixes: list[tuple[str, str]] = []     # (prefix, matcher key)
        self.seen: set[str] = set()
        self.is_word: dict[int, bool] = {}            # orth -> has a letter or digit
        self.by_sentence = [c.unit == "sentence" for c in codebook.codes]
        for i, code in enumerate(codebook.codes):
            self._add_rules(i, code.rules, exclude=False)
            self._add_rules(i, code.rules.get("exclude", {}), exclude=True)
        self.expand(vocabulary)

    # -- building
    def _key(self, rule: Rule) -> str:
        key = f"hcrisis:{len(self.rules)}"
        self.keys[self.nlp.vocab.strings.add(key)] = len(self.rules)
        self.rules.append(rule)
        return key

    def _add_rules(self, i: int, rules: dict, exclude: bool) -> None:
        for word in rules.get("keywords", []):
            self._add_word(word, self._key(Rule(i, "keywords", exclude)))
        for phrase in rules.get("phrases", []):
            self.lower.add(self._key(Rule(i, "phrases", exclude)), [self.nlp.make_doc(phrase)])
        for pattern in rules.get("patterns", []):
            self.tokens.add(self._key(Rule(i, "patterns", exclude)), [pattern])
        for near in rules.get("near", []):
            n = len(self.near)
            self.near.append((near["within"], len(near["terms"])))
            for j, word in enumerate(near["terms"]):
                self._add_word(word, self._key(Rule(i, "term", exclude, n, j)))
        for rx in rules.get("regex", []):
            self.regexes.append((re.compile(rx), len(self.rules)))
            self._key(Rule(i, "regex", exclude))

    def _add_word(self, word: str, key: str) -> None:
        from spacy.tokens import Doc

        from .tokens import lemmatize_form

        if word.endswith("*"):
            self.prefixes.append((word[:-1].lower(), key))
        else:   # tokenised like the corpus: "well-being" is three tokens
            words = [t.lower_ for t in self.nlp.make_doc(word)]
            self.lemma.add(key, [Doc(self.nlp.vocab, words=words, lemmas=[lemmatize_form(w) for w in words])])

    def expand(self, forms: Iterable[str]) -> None:
        """Add the wildcard expansions among `forms` (lower-cased) not seen before."""
        from spacy.tokens import Doc

        new = sorted(set(forms) - self.seen)
        self.seen.update(new)
        for prefix, key in self.prefixes:
            lo = bisect.bisect_left(new, prefix)
            hi = bisect.bisect_left(new, prefix + "\U0010ffff")
            if hi > lo:
                self.lower.add(key, [Doc(self.nlp.vocab, words=[w]) for w in new[lo:hi]])

    # -- matching
    def matches(self, doc, text: str | None = None) -> list[tuple[int, int, int]]:
        """Every rule match in `doc` as (rule index, start token, end token)."""
        found = [(self.keys[k], s, e) for m in (self.lemma, self.lower) for k, s, e in m(doc)]
        if len(self.tokens):
            found += [(self.keys[k], s, e) for k, s, e in self.tokens(doc)]
        text = doc.text if text is None else text
        for rx, r in self.regexes:
            for m in rx.finditer(text):
                span = doc.char_span(m.start(), m.end(), alignment_mode="expand") if m.end() > m.start() else None
                if span is not None and len(span):
                    found.append((r, span.start, span.end))
        return found

    def code(self, doc, text: str | None = None, words: np.ndarray | None = None) -> list[Coded]:
        """The codes applied to each unit of `doc`, in (unit, code order).

        `text` (the Doc's text) and `words` (a boolean per token: is it a word)
        may be passed when known, which saves recomputing them.
        """
        if not len(doc):
            return []
        view = _DocView(doc, doc.text if text is None else text, words, self.is_word)
        groups: dict[tuple[int, int], list[tuple[Rule, int, int]]] = {}
        vetoed = set()
        sent, rules, by_sentence = view.sent, self.rules, self.by_sentence
        for r, s, e in self.matches(doc, view.text):
            rule = rules[r]
            key = (sent[s] if by_sentence[rule.code] else -1, rule.code)
            if rule.exclude:
                vetoed.add(key)
            else:
                groups.setdefault(key, []).append((rule, s, e))
        out = []
        for (unit, ci), found in sorted(groups.items()):
            coded = None if (unit, ci) in vetoed else self._apply(view, ci, unit, found)
            if coded is not None:
                out.append(coded)
        return out

    def _apply(self, view: "_DocView", ci: int, unit: int, found: list) -> Coded | None:
        text, idx, ends = view.text, view.idx, view.ends
        hits = [(rule.kind, s, e, text[idx[s]:ends[e - 1]].lower()) for rule, s, e in found if rule.kind != "term"]
        code = self.codebook.codes[ci]
        if code.rules.get("near"):
            hits += self._near_hits(view, found)
        if not hits or len(hits) < code.min_hits:
            return None
        weights: dict[str, float] = {}
        for kind, _, _, term in hits:                    # a term's strongest kind counts
            weights[term] = max(weights.get(term, 0.0), WEIGHTS[kind])
        start, end, words = view.unit(unit)
        spans = sorted({(s, e) for _, s, e, _ in hits})
        return Coded(ci, unit, start, end, len(hits), tuple(sorted(weights)), score(weights.values()),
                     spans, [(idx[s], ends[e - 1]) for s, e in spans], words)

    def _near_hits(self, view: "_DocView", found: list) -> list[tuple[str, int, int, str]]:
        events: dict[int, list[tuple[int, int]]] = {}
        for rule, s, _ in found:
            if rule.kind == "term":
                events.setdefault(rule.near, []).append((s, rule.term))
        hits = []
        for n, ev in sorted(events.items()):
            within, k = self.near[n]
            for a, b in near_windows(sorted(set(ev)), k, within):
                hits.append(("near", a, b + 1, f"{view.term(a, a + 1)} NEAR/{within} {view.term(b, b + 1)}"))
        return hits

    # -- spaCy component
    def __call__(self, doc):
        """Pipeline use: expand wildcards on the Doc's words, store hits and units as span groups."""
        from spacy.tokens import Span

        self.expand(t.lower_ for t in doc)
        coded = self.code(doc)
        ids = [c.id for c in self.codebook.codes]
        doc.spans[SPAN_KEY] = [Span(doc, s, e, label=ids[c.code]) for c in coded for s, e in c.spans]
        doc.spans[UNIT_KEY] = [doc.char_span(c.start_char, c.end_char, label=ids[c.code],
                                             alignment_mode="expand") for c in coded]
        return doc


class _DocView:
    """Per-Doc arrays for coding without creating Token objects (which is slow)."""

    def __init__(self, doc, text: str, words: np.ndarray | None, is_word: dict[int, bool]):
        from spacy.attrs import IDX, LENGTH, ORTH, SENT_START

        arr = doc.to_array([SENT_START, IDX, LENGTH, ORTH])
        self.text = text
        idx = arr[:, 1].astype(np.int64)
        self.idx, self.ends = idx.tolist(), (idx + arr[:, 2].astype(np.int64)).tolist()
        sent = np.cumsum(arr[:, 0].astype(np.int64) == 1)
        self.sent = (sent - sent[0]).tolist()           # the first token opens sentence 0
        if words is None:                                # a word has a letter or digit, as in `Tokens.types`
            strings = doc.vocab.strings
            orths = arr[:, 3].tolist()
            for o in set(orths):
                if o not in is_word:
                    is_word[o] = any(ch.isalnum() for ch in strings[o])
            words = np.fromiter((is_word[o] for o in orths), dtype=bool, count=len(orths))
        self.words = np.concatenate([[0], np.cumsum(words)]).tolist()

    def chars(self, s: int, e: int) -> tuple[int, int]:
        """Character span of tokens s..e-1."""
        return self.idx[s], self.ends[e - 1]

    def term(self, s: int, e: int) -> str:
        a, b = self.chars(s, e)
        return self.text[a:b].lower()

    def unit(self, unit: int) -> tuple[int, int, int]:
        """Character span (without edge whitespace) and word count of a sentence, or the Doc (-1)."""
        if unit < 0:
            return 0, len(self.text), self.words[-1]
        a, b = bisect.bisect_left(self.sent, unit), bisect.bisect_left(self.sent, unit + 1)
        start, end = self.chars(a, b)
        piece = self.text[start:end]
        return (start + len(piece) - len(piece.lstrip()), end - len(piece) + len(piece.rstrip()),
                self.words[b] - self.words[a])


def near_windows(events: list[tuple[int, int]], k: int, within: int) -> list[tuple[int, int]]:
    """Minimal, non-overlapping token windows holding all k terms, at most `within` apart.

    `events` are (token, term index) sorted by token; returns (first token,
    last token) pairs, scanning left to right.
    """
    out: list[tuple[int, int]] = []
    counts: dict[int, int] = {}
    left = 0
    floor = -1                                     # windows must start after the last one found
    for right, (pos, term) in enumerate(events):
        counts[term] = counts.get(term, 0) + 1
        while len(counts) == k:
            first, t0 = events[left]
            if counts[t0] > 1 or first <= floor:   # shrink past duplicates and used tokens
                counts[t0] -= 1
                if counts[t0] == 0:
                    del counts[t0]
                left += 1
                continue
            if pos - first <= within:
                out.append((first, pos))
                floor = pos
            counts[t0] -= 1
            del counts[t0]
            left += 1
    return out


def compile_codebook(codebook: Codebook, nlp=None, vocabulary: Iterable[str] = ()) -> CompiledCodebook:
    """Compile `codebook` for `nlp` (default: the toolkit's pipeline)."""
    from .tokens import build_pipeline

    return CompiledCodebook(codebook, nlp or build_pipeline(), vocabulary)


def register_component() -> None:
    """Register the `hcrisis_coder` factory: nlp.add_pipe("hcrisis_coder", config={"codebook": PATH})."""
    from spacy.language import Language

    if "hcrisis_coder" in Language.factories:
        return

    @Language.factory("hcrisis_coder", default_config={"codebook": ""})
    def make_coder(nlp, name: str, codebook: str):  # noqa: ARG001 - spaCy factory signature
        return CompiledCodebook(load_codebook(codebook), nlp)


# ---------------------------------------------------------------- export
_FIELDS = (("definition", "Definition"), ("when_to_use", "When to use"),
           ("when_not_to_use", "When not to use"), ("example", "Example"))


def _rule_lines(rules: dict) -> list[tuple[str, str]]:
    """(rule kind, readable value) pairs of one code, exclusions last."""
    out = []
    for kind in ("keywords", "phrases", "regex"):
        if rules.get(kind):
            out.append((kind, ", ".join(rules[kind])))
    if rules.get("patterns"):
        out.append(("patterns", " | ".join(str(p) for p in rules["patterns"])))
    if rules.get("near"):
        out.append(("near", "; ".join(f"{' '.join(n['terms'])} within {n['within']}" for n in rules["near"])))
    for kind, values in rules.get("exclude", {}).items():
        if values:
            out.append((f"exclude {kind}", ", ".join(values)))
    return out


def _code_facts(code: Code) -> list[tuple[str, str]]:
    """The code's documented fields in a fixed order, for both export formats."""
    d = code.data
    facts = [(title, " ".join(str(d[key]).split())) for key, title in _FIELDS if d.get(key)]
    facts.append(("Unit", f"{code.unit}, at least {code.min_hits} hit(s)"))
    for key, title in (("thesis_sections", "Thesis sections"), ("related", "Related codes")):
        if d.get(key):
            facts.append((title, ", ".join(d[key])))
    return facts + [(f"Rule: {k}", v) for k, v in _rule_lines(code.rules)]


def to_markdown(codebook: Codebook) -> str:
    """The codebook as a Markdown document (for a methods appendix)."""
    d = codebook.data
    lines = [f"# Codebook: {codebook.name}" + (f" (version {d['version']})" if d.get("version") else ""), ""]
    if d.get("description"):
        lines += [" ".join(d["description"].split()), ""]
    lines += [f"{len(codebook.themes)} themes, {len(codebook.codes)} codes.", ""]
    for code in codebook.codes:
        lines += [f"{'#' * min(code.depth + 2, 6)} {code.label} (`{code.id}`)", ""]
        lines += [f"- **{k}**: {v.replace('*', chr(92) + '*')}" for k, v in _code_facts(code)] + [""]
    return "\n".join(lines).rstrip() + "\n"


def to_html(codebook: Codebook) -> str:
    """The codebook as a standalone HTML page."""
    e = html.escape
    d = codebook.data
    title = f"Codebook: {codebook.name}" + (f" (version {d['version']})" if d.get("version") else "")
    body = [f"<h1>{e(title)}</h1>"]
    if d.get("description"):
        body.append(f"<p>{e(' '.join(d['description'].split()))}</p>")
    body.append(f"<p>{len(codebook.themes)} themes, {len(codebook.codes)} codes.</p>")
    for code in codebook.codes:
        h = min(code.depth + 2, 6)
        colour = code.data.get("colour", "#999999")
        body.append(f'<h{h} id="{e(code.id)}" style="border-left: 0.5em solid {e(colour)}; '
                    f'padding-left: 0.4em">{e(code.label)} <code>{e(code.id)}</code></h{h}>')
        body.append("<dl>" + "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in _code_facts(code)) + "</dl>")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">"
            f"<title>{e(title)}</title></head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n")
