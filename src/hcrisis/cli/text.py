"""Commands over a corpus's words: frequencies, keyness, KWIC, clouds, terms."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Optional

import typer

from hcrisis.cli import app
from hcrisis.cli.common import (ALLOW_IDENTIFIERS, BY, CORPUS, ENGINE, OUT, SCHEDULER, SEGMENT, SKIP_BAD, STUDY,
                                WHERE, open_inputs, print_table, wrote)

MIN_LENGTH = typer.Option(None, "--min-length", help="Shortest word counted (default 3).")
STOP_WORDS = typer.Option(None, "--stop-words", help="default, none or a stop-list FILE.")
GROUPING = typer.Option(None, "--grouping", help="exact or stemmed.")
TERMS = typer.Option(False, "--terms", help="Count multi-word terms as single items (the study's "
                     "settings.terms.accepted, else the top extracted terms).")


def _freq_settings(inputs, **overrides):
    from hcrisis.text.freq import FreqSettings
    return FreqSettings.from_mapping(inputs.settings("freq"), **overrides)


def _stored(command: str, corpus: Optional[Path], study: Optional[Path], out: Optional[Path], skip_bad: bool):
    """(inputs, tokens) when the --study's rerun store holds the tokens of this corpus's
    text (`hcrisis reproduce` stored them): the corpus and tokens as stored, not made
    again; else None."""
    if study is None or skip_bad:
        return None
    from hcrisis.cli.common import Inputs
    from hcrisis.study.model import load_study
    from hcrisis.study.rerun import stored_tokens

    s = load_study(study)
    found = stored_tokens(s.outputs, corpus or s.corpus_path)
    return (Inputs(found[0], s, command, out), found[1]) if found is not None else None


def _term_settings(inputs, **overrides):
    from hcrisis.text.terms import TermSettings
    return TermSettings.from_mapping(inputs.settings("terms"), inputs.study and inputs.study.path, **overrides)


@app.command()
def freq(
    corpus: Optional[Path] = CORPUS,
    study: Optional[Path] = STUDY,
    segment: Optional[list[str]] = SEGMENT,
    where: Optional[list[str]] = WHERE,
    by: Optional[str] = BY,
    min_length: Optional[int] = MIN_LENGTH,
    stop_words: Optional[str] = STOP_WORDS,
    grouping: Optional[str] = GROUPING,
    top: Optional[int] = typer.Option(None, "--top", help="Rows kept (default 1000)."),
    terms: bool = TERMS,
    out: Optional[Path] = OUT,
    allow_identifiers: bool = ALLOW_IDENTIFIERS,
    skip_bad: bool = SKIP_BAD,
    engine: str = ENGINE,
    scheduler: Optional[str] = SCHEDULER,
) -> None:
    """Word frequencies of each segment (NVivo's Word Frequency Query, arithmetic documented).

    Without a segment: all participant speech.
    Example: hcrisis freq corpora/thesis-excerpts --by sector --grouping stemmed
    """
    from hcrisis.engine import open_engine
    from hcrisis.text.runs import run_freq

    inputs, tokens = _stored("freq", corpus, study, out, skip_bad) or (
        open_inputs("freq", corpus, study, out, skip_bad, read=terms), None)    # else read by partition
    settings = _freq_settings(inputs, min_length=min_length, stop_words=stop_words, grouping=grouping, top=top)
    with open_engine(engine, scheduler) as eng:
        run = run_freq(inputs.counted, inputs.selection(segment, where, by), inputs.out, settings=settings,
                       terms=_term_settings(inputs) if terms else None, allow_identifiers=allow_identifiers,
                       engine=eng, tokens=tokens)
    for seg_id, table in run.tables.items():
        print_table(table.head(20).drop(columns="members"),
                    title=f"{seg_id}: {table.attrs['denominator']:,} counted words ({settings.describe()})")
    typer.echo(wrote(run.written))


@app.command()
def compare(
    corpus: Optional[Path] = CORPUS,
    study: Optional[Path] = STUDY,
    segment: Optional[list[str]] = SEGMENT,
    where: Optional[list[str]] = WHERE,
    by: Optional[str] = typer.Option(None, "--by", help="Each value of this attribute against the rest."),
    correction: str = typer.Option("fdr_bh", "--correction", help="fdr_bh, bonferroni or none."),
    top: int = typer.Option(20, "--top", help="Rows printed."),
    out: Optional[Path] = OUT,
    skip_bad: bool = SKIP_BAD,
    engine: str = ENGINE,
    scheduler: Optional[str] = SCHEDULER,
) -> None:
    """Keyness of every word of segment A against B (G², p, log ratio, %DIFF).

    Two segments: A against B; one: A against every other participant turn;
    --by ATTR: each value against the rest.
    Example: hcrisis compare corpora/thesis-excerpts --where 'sector=local authority' --where 'sector=housing association'
    """
    from hcrisis.engine import open_engine
    from hcrisis.text.runs import run_compare

    inputs = open_inputs("compare", corpus, study, out, skip_bad, read=False)   # read by partition
    with open_engine(engine, scheduler) as eng:
        run = run_compare(inputs.counted, inputs.selection(segment, where, by, default_all=False), inputs.out,
                          settings=_freq_settings(inputs), correction=correction, engine=eng)
    shown = ["item", "count_a", "count_b", "g2", "p_adjusted", "log_ratio", "favours"]
    for (a, b), table in run.tables.items():
        print_table(table[shown].head(top), title=f"{a} vs {b}: {table.attrs['tests']} words tested")
    typer.echo(wrote(run.written))


@app.command()
def kwic(
    corpus_word: list[str] = typer.Argument(..., metavar="[CORPUS] WORD", show_default=False,
                                            help="Corpus folder (as for every command), then the word: "
                                                 "lemma, exact form, or wildcard (manag*)."),
    study: Optional[Path] = STUDY,
    segment: Optional[list[str]] = SEGMENT,
    where: Optional[list[str]] = WHERE,
    window: int = typer.Option(5, "--window", help="Words shown either side."),
    paragraph: bool = typer.Option(False, "--paragraph", help="Show the whole turn instead of the window."),
    match: str = typer.Option("lemma", "--match", help="lemma or exact."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the hits to FILE (.csv, with a .md "
                                       "twin); nothing is written without it."),
    allow_identifiers: bool = ALLOW_IDENTIFIERS,
    skip_bad: bool = SKIP_BAD,
) -> None:
    """Keyword in context, grouped by document, with each speaker's attribution.

    Searches one segment (default: all participant speech). Only the window
    (or, with --paragraph, the turn) is shown; identifiers in it are shown as
    [EMAIL], [NAME], ... unless --allow-identifiers.
    Example: hcrisis kwic corpora/thesis-excerpts 'manag*' --where 'sector=local authority' --window 5
    """
    from hcrisis.errors import InputError
    from hcrisis.text.kwic import centred_lines, run_kwic

    if len(corpus_word) > 2:
        raise InputError(f"too many arguments: {' '.join(corpus_word)}",
                         fix="give the corpus folder, then one word: hcrisis kwic CORPUS WORD")
    corpus, word = (None, *corpus_word) if len(corpus_word) == 1 else (Path(corpus_word[0]), corpus_word[1])
    inputs, tokens = _stored("kwic", corpus, study, None, skip_bad) or (
        open_inputs("kwic", corpus, study, None, skip_bad), None)
    chosen = inputs.segments(segment, where)
    if len(chosen) > 1:
        raise InputError(f"kwic searches one segment, not {len(chosen)}", fix="select one segment")
    hits, written = run_kwic(inputs.corpus, word, chosen[0], out, window=window, paragraph=paragraph,
                             match=match, allow_identifiers=allow_identifiers, tokens=tokens)
    for doc, part in hits.groupby("document_id", sort=False):
        shown = ", ".join(sorted({str(v) for c in ("sector", "source_type") if c in part for v in part[c] if v}))
        typer.echo(f"{doc} ({shown}): {len(part)} hit(s)" if shown else f"{doc}: {len(part)} hit(s)")
        for line in centred_lines(part, shutil.get_terminal_size().columns):
            typer.echo(line)
    typer.echo(f"{len(hits)} hit(s) of '{word}' in {hits['document_id'].nunique()} document(s)")
    hidden = hits.attrs["identifiers"]
    if hidden:
        typer.echo(f"identifiers masked in {len({seg for seg, _ in hidden})} segment(s): "
                   f"{', '.join(sorted({kind for _, kind in hidden}))} (see hcrisis privacy scan)", err=True)
    if written:
        typer.echo(f"wrote {written[0]}")


@app.command()
def cloud(
    corpus: Optional[Path] = CORPUS,
    study: Optional[Path] = STUDY,
    segment: Optional[list[str]] = SEGMENT,
    where: Optional[list[str]] = WHERE,
    by: Optional[str] = BY,
    compare: bool = typer.Option(False, "--compare", help="One comparison cloud of the two segments: words "
                                 "sized by keyness, coloured by the segment each favours."),
    measure: str = typer.Option("g2", "--measure", help="Comparison word size: g2 or log_ratio."),
    terms: bool = typer.Option(False, "--terms", help="Count multi-word terms as single items, a cloud of "
                               "used terms (the study's settings.terms.accepted, else the top extracted terms)."),
    out: Optional[Path] = OUT,
    allow_identifiers: bool = ALLOW_IDENTIFIERS,
    skip_bad: bool = SKIP_BAD,
) -> None:
    """Word clouds of segments (PNG 300 dpi, SVG and the frequency table beside them).

    Without a segment: all participant speech.
    Example: hcrisis cloud corpora/thesis-excerpts --where 'sector=local authority' --where 'sector=housing association' --compare
    """
    from hcrisis.text.cloud import CloudStyle, run_cloud

    inputs = open_inputs("cloud", corpus, study, out, skip_bad)
    style = CloudStyle.from_settings(inputs.settings("clouds"), inputs.study and inputs.study.path)
    written = run_cloud(inputs.corpus, inputs.segments(segment, where, by), inputs.out,
                        settings=_freq_settings(inputs), style=style, compare=compare, measure=measure,
                        terms=_term_settings(inputs) if terms else None, allow_identifiers=allow_identifiers)
    typer.echo(wrote(written))


@app.command()
def terms(
    corpus: Optional[Path] = CORPUS,
    study: Optional[Path] = STUDY,
    segment: Optional[list[str]] = SEGMENT,
    where: Optional[list[str]] = WHERE,
    by: Optional[str] = BY,
    min_freq: Optional[int] = typer.Option(None, "--min-freq", help="Fewest occurrences of a term (default 2)."),
    min_docs: Optional[int] = typer.Option(None, "--min-docs", help="Fewest documents with the term (default 1)."),
    top: Optional[int] = typer.Option(None, "--top", help="Rows kept (default 500)."),
    model: Optional[str] = typer.Option(None, "--model", help="Installed trained spaCy pipeline with a "
                                        "parser: noun chunks become candidates too."),
    compare: bool = typer.Option(False, "--compare", help="Keyness of the terms of the two segments."),
    uncovered: Optional[Path] = typer.Option(None, "--uncovered", help="Codebook (YAML): frequent terms no "
                                             "code matches, and the terms each code covers."),
    out: Optional[Path] = OUT,
    allow_identifiers: bool = ALLOW_IDENTIFIERS,
    skip_bad: bool = SKIP_BAD,
    engine: str = ENGINE,
    scheduler: Optional[str] = SCHEDULER,
) -> None:
    """Multi-word terms (2-4 tokens) ranked by C-value, with G2 and PMI of their parts.

    Without a segment: all participant speech. The corpus is reduced partition by
    partition (on --engine), except with --model (the whole corpus in this process).
    Example: hcrisis terms corpora/thesis-excerpts --where 'sector=housing association' --where 'sector=local authority' --compare
    """
    from hcrisis.engine import open_engine
    from hcrisis.text.runs import check_model_engine, run_terms

    check_model_engine(model, engine)      # before reading the corpus or starting a cluster
    inputs = open_inputs("terms", corpus, study, out, skip_bad, outline=not model)
    with open_engine(engine, scheduler) as eng:
        run = run_terms(inputs.counted, inputs.segments(segment, where, by), inputs.out,
                        settings=_term_settings(inputs, min_freq=min_freq, min_docs=min_docs, top=top),
                        model=model, compare=compare, uncovered=uncovered,
                        allow_identifiers=allow_identifiers, engine=eng)
    for seg_id, table in run.tables.items():
        print_table(table[["rank", "term", "count", "documents", "c_value", "g2", "pmi"]].head(20),
                    title=f"{seg_id}: {len(table)} terms in {table.attrs['words']:,} words")
    if run.keyness is not None:
        a, b = run.tables
        print_table(run.keyness[["item", "count_a", "count_b", "g2", "p_adjusted", "favours"]].head(20),
                    title=f"term keyness {a} vs {b}")
    for seg_id, table in run.uncovered.items():
        typer.echo(f"{seg_id}: {len(table)} term(s) matched by no code")
    typer.echo(wrote(run.written))
