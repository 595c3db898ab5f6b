"""Commands for published studies' quotations."""

from __future__ import annotations

from pathlib import Path

import typer

from hcrisis.cli import app


quotes_app = typer.Typer(no_args_is_help=True, help="Quotations of published qualitative studies.")
app.add_typer(quotes_app, name="quotes")


@quotes_app.command("extract")
def quotes_extract(
    document: Path = typer.Argument(..., help="The thesis as plain text, one paragraph per line."),
    out: Path = typer.Option(..., "--out", help="Folder of the excerpt corpus to write."),
    allow_identifiers: bool = typer.Option(False, "--allow-identifiers", help="Write quotations even if "
                                           "they hold identifiers (see hcrisis privacy scan)."),
) -> None:
    """Extract the attributed participant quotations of a thesis into a table corpus.

    Example: hcrisis quotes extract ../shared/seeds/thesis-housing-professional.txt --out corpora/thesis-excerpts --allow-identifiers
    """
    from hcrisis.ingest.privacy import guard_export
    from hcrisis.thesis.quotes import extract_file, summary_lines, write_excerpt_corpus

    result = extract_file(document)
    guard_export(result.excerpts, out / "excerpts.csv", allow_identifiers)
    result = write_excerpt_corpus(document, out, result)
    for line in summary_lines(result):
        typer.echo(line)
    typer.echo(f"wrote {out}/manifest.yaml, excerpts.csv, participants.csv")
