"""Codings as character spans of sources, and agreement at span level.

A *source* is what a QDA tool codes: a document of the corpus (its canonical
text), or one row of a table of responses (its text), named by the row's
segment id. Every segment sits in one source at an offset (its `start`; 0
for a table row), so a coding of `hcrisis code` (segment_id, start/end in
the segment's text, or the whole segment without them) and a coding from a
QDA tool (`document_id`, start/end in the source: `hcrisis import qdpx`)
are both spans `source_id, code_id, start, end, coder`.

Against a span gold, `hcrisis agree` reports:

- at segment level, the usual tables (`hcrisis.coding.agreement`), a
  segment counting as coded by the gold when a gold span overlaps it;
- at span level, per code, the characters each side coded, those both
  coded, precision = both / predicted, recall = both / gold, F1 and Cohen's
  kappa over every character of the coded text (the non-interviewer
  segments; spans are clipped to them): the character-level kappa of
  NVivo's Coding Comparison query, which NVivo gives per source, pooled
  here over all sources;
- the disagreements: each maximal run of characters coded by one side only
  (`missed`: gold only, `extra`: predicted only), with its segment and its
  text (whitespace collapsed, identifiers shown by kind, at most
  `MAX_TEXT` characters), so the rules can be fixed; runs of whitespace
  alone (between two sentences) count but are not listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hcrisis.errors import InputError
from hcrisis.tables import write_table

if TYPE_CHECKING:
    from hcrisis.coding.codetree import CodeTree
    from hcrisis.ingest.corpus import Corpus

SPAN_COLUMNS = ["source_id", "code_id", "start", "end", "coder"]
MAX_TEXT = 400
Intervals = list[tuple[int, int]]


# ---------------------------------------------------------------- sources
def segment_sources(corpus: Corpus) -> pd.DataFrame:
    """Each segment's source and offset in it: segment_id, source_id, offset, length, is_interviewer."""
    seg = corpus.segments
    tables = {t["id"] for t in corpus.manifest.get("tables", [])}
    in_table = seg["document_id"].isin(tables).to_numpy()
    return pd.DataFrame({
        "segment_id": seg["segment_id"].astype(str),
        "source_id": np.where(in_table, seg["segment_id"].astype(str), seg["document_id"].astype(str)),
        "offset": seg["start"].astype("int64"),
        "length": (seg["end"] - seg["start"]).astype("int64"),
        "is_interviewer": seg["is_interviewer"].astype(bool),
    })


def is_span_table(df: pd.DataFrame) -> bool:
    """Codings placed in sources (document_id, start, end) rather than in segments."""
    return {"document_id", "start", "end"} <= set(df.columns) and "segment_id" not in df.columns


def coding_spans(codings: pd.DataFrame, corpus: Corpus, *, coder: str = "hcrisis",
                 where: str | Path = "codings") -> pd.DataFrame:
    """Codings of either kind (module docstring) as source spans; `coder` fills a missing coder column."""
    sources = segment_sources(corpus)
    coders = codings["coder"].astype(str) if "coder" in codings.columns else pd.Series(coder, index=codings.index)
    if is_span_table(codings):
        spans = pd.DataFrame({"source_id": codings["document_id"].astype(str),
                              "code_id": codings["code_id"].astype(str),
                              "start": _ints(codings["start"], where), "end": _ints(codings["end"], where),
                              "coder": coders})
        unknown = sorted(set(spans["source_id"]) - set(sources["source_id"]))
        if unknown:
            raise InputError(f"document(s) not in the corpus: {', '.join(unknown[:5])}", path=where,
                             fix="name the corpus the codings were made on: hcrisis agree CORPUS")
        return spans[SPAN_COLUMNS]
    if "segment_id" not in codings.columns:
        raise InputError("codings table has neither segment_id nor document_id, start, end", path=where,
                         fix="give codings from 'hcrisis code' or 'hcrisis import qdpx'")
    merged = codings.assign(segment_id=codings["segment_id"].astype(str), coder=coders).merge(
        sources, on="segment_id", how="left")
    missing = merged.loc[merged["source_id"].isna(), "segment_id"]
    if len(missing):
        raise InputError(f"segment(s) not in the corpus: {', '.join(sorted(set(missing))[:5])}", path=where,
                         fix="name the corpus the codings were made on: hcrisis agree CORPUS")
    has = {"start", "end"} <= set(codings.columns)
    start = pd.to_numeric(merged["start"], errors="coerce") if has else pd.Series(np.nan, index=merged.index)
    end = pd.to_numeric(merged["end"], errors="coerce") if has else pd.Series(np.nan, index=merged.index)
    whole = start.isna() | end.isna()        # a coding without offsets codes its whole segment
    merged["start"] = merged["offset"] + np.where(whole, 0, start.fillna(0)).astype("int64")
    merged["end"] = merged["offset"] + np.where(whole, merged["length"], end.fillna(0)).astype("int64")
    merged["code_id"] = merged["code_id"].astype(str)
    return merged[SPAN_COLUMNS].reset_index(drop=True)


def load_any_codings(path: str | Path | pd.DataFrame, corpus: Corpus | None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """A codings CSV (or its table) as segment codings (segment_id, code_id, ...) and, when it places
    codings in sources (document_id, start, end: `hcrisis import qdpx`), its spans; a segment counts
    as coded when a span overlaps it."""
    from hcrisis.coding.codings import checked_codings
    from hcrisis.ingest.corpus import read_csv_table

    table = path if isinstance(path, pd.DataFrame) else read_csv_table(Path(path))
    path = "codings table" if isinstance(path, pd.DataFrame) else path
    if not is_span_table(table):
        return checked_codings(table, path), None
    if corpus is None:
        raise InputError("codings placed in documents (document_id, start, end) need the corpus", path=path,
                         fix="name it: hcrisis agree CORPUS, the folder 'hcrisis import qdpx' wrote")
    if "code_id" not in table.columns:
        raise InputError("codings table lacks column code_id", path=path,
                         fix="give a CSV with document_id, code_id, start and end columns")
    spans = coding_spans(table, corpus, where=path)
    return span_segments(spans, corpus), spans


def _ints(col: pd.Series, where) -> pd.Series:
    values = pd.to_numeric(col, errors="coerce")
    if values.isna().any():
        raise InputError(f"start/end '{col[values.isna()].iloc[0]}' is not a number", path=where,
                         fix="start and end are character offsets (whole numbers)")
    return values.astype("int64")


def span_segments(spans: pd.DataFrame, corpus: Corpus) -> pd.DataFrame:
    """Segment codings (segment_id, code_id, start, end) of spans: a segment is coded when a span
    overlaps it, start/end the overlap in the segment's text (as `hcrisis code` writes them, so
    `--unit sentence` codes the sentences the span overlaps)."""
    sources = segment_sources(corpus)
    sources = sources[~sources["is_interviewer"]]
    pairs = spans.merge(sources, on="source_id")
    seg_end = pairs["offset"] + pairs["length"]
    pairs = pairs[(pairs["start"] < seg_end) & (pairs["end"] > pairs["offset"])]
    out = pd.DataFrame({"segment_id": pairs["segment_id"], "code_id": pairs["code_id"],
                        "start": np.maximum(pairs["start"], pairs["offset"]) - pairs["offset"],
                        "end": np.minimum(pairs["end"], seg_end[pairs.index]) - pairs["offset"]})
    return out.sort_values(["segment_id", "start", "end", "code_id"], kind="mergesort").reset_index(drop=True)


# ---------------------------------------------------------------- intervals
def merge(intervals: Intervals) -> Intervals:
    """Sorted, non-overlapping union of half-open intervals (empty ones dropped)."""
    out: Intervals = []
    for s, e in sorted(i for i in intervals if i[1] > i[0]):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def intersect(a: Intervals, b: Intervals) -> Intervals:
    """Intersection of two merged interval lists."""
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        s, e = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if s < e:
            out.append((s, e))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(a: Intervals, b: Intervals) -> Intervals:
    """The parts of merged `a` outside merged `b`."""
    out = []
    for s, e in a:
        for bs, be in b:
            if be <= s or bs >= e:
                continue
            if bs > s:
                out.append((s, bs))
            s = max(s, be)
            if s >= e:
                break
        if s < e:
            out.append((s, e))
    return out


def total(intervals: Intervals) -> int:
    return sum(e - s for s, e in intervals)


def kappa_from_counts(n: int, gold: int, pred: int, both: int) -> float:
    """Cohen's kappa of two binary codings of n units from their 2x2 counts (Cohen 1960):
    p_o = (both + neither) / n, p_e = (gold/n)(pred/n) + (1 - gold/n)(1 - pred/n)."""
    if n == 0:
        return float("nan")
    p_o = (both + (n - gold - pred + both)) / n
    p_e = (gold / n) * (pred / n) + (1 - gold / n) * (1 - pred / n)
    return float("nan") if p_e >= 1.0 else (p_o - p_e) / (1.0 - p_e)


# ---------------------------------------------------------------- span agreement
@dataclass
class SpanAgreement:
    per_code: pd.DataFrame        # level, code_id, label, chars, gold/pred/both chars, P, R, F1, kappa
    disagreements: pd.DataFrame   # level, code_id, kind, source_id, segment_id, start, end, text


def span_agreement(pred: pd.DataFrame, gold: pd.DataFrame, corpus: Corpus, tree: CodeTree,
                   levels: list[str]) -> SpanAgreement:
    """Character-level agreement of two span codings (module docstring), at each level."""
    universe = coded_text(corpus)
    n = sum(total(v) for v in universe.values())
    rows, runs = [], []
    for level in levels:
        p, g = _by_code(pred, tree, level, universe), _by_code(gold, tree, level, universe)
        for code in sorted(set(p) | set(g), key=tree.rank):
            ps, gs = p.get(code, {}), g.get(code, {})
            both = sum(total(intersect(gs.get(s, []), ps.get(s, []))) for s in set(gs) & set(ps))
            gn, pn = sum(map(total, gs.values())), sum(map(total, ps.values()))
            rows.append({"level": level, "code_id": code, "label": tree.labels.get(code, code), "chars": n,
                         "gold_chars": gn, "pred_chars": pn, "both_chars": both,
                         "precision": both / pn if pn else float("nan"),
                         "recall": both / gn if gn else float("nan"),
                         "f1": 2 * both / (gn + pn) if gn + pn else float("nan"),
                         "kappa": kappa_from_counts(n, gn, pn, both)})
            for src in sorted(set(gs) | set(ps)):
                runs += [(level, code, "missed", src, s, e) for s, e in subtract(gs.get(src, []), ps.get(src, []))]
                runs += [(level, code, "extra", src, s, e) for s, e in subtract(ps.get(src, []), gs.get(src, []))]
    return SpanAgreement(pd.DataFrame(rows, columns=SPAN_TABLE), disagreement_table(runs, corpus))


SPAN_TABLE = ["level", "code_id", "label", "chars", "gold_chars", "pred_chars", "both_chars",
              "precision", "recall", "f1", "kappa"]


def coded_text(corpus: Corpus) -> dict[str, Intervals]:
    """The characters hcrisis codes, per source: its non-interviewer segments."""
    sources = segment_sources(corpus)
    sources = sources[~sources["is_interviewer"]]
    out: dict[str, Intervals] = {}
    for src, off, ln in zip(sources["source_id"], sources["offset"], sources["length"]):
        out.setdefault(src, []).append((int(off), int(off + ln)))
    return {k: merge(v) for k, v in out.items()}


def _by_code(spans: pd.DataFrame, tree: CodeTree, level: str,
             universe: dict[str, Intervals]) -> dict[str, dict[str, Intervals]]:
    """code -> source -> merged intervals, clipped to the coded text."""
    raw: dict[str, dict[str, Intervals]] = {}
    for src, code, s, e in zip(spans["source_id"], spans["code_id"], spans["start"], spans["end"]):
        raw.setdefault(tree.at_level(code, level), {}).setdefault(src, []).append((int(s), int(e)))
    return {code: {src: clipped for src, iv in by_src.items()
                   if (clipped := intersect(merge(iv), universe.get(src, [])))}
            for code, by_src in raw.items()}


DISAGREEMENT_COLUMNS = ["level", "code_id", "kind", "source_id", "segment_id", "start", "end", "text"]


def disagreement_table(runs: list[tuple], corpus: Corpus) -> pd.DataFrame:
    """Each run with the segment it starts in and its text (identifiers masked, length bounded)."""
    from hcrisis.ingest.privacy import Scanner, hide_identifiers

    sources = segment_sources(corpus)
    sources = sources[~sources["is_interviewer"]]
    texts = dict(zip(corpus.segments["segment_id"].astype(str), corpus.segments["text"].astype(str)))
    by_source: dict[str, list[tuple[int, int, str]]] = {}
    for sid, src, off, ln in zip(sources["segment_id"], sources["source_id"], sources["offset"], sources["length"]):
        by_source.setdefault(src, []).append((int(off), int(off + ln), sid))
    scanner, found = Scanner.from_corpus(corpus), {}
    rows = []
    for level, code, kind, src, s, e in runs:
        off, _, sid = next(seg for seg in by_source[src] if seg[0] <= s < seg[1])
        text = texts[sid]
        if sid not in found:
            found[sid] = scanner.find(text)
        shown, _ = hide_identifiers(text, s - off, min(e - off, len(text)), found[sid])
        if not shown:      # spaces between sentences: counted, but nothing to fix a rule by
            continue
        rows.append((level, code, kind, src, sid, s, e,
                     shown if len(shown) <= MAX_TEXT else shown[:MAX_TEXT - 1] + "…"))
    return pd.DataFrame(rows, columns=DISAGREEMENT_COLUMNS)


def write_span_agreement(result: SpanAgreement, out: str | Path) -> list[Path]:
    out = Path(out)
    return (write_table(result.per_code, out / "agreement_spans",
                        title="Span-level agreement (characters) with the gold coding")
            + write_table(result.disagreements, out / "agreement_disagreements",
                          title="Runs of characters coded by one side only (missed: gold only; extra: predicted only)"))
