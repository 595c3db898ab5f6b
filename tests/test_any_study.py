"""A study that has nothing to do with the thesis: its own attributes (wave, role), codebook
and gold coding, from `hcrisis study init` to `hcrisis reproduce`; cold, warm and
--no-cache runs write byte-identical files; --only runs what a step reads."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from hcrisis.cli import app
from hcrisis.study.model import load_study

from conftest import write

MANIFEST = """\
name: ward-staff
attributes:
  wave: {values: [early, late]}
  role: {values: [nurse, manager]}
participants: participants.csv
documents:
  - {id: w1, file: w1.txt, kind: interview, participants: [N1]}
  - {id: w2, file: w2.txt, kind: interview, participants: [N2]}
  - {id: w3, file: w3.txt, kind: interview, participants: [M1]}
  - {id: w4, file: w4.txt, kind: interview, participants: [M2]}
"""
TEXTS = {
    "w1": "Q: How are the shifts?\nA: Night shifts are long and the ward is short of staff. "
          "Patients wait and we rush the medication rounds.\nQ: Training?\n"
          "A: Training happens online, mostly after the shift.\n",
    "w2": "Q: How are the shifts?\nA: The rota changed, so shifts are shorter. Patients see the same "
          "nurse more often now.\nQ: Training?\nA: Mentoring on the ward helped me most.\n",
    "w3": "Q: What worries you?\nA: Budgets and staffing. We cover shifts with agency staff and the "
          "rota breaks every week.\nQ: Training?\nA: We fund courses but nobody has time for them.\n",
    "w4": "Q: What worries you?\nA: Retention. Nurses leave after a year, so mentoring new staff "
          "matters.\nQ: Training?\nA: Training budgets grew and courses are full.\n",
}
CODEBOOK = """\
codebook: ward
version: "1"
defaults: {unit: turn, min_hits: 1}
codes:
  - id: workload
    label: Workload
    rules: {keywords: [shift, rota, staffing, agency, rush]}
  - id: learning
    label: Learning
    rules: {keywords: [training, mentoring, course]}
"""
GOLD = "segment_id,code_id\nw1:0002,workload\nw1:0004,learning\nw2:0004,learning\nw3:0002,workload\n"
EXTRA_STEPS = """\
  - {id: agreement, type: agreement, settings: {gold: gold.csv}}
  - id: published
    type: checks
    settings:
      min_counted_words: 1
      checks:
        - {type: order, quantity: managers speak of budgets more than nurses,
           items: [{segment: role_manager, words: ["budget*"]}, {segment: role_nurse, words: ["budget*"]}]}
        - {type: count, quantity: participants, segment: all, of: participants, published: 4}
"""
FORBIDDEN = re.compile(r"thesis|housing|53 interviews|chapter 5|social purpose|target top-1", re.I)

runner = CliRunner()


def _corpus(root):
    write(root / "corpus" / "manifest.yaml", MANIFEST)
    write(root / "corpus" / "participants.csv", "participant_id,wave,role\nN1,early,nurse\nN2,late,nurse\n"
                                                "M1,early,manager\nM2,late,manager\n")
    for doc, text in TEXTS.items():
        write(root / "corpus" / f"{doc}.txt", text)
    return root / "corpus"


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("ward")
    corpus = _corpus(root)
    path = root / "study" / "ward.yaml"
    result = runner.invoke(app, ["study", "init", str(corpus), "--out", str(path)])
    assert result.exit_code == 0, result.output
    text = path.read_text().replace("# codebook: codebook.yaml", "codebook: codebook.yaml")
    text = text.replace("  # - {id: ", "  - {id: ")           # the coding steps, commented out without a codebook
    text = text.replace("  - {id: report, type: report}\n", EXTRA_STEPS + "  - {id: report, type: report}\n")
    write(path, text)
    write(root / "study" / "codebook.yaml", CODEBOOK)
    write(root / "study" / "gold.csv", GOLD)
    return path


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _reproduce(*args):
    """The command's result line (stdout; the step progress lines go to stderr)."""
    result = runner.invoke(app, ["reproduce", *map(str, args)])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_study_init_never_overwrites(study):
    result = runner.invoke(app, ["study", "init", str(study.parent.parent / "corpus"), "--out", str(study)])
    assert result.exit_code == 1
    assert result.output == f"Error: {study}: file exists (choose another --out or pass --force)\n"


def test_outputs_of_any_study(study):
    declared = load_study(study)
    assert [s.id for s in declared.segments] == ["all", "wave_early", "wave_late", "role_nurse", "role_manager"]
    out = study.parent / "outputs"
    cold = _reproduce(study, "--no-cache")
    assert cold.startswith(f"wrote {len(_files(out))} files to {out}")
    files = _files(out)
    for name, data in files.items():
        if name.endswith((".csv", ".md", ".json")):
            assert not FORBIDDEN.search(data.decode("utf-8")), name
    assert {"coding/matrix_wave.csv", "coding/matrix_role.csv", "coding/cooccurrence.csv",
            "coding/agreement.csv", "tables/checks_published.csv"} <= set(files)
    assert {f"figures/cloud_{s.id}.png" for s in declared.segments} <= set(files)
    assert "tables/keyness_role_manager_vs_rest.csv" in files
    matrix = files["coding/matrix_role.csv"].decode()
    assert matrix.splitlines()[0].startswith("code_id,code_path,role,")
    report = files["reproduction.md"].decode()
    assert "| managers speak of budgets more than nurses |" in report and "## Coding" in report


def test_cold_warm_and_no_cache_runs_are_byte_identical(study, tmp_path):
    out = study.parent / "outputs"
    store = study.parent / ".hcrisis-cache"
    if store.exists():
        import shutil
        shutil.rmtree(store)
    _reproduce(study)                     # cold: an empty rerun store
    cold = _files(out)
    warm_output = _reproduce(study)
    assert "(10 unchanged steps replayed)" in warm_output
    assert _files(out) == cold
    _reproduce(study, "--no-cache")
    assert _files(out) == cold


def test_only_runs_what_a_step_reads_and_keeps_the_full_report(study):
    out = study.parent / "outputs"
    _reproduce(study)
    full = (out / "reproduction.md").read_bytes(), (out / "manifest.json").read_bytes()
    output = _reproduce(study, "--only", "agreement")
    assert "partial run: reproduction.partial.md, manifest.partial.json" in output
    assert ((out / "reproduction.md").read_bytes(), (out / "manifest.json").read_bytes()) == full
    partial = (out / "reproduction.partial.md").read_text()
    assert "A partial run: steps `coding`, `agreement`." in partial
    assert "not computable" not in partial


def test_unknown_step_is_one_line(study):
    result = runner.invoke(app, ["reproduce", str(study), "--only", "agreemnt"])
    assert result.exit_code == 1
    assert result.output == (f"Error: {study}: unknown step 'agreemnt' (name one of the study's steps: "
                             "describe, frequencies, keyness, clouds, terms, coding, matrix, cooccurrence, "
                             "agreement, published, report, html, workbook)\n")


def test_a_run_without_checks_writes_no_checks_section(study):
    out = study.parent / "outputs"
    _reproduce(study, "--only", "clouds")      # no segment has a published figure: no check rows
    partial = (out / "reproduction.partial.md").read_text()
    assert "Status counts" not in partial and "Published numbers" not in partial
    assert partial.startswith("# Reproduction report: ward-staff\n")
