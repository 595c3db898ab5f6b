"""The thesis's checks on the coding: chapter 5's key themes, and agreement with the
author's placement of each quotation (its section) against the targets set for it."""

from __future__ import annotations

from hcrisis.study.runner import DIFFERS, REPRODUCED, StepContext
from hcrisis.study.steps.coding import defer_compare_with
from hcrisis.tables import table_to_markdown

# The targets set for the codebook against the author's placement.
TARGET_TOP1, TARGET_KAPPA = 0.70, 0.60


def themes(ctx: StepContext) -> None:
    """§5.2–5.15: every theme of the codebook (chapter 5's key themes) has coded units."""
    from hcrisis.coding.apply import theme_summary

    coded = ctx.needs("coding")
    summary = theme_summary(coded["codings"], coded["codebook"])
    voiced = int((summary["units"] > 0).sum())
    ctx.check("5.2-5.15", "key themes of chapter 5 voiced in the corpus (codebook coding)",
              f"{len(summary)} key themes (the codebook's themes)", f"{voiced} with coded units",
              REPRODUCED if voiced == len(summary) else DIFFERS,
              "a theme counts the units coded by it or by any code beneath it")


def agreement(ctx: StepContext) -> None:
    """The coding against the excerpts' sections (`section_gold`), held-out theme level,
    finished once the baseline is fitted (`defer_compare_with`)."""
    from hcrisis.coding.agreement import section_gold

    defer_compare_with(ctx, section_gold, lambda agreed: _report_agreement(ctx, agreed), thesis_gold=True)


def _report_agreement(ctx: StepContext, result) -> None:
    """The check against the targets and the report section."""
    from hcrisis.coding.agreement import BASELINE, NONE, headline

    row, base = headline(result.summary, "theme"), headline(result.summary, "theme", method=BASELINE)
    ok = row["top1"] >= TARGET_TOP1 and row["kappa_top1"] >= TARGET_KAPPA
    ctx.check("5.1", "codebook agreement with the author's placement of quotations (theme level, held-out half)",
              "author's NVivo coding (section of each quotation)",
              f"top-1 {row['top1']:.2f}, kappa {row['kappa_top1']:.2f}", REPRODUCED if ok else DIFFERS,
              f"target top-1 >= {TARGET_TOP1} and kappa >= {TARGET_KAPPA}" + (
                  f"; baseline top-1 {base['top1']:.2f}, kappa {base['kappa_top1']:.2f}" if base is not None else ""))
    sections, reused = result.about_gold["sections"], result.about_gold["reused"]
    unmapped = sections[sections["codes"] == NONE]
    passages = reused.groupby("passage")["same_theme"].first()
    ctx.add_section("Agreement with the author's coding", (
        "Each published quotation's section is the author's code; the codebook's best-scoring "
        "code is compared with it. `read` is the half of the excerpts that may be read while "
        "writing rules, `held-out` the other half (fixed hash of the excerpt's first 60 letters; "
        "a quotation reused under two sections is `read` if either copy is).\n\n"
        + table_to_markdown(result.summary)
        + (f"\nSections mapped to no code: {', '.join(unmapped['section'])}\n" if len(unmapped) else "")
        + (f"\nThe author quotes {len(passages)} passages more than once; {int(passages.sum())} of them are placed "
           "under a common theme every time (`coding/agreement_reused.md`).\n" if len(passages) else "")))
