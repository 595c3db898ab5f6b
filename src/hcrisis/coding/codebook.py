"""Codebooks: a version-controlled YAML coding frame, its schema and model.

Matching lives in `hcrisis.coding.matcher`; readable export in
`hcrisis.coding.codebook_doc`.

Format (every key except `codebook`, `codes`, and each code's `id`/`label` is optional)::

    codebook: thesis
    version: "1.0"
    description: ...
    defaults: {unit: paragraph, min_hits: 1}    # unit: sentence | turn | paragraph
    similarity: {weight: 1.0, fallback: 0.1}    # optional: hcrisis.coding.similarity
    codes:                                      # themes; children under `codes:`, any depth
      - id: people_first                        # unique in the tree, ^[a-z][a-z0-9_]*$
        label: People first
        colour: "#1f77b4"
        definition / when_to_use / when_not_to_use / example: text
        thesis_sections: ["5.2"]
        unit: sentence                          # overrides defaults.unit
        min_hits: 2                             # overrides defaults.min_hits
        related: [housing_values]               # other code ids
        refi_guid: 0f8fad5b-d9cb-469f-a165-70867728950e   # its GUID in a QDA tool (hcrisis.exchange)
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
  shapes that backtrack catastrophically), nor take over a quarter of a
  second on strings built to make them backtrack (`(a|aa)+$`, `a+a+a+$`,
  `(a{1,50}){1,50}$`: `hcrisis.saferegex.slow_problem`). They run on RE2
  where it means the same, else under a time budget per match that stops
  `hcrisis code` with an error naming the code (`hcrisis.saferegex`).
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
(`hcrisis.coding.apply`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from hcrisis.errors import InputError, SchemaError
from hcrisis.saferegex import slow_problem
from hcrisis.yamlspec import Field, Lines, load_yaml, validate

from hcrisis.saferegex import sre as _sre

CODING_UNITS = ("sentence", "turn", "paragraph")
RULE_KINDS = ("keywords", "phrases", "patterns", "near", "regex")
# Evidence weight of one distinct matched term, by rule kind (see `score`).
WEIGHTS = {"keywords": 1.0, "phrases": 2.0, "patterns": 2.0, "near": 2.0, "regex": 2.0}
MAX_REGEX = 300
# Ranges of numeric settings: a NEAR window wider than a long turn, a
# min_hits no unit can reach or a weight that swamps every rule is a typo.
MAX_WITHIN = 1000
MAX_MIN_HITS = 1000
MAX_WEIGHT = 100.0

_ID = re.compile(r"[a-z][a-z0-9_]*")
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_KEYWORD = re.compile(r"[^\s*]+\*?")
_GUID = re.compile(r"\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?")


# ---------------------------------------------------------------- schema
def _fullmatch(rx: re.Pattern, message: str):
    return lambda v: None if rx.fullmatch(v) else message


def _in_range(n: float, lo: float, hi: float) -> str | None:
    return None if lo <= n <= hi else f"must be between {lo} and {hi}"


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
    return _repeat_problem(parsed, inside_repeat=False) or slow_problem(rx)


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
    from hcrisis.text.spacy_import import import_spacy

    import_spacy()
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
    "within": Field("int", required=True, check=lambda n: _in_range(n, 1, MAX_WITHIN)),
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
    "unit": Field("str", choices=CODING_UNITS),
    "min_hits": Field("int", check=lambda n: _in_range(n, 1, MAX_MIN_HITS)),
    "related": _strings(),
    "rules": _RULES,
    "refi_guid": Field("str", check=_fullmatch(_GUID, "refi_guid must be a GUID such as "
                                                      "0f8fad5b-d9cb-469f-a165-70867728950e")),
})
_CODE.keys["codes"] = Field("list", items=_CODE)  # the tree is recursive
CODEBOOK_SPEC = Field("map", keys={
    "codebook": Field("str", required=True),
    "version": Field("str"),
    "description": Field("str"),
    "defaults": Field("map", keys={"unit": Field("str", choices=CODING_UNITS),
                                   "min_hits": Field("int", check=lambda n: _in_range(n, 1, MAX_MIN_HITS))}),
    "similarity": Field("map", keys={
        "weight": Field("float", required=True, check=lambda w: None if 0 < w <= MAX_WEIGHT
                        else f"weight must be above 0 and at most {MAX_WEIGHT}"),
        "fallback": Field("float", check=lambda m: None if 0 < m <= 1 else "fallback must be in (0, 1]"),
    }),
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


def load_codebook(path: str | Path, *, require_rules: bool = True) -> Codebook:
    """Load and validate a codebook; raise SchemaError listing every problem.

    `require_rules=False` accepts codes without rules: a code tree (an imported
    codebook whose rules are still to be written) for exchange and agreement."""
    data, lines = load_yaml(path)
    if data is None:
        raise InputError("file is empty", path=path, fix="see 'Codebook format' in the README")
    problems = validate(data, CODEBOOK_SPEC, lines)
    if isinstance(data, dict):
        problems += tree_problems(data, lines, require_rules)
    if problems:
        problems.sort(key=lambda p: (p[1] or 0, p[0]))
        raise SchemaError(path, problems)
    return build_codebook(data, Path(path))


def tree_problems(data: dict, lines: Lines, require_rules: bool = True) -> list[tuple[str, int | None, str]]:
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
        if require_rules and not code.get("codes") and not any(rules.get(k) for k in RULE_KINDS):
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


