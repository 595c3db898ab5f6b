"""The `hcrisis` command line: a thin shell over the library.

Each command parses its options and calls one library function. Library
errors (`HcrisisError`) are caught once, here, and printed as one line on
stderr with exit code 1. Heavy libraries are imported inside commands so
that `hcrisis --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click
import typer
from typer.core import TyperGroup

from .errors import HcrisisError


class _Group(TyperGroup):
    """Catches the library's errors once, at the CLI boundary."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except HcrisisError as exc:
            typer.echo(f"Error: {exc.one_line()}", err=True)
            raise typer.Exit(1) from None


app = typer.Typer(cls=_Group, no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False,
                  help="Reproducible analysis of qualitative research corpora.\n\n"
                       "Example: hcrisis reproduce")
corpus_app = typer.Typer(no_args_is_help=True, help="Inspect and set up corpora.")
quotes_app = typer.Typer(no_args_is_help=True, help="Quotations of published qualitative studies.")
app.add_typer(corpus_app, name="corpus")
app.add_typer(quotes_app, name="quotes")

DEFAULT_STUDY = Path("studies/thesis.yaml")
DEFAULT_CORPUS = Path("corpora/thesis-excerpts")


def console():
    from rich.console import Console
    return Console()


def print_table(df, title: str | None = None) -> None:
    """Show a DataFrame as a rich table in the terminal."""
    from rich.table import Table

    table = Table(title=title)
    for col in df.columns:
        table.add_column(str(col), justify="right" if df[col].dtype.kind in "if" else "left")
    for row in df.itertuples(index=False):
        table.add_row(*[f"{v:.4g}" if isinstance(v, float) else str(v) for v in row])
    console().print(table)


@app.command()
def reproduce(
    study: Path = typer.Argument(DEFAULT_STUDY, help="Study file (YAML)."),
    only: Optional[list[str]] = typer.Option(None, "--only", help="Run only these steps."),
) -> None:
    """Regenerate the study's tables, figures and reproduction report.

    Example: hcrisis reproduce studies/thesis.yaml
    """
    from .reproduce import checks_table, run_reproduce

    with console().status("reproducing") as status:
        ctx = run_reproduce(study, only, progress=lambda name: status.update(f"step: {name}"))
    counts = checks_table(ctx.checks)["status"].value_counts().sort_index()
    typer.echo(f"wrote {len(ctx.written)} files to {ctx.out}; checks: "
               + ", ".join(f"{k} {v}" for k, v in counts.items()))


@corpus_app.command("info")
def corpus_info(
    corpus: Path = typer.Argument(DEFAULT_CORPUS, help="Corpus folder."),
    by: Optional[str] = typer.Option(None, "--by", help="Break down by this attribute."),
) -> None:
    """Documents, participants, segments and words of a corpus.

    Example: hcrisis corpus info corpora/thesis-excerpts --by sector
    """
    from .corpus import corpus_summary, load_corpus

    c = load_corpus(corpus)
    print_table(corpus_summary(c, by), title=f"corpus {c.name}")
    for doc, speaker in c.unmapped_speakers:
        typer.echo(f"unmapped speaker label in {doc}: {speaker!r}", err=True)


def main() -> None:
    app()
