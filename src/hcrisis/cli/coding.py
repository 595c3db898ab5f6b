"""Commands that apply, check and compare codebooks."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from hcrisis.cli import app
from hcrisis.cli.common import (ALLOW_IDENTIFIERS, CORPUS, ENGINE, OUT, SCHEDULER, SKIP_BAD, STUDY, open_inputs,
                                print_table)


codebook_app = typer.Typer(no_args_is_help=True, help="Check and export codebooks.")
app.add_typer(codebook_app, name="codebook")


def _codebook(codebook: Optional[Path], inputs) -> Path:
    """--codebook, else the study's codebook."""
    from hcrisis.errors import InputError

    found = codebook or (inputs.study.resolve("codebook") if inputs.study is not None else None)
    if found is None:
        raise InputError("no codebook given", fix="pass --codebook FILE, or --study FILE declaring one")
    return found


@app.command()
def code(
    corpus: Optional[Path] = CORPUS,
    codebook: Optional[Path] = typer.Option(None, "--codebook", help="Codebook (YAML; default: the study's)."),
    study: Optional[Path] = STUDY,
    by: Optional[list[str]] = typer.Option(None, "--by", help="Matrix coding by this attribute (repeatable; "
                                           "default: every declared attribute)."),
    out: Optional[Path] = OUT,
    allow_identifiers: bool = ALLOW_IDENTIFIERS,
    skip_bad: bool = SKIP_BAD,
    engine: str = ENGINE,
    scheduler: Optional[str] = SCHEDULER,
) -> None:
    """Apply a codebook: codings, matrices, co-occurrence, quotations and figures.

    Example: hcrisis code corpora/thesis-excerpts --codebook codebooks/thesis.yaml --by sector
    """
    from hcrisis.coding.apply import run_code
    from hcrisis.engine import open_engine

    inputs = open_inputs("code", corpus, study, out, skip_bad, read=False)   # read by partition
    from hcrisis.engine.run import local_processes

    # two partitions at a time on the local engine where there are two CPUs: their coding is
    # most of the time, and the merge is cheap (pieces copied on disk)
    with open_engine(engine, scheduler, processes=local_processes()) as eng:
        result = run_code(inputs.counted, _codebook(codebook, inputs), inputs.out, allow_identifiers=allow_identifiers,
                          attributes=by, engine=eng)
    typer.echo(f"{result.codings} codings of {result.coded_segments} of {result.segments} segments with "
               f"{len(result.codebook.codes)} codes; wrote {len(result.written)} files to {inputs.out}")


@app.command()
def agree(
    corpus: Optional[Path] = typer.Argument(None, show_default=False, help="Corpus folder (needed for "
                                            "thesis-sections, sentences and the baseline; default: the "
                                            "--study's, else none)."),
    codings: Path = typer.Option(..., "--codings", help="Codings CSV (segment_id, code_id[, score, primary]; or "
                                 "document_id, code_id, start, end from hcrisis import qdpx)."),
    gold: str = typer.Option(..., "--gold", help="Gold codings CSV (either kind; spans are also compared "
                                                 "by character), or 'thesis-sections' for the "
                                                 "excerpt corpus's own section column."),
    codebook: Optional[Path] = typer.Option(None, "--codebook", help="Codebook (YAML; default: the study's)."),
    study: Optional[Path] = STUDY,
    level: Optional[str] = typer.Option(None, "--level", help="theme or code (default: both)."),
    unit: str = typer.Option("segment", "--unit", help="Unit of analysis: segment or sentence."),
    out: Optional[Path] = OUT,
    skip_bad: bool = SKIP_BAD,
) -> None:
    """Agreement of two codings: precision, recall, F1, kappa, alpha, confusion, baseline.

    The example's codings are written by hcrisis code.
    Example: hcrisis agree corpora/thesis-excerpts --codings outputs/code/codings.csv --gold thesis-sections --codebook codebooks/thesis.yaml
    """
    from hcrisis.coding.agreement import AGREEMENT_UNITS, LEVELS, run_agree
    from hcrisis.errors import InputError

    if level is not None and level not in LEVELS:
        raise InputError(f"unknown level '{level}'", fix="use --level theme or --level code")
    if unit not in AGREEMENT_UNITS:
        raise InputError(f"unknown unit '{unit}'", fix="use --unit segment or --unit sentence")
    inputs = open_inputs("agree", corpus, study, out, skip_bad, required=False)
    result = run_agree(codings, gold, corpus=inputs.corpus, codebook=_codebook(codebook, inputs),
                       level=level, unit=unit, out=inputs.out)
    print_table(result.summary[["level", "split", "method", "gold_units", "top1", "recall",
                                "codes_per_unit", "kappa_top1", "alpha_top1", "alpha_binary"]],
                title=f"agreement ({unit}s)")
    if result.spans is not None:
        print_table(result.spans.per_code[["level", "code_id", "gold_chars", "pred_chars", "both_chars",
                                           "precision", "recall", "f1", "kappa"]], title="agreement (characters)")
        typer.echo(f"{len(result.spans.disagreements)} disagreement(s) with their text: "
                   f"{inputs.out / 'agreement_disagreements.csv'}")
    typer.echo(f"wrote agreement tables to {inputs.out}")


@app.command()
def suggest(
    corpus: Optional[Path] = CORPUS,
    codings: Path = typer.Option(..., "--codings", help="Codings CSV of the corpus (hcrisis code)."),
    topics: int = typer.Option(5, "--topics", min=1, help="Candidate themes to propose."),
    study: Optional[Path] = STUDY,
    out: Optional[Path] = OUT,
    skip_bad: bool = SKIP_BAD,
) -> None:
    """Suggest codes for uncoded units and candidate new themes (for review, not codings).

    The example's codings are written by hcrisis code.
    Example: hcrisis suggest corpora/thesis-excerpts --codings outputs/code/codings.csv --topics 5
    """
    from hcrisis.coding.suggest import run_suggest

    inputs = open_inputs("suggest", corpus, study, out, skip_bad)
    suggestions, themes, _ = run_suggest(inputs.corpus, codings, topics=topics, out=inputs.out)
    typer.echo(f"{suggestions['segment_id'].nunique()} uncoded unit(s) with suggested codes; "
               f"wrote {inputs.out / 'suggestions.csv'}")
    print_table(themes[["topic", "top_terms", "example_units"]], title="candidate themes (suggestions)")


@codebook_app.command("check")
def codebook_check(file: Path = typer.Argument(..., help="Codebook (YAML).")) -> None:
    """Validate a codebook and summarise it (every problem is listed at once).

    Example: hcrisis codebook check codebooks/thesis.yaml
    """
    from hcrisis.coding.codebook import load_codebook, summary

    book = load_codebook(file)
    typer.echo(f"{file}: codebook '{book.name}' is valid: "
               + ", ".join(f"{k} {v}" for k, v in summary(book).items()))


@codebook_app.command("export")
def codebook_export(
    file: Path = typer.Argument(..., help="Codebook (YAML)."),
    fmt: str = typer.Option("md", "--format", help="md or html."),
    out: Path = typer.Option(..., "--out", help="File to write."),
) -> None:
    """Write the codebook as a readable document (Markdown or HTML).

    Example: hcrisis codebook export codebooks/thesis.yaml --format md --out outputs/codebook.md
    """
    from hcrisis.coding.codebook import load_codebook
    from hcrisis.coding.codebook_doc import to_html, to_markdown
    from hcrisis.errors import InputError
    from hcrisis.files import write_atomic

    writers = {"md": to_markdown, "html": to_html}
    if fmt not in writers:
        raise InputError(f"unknown format '{fmt}'", fix="use --format md or --format html")
    write_atomic(out, writers[fmt](load_codebook(file)))
    typer.echo(f"wrote {out}")
