"""A study's results for people: one self-contained HTML page and one Excel workbook.

    from hcrisis.report import write_report
    write_report("studies/thesis.yaml", html="outputs/report.html", xlsx="outputs/tables.xlsx")

The report is built from the study file, its corpus and codebook, and the
tables and figures its steps wrote under its outputs folder
(`hcrisis.report.catalogue`), so it works for any study: sections whose
tables a study did not produce are left out. `hcrisis reproduce` writes
both files at the end of a run (`write_study_report`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPORT_HTML = "report.html"
TABLES_XLSX = "tables.xlsx"


@dataclass
class Written:
    html: Path
    xlsx: Path | None
    html_bytes: int
    tables: int
    figures: int


def write_report(study_path: str | Path, html: str | Path | None = None, xlsx: str | Path | None = None, *,
                 allow_identifiers: bool = False, corpus=None, progress=None) -> Written:
    """Write the study's report (default `<outputs>/report.html`) and, if `xlsx`, its workbook.

    `corpus` is the study's corpus if already loaded; `progress(text)` is told
    what is being done. Identifiers in quotations and listed words are masked
    (`hcrisis.ingest.privacy`) unless `allow_identifiers`.
    """
    from hcrisis.coding.codebook import load_codebook
    from hcrisis.ingest.corpus import as_corpus
    from hcrisis.ingest.privacy import Scanner
    from hcrisis.report.build import Sources, build_report
    from hcrisis.report.catalogue import load_catalogue
    from hcrisis.report.html import render_html
    from hcrisis.report.xlsx import sheet_names, write_workbook
    from hcrisis.files import write_atomic
    from hcrisis.study.model import load_study

    note = progress or (lambda text: None)
    study = load_study(study_path)
    catalogue = load_catalogue(study.outputs)
    loaded = as_corpus(corpus if corpus is not None else study.corpus_path)
    book_path = study.resolve("codebook")
    # a declared codebook that does not exist is the coding step's to report (it skips)
    book = load_codebook(book_path) if book_path is not None and book_path.is_file() else None
    scanner = None if allow_identifiers else Scanner.from_corpus(loaded)
    note("building the report")
    report = build_report(Sources(study, loaded, book, catalogue, scanner))
    sheets = sheet_names(catalogue.tables)
    report.workbook = [(s.name, s.entry.rel, s.entry.title) for s in sheets]
    xlsx_path = Path(xlsx) if xlsx is not None else None
    html_path = Path(html) if html is not None else study.outputs / REPORT_HTML
    # computed in full before anything is written: a failure leaves no file behind
    page = render_html(report, xlsx_path.name if xlsx_path else None)
    if xlsx_path is not None:
        note(f"writing {len(sheets)} tables to the workbook")
        write_workbook(xlsx_path, catalogue, sheets)
    write_atomic(html_path, page)
    return Written(html_path, xlsx_path, len(page.encode("utf-8")), len(sheets), len(catalogue.figures))


def write_study_report(ctx) -> list[Path]:
    """The runner's last act (`hcrisis reproduce`): report.html and tables.xlsx in the outputs
    folder, from the outputs just written. `settings.report.allow_identifiers` shows identifiers.

    With the run's cache, the two files are kept when manifest.json (which hashes every
    input, setting, package and output) and the report's code are unchanged, and the
    files still have the hashes they were written with: a cached rerun rewrites nothing.
    """
    from hcrisis.files import sha256_file

    allow = bool(ctx.study.settings("report").get("allow_identifiers", False))
    paths = [ctx.out / REPORT_HTML, ctx.out / TABLES_XLSX]

    def hashes() -> list[tuple[str, str | None]]:
        return [(str(p), sha256_file(p) if p.is_file() else None) for p in paths]

    cache, key = ctx.disk_cache, None
    if cache is not None:
        from hcrisis.study.cache import digest, source_hash

        templates = sorted((p.name, sha256_file(p)) for p in (Path(__file__).parent / "templates").iterdir())
        key = digest("report", sha256_file(ctx.out / "manifest.json"), allow, source_hash(__name__), templates)
        if cache.load("report", key) == hashes():
            return paths
    write_report(ctx.study.path, paths[0], paths[1], allow_identifiers=allow, corpus=ctx.corpus)
    if cache is not None:
        cache.store("report", key, hashes(), keep=4)
    return paths
