"""The thesis codebook: well-formed, and every chapter 6-9 topic cited by some code."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import yaml

from hcrisis.coding.agreement import load_code_tree, section_codes
from hcrisis.coding.codebook import load_codebook
from hcrisis.coding.apply import apply_codebook

from conftest import ROOT

CODEBOOK = ROOT / "codebooks" / "thesis.yaml"

# The key themes of chapter 5, each a top-level theme.
THEMES = {"5.2", "5.3", "5.4", "5.5", "5.6", "5.7", "5.8", "5.9", "5.10", "5.11", "5.12", "5.14", "5.15"}
# Numbered sections of chapters 6-8 with participant quotations, and chapter 9's
# sub-sections that restate a theme (from the thesis's headings).
TOPICS = """
6.2 6.3 6.4 6.5.1 6.5.2 6.5.3 6.5.4 6.5.5 6.5.6 6.5.7 6.6 6.7 6.8 6.9 6.10 6.11 6.12 6.13 6.13.1 6.13.2
7.1 7.2 7.3 7.4 7.5 7.5.1 7.5.2 7.5.3 7.5.4 7.6 7.6.1 7.6.2 7.6.3 7.6.4 7.6.5 7.6.6 7.6.7 7.6.8 7.6.9 7.7
8.1 8.2 8.3 8.4 8.5 8.6 8.7 8.8 8.9 8.10 8.11 8.12 8.13 8.13.1 8.13.2 8.14 8.15
9.2.1 9.2.2 9.2.3 9.2.4 9.2.5 9.2.6 9.2.7 9.2.8 9.2.9 9.2.10 9.2.11 9.2.12 9.2.13
""".split()


@pytest.fixture(scope="module")
def data():
    return yaml.safe_load(CODEBOOK.read_text(encoding="utf-8"))


def walk(codes, depth=0):
    for code in codes:
        yield code, depth
        yield from walk(code.get("codes", []), depth + 1)


def test_header(data):
    assert data["codebook"] == "thesis" and data["version"] == "1.0"
    assert data["defaults"] == {"unit": "paragraph", "min_hits": 1}


def test_every_code_is_complete(data):
    ids = [c["id"] for c, _ in walk(data["codes"])]
    assert len(ids) == len(set(ids))
    for code, _ in walk(data["codes"]):
        assert re.fullmatch(r"[a-z][a-z0-9_]*", code["id"])
        for key in ("label", "definition", "when_to_use", "when_not_to_use", "example"):
            assert isinstance(code.get(key), str) and code[key].strip(), (code["id"], key)
        assert re.fullmatch(r"#[0-9a-f]{6}", code["colour"])
        assert code["thesis_sections"] and all(isinstance(s, str) for s in code["thesis_sections"])
        assert set(code.get("related", [])) <= set(ids)
        rules = code["rules"]
        assert set(rules) <= {"keywords", "phrases", "patterns", "near", "regex", "exclude"}
        assert any(rules.get(k) for k in ("keywords", "phrases", "patterns", "near", "regex")), code["id"]
        for kw in rules.get("keywords", []):
            assert re.fullmatch(r"[a-z]+\*?", kw), (code["id"], kw)     # single lemma, prefix wildcard


def test_themes_are_chapter_5(data):
    cited = {s for code in data["codes"] for s in code["thesis_sections"] if s.startswith("5.")}
    assert THEMES <= cited
    assert len(data["codes"]) == len(THEMES)


def test_every_topic_maps_to_one_code():
    tree = load_code_tree(CODEBOOK)
    listed = [s for c in tree.order for s in tree.sections[c]]
    for section in TOPICS:
        assert section in listed, section
        assert len(section_codes(section, tree)) == 1, section


def test_validates_with_the_codebook_module():
    codebook = load_codebook(CODEBOOK)
    assert len(codebook.themes) == len(THEMES)
    assert all(code.unit == "paragraph" for code in codebook.codes)


# Words every theme of this corpus uses: on their own they say nothing about which theme a
# passage belongs to, so they may appear only inside phrases or `near` rules (see the header).
GENERIC = {"people", "person", "housing", "house", "home", "sector", "skill", "leader", "leadership", "manager",
           "management", "manage", "train", "training", "organisation", "staff", "tenant", "rent", "invest",
           "investment", "cih", "board", "committee", "professional", "programme", "relationship", "political",
           "number", "data", "landlord", "balance", "senior", "community"}


def test_generic_words_are_never_keywords_alone(data):
    for code, _ in walk(data["codes"]):
        for kw in code["rules"].get("keywords", []):
            stem = kw.rstrip("*")
            clash = {g for g in GENERIC if (g.startswith(stem) if kw.endswith("*") else g == stem)}
            assert not clash, (code["id"], kw, clash)


def _coded(texts: dict[str, str]) -> pd.DataFrame:
    seg = pd.DataFrame({"segment_id": list(texts), "text": list(texts.values())})
    return apply_codebook(load_codebook(CODEBOOK), seg)


def test_rules_prefer_specific_evidence():
    # Paraphrases of the codes' definitions, not participant quotations.
    coded = _coded({
        "generic": "Housing leaders need skills, and training for staff and tenants in the sector matters "
                   "to people who manage housing organisations.",
        "segmented": "Staff in small organisations feel training is segmented: a two-tier system where access "
                     "to training depends on who you work for.",
        "cih_role": "The CIH should set the framework and standards rather than deliver every programme itself.",
        "cih_mention": "I remember reading a CIH report about repairs last year.",
        "rent_cut": "The rent cut of 2015 took millions out of our business plan.",
        "rent_paid": "Our rent is collected weekly at the local office.",
    })
    primary = coded[coded["primary"]].set_index("segment_id")
    by_rules = set(coded.loc[coded["hits"] > 0, "segment_id"])   # the rest: description similarity only
    assert "generic" not in by_rules                           # generic words alone code nothing
    assert primary.loc["segmented", "theme_id"] == "training_segmentation"
    assert "training_segmentation" in set(coded[coded["segment_id"] == "segmented"]["code_id"])
    assert primary.loc["cih_role", "code_id"] == "national_role"
    assert "cih_mention" not in by_rules                       # the CIH named, no role for it
    assert primary.loc["rent_cut", "code_id"] == "financing"
    assert "rent_paid" not in by_rules


def test_segmentation_codes_its_own_vocabulary():
    # 5.14 / 8.14 in other words: the theme and its code each have rules of their own.
    coded = _coded({"size": "Bigger organisations have more opportunities, while less well-resourced ones "
                            "cannot fund any courses.",
                    "tiers": "It feels like a two-tier system for access to development."})
    primary = coded[coded["primary"]].set_index("segment_id")["code_id"].to_dict()
    assert primary == {"size": "segmentation_access", "tiers": "training_segmentation"}
