"""The token table: one tokenisation, lemmas with overrides, Docs rebuilt."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from hcrisis.errors import HcrisisError
from hcrisis.text.tokens import build_pipeline, lemmatize_form, tokenize


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


def test_pipeline_components(nlp):
    assert nlp.pipe_names == ["sentencizer", "hcrisis_lemmatizer"]
    doc = nlp("Housing managers were managing houses.")
    assert [t.lemma_ for t in doc] == ["housing", "manager", "be", "manage", "house", "."]


def test_housing_is_never_house():
    assert lemmatize_form("housing") == "housing"
    assert lemmatize_form("houses") == "house"


def test_token_table(nlp):
    tk = tokenize(["The tenants come first. Housing!", "", "Leaders lead."], ["a", "b", "c"], nlp)
    assert tk.bounds.tolist() == [0, 7, 7, 10]
    assert tk.column("lower").tolist() == ["the", "tenants", "come", "first", ".", "housing", "!",
                                          "leaders", "lead", "."]
    assert tk.column("lemma").tolist()[:3] == ["the", "tenant", "come"]
    assert tk.sentence().tolist() == [0, 0, 0, 0, 0, 1, 1, 2, 2, 2]
    assert tk.segment.tolist() == [0] * 7 + [2] * 3
    assert tk.column("is_stop").tolist()[:2] == [True, False]
    assert tk.column("is_punct").tolist()[4] is True
    assert tk.words_in(tk.bounds[:-1], tk.bounds[1:]).tolist() == [5, 0, 2]   # punctuation not counted


def test_subset_and_docs(nlp):
    tk = tokenize(["A b.", "Cats eat. Fine"], ["x", "y"], nlp)
    sub = tk.subset([1])
    assert sub.segment_ids == ["y"] and sub.column("form").tolist() == ["Cats", "eat", ".", "Fine"]
    doc = next(sub.docs(nlp))
    assert doc.text == "Cats eat. Fine"
    assert [s.text for s in doc.sents] == ["Cats eat.", "Fine"]
    assert [t.lemma_ for t in doc] == ["cat", "eat", ".", "fine"]


def test_model_not_installed():
    with pytest.raises(HcrisisError, match="spaCy pipeline 'no_such_model' is not installed"):
        build_pipeline("no_such_model")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(alphabet="ab .\n", max_size=12), min_size=1, max_size=5))
def test_property_tokens_point_into_text(texts):
    nlp = build_pipeline()
    tk = tokenize(texts, [str(i) for i in range(len(texts))], nlp)
    forms = tk.column("form")
    for i, text in enumerate(texts):
        for k in range(tk.bounds[i], tk.bounds[i + 1]):
            assert text[tk.start[k]:tk.start[k] + len(forms[k])] == forms[k]
    assert np.all(np.diff(tk.bounds) >= 0)


SENTENCE_TEXTS = [
    "The tenants come first. Housing! Really?", "“Is it?” she asked. (Yes.) Then… more",
    "Wait... what?! OK.\n\nNew paragraph. 3.5 per cent, e.g. this.", ". Leading stop", "",
    "End with a stop.", "Quote: 'fine.' Next one", "a ! b ? c . . d ;. e",
]


def sentencizer_reference(nlp, text):
    """spaCy's own Sentencizer component run on the tokenizer's Doc."""
    return [t.is_sent_start for t in nlp.get_pipe("sentencizer")(nlp.make_doc(text))]


def test_sentence_starts_equal_the_sentencizer(nlp):
    tk = tokenize(SENTENCE_TEXTS, [str(i) for i in range(len(SENTENCE_TEXTS))], nlp)
    for i, text in enumerate(SENTENCE_TEXTS):
        assert tk.sent_start[tk.bounds[i]:tk.bounds[i + 1]].tolist() == sentencizer_reference(nlp, text)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from(list("ab .!?…\"')(;\n") + ["A ", "Mr. ", "...", "?!"]),
                         max_size=30).map("".join), min_size=1, max_size=6))
def test_property_sentence_starts_equal_the_sentencizer(texts):
    nlp = build_pipeline()
    tk = tokenize(texts, [str(i) for i in range(len(texts))], nlp)
    for i, text in enumerate(texts):
        assert tk.sent_start[tk.bounds[i]:tk.bounds[i + 1]].tolist() == sentencizer_reference(nlp, text)


def assert_same_tokens(a, b):
    for name in ("bounds", "type_id", "start", "sent_start", "space"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and np.array_equal(x, y), name
    assert a.segment_ids == b.segment_ids
    assert a.types.equals(b.types)


def test_pipe_path_equals_tokenizer_path():
    # The sentencizer under another name runs through nlp.pipe (the trained-model path).
    import spacy
    from hcrisis.text.tokens import _register_components
    _register_components()
    piped = spacy.blank("en")
    piped.add_pipe("sentencizer", name="senter")
    piped.add_pipe("hcrisis_lemmatizer")
    ids = [str(i) for i in range(len(SENTENCE_TEXTS))]
    assert_same_tokens(tokenize(SENTENCE_TEXTS, ids, piped), tokenize(SENTENCE_TEXTS, ids, build_pipeline()))


def test_processes_give_identical_tokens():
    # the first chunk goes to a worker: its new words must reach this process's strings
    texts = ["Only a worker sees Zyxwv and qwerty."] + SENTENCE_TEXTS * 5
    ids = [str(i) for i in range(len(texts))]
    one = tokenize(texts, ids, build_pipeline(), processes=1)
    for n in (2, 3):
        seen = []
        many = tokenize(texts, ids, build_pipeline(), processes=n, progress=seen.append)
        assert_same_tokens(one, many)
        assert sum(seen) == len(texts)
    assert "Zyxwv" in one.types["form"].tolist()


SPAN_PIECES = list("ab .,!?\"')(-:;\n\t") + ["  ", " \n ", "\xa0", "\u3000", "can't", "Mr.", "e.g.",
                                                  "a.m.", "U.K.", "don't", "'s", "...", "\u200b", "3.5"]


def spans_one_by_one(nlp, text):
    """spaCy's whitespace rule as its own loop writes it, each span tokenised alone:
    (form, offset, trailing space) of every token."""
    out, start, in_ws = [], 0, text[:1].isspace()
    for i, ch in enumerate(text + "x" if text and text[-1].isspace() else text + " "):
        if i < len(text) and ch.isspace() == in_ws:
            continue
        if start < i:
            out += [[t.text, start + t.idx, False] for t in nlp.tokenizer(text[start:i])]
        if i < len(text) and ch == " " and not in_ws:
            out[-1][2] = True
            start = i + 1
        else:
            start = i
        in_ws = not in_ws
    return [tuple(t) for t in out]


def span_tokens(nlp, arrays, texts):
    orth, idx, space, counts, _ = arrays
    bounds = np.cumsum([0] + counts)
    return [[(nlp.vocab.strings[int(orth[k])], int(idx[k]), bool(space[k])) for k in range(a, b)]
            for a, b in zip(bounds[:-1], bounds[1:])]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.sampled_from(SPAN_PIECES + [":)", ":-)"]), max_size=25).map("".join),
                min_size=1, max_size=6))
def test_property_distinct_spans_equal_a_loop_over_spans(texts):
    # The numpy run rule (offsets, absorbed spaces, whitespace spans) against a plain loop.
    from hcrisis.text.tokens import _span_arrays
    nlp = build_pipeline()
    assert span_tokens(nlp, _span_arrays(nlp, texts), texts) == [spans_one_by_one(nlp, t) for t in texts]


# A bare quote mark is a special case whose match re-tokenises a later span in spaCy's pass
# over a whole text ("' ''sa": "'", "'", "'", "sa"; alone, "''sa" is "''", "sa"), as emoticons do.
WHOLE_TEXT_PIECES = [p for p in SPAN_PIECES if p != "'"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.sampled_from(WHOLE_TEXT_PIECES), max_size=25).map("".join), min_size=1, max_size=6))
def test_property_distinct_spans_equal_spacy_tokenizer(texts):
    # Without special cases that re-tokenise later spans (emoticons, a bare quote mark),
    # exactly spaCy's tokenizer over every text.
    from hcrisis.text.tokens import _span_arrays, _tokenizer_arrays
    nlp = build_pipeline()
    fast, reference = _span_arrays(nlp, texts), _tokenizer_arrays(nlp, texts)
    for x, y in zip(fast, reference):
        assert np.array_equal(np.asarray(x), np.asarray(y))


def test_a_bare_quote_before_a_span_is_the_known_difference(nlp):
    """Each span is tokenised on its own (so partitions never change tokens); spaCy's pass
    over the whole text splits the span after a bare quote mark differently."""
    from hcrisis.text.tokens import _span_arrays
    text = "' ''sa"
    assert [t.text for t in nlp.tokenizer(text)] == ["'", "'", "'", "sa"]
    assert [form for form, _, _ in span_tokens(nlp, _span_arrays(nlp, [text]), [text])[0]] == ["'", "''", "sa"]


def test_span_path_on_single_spaced_and_irregular_texts(nlp):
    from hcrisis.text.tokens import _span_arrays, _tokenizer_arrays
    texts = ["Housing officers can't wait.", "", "  lead\tand\n\nfollow ", "one two", " ", "x  y z  "]
    fast, reference = _span_arrays(nlp, texts), _tokenizer_arrays(nlp, texts)
    for x, y in zip(fast, reference):
        assert np.array_equal(np.asarray(x), np.asarray(y))
    # Housing officers ca n't wait . | (none) | '  ' lead '\t' and '\n\n' follow | one two | ' ' | x ' ' y z ' '
    assert fast[3] == [6, 0, 6, 2, 1, 5]


@pytest.mark.parametrize("text,forms,lemmas", [
    ("We're gonna fix it.", ["We", "'re", "gonna", "fix", "it", "."], ["we", "'re", "go", "fix", "it", "."]),
    ("Gonna be hard, I dunno.", ["Gonna", "be", "hard", ",", "I", "dunno", "."],
     ["go", "be", "hard", ",", "i", "know", "."]),
    ("GOTTA go, y'know", ["GOTTA", "go", ",", "y'know"], ["get", "go", ",", "know"]),
    ("I wanna kinda stop", ["I", "wanna", "kinda", "stop"], ["i", "want", "kind", "stop"]),
])
def test_speech_contractions_stay_one_token(text, forms, lemmas):
    from hcrisis.text.tokens import tokenize
    t = tokenize([text], ["s"])
    assert t.column("form").tolist() == forms
    assert t.column("lemma").tolist() == lemmas


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.sampled_from(SPAN_PIECES + [":)", "you", "know", "sort of", "\x00", "\x85", "\u2028"]),
                                  max_size=25)
                .map("".join),
                min_size=1, max_size=6), st.booleans())
def test_property_word_tokens_are_the_span_paths_tokens(texts, twice):
    # Forms and segments of every token as the span path gives them, whether texts are
    # single-spaced or not (both cut and split in Arrow) or hold the cut character, and
    # with the spans' tokens cached (`twice`).
    from hcrisis.text.tokens import word_tokens
    nlp = build_pipeline()
    if twice:
        word_tokens(texts, nlp)
    got = word_tokens(texts, nlp)
    expected = [[form for form, _, _ in spans_one_by_one(nlp, t)] for t in texts]
    forms = got.types["form"].to_numpy()[got.type_id]
    assert [forms[a:b].tolist() for a, b in zip(got.bounds[:-1], got.bounds[1:])] == expected
    assert got.types["lower"].tolist() == [f.lower() for f in got.types["form"]]


def test_word_tokens_of_single_spaced_and_irregular_texts(nlp):
    from hcrisis.text.tokens import word_tokens
    texts = ["Housing officers can't wait.", "", "  lead\tand\n\nfollow ", "one two", " ", "x  y z  "]
    got = word_tokens(texts, nlp)
    forms = got.types["form"].to_numpy()[got.type_id].tolist()
    assert forms == ["Housing", "officers", "ca", "n't", "wait", ".", "  ", "lead", "\t", "and", "\n\n", "follow",
                     "one", "two", " ", "x", " ", "y", "z", " "]
    assert got.bounds.tolist() == [0, 6, 6, 12, 14, 15, 20]


# ---------------------------------------------------------------- spaCy without its CLI
_IMPORT_CHECK = """
import sys
from hcrisis.text import spacy_import
{patch}
spacy = spacy_import.import_spacy()
print("cli" if "spacy.cli" in sys.modules else "no-cli", spacy.blank("en")("a b")[1].text)
import spacy.cli
print(sorted(spacy.info()) == sorted(spacy.cli.info()), spacy.cli.info.__module__)
"""


@pytest.mark.parametrize("patch, first", [
    ("", "no-cli b"),
    # a spaCy that needs more of its CLI while importing is imported whole
    ("spacy_import._stand_ins = lambda: {n: type(sys)(n) for n in spacy_import._STAND_INS}", "cli b"),
])
def test_spacy_imported_without_its_cli_which_loads_when_used(patch, first):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _IMPORT_CHECK.format(patch=patch)], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert out == [first, "True spacy.cli.info"]


@pytest.mark.parametrize("language", ["en", "fr", "xx"])
def test_lookup_lemmas_read_as_spacy_reads_them(language):
    """`hcrisis.text.lookups` finds and reads spacy-lookups-data's tables as spaCy's registry does."""
    from spacy.util import load_language_data, registry

    from hcrisis.text.tokens import _lookup_table

    try:
        expected = load_language_data(registry.lookups.get(language)["lemma_lookup"])
    except Exception:  # noqa: BLE001 - catalogue's RegistryError: no tables for the language
        expected = {}
    first = {k: v[0] if isinstance(v, list) else v for k, v in expected.items()}
    assert _lookup_table(language) == first and (language == "xx") == (not first)


# spaCy's cut of a text that is not single-spaced, as a lookbehind regex (Python's `\s`
# is every character `str.isspace` calls whitespace): what `_cut_spans` does in RE2.
_CUTS = __import__("re").compile(r"(?<=\S) |(?<=\S)(?=\s)|(?<=\s)(?<!\S )(?=\S)")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(st.sampled_from(list("ab.,'$\\") + [" ", "\n", "\xa0", "\t", "\u3000", "\x1c", "\x85",
                                                          "\u2028", "\u200a"]), max_size=14),
                min_size=1, max_size=5), st.sampled_from(["\x00", "|", "\\", "$"]))
def test_property_cut_spans_cuts_as_the_lookbehind_regex(texts, cut):
    import pyarrow as pa

    from hcrisis.text.tokens import _cut_spans

    texts = [t.replace(cut, "") for t in texts]     # the cut is a character no text holds
    assert _cut_spans(pa.array(texts, pa.large_string()), cut).to_pylist() == [
        _CUTS.sub(cut.replace("\\", "\\\\"), t).removesuffix(cut) for t in texts]
