"""CLI behaviour: exit codes and exact one-line errors (Typer's CliRunner)."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
import typer.main
from typer.testing import CliRunner

from hcrisis.cli import app

from conftest import write
from freq_corpus import STUDY, make_study

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_help_lists_commands_with_examples():
    result = run("--help")
    assert result.exit_code == 0
    for command in ("reproduce", "corpus", "quotes"):
        assert command in result.output


def _commands(group, prefix=()):
    """Every leaf command of the CLI as its word path, e.g. ('privacy', 'scan')."""
    for name, cmd in sorted(group.commands.items()):
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, (*prefix, name))
        else:
            yield (*prefix, name)


@pytest.mark.parametrize("command", list(_commands(typer.main.get_command(app))), ids=" ".join)
def test_every_help_has_example(command):
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "300"})
    assert result.exit_code == 0
    assert f"Example: hcrisis {' '.join(command)} " in result.output   # an example of this command


def test_corpus_info(tiny_corpus):
    result = run("corpus", "info", tiny_corpus, "--by", "sector")
    assert result.exit_code == 0
    assert "housing" in result.output
    assert "unmapped speaker label in fg1: 'P3'" in result.output


def test_corpus_info_csv(tiny_corpus):
    result = runner.invoke(app, ["corpus", "info", str(tiny_corpus), "--by", "sector", "--format", "csv"])
    assert result.exit_code == 0
    assert result.stdout == (
        "sector,documents,participants,segments,words,participant_words,interviewer_words,unlabelled_words\n"
        "(none),2,0,2,4,0,4,0\n"
        "housing association,2,3,5,9,8,1,0\n"
        "local authority,1,1,1,5,5,0,0\n")


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
                             "(use one of sector, source_type, gender, document, speaker, participant, "
                             "role, language)\n")


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


# --- option defaults: no --segment means every participant turn ----------------------

WITH_ALL = STUDY.replace("segments:\n", "segments:\n  - {id: all, label: Everyone, include_interviewer: true}\n")


@pytest.mark.parametrize("study, counts", [
    # the study declares its own `all` (here with the interviewers' turns): that one is used
    (WITH_ALL, {"tenants": 5, "housing": 3, "people": 3, "managing": 2}),
    # no `all` declared: every non-interviewer turn
    (STUDY, {"tenants": 4, "housing": 2, "people": 2, "managing": 1}),
])
def test_freq_without_segment_counts_all(tmp_path, study, counts):
    path = make_study(tmp_path, study)
    result = run("freq", "--study", path, "--out", tmp_path / "t")
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == f"wrote {tmp_path / 't' / 'freq_all.csv'}"
    table = pd.read_csv(tmp_path / "t" / "freq_all.csv")
    assert {w: c for w, c in zip(table["word"], table["count"]) if w in counts} == counts


def test_kwic_without_segment_searches_all(tmp_path):
    result = runner.invoke(app, ["kwic", "managing", "--study", str(make_study(tmp_path, WITH_ALL)),
                                 "--window", "1"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "4 hit(s) of 'managing' in 2 document(s)"


# --- bad input: one line naming the file and the fix, exit 1, nothing written ---------

DOC = "name: bad\ndocuments:\n  - {id: a, file: a.txt, kind: interview}\n"
BAD_INPUTS = {
    "undecodable bytes": ({"manifest.yaml": DOC, "a.txt": b"R: caf\x81\x8d\x90 ok\n"},
                          "a.txt: undecodable bytes at byte 6 (not UTF-8, UTF-16 or Windows-1252)"
                          " (re-save the file as UTF-8)"),
    "malformed YAML": ({"manifest.yaml": "name: bad\ndocuments:\n  - id: a\n    file: [a.txt\n"},
                       "manifest.yaml:5: malformed YAML: expected ',' or ']', but got '<stream end>'"
                       " (fix the YAML syntax at that line)"),
    "unknown attribute": ({"manifest.yaml": DOC.replace("kind: interview", "kind: interview, "
                                                        "attributes: {region: north}"), "a.txt": "R: hi\n"},
                          "manifest.yaml:3: documents[0].attributes.region: unknown attribute"
                          " (declare it under 'attributes')"),
    "missing document": ({"manifest.yaml": DOC},
                         "manifest.yaml: document 'a' points at missing file 'a.txt'"
                         " (fix its 'file' entry or add the file)"),
    "empty transcript": ({"manifest.yaml": DOC, "a.txt": ""},
                         "a.txt: transcript is empty (check that the file has text)"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
@pytest.mark.parametrize("command", ["corpus info", "freq"])
def test_bad_input_one_line(tmp_path, case, command):
    files, error = BAD_INPUTS[case]
    root = tmp_path / "corpus"
    for name, content in files.items():
        write(root / name, content)
    out = tmp_path / "out"
    result = run(*command.split(), root, *(["--out", out] if command == "freq" else []))
    assert result.exit_code == 1
    assert result.output == f"Error: {root}/{error}\n"
    assert not out.exists()


def test_empty_corpus_after_skipping(tmp_path):
    write(tmp_path / "manifest.yaml", DOC)
    write(tmp_path / "a.txt", "")
    result = run("corpus", "info", tmp_path, "--skip-bad")
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {tmp_path / 'manifest.yaml'}: no readable documents: all 1 were skipped, the first because "
        f"{tmp_path / 'a.txt'}: transcript is empty (check that the file has text) "
        "(fix the files or remove them from the manifest)\n")
