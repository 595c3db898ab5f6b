"""Step types over a codebook: `coding`, `matrix`, `cooccurrence`, `agreement`.

`coding` leaves its codings and codebook as results (recorded, so a replayed
coding step still feeds the steps that read it).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from hcrisis.errors import InputError, PrivacyError
from hcrisis.study.runner import StepContext
from hcrisis.tables import table_to_markdown, write_table

if TYPE_CHECKING:
    from hcrisis.coding.agreement import Agreement


def codebook_path(ctx: StepContext):
    """The step's `codebook` setting, else the study's `codebook:`, recorded as read."""
    path = ctx.setting_path("codebook") if "codebook" in ctx.settings else ctx.study.resolve("codebook")
    if path is None or not path.is_file():
        raise InputError(f"step '{ctx.step.id}' has no codebook: {path or '(none declared)'}",
                         path=ctx.study.path, fix="declare `codebook:` in the study or the step's settings")
    return ctx.read(path)


def coding(ctx: StepContext) -> None:
    """codings.csv and quotations per code (left out, with a note, when a coded unit holds
    identifiers and `allow_identifiers` is not set)."""
    from hcrisis.coding.apply import code_corpus, coded_rows, guard_quotes, theme_summary, write_codings
    from hcrisis.coding.codebook import load_codebook
    from hcrisis.coding.codebook_doc import similarity_note

    book = load_codebook(codebook_path(ctx))
    segments = ctx.corpus.segments
    if ctx.run.engine is None:
        ctx.tokens()     # tokenised (and said so) before the coding is
    ctx.note(f"coding {len(coded_rows(segments)):,} segments with {len(book.codes)} codes")
    if ctx.run.engine is None:
        codings = ctx.with_tokens(_code, book)()
    else:     # partition by partition on the engine (equal codings: hcrisis.engine)
        codings = code_corpus(ctx.study.corpus_path, book, segments["segment_id"].to_numpy(), ctx.run.engine)
    ctx.results.update(codings=codings, codebook=book)
    try:
        guard_quotes(codings, segments, ctx.out, bool(ctx.settings.get("allow_identifiers", False)), ctx.corpus)
        note = ""
    except PrivacyError as exc:   # the tables stay useful without the quotations
        note = f"\n\nQuotations not written: {exc.one_line()}"
    ctx.wrote(write_codings(codings, book, segments, ctx.out, quotes=not note))
    units = codings["segment_id"].nunique()
    by_rules = codings.loc[codings["hits"] > 0, "segment_id"].nunique()
    how = f" ({by_rules} by rules, {units - by_rules} by description similarity alone)" if units > by_rules else ""
    ctx.add_section("Coding", (
        f"Codebook `{book.name}` ({len(book.codes)} codes, {len(book.themes)} themes): "
        f"{units} of {len(coded_rows(segments))} segments coded{how}, {len(codings)} codings. "
        + (similarity_note(book) + " " if similarity_note(book) else "")
        + f"Tables and quotations in `{ctx.out.name}/`." + note + "\n\n"
        + table_to_markdown(theme_summary(codings, book))))


def _code(segments, tokens, book):
    """`apply_codebook` as `StepContext.with_tokens` calls it (where the tokens are)."""
    from hcrisis.coding.apply import apply_codebook
    return apply_codebook(book, segments, tokens)


def matrix(ctx: StepContext) -> None:
    """matrix_<attribute> (and figures) for `by` (default: every attribute the corpus declares)."""
    from hcrisis.coding.apply import start_matrices

    coded = ctx.needs("coding")
    by = ctx.settings.get("by", ctx.corpus.attributes)
    unknown = [a for a in by if a not in ctx.corpus.segments.columns]
    if unknown:
        raise InputError(f"step '{ctx.step.id}' names unknown attribute '{unknown[0]}'", path=ctx.study.path,
                         fix=f"use one of {', '.join(ctx.corpus.attributes) or '(none declared)'}")
    tables, figures = start_matrices(coded["codings"], coded["codebook"], ctx.corpus.segments, ctx.out, by)
    ctx.wrote(tables)
    ctx.defer(figures)   # drawn while the next steps run


def cooccurrence(ctx: StepContext) -> None:
    from hcrisis.coding.apply import cooccurrence as pairs

    coded = ctx.needs("coding")
    ctx.wrote(write_table(pairs(coded["codings"], coded["codebook"]), ctx.out / "cooccurrence",
                          title="Code co-occurrence"))


def participant_rows(ctx: StepContext):
    """The non-interviewer segments and their tokens (the units agreement compares)."""
    segments = ctx.corpus.segments
    keep = ~segments["is_interviewer"].astype(bool).to_numpy()
    return segments[keep].reset_index(drop=True), ctx.tokens().subset(np.flatnonzero(keep))


def defer_compare_with(ctx: StepContext, gold, report: Callable[[Agreement], None],
                       thesis_gold: bool = False) -> None:
    """The coding step's codings against `gold` (segment_id, code_id, or a function of the
    participants' segments and the code tree giving them): compared now, the baseline's
    fits started in the preloaded process (`StepContext.submit`), and the step finished
    in the background (`StepContext.defer`) once they are done: `report(result)` adds its
    checks and sections, and the tables are written beside the codings."""
    from hcrisis.coding.agreement import load_code_tree, start_compare_on_corpus, write_agreement

    tree = load_code_tree(codebook_path(ctx))
    segments, tokens = participant_rows(ctx)
    gold = gold(segments, tree) if callable(gold) else gold
    result = start_compare_on_corpus(ctx.needs("coding")["codings"], gold, tree, segments, level=None,
                                     unit="segment", baseline=True, thesis_gold=thesis_gold, tokens=tokens,
                                     submit=ctx.submit)

    def finish() -> list[Path]:
        agreed = result()
        report(agreed)
        return write_agreement(agreed, ctx.out)
    ctx.defer(finish)


def agreement(ctx: StepContext) -> None:
    """The coding against a gold codings CSV (`gold`, relative to the study file)."""
    from hcrisis.coding.agreement import check_codes, load_code_tree
    from hcrisis.coding.codings import load_codings

    if "gold" not in ctx.settings:
        raise InputError(f"step '{ctx.step.id}' needs `gold`", path=ctx.study.path,
                         fix="name a codings CSV (segment_id, code_id) under the step's settings")
    path = ctx.setting_path("gold")
    gold = load_codings(path)
    check_codes(gold, load_code_tree(codebook_path(ctx)), path)
    defer_compare_with(ctx, gold, lambda agreed: ctx.add_section(
        "Agreement with the gold coding", f"Gold: `{path.name}`.\n\n" + table_to_markdown(agreed.summary)))
