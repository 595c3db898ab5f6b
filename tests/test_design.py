"""Study-design tables of chapter 4 against golden files."""

from __future__ import annotations

from pathlib import Path

import pytest

from hcrisis.thesis.design import design_tables, load_published
from hcrisis.tables import table_to_csv

from conftest import ROOT

DESIGN = ROOT / "corpora" / "study-design"
GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("name", ["table6_national_interviews", "case_study_interviews",
                                  "focus_groups", "gender"])
def test_design_tables_golden(name):
    assert table_to_csv(design_tables(DESIGN)[name]) == (GOLDEN / f"{name}.csv").read_text()


def test_table6_equals_published():
    t6 = design_tables(DESIGN)["table6_national_interviews"]
    pub = load_published(DESIGN)
    assert int(t6["interviews"].sum()) == 36 == pub["table6_total"]["value"]
    for row in t6.itertuples():
        assert pub[f"table6:{row.organisation_type}"]["value"] == row.interviews
