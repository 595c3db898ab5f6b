"""The `hcrisis` command line: a thin shell over the library.

Each command parses its options and calls one library function. Library
errors (`HcrisisError`) are caught once, here, and printed as one line on
stderr with exit code 1. Heavy libraries are imported inside commands so
that `hcrisis --help` stays fast.
"""

from __future__ import annotations

import os
import sys

import click
import typer
from typer.core import TyperGroup

from hcrisis.errors import HcrisisError


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


# hcrisis works in parallel by processes (forked workers, Dask workers) on arrays too
# small for BLAS threads to pay, so a BLAS thread pool in each process only takes CPU
# from the others: OpenBLAS's idle threads spin after each call (~0.24 of the thesis
# study's ~7.7 CPU-s). Dask's nanny sets the same for its workers; a user's value is kept.
BLAS_THREADS = {"OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def one_blas_thread() -> None:
    """One BLAS thread in this process and those it starts, unless the user set otherwise;
    effective before numpy is first imported (importing `hcrisis.cli` does not)."""
    for name, value in BLAS_THREADS.items():
        os.environ.setdefault(name, value)


def main() -> None:
    """The `hcrisis` executable: run the command, flush its output and leave at once.

    Skipping the interpreter's teardown (as Instagram's services do) saves up to
    half a second per command, spent freeing the modules of spaCy, pandas,
    matplotlib and fontTools; every file hcrisis writes is closed (and renamed
    into place) before the command returns, and worker processes are joined.
    """
    one_blas_thread()
    try:
        app()
        code = 0
    except SystemExit as exc:   # click's standalone mode always ends with one
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


# Each module adds its commands to `app` on import (after `app` exists); `--help`
# lists them in this order, the pipeline's: corpora, words, coding, studies, exchange.
from hcrisis.cli import corpus  # noqa: E402,F401,I001
from hcrisis.cli import pack  # noqa: E402,F401  (adds to the corpus group)
from hcrisis.cli import text  # noqa: E402,F401
from hcrisis.cli import coding  # noqa: E402,F401
from hcrisis.cli import study  # noqa: E402,F401
from hcrisis.cli import report  # noqa: E402,F401
from hcrisis.cli import exchange  # noqa: E402,F401
from hcrisis.cli import thesis  # noqa: E402,F401
