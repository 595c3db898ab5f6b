"""Commands that inspect, set up and pseudonymise corpora."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from hcrisis.cli import app
from hcrisis.cli.common import CORPUS, SKIP_BAD, emit_table, open_corpus, open_inputs, print_table, thesis_corpus


corpus_app = typer.Typer(no_args_is_help=True, help="Inspect and set up corpora.")
app.add_typer(corpus_app, name="corpus")
privacy_app = typer.Typer(no_args_is_help=True, help="Find and pseudonymise identifiers in a corpus.")
app.add_typer(privacy_app, name="privacy")


@corpus_app.command("info")
def corpus_info(
    corpus: Optional[Path] = CORPUS,
    by: Optional[str] = typer.Option(None, "--by", help="Break down by an attribute, or by document, "
                                     "speaker, participant, role or language."),
    fmt: str = typer.Option("table", "--format", help="table (terminal), csv or json (stdout, for scripts)."),
    skip_bad: bool = SKIP_BAD,
) -> None:
    """Documents, participants, segments and words (participant, interviewer, unlabelled) of a corpus.

    Example: hcrisis corpus info corpora/thesis-excerpts --by document --format csv
    """
    from hcrisis.engine.summary import describe_corpus

    path = corpus or thesis_corpus("corpus info")
    # read partition by partition (one partition's text in memory), or as loaded with --skip-bad
    source = open_corpus(path, skip_bad=True) if skip_bad else path
    described = describe_corpus(source, by)
    emit_table(described.table, fmt, title=f"corpus {described.name}")
    for doc, speaker in described.unmapped_speakers:
        typer.echo(f"unmapped speaker label in {doc}: '{speaker}'", err=True)


@corpus_app.command("init")
def corpus_init(
    folder: Path = typer.Argument(..., help="Folder of transcripts."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing manifest.yaml."),
) -> None:
    """Write a manifest skeleton for a folder of transcripts, to check and complete by hand.

    Prints per document the labels found, the role given to each and the words per role,
    with warnings to check. Example: hcrisis corpus init examples/transcripts
    """
    from hcrisis.ingest.scaffold import init_corpus

    report = init_corpus(folder, force)
    for line in report.bad:
        typer.echo(f"not read: {line}", err=True)
    for doc in report.documents:
        labels = ", ".join(f"'{s.label}' -> {s.target}{' (guess)' if s.guessed else ''} {s.words}"
                           for s in doc.speakers) or "no labels"
        words = ", ".join(f"{role} {n}" for role, n in doc.words.items())
        typer.echo(f"{doc.id} ({doc.kind}): {labels}; words: {words}")
        for warning in doc.warnings:
            typer.echo(f"warning: {doc.id}: {warning}", err=True)
    for table in report.tables:
        typer.echo(f"{table} (table of responses): check its text_column")
    typer.echo(f"wrote {report.manifest}: {len(report.documents)} documents, {len(report.tables)} tables, "
               f"{report.labels} speaker labels; check and complete it before analysis")


@privacy_app.command("scan")
def privacy_scan(
    corpus: Optional[Path] = CORPUS,
    fmt: str = typer.Option("table", "--format", help="table (terminal), csv or json (stdout, for scripts)."),
    skip_bad: bool = SKIP_BAD,
) -> None:
    """List identifiers (e-mails, phones, postcodes, NI numbers, personal URLs, names, organisations).

    Shows document, segment, offsets and kind with the item masked, never the text.
    Example: hcrisis privacy scan corpora/thesis-excerpts
    """
    from hcrisis.ingest.privacy import scan_corpus

    c = open_inputs("privacy scan", corpus, None, None, skip_bad).corpus
    findings = scan_corpus(c)
    counts = findings["kind"].value_counts().sort_index()
    summary = f"{len(findings)} findings" + "".join(f"; {k} {v}" for k, v in counts.items())
    if fmt != "table":
        emit_table(findings, fmt)
        typer.echo(summary, err=True)
        return
    if not findings.empty:
        print_table(findings, title=f"identifiers in corpus {c.name}")
    typer.echo(summary)


@privacy_app.command("redact")
def privacy_redact(
    corpus: Optional[Path] = CORPUS,
    out: Path = typer.Option(..., "--out", help="New folder for the pseudonymised copy."),
    key: Path = typer.Option(..., "--key", help="Key file (CSV), kept apart from the copy and outputs/."),
    skip_bad: bool = SKIP_BAD,
) -> None:
    """Write a pseudonymised copy of a corpus and, separately, its key.

    Example: hcrisis privacy redact corpora/thesis-excerpts --out outputs/redacted-excerpts --key ~/hcrisis-keys/excerpts.csv
    """
    from hcrisis.ingest.privacy import redact

    counts = redact(open_inputs("privacy redact", corpus, None, None, skip_bad).corpus, out, key)
    replaced = "; ".join(f"{kind} {n}" for kind, n in counts["replaced"].items()) or "nothing"
    typer.echo(f"wrote {out}: {counts['documents']} documents, {counts['tables']} tables, "
               f"{counts['replacements']} distinct replacements; key {key}")
    typer.echo(f"replaced: {replaced}")
