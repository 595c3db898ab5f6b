"""`hcrisis corpus pack`: a corpus as Parquet partitions for the engines."""

from __future__ import annotations

from pathlib import Path

import typer

from hcrisis.cli.corpus import corpus_app


@corpus_app.command("pack")
def pack(
    corpus: Path = typer.Argument(..., help="Corpus folder (with manifest.yaml)."),
    out: Path = typer.Option(..., "--out", help="New or empty folder for part-*.parquet and pack.json."),
    partition_mb: float = typer.Option(8.0, "--partition-mb", min=0.001, help="Transcript megabytes per "
                                       "partition (whole documents; ~1.3M words at 8)."),
) -> None:
    """Write a corpus's segments as Parquet partitions (with pack.json) that Dask workers
    read in parallel from a shared path; freq and compare accept the packed folder.

    Example: hcrisis corpus pack corpora/thesis-excerpts --out outputs/packed-excerpts
    """
    from hcrisis.engine.partitions import pack_corpus

    written = pack_corpus(corpus, out, max_bytes=int(partition_mb * 1_000_000))
    typer.echo(f"wrote {len(written) - 1} partition(s) and {written[-1]}")
