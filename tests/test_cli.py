"""CLI behaviour: exit codes and exact one-line errors (Typer's CliRunner)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from hcrisis.cli import app

from conftest import write

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_help_lists_commands_with_examples():
    result = run("--help")
    assert result.exit_code == 0
    for command in ("reproduce", "corpus", "quotes"):
        assert command in result.output


@pytest.mark.parametrize("args", [["reproduce", "--help"], ["corpus", "info", "--help"]])
def test_every_help_has_example(args):
    result = run(*args)
    assert result.exit_code == 0 and "Example: hcrisis" in result.output


def test_corpus_info(tiny_corpus):
    result = run("corpus", "info", tiny_corpus, "--by", "sector")
    assert result.exit_code == 0
    assert "housing association" in result.output
    assert "unmapped speaker label in fg1: 'P3'" in result.output


def test_missing_corpus_one_line(tmp_path):
    result = run("corpus", "info", tmp_path / "nope")
    assert result.exit_code == 1
    assert result.output == f"Error: {tmp_path / 'nope'}: corpus folder not found (check the path)\n"


def test_malformed_manifest_names_line(tmp_path):
    write(tmp_path / "manifest.yaml", "name: x\ndocuments: [\n")
    result = run("corpus", "info", tmp_path)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {tmp_path / 'manifest.yaml'}:3: malformed YAML")
    assert result.output.count("\n") == 1 and "Traceback" not in result.output


def test_unknown_attribute(tiny_corpus):
    result = run("corpus", "info", tiny_corpus, "--by", "region")
    assert result.exit_code == 1
    assert result.output == (f"Error: {tiny_corpus / 'manifest.yaml'}: unknown attribute 'region' "
                             "(use one of sector, source_type, gender)\n")


def test_missing_study_file(tmp_path):
    result = run("reproduce", tmp_path / "study.yaml")
    assert result.exit_code == 1
    assert result.output == f"Error: {tmp_path / 'study.yaml'}: file not found (check the path)\n"


def test_console_script_exit_code(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "hcrisis", "corpus", "info", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr == f"Error: {tmp_path}: no manifest.yaml in the corpus folder " \
                          "(run 'hcrisis corpus init' or add a manifest)\n"
    assert proc.stdout == ""
