"""Agreement statistics and `hcrisis agree` on small hand-checkable codings."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from hcrisis.coding.agreement import (NONE, agreement, binary_scores, cohen_kappa, compare,
                           krippendorff_alpha_nominal, load_code_tree, run_agree, section_codes,
                           reused_table, sentence_units, split_keys, split_of, text_key,
                           to_sentences)
from hcrisis.cli import app
from hcrisis.ingest.corpus import load_corpus
from hcrisis.files import sha256_file
from hcrisis.study.runner import DIFFERS, REPRODUCED
from hcrisis.text.tokens import tokenize_segments

from conftest import step_context, write

runner = CliRunner()

# Two themes; "a" has children a1 (6.1) and a2 (6.2, with sub-section 6.2.1 of its own child a21).
CODEBOOK = """\
codebook: tiny
version: "1.0"
codes:
  - id: a
    label: Theme A
    thesis_sections: ["5.2"]
    codes:
      - id: a1
        label: A one
        thesis_sections: ["6.1"]
        rules: {keywords: [tenant]}
      - id: a2
        label: A two
        thesis_sections: ["6.2", "9.1"]
        rules: {keywords: [arrears]}
        codes:
          - id: a21
            label: A two one
            thesis_sections: ["6.2.1"]
            rules: {keywords: [rent]}
  - id: b
    label: Theme B
    thesis_sections: ["5.3", "6.2.1"]
    rules: {keywords: [value]}
"""


@pytest.fixture
def tree(tmp_path):
    return load_code_tree(write(tmp_path / "codebook.yaml", CODEBOOK))


@pytest.fixture
def excerpts(tmp_path) -> Path:
    """A table corpus of four excerpts with the section each sits under."""
    root = tmp_path / "excerpts"
    write(root / "manifest.yaml", """\
name: excerpts
attributes:
  section: {}
tables:
  - id: quotes
    file: excerpts.csv
    kind: published excerpt
    text_column: text
    id_column: excerpt_id
    attribute_columns: [section]
""")
    write(root / "excerpts.csv", "excerpt_id,section,text\n"
          "e1,6.1,Tenants come first. Always.\n"
          "e2,6.2.1,Rent arrears rise.\n"
          "e3,5. 3,Values matter here.\n"
          "e4,6,No code for this one.\n")
    return root


# ---------------------------------------------------------------- statistics
def test_kappa_hand_example():
    # 10 units, labels x/y. Agreement on 7 -> p_o = 0.7. Rater a: x 6, y 4; rater b: x 5, y 5.
    # p_e = 0.6*0.5 + 0.4*0.5 = 0.5, kappa = (0.7 - 0.5) / 0.5 = 0.4.
    a = list("xxxxxxyyyy")
    b = list("xxxxyyyyxy")
    assert cohen_kappa(a, b) == pytest.approx(0.4)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from("abc")), min_size=2, max_size=40))
def test_kappa_matches_scikit_learn(pairs):
    from sklearn.metrics import cohen_kappa_score

    a, b = [p[0] for p in pairs], [p[1] for p in pairs]
    ours = cohen_kappa(a, b)
    if math.isnan(ours):
        assert len(set(a) | set(b)) == 1
    else:
        assert ours == pytest.approx(cohen_kappa_score(a, b))


def test_alpha_binary_worked_example():
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", binary data, 2 observers.
    # Coincidences: o_00 = 10 (5 units 0-0, both orders), o_11 = 2, o_01 = o_10 = 4.
    # n_0 = 14, n_1 = 6, n = 20; alpha = 1 - (n-1) * (o_01 + o_10) / (2 n_0 n_1)
    #       = 1 - 19 * 8 / 168 = 0.0952.
    a = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    b = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    assert krippendorff_alpha_nominal([a, b]) == pytest.approx(1 - 19 * 8 / 168)
    assert krippendorff_alpha_nominal([a, b]) == pytest.approx(0.095, abs=5e-4)


def test_alpha_nominal_four_coders_missing_values():
    # Krippendorff (2011) / Wikipedia's example: 4 observers, 12 units, missing values; the
    # published nominal alpha is 0.743. Unit 12 has one value (not pairable) and is dropped.
    # Disagreeing units: unit 2 (values 2,2,3; m=3) adds 2*2/2 = 2 to o_23 + o_32; unit 6
    # (1,2,3,4; m=4) adds 12/3 = 4 spread over the six pairs; unit 8 (1,1,2,1; m=4) adds
    # 2*3/3 = 2; so sum_{c!=k} o_ck = 8. Pairable values n = 40 with n_1..n_5 = 9, 13, 10, 5, 3,
    # so sum_{c!=k} n_c n_k = 40^2 - (81 + 169 + 100 + 25 + 9) = 1216 and
    # alpha = 1 - 39 * 8 / 1216 = 0.7434.
    n = None
    data = [[1, 2, 3, 3, 2, 1, 4, 1, 2, n, n, n],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, n, 3],
            [n, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, n],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, n]]
    assert krippendorff_alpha_nominal(data) == pytest.approx(1 - 39 * 8 / 1216)
    assert krippendorff_alpha_nominal(data) == pytest.approx(0.743, abs=5e-4)


def test_alpha_edge_cases():
    assert krippendorff_alpha_nominal([["x", "y"], ["x", "y"]]) == 1.0
    assert math.isnan(krippendorff_alpha_nominal([["x", "x"], ["x", "x"]]))
    assert math.isnan(krippendorff_alpha_nominal([["x", None], [None, "y"]]))


def alpha_by_pairs(data) -> float:
    """Krippendorff's nominal alpha straight from its definition, pair by pair: each ordered
    pair of values from different coders of a unit adds 1 / (m_u - 1) to its coincidence."""
    from collections import Counter

    o = Counter()
    for column in zip(*data):
        present = [v for v in column if v is not None]
        for i, c in enumerate(present):
            for j, k in enumerate(present):
                if i != j:
                    o[c, k] += 1 / (len(present) - 1)
    n_c = Counter()
    for (c, _), w in o.items():
        n_c[c] += w
    n = sum(n_c.values())
    expected = sum(n_c[c] * n_c[k] for c in n_c for k in n_c if c != k)
    if n < 2 or expected == 0:
        return float("nan")
    return 1 - (n - 1) * sum(w for (c, k), w in o.items() if c != k) / expected


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5).flatmap(lambda coders: st.lists(
    st.lists(st.one_of(st.none(), st.sampled_from("abcd")), min_size=coders, max_size=coders), max_size=30)))
def test_alpha_equals_its_definition_pair_by_pair(units):
    data = [list(coder) for coder in zip(*units)] if units else []
    ours, reference = krippendorff_alpha_nominal(data), alpha_by_pairs(data)
    if math.isnan(reference):
        assert math.isnan(ours)
    elif len(data) == 2:     # two coders: every coincidence is a whole number, so no rounding at all
        assert ours == reference
    else:
        assert ours == pytest.approx(reference, rel=1e-12, abs=1e-12)


def test_binary_scores_literal():
    gold = np.array([1, 1, 0, 0, 1], dtype=bool)
    pred = np.array([1, 0, 1, 0, 1], dtype=bool)
    s = binary_scores(gold, pred)
    assert (s["tp"], s["fp"], s["fn"]) == (2, 1, 1)
    assert s["precision"] == pytest.approx(2 / 3) and s["recall"] == pytest.approx(2 / 3)
    assert s["f1"] == pytest.approx(2 / 3)
    # p_o = 3/5; p_e = 3/5*3/5 + 2/5*2/5 = 13/25; kappa = (15/25 - 13/25) / (12/25) = 1/6
    assert s["kappa"] == pytest.approx(1 / 6)


# ---------------------------------------------------------------- sections and tree
def test_section_mapping(tree):
    assert section_codes("6.1", tree) == ["a1"]
    assert section_codes("6.2.1", tree) == ["a21"]          # deepest of a21 (depth 2) and b (depth 0)
    assert section_codes("6.2.1.4", tree) == ["a21"]        # nearest listed ancestor
    assert section_codes("5. 3", tree) == ["b"]             # spaces in the thesis's numbering
    assert section_codes("6", tree) == []                   # never mapped down to sub-sections
    assert tree.theme("a21") == "a" and tree.depth("a21") == 2


def test_split_is_fixed():
    assert [split_of(u) for u in ("e1", "e2", "e3", "e4")] == [split_of(u) for u in ("e1", "e2", "e3", "e4")]
    halves = {split_of(f"x{i}") for i in range(20)}
    assert halves == {"read", "held-out"}


# ---------------------------------------------------------------- comparison
PRED = pd.DataFrame({"segment_id": ["u1", "u1", "u2", "u3"],
                     "code_id": ["a1", "b", "b", "a2"],
                     "score": [1.0, 3.0, 2.0, 1.0]})
GOLD = pd.DataFrame({"segment_id": ["u1", "u2", "u3", "u4"], "code_id": ["a1", "a21", "a2", "b"]})


def test_compare_code_level(tree):
    cmp = compare(PRED, GOLD, ["u1", "u2", "u3", "u4"], tree, "code")
    assert cmp.codes == ["a1", "a2", "a21", "b"]
    assert cmp.top1 == ["b", "b", "a2", NONE]               # u1: b scores 3 > a1's 1
    res = agreement(PRED, GOLD, tree, units=["u1", "u2", "u3", "u4"], levels=["code"])
    row = res.summary[res.summary["split"] == "all"].iloc[0]
    assert row["top1"] == pytest.approx(1 / 4)              # only u3
    assert row["recall"] == pytest.approx(2 / 4)            # a1 on u1, a2 on u3
    assert row["codes_per_unit"] == pytest.approx(4 / 4)
    per = res.per_code["code"].set_index("code_id")
    assert per.loc["b", ["tp", "fp", "fn"]].tolist() == [0, 2, 1]
    assert per.loc["a1", "precision"] == 1.0


def test_compare_theme_level(tree):
    res = agreement(PRED, GOLD, tree, units=["u1", "u2", "u3", "u4"], levels=["theme"])
    row = res.summary[res.summary["split"] == "all"].iloc[0]
    # themes: gold u1 a, u2 a, u3 a, u4 b; top-1 u1 b, u2 b, u3 a, u4 none
    assert row["top1"] == pytest.approx(1 / 4)
    assert row["recall"] == pytest.approx(2 / 4)            # u1 (a among a, b) and u3
    assert row["codes_per_unit"] == pytest.approx((2 + 1 + 1 + 0) / 4)
    # kappa on (gold, top1) = (a,b) (a,b) (a,a) (b,none): p_o = 1/4,
    # p_e = P(a)gold*P(a)top = 3/4*1/4 + P(b): 1/4*2/4 = 3/16 + 2/16 = 5/16 -> (4/16-5/16)/(11/16) = -1/11
    assert row["kappa_top1"] == pytest.approx(-1 / 11)
    confusion = res.confusion.set_index("gold_theme")
    assert confusion.loc["a"].tolist() == [1, 2, 0]
    assert confusion.loc["b"].tolist() == [0, 0, 1]


# ---------------------------------------------------------------- corpus, sentences, CLI
def test_thesis_sections_gold_with_baseline(excerpts, tree, tmp_path):
    codings = write(tmp_path / "codings.csv", "segment_id,code_id,score\ne1,a1,2\ne2,b,1\ne3,b,1\n")
    res = run_agree(codings, "thesis-sections", corpus=excerpts, codebook=tree.path, level="theme",
                    out=tmp_path / "out")
    row = res.summary[(res.summary["split"] == "all") & (res.summary["method"] == "codebook")].iloc[0]
    # gold themes: e1 a, e2 a (a21), e3 b; e4 (section 6) unmapped. Top-1: e1 a, e2 b, e3 b.
    assert (row["gold_units"], row["top1"]) == (3, pytest.approx(2 / 3))
    assert res.about_gold["sections"].to_dict("records") == [
        {"section": "5.3", "excerpts": 1, "codes": "b"}, {"section": "6", "excerpts": 1, "codes": NONE},
        {"section": "6.1", "excerpts": 1, "codes": "a1"}, {"section": "6.2.1", "excerpts": 1, "codes": "a21"}]
    assert (tmp_path / "out" / "agreement.csv").exists()
    assert (tmp_path / "out" / "agreement_confusion.md").exists()
    assert (tmp_path / "out" / "agreement_themes.csv").read_text().startswith("code_id,label,gold_n")


def test_sentence_units(excerpts):
    segs = load_corpus(excerpts).segments
    sents = sentence_units(tokenize_segments(segs))
    e1 = sents[sents["segment_id"] == "e1"]
    assert e1[["unit_id", "start", "end"]].values.tolist() == [["e1#s0", 0, 19], ["e1#s1", 20, 27]]
    codings = pd.DataFrame({"segment_id": ["e1", "e1"], "code_id": ["a1", "b"], "start": [0, 21], "end": [6, 25]})
    spread = to_sentences(codings, sents)
    assert spread.values.tolist() == [["e1#s0", "a1"], ["e1#s1", "b"]]


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_cli_agree_csv_gold(tmp_path, tree):
    pred = write(tmp_path / "pred.csv", "segment_id,code_id\nu1,a1\nu2,b\n")
    gold = write(tmp_path / "gold.csv", "segment_id,code_id\nu1,a1\nu2,a2\n")
    result = run("agree", "--codings", pred, "--gold", gold, "--codebook", tree.path, "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    assert "wrote agreement tables" in result.output
    summary = pd.read_csv(tmp_path / "o" / "agreement.csv")
    assert summary[(summary["level"] == "code") & (summary["split"] == "all")]["top1"].item() == 0.5


def test_cli_agree_errors(tmp_path, tree):
    bad = write(tmp_path / "bad.csv", "segment_id,code\nu1,a1\n")
    result = run("agree", "--codings", bad, "--gold", bad, "--codebook", tree.path)
    assert result.exit_code == 1
    assert result.output == (f"Error: {bad}: codings table lacks column(s) code_id (give a CSV with "
                             "segment_id and code_id columns, as 'hcrisis code' writes)\n")
    unknown = write(tmp_path / "unknown.csv", "segment_id,code_id\nu1,zz\n")
    result = run("agree", "--codings", unknown, "--gold", unknown, "--codebook", tree.path)
    assert result.output == (f"Error: {unknown}: code id(s) not in the codebook: zz (code with "
                             f"{tree.path} or pass the codebook the codings came from)\n")
    ok = write(tmp_path / "ok.csv", "segment_id,code_id\nu1,a1\n")
    result = run("agree", "--codings", ok, "--gold", "thesis-sections", "--codebook", tree.path)
    assert result.exit_code == 1
    assert result.output == ("Error: --gold thesis-sections needs the excerpt corpus (name it: hcrisis agree CORPUS ...)\n")
    result = run("agree", "--codings", ok, "--gold", ok, "--codebook", tree.path, "--level", "x")
    assert result.output == "Error: unknown level 'x' (use --level theme or --level code)\n"
    result = run("agree", "--codings", tmp_path / "none.csv", "--gold", ok, "--codebook", tree.path)
    assert result.exit_code == 1 and "file not found" in result.output


# ---------------------------------------------------------------- reproduce step
def test_step_writes_tables_and_checks(excerpts, tmp_path, tree):
    from hcrisis.thesis.coding import agreement as agreement_step

    codings = pd.DataFrame({"segment_id": ["e1", "e2", "e3"], "code_id": ["a1", "a21", "b"],
                            "score": [1.0, 1.0, 1.0]})
    study = SimpleNamespace(resolve=lambda key: tree.path if key == "codebook" else None)
    ctx = step_context(study, load_corpus(excerpts), tmp_path / "outputs", "thesis.agreement",
                       results={"coding": {"codings": codings}})
    agreement_step(ctx)
    assert ctx.checks == [] and ctx.deferred is not None   # finished once the baseline is fitted
    names = {p.name for p in ctx.deferred()}
    assert {c.status for c in ctx.checks} <= {REPRODUCED, DIFFERS}
    assert len(ctx.checks) == 1
    assert {"agreement.csv", "agreement_codes.csv", "agreement_confusion.csv", "agreement_sections.csv",
            "agreement_reused.csv"} <= names
    assert ctx.sections[0][0] == "Agreement with the author's coding"
    assert ctx.run.inputs == {Path(tree.path).resolve(): sha256_file(tree.path)}   # hashed as read


def test_cli_agree_sentences(excerpts, tree, tmp_path):
    # e1 has two sentences; a1 codes only the first ("Tenants come first." = characters 0-19).
    codings = write(tmp_path / "c.csv", "segment_id,code_id,start,end\ne1,a1,0,19\ne2,a21,,\n")
    result = run("agree", "--codings", codings, "--gold", "thesis-sections", excerpts, "--codebook", tree.path,
                 "--unit", "sentence", "--level", "code", "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    summary = pd.read_csv(tmp_path / "o" / "agreement.csv")
    row = summary[summary["split"] == "all"].iloc[0]
    # sentences with gold: e1#s0, e1#s1 (a1), e2#s0 (a21), e3#s0 (b); top-1 right on e1#s0 and e2#s0
    assert (row["unit"], row["gold_units"], row["top1"]) == ("sentence", 4, 0.5)


# ---------------------------------------------------------------- transcripts
@pytest.fixture
def two_turns(tmp_path) -> Path:
    """A focus group of two turns: the second turn's text starts 38 characters into the file."""
    root = tmp_path / "fg"
    write(root / "manifest.yaml", """\
name: fg
documents:
  - id: fg1
    file: fg1.txt
    kind: focus group
    speakers: {P1: F01, P2: F02}
""")
    # Turn texts: "Tenants first. Values matter." (fg1:0000, file offsets 4-33) and
    # "Rent arrears rise. Tenants too." (fg1:0001, file offsets 38-69).
    write(root / "fg1.txt", "P1: Tenants first. Values matter.\nP2: Rent arrears rise. Tenants too.\n")
    return root


def test_sentence_units_transcript_offsets(two_turns):
    segs = load_corpus(two_turns).segments
    assert segs["start"].tolist() == [4, 38]
    sents = sentence_units(tokenize_segments(segs), segs)
    assert sents.values.tolist() == [
        ["fg1:0000#s0", "fg1:0000", 0, 14, 4, 18], ["fg1:0000#s1", "fg1:0000", 15, 29, 19, 33],
        ["fg1:0001#s0", "fg1:0001", 0, 18, 38, 56], ["fg1:0001#s1", "fg1:0001", 19, 31, 57, 69]]
    text = (two_turns / "fg1.txt").read_text()
    assert [text[a:b] for a, b in zip(sents["doc_start"], sents["doc_end"])] == [
        "Tenants first.", "Values matter.", "Rent arrears rise.", "Tenants too."]
    # Codings carry offsets in their turn's text: the second turn's start again at 0.
    codings = pd.DataFrame({"segment_id": ["fg1:0001", "fg1:0001"], "code_id": ["a21", "a1"],
                            "start": [0, 19], "end": [18, 31]})
    assert to_sentences(codings, sents).values.tolist() == [["fg1:0001#s0", "a21"], ["fg1:0001#s1", "a1"]]


def test_cli_code_then_agree_by_sentence_on_transcript(two_turns, tmp_path):
    # Code by sentence with `hcrisis code` (turn-relative offsets), then compare with a hand coding.
    codebook = write(tmp_path / "sentences.yaml", CODEBOOK.replace('version: "1.0"\n',
                                                                    'version: "1.0"\ndefaults: {unit: sentence}\n'))
    result = run("code", two_turns, "--codebook", codebook, "--out", tmp_path / "coding")
    assert result.exit_code == 0, result.output
    coded = pd.read_csv(tmp_path / "coding" / "codings.csv")
    assert sorted(zip(coded["segment_id"], coded["unit"], coded["code_id"], coded["start"], coded["end"])) == [
        ("fg1:0000", "s0", "a1", 0, 14), ("fg1:0000", "s1", "b", 15, 29),
        ("fg1:0001", "s0", "a2", 0, 18), ("fg1:0001", "s0", "a21", 0, 18), ("fg1:0001", "s1", "a1", 19, 31)]
    gold = write(tmp_path / "gold.csv", "segment_id,code_id,start,end\n"
                 "fg1:0000,a1,0,14\nfg1:0000,b,15,29\nfg1:0001,a21,0,18\nfg1:0001,a1,19,31\n")
    result = run("agree", "--codings", tmp_path / "coding" / "codings.csv", "--gold", gold, two_turns,
                 "--codebook", codebook, "--unit", "sentence", "--level", "theme", "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    summary = pd.read_csv(tmp_path / "o" / "agreement.csv")
    row = summary[summary["split"] == "all"].iloc[0]
    # four sentences, each with one gold theme (a, b, a, a) and the same single predicted theme
    assert (row["units"], row["gold_units"], row["top1"], row["codes_per_unit"]) == (4, 4, 1.0, 1.0)
    per_theme = pd.read_csv(tmp_path / "o" / "agreement_themes.csv").set_index("code_id")
    assert per_theme.loc[["a", "b"], ["gold_n", "pred_n", "tp"]].values.tolist() == [[3, 3, 3], [1, 1, 1]]


def test_reused_quotation_stays_in_the_read_half():
    # The same passage quoted under two sections, the second copy with a longer opening: their
    # text keys hash to different halves, but whoever read one has read the other.
    quote = "we need leaders who can listen to staff and tenants and explain the hard choices that follow"
    segs = pd.DataFrame({"segment_id": ["q1", "q2", "q3"],
                         "text": [quote, "As I said, " + quote, "Tenants first and always, whatever the board says about the budget this year."]})
    assert [split_of(text_key(t)) for t in segs["text"]] == ["held-out", "read", "read"]
    keys = split_keys(segs)
    assert keys == {"q1": text_key(segs["text"][1]), "q2": text_key(segs["text"][1]), "q3": text_key(segs["text"][2])}
    assert {s: split_of(k) for s, k in keys.items()} == {"q1": "read", "q2": "read", "q3": "read"}
    # below the overlap threshold (a shared clause only) each keeps its own key
    other = segs.assign(text=[quote, "As I said, explain the hard choices that follow, but first the budget "
                                     "and the repairs and the new homes we promised the council last spring", segs["text"][2]])
    assert split_keys(other)["q1"] == text_key(quote)


def test_reused_table_places_each_copy(tree):
    # Two passages quoted twice: the first under 6.1 (a1) and 6.2.1 (its deepest code a21), both in
    # theme a; the second under 5.3 (b) and 9.1 (a2, theme a). A passage quoted once is not listed.
    quote = "we need leaders who can listen to staff and tenants and explain the hard choices that follow"
    other = "the rent cut took four years of our plans away and nobody in government asked us about it"
    segs = pd.DataFrame({"segment_id": ["q1", "q2", "q3", "q4", "q5"],
                         "section": ["6.1", "6.2.1", "5.3", "9.1", "7"],
                         "text": [quote, "As I said, " + quote, other, "Well, " + other, "Tenants first."]})
    assert reused_table(segs, tree).to_dict("list") == {
        "passage": [1, 1, 2, 2], "segment_id": ["q1", "q2", "q3", "q4"], "section": ["6.1", "6.2.1", "5.3", "9.1"],
        "themes": ["a", "a", "b", "a"], "codes": ["a1", "a21", "b", "a2"],
        "same_theme": [True, True, False, False]}
