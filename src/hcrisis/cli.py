"""The `hcrisis` command line: a thin shell over the library.

Each command parses its options and calls one library function. Library
errors (`HcrisisError`) are caught once, here, and printed as one line on
stderr with exit code 1. Heavy libraries are imported inside commands so
that `hcrisis --help` stays fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import click
import typer
from typer.core import TyperGroup

from .errors import HcrisisError


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
corpus_app = typer.Typer(no_args_is_help=True, help="Inspect and set up corpora.")
quotes_app = typer.Typer(no_args_is_help=True, help="Quotations of published qualitative studies.")
app.add_typer(corpus_app, name="corpus")
app.add_typer(quotes_app, name="quotes")
privacy_app = typer.Typer(no_args_is_help=True, help="Find and pseudonymise identifiers in a corpus.")
app.add_typer(privacy_app, name="privacy")

DEFAULT_STUDY = Path("studies/thesis.yaml")
DEFAULT_CORPUS = Path("corpora/thesis-excerpts")
SKIP_BAD = typer.Option(False, "--skip-bad", help="List unreadable files on stderr and analyse the "
                        "rest (default: stop at the first bad file).")


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


@app.command()
def reproduce(
    study: Path = typer.Argument(DEFAULT_STUDY, help="Study file (YAML)."),
    only: Optional[list[str]] = typer.Option(None, "--only", help="Run only these steps."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Run every step, ignoring .hcrisis-cache/."),
) -> None:
    """Regenerate the study's tables, figures and reproduction report.

    Steps whose inputs, settings and code are unchanged since the last run are
    skipped (their outputs are checked by hash and kept).
    Example: hcrisis reproduce studies/thesis.yaml
    """
    from .prefetch import start_tokeniser

    tokeniser = start_tokeniser()   # loads spaCy on the other CPU while the rest is imported
    try:
        from .reproduce import checks_table, run_reproduce

        with console().status("reproducing") as status:
            ctx = run_reproduce(study, only, progress=lambda name: status.update(f"step: {name}"),
                                cache=not no_cache, tokeniser=tokeniser)
    finally:
        if tokeniser is not None:
            tokeniser.close()
    counts = checks_table(ctx.checks)["status"].value_counts().sort_index()
    cached = f" ({len(ctx.disk_cache.skipped)} unchanged steps skipped)" if ctx.disk_cache else ""
    typer.echo(f"wrote {len(ctx.written)} files to {ctx.out}{cached}; checks: "
               + ", ".join(f"{k} {v}" for k, v in counts.items()))


@corpus_app.command("info")
def corpus_info(
    corpus: Path = typer.Argument(DEFAULT_CORPUS, help="Corpus folder."),
    by: Optional[str] = typer.Option(None, "--by", help="Break down by this attribute."),
    skip_bad: bool = SKIP_BAD,
) -> None:
    """Documents, participants, segments and words of a corpus.

    Example: hcrisis corpus info corpora/thesis-excerpts --by sector
    """
    from .corpus import corpus_summary

    c = open_corpus(corpus, skip_bad)
    print_table(corpus_summary(c, by), title=f"corpus {c.name}")
    for doc, speaker in c.unmapped_speakers:
        typer.echo(f"unmapped speaker label in {doc}: {speaker!r}", err=True)


def report_skipped(corpus) -> None:
    """List the files `--skip-bad` left out (one error line each) on stderr."""
    for line in corpus.skipped:
        typer.echo(f"skipped: {line}", err=True)


def open_corpus(path: Path, skip_bad: bool):
    """Load a corpus for a command, listing the files `--skip-bad` left out."""
    from .corpus import load_corpus

    c = load_corpus(path, skip_bad=skip_bad)
    report_skipped(c)
    return c


def corpus_for(corpus: Path | None, study: Path | None, skip_bad: bool):
    """The corpus argument for a library call: a path (the library loads it), or with
    --skip-bad the corpus loaded here (the study's, else the default) with its skipped files listed."""
    if not skip_bad:
        return corpus
    if corpus is None:
        from .study import load_study
        corpus = load_study(study).corpus_path if study is not None else DEFAULT_CORPUS
    return open_corpus(corpus, True)


@corpus_app.command("init")
def corpus_init(
    folder: Path = typer.Argument(..., help="Folder of transcripts."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing manifest.yaml."),
) -> None:
    """Write a manifest skeleton for a folder of transcripts, to complete by hand.

    Example: hcrisis corpus init examples/transcripts
    """
    from .init import init_corpus

    report = init_corpus(folder, force)
    for line in report.bad:
        typer.echo(f"not read: {line}", err=True)
    typer.echo(f"wrote {report.manifest}: {report.documents} documents, "
               f"{report.labels} speaker labels; complete it before analysis")


@privacy_app.command("scan")
def privacy_scan(
    corpus: Path = typer.Argument(DEFAULT_CORPUS, help="Corpus folder."),
    skip_bad: bool = SKIP_BAD,
) -> None:
    """List identifiers (e-mails, phones, postcodes, personal URLs, names, organisations).

    Shows document, segment, offsets and kind with the item masked, never the text.
    Example: hcrisis privacy scan corpora/thesis-excerpts
    """
    from .privacy import scan_corpus

    c = open_corpus(corpus, skip_bad)
    findings = scan_corpus(c)
    if not findings.empty:
        print_table(findings, title=f"identifiers in corpus {c.name}")
    counts = findings["kind"].value_counts().sort_index()
    typer.echo(f"{len(findings)} findings" + "".join(f"; {k} {v}" for k, v in counts.items()))


@privacy_app.command("redact")
def privacy_redact(
    corpus: Path = typer.Argument(DEFAULT_CORPUS, help="Corpus folder."),
    out: Path = typer.Option(..., "--out", help="New folder for the pseudonymised copy."),
    key: Path = typer.Option(..., "--key", help="Key file (CSV), kept apart from the copy and outputs/."),
    skip_bad: bool = SKIP_BAD,
) -> None:
    """Write a pseudonymised copy of a corpus and, separately, its key.

    Example: hcrisis privacy redact corpora/thesis-excerpts --out outputs/redacted-excerpts --key ~/hcrisis-keys/excerpts.csv
    """
    from .privacy import redact

    counts = redact(open_corpus(corpus, skip_bad), out, key)
    typer.echo(f"wrote {out}: {counts['documents']} documents, {counts['tables']} tables, "
               f"{counts['replacements']} distinct replacements; key {key}")


@app.command()
def agree(
    codings: Path = typer.Argument(..., help="Codings CSV (segment_id, code_id[, score, primary])."),
    gold: str = typer.Option(..., "--gold", help="Gold codings CSV, or 'thesis-sections' for the "
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
    from .agree import LEVELS, UNITS, run_agree
    from .errors import InputError

    if level is not None and level not in LEVELS:
        raise InputError(f"unknown level '{level}'", fix="use --level theme or --level code")
    if unit not in UNITS:
        raise InputError(f"unknown unit '{unit}'", fix="use --unit segment or --unit sentence")
    result = run_agree(codings, gold, corpus=corpus and corpus_for(corpus, None, skip_bad), codebook=codebook, level=level, unit=unit, out=out)
    print_table(result.summary[["level", "split", "method", "gold_units", "top1", "recall",
                                "codes_per_unit", "kappa_top1", "alpha_top1", "alpha_binary"]],
                title=f"agreement ({unit}s)")
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
    from .suggest import run_suggest

    suggestions, themes, _ = run_suggest(corpus_for(corpus, None, skip_bad), codings, topics=topics, out=out)
    typer.echo(f"{suggestions['segment_id'].nunique()} uncoded unit(s) with suggested codes; "
               f"wrote {out / 'suggestions.csv'}")
    print_table(themes[["topic", "top_terms", "example_units"]], title="candidate themes (suggestions)")


codebook_app = typer.Typer(no_args_is_help=True, help="Check and export codebooks.")
app.add_typer(codebook_app, name="codebook")


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
    from .coding import run_code
    from .errors import InputError

    if study is not None:
        from .study import load_study
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
    from .codebook import load_codebook, summary

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
    from .codebook import load_codebook, to_html, to_markdown
    from .errors import InputError
    from .io import write_atomic

    writers = {"md": to_markdown, "html": to_html}
    if fmt not in writers:
        raise InputError(f"unknown format '{fmt}'", fix="use --format md or --format html")
    write_atomic(out, writers[fmt](load_codebook(file)))
    typer.echo(f"wrote {out}")


@app.command()
def freq(
    corpus: Optional[Path] = typer.Argument(None, help="Corpus folder (default: the study's, "
                                            "else corpora/thesis-excerpts)."),
    study: Optional[Path] = typer.Option(None, "--study", help="Study file declaring segments and settings.freq."),
    segment: str = typer.Option("all", "--segment", help="Segment id of the study; all: every "
                                "participant turn (the study's own 'all' segment if it declares one)."),
    min_length: Optional[int] = typer.Option(None, "--min-length", help="Shortest word counted (default 3)."),
    stop_words: Optional[str] = typer.Option(None, "--stop-words", help="default, none or a stop-list FILE."),
    grouping: Optional[str] = typer.Option(None, "--grouping", help="exact or stemmed."),
    top: Optional[int] = typer.Option(None, "--top", help="Rows kept (default 1000)."),
    terms: bool = typer.Option(False, "--terms", help="Count multi-word terms as single items "
                               "(the study's settings.terms.accepted, else the top extracted terms)."),
    out: Path = typer.Option(Path("outputs/tables"), "--out", help="Folder for freq_<segment>.csv/.md."),
    skip_bad: bool = SKIP_BAD,
) -> None:
    """Word frequencies of a segment (NVivo's Word Frequency Query, arithmetic documented).

    Example: hcrisis freq --study studies/thesis.yaml --segment la --grouping stemmed
    """
    from .freq import open_counter, resolve_segment, write_frequencies

    counter, s = open_counter(corpus_for(corpus, study, skip_bad), study, DEFAULT_CORPUS, min_length=min_length,
                              stop_words=stop_words, grouping=grouping, top=top)
    seg = resolve_segment(s, segment)
    if terms:
        from .terms import TermSettings, accepted_terms, merged_frequency_table
        accepted = accepted_terms(counter.tokens, counter.segments, TermSettings.from_study(s))
        table = merged_frequency_table(counter, seg, accepted, top=counter.settings.top)
    else:
        table = counter.table(seg, top=counter.settings.top)
    written = write_frequencies(table, out, seg, counter.settings)
    print_table(table.head(20).drop(columns="members"),
                title=f"{seg.id}: {table.attrs['denominator']:,} counted words "
                      f"({counter.settings.describe()})")
    typer.echo(f"wrote {written[0]}")


@app.command()
def compare(
    a: str = typer.Argument(..., help="Segment id (side A)."),
    b: Optional[str] = typer.Argument(None, help="Segment id (side B); or --rest."),
    rest: bool = typer.Option(False, "--rest", help="Compare A with every other turn."),
    study: Path = typer.Option(DEFAULT_STUDY, "--study", help="Study file declaring the segments."),
    corpus: Optional[Path] = typer.Option(None, "--corpus", help="Corpus folder (default: the study's)."),
    correction: str = typer.Option("fdr_bh", "--correction", help="fdr_bh, bonferroni or none."),
    top: int = typer.Option(20, "--top", help="Rows printed."),
    out: Path = typer.Option(Path("outputs/tables"), "--out", help="Folder for keyness_<A>_vs_<B>.csv/.md."),
    skip_bad: bool = SKIP_BAD,
) -> None:
    """Keyness of every word of segment A against B (G², p, log ratio, %DIFF).

    Example: hcrisis compare la ha --study studies/thesis.yaml
    """
    from .errors import InputError
    from .freq import open_counter, resolve_segment
    from .tables import write_table

    if (b is None) == (not rest):
        raise InputError("give either segment B or --rest", fix="e.g. hcrisis compare la ha, or hcrisis compare la --rest")
    counter, s = open_counter(corpus_for(corpus, study, skip_bad), study, DEFAULT_CORPUS)
    seg_a = resolve_segment(s, a)
    scope_b = resolve_segment(s, b) if b else counter.rest(seg_a)
    name_b = b or "rest"
    table = counter.keyness(seg_a, scope_b, labels=(a, name_b), correction=correction)
    written = write_table(table, out / f"keyness_{a}_vs_{name_b}",
                          title=f"Keyness {a} vs {name_b}: {table.attrs['tests']} words tested, "
                                f"p adjusted ({correction})")
    shown = ["item", "count_a", "count_b", "g2", "p_adjusted", "log_ratio", "favours"]
    print_table(table[shown].head(top), title=f"{a} vs {name_b}: {table.attrs['tests']} words tested")
    typer.echo(f"wrote {written[0]}")


@app.command()
def kwic(
    word: str = typer.Argument(..., help="Word to find: lemma, exact form, or wildcard (manag*)."),
    corpus: Optional[Path] = typer.Argument(None, help="Corpus folder (default: the study's, "
                                            "else corpora/thesis-excerpts)."),
    study: Optional[Path] = typer.Option(None, "--study", help="Study file declaring the segments."),
    segment: str = typer.Option("all", "--segment", help="Search only this segment of the study; all: "
                                "every participant turn (the study's own 'all' if declared)."),
    window: int = typer.Option(5, "--window", help="Words shown either side."),
    paragraph: bool = typer.Option(False, "--paragraph", help="Show the whole turn instead of the window."),
    match: str = typer.Option("lemma", "--match", help="lemma or exact."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the hits to FILE (.csv, with a .md twin)."),
    allow_identifiers: bool = typer.Option(False, "--allow-identifiers", help="Show and write hits with "
                                           "their identifiers (see hcrisis privacy scan)."),
    skip_bad: bool = SKIP_BAD,
) -> None:
    """Keyword in context, grouped by document, with each speaker's attribution.

    Only the window (or, with --paragraph, the turn) is shown; identifiers in
    it are shown as [EMAIL], [NAME], ... unless --allow-identifiers.
    Example: hcrisis kwic 'manag*' --study studies/thesis.yaml --segment la --window 5
    """
    from .freq import open_tokens, resolve_segment
    from .kwic import kwic as find
    from .privacy import Scanner, guard_masked
    from .tables import write_table

    tokens, loaded, s = open_tokens(corpus_for(corpus, study, skip_bad), study, DEFAULT_CORPUS)
    segments = loaded.segments
    rows = resolve_segment(s, segment).mask(segments)
    scanner = None if allow_identifiers else Scanner.from_corpus(loaded)
    hits = find(tokens, segments, word, window=window, paragraph=paragraph, rows=rows, match=match,
                scanner=scanner)
    for doc, part in hits.groupby("document_id", sort=False):
        where = ", ".join(sorted({str(v) for c in ("sector", "source_type") if c in part for v in part[c] if v}))
        print_table(part.drop(columns=["document_id", "sector", "source_type"], errors="ignore"),
                    title=f"{doc} ({where}): {len(part)} hit(s)" if where else f"{doc}: {len(part)} hit(s)")
    typer.echo(f"{len(hits)} hit(s) of '{word}' in {hits['document_id'].nunique()} document(s)")
    hidden = hits.attrs["identifiers"]
    if hidden:
        typer.echo(f"identifiers masked in {len({seg for seg, _ in hidden})} segment(s): "
                   f"{', '.join(sorted({kind for _, kind in hidden}))} (see hcrisis privacy scan)", err=True)
    if out is not None:
        guard_masked(hits, out)
        written = write_table(hits, out.with_suffix(""))
        typer.echo(f"wrote {written[0]}")


@app.command()
def cloud(
    corpus: Optional[Path] = typer.Argument(None, help="Corpus folder (default: the study's)."),
    segment: Optional[list[str]] = typer.Option(None, "--segment", help="Segment id of the study "
                                                "(repeatable; default: every segment with a figure)."),
    compare: Optional[tuple[str, str]] = typer.Option(None, "--compare", help="Two segment ids: "
                                                      "a keyness cloud coloured by the segment each word favours."),
    study: Path = typer.Option(DEFAULT_STUDY, "--study", help="Study file declaring the segments."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default: the study's outputs/figures)."),
    measure: str = typer.Option("g2", "--measure", help="Comparison word size: g2 or log_ratio."),
    terms: bool = typer.Option(False, "--terms", help="Count multi-word terms as single items, a cloud of "
                               "used terms (the study's settings.terms.accepted, else the top extracted terms)."),
    skip_bad: bool = SKIP_BAD,
) -> None:
    """Word clouds of study segments (PNG 300 dpi, SVG and the frequency table beside them).

    Example: hcrisis cloud corpora/thesis-excerpts --segment la --compare la ha --out outputs/figures
    """
    from .cloud import run_cloud
    from .errors import InputError

    pair = tuple(compare) if compare and all(compare) else None
    corpus = corpus_for(corpus, study, skip_bad)
    if terms:
        from .terms import run_terms_cloud
        if pair:
            raise InputError("--terms draws frequency clouds, not comparisons", fix="leave out --compare or --terms")
        written = run_terms_cloud(study, corpus, segment, out)
    else:
        written = run_cloud(study, corpus, segment, pair, out, measure)
    typer.echo(f"wrote {len(written)} files: " + ", ".join(sorted({str(p.with_suffix('')) for p in written})))


@app.command()
def terms(
    corpus: Optional[Path] = typer.Argument(None, help="Corpus folder (default: the study's, "
                                            "else corpora/thesis-excerpts)."),
    study: Optional[Path] = typer.Option(None, "--study", help="Study file declaring segments and settings.terms."),
    segment: Optional[str] = typer.Option(None, "--segment", help="Segment id of the study (default all)."),
    min_freq: Optional[int] = typer.Option(None, "--min-freq", help="Fewest occurrences of a term (default 2)."),
    min_docs: Optional[int] = typer.Option(None, "--min-docs", help="Fewest documents with the term (default 1)."),
    top: Optional[int] = typer.Option(None, "--top", help="Rows kept (default 500)."),
    model: Optional[str] = typer.Option(None, "--model", help="Installed trained spaCy pipeline with a "
                                        "parser: noun chunks become candidates too."),
    compare: Optional[tuple[str, str]] = typer.Option(None, "--compare", help="Two segment ids: keyness of their terms."),
    uncovered: Optional[Path] = typer.Option(None, "--uncovered", help="Codebook (YAML): frequent terms no "
                                             "code matches, and the terms each code covers."),
    out: Path = typer.Option(Path("outputs/tables"), "--out", help="Folder for terms_<segment>.csv/.md."),
    skip_bad: bool = SKIP_BAD,
) -> None:
    """Multi-word terms (2-4 tokens) ranked by C-value, with G2 and PMI of their parts.

    Example: hcrisis terms --study studies/thesis.yaml --segment ha --compare ha la
    """
    from .terms import run_terms

    pair = tuple(compare) if compare and all(compare) else None
    run = run_terms(corpus_for(corpus, study, skip_bad), study, DEFAULT_CORPUS, segment=segment, out=out, model=model,
                    compare=pair, uncovered=uncovered, min_freq=min_freq, min_docs=min_docs, top=top)
    for seg_id, table in run.tables.items():
        print_table(table[["rank", "term", "count", "documents", "c_value", "g2", "pmi"]].head(20),
                    title=f"{seg_id}: {len(table)} terms in {table.attrs['words']:,} words")
    if run.keyness is not None:
        print_table(run.keyness[["item", "count_a", "count_b", "g2", "p_adjusted", "favours"]].head(20),
                    title=f"term keyness {pair[0]} vs {pair[1]}")
    if run.uncovered is not None:
        typer.echo(f"{len(run.uncovered)} term(s) matched by no code")
    typer.echo(f"wrote {len(run.written)} files: " + ", ".join(str(p) for p in run.written if p.suffix == ".csv"))


@quotes_app.command("extract")
def quotes_extract(
    document: Path = typer.Argument(..., help="The thesis as plain text, one paragraph per line."),
    out: Path = typer.Option(..., "--out", help="Folder of the excerpt corpus to write."),
    allow_identifiers: bool = typer.Option(False, "--allow-identifiers", help="Write quotations even if "
                                           "they hold identifiers (see hcrisis privacy scan)."),
) -> None:
    """Extract the attributed participant quotations of a thesis into a table corpus.

    Example: hcrisis quotes extract ../shared/seeds/thesis-housing-professional.txt --out corpora/thesis-excerpts
    """
    from .privacy import guard_export
    from .quotes import extract_file, summary_lines, write_excerpt_corpus

    result = extract_file(document)
    guard_export(result.excerpts, out / "excerpts.csv", allow_identifiers)
    result = write_excerpt_corpus(document, out, result)
    for line in summary_lines(result):
        typer.echo(line)
    typer.echo(f"wrote {out}/manifest.yaml, excerpts.csv, participants.csv")


def main() -> None:
    """The `hcrisis` executable: run the command, flush its output and leave at once.

    Skipping the interpreter's teardown (as Instagram's services do) saves up to
    half a second per command, spent freeing the modules of spaCy, pandas,
    matplotlib and fontTools; every file hcrisis writes is closed (and renamed
    into place) before the command returns, and worker processes are joined.
    """
    try:
        app()
        code = 0
    except SystemExit as exc:   # click's standalone mode always ends with one
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
