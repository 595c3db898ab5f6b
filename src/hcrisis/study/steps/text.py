"""Step types over words: `frequencies`, `keyness`, `clouds`, `terms`.

They share one word counter per run (`word_counter`, the study's
`settings.freq`), built from the run's tokens and never recorded: a step
replayed from the rerun store needs no counts, one that runs rebuilds them.
"""

from __future__ import annotations

import pandas as pd

from hcrisis.errors import InputError
from hcrisis.ingest.segments import ALL, Segment
from hcrisis.study.runner import NOT_COMPUTABLE, NOT_TESTABLE, StepContext
from hcrisis.tables import table_to_markdown, write_table
from hcrisis.text.freq import FreqCounter, FreqSettings, write_frequencies

REPORT_TOP = 30


def word_counter(ctx: StepContext) -> FreqCounter:
    """The run's counter with the study's `settings.freq`; a stop-word file named there
    is read relative to the study file and recorded as this step's input."""
    raw = ctx.study.settings("freq")
    if raw.get("stop_words", "default") not in ("default", "none"):
        raw["stop_words"] = str(ctx.read(ctx.study.path_setting(raw["stop_words"])))
    settings = FreqSettings.from_mapping(raw)
    return ctx.memo("counter", lambda: FreqCounter(ctx.tokens(), ctx.corpus.segments, settings))


def scopes(ctx: StepContext) -> dict[str, Segment]:
    """`all` (every participant turn, unless the study declares its own) and every segment."""
    return {ALL.id: ALL, **{s.id: s for s in ctx.study.segments}}


def chosen(ctx: StepContext, key: str = "segments") -> list[Segment]:
    """The scopes named by a setting (default: all of them)."""
    known = scopes(ctx)
    names = ctx.settings.get(key, list(known))
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InputError(f"step '{ctx.step.id}' names unknown segment '{unknown[0]}'", path=ctx.study.path,
                         fix=f"use one of {', '.join(known)}")
    return [known[n] for n in names]


def freq_tables(ctx: StepContext) -> dict[str, pd.DataFrame]:
    """The top-N frequency table of every scope, made once per run."""
    counter = word_counter(ctx)
    return ctx.memo("freq_tables", lambda: {sid: counter.table(seg, top=counter.settings.top)
                                            for sid, seg in scopes(ctx).items()})


def frequencies(ctx: StepContext) -> None:
    """freq_<segment>.csv/.md of `all` and every segment."""
    counter, tables = word_counter(ctx), freq_tables(ctx)
    for seg in scopes(ctx).values():
        ctx.wrote(write_frequencies(tables[seg.id], ctx.out, seg, counter.settings))


def keyness(ctx: StepContext) -> None:
    """keyness_<a>_vs_<b> of the `pairs` (list of [a, b]), then (unless `against_rest: false`)
    each segment against the rest of the corpus; a side without counted words is skipped."""
    counter = word_counter(ctx)
    known = scopes(ctx)
    pairs = [tuple(p) for p in ctx.settings.get("pairs", [])]
    pairs = [(a, b) for a, b in pairs if _known(ctx, known, a) and _known(ctx, known, b)]
    if ctx.settings.get("against_rest", True):
        pairs += [(s, "rest") for s in known if s != ALL.id]
    for a, b in pairs:
        rows_b = counter.rows(counter.rest(known[a]) if b == "rest" else known[b])
        if not counter.form_counts(known[a]).sum() or not counter.form_counts(rows_b).sum():
            continue
        table = counter.keyness(known[a], rows_b, labels=(a, b))
        ctx.wrote(write_table(table, ctx.out / f"keyness_{a}_vs_{b}",
                              title=f"Keyness {a} vs {b}: {table.attrs['tests']} words tested, "
                                    "G² signed (+ = overused in the first), p adjusted (BH FDR)"))


def _known(ctx: StepContext, known: dict[str, Segment], seg_id: str) -> bool:
    if seg_id not in known:
        raise InputError(f"step '{ctx.step.id}' names unknown segment '{seg_id}'", path=ctx.study.path,
                         fix=f"use one of {', '.join(known)}")
    return True


def cloud_style(ctx: StepContext):
    from hcrisis.text.cloud import CloudStyle
    return CloudStyle.from_settings(ctx.study.settings("clouds"), ctx.study.path)


def clouds(ctx: StepContext) -> None:
    """A cloud per segment (`segments`, default all) and a comparison cloud per `compare`
    pair, drawn by worker processes while the next steps run. A segment with a published
    `figure` gets a check row (the figure is an image: compared by eye)."""
    from hcrisis.text.cloud import (cloud_job, cloud_title, compare_stem, comparison_job, comparison_text, figure_stem,
                                    start_figures, top_words)

    style, tables = cloud_style(ctx), freq_tables(ctx)
    jobs, empty = [], []
    for seg in chosen(ctx):
        table = tables[seg.id]
        section = f"{seg.section or ''} Figure {seg.figure}".strip()
        if table.empty:
            empty.append(seg.id)
            if seg.figure:
                ctx.check(section, f"word cloud: {seg.label}", "word cloud", "no counted words",
                          NOT_COMPUTABLE, f"segment '{seg.id}' has no text in this corpus")
            continue
        stem = figure_stem(ctx.out, seg)
        jobs.append((stem, cloud_job(table, style, title=cloud_title(seg))))
        if seg.figure:
            top = ", ".join(top_words(table, "count", 5)["word"])
            ctx.check(section, f"word cloud: {seg.label}", "word cloud (image)",
                      f"{stem.name}.png; largest: {top}", NOT_TESTABLE,
                      "the published figure is an image without data; compare by eye")
    counter, known = word_counter(ctx), scopes(ctx)
    for a, b in (tuple(p) for p in ctx.settings.get("compare", [])):
        if _known(ctx, known, a) and _known(ctx, known, b) and not tables[a].empty and not tables[b].empty:
            table = counter.keyness(known[a], known[b], labels=(a, b))
            jobs.append((compare_stem(ctx.out, (a, b)),
                         comparison_job(table, (a, b), ctx.settings.get("measure", "g2"), style,
                                        **comparison_text(known[a], known[b]))))
    if empty:
        ctx.add_section("Word clouds", f"No cloud for segment(s) without counted words: {', '.join(empty)}.")
    ctx.defer(start_figures(jobs, background=True))   # wanted at the report: other work first


def terms(ctx: StepContext) -> None:
    """terms_<segment>.csv/.md of every segment, a report section with the top terms of
    `report` (default: all) and the used-terms cloud of `all`."""
    from hcrisis.text.cloud import start_figures, terms_cloud_job
    from hcrisis.text.terms import TermIndex, TermSettings, accepted_terms, merged_frequency_table, write_terms

    settings = TermSettings.from_mapping(ctx.study.settings("terms"), ctx.study.path)
    index = TermIndex(ctx.tokens(), ctx.corpus.segments)
    tables = {}
    for seg in chosen(ctx):
        tables[seg.id] = index.table(seg, settings.min_freq, settings.min_docs, settings.top)
        ctx.wrote(write_terms(tables[seg.id], ctx.out / "tables", seg, settings))
    cols = ["rank", "term", "count", "documents", "participants", "c_value", "g2", "pmi"]
    report = ["Candidates: 2-4 token n-grams of participant speech, no edge stop words, "
              "no punctuation, within one sentence; lemma-normalised; ranked by C-value "
              "(Frantzi, Ananiadou & Mima 2000); G² and PMI of the weakest split."]
    for seg_id in ctx.settings.get("report", [ALL.id]):
        if seg_id in tables:
            report += ["", f"Top {REPORT_TOP} terms: {seg_id}", "",
                       table_to_markdown(tables[seg_id][cols].head(REPORT_TOP), floatfmt="{:.2f}")]
    report = "\n".join(report)
    seg = scopes(ctx)[ALL.id]
    accepted = accepted_terms(index.tokens, ctx.corpus.segments, settings, index)
    counter = word_counter(ctx)
    table = merged_frequency_table(counter, seg, accepted, top=counter.settings.top)
    if not table.empty:
        stem, job = terms_cloud_job(table, seg, ctx.out / "figures", cloud_style(ctx))
        ctx.defer(start_figures([(stem, job)], background=True))   # drawn while the next steps run
        source = ("the study's `settings.terms.accepted`" if settings.accepted is not None else
                  f"the top {settings.merge_top} terms by C-value with G² ≥ {settings.min_g2}")
        report += (f"\n\nUsed-terms cloud `{stem.name}.png` ({seg.label}): words with {len(accepted)} "
                   f"multi-word terms counted as single items ({source}): {', '.join(accepted)}; "
                   f"{table.attrs['terms']:,} term occurrences.")
    ctx.add_section("Multi-word terms", report)
