"""The thesis codebook: well-formed, and every chapter 6-9 topic cited by some code."""

from __future__ import annotations

import re

import pytest
import yaml

from hcrisis.agree import load_code_tree, section_codes
from hcrisis.codebook import load_codebook

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
