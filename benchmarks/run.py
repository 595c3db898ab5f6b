"""hcrisis benchmarks (`make bench`): speed and memory per stage on SYNTHETIC corpora.

    .venv/bin/python benchmarks/run.py            # 0.5M and 5M words
    .venv/bin/python benchmarks/run.py --quick    # 0.5M words only
    .venv/bin/python benchmarks/run.py --only tokenise --only freq

Corpora are generated deterministically from the thesis text by
`benchmarks/synth.py` (~8,000-word transcripts) into a temporary folder.
Each size runs in its own child process, so memory figures do not mix.
Per stage it prints seconds, words per second, peak resident memory (the
process's high-water mark, reset before each stage through
/proc/self/clear_refs; for subprocess stages the child's maxrss) and the
ratio to a floor measured in the same run: read the files, lower-case,
regex-tokenise and count with collections.Counter.

To add a stage (e.g. coding or term extraction), decorate a function taking
the `Bench` of one size and returning the number of words it processed:

    @stage("terms", sizes=SMALL, target="≤ 10 s")
    def terms(b: Bench) -> int:
        from hcrisis.text.terms import extract
        extract(b.tokens(), ...)
        return b.words

Stages run in the order they are declared; `b.tokens()`, `b.counter()`
and `b.corpus()` are computed once per size and shared (their cost is the
`load`, `tokenise` and `freq` stages').
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import synth  # noqa: E402

BIN = Path(sys.executable).parent
SIZES = {"0.5M": 500_000, "5M": 5_000_000, "50M": 50_000_000}
SMALL = ("0.5M",)
ALL = ("0.5M", "5M")              # `make bench`; 50M only with --large (`make bench-large`)
SCALE = ("0.5M", "5M", "50M")


@dataclass
class Bench:
    """One synthetic corpus and the shared results of earlier stages."""

    size: str
    folder: Path
    study: Path
    words: int
    shared: dict = field(default_factory=dict)

    def _once(self, key: str, make: Callable):
        if key not in self.shared:
            self.shared[key] = make()
        return self.shared[key]

    def corpus(self):
        from hcrisis.ingest.corpus import load_corpus
        return self._once("corpus", lambda: load_corpus(self.folder / "corpus"))

    def tokens(self):
        from hcrisis.text.tokens import tokenize_segments
        return self._once("tokens", lambda: tokenize_segments(self.corpus().segments))

    def load_study(self):
        from hcrisis.study.model import load_study
        return self._once("study", lambda: load_study(self.study))

    def counter(self):
        from hcrisis.text.freq import FreqCounter, FreqSettings
        return self._once("counter", lambda: FreqCounter(
            self.tokens(), self.corpus().segments, FreqSettings.from_mapping(self.load_study().settings("freq"))))


@dataclass
class Stage:
    name: str
    fn: Callable[[Bench], int | tuple[int, float, float]]
    sizes: tuple[str, ...]
    target: str = ""


STAGES: list[Stage] = []


def stage(name: str, sizes: tuple[str, ...] = ALL, target: str = "") -> Callable:
    """Register a benchmark stage (see the module docstring)."""
    def deco(fn):
        STAGES.append(Stage(name, fn, sizes, target))
        return fn
    return deco


# ---- measurement -----------------------------------------------------------

def reset_peak() -> None:
    """Reset the kernel's resident high-water mark of this process (Linux ≥ 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def peak_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# Runs a command and prints its seconds, CPU seconds (user + system, of it and
# every process it waited for) and maxrss (the largest of them), and its last
# output line. A small wrapper process, because a child forked from this
# (large) process counts the parent's pages in its maxrss until it execs.
_WRAP = """import json, resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
s = time.perf_counter() - t
r = resource.getrusage(resource.RUSAGE_CHILDREN)
out = p.stdout.decode(errors="replace").strip().splitlines()
print(json.dumps([p.returncode, s, r.ru_utime + r.ru_stime, r.ru_maxrss, out[-1] if out else "",
                  p.stderr.decode(errors="replace")[-500:]]))
"""


@dataclass
class Child:
    """Wall and CPU seconds, peak resident MB and last output line of one subprocess."""

    seconds: float
    cpu: float
    mb: float
    last_line: str


def run_child(cmd: list[str], **env: str) -> Child:
    out = subprocess.run([sys.executable, "-c", _WRAP, *cmd], check=True, stdout=subprocess.PIPE, text=True,
                         env={**os.environ, **env} if env else None).stdout
    code, seconds, cpu, maxrss, last, err = json.loads(out)
    if code != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({code}): {err.strip()}")
    return Child(seconds, cpu, maxrss / 1024, last)


# ---- stages ----------------------------------------------------------------

WORD = re.compile(r"\w+")
# The floor of the issue, in its own process (start-up included): read, lower-case,
# `[a-z]+` words of 3+ letters, Counter.
FLOOR = """import collections, re, sys
from pathlib import Path
word = re.compile(r"[a-z]+")
counts = collections.Counter()
for path in sorted(Path(sys.argv[1]).glob("*.txt")):
    counts.update(w for w in word.findall(path.read_text("utf-8").lower()) if len(w) >= 3)
print(len(counts))
"""


@stage("floor")
def floor(b: Bench) -> int:
    """Read every transcript, lower-case, regex-tokenise, count (the yardstick)."""
    counts: collections.Counter = collections.Counter()
    for path in sorted((b.folder / "corpus" / "transcripts").glob("*.txt")):
        counts.update(WORD.findall(path.read_text("utf-8").lower()))
    return b.words


def floor_child(b: Bench) -> Child:
    return run_child([sys.executable, "-c", FLOOR, str(b.folder / "corpus" / "transcripts")])


@stage("floor, subprocess ([a-z]+ of 3+, Counter)", sizes=SCALE)
def floor_process(b: Bench) -> tuple:
    child = floor_child(b)
    b.shared["floor_cpu"] = child.cpu
    return b.words, child.seconds, child.mb, child.cpu


@stage("tidytext, R (subprocess)", sizes=SCALE, target="hcrisis freq ahead")
def tidytext(b: Bench) -> tuple:
    """The same frequency table with R's tidytext (`benchmarks/tidytext.R`: unnest_tokens,
    words of 3+ letters, its stop words, count), if Rscript and the tidytext, dplyr and readr
    packages are installed (Debian: r-cran-tidytext r-cran-dplyr r-cran-readr); else a note."""
    if shutil.which("Rscript") is None or subprocess.run(
            ["Rscript", "-e", "library(tidytext); library(dplyr); library(readr)"], capture_output=True).returncode:
        b.shared["note"] = "skipped: Rscript with tidytext, dplyr and readr not installed"
        return b.words, float("nan"), float("nan"), float("nan")
    child = run_child(["Rscript", str(HERE / "tidytext.R"), str(b.folder / "corpus" / "transcripts")])
    return b.words, child.seconds, child.mb, child.cpu


def _engine_stage(b: Bench, command: str, engine: str) -> tuple:
    """`freq` or `code` of the corpus in a subprocess (benchmarks/engine_run.py), the local
    engine or Dask on a LocalCluster of 2 workers: per-worker peaks in the notes."""
    out = b.folder / f"out-{command}-{engine}"
    shutil.rmtree(out, ignore_errors=True)
    source = b.study if command == "reproduce" else b.folder / "corpus"
    cmd = [sys.executable, str(HERE / "engine_run.py"), command, str(source), str(out)]
    child = run_child(cmd + (["--engine", "dask", "--workers", "2"] if engine == "dask" else ["--engine", engine]))
    got = json.loads(child.last_line)
    note = f"{got['partitions']} partitions"
    if got["worker_mb"]:
        note += (", workers' peak " if engine == "dask" else ", forked processes' peak ") \
            + " / ".join(f"{m:.0f}" for m in got["worker_mb"]) + " MB"
    b.shared["note"] = note
    b.shared.setdefault("outputs", {})[(command, engine)] = out
    return b.words, child.seconds, got["main_mb"], got["cpu"]


FREQ_ROUNDS = 3


@stage("hcrisis freq (subprocess)", sizes=SCALE, target="5M: CPU ≤ 3× floor; 50M: ≤ 1.5 GB")
def freq_cli(b: Bench) -> tuple:
    """The command as users run it: `hcrisis freq CORPUS --out DIR` (local engine), each
    of `FREQ_ROUNDS` runs just after a floor run (the machine is shared: the ratio is
    taken within the same few seconds); the row is the median run, the note the range."""
    out = b.folder / "out-freq-cli"
    rounds = []
    for _ in range(FREQ_ROUNDS if b.size != "50M" else 1):
        base = floor_child(b)
        child = run_child([str(BIN / "hcrisis"), "freq", str(b.folder / "corpus"), "--out", str(out),
                           "--allow-identifiers"])    # the synthetic text quotes the thesis's names
        rounds.append((child.cpu / base.cpu, base, child))
    rounds.sort(key=lambda r: r[0])
    b.shared["note"] = (f"CPU / floor run just before: {rounds[0][0]:.2f}–{rounds[-1][0]:.2f} "
                        f"over {len(rounds)} rounds (floor {min(r[1].cpu for r in rounds):.2f}–"
                        f"{max(r[1].cpu for r in rounds):.2f} CPU s)")
    child = rounds[len(rounds) // 2][2]
    return b.words, child.seconds, child.mb, child.cpu


def _dask_stage(b: Bench, command: str) -> tuple:
    result = _engine_stage(b, command, "dask")
    _same_outputs(b, command)
    return result


# freq and code, each with the local engine, then with Dask (compared with the local run's files)
for _command, _local, _local_target, _dask in (
        ("freq", "freq, local engine (subprocess)", "", "freq, dask 2 workers (subprocess)"),
        ("code", "code, thesis codebook, local (subprocess)", "5M: ≤ 10 s", "code, dask 2 workers (subprocess)")):
    stage(_local, sizes=SCALE, target=_local_target)(lambda b, c=_command: _engine_stage(b, c, "local"))
    stage(_dask, sizes=SCALE, target="files identical to local")(lambda b, c=_command: _dask_stage(b, c))


# terms: the whole corpus in memory (the library's path without an engine), then by partition
# with the local engine (`hcrisis terms`) and with Dask; reproduce of the synthetic study cold,
# as the CLI's local engine runs it and with Dask
for _command, _engines, _sizes in (("terms", ("none", "local", "dask"), ALL),
                                   ("reproduce", ("local", "dask"), SMALL)):
    for _engine in _engines:
        _name = {"none": "whole corpus in memory", "local": "local engine", "dask": "dask 2 workers"}[_engine]
        stage(f"{_command}, {_name} (subprocess)", sizes=_sizes,
              target="files identical to local" if _engine == "dask" else "")(
            lambda b, c=_command, e=_engine: _dask_stage(b, c) if e == "dask" else _engine_stage(b, c, e))


def _same_outputs(b: Bench, command: str) -> None:
    """Note whether the Dask run wrote the same bytes as the local one."""
    a, d = (b.shared["outputs"][(command, e)] for e in ("local", "dask"))
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    same = files == sorted(p.relative_to(d) for p in d.rglob("*") if p.is_file()) and all(
        (a / f).read_bytes() == (d / f).read_bytes() for f in files)
    b.shared["note"] += f"; {len(files)} files {'identical' if same else 'DIFFERENT'} to local"


@stage("load")
def load(b: Bench) -> int:
    b.corpus()
    return b.words


@stage("tokenise")
def tokenise(b: Bench) -> int:
    """`tokenize_segments`: two processes on a multi-core machine above hcrisis.text.tokens.PARALLEL_CHARS (5M words)."""
    b.tokens()
    return b.words


@stage("tokenise, one process")
def tokenise_serial(b: Bench) -> int:
    from hcrisis.text.tokens import tokenize_segments
    tokenize_segments(b.corpus().segments, processes=1)
    return b.words


@stage("freq (7 segments)")
def freq(b: Bench) -> int:
    counter = b.counter()
    b.shared["tables"] = {s.id: counter.table(s) for s in b.load_study().segments}
    return b.words


@stage("freq total, load+tokenise+freq", sizes=("5M",), target="≤ 20 s, < 1 GB resident")
def freq_total(b: Bench) -> tuple:
    """Sum of the three stages above; memory is the child's peak since it started."""
    parts = ("load", "tokenise", "freq (7 segments)")
    seconds = sum(b.shared["seconds"][k] for k in parts)
    cpu = sum(b.shared["cpu"][k] for k in parts)
    return b.words, seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, cpu


@stage("keyness (la v ha)")
def keyness(b: Bench) -> int:
    study = b.load_study()
    b.counter().keyness(study.segment("la"), study.segment("ha"), labels=("la", "ha"))
    return b.words


@stage("terms (index + 7 segment tables)", sizes=SMALL, target="≤ 1.5 s after tokenisation")
def terms(b: Bench) -> int:
    """hcrisis.text.terms: n-gram index, then C-value, G², PMI and forms per study segment (as the step)."""
    from hcrisis.text.terms import TermIndex, TermSettings
    study = b.load_study()
    s = TermSettings.from_mapping(study.settings("terms"), study.path)
    index = TermIndex(b.tokens(), b.corpus().segments)
    for seg in b.load_study().segments:
        index.table(seg, s.min_freq, s.min_docs, s.top)
    return b.words


@stage("6 clouds", sizes=SMALL)
def clouds(b: Bench) -> int:
    """As the clouds step draws them: `render_all`, in worker processes on a multi-core machine."""
    from hcrisis.text.cloud import cloud_job, figure_stem, write_figures
    write_figures([(figure_stem(b.folder / "clouds", seg), cloud_job(b.shared["tables"][seg.id]))
                   for seg in b.load_study().segments if seg.figure])
    return b.words


@stage("code (thesis codebook x3: 204 codes)", sizes=SMALL, target="≤ 1 s after tokenisation")
def code(b: Bench) -> int:
    """Load the thesis codebook, then `apply_codebook` on the shared tokens (array matching, unit coding)."""
    from hcrisis.coding.codebook import build_codebook, load_codebook
    from hcrisis.coding.apply import apply_codebook

    thesis = load_codebook(HERE.parent / "codebooks" / "thesis.yaml")

    def copy(codes: list, k: int) -> list:   # the tree again, with ids suffixed (related dropped)
        return [{**{key: v for key, v in c.items() if key not in ("codes", "related")},
                 "id": f"{c['id']}_{k}", "codes": copy(c.get("codes", []), k)} for c in codes]

    book = build_codebook({**thesis.data, "codes": [c for k in range(3) for c in copy(thesis.data["codes"], k)]})
    apply_codebook(book, b.corpus().segments, b.tokens())
    return b.words


def _reproduce(b: Bench, *steps: str) -> tuple:
    only = [a for s in steps for a in ("--only", s)]
    child = run_child([str(BIN / "hcrisis"), "reproduce", str(b.study), *only])
    return b.words, child.seconds, child.mb, child.cpu


def _cold(b: Bench, *steps: str) -> tuple[int, float, float]:
    shutil.rmtree(b.folder / ".hcrisis-cache", ignore_errors=True)
    shutil.rmtree(b.folder / "outputs", ignore_errors=True)
    return _reproduce(b, *steps)


@stage("cold chapter5+clouds steps (subprocess)", sizes=SMALL, target="≤ 5 s")
def reproduce_cold_issue(b: Bench) -> tuple[int, float, float]:
    """Issue 3's scope, cold, with imports: load, tokenise, 7 frequency tables, keyness
    (8 tables), the chapter-5 checks, 6 clouds and the la/ha comparison cloud."""
    return _cold(b, "chapter5", "clouds")


THESIS_ROUNDS = 5


def _median_run(b: Bench, command: list[str], rounds: int) -> tuple:
    """`command` run `rounds` times (the machine is shared: one run can meet another's
    work): the row is the median run, the note the range."""
    runs = sorted((run_child(command) for _ in range(rounds)), key=lambda c: c.seconds)
    b.shared["note"] = (f"median of {rounds} runs: {runs[0].seconds:.2f}–{runs[-1].seconds:.2f} s, "
                        f"{min(c.cpu for c in runs):.2f}–{max(c.cpu for c in runs):.2f} CPU s")
    child = runs[rounds // 2]
    return 0, child.seconds, child.mb, child.cpu


@stage("thesis study: reproduce --no-cache (subprocess)", sizes=SMALL, target="≤ 5 s")
def thesis_cold(b: Bench) -> tuple:
    """The real study, studies/thesis.yaml, cold (its outputs/ and cache in the checkout)."""
    return _median_run(b, [str(BIN / "hcrisis"), "reproduce", str(HERE.parent / "studies" / "thesis.yaml"),
                           "--no-cache"], THESIS_ROUNDS)


@stage("thesis study: reproduce rerun (subprocess)", sizes=SMALL, target="≤ 1 s")
def thesis_warm(b: Bench) -> tuple:
    """`hcrisis reproduce` again (the first run fills the rerun cache that --no-cache skips)."""
    command = [str(BIN / "hcrisis"), "reproduce", str(HERE.parent / "studies" / "thesis.yaml")]
    run_child(command)
    return _median_run(b, command, THESIS_ROUNDS)


@stage("reproduce cold (subprocess)", sizes=SMALL)
def reproduce_cold(b: Bench) -> tuple[int, float, float]:
    """Every step, including coding, terms and agreement."""
    return _cold(b)


@stage("reproduce rerun (cached)", sizes=SMALL, target="≤ 1.5 s")
def reproduce_rerun(b: Bench) -> tuple[int, float, float]:
    return _reproduce(b)


@stage("reproduce steps, uncached (in process)", sizes=SMALL)
def reproduce_steps(b: Bench) -> int:
    """Seconds per reproduction step, printed below the table."""
    from hcrisis.study.runner import reproduce
    marks: list[tuple[str, float]] = []
    reproduce(b.study, progress=lambda name: marks.append((name, time.perf_counter())),
                  cache=False)
    marks.append(("(report)", time.perf_counter()))
    b.shared["steps"] = [(n, t1 - t0) for (n, t0), (_, t1) in zip(marks, marks[1:])]
    return b.words


def _stored_tokens(b: Bench, command: list[str], stored: bool) -> tuple:
    """`hcrisis freq`/`kwic --study` of the synthetic study: with no tokens in its rerun store
    (tokenised as always), then once the store holds them (filled here from the shared
    tokens; the second of two runs is timed, the first stores the loaded corpus too).
    The stored-tokens run's outputs are compared with the tokenising run's."""
    from hcrisis.study.rerun import cached_tokens, open_store

    out = b.folder / f"out-{command[0]}-{'stored' if stored else 'tokenised'}"
    args = [str(BIN / "hcrisis"), *command, "--study", str(b.study), "--allow-identifiers",
            "--out", str(out / ("kwic.csv" if command[0] == "kwic" else ""))]
    store = open_store(b.load_study().outputs)
    if stored:
        cached_tokens(b.corpus().segments, store, lambda _: b.tokens())
        run_child(args)
    else:
        shutil.rmtree(store.root / "tokens", ignore_errors=True)
    child = run_child(args)
    b.shared.setdefault("outputs", {})[(command[0], stored)] = out
    if stored:
        a, d = (b.shared["outputs"][(command[0], s)] for s in (False, True))
        files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
        same = all((a / f).read_bytes() == (d / f).read_bytes() for f in files)
        b.shared["note"] = f"{len(files)} files {'identical' if same else 'DIFFERENT'} to the tokenising run's"
    return b.words, child.seconds, child.mb, child.cpu


for _command in (["freq"], ["kwic", "tenant*"]):
    for _stored in (False, True):
        stage(f"{_command[0]}, {'--study stored tokens' if _stored else 'tokenising'} (subprocess)")(
            lambda b, c=_command, s=_stored: _stored_tokens(b, c, s))


@stage("hcrisis --help (subprocess)", sizes=SMALL, target="≤ 0.5 s")
def cli_help(b: Bench) -> tuple:
    child = run_child([str(BIN / "hcrisis"), "--help"])
    return 0, child.seconds, child.mb, child.cpu


# ---- driver ----------------------------------------------------------------

def run_size(size: str, root: Path, only: list[str] | None) -> list[dict]:
    """Run the stages of one size in this process; one result row per stage.

    A stage returns its words (then seconds, CPU seconds and peak are measured
    here, in this process) or (words, seconds, peak MB, CPU seconds) of a
    subprocess. `x floor` is seconds over the in-process floor's; `CPU x floor`
    (subprocess stages) is CPU seconds over the floor subprocess's, start-up
    included on both sides.
    """
    folder = root / size
    info = synth.make_corpus(folder / "corpus", SIZES[size])
    study = synth.make_study(folder, folder / "corpus", folder / "outputs")
    b = Bench(size, folder, study, info["words"], shared={"seconds": {}})
    rows = []
    for st in STAGES:
        if size not in st.sizes or (only and st.name not in only and not st.name.startswith("floor")):
            continue
        reset_peak()
        start, cpu_start = time.perf_counter(), time.process_time()
        result = st.fn(b)
        if isinstance(result, tuple):
            words, seconds, mb, cpu = result
        else:
            words, seconds, mb = result, time.perf_counter() - start, peak_mb()
            cpu = time.process_time() - cpu_start
        b.shared["seconds"][st.name] = seconds
        b.shared.setdefault("cpu", {})[st.name] = cpu
        rows.append({"size": size, "stage": st.name, "words": words, "seconds": seconds, "cpu": cpu,
                     "peak_mb": mb, "target": st.target, "note": b.shared.pop("note", "")})
    floor_s, floor_cpu = b.shared["seconds"].get("floor"), b.shared.get("floor_cpu")
    for row in rows:
        row["x_floor"] = row["seconds"] / floor_s if floor_s else None
        subprocess_stage = "subprocess" in row["stage"] and "floor" not in row["stage"]
        row["cpu_x_floor"] = row["cpu"] / floor_cpu if floor_cpu and subprocess_stage else None
    if "steps" in b.shared:
        rows.append({"size": size, "stage": "steps", "steps": b.shared["steps"]})
    return rows


def print_rows(rows: list[dict]) -> None:
    head = f"{'size':<5} {'stage':<44} {'words':>10} {'seconds':>8} {'CPU s':>7} {'words/s':>10} " \
           f"{'peak MB':>8} {'x floor':>8} {'CPU x floor':>11}  target / notes"
    print(head)
    print("-" * len(head))
    for r in rows:
        if r["stage"] == "steps":
            continue
        rate = f"{r['words'] / r['seconds']:,.0f}" if r["words"] and r["seconds"] else "-"
        ratio = f"{r['x_floor']:.1f}" if r.get("x_floor") else "-"
        cpu_ratio = f"{r['cpu_x_floor']:.2f}" if r.get("cpu_x_floor") else "-"
        notes = "; ".join(x for x in (r["target"], r.get("note", "")) if x)
        print(f"{r['size']:<5} {r['stage']:<44} {r['words']:>10,} {r['seconds']:>8.2f} {r['cpu']:>7.2f} "
              f"{rate:>10} {r['peak_mb']:>8.0f} {ratio:>8} {cpu_ratio:>11}  {notes}")
    for r in rows:
        if r["stage"] == "steps":
            print(f"\nreproduce steps ({r['size']}, uncached, in process): "
                  + ", ".join(f"{n} {s:.2f} s" for n, s in r["steps"]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="only the 0.5M-word corpus")
    ap.add_argument("--large", action="store_true", help="only the 50M-word corpus (make bench-large): "
                    "the floor, freq and code, local and Dask; ~300 MB of files, several minutes")
    ap.add_argument("--only", action="append", help="run only this stage (repeatable)")
    ap.add_argument("--json", type=Path, help="also write the results as JSON")
    ap.add_argument("--keep", type=Path, help="generate corpora here and keep them")
    ap.add_argument("--child", help=argparse.SUPPRESS)   # SIZE, run in a child process
    ap.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(run_size(args.child, args.root, args.only)))
        return 0
    root = args.keep or Path(tempfile.mkdtemp(prefix="hcrisis-bench-"))
    rows: list[dict] = []
    load_before = f"{os.getloadavg()[0]:.2f}"     # the machine is shared: say how busy it was
    try:
        for size in (SMALL if args.quick else ("50M",) if args.large else ALL):
            cmd = [sys.executable, __file__, "--child", size, "--root", str(root)]
            cmd += [a for name in (args.only or []) for a in ("--only", name)]
            out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
            rows += json.loads(out.strip().splitlines()[-1])
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(f"hcrisis benchmarks on SYNTHETIC corpora (benchmarks/synth.py), "
          f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M')}, "
          f"load average before {load_before}, after {os.getloadavg()[0]:.2f}")
    print_rows(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
