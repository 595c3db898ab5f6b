"""Commands that run or start a declared study."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from hcrisis.cli import app
from hcrisis.cli.common import DEFAULT_STUDY, ENGINE, SCHEDULER
from hcrisis.cli.progress import StepProgress

study_app = typer.Typer(no_args_is_help=True, help="Study files: hcrisis study init CORPUS.")
app.add_typer(study_app, name="study")


@app.command()
def reproduce(
    study: Path = typer.Argument(DEFAULT_STUDY, help="Study file (YAML)."),
    only: Optional[list[str]] = typer.Option(None, "--only", help="Run only this step (and the steps it reads)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Run every step, ignoring .hcrisis-cache/."),
    engine: str = ENGINE,
    scheduler: Optional[str] = SCHEDULER,
) -> None:
    """Run the study's declared steps: tables, figures, report and manifest.

    Steps whose inputs, settings and code are unchanged since the last run are
    replayed (their outputs are checked by hash and kept). With --only the
    report and manifest are written as reproduction.partial.md and
    manifest.partial.json.
    With --engine dask the corpus is tokenised and coded partition by partition on
    a Dask cluster, with the same outputs.
    Example: hcrisis reproduce studies/thesis.yaml --only agreement
    """
    import pandas  # noqa: F401 - before the fork: the tokeniser's process codes with it too

    from hcrisis.study.parallel import start_tokeniser

    # loads spaCy on the other CPU while the rest is imported (not needed when workers tokenise)
    tokeniser = start_tokeniser() if engine == "local" else None
    try:
        from hcrisis.engine import open_engine
        from hcrisis.study.runner import reproduce as run_study, status_counts

        with open_engine(engine, scheduler) as eng, StepProgress() as progress:
            run = run_study(study, only, progress=progress, cache=not no_cache, tokeniser=tokeniser,
                            notes=progress.detail, engine=eng if eng.name != "local" else None)
    finally:
        if tokeniser is not None:
            tokeniser.close()
    cached = f" ({len(run.skipped)} unchanged steps replayed)" if run.store else ""
    partial = f"; partial run: {run.report_name}, {run.manifest_name}" if run.partial else ""
    checks = f"; checks: {status_counts(run.checks)}" if run.checks else ""
    typer.echo(f"wrote {len(run.written)} files to {run.out}{cached}{partial}{checks}")


@study_app.command("init")
def study_init(
    corpus: Path = typer.Argument(..., help="Corpus folder (with manifest.yaml)."),
    out: Path = typer.Option(Path("study.yaml"), "--out", help="Study file to write."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a starter study for a corpus: segment `all`, one segment per value of each
    declared attribute, the generic steps, and comments saying what to edit.

    Example: hcrisis study init corpora/thesis-excerpts --out mystudy.yaml
    """
    from hcrisis.study.starter import write_starter_study

    typer.echo(f"wrote {write_starter_study(corpus, out, force)}")
