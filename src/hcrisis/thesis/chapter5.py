"""Thesis §5.2: the denominator the published word percentages imply.

The published counts and word-cloud claims of chapter 5 are declared checks
(`corpora/study-design/chapter5.yaml`, step type `checks`); what cannot be
declared is this argument about NVivo's weighted percentage: the step type
`thesis.denominator` derives the denominator from the printed counts and
percentages (with its rounding interval) and compares it with the excerpt
corpus's share of counted words. Its settings are the printed values:

    {section: "5.2", transcripts: 61, transcripts_note: "...",
     values: [{word: people, count: 2964, percent: 6.16}, ...]}
"""

from __future__ import annotations

from typing import Any

from hcrisis.study.runner import NOT_REPRODUCED, REPRODUCED, StepContext
from hcrisis.study.steps.text import scopes, word_counter


def implied_denominator(count: int, percent: float, decimals: int = 2) -> tuple[float, float, float]:
    """count / (percent/100) and its interval when `percent` was rounded to `decimals`."""
    half = 0.5 * 10 ** -decimals
    return (100 * count / percent, 100 * count / (percent + half), 100 * count / (percent - half))


def denominator(ctx: StepContext) -> None:
    """A check (do the percentages agree on one denominator?) and a report section."""
    spec: dict[str, Any] = ctx.settings
    lows, highs, lines = [], [], []
    for v in spec["values"]:
        mid, lo, hi = implied_denominator(v["count"], v["percent"])
        lows.append(lo)
        highs.append(hi)
        lines.append(f"{v['word']}: {v['count']:,} / {v['percent']}% = {mid:,.0f} "
                     f"(rounding interval {lo:,.0f}–{hi:,.0f})")
    lo, hi = max(lows), min(highs)
    consistent = lo <= hi
    ctx.check(spec["section"], "implied denominator of the published percentages",
              "; ".join(f"{v['word']} {v['count']:,} = {v['percent']}%" for v in spec["values"]),
              f"{lo:,.0f}–{hi:,.0f} counted words" if consistent else "no common denominator",
              REPRODUCED if consistent else NOT_REPRODUCED,
              "the published percentages agree on one denominator" if consistent else
              "the published percentages imply different denominators")
    counter = word_counter(ctx)
    rows = counter.rows(scopes(ctx)["all"])
    ctx.add_section("Chapter 5: the denominator of the word frequencies (§5.2)",
                    _explain(counter, rows, lines, lo, hi, spec))


def _explain(counter, rows, lines: list[str], lo: float, hi: float, spec: dict[str, Any]) -> str:
    in_scope = rows[counter.tokens.segment]
    tokens, counted = int(in_scope.sum()), int(counter.form_counts(rows).sum())
    alpha = int((in_scope & counter.tokens.types["is_alpha"].to_numpy()[counter.tokens.type_id]).sum())
    share = counted / alpha if alpha else float("nan")
    n, top = int(spec["transcripts"]), counter.settings.top
    table = counter.table(rows)
    top_share = table["count"].head(top).sum() / counted if counted else float("nan")
    return "\n".join([
        "NVivo's weighted percentage is count / (words counted in the query's scope, after stop "
        "words and minimum length) × 100, the rule `hcrisis freq` implements.", "",
        *[f"- {line}" for line in lines],
        f"- both percentages hold for a denominator of {lo:,.0f}–{hi:,.0f} counted words "
        "(the interval common to both roundings).", "",
        f"On the excerpt corpus {counted:,} of {alpha:,} alphabetic tokens ({tokens:,} tokens in all, "
        f"interviewer turns excluded) are counted words: {share:.1%}. At that share a denominator "
        f"of about {(lo + hi) / 2:,.0f} counted words corresponds to about "
        f"{(lo + hi) / 2 / share:,.0f} alphabetic words in all {n} transcripts ({spec['transcripts_note']}), "
        f"about {(lo + hi) / 2 / share / n:,.0f} per transcript. That is consistent with the counting "
        "rule above only if the query ran over shorter texts than full hour-long transcripts, or "
        "with the percentage taken over the words the query displayed rather than all counted "
        "words; the transcripts are not available, so which one cannot be decided here.",
        "", f"On the excerpts the {top:,} most frequent words (NVivo's default display) hold "
        f"{top_share:.1%} of the counted words: a percentage taken over the displayed words only "
        f"would be {1 / top_share:.2f} times one over all counted words.",
    ])
