"""Code suggestions and candidate themes on a small hand-checkable corpus."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from hcrisis.cli import app
from hcrisis.ingest.corpus import load_corpus
from hcrisis.errors import InputError
from hcrisis.coding.suggest import LABEL, THEME_LABEL, candidate_themes, suggest_codes, unit_documents
from hcrisis.text.tokens import tokenize_segments

from conftest import write

runner = CliRunner()

TEXTS = {
    "r1": "Rent arrears keep rising on the estate.",
    "r2": "Arrears letters and rent collection take all week.",
    "r3": "Collecting rent arrears is hard.",
    "t1": "Training courses help new managers.",
    "t2": "Managers need training and mentoring courses.",
    "t3": "Mentoring beats most training courses.",
    "u1": "Rent arrears and collection again.",
    "u2": "Mentoring and courses for managers.",
    "u3": "Boilers and damp repairs in the tower.",
    "u4": "Damp repairs are late in every tower block.",
}


@pytest.fixture
def corpus(tmp_path) -> Path:
    root = tmp_path / "c"
    write(root / "manifest.yaml", """\
name: c
tables:
  - id: units
    file: units.csv
    kind: survey response
    text_column: text
    id_column: unit_id
""")
    write(root / "units.csv", "unit_id,text\n" + "".join(f"{k},{v}\n" for k, v in TEXTS.items()))
    return root


@pytest.fixture
def codings(tmp_path) -> Path:
    rows = [("r1", "arrears"), ("r2", "arrears"), ("r3", "arrears"),
            ("t1", "training"), ("t2", "training"), ("t3", "training"), ("t3", "mentoring")]
    return write(tmp_path / "codings.csv", "segment_id,code_id\n" + "".join(f"{s},{c}\n" for s, c in rows))


def _docs(corpus):
    segs = load_corpus(corpus).segments
    return unit_documents(tokenize_segments(segs)), segs["segment_id"].tolist()


def test_unit_documents_are_lemmas_without_stop_words(corpus):
    docs, ids = _docs(corpus)
    assert docs[ids.index("t2")] == "manager need training mentor course"
    assert docs[ids.index("u3")] == "boiler damp repair tower"


def test_suggestions_rank_the_obvious_code_first(corpus, codings):
    docs, ids = _docs(corpus)
    s = suggest_codes(docs, ids, pd.read_csv(codings), top_k=2)
    assert sorted(s["segment_id"].unique()) == ["u1", "u2", "u3", "u4"]
    top = s[s["rank"] == 1].set_index("segment_id")["code_id"]
    assert top["u1"] == "arrears"
    assert top["u2"] in {"training", "mentoring"}
    assert (s["status"] == LABEL).all()
    assert s.groupby("segment_id")["score"].apply(lambda x: x.is_monotonic_decreasing).all()


def test_too_few_coded_units(corpus, tmp_path):
    docs, ids = _docs(corpus)
    with pytest.raises(InputError, match="only 1 coded unit"):
        suggest_codes(docs, ids, pd.DataFrame({"segment_id": ["r1"], "code_id": ["x"]}))


def test_candidate_themes_are_deterministic_and_textless():
    docs = ["damp repair tower", "damp repair boiler", "rent arrear letter", "rent arrear court"]
    ids = ["a", "b", "c", "d"]
    first = candidate_themes(docs, ids, 2)
    assert first.equals(candidate_themes(docs, ids, 2))
    assert first["topic"].tolist() == ["candidate_1", "candidate_2"]
    # the two clusters of units come out as the two topics: damp/repairs and rent arrears
    leads = [x.split("; ")[:2] for x in first["example_units"]]
    assert sorted(map(sorted, leads)) == [["a", "b"], ["c", "d"]]
    terms = set("; ".join(first["top_terms"]).split("; "))
    assert {"damp", "rent"} <= terms
    assert (first["status"] == THEME_LABEL).all()
    assert candidate_themes(["", " "], ["a", "b"], 3).empty
    assert len(candidate_themes(docs, ids, 10)) == 4        # no more topics than units


def test_cli_suggest(corpus, codings, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["suggest", str(corpus), "--codings", str(codings), "--topics", "2",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "4 uncoded unit(s) with suggested codes" in result.output
    themes = pd.read_csv(out / "candidate_themes.csv")
    assert len(themes) == 2
    assert not any(t in (out / "candidate_themes.csv").read_text() for t in TEXTS.values())


def test_description_only_codings_count_as_uncoded(corpus, codings, tmp_path):
    with_hits = pd.read_csv(codings).assign(hits=1)
    fallback = pd.DataFrame({"segment_id": ["u1", "u3"], "code_id": ["arrears", "training"], "hits": [0, 0]})
    path = tmp_path / "with_fallback.csv"
    pd.concat([with_hits, fallback]).to_csv(path, index=False)
    result = runner.invoke(app, ["suggest", str(corpus), "--codings", str(path), "--topics", "2",
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "4 uncoded unit(s) with suggested codes" in result.output


def test_cli_suggest_missing_codings(corpus, tmp_path):
    missing = tmp_path / "nope.csv"
    result = runner.invoke(app, ["suggest", str(corpus), "--codings", str(missing)])
    assert result.exit_code == 1
    assert result.output == f"Error: {missing}: file not found (check the path)\n"
