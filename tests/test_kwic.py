import pandas as pd
import pytest
from typer.testing import CliRunner

from freq_corpus import make_study
from hcrisis.cli import app
from hcrisis.ingest.corpus import load_corpus
from hcrisis.errors import InputError
from hcrisis.text.kwic import kwic
from hcrisis.ingest.segments import ALL
from hcrisis.study.model import load_study
from hcrisis.text.tokens import tokenize_segments


@pytest.fixture
def corpus(tmp_path):
    study = load_study(make_study(tmp_path))
    segs = load_corpus(study.corpus_path).segments
    return study, tokenize_segments(segs), segs


def rows(df):
    return list(zip(df["document_id"], df["left"], df["match"], df["right"]))


def test_wildcard_window_grouped_by_document(corpus):
    _, tokens, segs = corpus
    hits = kwic(tokens, segs, "manag*", window=2, rows=ALL.mask(segs))
    # ha1 sorts before la1; the interviewer's "managing" is left out
    assert rows(hits) == [
        ("ha1", "of honesty.", "Managers", "manage."),
        ("ha1", "honesty. Managers", "manage", "."),
        ("la1", "about people.", "Managing", "people, managed"),
        ("la1", "Managing people,", "managed", "budgets. I"),
    ]
    assert hits["participant_id"].tolist() == ["F02", "F02", "P01", "P01"]
    assert hits["role_label"].tolist() == ["Officer", "Officer", "Director", "Director"]


def test_lemma_match_never_finds_housing_for_house(corpus):
    _, tokens, segs = corpus
    assert kwic(tokens, segs, "house", window=1)["match"].tolist() == ["houses"]
    assert kwic(tokens, segs, "housing", window=0)["match"].str.lower().tolist() == ["housing"] * 3
    assert kwic(tokens, segs, "manage", window=0)["match"].tolist() == ["manage", "managing", "Managing", "managed"]


def test_exact_match_and_paragraph(corpus):
    study, tokens, segs = corpus
    hits = kwic(tokens, segs, "customers", match="exact", paragraph=True, rows=study.segment("ha").mask(segs))
    assert rows(hits) == [("ha1", "Tenants and", "customers", ". Housing tenants.")]
    assert kwic(tokens, segs, "customer", match="exact").empty


def test_bad_queries(corpus):
    _, tokens, segs = corpus
    with pytest.raises(InputError, match="cannot search for '  '"):
        kwic(tokens, segs, "  ")
    with pytest.raises(InputError, match="cannot search for 'a b c d e f g h i'"):
        kwic(tokens, segs, "a b c d e f g h i")
    with pytest.raises(InputError, match="unknown match 'regex'"):
        kwic(tokens, segs, "tenants", match="regex")


def test_cli_kwic(tmp_path):
    study = make_study(tmp_path)
    out = tmp_path / "hits.csv"
    result = CliRunner().invoke(app, ["kwic", "tenants", "--study", str(study), "--segment", "la",
                                      "--window", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 hit(s) of 'tenants' in 1 document(s)" in result.output
    assert pd.read_csv(out)[["left", "match", "right"]].values.tolist() == [["and", "tenants", "."]]
    bad = CliRunner().invoke(app, ["kwic", "x", "--study", str(study), "--window", "-1"])
    assert bad.exit_code == 1
    assert bad.stderr.strip().splitlines()[-1] == "Error: window must be 0 or more (pass --window 5, say)"


def test_phrase_lemma_and_wildcards(corpus):
    _, tokens, segs = corpus
    hits = kwic(tokens, segs, "managing people", window=1)    # the interviewer's turn too (no rows)
    assert rows(hits) == [("la1", "and", "managing people", "."),
                          ("la1", "people.", "Managing people", ", managed")]
    assert rows(kwic(tokens, segs, "manag* budget", window=0)) == [("la1", "", "managed budgets", "")]
    assert kwic(tokens, segs, "people managing").empty         # order matters


def test_centred_lines_never_cut_the_keyword():
    from hcrisis.text.kwic import centred_lines
    hits = pd.DataFrame({"segment_id": ["a:0001", "b:0002"], "left": ["x" * 50, "short"],
                         "match": ["black box", "box"], "right": ["y" * 50, "end"]})
    lines = centred_lines(hits, 40)
    assert lines == ["a:0001  …xxxxxxxx  black box  yyyyyyyy…",
                     "b:0002      short     box     end"]
