"""CLI behaviour: exit codes and exact one-line errors (Typer's CliRunner)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import typer.main
from typer.testing import CliRunner

from hcrisis.cli import BLAS_THREADS, app

from conftest import ROOT, write
from freq_corpus import STUDY, make_study
from ward_corpus import make_ward

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


USABLE_CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@pytest.mark.parametrize("user_value, threads", [(None, 1), ("2", min(2, USABLE_CPUS))])
def test_the_executable_gives_each_process_one_blas_thread_unless_the_user_chose(user_value, threads):
    # what `main` does before the command imports numpy, and what OpenBLAS then makes of it
    # (never more threads than usable CPUs; without the setting, one per usable CPU)
    code = ("import sys\nfrom hcrisis.cli import one_blas_thread\nassert 'numpy' not in sys.modules\n"
            "one_blas_thread()\nimport numpy, threadpoolctl\n"
            "print(*[i['num_threads'] for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas'])")
    env = {k: v for k, v in os.environ.items() if k not in BLAS_THREADS}
    if user_value:
        env["OPENBLAS_NUM_THREADS"] = user_value
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert proc.stdout.split() == [str(threads)]


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
    assert result.output.strip().splitlines()[-1] == f"wrote 2 files: {tmp_path / 't' / 'freq_all'}"
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


# --- commands without a study: CORPUS first, --where / --by, ./outputs/<command> -------

def test_commands_work_from_any_folder(tmp_path, monkeypatch):
    corpus = make_ward(tmp_path / "data")
    monkeypatch.chdir(write(tmp_path / "elsewhere" / "notes.txt", "").parent)
    result = run("cloud", corpus)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "wrote 3 files: outputs/cloud/cloud_all"
    assert sorted(p.name for p in Path("outputs/cloud").iterdir()) == ["cloud_all.csv", "cloud_all.png",
                                                                       "cloud_all.svg"]
    result = run("compare", corpus, "--where", "wave=early", "--where", "wave=late")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "wrote 2 files: outputs/compare/keyness_wave-early_vs_wave-late"
    table = pd.read_csv("outputs/compare/keyness_wave-early_vs_wave-late.csv")
    assert set(table["favours"]) <= {"wave-early", "wave-late", "neither"}
    result = run("code", corpus, "--codebook", corpus / "codebook.yaml")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].endswith("files to outputs/code")
    # matrix coding by the corpus's own attributes (their values are listed in the manifest)
    assert {"codings.csv", "matrix_wave.csv", "matrix_role.csv"} <= {p.name for p in Path("outputs/code").iterdir()}


def test_by_draws_one_cloud_per_value(tmp_path, monkeypatch):
    corpus = make_ward(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = run("cloud", corpus, "--by", "wave", "--out", "figs")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "wrote 6 files: figs/cloud_wave-early, figs/cloud_wave-late"


@pytest.mark.parametrize("command", [["freq"], ["cloud"], ["terms"], ["code", "--codebook", "cb.yaml"],
                                     ["suggest", "--codings", "c.csv"], ["kwic", "training"],
                                     ["corpus", "info"], ["privacy", "scan"]])
def test_no_corpus_outside_the_project_folder(tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    result = run(*command)
    assert result.exit_code == 1
    name = " ".join(c for c in command if not c.startswith("-") and c not in ("cb.yaml", "c.csv", "training"))
    assert result.output == (f"Error: no corpus given (name a corpus folder: hcrisis {name} CORPUS, "
                             "or pass --study FILE)\n")
    assert not (tmp_path / "outputs").exists()


def test_thesis_corpus_is_the_default_in_its_project_folder(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, ["corpus", "info"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "corpus thesis-excerpts" in result.output


@pytest.mark.parametrize("where, error", [
    ("wave=Early", "segment 'wave-early': wave 'Early' matches nothing in the corpus (values of wave: early, "
                   "late) (use one of the values listed)"),
    ("wave=early,lat", "segment 'wave-early-lat': wave 'lat' matches nothing in the corpus (values of wave: "
                       "early, late) (use one of the values listed)"),
    ("region=north", "segment 'region-north': unknown attribute 'region' (declared: wave, role; also "
                     "document_id, kind, participant_id, speaker, is_interviewer, speaker_role, language) (declare it under "
                     "'attributes' in the corpus manifest, or use a declared one)"),
    ("wave=late;role=manager", "segment 'wave-late_role-manager' has 0 words in the corpus (wave = late; "
                               "role = manager: 0 turn(s) selected) (its conditions exist apart but not "
                               "together; widen the selection)"),
    ("wave", "cannot read --where 'wave' (write ATTR=VALUE, e.g. --where 'sector=local authority' or "
             "--where wave=early,late)"),
])
@pytest.mark.parametrize("command", ["freq", "cloud", "compare", "terms", "kwic"])
def test_bad_segment_one_line(tmp_path, where, error, command):
    corpus = make_ward(tmp_path)
    out = tmp_path / "out"
    args = [command, corpus, *(["night"] if command == "kwic" else []), "--where", where,
            *(["--out", out] if command != "kwic" else [])]
    result = run(*args)
    assert result.exit_code == 1
    path = "" if where == "wave" else f"{corpus / 'manifest.yaml'}: "
    assert result.output == f"Error: {path}{error}\n"
    assert not out.exists()


def test_where_is_interviewer_selects_the_interviewer(tmp_path):
    corpus = make_ward(tmp_path)
    result = run("freq", corpus, "--where", "is_interviewer=true", "--out", tmp_path / "t")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "t" / "freq_is-interviewer-true.csv")
    # the questions' counted words: night, shifts, staffing, worries, changed
    assert dict(zip(table["word"], table["count"])) == {"changed": 1, "night": 1, "shifts": 1, "staffing": 1,
                                                       "worries": 1}


WARD_STUDY = """\
study: ward
corpus: interviews
outputs: out
segments:
  - {id: all, label: Every nurse and manager}
  - {id: early, label: First wave, where: {wave: early}}
"""


def test_terms_with_and_without_study_agree_and_keep_apart(tmp_path, monkeypatch):
    make_ward(tmp_path)
    study = write(tmp_path / "ward.yaml", WARD_STUDY)
    monkeypatch.chdir(tmp_path)
    assert run("terms", "--study", study, "--min-freq", "1").exit_code == 0
    assert run("terms", "interviews", "--min-freq", "1").exit_code == 0
    with_study, alone = pd.read_csv("out/terms/terms_all.csv"), pd.read_csv("outputs/terms/terms_all.csv")
    assert len(alone) > 0 and alone.equals(with_study)     # the same segment `all`
    assert not Path("out/tables").exists()                  # the study's own files are never touched


def test_study_segment_value_matching_nothing_names_its_line(tmp_path):
    make_ward(tmp_path)
    study = write(tmp_path / "ward.yaml", WARD_STUDY.replace("wave: early", "wave: Early"))
    result = run("reproduce", study)
    assert result.exit_code == 1
    assert result.output == (f"Error: {study}:6: segments[1].where.wave: segment 'early': wave 'Early' "
                             "matches nothing in the corpus (values of wave: early, late); use one of the "
                             "values listed\n")
