"""`hcrisis code`: codings table (golden), matrices and co-occurrence by hand, quotations, CLI, step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from typer.testing import CliRunner

from hcrisis.cli import app
from hcrisis.coding.codebook import load_codebook
from hcrisis.coding.apply import (CODING_COLUMNS, apply_codebook, cooccurrence, matrix, primary, quotations,
                                  start_matrices, write_matrices, write_outputs)
from hcrisis.ingest.corpus import load_corpus
from hcrisis.errors import InputError
from hcrisis.study.runner import reproduce
from hcrisis.tables import table_to_csv

from conftest import ROOT, png_zlib_class, write

ATTRIBUTES = ["sector", "source_type"]   # the attributes whose matrices these tests read

GOLDEN = ROOT / "tests" / "golden" / "coding_codings.csv"

CODEBOOK = """\
codebook: mini
codes:
  - id: people
    label: People
    definition: Tenants as people.
    rules: {keywords: [tenant]}
    codes:
      - id: care
        label: Duty of care
        unit: sentence
        rules: {phrases: [duty of care]}
  - id: skills
    label: Skills
    rules: {keywords: [skill], exclude: {phrases: [soft skills]}}
    codes:
      - id: numbers
        label: Numbers
        rules: {patterns: [[{LOWER: know}, {LOWER: the}, {LOWER: numbers}]]}
"""


@pytest.fixture
def excerpts(tmp_path: Path) -> Path:
    """Five published excerpts in a table corpus, each hand-coded in the tests below."""
    root = tmp_path / "excerpts"
    write(root / "manifest.yaml", """\
name: mini-excerpts
attributes:
  sector: {}
  source_type: {}
  role_label: {}
  section: {}
participants: participants.csv
tables:
  - id: excerpts
    file: excerpts.csv
    kind: published excerpt
    text_column: text
    id_column: excerpt_id
    participant_column: participant_id
    attribute_columns: [section]
""")
    write(root / "participants.csv", "participant_id,sector,source_type,role_label\n"
          "P01,local authority,national interview,Director\n"
          "P02,housing association,case-study interview,Officer\nP03,,focus group,\n")
    write(root / "excerpts.csv", "excerpt_id,participant_id,section,text\n"
          "E1,P01,5.2,Tenants come first. We have a duty of care.\n"
          "E2,P02,5.4,Skills matter. You must know the numbers.\n"
          "E3,P02,5.2,Soft skills and tenants.\n"
          "E4,P03,5.9,Nothing to code here.\n"
          "E5,P01,5.4,Tenant *skills*.\n")
    write(tmp_path / "codebook.yaml", CODEBOOK)
    return root


@pytest.fixture
def coded(excerpts):
    book = load_codebook(excerpts.parent / "codebook.yaml")
    segments = load_corpus(excerpts).segments
    return book, segments, apply_codebook(book, segments)


def test_codings_table_matches_golden(coded):
    _, _, codings = coded
    assert list(codings.columns[:len(CODING_COLUMNS)]) == CODING_COLUMNS
    assert table_to_csv(codings[CODING_COLUMNS]) == GOLDEN.read_text(encoding="utf-8")


def test_primary_is_the_best_score_of_each_unit_ties_to_the_earlier_code():
    unit = np.array([0, 0, 0, 1, 1])
    score = np.array([0.5, 0.7, 0.7, 0.2, 0.2])
    order = np.array([0, 2, 1, 3, 1])
    assert primary(unit, score, order).tolist() == [False, False, True, False, True]


def test_matrix_counts_by_hand(coded):
    book, segments, codings = coded
    got = matrix(codings, book, segments, "sector")
    people = got[got["code_id"] == "people"].drop(columns=["code_id", "code_path"])
    # people: E1 (segment), E1 sentence 1 (via `care`), E5 in local authority; E3 in housing association.
    assert people.to_dict("records") == [
        {"sector": "housing association", "references": 1, "segments": 1, "participants": 1, "words": 4,
         "row_pct": 25.0, "col_pct": 50.0},
        {"sector": "local authority", "references": 3, "segments": 2, "participants": 1, "words": 9 + 6 + 2,
         "row_pct": 75.0, "col_pct": 100.0},
        {"sector": "(none)", "references": 0, "segments": 0, "participants": 0, "words": 0,
         "row_pct": 0.0, "col_pct": 0.0},
    ]
    skills = got[got["code_id"] == "skills"].set_index("sector")
    assert skills["references"].to_dict() == {"housing association": 1, "local authority": 1, "(none)": 0}


def test_cooccurrence_by_hand(coded):
    book, _, codings = coded
    got = cooccurrence(codings, book)
    # people {E1, E3, E5}, skills {E2, E5}: one unit together; parent-child pairs are left out.
    assert got.to_dict("records") == [{"code_a": "people", "code_b": "skills", "units_a": 3, "units_b": 2,
                                       "both": 1, "jaccard": 0.25}]


def test_quotations_bold_the_matches_and_attribute_them(coded):
    book, segments, codings = coded
    quotes = quotations(codings, book, segments)
    assert sorted(quotes) == ["care", "numbers", "people", "skills"]
    assert quotes["skills"] == """\
# Skills (`skills`)

Code path: `skills`. 2 coded unit(s); matched terms in bold.

> **Skills** matter. You must know the numbers.

— `E2` (segment); participant_id: P02; role_label: Officer; sector: housing association; \
source_type: case-study interview; section: 5.4; score 0.333

> Tenant \\***skills**\\*.

— `E5` (segment); participant_id: P01; role_label: Director; sector: local authority; \
source_type: national interview; section: 5.4; score 0.333
"""
    assert "> We have a **duty of care**." in quotes["care"]


def test_outputs_are_byte_stable(coded, tmp_path):
    book, segments, codings = coded
    first = write_outputs(codings, book, segments, tmp_path / "a", ATTRIBUTES)
    second = write_outputs(codings, book, segments, tmp_path / "b", ATTRIBUTES)
    names = sorted(p.relative_to(tmp_path / "a").as_posix() for p in first)
    assert names == sorted(p.relative_to(tmp_path / "b").as_posix() for p in second)
    assert "figure_matrix_sector.png" in names and "figure_matrix_sector.csv" in names
    assert "quotes/numbers.md" in names and "cooccurrence.csv" in names
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_cli_code(excerpts, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["code", str(excerpts), "--codebook",
                                      str(excerpts.parent / "codebook.yaml"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("7 codings of 4 of 5 segments with 4 codes; wrote ")
    assert (out / "codings.csv").read_text(encoding="utf-8") == GOLDEN.read_text(encoding="utf-8")


def test_cli_code_errors(excerpts, tmp_path):
    result = CliRunner().invoke(app, ["code", str(excerpts)])
    assert result.exit_code == 1
    assert result.output == "Error: no codebook given (pass --codebook FILE, or --study FILE declaring one)\n"
    result = CliRunner().invoke(app, ["code", str(excerpts), "--codebook", str(excerpts.parent / "codebook.yaml"),
                                      "--by", "region", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert result.output == (f"Error: {excerpts / 'manifest.yaml'}: unknown attribute 'region' (declared: sector, "
                             "source_type, role_label, section) (name a declared attribute with --by)\n")
    assert not (tmp_path / "o").exists()
    missing = tmp_path / "nope.yaml"
    result = CliRunner().invoke(app, ["code", str(excerpts), "--codebook", str(missing)])
    assert result.exit_code == 1
    assert result.output == f"Error: {missing}: file not found (check the path)\n"


def study(tmp_path: Path, codebook: str) -> Path:
    return write(tmp_path / "study.yaml", f"study: mini\ncorpus: excerpts\ncodebook: {codebook}\n"
                                          "outputs: outputs\nsteps:\n  - {id: coding, type: coding}\n"
                                          "  - {id: themes, type: thesis.themes}\n")


def test_reproduction_step_shares_the_codings(excerpts, tmp_path):
    run = reproduce(study(tmp_path, "codebook.yaml"))
    assert table_to_csv(run.results["coding"]["codings"][CODING_COLUMNS]) == GOLDEN.read_text(encoding="utf-8")
    assert (tmp_path / "outputs" / "coding" / "codings.csv").exists()
    (check,) = run.checks     # the thesis.themes step reads the coding step's results
    assert (check.section, check.published, check.computed, check.status) == (
        "5.2-5.15", "2 key themes (the codebook's themes)", "2 with coded units", "reproduced")


def test_reproduction_step_needs_the_codebook(excerpts, tmp_path):
    path = study(tmp_path, "missing.yaml")
    with pytest.raises(InputError) as exc:
        reproduce(path)
    assert exc.value.one_line() == (f"{path}: step 'coding' has no codebook: {tmp_path / 'missing.yaml'} "
                                    "(declare `codebook:` in the study or the step's settings)")


def test_interviewer_turns_are_not_coded(tmp_path):
    book = load_codebook(write(tmp_path / "cb.yaml", CODEBOOK))
    seg = pd.DataFrame({"segment_id": ["q", "a"], "is_interviewer": [True, False],
                        "text": ["Do tenants matter?", "Tenants do."]})
    assert apply_codebook(book, seg)["segment_id"].tolist() == ["a"]


def test_reproduction_step_leaves_out_quotations_with_identifiers(excerpts, tmp_path):
    csv = excerpts / "excerpts.csv"
    csv.write_text(csv.read_text(encoding="utf-8").replace("Soft skills and tenants.",
                                                           "Soft skills and tenants: jo@example.org."),
                   encoding="utf-8")
    run = reproduce(study(tmp_path, "codebook.yaml"), only=["coding"])
    out = tmp_path / "outputs" / "coding"
    assert (out / "codings.csv").exists() and not list(out.glob("quotes/*.md"))
    assert (f"Quotations not written: {out / 'quotes'}: refusing to write: contains email (segment E3)"
            in run.sections[0][1])


def test_a_codebook_that_codes_nothing_still_writes_every_table(excerpts, tmp_path):
    book = load_codebook(write(tmp_path / "none.yaml", "codebook: none\ncodes:\n  - id: z\n    label: Z\n"
                                                        "    rules: {keywords: [xylophone]}\n"))
    segments = load_corpus(excerpts).segments
    codings = apply_codebook(book, segments)
    write_outputs(codings, book, segments, tmp_path / "out", ATTRIBUTES)
    assert (tmp_path / "out" / "codings.csv").read_text(encoding="utf-8") == ",".join(CODING_COLUMNS) + "\n"
    assert (tmp_path / "out" / "matrix_sector.csv").read_text(encoding="utf-8").splitlines()[1:] == [
        "z,z,housing association,0,0,0,0,0,0", "z,z,local authority,0,0,0,0,0,0", "z,z,(none),0,0,0,0,0,0"]


def test_figures_drawn_in_other_processes_are_those_drawn_here(coded, tmp_path):
    """`start_matrices` draws each attribute's figures in a forked process (one per CPU at
    most); its files are `write_matrices`'s, byte for byte."""
    book, segments, codings = coded
    here = write_matrices(codings, book, segments, tmp_path / "here", ATTRIBUTES)
    tables, figures = start_matrices(codings, book, segments, tmp_path / "forked", ATTRIBUTES)
    forked = tables + figures()
    names = sorted(p.relative_to(tmp_path / "here").as_posix() for p in here)
    assert sorted(p.relative_to(tmp_path / "forked").as_posix() for p in forked) == names
    assert {Path(n).suffix for n in names} == {".csv", ".md", ".png", ".svg"}
    for name in names:
        assert (tmp_path / "here" / name).read_bytes() == (tmp_path / "forked" / name).read_bytes(), name
    assert {png_zlib_class(tmp_path / "here" / n) for n in names if n.endswith(".png")} == {1}   # level 3


def test_titles_and_empty_labels_placed_outright_are_where_matplotlib_puts_them(coded, tmp_path, monkeypatch):
    """`_fixed_positions` spares matplotlib measuring the tick labels to place the title and
    the empty axis labels: the figures are byte for byte those of matplotlib's own placing."""
    import hcrisis.coding.apply as apply

    book, segments, codings = coded
    fixed = write_matrices(codings, book, segments, tmp_path / "fixed", ATTRIBUTES)
    monkeypatch.setattr(apply, "_fixed_positions", lambda ax, title, *unlabelled: ax.set_title(title, fontsize=12))
    placed = write_matrices(codings, book, segments, tmp_path / "placed", ATTRIBUTES)
    figures = sorted(p.relative_to(tmp_path / "fixed") for p in fixed if p.suffix in (".png", ".svg"))
    assert len(figures) == 8
    assert figures == sorted(p.relative_to(tmp_path / "placed") for p in placed if p.suffix in (".png", ".svg"))
    for name in figures:
        assert (tmp_path / "fixed" / name).read_bytes() == (tmp_path / "placed" / name).read_bytes(), name


def test_the_widest_code_label_stays_inside_the_figure(excerpts, tmp_path, monkeypatch):
    """Labels are cut to 42 characters, but 42 bold capitals are wider than 42 small letters:
    the left margin holds the widest label of each figure, whatever its letters."""
    import hcrisis.coding.apply as apply

    wide = CODEBOOK.replace("label: People", "label: " + "W" * 60).replace("label: Numbers", "label: " + "M" * 60)
    book = load_codebook(write(tmp_path / "wide.yaml", wide))
    segments = load_corpus(excerpts).segments
    left_edges = {}

    def measure(fig, stem):
        renderer = fig.canvas.get_renderer()
        fig.canvas.draw()
        left_edges[Path(stem).name] = min(t.get_window_extent(renderer).x0 for ax in fig.axes
                                          for t in ax.get_yticklabels() if t.get_text())
        return []
    monkeypatch.setattr(apply, "save_figure", measure)
    write_matrices(apply_codebook(book, segments), book, segments, tmp_path / "out", ["sector"])
    assert sorted(left_edges) == ["figure_code_frequencies_sector", "figure_matrix_sector"]
    assert all(edge >= 2 for edge in left_edges.values()), left_edges


def test_an_attribute_no_segment_has_gets_its_table_and_no_figure(tmp_path):
    """A declared attribute without any value: the matrix says (none) and nothing is drawn
    (there is nothing to compare), instead of a plotting error."""
    write(tmp_path / "c" / "manifest.yaml", "name: c\nattributes:\n  wave: {values: [early]}\n  site: {}\n"
                                            "documents:\n  - {id: d1, file: d1.txt, kind: interview, "
                                            "attributes: {wave: early}}\n")
    write(tmp_path / "c" / "d1.txt", "Q: Tenants?\nA: Tenants come first.\n")
    result = CliRunner().invoke(app, ["code", str(tmp_path / "c"), "--codebook",
                                      str(write(tmp_path / "cb.yaml", CODEBOOK)), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    assert (out / "matrix_site.csv").read_text(encoding="utf-8").splitlines()[1].split(",")[2] == "(none)"
    assert (out / "figure_matrix_wave.png").exists() and not list(out.glob("figure_*_site*"))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 3)), max_size=40),
       st.sampled_from(["unit_key", "row"]))
def test_property_cooccurrence_counts_are_the_dense_product(pairs, unit):
    """Units coded by each pair of codes, counted by pairs, equal MᵀM of the unit × code
    indicator matrix (what the whole-corpus path multiplied)."""
    import yaml

    from hcrisis.coding.apply import cooccurrence_counts
    from hcrisis.coding.codebook import build_codebook

    book = build_codebook(yaml.safe_load(CODEBOOK))
    if unit == "unit_key":     # every code by sentence: the unit is the sentence
        book = build_codebook({**yaml.safe_load(CODEBOOK), "defaults": {"unit": "sentence"}})
    keys = np.array([k for k, _ in pairs], dtype=np.int64)
    units = pd.DataFrame({"unit_key": keys, "row": keys // 2 if unit == "row" else keys, "words": 1,
                          "code": np.array([c for _, c in pairs], dtype=np.int64)})
    m = np.zeros((7, len(book.codes)), dtype=np.int64)
    m[units[unit].to_numpy(), units["code"].to_numpy()] = 1
    assert np.array_equal(cooccurrence_counts(units, book), m.T @ m)
