"""Declared checks (step type `checks`) and the thesis's §5.2 denominator, on a tiny corpus."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import ROOT, write
from freq_corpus import STUDY, make_study
from hcrisis.errors import InputError, SchemaError
from hcrisis.study.model import load_study
from hcrisis.study.runner import NOT_COMPUTABLE, NOT_REPRODUCED, NOT_TESTABLE, REPRODUCED, DIFFERS, reproduce
from hcrisis.thesis import chapter5
from hcrisis.yamlspec import load_validated

CHECKS = """\
min_counted_words: 5
top_words: 1
checks:
  - {type: count, section: "5.2", quantity: people in all, segment: all, words: [people], published: 2964,
     not_computable: needs the transcripts}
  - {type: count, quantity: tenants in ha, segment: ha, words: [tenants], published: 3}
  - {type: count, quantity: participants in ha, segment: ha, of: participants, published: 3}
  - {type: rate, quantity: tenants rate in ha, segment: ha, words: [tenants], published: 3333.3, tolerance: 0.05}
  - {type: order, section: "5.8", quantity: ha says tenants more,
     items: [{segment: ha, words: [tenants]}, {segment: la, words: [tenants]}]}
  - {type: ratio, quantity: tenants ratio, published: 3.0,
     items: [{segment: ha, words: [tenants]}, {segment: la, words: [tenants]}]}
  - {type: order, quantity: people before housing, published: "2,964 vs 2,714",
     items: [{segment: all, words: [people]}, {segment: all, words: [housing]}]}
  - {type: absent, quantity: no customers in la, items: [{segment: la, words: [customers]}]}
  - {type: present, quantity: commercialisation in ha, items: [{segment: ha, words: ["commerciali*"]}]}
  - {type: top, quantity: tenants top of ha, items: [{segment: ha, words: [tenants]}]}
  - {type: order, quantity: communication more in ha,
     items: [{segment: ha, words: ["communicat*"]}, {segment: "rest:ha", words: ["communicat*"]}]}
  - {type: order, quantity: almo values, items: [{segment: almo, words: [values]}, {segment: la, words: [values]}]}
  - {type: order, quantity: uncertainty,
     items: [{segment: la, words: ["uncertain*"]}, {segment: ha, words: ["uncertain*"]}]}
"""
STEPS = """\
steps:
  - {id: published, type: checks, settings: {file: design/checks.yaml}}
  - id: denominator
    type: thesis.denominator
    settings:
      section: "5.2"
      transcripts: 61
      transcripts_note: 53 interviews and 8 focus groups
      values: [{word: people, count: 2964, percent: 6.16}, {word: housing, count: 2714, percent: 5.64}]
  - {id: report, type: report}
"""


def test_implied_denominator_and_rounding_interval():
    mid, lo, hi = chapter5.implied_denominator(2964, 6.16)
    assert mid == pytest.approx(48116.88, abs=0.01)
    assert (lo, hi) == (pytest.approx(2964 / 0.06165), pytest.approx(2964 / 0.06155))


@pytest.fixture
def run(tmp_path):
    study = make_study(tmp_path, STUDY + STEPS)
    write(tmp_path / "design" / "checks.yaml", CHECKS)
    return reproduce(study)


def test_checks(run):
    got = {c.quantity: (c.status, c.computed) for c in run.checks}
    assert got["implied denominator of the published percentages"] == (REPRODUCED, "48,078–48,156 counted words")
    assert got["people in all"] == (NOT_COMPUTABLE, "2 (1111.1 per 10,000 counted words)")
    assert got["tenants in ha"] == (REPRODUCED, "3 (3333.3 per 10,000 counted words)")
    assert got["participants in ha"] == (DIFFERS, "2")        # F01 and F02; the moderator is no participant
    assert got["tenants rate in ha"][0] == REPRODUCED        # 10,000 · 3 / 9
    assert got["ha says tenants more"] == (
        REPRODUCED, "ha tenants: 3 (3333.3/10k, rank 1); la tenants: 1 (1111.1/10k, rank 2); ratio 3.00; "
                    "G² +1.05, p 0.306")  # 2·(3·ln(3/2) + 1·ln(1/2)) = 1.0465
    assert got["tenants ratio"][0] == REPRODUCED
    assert got["people before housing"][0] == NOT_REPRODUCED
    assert got["no customers in la"][0] == REPRODUCED
    assert got["commercialisation in ha"][0] == NOT_REPRODUCED
    assert got["tenants top of ha"][0] == REPRODUCED
    assert got["communication more in ha"][0] == REPRODUCED
    assert got["almo values"][0] == NOT_TESTABLE
    assert got["uncertainty"][0] == NOT_TESTABLE
    notes = {c.quantity: c.note for c in run.checks}
    assert notes["almo values"] == "fewer than 5 counted words in almo"
    assert notes["uncertainty"] == "none of the words occurs"
    assert notes["people in all"] == "needs the transcripts"


def test_tables_and_report(run):
    table = pd.read_csv(run.out / "tables" / "checks_published.csv")
    assert len(table) == 13 and table["type"].tolist()[:4] == ["count", "count", "count", "rate"]
    report = (run.out / "reproduction.md").read_text("utf-8")
    assert "people: 2,964 / 6.16% = 48,117 (rounding interval 48,078–48,156)" in report
    assert "Status counts: " in report


def test_unknown_segment_and_type(tmp_path):
    study = make_study(tmp_path, STUDY + STEPS)
    write(tmp_path / "design" / "checks.yaml", CHECKS.replace("segment: ha, words: [tenants]}, {segment: la",
                                                               "segment: zz, words: [tenants]}, {segment: la"))
    with pytest.raises(InputError, match="design/checks.yaml names unknown segment 'zz'"):
        reproduce(study)
    write(tmp_path / "design" / "checks.yaml", CHECKS.replace("type: absent", "type: maybe"))
    with pytest.raises(SchemaError, match=r"checks\[7\].type: 'maybe' is not one of count, rate"):
        reproduce(study)


def test_inline_checks_are_validated_with_their_lines(tmp_path):
    study = make_study(tmp_path, STUDY + "steps:\n  - id: c\n    type: checks\n    settings:\n"
                                         "      checks:\n        - {type: count, quantity: q, segment: all, "
                                         "words: [people], published: 2, bogus: 1}\n")
    with pytest.raises(SchemaError) as exc:
        reproduce(study)
    assert exc.value.problems[0][:2] == ("steps[0].settings.checks[0].bogus", 22)


def test_thesis_checks_name_study_segments():
    data, _ = load_validated(ROOT / "corpora" / "study-design" / "chapter5.yaml",
                             __import__("hcrisis.study.steps.checks", fromlist=["x"]).CHECKS_SPEC)
    known = {s.id for s in load_study(ROOT / "studies" / "thesis.yaml").segments} | {"all"}
    used = {it["segment"].removeprefix("rest:") for c in data["checks"] for it in c.get("items", [c])}
    assert used <= known
    assert [c["published"] for c in data["checks"] if c["section"] == "5.5" and c["type"] == "count"] \
        == [1234, 547, 338]
