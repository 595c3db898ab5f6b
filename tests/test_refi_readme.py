"""README "Working with NVivo and other QDA tools": its commands run as written, on the
example project, and give what the section says."""

from __future__ import annotations

import re
import shlex
import shutil
import zipfile

import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import ROOT
from hcrisis.cli import app
from refi_fixtures import EXAMPLE, assert_valid, handcoded_codebook, handcoded_project, project_qde, reader_counts


def section_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Working with NVivo and other QDA tools", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip().startswith("hcrisis ")]


def test_example_files_are_the_fixture():
    """The committed example project is the one `handcoded_project` builds (so it can be rebuilt)."""
    qde, files = handcoded_project()
    with zipfile.ZipFile(EXAMPLE / "handcoded.qdpx") as zf:
        assert zf.read("project.qde").decode("utf-8") == qde
        assert {n: zf.read(n) for n in zf.namelist() if n != "project.qde"} == files
    assert (EXAMPLE / "codebook.qdc").read_text(encoding="utf-8") == handcoded_codebook()
    assert_valid(qde.encode("utf-8"))
    assert_valid(handcoded_codebook().encode("utf-8"), "Codebook.xsd")


def test_readme_loop(tmp_path, monkeypatch):
    shutil.copytree(EXAMPLE, tmp_path / "examples" / "qda")
    monkeypatch.chdir(tmp_path)
    commands = section_commands()
    assert [c.split()[1:3] for c in commands] == [["import", "qdpx"], ["codebook", "check"], ["code", "imported"],
                                                  ["agree", "imported"], ["export", "qdpx"]]
    runner = CliRunner()
    for command in commands:
        r = runner.invoke(app, shlex.split(command)[1:])
        assert r.exit_code == 0, (command, r.output)
    gold = pd.read_csv("imported/codings.csv")
    assert len(gold) == 7 and set(gold["coder"]) == {"Coder A"}
    spans = pd.read_csv("coded/agreement_spans.csv").set_index("code_id")
    assert spans.loc["qualifications", "precision"] == pytest.approx(32 / 96)     # as the README says
    assert spans.loc["qualifications", "recall"] == 1.0
    runs = pd.read_csv("coded/agreement_disagreements.csv")
    assert ("qualifications", "extra", "A mentor helps more than a course.") in set(
        zip(runs["code_id"], runs["kind"], runs["text"]))
    assert_valid(project_qde(tmp_path / "review.qdpx"))
    codings = len(pd.read_csv("coded/codings.csv"))
    assert reader_counts(tmp_path / "review.qdpx", tmp_path) == {"pyrefiqda": (2, 6, codings),
                                                                  "qdapy": (2, 6, codings)}


@pytest.mark.parametrize("command", [("import", "qdpx"), ("import", "qdc"), ("export", "qdc")], ids=" ".join)
def test_help_examples_run(command, tmp_path, monkeypatch):
    """The runnable `--help` examples of the exchange commands (export qdpx's needs reproduce's codings)."""
    shutil.copytree(EXAMPLE, tmp_path / "examples" / "qda")
    shutil.copytree(ROOT / "codebooks", tmp_path / "codebooks")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    help_text = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "300"}).output
    example = re.search(r"Example: (hcrisis .*)", help_text).group(1).strip()
    r = runner.invoke(app, shlex.split(example)[1:])
    assert r.exit_code == 0, (example, r.output)
