"""Commands that exchange projects and codebooks with QDA tools (REFI-QDA)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from hcrisis.cli import app
from hcrisis.cli.common import SKIP_BAD, open_corpus

export_app = typer.Typer(no_args_is_help=True, help="Write REFI-QDA files for NVivo, ATLAS.ti, MAXQDA, "
                                                   "QualCoder.")
app.add_typer(export_app, name="export")
import_app = typer.Typer(no_args_is_help=True, help="Read REFI-QDA files from NVivo, ATLAS.ti, MAXQDA, "
                                                   "QualCoder.")
app.add_typer(import_app, name="import")

KNOWN_HELP = ("Codebook (YAML) whose codes, matched by REFI GUID (as hcrisis exported them), keep their "
              "ids; other codes get ids from their names.")
POSITIONS_HELP = "codepoints (the standard's) or utf16 (NVivo's UTF-16 code units)."


@export_app.command("qdpx")
def export_qdpx(
    corpus: Path = typer.Argument(..., help="Corpus folder."),
    out: Path = typer.Option(..., "--out", help="Project file to write (.qdpx)."),
    codings: Optional[Path] = typer.Option(None, "--codings", help="Codings CSV (hcrisis code, or "
                                           "hcrisis import qdpx); none: a project ready for hand coding."),
    codebook: Optional[Path] = typer.Option(None, "--codebook", help="Codebook (YAML): the code tree."),
    coder: str = typer.Option("hcrisis", "--coder", help="User named on codings without a coder column."),
    positions: str = typer.Option("codepoints", "--positions", help=POSITIONS_HELP),
    allow_identifiers: bool = typer.Option(False, "--allow-identifiers", help="Export even if the texts "
                                           "hold identifiers (see hcrisis privacy scan)."),
    skip_bad: bool = SKIP_BAD,
) -> None:
    """Write a corpus, its codebook and codings as a REFI-QDA project (.qdpx).

    The example's codings are written by hcrisis code (or hcrisis reproduce).
    Example: hcrisis export qdpx corpora/thesis-excerpts --codebook codebooks/thesis.yaml --codings outputs/coding/codings.csv --out outputs/coding/thesis.qdpx
    """
    from hcrisis.exchange.refi_export import export_qdpx as run

    done = run(open_corpus(corpus, skip_bad), out, codings=codings, codebook=codebook, coder=coder,
               positions=positions, allow_identifiers=allow_identifiers)
    typer.echo(f"wrote {done.path}: {done.sources} source(s), {done.codes} code(s), {done.codings} coding(s) "
               f"by {done.users} user(s), {done.cases} case(s); positions in "
               f"{'UTF-16 code units' if done.positions == 'utf16' else 'code points'}")


@export_app.command("qdc")
def export_qdc(
    codebook: Path = typer.Argument(..., help="Codebook (YAML)."),
    out: Path = typer.Option(..., "--out", help="Codebook file to write (.qdc)."),
) -> None:
    """Write a codebook as a REFI-QDA Codebook (.qdc).

    Example: hcrisis export qdc codebooks/thesis.yaml --out outputs/thesis.qdc
    """
    from hcrisis.exchange.refi_export import export_qdc as run

    done = run(codebook, out)
    typer.echo(f"wrote {done.path}: {done.codes} code(s)")


@import_app.command("qdpx")
def import_qdpx(
    file: Path = typer.Argument(..., help="REFI-QDA project (.qdpx)."),
    out: Path = typer.Option(..., "--out", help="New folder for the corpus, codebook.yaml and codings.csv."),
    positions: Optional[str] = typer.Option(None, "--positions", help=POSITIONS_HELP + " Default: "
                                            "detected."),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="Skip (and list) sources whose text is missing, "
                                  "selections outside their text and codings of unknown codes."),
    codebook: Optional[Path] = typer.Option(None, "--codebook", help=KNOWN_HELP),
) -> None:
    """Read a REFI-QDA project into a corpus folder, codebook.yaml and codings.csv.

    Example: hcrisis import qdpx examples/qda/handcoded.qdpx --out imported
    """
    from hcrisis.exchange.refi_import import import_qdpx as run

    done = run(file, out, positions=positions, skip_bad=skip_bad, codebook=codebook)
    for line in done.report():
        typer.echo(line, err=line.startswith("skipped:"))


@import_app.command("qdc")
def import_qdc(
    file: Path = typer.Argument(..., help="REFI-QDA codebook (.qdc)."),
    out: Path = typer.Option(..., "--out", help="Codebook (YAML) to write."),
    codebook: Optional[Path] = typer.Option(None, "--codebook", help=KNOWN_HELP),
) -> None:
    """Read a REFI-QDA Codebook (.qdc) as a codebook.yaml whose rules are left to write.

    Example: hcrisis import qdc examples/qda/codebook.qdc --out codebook.yaml
    """
    from hcrisis.exchange.refi_import import import_qdc as run

    typer.echo(f"wrote {out}: {run(file, out, codebook=codebook)} code(s)")
