"""Commands that run a declared study."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from hcrisis.cli import app
from hcrisis.cli.common import DEFAULT_STUDY
from hcrisis.cli.progress import StepProgress


@app.command()
def reproduce(
    study: Path = typer.Argument(DEFAULT_STUDY, help="Study file (YAML)."),
    only: Optional[list[str]] = typer.Option(None, "--only", help="Run only these steps."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Run every step, ignoring .hcrisis-cache/."),
) -> None:
    """Regenerate the study's tables, figures, reproduction report, report.html and tables.xlsx.

    Steps whose inputs, settings and code are unchanged since the last run are
    skipped (their outputs are checked by hash and kept).
    Example: hcrisis reproduce studies/thesis.yaml
    """
    from hcrisis.study.parallel import start_tokeniser

    tokeniser = start_tokeniser()   # loads spaCy on the other CPU while the rest is imported
    try:
        from hcrisis.study.runner import checks_table, run_reproduce

        with StepProgress() as progress:
            ctx = run_reproduce(study, only, progress=progress, cache=not no_cache, tokeniser=tokeniser,
                                notes=progress.detail)
    finally:
        if tokeniser is not None:
            tokeniser.close()
    counts = checks_table(ctx.checks)["status"].value_counts().sort_index()
    cached = f" ({len(ctx.disk_cache.skipped)} unchanged steps skipped)" if ctx.disk_cache else ""
    typer.echo(f"wrote {len(ctx.written)} files to {ctx.out}{cached}; checks: "
               + ", ".join(f"{k} {v}" for k, v in counts.items()))
