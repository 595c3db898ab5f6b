"""The token table: one tokenisation, lemmas with overrides, Docs rebuilt."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from hcrisis.errors import HcrisisError
from hcrisis.tokens import build_pipeline, lemmatize_form, tokenize


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
