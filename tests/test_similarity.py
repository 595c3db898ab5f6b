"""Description similarity: hand-computed cosines, scikit-learn's TF-IDF, re-ranking and fallback codings."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from hcrisis.coding.codebook import build_codebook, load_codebook
from hcrisis.coding.matcher import compile_codebook
from hcrisis.coding.apply import apply_codebook
from hcrisis.coding.similarity import DescriptionIndex, counted_words, description_fields, rule_terms
from hcrisis.text.tokens import build_pipeline, lemmatize_form, tokenize

from conftest import write

# Vocabulary (sorted): arrears, leader, rent, vision. Each word is in one description
# (equal idf) and twice in it, so lead = (0, 1, 0, 1)/√2 and rent = (1, 0, 1, 0)/√2.
CODEBOOK = """\
codebook: sim
similarity: {weight: 1.0, fallback: 0.2}
codes:
  - id: lead
    label: Leaders
    definition: Leaders with vision.
    rules: {keywords: [vision]}
  - id: rent
    label: Rent
    definition: Rent arrears.
    rules: {keywords: [arrears]}
"""
TEXTS = {
    "t1": "Tenants in arrears pay the rent.",     # (1, 0, 1, 0): rent 1
    "t2": "Arrears of a leader.",                 # (1, 1, 0, 0): 0.5 each
    "t3": "Nothing here.",                        # no described word
    "t4": "Leaders, leaders, vision!",            # (0, 1 + ln 2, 0, 1)
    "t5": "A leader of people.",                  # (0, 1, 0, 0): lead 1/√2 ("people" not described)
    "t6": "Vision on arrears, rent and rent.",    # (1, 0, 1 + ln 2, 1)
}
L = 1 + math.log(2)
T4 = (L + 1) / (math.sqrt(2) * math.sqrt(L * L + 1))
T6 = (1 / (math.sqrt(2) * math.sqrt(2 + L * L)), (1 + L) / (math.sqrt(2) * math.sqrt(2 + L * L)))


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    return load_codebook(write(tmp_path_factory.mktemp("sim") / "sim.yaml", CODEBOOK))


def _tokens(nlp, texts):
    return tokenize(list(texts.values()), list(texts), nlp)


def test_similarity_by_hand(book, nlp):
    tokens = _tokens(nlp, TEXTS)
    sim = DescriptionIndex(book, nlp).similarity(tokens, tokens.bounds[:-1], tokens.bounds[1:])
    expected = [[0, 1], [0.5, 0.5], [0, 0], [T4, 0], [1 / math.sqrt(2), 0], list(T6)]
    assert np.allclose(sim, expected)


def test_description_fields_and_rule_terms():
    book = build_codebook({"codebook": "t", "codes": [{
        "id": "a", "label": "A", "example": "An example.",
        "rules": {"keywords": ["tenant", "manag*"], "phrases": ["social purpose"],
                  "near": [{"terms": ["leader", "vision*"], "within": 3}]}}]})
    assert description_fields(book.codes[0]) == "A\n\n\nAn example."
    assert rule_terms(book.codes[0]) == ["tenant", "social purpose", "leader"]


def test_rule_terms_tokenised_by_the_compiled_codebook_give_the_same_index(book, nlp):
    ours, theirs = DescriptionIndex(book, nlp, compile_codebook(book, nlp).words), DescriptionIndex(book, nlp)
    assert ours.vocab == theirs.vocab == {"arrears": 0, "leader": 1, "rend": 2, "vision": 3}   # spaCy: rent → rend
    assert np.array_equal(ours.codes, theirs.codes)


def _words(nlp, text: str) -> list[str]:
    toks = [t for t in nlp.tokenizer(text) if not t.is_space]
    keep = counted_words([t.lower_ for t in toks], [t.is_alpha for t in toks])
    return [lemmatize_form(t.lower_) for t, k in zip(toks, keep) if k]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["rent", "arrears", "leaders", "vision", "the", "tenants", ","]),
                         max_size=8), min_size=1, max_size=4))
def test_agrees_with_scikit_learn(book, nlp, units):
    from sklearn.feature_extraction.text import TfidfVectorizer

    from hcrisis.coding.similarity import description_fields, rule_terms

    texts = {f"u{i}": " ".join(words) for i, words in enumerate(units)}
    tokens = _tokens(nlp, texts)
    ours = DescriptionIndex(book, nlp).similarity(tokens, tokens.bounds[:-1], tokens.bounds[1:])
    vec = TfidfVectorizer(analyzer=lambda text: _words(nlp, text), sublinear_tf=True)
    codes = vec.fit_transform(["\n".join([description_fields(c), *rule_terms(c)]) for c in book.codes]).toarray()
    theirs = vec.transform(list(texts.values())).toarray() @ codes.T
    assert np.allclose(ours, theirs)


def _coded(book, texts: dict[str, str]) -> pd.DataFrame:
    seg = pd.DataFrame({"segment_id": list(texts), "text": list(texts.values())})
    return apply_codebook(book, seg)


def test_codings_reranked_and_fallback(book):
    got = _coded(book, TEXTS)[["segment_id", "code_id", "hits", "score", "similarity", "primary"]]
    r = 1 / 3   # one keyword: S / (S + 2)
    assert got["segment_id"].tolist() == ["t1", "t2", "t4", "t5", "t6", "t6"]
    assert got["code_id"].tolist() == ["rent", "rent", "lead", "lead", "lead", "rent"]
    assert got["hits"].tolist() == [1, 1, 1, 0, 1, 1]             # t5: described, no rule hit
    assert np.allclose(got["similarity"], [1, 0.5, T4, 1 / math.sqrt(2), *T6])
    assert np.allclose(got["score"], [r + 1, r + 0.5, r + T4, 1 / math.sqrt(2), r + T6[0], r + T6[1]])
    # t6: both rules hit once; the description of rent is closer, so rent is primary
    assert got["primary"].tolist() == [True, True, True, True, False, True]


def test_fallback_threshold_and_sentence_codes(tmp_path):
    book = load_codebook(write(tmp_path / "s.yaml", CODEBOOK.replace("fallback: 0.2", "fallback: 0.8")
                               .replace("    rules: {keywords: [vision]}", "    unit: sentence\n"
                                        "    rules: {keywords: [vision]}")))
    got = _coded(book, {"t2": "Arrears of a leader rent.", "t5": "A leader of people."})
    assert got[["segment_id", "code_id", "hits"]].values.tolist() == [["t2", "rent", 1]]   # t5: lead codes sentences


def test_without_similarity_the_column_is_empty(tmp_path):
    book = load_codebook(write(tmp_path / "n.yaml", CODEBOOK.replace("similarity: {weight: 1.0, fallback: 0.2}\n", "")))
    got = _coded(book, TEXTS)
    assert got["similarity"].isna().all() and (got["hits"] > 0).all()
    assert np.allclose(got["score"], 1 / 3)


def test_export_and_quotations_say_how_units_were_coded(book):
    from hcrisis.coding.codebook_doc import to_markdown
    from hcrisis.coding.apply import quotations

    assert ("Scores add 1 × the cosine similarity of the unit and the code's description (label, definition, "
            "when to use, example, rule terms) to the rule score; a segment no rule codes gets its most similar "
            "turn or paragraph code when that similarity is at least 0.2.") in to_markdown(book)
    seg = pd.DataFrame({"segment_id": ["t5"], "text": [TEXTS["t5"]]})
    quotes = quotations(apply_codebook(book, seg), book, seg)
    assert "— `t5` (segment); score 0.707 (no rule hit; description similarity 0.707)" in quotes["lead"]


def test_similarity_to_given_codes_is_the_matrix_entry(book, nlp):
    tokens = _tokens(nlp, TEXTS)
    index = DescriptionIndex(book, nlp)
    starts, ends = np.repeat(tokens.bounds[:-1], 2), np.repeat(tokens.bounds[1:], 2)   # each unit twice
    codes = np.tile([1, 0], len(TEXTS))
    full = index.similarity(tokens, tokens.bounds[:-1], tokens.bounds[1:])
    assert np.allclose(index.similarity_to(tokens, starts, ends, codes), full[np.repeat(np.arange(len(TEXTS)), 2), codes])


def test_similarity_to_in_blocks_of_codings(book, nlp, monkeypatch):
    tokens = _tokens(nlp, TEXTS)
    index = DescriptionIndex(book, nlp)
    starts, ends, codes = tokens.bounds[:-1], tokens.bounds[1:], np.array([1, 0, 0, 0, 0, 1])
    whole = index.similarity_to(tokens, starts, ends, codes)
    monkeypatch.setattr("hcrisis.coding.similarity.PAIRS", 4)     # two blocks: 4 codings, then 2
    assert np.array_equal(index.similarity_to(tokens, starts, ends, codes), whole)
    assert np.allclose(whole, [1, 0.5, 0, T4, 1 / math.sqrt(2), T6[1]])
