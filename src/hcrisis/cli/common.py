"""What the CLI's commands share: options, table printing, opening a corpus."""

from __future__ import annotations

from pathlib import Path

import typer

DEFAULT_STUDY = Path("studies/thesis.yaml")
DEFAULT_CORPUS = Path("corpora/thesis-excerpts")
SKIP_BAD = typer.Option(False, "--skip-bad", help="List unreadable files on stderr and analyse the "
                        "rest (default: stop at the first bad file).")


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


FORMATS = ("table", "csv", "json")


def emit_table(df, fmt: str, title: str | None = None) -> None:
    """A table for people (`table`, rich) or for scripts (`csv`, `json` records) on stdout."""
    from hcrisis.errors import InputError

    if fmt == "table":
        print_table(df, title=title)
    elif fmt == "csv":
        typer.echo(df.to_csv(index=False, lineterminator="\n"), nl=False)
    elif fmt == "json":
        typer.echo(df.to_json(orient="records", force_ascii=False))
    else:
        raise InputError(f"unknown format '{fmt}'", fix=f"use --format {' or '.join(FORMATS)}")


def report_skipped(corpus) -> None:
    """List the files `--skip-bad` left out (one error line each) on stderr."""
    for line in corpus.skipped:
        typer.echo(f"skipped: {line}", err=True)


def open_corpus(path: Path, skip_bad: bool):
    """Load a corpus for a command, listing the files `--skip-bad` left out."""
    from hcrisis.ingest.corpus import load_corpus

    c = load_corpus(path, skip_bad=skip_bad)
    report_skipped(c)
    return c


def corpus_for(corpus: Path | None, study: Path | None, skip_bad: bool):
    """The corpus argument for a library call: a path (the library loads it), or with
    --skip-bad the corpus loaded here (the study's, else the default) with its skipped files listed."""
    if not skip_bad:
        return corpus
    if corpus is None:
        from hcrisis.study.model import load_study
        corpus = load_study(study).corpus_path if study is not None else DEFAULT_CORPUS
    return open_corpus(corpus, True)
