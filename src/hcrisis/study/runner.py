"""`hcrisis reproduce`: run the declared study's steps and report every number.

Stages register steps with `@step(name, order)`; `run_reproduce` loads the
study and its corpus once, runs the steps in order (each writes its tables
and figures under the study's outputs folder and adds `Check` rows), then
writes `reproduction.md` (published value, computed value, status) and
`manifest.json` (input hashes, parameters, package versions, output hashes).
No timestamps are written, so reruns give byte-identical files.
"""

from __future__ import annotations

import importlib
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from hcrisis.study.cache import cached_corpus, open_cache, run_step
from hcrisis.ingest.corpus import Corpus
from hcrisis.files import sha256_file, write_atomic
from hcrisis.study.model import Study, check_segment_columns, load_study
from hcrisis.tables import table_to_markdown, write_table

REPRODUCED = "reproduced"
DIFFERS = "differs"
NOT_REPRODUCED = "not reproduced"
NOT_COMPUTABLE = "not computable"
NOT_TESTABLE = "not testable"

# Modules whose import registers reproduction steps.
STEP_MODULES = ["hcrisis.thesis.design", "hcrisis.coding.apply", "hcrisis.coding.agreement", "hcrisis.text.cloud", "hcrisis.thesis.chapter5",
                "hcrisis.text.terms", "hcrisis.thesis.quotes"]
PACKAGES = ["hcrisis", "spacy", "spacy-lookups-data", "pandas", "numpy", "scikit-learn",
            "scipy", "wordcloud", "matplotlib", "pyyaml", "snowballstemmer"]


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
class Context:
    study: Study
    corpus: Corpus
    out: Path
    checks: list[Check] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    inputs: list[Path] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)
    sections: list[tuple[str, str]] = field(default_factory=list)
    disk_cache: Any = None  # hcrisis.study.cache.Cache for reruns, or None
    # finish(): waits for work a step left running and returns the files it wrote
    deferred: Callable[[], list[Path]] | None = None
    finishers: list[Callable[[], None]] = field(default_factory=list)   # run after the last step
    tokeniser: Any = None   # hcrisis.study.parallel.Tokeniser, started early by the caller, or None
    notes: Callable[[str], None] | None = None   # told what a step is doing (progress display)

    def note(self, text: str) -> None:
        """Say what the running step is doing (e.g. "coding 207 segments"), for the progress display."""
        if self.notes is not None:
            self.notes(text)

    def check(self, *args, **kwargs) -> Check:
        c = Check(*args, **kwargs)
        self.checks.append(c)
        return c

    def add_section(self, title: str, markdown: str) -> None:
        """Extra report text (a heading and its body) after the checks table."""
        self.sections.append((title, markdown))

    def finish_later(self, finish: Callable[[], list[Path]]) -> None:
        """Let the running step end in the background (clouds drawn by worker
        processes while the next steps run): `finish()` waits for the work and
        returns the files it wrote. It runs after the last step, before the
        report; the step's outputs (and its cache record) are complete only then."""
        self.deferred = finish

    def tokens(self):
        """The corpus tokenised once and shared by every step."""
        if "tokens" not in self.cache:
            from hcrisis.study.cache import cached_tokens
            self.note(f"tokenising {len(self.corpus.segments):,} segments")
            self.cache["tokens"] = cached_tokens(self.corpus.segments, self.disk_cache,
                                                 tokeniser=self.tokeniser)
        return self.cache["tokens"]


StepFn = Callable[[Context], None]
STEPS: dict[str, tuple[int, StepFn]] = {}


def step(name: str, order: int) -> Callable[[StepFn], StepFn]:
    def deco(fn: StepFn) -> StepFn:
        STEPS[name] = (order, fn)
        return fn
    return deco


def run_reproduce(study_path: str | Path, only: list[str] | None = None,
                  progress: Callable[[str], None] | None = None, cache: bool = True,
                  tokeniser=None, notes: Callable[[str], None] | None = None) -> Context:
    """Run the study's steps; return the context with checks and outputs.

    `tokeniser` (`hcrisis.study.parallel.start_tokeniser()`, started before the
    imports) tokenises the corpus if a step needs it; the caller closes it.
    `progress(name)` is called as each step starts, `notes(text)` with what it is doing.

    With `cache`, steps whose inputs, settings, packages and code are
    unchanged since the last run are skipped and replayed (hcrisis.study.cache).
    Work a step leaves running (`Context.finish_later`) is finished after
    the last step, before the report is written.
    """
    for module in STEP_MODULES:
        importlib.import_module(module)
    study = load_study(study_path)
    disk_cache = open_cache(study.outputs) if cache else None
    corpus = cached_corpus(study.corpus_path, disk_cache)
    check_segment_columns(study, corpus.segments)
    ctx = Context(study, corpus, study.outputs)
    ctx.inputs = [study.path, *corpus.input_files()]
    ctx.disk_cache, ctx.tokeniser, ctx.notes = disk_cache, tokeniser, notes
    for name, (_, fn) in sorted(STEPS.items(), key=lambda kv: (kv[1][0], kv[0])):
        if only and name not in only:
            continue
        if progress:
            progress(name)
        run_step(ctx, name, fn, ctx.disk_cache)
    for finish in ctx.finishers:
        finish()
    ctx.written.append(write_atomic(ctx.out / "reproduction.md", render_report(ctx)))
    ctx.written += write_table(checks_table(ctx.checks), ctx.out / "checks", title="Published numbers and claims")
    ctx.written.append(write_atomic(ctx.out / "manifest.json", render_manifest(ctx)))
    if progress:
        progress("report")
    # After the manifest, whose input hashes it shows: report.html and tables.xlsx are
    # derived from the outputs the manifest lists, and not listed in it.
    from hcrisis.report import write_study_report
    ctx.written += write_study_report(ctx)
    return ctx


def checks_table(checks: list[Check]) -> pd.DataFrame:
    return pd.DataFrame([c.__dict__ for c in checks],
                        columns=["section", "quantity", "published", "computed", "status", "note"])


def render_report(ctx: Context) -> str:
    table = checks_table(ctx.checks)
    counts = table["status"].value_counts().sort_index()
    lines = [f"# Reproduction report: {ctx.study.data.get('title', ctx.study.name)}", "",
             f"Study file: `{_rel(ctx.study.path, ctx.out.parent)}`; corpus: `{ctx.corpus.name}` "
             f"({len(ctx.corpus.segments)} segments).", "",
             "Status counts: " + ", ".join(f"{k} {v}" for k, v in counts.items()), "",
             "## Published numbers and claims", "", table_to_markdown(table)]
    for title, body in ctx.sections:
        lines += [f"## {title}", "", body.rstrip(), ""]
    return "\n".join(lines).rstrip() + "\n"


def _rel(path: Path, base: Path) -> str:
    """A path relative to the project folder (the outputs folder's parent)."""
    return os.path.relpath(Path(path).resolve(), base.resolve()).replace(os.sep, "/")


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def render_manifest(ctx: Context) -> str:
    written = sorted({p.resolve() for p in ctx.written if p.name != "manifest.json"})
    inputs = sorted({p.resolve() for p in ctx.inputs})
    base = ctx.out.parent
    data = {
        "study": ctx.study.name,
        "inputs": {_rel(p, base): sha256_file(p) for p in inputs},
        "parameters": ctx.study.data.get("settings", {}),
        "segments": [s.__dict__ for s in ctx.study.segments],
        "packages": package_versions(),
        "outputs": {_rel(p, base): sha256_file(p) for p in written},
    }
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
