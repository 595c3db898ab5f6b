from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import CountVectorizer
from typer.testing import CliRunner

from conftest import write
from freq_corpus import make_study
from hcrisis.cli import app
from hcrisis.ingest.corpus import load_corpus
from hcrisis.errors import InputError
from hcrisis.text.freq import FREQ_COLUMNS, FreqCounter, FreqSettings, stop_entries, write_frequencies
from hcrisis.ingest.segments import ALL
from hcrisis.study.model import load_study
from hcrisis.text.tokens import build_pipeline, tokenize_segments

GOLDEN = Path(__file__).parent / "golden"


def segments_of(texts, interviewer=None):
    return pd.DataFrame({"segment_id": [f"s{i}" for i in range(len(texts))], "text": texts,
                         "is_interviewer": interviewer or [False] * len(texts)})


@lru_cache(maxsize=1)
def nlp():
    return build_pipeline()


def counter_for(segments, **kw):
    return FreqCounter(tokenize_segments(segments, nlp()), segments, FreqSettings(**kw))


@pytest.fixture
def tiny(tmp_path):
    study = load_study(make_study(tmp_path))
    c = load_corpus(study.corpus_path)
    return study, FreqCounter(tokenize_segments(c.segments), c.segments, FreqSettings.from_mapping(study.settings('freq')))


def as_pairs(table):
    return list(zip(table["word"], table["count"]))


def test_exact_table_is_literal(tiny):
    _, counter = tiny
    table = counter.table(ALL)
    assert list(table.columns) == FREQ_COLUMNS
    # fillers (yeah, um), filler sequences (you know, I mean, sort of), stop words and
    # the interviewer's turns are not counted: 18 counted words
    assert table.attrs["denominator"] == 18
    assert as_pairs(table) == [
        ("tenants", 4), ("housing", 2), ("people", 2), ("budgets", 1), ("communication", 1),
        ("customers", 1), ("honesty", 1), ("houses", 1), ("manage", 1), ("managed", 1),
        ("managers", 1), ("managing", 1), ("matter", 1)]
    assert table["rank"].tolist() == list(range(1, 14))
    assert table["weighted_percentage"].iloc[0] == pytest.approx(100 * 4 / 18)
    assert table["length"].iloc[0] == 7


def test_stemmed_groups_but_keeps_housing_apart(tiny):
    study, counter = tiny
    stemmed = FreqCounter(counter.tokens, counter.segments, FreqSettings.from_mapping(study.settings('freq'), grouping="stemmed"))
    table = stemmed.table(ALL)
    assert as_pairs(table)[:4] == [("manage", 4), ("tenants", 4), ("housing", 2), ("people", 2)]
    assert table["members"].iloc[0] == "manage (1), managed (1), managers (1), managing (1)"
    houses = table.set_index("word").loc["houses"]
    assert houses["members"] == "houses (1)" and houses["count"] == 1
    assert table.attrs["denominator"] == 18


def test_protected_list_is_editable():
    segs = segments_of(["house houses housing building builds"])
    plain = counter_for(segs, grouping="stemmed").table()
    assert dict(as_pairs(plain)) == {"house": 2, "housing": 1, "building": 2}
    kept = counter_for(segs, grouping="stemmed", protected=(("building", "building"),)).table()
    assert dict(as_pairs(kept)) == {"house": 2, "housing": 1, "building": 1, "builds": 1}


def test_segment_scopes_and_top(tiny):
    study, counter = tiny
    la = counter.table(study.segment("la"), top=3)
    assert as_pairs(la) == [("people", 2), ("budgets", 1), ("houses", 1)]
    assert la.attrs["denominator"] == 9  # the denominator counts every word, not only the top 3
    assert counter.table(study.segment("almo")).empty


def test_counts_match_countvectorizer_on_the_same_tokens():
    texts = ["Housing people, housing!", "People matter; tenants matter more.", "A tenant's home."]
    segs = segments_of(texts)
    tokens = tokenize_segments(segs)
    lower, alpha = tokens.column("lower"), tokens.column("is_alpha")
    docs = [[w for w, a in zip(lower[s:e], alpha[s:e]) if a and len(w) >= 3]
            for s, e in zip(tokens.bounds[:-1], tokens.bounds[1:])]
    vec = CountVectorizer(analyzer=lambda doc: doc)
    expected = dict(zip(vec.fit(docs).get_feature_names_out(),
                        np.asarray(vec.transform(docs).sum(axis=0)).ravel().tolist()))
    table = FreqCounter(tokens, segs, FreqSettings(stop_words="none")).table()
    assert dict(as_pairs(table)) == expected
    assert expected["housing"] == 2 and "a" not in expected


def test_stop_word_file_and_sequences(tmp_path):
    stop = write(tmp_path / "stop.txt", "# my list\npeople\nkind of\n")
    segs = segments_of(["People kind of matter, a kind person."])
    table = counter_for(segs, stop_words=str(stop)).table()
    assert as_pairs(table) == [("kind", 1), ("matter", 1), ("person", 1)]
    assert ("kind", "of") in stop_entries(FreqSettings(stop_words=str(stop)))


def test_missing_stop_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="cannot read stop-word list"):
        stop_entries(FreqSettings(stop_words=str(tmp_path / "nope.txt")))


def test_study_settings_and_overrides(tmp_path):
    study = load_study(make_study(tmp_path, """\
study: s
corpus: corpus
settings:
  freq: {min_length: 4, grouping: stemmed, fillers: [erm], extra_stop_words: [tenants]}
"""))
    s = FreqSettings.from_mapping(study.settings('freq'), min_length=None, top=5)
    assert (s.min_length, s.grouping, s.fillers, s.extra_stop_words, s.top) == (4, "stemmed", ("erm",), ("tenants",), 5)
    assert ("yeah",) not in stop_entries(s) and ("erm",) in stop_entries(s)
    with pytest.raises(InputError, match="unknown grouping 'fuzzy'"):
        FreqSettings.from_mapping(study.settings('freq'), grouping="fuzzy")


def test_interviewer_turns_are_excluded():
    segs = segments_of(["tenants tenants", "tenants budgets"], interviewer=[True, False])
    assert as_pairs(counter_for(segs).table()) == [("budgets", 1), ("tenants", 1)]


def test_golden_frequency_table(tiny, tmp_path):
    study, counter = tiny
    seg = study.segment("ha")
    written = write_frequencies(counter.table(seg), tmp_path, seg, counter.settings)
    for path in written:
        assert path.read_text("utf-8") == (GOLDEN / path.name).read_text("utf-8"), path.name


VOCAB = ["housing", "tenants", "people", "the", "yeah", "you", "know", "managing", "homes", "of", "kind"]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.sampled_from(VOCAB), max_size=12), min_size=1, max_size=5), st.randoms())
def test_counts_sum_to_denominator_and_ignore_document_order(docs, rnd):
    texts = [" ".join(d) for d in docs]
    table = counter_for(segments_of(texts)).table()
    assert table["count"].sum() == table.attrs["denominator"]
    if len(table):
        assert table["weighted_percentage"].sum() == pytest.approx(100.0)
    order = list(range(len(texts)))
    rnd.shuffle(order)
    shuffled = counter_for(segments_of([texts[i] for i in order])).table()
    pd.testing.assert_frame_equal(table.reset_index(drop=True), shuffled.reset_index(drop=True))


STEM_VOCAB = ["managing", "managed", "manage", "managers", "housing", "houses", "house", "tenants",
              "tenant", "leaders", "leader", "leadership"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.sampled_from(STEM_VOCAB), max_size=10), min_size=2, max_size=6),
       st.sampled_from(["exact", "stemmed"]))
def test_keyness_names_and_counts_are_the_frequency_tables(docs, grouping):
    """Keyness groups: named by their most frequent form in A and B (ties by form), counts
    as in each side's frequency table, and for ranks the table's group counts."""
    texts = [" ".join(d) for d in docs]
    counter = counter_for(segments_of(texts), grouping=grouping)
    half = len(texts) // 2
    a, b = np.arange(len(texts)) < half, np.arange(len(texts)) >= half
    fa, fb = counter.form_counts(a), counter.form_counts(b)
    if not fa.sum() or not fb.sum():
        return
    names = counter.table(a | b)["word"]
    key = counter.keyness(a, b).set_index("item")
    for side, mask in (("count_a", a), ("count_b", b)):
        table = counter.table(mask)
        expected = dict(zip(names[table.index], table["count"]))
        assert {w: n for w, n in key[side].items() if n} == expected
    counts = counter.group_counts(counter.form_counts(a | b))
    assert sorted(counts[counts > 0], reverse=True) == counter.table(a | b)["count"].tolist()


runner = CliRunner()


def test_cli_freq_writes_table(tmp_path):
    study = make_study(tmp_path)
    result = runner.invoke(app, ["freq", "--study", str(study), "--segment", "la", "--out", str(tmp_path / "t")])
    assert result.exit_code == 0, result.output
    assert "9 counted words" in result.output
    assert pd.read_csv(tmp_path / "t" / "freq_la.csv")["word"].tolist()[:2] == ["people", "budgets"]


def test_cli_freq_unknown_segment(tmp_path):
    study = make_study(tmp_path)
    result = runner.invoke(app, ["freq", "--study", str(study), "--segment", "zz", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == \
        f"Error: {study}: no segment 'zz' in the study (use one of all, la, ha, almo)"


def test_cli_freq_segment_needs_study(tmp_path):
    make_study(tmp_path)
    result = runner.invoke(app, ["freq", str(tmp_path / "corpus"), "--segment", "la"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: no segment 'la' without a study file (pass --study FILE declaring it, "
        "or select with --where ATTR=VALUE or --by ATTR)")


def test_cli_compare(tmp_path):
    study = make_study(tmp_path)
    out = tmp_path / "t"
    result = runner.invoke(app, ["compare", "--study", str(study), "--segment", "la", "--segment", "ha",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "keyness_la_vs_ha.csv")
    assert table.iloc[0]["item"] == "people" and table.iloc[0]["favours"] == "la"
    result = runner.invoke(app, ["compare", "--study", str(study), "--segment", "ha", "--out", str(out)])
    assert result.exit_code == 0 and (out / "keyness_ha_vs_rest.csv").exists()


def test_cli_compare_without_study_same_table(tmp_path):
    """--where gives the same segments as the study's `where:`: the same keyness table."""
    study = make_study(tmp_path)
    runner.invoke(app, ["compare", "--study", str(study), "--segment", "la", "--segment", "ha",
                        "--out", str(tmp_path / "s")])
    result = runner.invoke(app, ["compare", str(tmp_path / "corpus"), "--where", "sector=local authority",
                                 "--where", "sector=housing association", "--out", str(tmp_path / "w")])
    assert result.exit_code == 0, result.output
    with_study = pd.read_csv(tmp_path / "s" / "keyness_la_vs_ha.csv")
    with_where = pd.read_csv(tmp_path / "w" / "keyness_sector-local-authority_vs_sector-housing-association.csv")
    assert with_where.drop(columns="favours").equals(with_study.drop(columns="favours"))
    assert with_where["favours"].replace({"sector-local-authority": "la", "sector-housing-association": "ha"}
                                         ).equals(with_study["favours"])


def test_cli_compare_by_each_value_against_rest(tmp_path):
    make_study(tmp_path)
    out = tmp_path / "t"
    result = runner.invoke(app, ["compare", str(tmp_path / "corpus"), "--by", "source_type", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.glob("*.csv")) == [
        "keyness_source-type-focus-group_vs_rest.csv", "keyness_source-type-national-interview_vs_rest.csv"]
    # the ALMO interview has words, but none counted (fillers only): named in the error
    result = runner.invoke(app, ["compare", str(tmp_path / "corpus"), "--by", "sector", "--out", str(out)])
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: cannot compare: segment 'sector-almo' has no counted words (alphabetic tokens of at least 3 "
        "letters, spaCy English stop words + interview fillers, exact grouping) (choose segments that both "
        "have counted words, or --stop-words none)")


def test_cli_compare_needs_one_or_two(tmp_path):
    make_study(tmp_path)
    result = runner.invoke(app, ["compare", str(tmp_path / "corpus")])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: compare needs one or two segments, not 0 (e.g. --where sector=x --where sector=y, "
        "--where sector=x (against the rest) or --by sector)")
