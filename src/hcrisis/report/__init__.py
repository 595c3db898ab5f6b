"""A study's results for people: one self-contained HTML page and one Excel workbook.

    from hcrisis.report import write_report
    write_report("studies/thesis.yaml", html="outputs/report.html", xlsx="outputs/tables.xlsx")

The report is built from the study file, its corpus and codebook, and the
tables and figures its steps wrote under its outputs folder
(`hcrisis.report.catalogue`), so it works for any study: sections whose
tables a study did not produce are left out. In `hcrisis reproduce` the
step types `html` and `workbook` write both files after the other steps
(`hcrisis.study.steps.publish`, through `write_for_run`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPORT_HTML = "report.html"
TABLES_XLSX = "tables.xlsx"


@dataclass
class Written:
    html: Path | None
    xlsx: Path | None
    html_bytes: int
    tables: int
    figures: int


@dataclass
class Provenance:
    """The input files with their SHA-256 and the package versions, as manifest.json lists them."""

    inputs: dict[str, str | None]
    packages: dict[str, str]

    @classmethod
    def from_manifest(cls, outputs: Path) -> Provenance | None:
        from hcrisis.report.catalogue import read_manifest

        data = read_manifest(outputs)
        if data is None:
            return None
        return cls(dict(data.get("inputs") or {}), dict(data.get("packages") or {}))


def write_report(study_path: str | Path, html: str | Path | None = None, xlsx: str | Path | None = None, *,
                 allow_identifiers: bool = False, corpus=None, provenance: Provenance | None = None,
                 workbook_name: str | None = None, progress=None, tokens=None, written=None) -> Written:
    """Write the study's report page to `html` and its workbook to `xlsx` (either may be None).

    `corpus` is the study's corpus if already loaded (`tokens`, its tokens, if
    already made: the corpus is not tokenised again); `provenance` defaults to
    the outputs' manifest.json; `workbook_name` is the workbook the page points to
    (default: `xlsx`'s name); `progress(text)` is told what is being done; `written`,
    the files of the run being reported (default: those its manifest.json lists).
    Identifiers in quotations and listed words are masked (`hcrisis.ingest.privacy`)
    unless `allow_identifiers`. Everything is computed before anything is
    written, so a failure leaves no file behind.
    """
    from hcrisis.files import write_atomic
    from hcrisis.report.catalogue import load_catalogue
    from hcrisis.report.xlsx import sheet_names, write_workbook
    from hcrisis.study.model import load_study

    note = progress or (lambda text: None)
    study = load_study(study_path)
    catalogue = load_catalogue(study.outputs, written)
    sheets = sheet_names(catalogue.tables)
    xlsx_path = Path(xlsx) if xlsx is not None else None
    page = None
    if html is not None:
        note("building the report")
        page = _page(study, catalogue, sheets, workbook_name or (xlsx_path.name if xlsx_path else None),
                     allow_identifiers, corpus, provenance or Provenance.from_manifest(catalogue.root), tokens)
    if xlsx_path is not None:
        note(f"writing {len(sheets)} tables to the workbook")
        write_workbook(xlsx_path, catalogue, sheets)
    if page is not None:
        write_atomic(html, page)
    return Written(Path(html) if html is not None else None, xlsx_path,
                   len(page.encode("utf-8")) if page else 0, len(sheets), len(catalogue.figures))


def _page(study, catalogue, sheets, workbook_name: str | None, allow_identifiers: bool, corpus,
          provenance: Provenance | None, tokens=None) -> str:
    from hcrisis.coding.codebook import load_codebook
    from hcrisis.ingest.corpus import as_corpus
    from hcrisis.ingest.privacy import Scanner
    from hcrisis.report.build import Sources, build_report
    from hcrisis.report.html import render_html

    loaded = as_corpus(corpus if corpus is not None else study.corpus_path)
    book_path = study.resolve("codebook")
    # a declared codebook that does not exist is the coding step's to report (it skips)
    book = load_codebook(book_path) if book_path is not None and book_path.is_file() else None
    scanner = None if allow_identifiers else Scanner.from_corpus(loaded)
    report = build_report(Sources(study, loaded, book, catalogue, scanner, provenance, tokens))
    report.workbook = [(s.name, s.entry.rel, s.entry.title) for s in sheets]
    return render_html(report, workbook_name)


def write_for_run(run, kind: str, path: Path, allow_identifiers: bool) -> list[Path]:
    """The page (`kind` "html") or the workbook ("workbook") of a reproduction run at `path`.

    With the run's rerun store the file is kept, not rewritten, when every
    table and figure under the outputs, every input, the report's code and
    templates, its settings and the packages are as when it was written, and
    the file still has its hash: a replayed run rewrites nothing.
    """
    return start_for_run(run, kind, path, allow_identifiers, background=False)()


def start_for_run(run, kind: str, path: Path, allow_identifiers: bool, background: bool = True):
    """`write_for_run`, the file written in a forked process (`start_in_background`) if
    `background`: returns a function that waits for it and returns its path. The rerun
    store is read and written here, in this process."""
    from functools import partial

    from hcrisis.files import sha256_file
    from hcrisis.report.catalogue import load_catalogue
    from hcrisis.study.rerun import package_versions
    from hcrisis.study.runner import relative
    from hcrisis.workers import start_in_background

    inputs = {relative(p, run.out.parent): h for p, h in sorted(run.inputs.items())}   # as manifest.json
    provenance = Provenance(inputs, package_versions())
    store, key = run.store, None
    if store is not None:
        key = _key(kind, load_catalogue(run.out, run.written), store, inputs, allow_identifiers)   # inputs: the study file too
        if path.is_file() and store.load("report", key) == sha256_file(path):
            return lambda: [path]
    workbook = next((Path(s.settings.get("file", TABLES_XLSX)).name for s in run.study.steps
                     if s.type == "workbook"), None)   # the page names the study's workbook
    write = partial(write_report, run.study.path, path if kind == "html" else None,
                    path if kind == "workbook" else None, allow_identifiers=allow_identifiers,
                    corpus=run.corpus, provenance=provenance, workbook_name=workbook,
                    tokens=run.memo.get("tokens"),   # the run's tokens, if a step made them
                    written=list(run.written))
    written = start_in_background(write) if background else write

    def finish() -> list[Path]:
        written()
        if store is not None:
            store.store("report", key, sha256_file(path), keep=8)
        return [path]
    return finish


def _key(kind: str, catalogue, store, inputs: dict, allow_identifiers: bool) -> str:
    """What the file is made from. Output hashes come from the store, which has most of them
    already (it hashed the files each step wrote, or checked them when replaying it)."""
    from importlib import metadata

    from hcrisis.files import sha256_file
    from hcrisis.study.rerun import digest, package_versions, source_hash

    tables = [f.path for f in catalogue.tables]
    paths = [*tables, *(f.path for f in catalogue.figures), *(p.with_suffix(".md") for p in tables)]
    files = [(p.relative_to(catalogue.root).as_posix(), store.file_hash(p)) for p in paths]
    templates = sorted((p.name, sha256_file(p)) for p in (Path(__file__).parent / "templates").iterdir())
    writers = {name: metadata.version(name) for name in ("jinja2",)}   # the workbook's writer is hcrisis's own
    return digest("report", kind, files, inputs, allow_identifiers, source_hash(__name__), templates,
                  package_versions(), writers)
