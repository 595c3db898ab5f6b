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
SIZES = {"0.5M": 500_000, "5M": 5_000_000}
SMALL = ("0.5M",)
ALL = tuple(SIZES)


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


# Runs a command and prints its seconds and maxrss. A small wrapper process,
# because a child forked from this (large) process counts the parent's pages
# in its maxrss until it execs.
_WRAP = """import json, resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
s = time.perf_counter() - t
print(json.dumps([p.returncode, s, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                  p.stderr.decode(errors="replace")[-500:]]))
"""


def run_child(cmd: list[str]) -> tuple[float, float]:
    """Seconds and peak resident MB of one subprocess."""
    out = subprocess.run([sys.executable, "-c", _WRAP, *cmd], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    code, seconds, maxrss, err = json.loads(out)
    if code != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({code}): {err.strip()}")
    return seconds, maxrss / 1024


# ---- stages ----------------------------------------------------------------

WORD = re.compile(r"\w+")


@stage("floor")
def floor(b: Bench) -> int:
    """Read every transcript, lower-case, regex-tokenise, count (the yardstick)."""
    counts: collections.Counter = collections.Counter()
    for path in sorted((b.folder / "corpus" / "transcripts").glob("*.txt")):
        counts.update(WORD.findall(path.read_text("utf-8").lower()))
    return b.words


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
def freq_total(b: Bench) -> tuple[int, float, float]:
    """Sum of the three stages above; memory is the child's peak since it started."""
    seconds = sum(b.shared["seconds"][k] for k in ("load", "tokenise", "freq (7 segments)"))
    return b.words, seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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


def _reproduce(b: Bench, *steps: str) -> tuple[int, float, float]:
    only = [a for s in steps for a in ("--only", s)]
    seconds, mb = run_child([str(BIN / "hcrisis"), "reproduce", str(b.study), *only])
    return b.words, seconds, mb


def _cold(b: Bench, *steps: str) -> tuple[int, float, float]:
    shutil.rmtree(b.folder / ".hcrisis-cache", ignore_errors=True)
    shutil.rmtree(b.folder / "outputs", ignore_errors=True)
    return _reproduce(b, *steps)


@stage("cold chapter5+clouds steps (subprocess)", sizes=SMALL, target="≤ 5 s")
def reproduce_cold_issue(b: Bench) -> tuple[int, float, float]:
    """Issue 3's scope, cold, with imports: load, tokenise, 7 frequency tables, keyness
    (8 tables), the chapter-5 checks, 6 clouds and the la/ha comparison cloud."""
    return _cold(b, "chapter5", "clouds")


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


@stage("hcrisis --help (subprocess)", sizes=SMALL, target="≤ 0.5 s")
def cli_help(b: Bench) -> tuple[int, float, float]:
    seconds, mb = run_child([str(BIN / "hcrisis"), "--help"])
    return 0, seconds, mb


# ---- driver ----------------------------------------------------------------

def run_size(size: str, root: Path, only: list[str] | None) -> list[dict]:
    """Run the stages of one size in this process; one result row per stage."""
    folder = root / size
    info = synth.make_corpus(folder / "corpus", SIZES[size])
    study = synth.make_study(folder, folder / "corpus", folder / "outputs")
    b = Bench(size, folder, study, info["words"], shared={"seconds": {}})
    rows = []
    for st in STAGES:
        if size not in st.sizes or (only and st.name not in only and st.name != "floor"):
            continue
        reset_peak()
        start = time.perf_counter()
        result = st.fn(b)
        if isinstance(result, tuple):
            words, seconds, mb = result
        else:
            words, seconds, mb = result, time.perf_counter() - start, peak_mb()
        b.shared["seconds"][st.name] = seconds
        rows.append({"size": size, "stage": st.name, "words": words, "seconds": seconds,
                     "peak_mb": mb, "target": st.target})
    floor_s = b.shared["seconds"].get("floor")
    for row in rows:
        row["x_floor"] = row["seconds"] / floor_s if floor_s else None
    if "steps" in b.shared:
        rows.append({"size": size, "stage": "steps", "steps": b.shared["steps"]})
    return rows


def print_rows(rows: list[dict]) -> None:
    head = f"{'size':<5} {'stage':<40} {'words':>10} {'seconds':>8} {'words/s':>10} " \
           f"{'peak MB':>8} {'x floor':>8}  target"
    print(head)
    print("-" * len(head))
    for r in rows:
        if r["stage"] == "steps":
            continue
        rate = f"{r['words'] / r['seconds']:,.0f}" if r["words"] and r["seconds"] else "-"
        ratio = f"{r['x_floor']:.1f}" if r.get("x_floor") else "-"
        print(f"{r['size']:<5} {r['stage']:<40} {r['words']:>10,} {r['seconds']:>8.2f} {rate:>10} "
              f"{r['peak_mb']:>8.0f} {ratio:>8}  {r['target']}")
    for r in rows:
        if r["stage"] == "steps":
            print(f"\nreproduce steps ({r['size']}, uncached, in process): "
                  + ", ".join(f"{n} {s:.2f} s" for n, s in r["steps"]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="only the 0.5M-word corpus")
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
    try:
        for size in (SMALL if args.quick else ALL):
            cmd = [sys.executable, __file__, "--child", size, "--root", str(root)]
            cmd += [a for name in (args.only or []) for a in ("--only", name)]
            out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
            rows += json.loads(out.strip().splitlines()[-1])
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(f"hcrisis benchmarks on SYNTHETIC corpora (benchmarks/synth.py), "
          f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')}")
    print_rows(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
