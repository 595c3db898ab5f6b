"""Commands that apply, check and compare codebooks."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from hcrisis.cli import app
from hcrisis.cli.common import SKIP_BAD, DEFAULT_CORPUS, corpus_for, print_table


codebook_app = typer.Typer(no_args_is_help=True, help="Check and export codebooks.")
app.add_typer(codebook_app, name="codebook")


@app.command()
def agree(
    codings: Path = typer.Argument(..., help="Codings CSV (segment_id, code_id[, score, primary]; or "
                                   "document_id, code_id, start, end from hcrisis import qdpx)."),
    gold: str = typer.Option(..., "--gold", help="Gold codings CSV (either kind; spans are also compared "
                                                 "by character), or 'thesis-sections' for the "
                                                 "excerpt corpus's own section column."),
    corpus: Optional[Path] = typer.Option(None, "--corpus", help="Corpus folder (needed for "
                                          "thesis-sections, sentences and the baseline)."),
    codebook: Path = typer.Option(Path("codebooks/thesis.yaml"), "--codebook", help="Codebook (YAML)."),
    level: Optional[str] = typer.Option(None, "--level", help="theme or code (default: both)."),
    unit: str = typer.Option("segment", "--unit", help="Unit of analysis: segment or sentence."),
    out: Path = typer.Option(Path("outputs/coding"), "--out", help="Folder for agreement*.csv/.md."),
    skip_bad: bool = SKIP_BAD,
) -> None:
    """Agreement of two codings: precision, recall, F1, kappa, alpha, confusion, baseline.

    The example's codings are written by hcrisis code (or hcrisis reproduce).
    Example: hcrisis agree outputs/coding/codings.csv --gold thesis-sections --corpus corpora/thesis-excerpts
    """
    from hcrisis.coding.agreement import AGREEMENT_UNITS, LEVELS, run_agree
    from hcrisis.errors import InputError

    if level is not None and level not in LEVELS:
        raise InputError(f"unknown level '{level}'", fix="use --level theme or --level code")
    if unit not in AGREEMENT_UNITS:
        raise InputError(f"unknown unit '{unit}'", fix="use --unit segment or --unit sentence")
    result = run_agree(codings, gold, corpus=corpus and corpus_for(corpus, None, skip_bad), codebook=codebook, level=level, unit=unit, out=out)
    print_table(result.summary[["level", "split", "method", "gold_units", "top1", "recall",
                                "codes_per_unit", "kappa_top1", "alpha_top1", "alpha_binary"]],
                title=f"agreement ({unit}s)")
    if result.spans is not None:
        print_table(result.spans.per_code[["level", "code_id", "gold_chars", "pred_chars", "both_chars",
                                           "precision", "recall", "f1", "kappa"]], title="agreement (characters)")
        typer.echo(f"{len(result.spans.disagreements)} disagreement(s) with their text: "
                   f"{out / 'agreement_disagreements.csv'}")
    typer.echo(f"wrote agreement tables to {out}")


@app.command()
def suggest(
    corpus: Path = typer.Argument(DEFAULT_CORPUS, help="Corpus folder."),
    codings: Path = typer.Option(..., "--codings", help="Codings CSV of the corpus (hcrisis code)."),
    topics: int = typer.Option(5, "--topics", min=1, help="Candidate themes to propose."),
    out: Path = typer.Option(Path("outputs/coding"), "--out", help="Folder for the suggestion tables."),
    skip_bad: bool = SKIP_BAD,
) -> None:
    """Suggest codes for uncoded units and candidate new themes (for review, not codings).

    The example's codings are written by hcrisis code (or hcrisis reproduce).
    Example: hcrisis suggest corpora/thesis-excerpts --codings outputs/coding/codings.csv --topics 5
    """
    from hcrisis.coding.suggest import run_suggest

    suggestions, themes, _ = run_suggest(corpus_for(corpus, None, skip_bad), codings, topics=topics, out=out)
    typer.echo(f"{suggestions['segment_id'].nunique()} uncoded unit(s) with suggested codes; "
               f"wrote {out / 'suggestions.csv'}")
    print_table(themes[["topic", "top_terms", "example_units"]], title="candidate themes (suggestions)")


@app.command()
def code(
    corpus: Optional[Path] = typer.Argument(None, help="Corpus folder (default: the study's, "
                                            "else corpora/thesis-excerpts)."),
    codebook: Optional[Path] = typer.Option(None, "--codebook", help="Codebook (YAML; default: the study's)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default outputs/coding)."),
    study: Optional[Path] = typer.Option(None, "--study", help="Study file naming corpus, codebook and outputs."),
    allow_identifiers: bool = typer.Option(False, "--allow-identifiers", help="Write quotations even if "
                                           "they hold identifiers (see hcrisis privacy scan)."),
    skip_bad: bool = SKIP_BAD,
) -> None:
    """Apply a codebook: codings, matrices, co-occurrence, quotations and figures.

    Example: hcrisis code corpora/thesis-excerpts --codebook codebooks/thesis.yaml
    """
    from hcrisis.coding.apply import run_code
    from hcrisis.errors import InputError

    if study is not None:
        from hcrisis.study.model import load_study
        s = load_study(study)
        corpus = corpus or s.corpus_path
        codebook = codebook or s.resolve("codebook")
        out = out or s.outputs / "coding"
    if codebook is None:
        raise InputError("no codebook given", fix="pass --codebook FILE or --study FILE")
    result = run_code(corpus_for(corpus or DEFAULT_CORPUS, None, skip_bad), codebook, out or Path("outputs/coding"),
                      allow_identifiers=allow_identifiers)   # quotations guarded before anything is written
    coded = result.codings["segment_id"].nunique()
    typer.echo(f"{len(result.codings)} codings of {coded} of {result.segments} segments with "
               f"{len(result.codebook.codes)} codes; wrote {len(result.written)} files to "
               f"{out or Path('outputs/coding')}")


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
