"""Reproduction of thesis chapter 5: word frequencies, keyness and the word-cloud claims.

The `chapter5` step writes a frequency table per study segment
(`tables/freq_<segment>.csv/.md`, also in `ctx.cache['freq'][segment]`),
keyness tables for the figure contrasts (`tables/keyness_<a>_vs_<b>`) and
checks every published count and claim declared in the study design's
`chapter5.yaml`:

- published counts: NOT_COMPUTABLE (the corpus holds excerpts of the
  transcripts, so absolute counts cannot match); the excerpt count and rate
  per 10,000 counted words stand beside them (`tables/chapter5_counts`);
- claims (orderings, ratios, presence in a cloud): REPRODUCED or
  NOT_REPRODUCED on the excerpts, or NOT_TESTABLE when a segment has fewer
  counted words than `min_counted_words` or the words never occur
  (`tables/chapter5_claims`);
- §5.2's percentages: the denominator they imply, with its rounding interval.
"""

from __future__ import annotations

import fnmatch
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hcrisis.errors import InputError
from hcrisis.text.freq import FreqCounter, step_counter, step_tables, write_frequencies
from hcrisis.study.runner import NOT_COMPUTABLE, NOT_REPRODUCED, NOT_TESTABLE, REPRODUCED, Context, step
from hcrisis.text.keyness import RATE_BASE, g2_pvalue, signed_g2
from hcrisis.ingest.segments import ALL, Segment
from hcrisis.tables import write_table

DESIGN_FILE = "chapter5.yaml"
CONTRASTS = [("la", "ha"), ("national", "focus_groups")]


def load_chapter5(path: Path) -> dict[str, Any]:
    import yaml

    from hcrisis.yamlspec import parse_yaml
    try:
        data = parse_yaml(path.read_text("utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read chapter-5 values: {exc.__class__.__name__}", path=path,
                         fix="restore the file from version control") from None
    return data


class Scopes:
    """Counts of word lists in study segments (and `rest:ID`), exact forms."""

    def __init__(self, counter: FreqCounter, segments: dict[str, Segment]):
        self.counter, self.segments = counter, segments
        self._counts: dict[str, np.ndarray] = {}
        self._groups: dict[str, np.ndarray] = {}
        self._forms: dict[tuple[str, ...], np.ndarray] = {}

    def rows(self, seg_id: str) -> np.ndarray:
        if seg_id.startswith("rest:"):
            return self.counter.rest(self._segment(seg_id[5:]))
        return self._segment(seg_id).mask(self.counter.segments)

    def _segment(self, seg_id: str) -> Segment:
        if seg_id not in self.segments:
            raise InputError(f"{DESIGN_FILE} names unknown segment '{seg_id}'",
                             fix=f"use one of {', '.join(self.segments)}")
        return self.segments[seg_id]

    def form_counts(self, seg_id: str) -> np.ndarray:
        if seg_id not in self._counts:
            self._counts[seg_id] = self.counter.form_counts(self.rows(seg_id))
        return self._counts[seg_id]

    def total(self, seg_id: str) -> int:
        return int(self.form_counts(seg_id).sum())

    def count(self, seg_id: str, words: list[str]) -> int:
        key = tuple(str(w).lower() for w in words)
        if key not in self._forms:
            forms = self.counter.forms.tolist()
            hits = set().union(*(fnmatch.filter(forms, w) for w in key))   # forms are lower-case
            self._forms[key] = np.array([f in hits for f in forms], dtype=bool)
        hit = self._forms[key]
        return int(self.form_counts(seg_id)[hit].sum()) if hit.size else 0

    def rank(self, seg_id: str, count: int) -> int:
        """Rank a count would take in the segment's frequency table (1 = most frequent)."""
        if seg_id not in self._groups:
            self._groups[seg_id] = self.counter.group_counts(self.form_counts(seg_id))
        return 1 + int((self._groups[seg_id] > count).sum())

    def rate(self, seg_id: str, count: int) -> float:
        total = self.total(seg_id)
        return RATE_BASE * count / total if total else float("nan")


def implied_denominator(count: int, percent: float, decimals: int = 2) -> tuple[float, float, float]:
    """count / (percent/100) and its interval when `percent` was rounded to `decimals`."""
    half = 0.5 * 10 ** -decimals
    return (100 * count / percent, 100 * count / (percent + half), 100 * count / (percent - half))


def denominator_check(ctx: Context, spec: dict[str, Any], scopes: Scopes) -> None:
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
    all_rows = scopes.rows("all")[scopes.counter.tokens.segment]
    tokens, counted = int(all_rows.sum()), scopes.total("all")
    alpha = int((all_rows & scopes.counter.tokens.types["is_alpha"].to_numpy()[scopes.counter.tokens.type_id]).sum())
    share = counted / alpha if alpha else float("nan")
    n = int(spec["transcripts"])
    top = scopes.counter.settings.top
    table = scopes.counter.table(scopes.rows("all"))
    top_share = table["count"].head(top).sum() / counted if counted else float("nan")
    ctx.add_section("Chapter 5: the denominator of the word frequencies (§5.2)", "\n".join([
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
    ]))


def counts_table(ctx: Context, spec: list[dict[str, Any]], scopes: Scopes) -> pd.DataFrame:
    rows = []
    for c in spec:
        n = scopes.count(c["segment"], c["words"])
        rate = scopes.rate(c["segment"], n)
        rows.append({"section": c["section"], "segment": c["segment"], "word": c["label"],
                     "forms": " ".join(c["words"]), "published": c["published"], "count": n,
                     "counted_words": scopes.total(c["segment"]), "rate_per_10k": rate})
        computed = (f"{n} in the excerpts ({rate:.1f} per 10,000 counted words)" if rows[-1]["counted_words"]
                    else f"no counted words in {c['segment']}")
        ctx.check(c["section"], f"'{c['label']}' count in {c['segment']}", f"{c['published']:,}",
                  computed, NOT_COMPUTABLE,
                  "absolute counts need the full transcripts; the corpus holds published excerpts"
                  + (f"; {c['note']}" if c.get("note") else ""))
    return pd.DataFrame(rows)


def _describe(scopes: Scopes, item: dict[str, Any]) -> tuple[str, int, float]:
    seg, n = item["segment"], scopes.count(item["segment"], item["words"])
    rate = scopes.rate(seg, n)
    return (f"{seg} {'+'.join(item['words'])}: {n} ({rate:.1f}/10k, rank {scopes.rank(seg, n)})",
            n, rate)


def evaluate_claim(claim: dict[str, Any], scopes: Scopes, min_words: int, cloud_words: int
                   ) -> tuple[str, str, str]:
    """(computed evidence, status, note) of one claim."""
    items = claim["items"]
    described = [_describe(scopes, it) for it in items]
    evidence = "; ".join(d[0] for d in described)
    small = sorted({it["segment"] for it in items if scopes.total(it["segment"]) < min_words})
    if small:
        return evidence, NOT_TESTABLE, (f"fewer than {min_words} counted words in "
                                        f"{', '.join(small)}")
    counts = [d[1] for d in described]
    rates = [d[2] for d in described]
    relation = claim["relation"]
    if relation == "absent":
        return evidence, REPRODUCED if not any(counts) else NOT_REPRODUCED, \
            "absence in excerpts is weak evidence of absence in the transcripts"
    if relation == "present":
        return evidence, REPRODUCED if all(counts) else NOT_REPRODUCED, ""
    if relation == "top":
        ok = all(scopes.rank(it["segment"], n) <= cloud_words and n > 0 for it, n in zip(items, counts))
        return evidence, REPRODUCED if ok else NOT_REPRODUCED, f"within the top {cloud_words} words"
    if relation != "order":
        raise InputError(f"{DESIGN_FILE}: unknown relation '{relation}'",
                         fix="use order, absent, present or top")
    if not any(counts):
        return evidence, NOT_TESTABLE, "none of the words occurs in the excerpts"
    ok = all(x > y for x, y in zip(rates, rates[1:]))
    return evidence + _order_note(claim, scopes, counts), REPRODUCED if ok else NOT_REPRODUCED, \
        "direction of the rates per 10,000 counted words (significance: the G² p, unadjusted)"


def _order_note(claim: dict[str, Any], scopes: Scopes, counts: list[int]) -> str:
    """Ratio of the first two rates, and G² when they come from different segments."""
    a, b = claim["items"][:2]
    ra, rb = scopes.rate(a["segment"], counts[0]), scopes.rate(b["segment"], counts[1])
    text = f"; ratio {ra / rb:.2f}" if rb else ""
    if "published_ratio" in claim:
        text += f" (published {claim['published_ratio']})"
    if a["segment"] != b["segment"]:
        g = float(signed_g2(counts[0], counts[1], scopes.total(a["segment"]), scopes.total(b["segment"])))
        text += f"; G² {g:+.2f}, p {float(g2_pvalue(g)):.3g}"
    return text


def claims_table(ctx: Context, data: dict[str, Any], scopes: Scopes) -> pd.DataFrame:
    min_words, cloud = int(data.get("min_counted_words", 300)), int(data.get("cloud_words", 100))
    rows = []
    for claim in data.get("claims", []):
        evidence, status, note = evaluate_claim(claim, scopes, min_words, cloud)
        published = claim.get("published", "stated in the text / figure")
        ctx.check(claim["section"], claim["claim"], published, evidence, status, note)
        rows.append({"section": claim["section"], "claim": claim["claim"], "relation": claim["relation"],
                     "published": published, "evidence": evidence, "status": status, "note": note})
    return pd.DataFrame(rows, columns=["section", "claim", "relation", "published", "evidence",
                                       "status", "note"])


def write_keyness(ctx: Context, counter: FreqCounter, segments: dict[str, Segment]) -> None:
    """The figure contrasts, then each segment against the rest of the corpus."""
    tables = ctx.out / "tables"
    pairs = [(a, b) for a, b in CONTRASTS if a in segments and b in segments]
    pairs += [(s, "rest") for s in segments if s != ALL.id]
    for a, b in pairs:
        scope_b = counter.rest(segments[a]) if b == "rest" else segments[b]
        rows_b = counter.rows(scope_b)
        if not counter.form_counts(segments[a]).sum() or not counter.form_counts(rows_b).sum():
            continue
        table = counter.keyness(segments[a], rows_b, labels=(a, b))
        ctx.written += write_table(table, tables / f"keyness_{a}_vs_{b}",
                                   title=f"Keyness {a} vs {b}: {table.attrs['tests']} words tested, "
                                         "G² signed (+ = overused in the first), p adjusted (BH FDR)")


@step("chapter5", 50)
def chapter5_step(ctx: Context) -> None:
    segments = {ALL.id: ALL, **{s.id: s for s in ctx.study.segments}}
    counter, freq = step_counter(ctx), step_tables(ctx)
    settings = counter.settings
    for seg in segments.values():
        ctx.written += write_frequencies(freq[seg.id], ctx.out / "tables", seg, settings)
    write_keyness(ctx, counter, segments)
    design = ctx.study.resolve("design")
    path = design / DESIGN_FILE if design else None
    if path is None or not path.exists():
        return
    ctx.inputs.append(path)
    data = load_chapter5(path)
    exact = counter if settings.grouping == "exact" else FreqCounter(
        ctx.tokens(), ctx.corpus.segments, replace(settings, grouping="exact"))
    scopes = Scopes(exact, segments)
    denominator_check(ctx, data["denominator"], scopes)
    counts = counts_table(ctx, data.get("counts", []), scopes)
    ctx.written += write_table(counts, ctx.out / "tables" / "chapter5_counts",
                               title="Chapter 5 published counts beside the excerpt corpus")
    ctx.written += write_table(claims_table(ctx, data, scopes), ctx.out / "tables" / "chapter5_claims",
                               title="Chapter 5 word-cloud and frequency claims")
