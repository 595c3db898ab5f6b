"""Commands that inspect, set up and pseudonymise corpora."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from hcrisis.cli import app
from hcrisis.cli.common import CORPUS, SKIP_BAD, open_inputs, print_table


corpus_app = typer.Typer(no_args_is_help=True, help="Inspect and set up corpora.")
app.add_typer(corpus_app, name="corpus")
privacy_app = typer.Typer(no_args_is_help=True, help="Find and pseudonymise identifiers in a corpus.")
app.add_typer(privacy_app, name="privacy")


@corpus_app.command("info")
def corpus_info(
    corpus: Optional[Path] = CORPUS,
    by: Optional[str] = typer.Option(None, "--by", help="Break down by this attribute."),
    skip_bad: bool = SKIP_BAD,
) -> None:
    """Documents, participants, segments and words of a corpus.

    Example: hcrisis corpus info corpora/thesis-excerpts --by sector
    """
    from hcrisis.ingest.corpus import corpus_summary

    c = open_inputs("corpus info", corpus, None, None, skip_bad).corpus
    print_table(corpus_summary(c, by), title=f"corpus {c.name}")
    for doc, speaker in c.unmapped_speakers:
        typer.echo(f"unmapped speaker label in {doc}: {speaker!r}", err=True)


@corpus_app.command("init")
def corpus_init(
    folder: Path = typer.Argument(..., help="Folder of transcripts."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing manifest.yaml."),
) -> None:
    """Write a manifest skeleton for a folder of transcripts, to complete by hand.

    Example: hcrisis corpus init examples/transcripts
    """
    from hcrisis.ingest.scaffold import init_corpus

    report = init_corpus(folder, force)
    for line in report.bad:
        typer.echo(f"not read: {line}", err=True)
    typer.echo(f"wrote {report.manifest}: {report.documents} documents, "
               f"{report.labels} speaker labels; complete it before analysis")


@privacy_app.command("scan")
def privacy_scan(
    corpus: Optional[Path] = CORPUS,
    skip_bad: bool = SKIP_BAD,
) -> None:
    """List identifiers (e-mails, phones, postcodes, personal URLs, names, organisations).

    Shows document, segment, offsets and kind with the item masked, never the text.
    Example: hcrisis privacy scan corpora/thesis-excerpts
    """
    from hcrisis.ingest.privacy import scan_corpus

    c = open_inputs("privacy scan", corpus, None, None, skip_bad).corpus
    findings = scan_corpus(c)
    if not findings.empty:
        print_table(findings, title=f"identifiers in corpus {c.name}")
    counts = findings["kind"].value_counts().sort_index()
    typer.echo(f"{len(findings)} findings" + "".join(f"; {k} {v}" for k, v in counts.items()))


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
    typer.echo(f"wrote {out}: {counts['documents']} documents, {counts['tables']} tables, "
               f"{counts['replacements']} distinct replacements; key {key}")
