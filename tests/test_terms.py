import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import write
from hcrisis.cli import app
from hcrisis.errors import InputError
from hcrisis.ingest.segments import ALL, Segment
from hcrisis.text.terms import (TermIndex, TermSettings, coverage, merge_terms, merged_frequency_table,
                           term_keyness, write_terms)
from hcrisis.text.tokens import build_pipeline
from hcrisis.text.tokens import tokenize as _tokenize

GOLDEN = Path(__file__).parent / "golden"


@lru_cache(maxsize=1)
def nlp():
    return build_pipeline()


def tokenize(texts, ids):
    """Tokenise with one shared pipeline (building one costs more than these texts)."""
    return _tokenize(texts, ids, nlp())


def segments(texts, docs=None, pids=None, interviewer=None):
    n = len(texts)
    return pd.DataFrame({
        "segment_id": [f"s{i}" for i in range(n)],
        "document_id": docs or [f"d{i}" for i in range(n)],
        "participant_id": pids or [f"P{i}" for i in range(n)],
        "is_interviewer": interviewer or [False] * n,
        "text": texts,
    })


def index_of(texts, **kw):
    seg = segments(texts, **kw)
    return TermIndex(tokenize(seg["text"].tolist(), seg["segment_id"].tolist()), seg)


# "Adult social care." x3 (d1, d1, d2), "Social care workers." x2 (d2, d3), "Social care." (d3):
# 17 words (tokens that are not punctuation).
CARE = ["Adult social care."] * 3 + ["Social care workers."] * 2 + ["Social care."]
CARE_KW = dict(docs=["d1", "d1", "d2", "d2", "d3", "d3"], pids=["P1", "P1", "P2", "P2", "", "P3"])


def test_candidates_of_one_sentence_are_exact():
    # Social purpose matters . -> 2-grams "social purpose", "purpose matters" and the 3-gram;
    # "matters ." has punctuation; a 4-gram does not fit.
    table = index_of(["Social purpose matters."]).table(min_freq=1)
    assert sorted(table["term"]) == ["purpose matters", "social purpose", "social purpose matters"]
    assert table["count"].tolist() == [1, 1, 1]


def test_edge_stop_words_excluded_inner_kept():
    table = index_of(["The right to buy of tenants."]).table(min_freq=1)
    # "right to" ends and "to buy" starts with a stop word; "buy of tenants" has "of" inside;
    # "right to buy of tenants" has 5 tokens
    assert sorted(table["term"]) == ["buy of tenants", "right to buy"]
    assert sorted(table.index) == ["buy of tenant", "right to buy"]     # lemma keys
    assert table.set_index("term")["members"]["buy of tenants"] == "buy of tenants (1)"


def test_hand_computed_c_value_g2_and_pmi():
    table = index_of(CARE, **CARE_KW).table(min_freq=1).set_index("term")
    assert table.attrs["words"] == 17
    # C-value (Frantzi et al. 2000):
    # adult social care: f=3, not nested: log2(3)*3 = 4.754887502
    # social care worker: f=2, not nested: log2(3)*2 = 3.169925001
    # social care: f=6, nested in {adult social care (3), social care worker (2)}: 1*(6 - 5/2) = 3.5
    # adult social: f=3, nested in {adult social care (3)}: 1*(3 - 3/1) = 0
    # care worker: f=2, nested in {social care worker (2)}: 0
    assert table["c_value"].to_dict() == pytest.approx({
        "adult social care": 4.754887502, "social care": 3.5, "social care workers": 3.169925001,
        "adult social": 0.0, "care workers": 0.0})
    assert table.index.tolist() == ["adult social care", "social care", "social care workers",
                                    "adult social", "care workers"]
    # social care: O11 = 6, f(social) = 6, f(care) = 6, N = 17 -> O12 = O21 = 0, O22 = 11;
    # E11 = 6*6/17 = 2.117647, E22 = 11*11/17 = 7.117647;
    # G2 = 2*(6 ln(6/2.117647) + 11 ln(11/7.117647)) = 2*(6.248724 + 4.788498) = 22.074444
    # PMI = log2(6*17/(6*6)) = log2(2.833333) = 1.502500
    assert table.loc["social care", "g2"] == pytest.approx(2 * (6 * math.log(6 / (36 / 17)) + 11 * math.log(11 / (121 / 17))))
    assert table.loc["social care", "g2"] == pytest.approx(22.074444, abs=1e-6)
    assert table.loc["social care", "pmi"] == pytest.approx(1.502500, abs=1e-6)
    # adult social care, both splits (adult | social care) and (adult social | care):
    # O11 = 3, O12 = 3-3 = 0, O21 = 6-3 = 3, O22 = 17-6 = 11; rows 3, 14; cols 6, 11
    # E11 = 3*6/17, E21 = 14*6/17, E22 = 14*11/17 (O12 = 0 adds nothing);
    # G2 = 2*(3 ln(51/18) + 3 ln(51/84) + 11 ln(187/154)) = 2*(3.124356 - 1.496919 + 2.135668) = 7.526209
    g = 2 * (3 * math.log(3 * 17 / 18) + 3 * math.log(3 * 17 / 84) + 11 * math.log(11 * 17 / 154))
    assert table.loc["adult social care", "g2"] == pytest.approx(g)
    assert g == pytest.approx(7.526209, abs=1e-6)
    assert table.loc["adult social care", "pmi"] == pytest.approx(math.log2(3 * 17 / (3 * 6)))
    # documents and participants ('' is no participant)
    assert table.loc["social care workers", ["documents", "participants"]].tolist() == [2, 1]
    assert table.loc["social care", ["documents", "participants"]].tolist() == [3, 3]


def test_thresholds_apply_before_nestedness():
    table = index_of(CARE, **CARE_KW).table(min_freq=3).set_index("term")
    # social care worker (f=2) is no candidate now: social care = 1*(6 - 3/1) = 3
    assert table["c_value"].to_dict() == pytest.approx({"adult social care": 4.754887502,
                                                        "social care": 3.0, "adult social": 0.0})
    assert index_of(CARE, **CARE_KW).table(min_freq=1, min_docs=3)["term"].tolist() == ["social care"]


def test_weakest_split_is_reported():
    # "right to buy" x2 (one sentence each), "right" x4 more: f(right)=6, f(to buy)=2, f(right to)=2, f(buy)=2.
    texts = ["Right to buy.", "Right to buy.", "Right right right right."]
    table = index_of(texts).table(min_freq=1).set_index("term")
    n = 10
    from hcrisis.text.keyness import g2
    first = g2(2, 4, 2, n - 2, full_table=True)     # right | to buy: O12 = 6-2, O21 = 0
    second = g2(2, 0, 2, n - 2, full_table=True)    # right to | buy: O12 = 0, O21 = 0
    assert first < second
    assert table.loc["right to buy", "g2"] == pytest.approx(first)
    assert table.loc["right to buy", "pmi"] == pytest.approx(math.log2(2 * n / (6 * 2)))


def test_lemma_normalisation_and_display_form():
    table = index_of(["Housing associations matter.", "A housing association.", "Housing Associations."]
                     ).table(min_freq=1).set_index("term")
    assert table.loc["housing associations", "members"] == "housing associations (2), housing association (1)"
    assert table.loc["housing associations", "count"] == 3
    tie = index_of(["Housing associations.", "Housing association."]).table(min_freq=1)
    assert tie["term"].tolist() == ["housing association"]        # tie: alphabetical
    assert tie.index.tolist() == ["housing association"]           # the lemma key


def test_sentence_and_turn_boundaries_are_respected():
    # a turn ending in "social" and the next starting with "purpose": no "social purpose"
    table = index_of(["Housing is social", "purpose drives us"]).table(min_freq=1)
    assert "social purpose" not in set(table["term"])
    seg = segments(["social purpose matters"])
    tok = tokenize(seg["text"].tolist(), seg["segment_id"].tolist())
    tok.sent_start[1] = True                 # a sentence starts at "purpose"
    assert TermIndex(tok, seg).table(min_freq=1)["term"].tolist() == ["purpose matters"]


def test_interviewer_turns_are_excluded():
    idx = index_of(["Social purpose?", "Social purpose matters."], interviewer=[True, False])
    assert idx.table(ALL, min_freq=1).set_index("term").loc["social purpose", "count"] == 1
    assert idx.words(ALL) == 3


WORDS = st.sampled_from(["social", "purpose", "housing", "crisis", "the", "of", "to", "right",
                         "buy", ".", ",", "Housing", "crises"])
DOCS = st.lists(st.lists(WORDS, min_size=1, max_size=14).map(" ".join), min_size=1, max_size=4)


@settings(max_examples=25, deadline=None)
@given(DOCS)
def test_a_term_never_outnumbers_its_parts(texts):
    idx = index_of(texts)
    lemma_counts = pd.Series(idx.lemma_names[idx.lemma]).value_counts()
    for key, count in idx.table(min_freq=1)["count"].items():
        assert all(count <= lemma_counts[w] for w in key.split())


@settings(max_examples=15, deadline=None)
@given(DOCS, st.randoms(use_true_random=False))
def test_document_order_does_not_matter(texts, rnd):
    shuffled = list(texts)
    rnd.shuffle(shuffled)
    a, b = index_of(texts).table(min_freq=1), index_of(shuffled).table(min_freq=1)
    # segment and document ids follow the position, so only the texts move
    pd.testing.assert_frame_equal(a, b)


def test_merge_terms_longest_first_and_counts():
    seg = segments(["Adult social care. Social care matters.", "Social purposes and social care."])
    tok = tokenize(seg["text"].tolist(), seg["segment_id"].tolist())
    merged = merge_terms(tok, ["social care", "Adult social care", "social purpose", "right to buy"])
    assert merged.counts(tok, np.array([True, True])).to_dict() == {
        "social care": 2, "adult social care": 1, "social purpose": 1, "right to buy": 0}
    assert merged.counts(tok, np.array([True, False])).to_dict()["social care"] == 1
    assert int(merged.covered.sum()) == 3 + 2 + 2 + 2


def test_merged_frequency_table_counts_terms_as_items():
    from hcrisis.text.freq import FreqCounter, FreqSettings

    seg = segments(["Social purpose matters and purpose matters.", "Social housing."])
    tok = tokenize(seg["text"].tolist(), seg["segment_id"].tolist())
    counter = FreqCounter(tok, seg, FreqSettings())
    table = merged_frequency_table(counter, ALL, ["social purpose"])
    # counted words left: matters 2, purpose 1, social 1, housing 1; plus the term once = 6
    assert table[["word", "count"]].values.tolist() == [
        ["matters", 2], ["housing", 1], ["purpose", 1], ["social", 1], ["social purpose", 1]]
    assert table.attrs["denominator"] == 6
    assert table["weighted_percentage"].sum() == pytest.approx(100)


def test_term_keyness_uses_word_totals():
    idx = index_of(["Social purpose. Social purpose. Other words here.", "Social purpose matters."],
                   docs=["d0", "d1"])
    a, b = np.array([True, False]), np.array([False, True])
    table = term_keyness(idx, a, b, TermSettings(min_freq=1), labels=("a", "b")).set_index("item")
    # A: 2 of 7 words, B: 1 of 3 words
    assert table.loc["social purpose", ["count_a", "count_b"]].tolist() == [2, 1]
    assert table.loc["social purpose", "rate_a"] == pytest.approx(2 / 7 * 10_000)
    assert table.loc["social purpose", "favours"] == "b"


CODEBOOK = """\
codebook: t
codes:
  - id: purpose
    label: Purpose
    rules: {phrases: [social purpose]}
  - id: housing
    label: Housing
    rules: {keywords: ["hous*"]}
"""


def test_coverage_lists_uncovered_terms_and_codes(tmp_path):
    table = index_of(["Social purpose. Social purpose. Housing crisis. Housing crisis. Right to buy. "
                      "Right to buy."]).table(min_freq=2)
    uncovered, per_code = coverage(table, write(tmp_path / "cb.yaml", CODEBOOK))
    assert uncovered[["term", "partly_matched_by"]].values.tolist() == [
        ["right to buy", ""], ["housing crisis", "housing"]]
    assert per_code[["code_id", "terms_covered", "terms"]].values.tolist() == [
        ["purpose", 1, "social purpose (2)"], ["housing", 0, ""]]


def test_write_terms_golden(tmp_path):
    idx = index_of(CARE, **CARE_KW)
    table = idx.table(min_freq=1)
    written = write_terms(table, tmp_path, Segment("all", "All participants"), TermSettings(min_freq=1))
    assert written[0].read_text() == (GOLDEN / "terms_all.csv").read_text()


def test_settings_reject_unknown_keys(tmp_path):
    from hcrisis.study.model import load_study
    study = write(tmp_path / "s.yaml", "study: s\ncorpus: c\nsettings:\n  terms: {min_frq: 3}\n")
    with pytest.raises(InputError, match="unknown settings.terms key"):
        s = load_study(study)
        TermSettings.from_mapping(s.settings("terms"), s.path)
    with pytest.raises(InputError, match="at least 1"):
        TermSettings.from_mapping({}, min_freq=0)


# ---------------------------------------------------------------- CLI and reproduction step
def corpus(tmp_path: Path, kind: str = "interview") -> Path:
    root = tmp_path / "corpus"
    write(root / "manifest.yaml", """\
name: t
attributes:
  sector: {}
documents:
  - {id: i1, file: i1.txt, kind: KIND, attributes: {sector: housing association}, participants: [P1]}
  - {id: i2, file: i2.txt, kind: KIND, attributes: {sector: local authority}, participants: [P2]}
  - {id: i3, file: i3.txt, kind: KIND, attributes: {sector: ALMO}, participants: [P3]}
participants: [{participant_id: P1}, {participant_id: P2}, {participant_id: P3}]
""".replace("KIND", kind))
    write(root / "i1.txt", "Interviewer: Social purpose?\nR: Social purpose matters. Our social purpose.\n")
    write(root / "i2.txt", "Interviewer: And housing?\nR: Housing crisis. Social housing and housing crisis.\n")
    write(root / "i3.txt", "Interviewer: Values?\nR: Social purpose and housing crisis matter here too.\n")
    study = write(tmp_path / "study.yaml", f"""\
study: t
base_folder: /
corpus: {root}
outputs: {tmp_path / 'outputs'}
segments:
  - {{id: all, label: All}}
  - {{id: ha, label: HA, where: {{sector: housing association}}}}
  - {{id: la, label: LA, where: {{sector: local authority}}}}
  - {{id: almo, label: ALMO, where: {{sector: ALMO}}}}
""")
    return study


def test_cli_terms_writes_table(tmp_path):
    study = corpus(tmp_path)
    out = tmp_path / "tables"
    result = CliRunner().invoke(app, ["terms", "--study", str(study), "--out", str(out)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(app, ["terms", "--study", str(study), "--out", str(out),
                                      "--segment", "ha", "--segment", "la", "--compare"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "terms_all.csv")
    assert table[["term", "count", "documents"]].values.tolist() == [
        ["housing crisis", 3, 2], ["social purpose", 3, 2]]     # a tie: alphabetical
    keyness = pd.read_csv(out / "terms_keyness_ha_vs_la.csv")
    assert keyness.set_index("item")["favours"].to_dict() == {"social purpose": "ha", "housing crisis": "la"}


def test_cli_terms_errors(tmp_path):
    study = corpus(tmp_path)
    result = CliRunner().invoke(app, ["terms", "--study", str(study), "--model", "xx_not_installed"])
    assert result.exit_code == 1
    assert result.output == ("Error: spaCy pipeline 'xx_not_installed' is not installed (install it or "
                             "leave out --model to use the blank English pipeline)\n")
    result = CliRunner().invoke(app, ["terms", str(tmp_path / "corpus"), "--segment", "la"])
    assert result.exit_code == 1
    assert result.output == ("Error: no segment 'la' without a study file (pass --study FILE declaring "
                             "it, or select with --where ATTR=VALUE or --by ATTR)\n")
    result = CliRunner().invoke(app, ["terms", str(tmp_path / "corpus"), "--compare"])
    assert result.exit_code == 1
    assert result.output == ("Error: term keyness needs two segments, not 1 (select two, e.g. "
                             "--where sector=x --where sector=y --compare)\n")


def test_cli_terms_uncovered(tmp_path):
    study = corpus(tmp_path)
    out = tmp_path / "tables"
    result = CliRunner().invoke(app, ["terms", "--study", str(study), "--out", str(out),
                                      "--uncovered", str(write(tmp_path / "cb.yaml", CODEBOOK))])
    assert result.exit_code == 0, result.output
    assert "all: 1 term(s) matched by no code" in result.output
    assert pd.read_csv(out / "terms_uncovered_all.csv")["term"].tolist() == ["housing crisis"]


SOCIAL_PURPOSE = """\
steps:
  - {id: terms, type: terms}
  - id: published
    type: checks
    settings:
      min_counted_words: 1
      checks:
        - {type: count, quantity: social purpose in HA, segment: ha, term: social purpose, published: 42}
        - {type: order, quantity: social purpose HA > ALMO > LA,
           items: [{segment: ha, term: social purpose}, {segment: almo, term: social purpose},
                   {segment: la, term: social purpose}]}
  - {id: report, type: report}
"""


def test_declared_term_checks_and_terms_step(tmp_path):
    from hcrisis.study.runner import DIFFERS, REPRODUCED, reproduce

    study = corpus(tmp_path)
    run = reproduce(write(study, study.read_text() + SOCIAL_PURPOSE), cache=False)
    rows = {(c.quantity, c.computed, c.status) for c in run.checks}
    # counted words (no stop words): HA 5 (social purpose matters social purpose: the term twice),
    # ALMO 5 (social purpose housing crisis matter: once), LA none
    assert ("social purpose in HA", "2 (4000.0 per 10,000 counted words)", DIFFERS) in rows
    (order,) = [r for r in rows if r[0] == "social purpose HA > ALMO > LA"]
    assert order[2] == REPRODUCED and order[1].startswith("ha social purpose: 2 (4000.0/10k); "
                                                          "almo social purpose: 1 (2000.0/10k); la")
    assert (tmp_path / "outputs" / "tables" / "terms_ha.csv").exists()
    assert "Top 30 terms: all" in (tmp_path / "outputs" / "reproduction.md").read_text()


def test_accepted_terms_from_settings_or_extracted():
    from hcrisis.text.terms import accepted_terms

    idx = index_of(CARE, **CARE_KW)
    # only social care has G2 >= 10.83 (22.07; the others 7.53 and 4.68)
    assert accepted_terms(idx.tokens, idx.segments, TermSettings(min_freq=1)) == ["social care"]
    assert accepted_terms(idx.tokens, idx.segments, TermSettings(accepted=("right to buy",))) == ["right to buy"]


def accepting(study: Path, terms: str) -> Path:
    """The study file with `settings.terms.accepted: [terms]`."""
    return write(study, study.read_text() + f"settings:\n  terms: {{accepted: [{terms}]}}\n")


@pytest.mark.parametrize("command,table", [("freq", "freq_ha.csv"), ("cloud", "cloud_ha_terms.csv")])
def test_cli_freq_and_cloud_count_terms_as_items(tmp_path, command, table):
    study = accepting(corpus(tmp_path), "social purpose")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [command, "--study", str(study), "--segment", "ha", "--terms",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    # HA participant: "Social purpose matters. Our social purpose." -> the term twice, matters once
    assert pd.read_csv(out / table)[["word", "count"]].values.tolist() == [["social purpose", 2], ["matters", 1]]


def test_cli_cloud_terms_draws_no_comparison(tmp_path):
    result = CliRunner().invoke(app, ["cloud", "--study", str(corpus(tmp_path)), "--terms",
                                      "--segment", "ha", "--segment", "la", "--compare"])
    assert result.exit_code == 1
    assert result.output == ("Error: --terms draws frequency clouds, not comparisons "
                             "(leave out --compare or --terms)\n")


def test_noun_chunks_from_a_parser_are_candidates_and_counted():
    from spacy.language import Language

    from hcrisis.text.terms import noun_chunk_spans

    @Language.component("test_terms_fake_parser")
    def fake_parser(doc):
        # "The social purpose matters": "purpose" is the root noun, "The" and "social" its dependents
        root = doc[2]
        for t in doc:
            t.pos_ = {"the": "DET", "purpose": "NOUN"}.get(t.lower_, "ADJ")
            if t.i != root.i:
                t.head, t.dep_ = root, {"the": "det"}.get(t.lower_, "amod" if t.i < root.i else "dep")
        root.dep_ = "ROOT"
        return doc

    parser = build_pipeline()
    parser.add_pipe("test_terms_fake_parser")
    seg = segments(["The social purpose matters"])
    tok = tokenize(seg["text"].tolist(), seg["segment_id"].tolist())
    chunks = noun_chunk_spans(tok, parser)
    assert chunks.tolist() == [[1, 2]]       # "The social purpose" trimmed of "The"
    table = TermIndex(tok, seg, chunks=chunks).table(min_freq=1).set_index("term")
    assert table["noun_chunks"].to_dict() == {"social purpose matters": 0, "purpose matters": 0,
                                              "social purpose": 1}


def test_surface_forms_keep_the_written_spacing():
    seg = segments(["A master's degree helps.", "Her master's degree."])
    tok = tokenize(seg["text"].tolist(), seg["segment_id"].tolist())
    table = TermIndex(tok, seg).table(min_freq=2).set_index("term")
    assert table["members"].to_dict() == {"master's degree": "master's degree (2)"}
    assert table.index.tolist() == ["master's degree"]
    assert merge_terms(tok, ["Master's degree"]).counts(tok, np.array([True, True])).tolist() == [2]


def test_reproduce_step_draws_the_used_terms_cloud_of_all_participants(tmp_path):
    from hcrisis.study.runner import reproduce

    study = corpus(tmp_path)
    write(study, study.read_text().replace("{id: all, label: All}", "{id: all, label: All, figure: '5.1'}")
          + "steps:\n  - {id: terms, type: terms}\n  - {id: report, type: report}\n")
    reproduce(accepting(study, "social purpose"), cache=False)
    figures = tmp_path / "outputs" / "figures"
    assert (figures / "fig5_1_all_terms.png").exists() and (figures / "fig5_1_all_terms.svg").exists()
    drawn = pd.read_csv(figures / "fig5_1_all_terms.csv")
    # participants: housing 4 (i2 3, i3 1), crisis 3, social purpose 3 (i1 2, i3 1) as one item
    assert drawn[["word", "count"]].values.tolist()[:3] == [["housing", 4], ["crisis", 3], ["social purpose", 3]]
    assert "words with 1 multi-word terms counted as single items" in \
        (tmp_path / "outputs" / "reproduction.md").read_text()
