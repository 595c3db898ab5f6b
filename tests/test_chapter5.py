
import pandas as pd
import pytest

from conftest import ROOT, write
from freq_corpus import make_study
from hcrisis.thesis import chapter5
from hcrisis.errors import InputError
from hcrisis.study.runner import NOT_COMPUTABLE, NOT_REPRODUCED, NOT_TESTABLE, REPRODUCED, run_reproduce
from hcrisis.study.model import load_study

DESIGN = """\
min_counted_words: 5
cloud_words: 1
denominator:
  section: "5.2"
  transcripts: 61
  transcripts_note: "53 interviews and 8 focus groups"
  values:
    - {word: people, count: 2964, percent: 6.16}
    - {word: housing, count: 2714, percent: 5.64}
counts:
  - {section: "5.2", segment: all, label: people, words: [people], published: 2964}
claims:
  - {section: "5.8", claim: ha says tenants more, relation: order,
     items: [{segment: ha, words: [tenants]}, {segment: la, words: [tenants]}]}
  - {section: "5.2", claim: people before housing, relation: order, published: "2,964 vs 2,714",
     items: [{segment: all, words: [people]}, {segment: all, words: [housing]}]}
  - {section: "5.6.1", claim: no customers in la, relation: absent, items: [{segment: la, words: [customers]}]}
  - {section: "5.6.1", claim: commercialisation in ha, relation: present, items: [{segment: ha, words: ["commerciali*"]}]}
  - {section: "5.6.2", claim: tenants top of ha, relation: top, items: [{segment: ha, words: [tenants]}]}
  - {section: "5.6.2", claim: communication more in focus groups, relation: order,
     items: [{segment: ha, words: ["communicat*"]}, {segment: "rest:ha", words: ["communicat*"]}]}
  - {section: "5.3", claim: almo values, relation: order,
     items: [{segment: almo, words: [values]}, {segment: la, words: [values]}]}
  - {section: "5.4", claim: uncertainty, relation: order,
     items: [{segment: la, words: ["uncertain*"]}, {segment: ha, words: ["uncertain*"]}]}
"""


def test_implied_denominator_and_rounding_interval():
    mid, lo, hi = chapter5.implied_denominator(2964, 6.16)
    assert mid == pytest.approx(48116.88, abs=0.01)
    assert (lo, hi) == (pytest.approx(2964 / 0.06165), pytest.approx(2964 / 0.06155))


@pytest.fixture
def ctx(tmp_path):
    study = make_study(tmp_path)
    write(tmp_path / "design" / "chapter5.yaml", DESIGN)
    return run_reproduce(study, only=["chapter5"])


def statuses(ctx):
    return {c.quantity: (c.status, c.computed) for c in ctx.checks}


def test_checks(ctx):
    got = statuses(ctx)
    assert got["implied denominator of the published percentages"] == (REPRODUCED, "48,078–48,156 counted words")
    assert got["'people' count in all"] == (NOT_COMPUTABLE, "2 in the excerpts (1111.1 per 10,000 counted words)")
    assert got["ha says tenants more"] == (
        REPRODUCED, "ha tenants: 3 (3333.3/10k, rank 1); la tenants: 1 (1111.1/10k, rank 2); ratio 3.00; "
                    "G² +1.05, p 0.306")  # 2·(3·ln(3/2) + 1·ln(1/2)) = 1.0465
    assert got["people before housing"][0] == NOT_REPRODUCED
    assert got["no customers in la"][0] == REPRODUCED
    assert got["commercialisation in ha"][0] == NOT_REPRODUCED
    assert got["tenants top of ha"][0] == REPRODUCED
    assert got["communication more in focus groups"][0] == REPRODUCED
    assert got["almo values"][0] == NOT_TESTABLE
    assert got["uncertainty"][0] == NOT_TESTABLE
    notes = {c.quantity: c.note for c in ctx.checks}
    assert notes["almo values"] == "fewer than 5 counted words in almo"
    assert notes["uncertainty"] == "none of the words occurs in the excerpts"


def test_tables_and_cache(ctx):
    tables = ctx.out / "tables"
    for seg in ["all", "la", "ha", "almo"]:
        assert (tables / f"freq_{seg}.csv").exists()
    assert ctx.cache["freq"]["la"]["word"].tolist()[0] == "people"
    assert (tables / "keyness_la_vs_rest.csv").exists() and not (tables / "keyness_almo_vs_rest.csv").exists()
    counts = pd.read_csv(tables / "chapter5_counts.csv")
    assert counts[["word", "published", "count", "counted_words"]].values.tolist() == [["people", 2964, 2, 18]]
    claims = pd.read_csv(tables / "chapter5_claims.csv")
    assert len(claims) == 8
    report = (ctx.out / "reproduction.md").read_text("utf-8")
    assert "people: 2,964 / 6.16% = 48,117 (rounding interval 48,078–48,156)" in report


def test_unknown_segment_and_relation(tmp_path):
    study = make_study(tmp_path)
    write(tmp_path / "design" / "chapter5.yaml", DESIGN.replace("segment: ha, words: [tenants]}]}",
                                                                 "segment: zz, words: [tenants]}]}"))
    with pytest.raises(InputError, match="chapter5.yaml names unknown segment 'zz'"):
        run_reproduce(study, only=["chapter5"])
    write(tmp_path / "design" / "chapter5.yaml", DESIGN.replace("relation: absent", "relation: maybe"))
    with pytest.raises(InputError, match="unknown relation 'maybe'"):
        run_reproduce(study, only=["chapter5"])


def test_thesis_chapter5_data_names_study_segments():
    data = chapter5.load_chapter5(ROOT / "corpora" / "study-design" / "chapter5.yaml")
    known = {s.id for s in load_study(ROOT / "studies" / "thesis.yaml").segments}
    used = {it["segment"].removeprefix("rest:") for c in data["claims"] for it in c["items"]}
    used |= {c["segment"] for c in data["counts"]}
    assert used <= known
    assert {c["relation"] for c in data["claims"]} <= {"order", "absent", "present", "top"}
    assert [c["published"] for c in data["counts"] if c["section"] == "5.5"] == [1234, 547, 338]
