"""`hcrisis reproduce`: run a study's declared steps and report every number.

The runner knows steps, not their domain: it loads the study and its corpus
once, orders the declared steps so each runs after the steps it reads
(`hcrisis.study.steptypes`), runs them (or replays them from the rerun
store, `hcrisis.study.rerun`), waits for their background work
(`hcrisis.study.parallel.Workers`), then runs the final steps (the report),
waits for theirs (the page is written while the workbook is) and writes
`manifest.json` (inputs with the hashes they had when read,
parameters, package versions, output hashes). No timestamps are written, so
reruns give byte-identical files.

`only` runs the named steps and the steps they read. Such a partial run
writes its report and manifest as `reproduction.partial.md` and
`manifest.partial.json`, never over a full run's.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from hcrisis.errors import InputError, SchemaError
from hcrisis.files import sha256_file, write_atomic
from hcrisis.ingest.corpus import Corpus
from hcrisis.study.model import StepDecl, Study, check_segment_columns, load_study
from hcrisis.study.parallel import Workers
from hcrisis.study.rerun import (STEP_BYTES, RerunStore, StepRecord, cached_corpus, cached_tokens, digest,
                                 open_store, package_versions, step_key)
from hcrisis.study.steptypes import StepType, step_type

REPRODUCED = "reproduced"
DIFFERS = "differs"
NOT_REPRODUCED = "not reproduced"
NOT_COMPUTABLE = "not computable"
NOT_TESTABLE = "not testable"


@dataclass
class Check:
    """One published number or claim and what the data here say about it."""

    section: str
    quantity: str
    published: str
    computed: str
    status: str
    note: str = ""


@dataclass
class PlannedStep:
    decl: StepDecl
    type: StepType
    reads: dict[str, str]       # step type -> id of the step it reads


@dataclass
class Run:
    """Everything a run produced, and what it shares between steps."""

    study: Study
    corpus: Corpus
    out: Path
    store: RerunStore | None
    workers: Workers
    partial: bool = False
    checks: list[Check] = field(default_factory=list)
    sections: list[tuple[str, str]] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    inputs: dict[Path, str | None] = field(default_factory=dict)   # hashed when read
    results: dict[str, dict[str, Any]] = field(default_factory=dict)   # per step id, recorded
    memo: dict[str, Any] = field(default_factory=dict)   # shared in this run only (tokens, counts)
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)     # replayed from the rerun store
    notes: Callable[[str], None] | None = None           # told what a step is doing (progress display)
    engine: Any = None    # an hcrisis.engine.Engine for the corpus-reducing work, else this process

    @property
    def report_name(self) -> str:
        return "reproduction.partial.md" if self.partial else "reproduction.md"

    @property
    def manifest_name(self) -> str:
        return "manifest.partial.json" if self.partial else "manifest.json"

    def tokenize(self, segments: pd.DataFrame):
        """The corpus's tokens: partition by partition on the run's engine (joined in
        partition order: `hcrisis.engine.tokens`), else by the run's workers."""
        if self.engine is None:
            return self.workers.tokenize_segments(segments)
        from hcrisis.engine.tokens import engine_tokens
        return engine_tokens(self.study.corpus_path, self.engine, segment_ids=segments["segment_id"].tolist())

    def read(self, path: str | Path) -> Path:
        """Record an input file with its hash as it is read; return its path."""
        p = Path(path).resolve()
        if p not in self.inputs:
            self.inputs[p] = self.store.file_hash(p) if self.store else (sha256_file(p) if p.is_file() else None)
        return p


class StepContext:
    """What a step type's function sees: its declaration, the run, and helpers."""

    def __init__(self, run: Run, planned: PlannedStep):
        self.run, self.step, self._reads = run, planned.decl, planned.reads
        self.study, self.corpus = run.study, run.corpus
        self.settings = planned.decl.settings
        writes = planned.decl.writes if planned.decl.writes is not None else planned.type.writes
        self.out = run.out / writes if writes else run.out
        self.results: dict[str, Any] = run.results.setdefault(planned.decl.id, {})
        self.deferred: Callable[[], list[Path]] | None = None
        # the step's own, also those its background work adds: the report lists them in declaration order
        self.checks: list[Check] = []
        self.sections: list[tuple[str, str]] = []

    def check(self, *args, **kwargs) -> Check:
        c = Check(*args, **kwargs)
        self.checks.append(c)
        return c

    def add_section(self, title: str, markdown: str) -> None:
        """Report text (a heading and its body) after the checks table."""
        self.sections.append((title, markdown))

    def wrote(self, paths: list[Path]) -> None:
        self.run.written += paths

    def note(self, text: str) -> None:
        """Say what the step is doing (e.g. "coding 207 segments"), for the progress display."""
        if self.run.notes is not None:
            self.run.notes(text)

    def read(self, path: str | Path) -> Path:
        return self.run.read(path)

    def setting_path(self, key: str) -> Path | None:
        """A file named in this step's settings, relative to the study file, recorded as read."""
        path = self.study.path_setting(self.settings.get(key))
        return self.read(path) if path is not None else None

    def needs(self, type_name: str) -> dict[str, Any]:
        """The results of the step of `type_name` this step reads."""
        return self.run.results.get(self._reads[type_name], {})

    def tokens(self):
        """The corpus tokenised once per run and shared by every step."""
        if "tokens" not in self.run.memo:
            self.note(f"tokenising {len(self.corpus.segments):,} segments")
            self.run.memo["tokens"] = cached_tokens(self.corpus.segments, self.run.store, self.run.tokenize)
        return self.run.memo["tokens"]

    def with_tokens(self, function: Callable[..., Any], *args) -> Callable[[], Any]:
        """Start `function(segments, tokens, *args)` on the corpus's segments and tokens where
        the tokens are (`Workers.with_tokens`: in the early tokeniser's process, which has
        spaCy loaded, if it made them); the function returned waits for the result."""
        return self.run.workers.with_tokens(function, self.corpus.segments, self.tokens, *args)

    def memo(self, name: str, make: Callable[[], Any]) -> Any:
        """A value shared by the steps of this run, never recorded (e.g. word counts)."""
        if name not in self.run.memo:
            self.run.memo[name] = make()
        return self.run.memo[name]

    def submit(self, function: Callable[..., Any], *args) -> Callable[[], Any]:
        """Start `function(*args)` in the process that imported the step type's `preload`
        modules (`Workers.submit`) and go on; the function returned waits for the result."""
        return self.run.workers.submit(function, *args)

    def defer(self, finish: Callable[[], list[Path]]) -> None:
        """Leave work running in the background (`Workers.defer`): `finish()` returns the
        files it wrote; the step's outputs and its record are complete only then."""
        self.deferred = finish


def plan(study: Study) -> list[PlannedStep]:
    """The declared steps, each after the steps it reads, steps whose work goes on in the
    background first (with the steps they read), otherwise in declaration order. (The
    report lists each step's checks and sections in declaration order all the same.)"""
    by_id = {d.id: d for d in study.steps}
    planned = {}
    for d in study.steps:
        where = f"steps[{d.index}]"
        try:
            kind = step_type(d.type)
        except InputError as exc:
            raise SchemaError(study.path, [(f"{where}.type", study.line(f"{where}.type"),
                                            f"{exc.message} ({exc.fix})")]) from None
        planned[d.id] = PlannedStep(d, kind, _reads(study, d, kind, by_id))
    order: list[str] = []

    def visit(step_id: str, chain: tuple[str, ...]) -> None:
        if step_id in order:
            return
        if step_id in chain:
            raise SchemaError(study.path, [("steps", study.line("steps"),
                                            "steps read each other in a cycle: " + " -> ".join(chain + (step_id,)))])
        for dep in planned[step_id].reads.values():
            visit(dep, chain + (step_id,))
        order.append(step_id)

    for d in sorted(study.steps, key=lambda d: not planned[d.id].type.background):   # stable
        visit(d.id, ())
    return [planned[i] for i in order]


def _reads(study: Study, d: StepDecl, kind: StepType, by_id: dict[str, StepDecl]) -> dict[str, str]:
    where = f"steps[{d.index}]"
    if d.reads is not None:
        unknown = [r for r in d.reads if r not in by_id]
        if unknown:
            raise SchemaError(study.path, [(f"{where}.reads", study.line(f"{where}.reads"),
                                            f"no step '{unknown[0]}' (steps: {', '.join(by_id)})")])
        return {by_id[r].type: r for r in d.reads}
    reads = {}
    for needed in kind.reads:
        found = [s.id for s in study.steps if s.type == needed]
        if not found:
            raise SchemaError(study.path, [(where, study.line(where), f"step '{d.id}' ({d.type}) reads the "
                                            f"results of a '{needed}' step: declare one before it")])
        reads[needed] = found[0]
    return reads


def select(steps: list[PlannedStep], only: list[str] | None, study: Study) -> list[PlannedStep]:
    """The steps `only` names and every step they read, in run order (all without `only`)."""
    if not only:
        return steps
    by_id = {s.decl.id: s for s in steps}
    unknown = [name for name in only if name not in by_id]
    if unknown:
        raise InputError(f"unknown step '{unknown[0]}'", path=study.path,
                         fix=f"name one of the study's steps: {', '.join(d.id for d in study.steps)}")
    wanted: set[str] = set()
    todo = list(only)
    while todo:
        step_id = todo.pop()
        if step_id not in wanted:
            wanted.add(step_id)
            todo += by_id[step_id].reads.values()
    return [s for s in steps if s.decl.id in wanted or s.type.final]


def reproduce(study: str | Path | Study, only: list[str] | None = None, cache: bool = True,
              progress: Callable[[str], None] | None = None, tokeniser=None,
              notes: Callable[[str], None] | None = None, engine=None) -> Run:
    """Run the study's declared steps; return the run (checks, files written, steps replayed).

    `only`: step ids to run, with the steps they read (a partial run: see the
    module docstring). `cache`: replay steps whose key and files are
    unchanged (`hcrisis.study.rerun`). `tokeniser`: an early
    `hcrisis.study.parallel.Tokeniser` (the caller closes it). `progress(step_id)` is
    called as each step starts, `notes(text)` with what it is doing. `engine`: an
    `hcrisis.engine.Engine` (`--engine dask`) that tokenises and codes the corpus
    partition by partition, with outputs identical to this process's.
    """
    study = study if isinstance(study, Study) else load_study(study)
    steps = plan(study)
    chosen = select(steps, only, study)
    store = open_store(study.outputs) if cache else None
    corpus = cached_corpus(study.corpus_path, store)
    check_segment_columns(study, corpus.segments)
    preload = tuple(sorted({name for s in chosen for name in s.type.preload}))
    run = Run(study, corpus, study.outputs, store, Workers(tokeniser, preload),
              partial=len(chosen) < len(steps), notes=notes, engine=engine)
    try:
        _run_steps(run, chosen, progress)
    finally:
        run.workers.close()
    return run


def _run_steps(run: Run, chosen: list[PlannedStep], progress: Callable[[str], None] | None) -> None:
    """The chosen steps, then the final ones (the report), then manifest.json."""
    study, corpus = run.study, run.corpus
    run.read(study.path)
    run.inputs.update(corpus.input_hashes)   # the corpus files as they were read, not as they are now
    corpus_hashes = [(str(p), run.inputs[p]) for p in sorted({run.read(f) for f in corpus.input_files()})]
    keys: dict[str, str] = {}
    found: dict[str, tuple[list[Check], list[tuple[str, str]]]] = {}   # each step's checks and sections
    for planned in (s for s in chosen if not s.type.final):
        if progress:
            progress(planned.decl.id)
        keys[planned.decl.id], found[planned.decl.id] = run_step(run, planned, corpus_hashes, keys)
    run.workers.finish_all()   # background work may add its step's checks and sections
    # in declaration order, whatever order `plan` ran the steps in
    run.checks = [c for d in study.steps if d.id in found for c in found[d.id][0]]
    run.sections = [s for d in study.steps if d.id in found for s in found[d.id][1]]
    for planned in (s for s in chosen if s.type.final):
        if progress:
            progress(planned.decl.id)
        ctx = StepContext(run, planned)
        planned.type.function()(ctx)
        run.checks += ctx.checks
        run.sections += ctx.sections
        if ctx.deferred is not None:
            run.workers.defer(ctx.deferred, ctx.wrote)
    run.workers.finish_all()
    run.written.append(write_atomic(run.out / run.manifest_name, render_manifest(run)))


def run_step(run: Run, planned: PlannedStep, corpus_hashes: list,
             keys: dict[str, str]) -> tuple[str, tuple[list[Check], list[tuple[str, str]]]]:
    """Run one step, or replay its record; return what the steps reading it put in their
    keys (its key and the hashes of the files it read: a changed input file reruns the
    step, whose results then differ for its readers too), and its checks and sections
    (lists its background work may still add to)."""
    d = planned.decl
    key = step_key(d, run.study, corpus_hashes, [keys.get(r, "") for r in planned.reads.values()],
                   planned.type.module) if run.store else ""
    if run.store is not None:
        record = run.store.load("step", key)
        if isinstance(record, StepRecord) and record.valid(run.store):
            run.written += [Path(p) for p, _ in record.written]
            run.inputs.update({Path(p): h for p, h in record.inputs})
            run.results[d.id] = dict(record.results)
            run.skipped.append(d.id)
            return digest(key, record.inputs), (list(record.checks), list(record.sections))
    run.workers.start_preloading()   # a step runs: the run is not all replayed
    mark = len(run.written)
    inputs_before = set(run.inputs)
    ctx = StepContext(run, planned)
    planned.type.function()(ctx)
    run.ran.append(d.id)
    # what this step added, taken now: later steps add theirs while its deferred work runs
    written = run.written[mark:]
    inputs = [(str(p), h) for p, h in run.inputs.items() if p not in inputs_before]

    def record(later: list[Path]) -> None:
        run.written += later
        if run.store is None:
            return
        run.store.forget(written + later)
        run.store.store("step", key, StepRecord(ctx.checks, ctx.sections, run.store.hashed(written + later),
                                                inputs, ctx.results), keep_bytes=STEP_BYTES)

    if ctx.deferred is None:
        record([])
    else:
        run.workers.defer(ctx.deferred, record)
    return digest(key, inputs), (ctx.checks, ctx.sections)


def checks_table(checks: list[Check]) -> pd.DataFrame:
    return pd.DataFrame([c.__dict__ for c in checks],
                        columns=["section", "quantity", "published", "computed", "status", "note"])


def status_counts(checks: list[Check]) -> str:
    counts = checks_table(checks)["status"].value_counts().sort_index()
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def relative(path: Path, base: Path) -> str:
    """A path relative to the project folder (the outputs folder's parent)."""
    return os.path.relpath(Path(path).resolve(), base.resolve()).replace(os.sep, "/")


def render_manifest(run: Run) -> str:
    written = sorted({p.resolve() for p in run.written if p.name != run.manifest_name})
    base = run.out.parent
    data = {
        "study": run.study.name,
        "partial": run.partial,
        "steps": [s.id for s in run.study.steps if s.id in run.results],
        "inputs": {relative(p, base): h for p, h in sorted(run.inputs.items())},
        "parameters": run.study.data.get("settings", {}),
        "segments": [s.__dict__ for s in run.study.segments],
        "packages": package_versions(),
        "outputs": {relative(p, base): sha256_file(p) for p in written},
    }
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
