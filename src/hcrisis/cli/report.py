"""`hcrisis report`: a study's results as one HTML page and, on request, an Excel workbook."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from hcrisis.cli import app
from hcrisis.cli.common import DEFAULT_STUDY
from hcrisis.cli.progress import StepProgress


@app.command()
def report(
    study: Path = typer.Argument(DEFAULT_STUDY, help="Study file (YAML) whose outputs to report."),
    out: Optional[Path] = typer.Option(None, "--out", help="HTML file to write (default: "
                                       "report.html in the study's outputs folder)."),
    xlsx: Optional[Path] = typer.Option(None, "--xlsx", help="Also write every table as a sheet of "
                                        "this Excel workbook."),
    allow_identifiers: bool = typer.Option(False, "--allow-identifiers", help="Show names, e-mail "
                                           "addresses and other identifiers in quotations (masked by default)."),
) -> None:
    """Write one self-contained HTML page of the study's results (and an Excel workbook).

    Reads the tables and figures `hcrisis reproduce` wrote; the page has no
    scripts and makes no network requests, so it can be e-mailed and opened offline.
    Example: hcrisis report studies/thesis.yaml --xlsx outputs/tables.xlsx
    """
    from hcrisis.report import write_report

    with StepProgress() as progress:
        progress("report")
        done = write_report(study, out, xlsx, allow_identifiers=allow_identifiers, progress=progress.detail)
    typer.echo(f"wrote {done.html} ({done.html_bytes / 1024:,.0f} KB, {done.figures} figures)"
               + (f" and {done.xlsx} ({done.tables} tables)" if done.xlsx else ""))
