"""Commands over a corpus's words: frequencies, keyness, KWIC, clouds, terms."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Optional

import typer

from hcrisis.cli import app
from hcrisis.cli.common import SKIP_BAD, DEFAULT_CORPUS, DEFAULT_STUDY, corpus_for, print_table


ALLOW_IDENTIFIERS = typer.Option(False, "--allow-identifiers", help="Write items that the privacy "
                                 "scanner flags as identifiers (names, e-mails, phones; see hcrisis privacy scan).")


def _open(corpus: Path | None, study: Path | None, skip_bad: bool):
    """The corpus a command analyses (given, else the study's, else the default), loaded once."""
    from hcrisis.ingest.corpus import as_corpus
    from hcrisis.study.model import load_study

    c = corpus_for(corpus, study, skip_bad)
    return as_corpus(c or (load_study(study).corpus_path if study is not None else DEFAULT_CORPUS))


def _item_guard(corpus, allow_identifiers: bool):
    """`guard(items, path)` refusing identifier items, or None with --allow-identifiers."""
    if allow_identifiers:
        return None
    from hcrisis.ingest.privacy import Scanner, guard_items

    scanner = Scanner.from_corpus(corpus)
    return lambda items, where: guard_items(items, where, False, scanner)


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
    allow_identifiers: bool = ALLOW_IDENTIFIERS,
    skip_bad: bool = SKIP_BAD,
) -> None:
    """Word frequencies of a segment (NVivo's Word Frequency Query, arithmetic documented).

    Example: hcrisis freq --study studies/thesis.yaml --segment la --grouping stemmed
    """
    from hcrisis.text.freq import open_counter, resolve_segment, write_frequencies

    loaded = _open(corpus, study, skip_bad)
    counter, s = open_counter(loaded, study, DEFAULT_CORPUS, min_length=min_length,
                              stop_words=stop_words, grouping=grouping, top=top)
    seg = resolve_segment(s, segment)
    if terms:
        from hcrisis.text.terms import TermSettings, accepted_terms, merged_frequency_table
        accepted = accepted_terms(counter.tokens, counter.segments, TermSettings.from_study(s))
        table = merged_frequency_table(counter, seg, accepted, top=counter.settings.top)
    else:
        table = counter.table(seg, top=counter.settings.top)
    guard = _item_guard(loaded, allow_identifiers)
    if guard is not None:
        guard(table["word"], out / f"freq_{seg.id}.csv")
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
    from hcrisis.errors import InputError
    from hcrisis.text.freq import open_counter, resolve_segment
    from hcrisis.tables import write_table

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
    word: str = typer.Argument(..., help="Word or phrase to find (\"black box\"): each word by lemma, "
                               "exact form, or wildcard (manag*)."),
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
    from hcrisis.text.freq import open_tokens, resolve_segment
    from hcrisis.text.kwic import centred_lines, kwic as find
    from hcrisis.ingest.privacy import Scanner, guard_masked
    from hcrisis.tables import write_table

    tokens, loaded, s = open_tokens(corpus_for(corpus, study, skip_bad), study, DEFAULT_CORPUS)
    segments = loaded.segments
    rows = resolve_segment(s, segment).mask(segments)
    scanner = None if allow_identifiers else Scanner.from_corpus(loaded)
    hits = find(tokens, segments, word, window=window, paragraph=paragraph, rows=rows, match=match,
                scanner=scanner)
    for doc, part in hits.groupby("document_id", sort=False):
        where = ", ".join(sorted({str(v) for c in ("sector", "source_type") if c in part for v in part[c] if v}))
        typer.echo(f"{doc} ({where}): {len(part)} hit(s)" if where else f"{doc}: {len(part)} hit(s)")
        for line in centred_lines(part, shutil.get_terminal_size().columns):
            typer.echo(line)
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
    allow_identifiers: bool = ALLOW_IDENTIFIERS,
    skip_bad: bool = SKIP_BAD,
) -> None:
    """Word clouds of study segments (PNG 300 dpi, SVG and the frequency table beside them).

    Example: hcrisis cloud corpora/thesis-excerpts --segment la --compare la ha --out outputs/figures
    """
    from hcrisis.text.cloud import run_cloud
    from hcrisis.errors import InputError

    pair = tuple(compare) if compare and all(compare) else None
    if terms and pair:
        raise InputError("--terms draws frequency clouds, not comparisons", fix="leave out --compare or --terms")
    loaded = _open(corpus, study, skip_bad)
    if terms:
        from hcrisis.text.terms import run_terms_cloud
        written = run_terms_cloud(study, loaded, segment, out)
    else:
        written = run_cloud(study, loaded, segment, pair, out, measure, _item_guard(loaded, allow_identifiers))
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
    allow_identifiers: bool = ALLOW_IDENTIFIERS,
    skip_bad: bool = SKIP_BAD,
) -> None:
    """Multi-word terms (2-4 tokens) ranked by C-value, with G2 and PMI of their parts.

    Example: hcrisis terms --study studies/thesis.yaml --segment ha --compare ha la
    """
    from hcrisis.text.terms import run_terms

    pair = tuple(compare) if compare and all(compare) else None
    loaded = _open(corpus, study, skip_bad)
    run = run_terms(loaded, study, DEFAULT_CORPUS, segment=segment, out=out, model=model, compare=pair,
                    uncovered=uncovered, guard=_item_guard(loaded, allow_identifiers), min_freq=min_freq,
                    min_docs=min_docs, top=top)
    for seg_id, table in run.tables.items():
        print_table(table[["rank", "term", "count", "documents", "c_value", "g2", "pmi"]].head(20),
                    title=f"{seg_id}: {len(table)} terms in {table.attrs['words']:,} words")
    if run.keyness is not None:
        print_table(run.keyness[["item", "count_a", "count_b", "g2", "p_adjusted", "favours"]].head(20),
                    title=f"term keyness {pair[0]} vs {pair[1]}")
    if run.uncovered is not None:
        typer.echo(f"{len(run.uncovered)} term(s) matched by no code")
    typer.echo(f"wrote {len(run.written)} files: " + ", ".join(str(p) for p in run.written if p.suffix == ".csv"))
