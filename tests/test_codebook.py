"""Codebooks: schema errors (all at once, with paths and lines), each rule kind, compile, export."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from hcrisis.cli import app
from hcrisis.coding.codebook import build_codebook, load_codebook, regex_problem
from hcrisis.coding.codebook_doc import to_html, to_markdown
from hcrisis.coding.matcher import _groups, _run_end, compile_codebook, near_windows, register_component, score
from hcrisis.errors import SchemaError
from hcrisis.text.tokens import build_pipeline, tokenize_segments

from conftest import write

BAD = """\
codebook: bad
defaults: {unit: page}
codes:
  - id: Theme
    label: A theme
    colour: blue
    rules:
      keywords: [two words]
      regex: ['(a+)+', '[', '.*x', 'a?']
      patterns: [[{LOWER: x, FOO: 1}]]
    codes:
      - id: child
        label: Child
        related: [nowhere]
  - id: child
    label: Again
    rules: {phrases: [social], colours: [x]}
  - label: No id
    rules: {near: [{terms: [a], within: 0}]}
similarity: {weight: 0, fallback: 1.5, floor: 1}
"""


def test_every_schema_problem_is_reported_at_once(tmp_path):
    path = write(tmp_path / "bad.yaml", BAD)
    with pytest.raises(SchemaError) as exc:
        load_codebook(path)
    assert exc.value.problems == [
        ("defaults.unit", 2, "'page' is not one of sentence, turn, paragraph"),
        ("codes[0].id", 4, "id must match ^[a-z][a-z0-9_]*$"),
        ("codes[0].colour", 6, "colour must be a hex colour such as #1f77b4"),
        ("codes[0].rules.keywords[0]", 8, "a keyword is one word, optionally ending in * "
                                          "(use phrases for several words)"),
        ("codes[0].rules.regex[0]", 9, "nested unbounded repetition such as (a+)+ (catastrophic backtracking)"),
        ("codes[0].rules.regex[1]", 9, "invalid regular expression: unterminated character set at position 0"),
        ("codes[0].rules.regex[2]", 9, "unbounded .* or .+ (use a bounded repeat such as .{0,40})"),
        ("codes[0].rules.regex[3]", 9, "regular expression matches the empty string"),
        ("codes[0].rules.patterns[0]", 10, "invalid spaCy token pattern: [pattern -> 0 -> FOO] "
                                           "Extra inputs are not permitted"),
        ("codes[0].codes[0]", 12, "empty code 'child': give it rules or child codes"),
        ("codes[0].codes[0].related[0]", 14, "related code 'nowhere' does not exist"),
        ("codes[1].id", 15, "duplicate id 'child' (first at codes[0].codes[0].id)"),
        ("codes[1].rules.colours", 17, "unknown key (known keys: exclude, keywords, near, patterns, "
                                       "phrases, regex)"),
        ("codes[2]", 18, "missing required key 'id'"),
        ("codes[2].rules.near[0].within", 19, "must be between 1 and 1000"),
        ("similarity.fallback", 20, "fallback must be in (0, 1]"),
        ("similarity.floor", 20, "unknown key (known keys: fallback, weight)"),
        ("similarity.weight", 20, "weight must be above 0 and at most 100.0"),
    ]


def test_cli_check_prints_one_error_line_and_exits_1(tmp_path):
    path = write(tmp_path / "cb.yaml", "codebook: x\ncodes:\n  - id: a\n    label: A\n")
    result = CliRunner().invoke(app, ["codebook", "check", str(path)])
    assert result.exit_code == 1
    assert result.output == (f"Error: {path}:3: codes[0]: empty code 'a': give it rules or child codes\n")


def test_cli_check_summarises_a_valid_codebook(tmp_path):
    path = write(tmp_path / "cb.yaml", "codebook: x\ncodes:\n  - id: a\n    label: A\n"
                                       "    rules: {keywords: [tenant], regex: ['\\bCIH\\b']}\n")
    result = CliRunner().invoke(app, ["codebook", "check", str(path)])
    assert result.exit_code == 0
    assert result.output == (f"{path}: codebook 'x' is valid: themes 1, codes 1, depth 1, keywords 1, "
                             "phrases 0, patterns 0, near 0, regex 1, exclusions 0\n")


@pytest.mark.parametrize("rx, problem", [
    (r"\bCIH\b", None),
    (r"(?i)tenants?", None),
    (r"x.{0,40}y", None),
    (r"\w+ing\b", None),
    (r"(?:ab)+", None),
    (r"(\w+\s?)*x", "nested unbounded repetition such as (a+)+ (catastrophic backtracking)"),
    (r"(a*){2}b", "nested unbounded repetition such as (a+)+ (catastrophic backtracking)"),
    (r"x(?=(a+)+)", "nested unbounded repetition such as (a+)+ (catastrophic backtracking)"),
    (r"a.+", "unbounded .* or .+ (use a bounded repeat such as .{0,40})"),
    (r"\b", "regular expression matches the empty string"),
    ("x" * 301, "regular expression longer than 300 characters"),
])
def test_regex_rule(rx, problem):
    assert regex_problem(rx) == problem


# ---------------------------------------------------------------- matching
@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


def coded(nlp, codes: list[dict], text: str, defaults: dict | None = None):
    """[(code id, unit, (start, end), terms, hits)] of one text."""
    book = build_codebook({"codebook": "t", "defaults": defaults or {}, "codes": codes})
    seg = pd.DataFrame({"segment_id": ["s"], "text": [text]})
    tokens = tokenize_segments(seg, nlp)
    found = compile_codebook(book, nlp).code(tokens, [text])
    return [(book.codes[c.code].id, c.unit, (c.start, c.end), tuple(c.terms.split(";")), c.hits, c.spans)
            for c in found.itertuples()]


def one(cid: str, **rules) -> dict:
    return {"id": cid, "label": cid, "rules": rules}


def test_words_of_a_rule_text(nlp):
    compiled = compile_codebook(build_codebook({"codebook": "t", "codes": [one("a", keywords=["x"])]}), nlp)
    assert compiled.words("Well-being, 3 CIH") == [("well", True), ("-", False), ("being", True), (",", False),
                                                   ("3", False), ("cih", True)]


def test_keywords_match_lemmas(nlp):
    text = "Tenants said the tenant is right."
    assert coded(nlp, [one("a", keywords=["tenant"])], text) == [
        ("a", -1, (0, 33), ("tenant", "tenants"), 2, [(0, 7), (17, 23)])]


def test_keywords_split_by_the_tokenizer_still_match(nlp):
    assert coded(nlp, [one("a", keywords=["well-being"])], "Staff well-being matters.")[0][3:] == (
        ("well-being",), 1, [(6, 16)])


def test_wildcards_expand_against_the_vocabulary(nlp):
    text = "Managers manage; management matters to a manga fan."
    assert coded(nlp, [one("a", keywords=["manag*"])], text)[0][3] == ("manage", "management", "managers")


def test_phrases_are_case_insensitive_token_sequences(nlp):
    text = "A Social Purpose, and social purposes."
    assert coded(nlp, [one("a", phrases=["social purpose"])], text)[0][3:] == (
        ("social purpose",), 1, [(2, 16)])


def test_token_patterns(nlp):
    text = "You must know the numbers."
    rules = {"patterns": [[{"LOWER": "know"}, {"LOWER": "the"}, {"LOWER": "numbers"}]]}
    assert coded(nlp, [one("a", **rules)], text)[0][3:] == (("know the numbers",), 1, [(9, 25)])


def test_near_needs_every_term_within_the_window(nlp):
    rules = {"near": [{"terms": ["leader", "vision"], "within": 3}]}
    assert coded(nlp, [one("a", **rules)], "Leaders with a vision.")[0][3:] == (
        ("leaders NEAR/3 vision",), 1, [(0, 21)])
    assert coded(nlp, [one("a", **rules)], "Leaders need a very clear vision.") == []


def test_regex_matches_widen_to_tokens(nlp):
    assert coded(nlp, [one("a", regex=[r"CI[Hh]"])], "The CIHs view.")[0][3:] == (("cihs",), 1, [(4, 8)])


def test_overlapping_matches_all_count(nlp):
    rules = {"keywords": ["social"], "phrases": ["social purpose"]}
    assert coded(nlp, [one("a", **rules)], "A social purpose.")[0][3:] == (
        ("social", "social purpose"), 2, [(2, 8), (2, 16)])


def test_exclusion_vetoes_the_unit_only(nlp):
    rules = {"keywords": ["skill"], "exclude": {"phrases": ["soft skills"]}}
    text = "Soft skills matter. Skills matter."
    assert coded(nlp, [one("a", **rules)], text) == []
    sentence = [{"id": "a", "label": "a", "unit": "sentence", "rules": rules}]
    assert [c[:3] for c in coded(nlp, sentence, text)] == [("a", 1, (20, 34))]


def test_min_hits(nlp):
    text = "Tenants. Tenants and residents."
    assert coded(nlp, [one("a", keywords=["tenant"])], text, {"min_hits": 3}) == []
    assert coded(nlp, [one("a", keywords=["tenant"])], text, {"min_hits": 2})[0][4] == 2


def test_sentence_units_versus_paragraph(nlp):
    text = "Tenants first. Then money.  Tenants again."
    para = coded(nlp, [one("a", keywords=["tenant"])], text)
    sent = coded(nlp, [one("a", keywords=["tenant"])], text, {"unit": "sentence"})
    assert [c[1:3] for c in para] == [(-1, (0, 42))]
    assert [c[1:3] for c in sent] == [(0, (0, 14)), (2, (28, 42))]


def test_score_rewards_distinct_and_stronger_evidence():
    assert score([1.0]) == pytest.approx(1 / 3)
    assert score([2.0]) == 0.5 == score([1.0, 1.0])
    assert score([2.0, 2.0]) > score([2.0, 1.0])


def test_pipeline_component_stores_span_groups(tmp_path):
    path = write(tmp_path / "cb.yaml", "codebook: x\ncodes:\n  - id: a\n    label: A\n"
                                       "    rules: {keywords: [social, 'purpos*'], phrases: [social purpose]}\n")
    register_component()
    nlp = build_pipeline()
    nlp.add_pipe("hcrisis_coder", config={"codebook": str(path)})
    doc = nlp("A social purpose.")
    assert [(s.label_, s.text) for s in doc.spans["hcrisis_codes"]] == [
        ("a", "social"), ("a", "social purpose"), ("a", "purpose")]
    assert [(s.label_, s.text) for s in doc.spans["hcrisis_units"]] == [("a", "A social purpose.")]


def windows(events: list[tuple[int, int]], k: int, within: int) -> list[tuple[int, int]]:
    """`near_windows` of one pair's sorted (token, term) events, as (first token, last token)."""
    pos, term = (np.array(col, dtype=np.int64) for col in (zip(*events) if events else ([], [])))
    a, b = near_windows(np.zeros_like(pos), pos, term, np.full_like(pos, k), np.full_like(pos, within))
    return list(zip(pos[a].tolist(), pos[b].tolist()))


def test_near_windows_of_several_pairs():
    # pair 0 (2 terms within 3): 0-1, then 2-9 too wide; pair 1 (3 terms within 4): a token
    # holding two terms, the next window after the first one's last token; pair 2 lacks a term
    pair = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2])
    pos = np.array([0, 1, 2, 9, 5, 6, 6, 7, 8, 8, 3])
    term = np.array([0, 1, 0, 1, 0, 1, 2, 0, 1, 2, 0])
    k, within = np.array([2, 3, 2])[pair], np.array([3, 4, 3])[pair]
    first, last = near_windows(pair, pos, term, k, within)
    assert first.tolist() == [0, 4, 7] and last.tolist() == [1, 6, 9]


def test_groups_numbered_in_key_order_with_their_first_index():
    group, first = _groups(np.array([5, 3, 5, 9, 3]))
    assert group.tolist() == [1, 0, 1, 2, 0] and first.tolist() == [1, 0, 3]
    assert [a.tolist() for a in _groups(np.zeros(0, dtype=np.int64))] == [[], []]


def test_run_end():
    assert _run_end(np.array([True, False, False, True, False])).tolist() == [3, 3, 3, 5, 5]
    assert _run_end(np.zeros(0, dtype=bool)).tolist() == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 2)), max_size=20), st.integers(1, 8))
def test_near_windows_are_minimal_complete_and_disjoint(events, within):
    events = sorted(set(events))
    found = windows(events, 3, within)
    last = -1
    for a, b in found:
        inside = {t for p, t in events if a <= p <= b}
        assert inside == {0, 1, 2} and b - a <= within and a > last
        last = b
    if not found:   # then no window of the events holds all three terms within range
        for p, _ in events:
            assert {t for q, t in events if p <= q <= p + within} != {0, 1, 2}


# ---------------------------------------------------------------- export
def test_exports(tmp_path):
    path = write(tmp_path / "cb.yaml", """\
codebook: demo
version: "2"
codes:
  - id: people
    label: People & tenants
    definition: Tenants as people.
    thesis_sections: ["5.2"]
    rules: {keywords: [tenant]}
    codes:
      - id: care
        label: Care
        unit: sentence
        rules: {near: [{terms: [duty, care], within: 3}], exclude: {keywords: [car]}}
""")
    book = load_codebook(path)
    assert to_markdown(book) == """\
# Codebook: demo (version 2)

1 themes, 2 codes.

## People & tenants (`people`)

- **Definition**: Tenants as people.
- **Unit**: paragraph, at least 1 hit(s)
- **Thesis sections**: 5.2
- **Rule: keywords**: tenant

### Care (`care`)

- **Unit**: sentence, at least 1 hit(s)
- **Rule: near**: duty care within 3
- **Rule: exclude keywords**: car
"""
    page = to_html(book)
    assert "<h2 id=\"people\" style=\"border-left: 0.5em solid #999999; padding-left: 0.4em\">" \
           "People &amp; tenants <code>people</code></h2>" in page
    out = tmp_path / "cb.html"
    result = CliRunner().invoke(app, ["codebook", "export", str(path), "--format", "html", "--out", str(out)])
    assert result.exit_code == 0 and out.read_text(encoding="utf-8") == page
    result = CliRunner().invoke(app, ["codebook", "export", str(path), "--format", "pdf", "--out", str(out)])
    assert result.exit_code == 1
    assert result.output == "Error: unknown format 'pdf' (use --format md or --format html)\n"


# ---------------------------------------------------------------- equivalence with spaCy's matchers
EQUIVALENCE_CODES = [
    one("a", keywords=["tenant", "well-being", "manag*", "be"], phrases=["social purpose", "the  tenants"],
        regex=[r"(?i)\bcih\b", r"s ", r"\d+"]),
    one("b", keywords=["s*", "purpose"], near=[{"terms": ["tenant", "manag*"], "within": 3}],
        patterns=[[{"LOWER": "social"}, {"LOWER": {"IN": ["purpose", "housing"]}, "OP": "+"}],
                  [{"LEMMA": "tenant"}, {"IS_PUNCT": True, "OP": "?"}, {"ORTH": "CIH"}]],
        exclude={"phrases": ["soft skills"]}),
]
WORDS = ["Tenants", "tenant", "social", "Purpose", "purposes", "housing", "well-being", "Managers", "manage",
         "the", "The", "soft", "skills", "CIH", "cih", "42", ".", "!", "-", "s", "be", "is", "Señor"]


def spacy_matches(compiled, tokens, texts) -> list[tuple[int, int, int]]:
    """(rule, start, end) of every rule, found with spaCy: PhraseMatcher on LEMMA and LOWER (wildcards
    expanded against the vocabulary), Matcher, and Doc.char_span(alignment_mode="expand") for regexes."""
    from spacy.matcher import PhraseMatcher
    from spacy.tokens import Doc

    vocab = compiled.nlp.vocab
    matchers = {0: PhraseMatcher(vocab, attr="LEMMA"), 1: PhraseMatcher(vocab, attr="LOWER")}
    for (attr, words), rules in compiled.sequences.items():
        for r in rules:
            lemmas = list(words) if attr == 0 else None        # 0: LEMMA sequence, 1: LOWER
            pattern = Doc(vocab, words=list(words), lemmas=lemmas)
            matchers[attr].add(str(r), [pattern])
    lowers = sorted(set(tokens.types["lower"]))
    for prefix, rules in compiled.prefixes.items():
        forms = [w for w in lowers if w.startswith(prefix)]
        for r in rules:
            if forms:
                matchers[1].add(str(r), [Doc(vocab, words=[w]) for w in forms])
    found = []
    for i, doc in enumerate(tokens.docs(compiled.nlp)):
        base = int(tokens.bounds[i])
        found += [(int(vocab.strings[k]), base + s, base + e) for m in matchers.values() for k, s, e in m(doc)]
        found += [(compiled.keys[k], base + s, base + e) for k, s, e in compiled.tokens(doc)]
        for rx, r in compiled.regexes:
            for m in rx.finditer(texts[i]):
                span = doc.char_span(m.start(), m.end(), alignment_mode="expand")
                if span is not None and len(span):
                    found.append((r, base + span.start, base + span.end))
    return sorted(found)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from([" ", "", "  ", "\n", " \n "])),
                         max_size=25), min_size=1, max_size=4),
       st.booleans())
def test_matches_equal_spacys_matchers(segments, anchored):
    """The vectorised matcher finds exactly what spaCy's matchers find on one Doc per segment,
    with and without the segment filter of token patterns."""
    nlp = build_pipeline()
    codes = EQUIVALENCE_CODES if anchored else EQUIVALENCE_CODES + [
        one("c", patterns=[[{"IS_ALPHA": True, "OP": "+"}, {"LIKE_NUM": True}]])]
    compiled = compile_codebook(build_codebook({"codebook": "t", "codes": codes}), nlp)
    assert (compiled.anchors is not None) == anchored
    texts = ["".join(w + sep for w, sep in seg) for seg in segments]
    tokens = tokenize_segments(pd.DataFrame({"segment_id": list(map(str, range(len(texts)))), "text": texts}), nlp)
    rule, start, end = compiled.matches(tokens, texts)
    assert sorted(zip(rule.tolist(), start.tolist(), end.tolist())) == spacy_matches(compiled, tokens, texts)
