"""Step type `checks`: published numbers and claims declared in YAML, checked on the corpus.

A replicating researcher declares what the publication says; each check
becomes a row of the report (published, computed, status). The checks sit
under the step's `checks:` or in a YAML `file:` (relative to the study file)
holding `checks:` and the defaults below. Each item counts words (lower-case
forms or fnmatch wildcards `communicat*`, exact grouping), a multi-word
`term` (lemma-matched, `hcrisis.text.terms.merge_terms`) or, with `of`,
participants, documents, segments or counted words of a segment (a study
segment id, `all`, or `rest:ID`, every other participant turn). Rates are
per 10,000 counted words of the segment (`hcrisis.text.freq`).

    checks:
      - {type: count, section: "5.2", quantity: people in all, segment: all, words: [people],
         published: 2964, not_computable: "needs the full transcripts"}
      - {type: rate, section: "5.2", quantity: ..., segment: all, words: [people], published: 61.6,
         tolerance: 0.1}
      - type: order          # rates strictly decreasing along the items
        section: "5.3"
        quantity: HA mention values more than LA
        items: [{segment: ha, words: [values]}, {segment: la, words: [values]}]
      - {type: ratio, items: [A, B], published: 1.39, tolerance: 0.05, ...}   # rate A / rate B
      - {type: present, items: [...]}   # every item occurs      absent: none occurs
      - {type: top, n: 100, items: [...]}   # every item ranks within the segment's top n words

Statuses: count and rate are `reproduced` when equal (within `tolerance`),
else `differs`; `not_computable: REASON` shows the value computed here
beside the published one without comparing them (e.g. counts that need the
full transcripts). A claim (order, ratio, present, absent, top) is
`reproduced` or `not reproduced`, and `not testable` when one of its
segments has fewer counted words than `min_counted_words` (default 300), or
(order) when none of its words occurs.
"""

from __future__ import annotations

import fnmatch
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from hcrisis.errors import InputError, SchemaError
from hcrisis.ingest.segments import Segment
from hcrisis.study.runner import (DIFFERS, NOT_COMPUTABLE, NOT_REPRODUCED, NOT_TESTABLE, REPRODUCED,
                                  StepContext)
from hcrisis.tables import write_table
from hcrisis.text.freq import FreqCounter
from hcrisis.text.keyness import RATE_BASE, g2_pvalue, signed_g2
from hcrisis.yamlspec import Field, load_validated, validate

CHECK_TYPES = ("count", "rate", "order", "ratio", "present", "absent", "top")
OF = ("words", "participants", "documents", "segments")
_ITEM = Field("map", keys={"segment": Field("str", required=True), "words": Field("list", items=Field("any")),
                           "term": Field("str"), "of": Field("str", choices=OF)})
_CHECK = Field("map", keys={
    "type": Field("str", required=True, choices=CHECK_TYPES),
    "section": Field("str"), "quantity": Field("str", required=True), "published": Field("any"),
    "note": Field("str"), "not_computable": Field("str"), "tolerance": Field("float"),
    "published_ratio": Field("float"), "n": Field("int"),
    "segment": Field("str"), "words": Field("list", items=Field("any")), "term": Field("str"),
    "of": Field("str", choices=OF), "items": Field("list", items=_ITEM),
})
CHECKS_SPEC = Field("map", keys={
    "source": Field("str"), "min_counted_words": Field("int"), "top_words": Field("int"),
    "checks": Field("list", items=_CHECK, required=True),
})
COLUMNS = ["section", "type", "quantity", "published", "computed", "status", "note"]


def declared(ctx: StepContext) -> dict[str, Any]:
    """The step's checks and defaults: from `file`, else from its own settings."""
    if "file" in ctx.settings:
        data, _ = load_validated(ctx.setting_path("file"), CHECKS_SPEC)
        return data
    data = {k: v for k, v in ctx.settings.items() if k in CHECKS_SPEC.keys}
    where = f"steps[{ctx.step.index}].settings"
    problems = validate(data, CHECKS_SPEC, {k[len(where) + 1:]: v for k, v in ctx.study.lines.items()
                                            if k.startswith(where + ".")})
    if problems:
        raise SchemaError(ctx.study.path, [(f"{where}.{p}", line, m) for p, line, m in problems])
    return data


class Scopes:
    """Counts of word lists, terms and units in segments (and `rest:ID`), exact forms."""

    def __init__(self, counter: FreqCounter, segments: dict[str, Segment], source: str):
        self.counter, self.segments, self.source = counter, segments, source
        self._counts: dict[str, np.ndarray] = {}
        self._groups: dict[str, np.ndarray] = {}
        self._forms: dict[tuple[str, ...], np.ndarray] = {}

    def rows(self, seg_id: str) -> np.ndarray:
        if seg_id.startswith("rest:"):
            return self.counter.rest(self._segment(seg_id[5:]))
        return self._segment(seg_id).mask(self.counter.segments)

    def _segment(self, seg_id: str) -> Segment:
        if seg_id not in self.segments:
            raise InputError(f"{self.source} names unknown segment '{seg_id}'",
                             fix=f"use one of {', '.join(self.segments)}")
        return self.segments[seg_id]

    def form_counts(self, seg_id: str) -> np.ndarray:
        if seg_id not in self._counts:
            self._counts[seg_id] = self.counter.form_counts(self.rows(seg_id))
        return self._counts[seg_id]

    def total(self, seg_id: str) -> int:
        return int(self.form_counts(seg_id).sum())

    def count(self, item: dict[str, Any]) -> int:
        seg_id = item["segment"]
        if "term" in item:
            from hcrisis.text.terms import merge_terms
            tokens = self.counter.tokens
            return int(merge_terms(tokens, [item["term"]]).counts(tokens, self.rows(seg_id)).iloc[0])
        if item.get("of", "words") != "words" or "words" not in item:
            return self.units(seg_id, item.get("of", "words"))
        key = tuple(str(w).lower() for w in item["words"])
        if key not in self._forms:
            forms = self.counter.forms.tolist()
            hits = set().union(*(fnmatch.filter(forms, w) for w in key))   # forms are lower-case
            self._forms[key] = np.array([f in hits for f in forms], dtype=bool)
        hit = self._forms[key]
        return int(self.form_counts(seg_id)[hit].sum()) if hit.size else 0

    def units(self, seg_id: str, of: str) -> int:
        if of == "words":
            return self.total(seg_id)
        rows = self.counter.segments[self.rows(seg_id)]
        if of == "segments":
            return len(rows)
        column = {"participants": "participant_id", "documents": "document_id"}[of]
        values = rows[column].fillna("").astype(str)
        return int(values[values != ""].nunique())

    def rank(self, seg_id: str, count: int) -> int:
        """Rank a count would take in the segment's frequency table (1 = most frequent)."""
        if seg_id not in self._groups:
            self._groups[seg_id] = self.counter.group_counts(self.form_counts(seg_id))
        return 1 + int((self._groups[seg_id] > count).sum())

    def rate(self, seg_id: str, count: int) -> float:
        total = self.total(seg_id)
        return RATE_BASE * count / total if total else float("nan")


def _label(item: dict[str, Any]) -> str:
    what = item.get("term") or "+".join(map(str, item.get("words", []))) or item.get("of", "words")
    return f"{item['segment']} {what}"


def _describe(scopes: Scopes, item: dict[str, Any]) -> tuple[str, int, float]:
    seg, n = item["segment"], scopes.count(item)
    rate = scopes.rate(seg, n)
    rank = f", rank {scopes.rank(seg, n)}" if "words" in item and "term" not in item else ""
    return f"{_label(item)}: {n} ({rate:.1f}/10k{rank})", n, rate


def evaluate(check: dict[str, Any], scopes: Scopes, min_words: int, top_words: int) -> tuple[str, str, str]:
    """(computed evidence, status, note) of one declared check."""
    kind = check["type"]
    if kind in ("count", "rate"):
        return _value(check, scopes)
    items = check["items"]
    described = [_describe(scopes, it) for it in items]
    evidence = "; ".join(d[0] for d in described)
    small = sorted({it["segment"] for it in items if scopes.total(it["segment"]) < min_words})
    if small:
        return evidence, NOT_TESTABLE, f"fewer than {min_words} counted words in {', '.join(small)}"
    counts, rates = [d[1] for d in described], [d[2] for d in described]
    if kind == "absent":
        return evidence, REPRODUCED if not any(counts) else NOT_REPRODUCED, \
            "absence in a sample is weak evidence of absence in the whole"
    if kind == "present":
        return evidence, REPRODUCED if all(counts) else NOT_REPRODUCED, ""
    if kind == "top":
        n = int(check.get("n", top_words))
        ok = all(n_ > 0 and scopes.rank(it["segment"], n_) <= n for it, n_ in zip(items, counts))
        return evidence, REPRODUCED if ok else NOT_REPRODUCED, f"within the top {n} words"
    if not any(counts):
        return evidence, NOT_TESTABLE, "none of the words occurs"
    if kind == "ratio":
        ratio = rates[0] / rates[1] if rates[1] else float("inf")
        ok = abs(ratio - float(check["published"])) <= float(check.get("tolerance", 0.05))
        return f"{evidence}; ratio {ratio:.2f}", REPRODUCED if ok else NOT_REPRODUCED, \
            "ratio of the rates per 10,000 counted words"
    ok = all(x > y for x, y in zip(rates, rates[1:]))
    return evidence + _order_note(check, scopes, counts), REPRODUCED if ok else NOT_REPRODUCED, \
        "direction of the rates per 10,000 counted words (significance: the G² p, unadjusted)"


def _value(check: dict[str, Any], scopes: Scopes) -> tuple[str, str, str]:
    item = {k: check[k] for k in ("segment", "words", "term", "of") if k in check}
    if "segment" not in item:
        raise InputError(f"{scopes.source}: check '{check['quantity']}' names no segment",
                         fix="add `segment:` to the check")
    n = scopes.count(item)
    value = scopes.rate(item["segment"], n) if check["type"] == "rate" else n
    computed = f"{value:.2f} per 10,000 counted words" if check["type"] == "rate" else f"{n:,}"
    if "words" in item or "term" in item:
        computed += f" ({scopes.rate(item['segment'], n):.1f} per 10,000 counted words)" \
            if check["type"] == "count" else f" ({n:,} occurrences)"
    note = check.get("note", "")
    if "not_computable" in check:
        return computed, NOT_COMPUTABLE, "; ".join(x for x in (check["not_computable"], note) if x)
    try:
        close = abs(float(value) - float(check["published"])) <= float(check.get("tolerance", 0))
    except (TypeError, ValueError, KeyError):
        raise InputError(f"{scopes.source}: check '{check['quantity']}' needs a numeric `published`",
                         fix="give the published number, or `not_computable: REASON`") from None
    return computed, REPRODUCED if close else DIFFERS, note


def _order_note(check: dict[str, Any], scopes: Scopes, counts: list[int]) -> str:
    """Ratio of the first two rates, and G² when they come from different segments."""
    a, b = check["items"][:2]
    ra, rb = scopes.rate(a["segment"], counts[0]), scopes.rate(b["segment"], counts[1])
    text = f"; ratio {ra / rb:.2f}" if rb else ""
    if "published_ratio" in check:
        text += f" (published {check['published_ratio']})"
    if a["segment"] != b["segment"]:
        g = float(signed_g2(counts[0], counts[1], scopes.total(a["segment"]), scopes.total(b["segment"])))
        text += f"; G² {g:+.2f}, p {float(g2_pvalue(g)):.3g}"
    return text


def _published(check: dict[str, Any]) -> str:
    value = check.get("published", "stated in the text / figure")
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def checks(ctx: StepContext) -> None:
    """A report row per declared check, and checks_<step>.csv/.md."""
    from hcrisis.study.steps.text import scopes as study_scopes, word_counter

    data = declared(ctx)
    counter = word_counter(ctx)
    exact = counter if counter.settings.grouping == "exact" else ctx.memo(
        "counter_exact", lambda: FreqCounter(ctx.tokens(), ctx.corpus.segments,
                                             replace(counter.settings, grouping="exact")))
    source = ctx.settings.get("file", f"step '{ctx.step.id}'")
    scopes = Scopes(exact, study_scopes(ctx), str(source))
    min_words, top = int(data.get("min_counted_words", 300)), int(data.get("top_words", 100))
    rows = []
    for check in data["checks"]:
        computed, status, note = evaluate(check, scopes, min_words, top)
        row = {"section": check.get("section", ""), "type": check["type"], "quantity": check["quantity"],
               "published": _published(check), "computed": computed, "status": status, "note": note}
        rows.append(row)
        ctx.check(row["section"], row["quantity"], row["published"], computed, status, note)
    ctx.wrote(write_table(pd.DataFrame(rows, columns=COLUMNS), ctx.out / f"checks_{ctx.step.id}",
                          title=f"Declared checks of step {ctx.step.id}"))
