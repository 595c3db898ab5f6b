"""`hcrisis reproduce` end to end on a tiny study: report, manifest, byte-identical reruns."""

from __future__ import annotations

import json

from hcrisis.study.runner import REPRODUCED, reproduce

from conftest import ROOT, write


def _study(tiny_corpus, tmp_path):
    return write(tmp_path / "study" / "s.yaml", f"""\
study: tiny
title: Tiny
base_folder: /
corpus: {tiny_corpus}
design: {ROOT / 'corpora' / 'study-design'}
outputs: {tmp_path / 'out'}
segments:
  - {{id: all, label: All}}
steps:
  - {{id: design, type: thesis.design}}
  - {{id: descriptives, type: describe}}
  - {{id: report, type: report}}
""")


def test_reproduce_design_and_report(tiny_corpus, tmp_path):
    run = reproduce(_study(tiny_corpus, tmp_path))
    design = [c for c in run.checks if c.section.startswith("4.5.6 Table 6")]
    assert len(design) == 19 and all(c.status == REPRODUCED for c in design)
    report = (tmp_path / "out" / "reproduction.md").read_text()
    assert "| 4.5.7 | national interviews in total | 36 | 36 | reproduced |" in report
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert "tables/table6_national_interviews.csv" in " ".join(manifest["outputs"])
    assert manifest["packages"]["spacy"] != "not installed"
    assert any(k.endswith("study-design/published.yaml") for k in manifest["inputs"])


def test_reruns_are_byte_identical(tiny_corpus, tmp_path):
    study = _study(tiny_corpus, tmp_path)
    reproduce(study)
    out = tmp_path / "out"
    first = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    reproduce(study, cache=False)
    second = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    assert first == second and len(first) > 10
