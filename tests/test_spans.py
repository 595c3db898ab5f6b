"""Span-level gold for `hcrisis agree`: codings placed in sources, compared by character."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import write
from hcrisis.cli import app
from hcrisis.coding.agreement import cohen_kappa
from hcrisis.coding.spans import intersect, kappa_from_counts, merge, subtract, total
from hcrisis.exchange.positions import from_units, lf_offsets, to_units

runner = CliRunner()


@pytest.fixture
def span_case(tmp_path: Path) -> Path:
    """d1: 'Q: Why?' (interviewer) then 'one two three four five' at 11-34 (23 characters)."""
    write(tmp_path / "c" / "manifest.yaml", "name: c\ndocuments:\n  - {id: d1, file: d1.txt, kind: interview, "
          "participants: [P1]}\n")
    write(tmp_path / "c" / "d1.txt", "Q: Why?\nA: one two three four five\n")
    write(tmp_path / "cb.yaml", "codebook: t\ncodes:\n  - {id: x, label: X, rules: {keywords: [one]}}\n"
          "  - {id: y, label: Y, rules: {keywords: [two]}}\n")
    # the gold, as `hcrisis import qdpx` writes it: x on 'one two' and on 'Q: Wh' (an interviewer
    # turn, which hcrisis never codes: clipped away), y on 'four five'
    write(tmp_path / "gold.csv", "document_id,code_id,start,end,coder,text\nd1,x,11,18,A,one two\n"
          "d1,x,0,5,A,Q: Wh\nd1,y,25,34,A,four five\n")
    # hcrisis's codings: x on 'two three' (4-13 of the segment: 15-24), y on the whole segment
    write(tmp_path / "pred.csv", "segment_id,code_id,start,end\nd1:0001,x,4,13\nd1:0001,y,,\n")
    return tmp_path


def test_span_gold(span_case):
    out = span_case / "out"
    r = runner.invoke(app, ["agree", str(span_case / "c"), "--codings", str(span_case / "pred.csv"),
                            "--gold", str(span_case / "gold.csv"), "--codebook", str(span_case / "cb.yaml"),
                            "--level", "code", "--out", str(out)])
    assert r.exit_code == 0, r.output
    spans = pd.read_csv(out / "agreement_spans.csv")
    # x: gold 11-18 (7), predicted 15-24 (9), both 15-18 (3) of 23 characters:
    #   p_o = (3 + 10) / 23, p_e = (7*9 + 16*14) / 23^2 = 287/529, kappa = 12/242
    # y: gold 25-34 (9), predicted 11-34 (23): p_o = p_e = 9/23, kappa 0
    assert spans[["code_id", "chars", "gold_chars", "pred_chars", "both_chars"]].values.tolist() == [
        ["x", 23, 7, 9, 3], ["y", 23, 9, 23, 9]]
    assert spans["precision"].tolist() == pytest.approx([3 / 9, 9 / 23])
    assert spans["recall"].tolist() == pytest.approx([3 / 7, 1.0])
    assert spans["f1"].tolist() == pytest.approx([6 / 16, 18 / 32])
    assert spans["kappa"].tolist() == pytest.approx([12 / 242, 0.0])
    runs = pd.read_csv(out / "agreement_disagreements.csv")
    assert runs.drop(columns="level").values.tolist() == [
        ["x", "missed", "d1", "d1:0001", 11, 15, "one"], ["x", "extra", "d1", "d1:0001", 18, 24, "three"],
        ["y", "extra", "d1", "d1:0001", 11, 25, "one two three"]]
    # at segment level a segment is coded when a span overlaps it: both codes on d1:0001, both agree
    per_code = pd.read_csv(out / "agreement_codes.csv")
    assert per_code[["code_id", "gold_n", "pred_n", "tp"]].values.tolist() == [["x", 1, 1, 1], ["y", 1, 1, 1]]


def test_span_gold_by_sentence(span_case):
    """With --unit sentence a gold span codes the sentences it overlaps, not its whole segment."""
    write(span_case / "c" / "d1.txt", "Q: Why?\nA: One two. Three four.\n")
    write(span_case / "gold.csv", "document_id,code_id,start,end\nd1,x,20,25\n")      # 'Three'
    write(span_case / "pred.csv", "segment_id,code_id,start,end\nd1:0001,x,0,8\n")    # 'One two.'
    r = runner.invoke(app, ["agree", str(span_case / "c"), "--codings", str(span_case / "pred.csv"),
                            "--gold", str(span_case / "gold.csv"), "--codebook", str(span_case / "cb.yaml"),
                            "--level", "code", "--unit", "sentence", "--out", str(span_case / "o")])
    assert r.exit_code == 0, r.output
    per_code = pd.read_csv(span_case / "o" / "agreement_codes.csv")
    assert per_code[["code_id", "gold_n", "pred_n", "tp"]].values.tolist() == [["x", 1, 1, 0]]


def test_span_kappa_cross_checked(span_case):
    """The same kappas from character arrays, by hcrisis's Cohen's kappa and by scikit-learn's."""
    from sklearn.metrics import cohen_kappa_score

    chars = np.arange(11, 34)
    gold_x, pred_x = (chars >= 11) & (chars < 18), (chars >= 15) & (chars < 24)
    assert cohen_kappa(gold_x.tolist(), pred_x.tolist()) == pytest.approx(12 / 242)
    assert cohen_kappa_score(gold_x, pred_x) == pytest.approx(12 / 242)


def test_span_gold_needs_the_corpus(span_case):
    r = runner.invoke(app, ["agree", "--codings", str(span_case / "pred.csv"), "--gold", str(span_case / "gold.csv"),
                            "--codebook", str(span_case / "cb.yaml"), "--out", str(span_case / "o")])
    assert r.exit_code == 1
    assert r.output == (f"Error: {span_case / 'gold.csv'}: codings placed in documents (document_id, start, end) "
                        "need the corpus (name it: hcrisis agree CORPUS, the folder 'hcrisis import qdpx' wrote)\n")


def test_span_gold_unknown_document(span_case):
    write(span_case / "gold.csv", "document_id,code_id,start,end\nd9,x,0,3\n")
    r = runner.invoke(app, ["agree", str(span_case / "c"), "--codings", str(span_case / "pred.csv"),
                            "--gold", str(span_case / "gold.csv"), "--codebook", str(span_case / "cb.yaml"),
                            "--out", str(span_case / "o")])
    assert r.exit_code == 1
    assert r.output == (f"Error: {span_case / 'gold.csv'}: document(s) not in the corpus: d9 (name the corpus "
                        "the codings were made on: hcrisis agree CORPUS)\n")


# ---------------------------------------------------------------- properties
intervals = st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)).map(sorted).map(tuple), max_size=8)


def _chars(iv) -> set[int]:
    return {c for s, e in iv for c in range(s, e)}


@given(intervals, intervals)
def test_interval_algebra_matches_sets(a, b):
    ma, mb = merge(a), merge(b)
    assert _chars(ma) == _chars(a) and total(ma) == len(_chars(a))
    assert all(e1 < s2 for (_, e1), (s2, _) in zip(ma, ma[1:]))        # sorted, disjoint, not touching
    assert _chars(intersect(ma, mb)) == _chars(a) & _chars(b)
    assert _chars(subtract(ma, mb)) == _chars(a) - _chars(b)


@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=40))
def test_kappa_from_counts_is_cohens_kappa(pairs):
    gold, pred = zip(*pairs)
    both = sum(g and p for g, p in pairs)
    expected = cohen_kappa(list(gold), list(pred))
    got = kappa_from_counts(len(pairs), sum(gold), sum(pred), both)
    assert (np.isnan(expected) and np.isnan(got)) or got == pytest.approx(expected)


text_st = st.text(st.sampled_from(list("ab é\r\n") + ["😀", "🏠", "\U0001F9D1"]), max_size=30)


@settings(max_examples=200)
@given(text_st, st.data())
def test_utf16_positions_round_trip(text, data):
    offsets = data.draw(st.lists(st.integers(0, len(text)), max_size=6))
    units = to_units(offsets, text, "utf16")
    assert units == [len(text[:o].encode("utf-16-le")) // 2 for o in offsets]
    assert from_units(units, text, "utf16") == offsets
    assert from_units(offsets, text, "codepoints") == offsets


@given(text_st, st.data())
def test_crlf_offsets(text, data):
    """An offset into CRLF text, counted in its LF form, points at the same character."""
    offsets = data.draw(st.lists(st.integers(0, len(text)), max_size=6))
    lf = text.replace("\r\n", "\n")
    for o, m in zip(offsets, lf_offsets(offsets, text)):
        if o == 0 or text[o - 1] != "\r" or text[o:o + 1] != "\n":    # not between the CR and LF
            assert lf[m:] == text[o:].replace("\r\n", "\n")
