"""What the CLI's commands share: options, table printing, opening a corpus.

Every command that reads a corpus takes it as its first argument, CORPUS;
without it, the `--study`'s corpus, else (in the thesis project folder, which
holds studies/thesis.yaml) the thesis's. Segments come from `--segment ID`
(the study's, and `all`), `--where ATTR=VALUE` and `--by ATTR`. Outputs go
to `--out`, by default `outputs/<command>/` under the study's outputs folder
(with `--study`) or under ./outputs: a folder no study step writes, so a
command never overwrites a study's files unless `--out` says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

if TYPE_CHECKING:
    from hcrisis.ingest.corpus import Corpus
    from hcrisis.ingest.segments import Segment, Selection
    from hcrisis.study.model import Study

DEFAULT_STUDY = Path("studies/thesis.yaml")   # also the marker of the thesis project folder

CORPUS = typer.Argument(None, show_default=False, help="Corpus folder (default: the --study's corpus; "
                        "in the thesis project folder, the thesis's).")
STUDY = typer.Option(None, "--study", help="Study file: its segment ids, settings and outputs folder.")
SEGMENT = typer.Option(None, "--segment", help="Segment id of the --study, or all (every participant "
                       "turn); repeatable.")
WHERE = typer.Option(None, "--where", help="A segment by attribute values: ATTR=VALUE, ATTR=V1,V2 (either), "
                     "conditions joined by ';' (all); repeatable, one segment each.")
BY = typer.Option(None, "--by", help="One segment per value of this attribute.")
OUT = typer.Option(None, "--out", help="Output folder (default: outputs/<command>/ under the study's "
                   "outputs with --study, else under ./outputs).")
ENGINE = typer.Option("local", "--engine", help="local: partitions of the corpus one after another in "
                      "this process; dask: on a Dask cluster (pip install 'hcrisis[dask]').")
SCHEDULER = typer.Option(None, "--scheduler", help="Address of a running Dask scheduler (tcp://host:8786); "
                         "default with --engine dask: a local cluster, one worker per CPU.")
SKIP_BAD = typer.Option(False, "--skip-bad", help="List unreadable files on stderr and analyse the "
                        "rest (default: stop at the first bad file).")
ALLOW_IDENTIFIERS = typer.Option(False, "--allow-identifiers", help="Show and write text even if it "
                                 "holds identifiers (see hcrisis privacy scan).")


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


@dataclass
class Inputs:
    """What a command works on: the corpus, the study (or None) and the output folder."""

    corpus: Corpus | None    # None only where a command can do without (agree)
    study: Study | None
    command: str
    given_out: Path | None = None
    outline: bool = False    # the corpus's segments are its outline (hcrisis.engine): read by partition
    folder: Path | None = None   # the corpus folder, not read here (open_inputs with read=False)

    @property
    def counted(self) -> Corpus | Path | None:
        """What a partitioned command counts: the folder (read again by partition) for an
        outline or a corpus not read here, else the corpus loaded here."""
        if self.folder is not None:
            return self.folder
        return self.corpus.root if self.outline and self.corpus is not None else self.corpus

    @property
    def out(self) -> Path:
        """--out, else outputs/<command>/ under the study's outputs folder or ./outputs."""
        base = self.study.outputs if self.study is not None else Path("outputs")
        return self.given_out or base / self.command

    def settings(self, stage: str) -> dict[str, Any]:
        """The study's `settings.<stage>` (empty without a study)."""
        return self.study.settings(stage) if self.study is not None else {}

    def selection(self, ids: Optional[list[str]] = None, where: Optional[list[str]] = None,
                  by: Optional[str] = None, default_all: bool = True) -> Selection:
        """The segments named on the command line, chosen once the corpus is read."""
        from hcrisis.ingest.segments import Selection

        return Selection(declared=tuple(self.study.segments) if self.study is not None else (),
                         ids=tuple(ids or ()), where=tuple(where or ()), by=by, default_all=default_all,
                         study_path=self.study and self.study.path)

    def segments(self, ids: Optional[list[str]] = None, where: Optional[list[str]] = None,
                 by: Optional[str] = None, default_all: bool = True) -> list[Segment]:
        """The selected segments (`hcrisis.ingest.segments.select`), checked on the corpus."""
        return self.selection(ids, where, by, default_all).resolve(self.corpus.segments, self.corpus.manifest_path)


def open_inputs(command: str, corpus: Optional[Path], study: Optional[Path], out: Optional[Path],
                skip_bad: bool, required: bool = True, outline: bool = False, read: bool = True) -> Inputs:
    """Load the study (if given) and the corpus (given, the study's, else the thesis's in
    its project folder; if not `required`, none) and choose the output folder. With
    `outline` (and not `skip_bad`) only the corpus's outline is kept: its segments without
    text, read partition by partition (`hcrisis.engine.partitions.read_outline`); without
    `read` (and not `skip_bad`) the corpus is not read at all (`Inputs.counted`: its folder)."""
    from hcrisis.study.model import load_study

    s = load_study(study) if study is not None else None
    path = corpus or (s.corpus_path if s is not None else thesis_corpus(command, required))
    if path is not None and not read and not skip_bad:
        return Inputs(None, s, command, out, folder=Path(path))
    if path is not None and outline and not skip_bad:
        from hcrisis.engine.partitions import read_outline
        return Inputs(read_outline(path), s, command, out, outline=True)
    c = open_corpus(path, skip_bad) if path is not None else None
    return Inputs(c, s, command, out)


def thesis_corpus(command: str, required: bool = True) -> Path | None:
    """The thesis's corpus when the current folder is its project; else say how to name
    one (or, for a command that can do without a corpus, None)."""
    from hcrisis.errors import InputError
    from hcrisis.study.model import load_study

    if not required:
        return None
    if DEFAULT_STUDY.is_file():
        return load_study(DEFAULT_STUDY).corpus_path
    raise InputError("no corpus given", fix=f"name a corpus folder: hcrisis {command} CORPUS, or pass --study FILE")


def wrote(paths: list[Path]) -> str:
    """`wrote N files: a, b` naming each figure or table once (without its suffixes)."""
    return f"wrote {len(paths)} files: " + ", ".join(sorted({str(p.with_suffix('')) for p in paths}))
