"""`hcrisis agree`: agreement between two codings of the same corpus.

One coding is usually the codebook's output (`hcrisis code`), the other a
gold coding: a codings CSV (segment_id, code_id; or document_id, code_id,
start, end placed in the text, compared by character too:
`hcrisis.coding.spans`) or the author's own
placement of each published quotation (`--gold thesis-sections`: the
excerpt corpus's `section` column mapped to the codes whose
`thesis_sections` list it).

Units of analysis: a segment (one excerpt) or a sentence. Codes are compared
at code level or at theme level (each code replaced by its top-level
ancestor). Reported:

- per code: precision, recall, F1 and Cohen's kappa on binary presence;
- overall: Krippendorff's alpha (nominal), computed two ways because codings
  are multi-label: `alpha_binary` over every unit x code pair (present /
  absent), and `alpha_top1` over one value per unit (the best-scoring code,
  or "(none)"), the same labels as `kappa_top1`;
- top-1 agreement (the best-scoring code of a unit is one the gold implies),
  recall of the gold codes among all assigned codes, mean codes per unit;
- a confusion table of top-1 predicted theme against gold theme;
- beside it a supervised baseline (TF-IDF + logistic regression,
  stratified cross-validation, fixed seed) predicting the gold label.

Every figure is reported on all units and on two fixed halves (by a hash of
the first 60 letters of the unit's segment's text, or of its id when no
corpus is given): `read`, the half one may read while writing rules, and
`held-out`, the half one does not look at. A quotation the author reuses
under two sections stays in one half, `read` if either copy is
(`split_keys`), so the held-out half holds nothing one has read.

Section mapping: an excerpt's section maps to the deepest codes listing it
exactly; a section no code lists falls back to its nearest listed ancestor
("6.13.2" -> a code listing "6.13"); a section is never mapped down to its
sub-sections' codes (which sub-section would be a guess), so it stays
unmapped and is reported in the sections table.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Hashable, Sequence

import numpy as np
import pandas as pd

from hcrisis.coding.codetree import CodeTree, load_code_tree, normalise_section
from hcrisis.errors import InputError
from hcrisis.tables import write_table
from hcrisis.workers import Submit, call_later

if TYPE_CHECKING:
    from hcrisis.coding.spans import SpanAgreement
    from hcrisis.ingest.corpus import Corpus

NONE = "(none)"
LEVELS = ("theme", "code")
AGREEMENT_UNITS = ("segment", "sentence")   # what is compared (a codebook's `unit` is what it codes)
SPLITS = ("all", "read", "held-out")
SEED = 0
SHINGLE, REUSED = 6, 0.25   # a quotation reused under two sections: shares >= 25% of its 6-word shingles
COMMON = 20                 # shingles in more segments than this are stock phrases, not reuse
GOLD_TABLES = {"sections": "Thesis sections of the excerpts and the codes they map to",
               "reused": "Passages the author quotes more than once, and where she placed each copy"}
BASELINE = "baseline"  # TF-IDF + logistic regression, stratified cross-validation


# ---------------------------------------------------------------- statistics
def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """Cohen's kappa (Cohen 1960): (p_o - p_e) / (1 - p_e).

    p_o is the observed share of agreement, p_e the agreement expected from
    the two raters' marginal label distributions. NaN when p_e = 1 (both
    raters used one and the same label throughout).
    """
    a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    if len(a) == 0:
        return float("nan")
    p_o = float(np.mean(a == b))
    labels = set(a.tolist()) | set(b.tolist())
    p_e = sum(float(np.mean(a == c)) * float(np.mean(b == c)) for c in labels)
    return float("nan") if p_e >= 1.0 else (p_o - p_e) / (1.0 - p_e)


def krippendorff_alpha_nominal(data: Sequence[Sequence[Hashable | None]]) -> float:
    """Krippendorff's alpha for nominal data (Krippendorff 2011).

    `data` has one row per coder and one column per unit; None is a missing
    value (NaN too). From the coincidence matrix o_ck = sum over units u with m_u >= 2
    pairable values of (number of ordered pairs (c, k) of values from
    different coders in u) / (m_u - 1), with n_c = sum_k o_ck and n = sum_c
    n_c:  alpha = 1 - (n - 1) * sum_{c != k} o_ck / sum_{c != k} n_c n_k.
    NaN when fewer than two values are pairable or only one value occurs.
    """
    units = min((len(row) for row in data), default=0)   # as zip(*data): the shortest coder
    # each value's index in the values sorted by their text (-1: missing), coder by coder
    found, values = pd.factorize(np.fromiter(chain.from_iterable(row[:units] for row in data),
                                             dtype=object, count=units * len(data)))
    rank = np.empty(len(values), dtype=np.int64)
    rank[sorted(range(len(values)), key=lambda i: str(values[i]))] = np.arange(len(values))
    coder_unit = np.flatnonzero(found >= 0)
    # counts[u, c]: how many coders gave unit u value c (missing values count nowhere)
    counts = np.bincount(coder_unit % units * len(values) + rank[found[coder_unit]],
                         minlength=units * len(values)).reshape(units, len(values))
    m_u = counts.sum(axis=1)
    o = np.zeros((len(values), len(values)))
    # units grouped by m_u: their pair counts summed as integers, divided by m_u - 1 once
    for m in np.unique(m_u[m_u >= 2]):
        group = counts[m_u == m]
        o += (group.T @ group - np.diag(group.sum(axis=0))) / (m - 1)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    expected = n * n - float((n_c ** 2).sum())  # sum_{c != k} n_c n_k
    if n < 2 or expected == 0:
        return float("nan")
    observed = o.sum() - np.trace(o)
    return float(1.0 - (n - 1) * observed / expected)


def binary_scores(gold: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """Precision, recall, F1 and Cohen's kappa of one code's presence."""
    tp = int(np.sum(gold & pred))
    fp = int(np.sum(~gold & pred))
    fn = int(np.sum(gold & ~pred))
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")
    return {"gold_n": int(gold.sum()), "pred_n": int(pred.sum()), "tp": tp, "fp": fp, "fn": fn,
            "precision": precision, "recall": recall, "f1": f1,
            "kappa": cohen_kappa(gold.tolist(), pred.tolist())}


# ---------------------------------------------------------------- code tree
def section_codes(section: str, tree: CodeTree) -> list[str]:
    """The codes an excerpt's section implies (see the module docstring)."""
    parts = normalise_section(section).split(".")
    for end in range(len(parts), 0, -1):
        wanted = ".".join(parts[:end])
        hits = [c for c in tree.order if wanted in tree.sections[c]]
        if hits:
            deepest = max(tree.depth(c) for c in hits)
            return [c for c in hits if tree.depth(c) == deepest]
    return []


# ---------------------------------------------------------------- codings
def check_codes(codings: pd.DataFrame, tree: CodeTree, source: str | Path) -> None:
    unknown = sorted(set(codings["code_id"].astype(str)) - set(tree.order))
    if unknown:
        raise InputError(f"code id(s) not in the codebook: {', '.join(unknown[:5])}", path=source,
                         fix=f"code with {tree.path} or pass the codebook the codings came from")


def section_gold(segments: pd.DataFrame, tree: CodeTree) -> pd.DataFrame:
    """Gold codings from the corpus's `section` column (the author's placement)."""
    if "section" not in segments.columns:
        raise InputError("the corpus has no 'section' column", fix="use an excerpt corpus from 'hcrisis quotes extract'")
    rows = [(sid, code) for sid, sec in zip(segments["segment_id"], segments["section"])
            for code in section_codes(str(sec), tree)]
    return pd.DataFrame(rows, columns=["segment_id", "code_id"])


def thesis_gold_tables(segments: pd.DataFrame, tree: CodeTree,
                       groups: list[list[int]] | None = None) -> dict[str, pd.DataFrame]:
    """The tables that describe the author's placement as a gold coding (`GOLD_TABLES`);
    `groups`: the segments' `reused_groups`, if already found."""
    return {"sections": sections_table(segments, tree), "reused": reused_table(segments, tree, groups)}


def sections_table(segments: pd.DataFrame, tree: CodeTree) -> pd.DataFrame:
    """Each section of the corpus, its excerpt count and the code(s) it maps to."""
    counts = segments["section"].astype(str).map(normalise_section).value_counts()
    order = sorted(counts.index, key=lambda s: [int(x) if x.isdigit() else -1 for x in s.split(".")])
    rows = [(s, int(counts[s]), "; ".join(section_codes(s, tree)) or NONE) for s in order]
    return pd.DataFrame(rows, columns=["section", "excerpts", "codes"])


# ---------------------------------------------------------------- units
def split_of(key: str) -> str:
    """A fixed half by hash: 'read' (may be read while writing rules) or 'held-out'."""
    return "read" if hashlib.sha256(str(key).encode("utf-8")).digest()[0] % 2 == 0 else "held-out"


def text_key(text: str) -> str:
    """A split key from a unit's text: its first 60 letters, lower-cased.

    Keyed on the words rather than the id, an excerpt falls in the same half
    however the extraction numbers or punctuates it.
    """
    return "".join(ch for ch in str(text).lower() if ch.isalpha())[:60]


def _shingles(text: str, n: int = SHINGLE) -> set[str]:
    words = re.findall(r"[a-z]+", str(text).lower())
    return {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}


def reused_groups(segments: pd.DataFrame, overlap: float = REUSED) -> list[list[int]]:
    """Row positions of the segments that quote one passage, a group per passage
    (singletons included), in row order.

    The thesis quotes some passages twice, under two sections (seven pairs
    among its excerpts): two segments sharing at least `overlap` of the
    shorter one's 6-word shingles form a group. Unrelated excerpts share
    under 0.08 of their shingles.
    """
    shingles = [_shingles(t) for t in segments["text"]]
    index: dict[str, list[int]] = {}
    for i, sh in enumerate(shingles):
        for g in sh:
            index.setdefault(g, []).append(i)
    parent = list(range(len(shingles)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    shared: dict[tuple[int, int], int] = {}
    for members in index.values():
        if len(members) > COMMON:     # a stock phrase ("at the end of the day"), not a reuse
            continue
        for a_pos, a in enumerate(members):
            for b in members[a_pos + 1:]:
                shared[(a, b)] = shared.get((a, b), 0) + 1
    for (a, b), n in shared.items():
        if n >= overlap * min(len(shingles[a]), len(shingles[b])):
            parent[root(b)] = root(a)
    groups: dict[int, list[int]] = {}
    for i in range(len(shingles)):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values())


def split_keys(segments: pd.DataFrame, overlap: float = REUSED,
               groups: list[list[int]] | None = None) -> dict[str, str]:
    """The split key of each segment: `text_key`, shared by reused quotations.

    Reading one copy of a reused passage (`reused_groups`) while writing
    rules is reading the other, so a group is `read` if any member is: every
    member takes the key of its first read member (else of its first member).
    `groups`: the segments' `reused_groups`, if already found.
    """
    ids = segments["segment_id"].astype(str).tolist()
    keys = [text_key(t) for t in segments["text"]]
    out = {}
    for members in reused_groups(segments, overlap) if groups is None else groups:
        read = [i for i in members if split_of(keys[i]) == "read"]
        key = keys[(read or members)[0]]
        out.update({ids[i]: key for i in members})
    return out


def reused_table(segments: pd.DataFrame, tree: CodeTree, groups: list[list[int]] | None = None) -> pd.DataFrame:
    """The author's placements of each passage she quotes more than once.

    One row per copy: its group (numbered in corpus order), section, the
    theme(s) and code(s) the section maps to, and whether every copy of the
    passage maps to a common theme. A passage placed under two themes shows
    that the placement follows the argument of the section as well as the
    words quoted, which bounds the agreement any coding of the words alone
    can reach with it.
    """
    rows = []
    groups = [g for g in (reused_groups(segments) if groups is None else groups) if len(g) > 1]
    for number, members in enumerate(groups, start=1):
        codes = [section_codes(str(segments["section"].iloc[i]), tree) for i in members]
        themes = [sorted({tree.theme(c) for c in cs}, key=tree.rank) for cs in codes]
        common = set.intersection(*(set(t) for t in themes)) if all(themes) else set()
        rows += [(number, str(segments["segment_id"].iloc[i]), normalise_section(segments["section"].iloc[i]),
                  "; ".join(t) or NONE, "; ".join(cs) or NONE, bool(common))
                 for i, t, cs in zip(members, themes, codes)]
    return pd.DataFrame(rows, columns=["passage", "segment_id", "section", "themes", "codes", "same_theme"])


def sentence_units(tokens, segments: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per sentence: unit_id, segment_id, start, end, doc_start, doc_end.

    `start`/`end` are offsets in the segment's text (the turn of a
    transcript), the convention of `hcrisis code` codings; `doc_start`/
    `doc_end` add the segment's `start` in its document (the transcript
    file) when `segments` (row-aligned with `tokens`) is given, else repeat
    the segment offsets. Unit ids `<segment>#s<k>` number the sentences of
    each segment from 0, as the codings' `unit` column does.
    """
    columns = ["unit_id", "segment_id", "start", "end", "doc_start", "doc_end"]
    if len(tokens) == 0:
        return pd.DataFrame(columns=columns)
    sent = tokens.sentence()
    row = tokens.segment
    first = np.r_[True, sent[1:] != sent[:-1]]
    last = np.r_[sent[1:] != sent[:-1], True]
    lengths = tokens.types["form"].str.len().to_numpy()[tokens.type_id]
    rows, local = [], {}
    for a, b in zip(np.flatnonzero(first), np.flatnonzero(last)):
        r = int(row[a])
        k = local[r] = local.get(r, -1) + 1
        sid = tokens.segment_ids[r]
        rows.append((f"{sid}#s{k}", sid, int(tokens.start[a]), int(tokens.start[b] + lengths[b]), r))
    out = pd.DataFrame(rows, columns=["unit_id", "segment_id", "start", "end", "row"])
    shift = 0
    if segments is not None and "start" in segments.columns:
        shift = pd.to_numeric(segments["start"], errors="coerce").fillna(0).astype("int64").to_numpy()[out["row"]]
    out["doc_start"], out["doc_end"] = out["start"] + shift, out["end"] + shift
    return out[columns]


def to_sentences(codings: pd.DataFrame, sentences: pd.DataFrame) -> pd.DataFrame:
    """Spread codings onto the sentences they overlap (whole segment without offsets).

    `start`/`end` of a coding are character offsets in its segment's text, as
    `hcrisis code` writes them, so they are compared with the sentences'
    segment offsets, never their document offsets: in a transcript the
    second turn's codings start again at 0.
    """
    sentences = sentences[["unit_id", "segment_id", "start", "end"]]
    merged = codings.merge(sentences, on="segment_id", suffixes=("", "_s"))
    if "start" in codings.columns and "end" in codings.columns:
        s, e = pd.to_numeric(merged["start"], errors="coerce"), pd.to_numeric(merged["end"], errors="coerce")
        keep = s.isna() | e.isna() | ((merged["start_s"] < e) & (merged["end_s"] > s))
        merged = merged[keep.to_numpy()]
    out = merged.drop(columns=["segment_id"]).rename(columns={"unit_id": "segment_id"})
    return out[[c for c in codings.columns if c not in ("start", "end")]]


# ---------------------------------------------------------------- comparison
@dataclass
class Comparison:
    """Two codings of the same units at one level, as unit x code matrices."""

    level: str
    units: list[str]
    codes: list[str]
    gold: np.ndarray
    pred: np.ndarray
    top1: list[str]
    gold_label: list[str | None]
    split: list[str]


def at_level(codings: pd.DataFrame, tree: CodeTree, level: str) -> pd.DataFrame:
    df = codings.copy()
    df["code_id"] = [tree.at_level(str(c), level) for c in df["code_id"]]
    return df


def best_codes(pred: pd.DataFrame, tree: CodeTree) -> dict[str, str]:
    """The best-scoring code per unit: highest score, then primary, then codebook order."""
    if pred.empty:
        return {}
    score = pd.to_numeric(pred["score"], errors="coerce").fillna(0) if "score" in pred else 0.0
    primary = pred["primary"].astype(str).str.lower().isin(["true", "1"]) if "primary" in pred else False
    ranked = pred.assign(_s=-score, _p=~primary, _r=[tree.rank(str(c)) for c in pred["code_id"]])
    ranked = ranked.sort_values(["segment_id", "_s", "_p", "_r"], kind="mergesort")
    first = ranked.drop_duplicates("segment_id")
    return dict(zip(first["segment_id"].astype(str), first["code_id"].astype(str)))


def compare(pred: pd.DataFrame, gold: pd.DataFrame, units: list[str], tree: CodeTree,
            level: str, split_by: dict[str, str] | None = None) -> Comparison:
    """Align predicted and gold codings on `units` at `level`."""
    best = best_codes(pred, tree)
    pred, gold = at_level(pred, tree, level), at_level(gold, tree, level)
    used = set(pred["code_id"]) | set(gold["code_id"])
    codes = sorted(used, key=tree.rank)
    uidx, cidx = {u: i for i, u in enumerate(units)}, {c: j for j, c in enumerate(codes)}

    def matrix(df):
        m = np.zeros((len(units), len(codes)), dtype=bool)
        for u, c in zip(df["segment_id"].astype(str), df["code_id"]):
            if u in uidx:
                m[uidx[u], cidx[c]] = True
        return m

    g, p = matrix(gold), matrix(pred)
    top1 = [tree.at_level(best[u], level) if u in best else NONE for u in units]
    gold_label = []
    for i, t in enumerate(top1):
        implied = [codes[j] for j in np.flatnonzero(g[i])]
        gold_label.append(None if not implied else (t if t in implied else implied[0]))
    split = [split_of((split_by or {}).get(u, u)) for u in units]
    return Comparison(level, units, codes, g, p, top1, gold_label, split)


def per_code_table(cmp: Comparison, tree: CodeTree) -> pd.DataFrame:
    rows = [{"code_id": c, "label": tree.labels.get(c, c), **binary_scores(cmp.gold[:, j], cmp.pred[:, j])}
            for j, c in enumerate(cmp.codes)]
    return pd.DataFrame(rows, columns=["code_id", "label", "gold_n", "pred_n", "tp", "fp", "fn",
                                       "precision", "recall", "f1", "kappa"])


def summary_rows(cmp: Comparison, unit: str) -> list[dict]:
    """Agreement figures of the codebook on each split."""
    rows = []
    for split in SPLITS:
        keep = np.array([split == "all" or s == split for s in cmp.split], dtype=bool)
        has_gold = keep & cmp.gold.any(axis=1)
        idx = np.flatnonzero(has_gold)
        top1 = [cmp.top1[i] for i in idx]
        gold = [cmp.gold_label[i] for i in idx]
        g, p = cmp.gold[has_gold], cmp.pred[has_gold]
        kappas = [cohen_kappa(cmp.gold[keep, j].tolist(), cmp.pred[keep, j].tolist())
                  for j in range(len(cmp.codes))]
        rows.append({
            "level": cmp.level, "unit": unit, "split": split, "method": "codebook",
            "units": int(keep.sum()), "gold_units": len(idx),
            "top1": float(np.mean([t == gl for t, gl in zip(top1, gold)])) if idx.size else float("nan"),
            "recall": float((g & p).sum() / g.sum()) if g.sum() else float("nan"),
            "codes_per_unit": float(cmp.pred[keep].sum(axis=1).mean()) if keep.any() else float("nan"),
            "kappa_top1": cohen_kappa(gold, top1),
            "kappa_macro": float(np.nanmean(kappas)) if not np.all(np.isnan(kappas)) else float("nan"),
            "alpha_top1": krippendorff_alpha_nominal([gold, top1]),
            "alpha_binary": krippendorff_alpha_nominal([cmp.gold[keep].ravel().tolist(),
                                                        cmp.pred[keep].ravel().tolist()]),
        })
    return rows


def confusion_table(cmp: Comparison, tree: CodeTree) -> pd.DataFrame:
    """Gold theme (rows) against top-1 predicted theme (columns), units with gold only."""
    themes = [c for c in tree.order if tree.parent[c] is None]
    pairs = [(tree.theme(g), NONE if t == NONE else tree.theme(t))
             for g, t in zip(cmp.gold_label, cmp.top1) if g is not None]
    table = pd.DataFrame(0, index=themes, columns=themes + [NONE])
    for g, t in pairs:
        table.loc[g, t] += 1
    return table.rename_axis("gold_theme").reset_index()


# ---------------------------------------------------------------- baseline
def _gold_units(gold_label: list[str | None]) -> tuple[list[int], np.ndarray]:
    """Positions of the units with a gold label, and their labels."""
    idx = [i for i, g in enumerate(gold_label) if g is not None]
    return idx, np.array([gold_label[i] for i in idx], dtype=object)


def baseline_predictions(docs: list[str], gold_label: list[str | None], folds: int = 5) -> np.ndarray | None:
    """TF-IDF + logistic regression predicting the gold label, stratified k-fold (seed fixed):
    a prediction per unit with a gold label (None when fewer than two labels can be learnt).

    Labels with at least `folds` units are cross-validated; units of rarer
    labels cannot be learnt in every fold, so they are predicted by the model
    fitted on all the others and so always count as misses.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from threadpoolctl import threadpool_limits

    from hcrisis.coding.suggest import text_classifier

    idx, y = _gold_units(gold_label)
    labels, counts = np.unique(y, return_counts=True)
    common = np.isin(y, labels[counts >= folds])
    if len(set(y[common])) < 2:
        return None
    x = np.array([docs[i] for i in idx], dtype=object)
    pred = np.empty(len(y), dtype=object)
    # One BLAS thread: these fits are small, and multi-threaded OpenBLAS makes each
    # ~10 times slower (same predictions).
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        warnings.simplefilter("ignore")
        pred[common] = cross_val_predict(text_classifier(SEED), x[common], y[common],
                                         cv=StratifiedKFold(folds, shuffle=True, random_state=SEED))
        if (~common).any():
            pred[~common] = text_classifier(SEED).fit(x[common], y[common]).predict(x[~common])
    return pred


def baseline_rows(cmp: Comparison, unit: str, pred: np.ndarray | None) -> list[dict]:
    """The baseline's figures on each split, from its `baseline_predictions`."""
    if pred is None:
        return []
    idx, y = _gold_units(cmp.gold_label)
    rows = []
    for split in SPLITS:
        keep = [k for k, i in enumerate(idx) if split == "all" or cmp.split[i] == split]
        g, p = y[keep].tolist(), pred[keep].tolist()
        rows.append({"level": cmp.level, "unit": unit, "split": split, "method": BASELINE,
                     "units": len(keep), "gold_units": len(keep),
                     "top1": float(np.mean(np.array(g) == np.array(p))) if keep else float("nan"),
                     "recall": float("nan"), "codes_per_unit": 1.0,
                     "kappa_top1": cohen_kappa(g, p), "kappa_macro": float("nan"),
                     "alpha_top1": krippendorff_alpha_nominal([g, p]), "alpha_binary": float("nan")})
    return rows


# ---------------------------------------------------------------- driver
@dataclass
class Agreement:
    summary: pd.DataFrame
    per_code: dict[str, pd.DataFrame]
    confusion: pd.DataFrame
    about_gold: dict[str, pd.DataFrame]    # `GOLD_TABLES` describing the gold coding
    spans: SpanAgreement | None = None     # against a gold of spans (`hcrisis.coding.spans`)


def agreement(pred: pd.DataFrame, gold: pd.DataFrame, tree: CodeTree, **options) -> Agreement:
    """Compare `pred` with `gold` at each level (plus the baseline when `docs`): `start_agreement`,
    waited for."""
    return start_agreement(pred, gold, tree, **options)()


def start_agreement(pred: pd.DataFrame, gold: pd.DataFrame, tree: CodeTree, *, units: list[str],
                    levels: Sequence[str] = LEVELS, unit: str = "segment", docs: list[str] | None = None,
                    split_by: dict[str, str] | None = None, about_gold: dict[str, pd.DataFrame] | None = None,
                    submit: Submit | None = None) -> Callable[[], Agreement]:
    """`agreement`, the codebook's figures computed now and the baseline's fits started
    with `submit(function, *args)` (`hcrisis.workers.Preloaded.submit`: where
    scikit-learn is imported already); returns the function that waits for the fits
    and gives the result."""
    cmps = [compare(pred, gold, units, tree, level, split_by) for level in levels]
    fits = [(submit or call_later)(baseline_predictions, docs, cmp.gold_label) for cmp in cmps] \
        if docs is not None else []
    summaries = [summary_rows(cmp, unit) for cmp in cmps]
    per_code = {level: per_code_table(cmp, tree) for level, cmp in zip(levels, cmps)}
    theme = dict(zip(levels, cmps)).get("theme") or compare(pred, gold, units, tree, "theme", split_by)
    confusion = confusion_table(theme, tree)

    def finish() -> Agreement:
        rows = []
        for i, cmp in enumerate(cmps):
            rows += summaries[i] + (baseline_rows(cmp, unit, fits[i]()) if fits else [])
        return Agreement(pd.DataFrame(rows), per_code, confusion, about_gold or {})
    return finish


def write_agreement(result: Agreement, out: str | Path) -> list[Path]:
    out = Path(out)
    written = write_table(result.summary, out / "agreement", title="Agreement with the gold coding")
    for level, table in result.per_code.items():
        written += write_table(table, out / f"agreement_{level}s", title=f"Per-{level} agreement")
    written += write_table(result.confusion, out / "agreement_confusion",
                           title="Top-1 predicted theme (columns) against gold theme (rows)")
    for name, table in result.about_gold.items():
        written += write_table(table, out / f"agreement_{name}", title=GOLD_TABLES[name])
    return written


def run_agree(codings_path: str | Path | pd.DataFrame, gold: str | Path | pd.DataFrame, *,
              corpus: str | Path | Corpus | None, codebook: str | Path,
              level: str | None = None, unit: str = "segment", out: str | Path | None = None,
              baseline: bool = True) -> Agreement:
    """The `hcrisis agree` command: load (codings and gold: CSV files or their tables),
    compare, write (with `out`)."""
    from hcrisis.coding.spans import coding_spans, load_any_codings, span_agreement, write_span_agreement
    from hcrisis.ingest.corpus import as_corpus

    tree = load_code_tree(codebook)
    c = as_corpus(corpus) if corpus is not None else None
    pred, pred_spans = load_any_codings(codings_path, c)
    pred_name = "codings table" if isinstance(codings_path, pd.DataFrame) else codings_path
    check_codes(pred, tree, pred_name)
    segments, gold_spans = None, None
    if c is not None:
        segments = c.segments[~c.segments["is_interviewer"].astype(bool)].reset_index(drop=True)
    if isinstance(gold, str) and gold == "thesis-sections":
        if segments is None:
            raise InputError("--gold thesis-sections needs the excerpt corpus", fix="name it: hcrisis agree CORPUS ...")
        gold_df = section_gold(segments, tree)
    else:
        gold_df, gold_spans = load_any_codings(gold, c)
        check_codes(gold_df, tree, "gold table" if isinstance(gold, pd.DataFrame) else gold)
    result = compare_on_corpus(pred, gold_df, tree, segments, level=level, unit=unit, out=out,
                               baseline=baseline, thesis_gold=isinstance(gold, str) and gold == "thesis-sections")
    if gold_spans is not None:     # a gold placed in the text: agreement on characters too
        pred_spans = coding_spans(pred, c, where=pred_name) if pred_spans is None else pred_spans
        result.spans = span_agreement(pred_spans, gold_spans, c, tree, [level] if level else list(LEVELS))
        if out is not None:
            write_span_agreement(result.spans, out)
    return result


def compare_on_corpus(pred: pd.DataFrame, gold: pd.DataFrame, tree: CodeTree, segments: pd.DataFrame | None,
                      *, level: str | None, unit: str, out, baseline: bool, thesis_gold: bool = False,
                      tokens=None) -> Agreement:
    """Choose the units (segments or sentences), build baseline texts, compare, write.
    `thesis_gold`: the gold is the author's placement (`section_gold`); its tables are added."""
    result = start_compare_on_corpus(pred, gold, tree, segments, level=level, unit=unit, baseline=baseline,
                                     thesis_gold=thesis_gold, tokens=tokens)()
    if out is not None:
        write_agreement(result, out)
    return result


def start_compare_on_corpus(pred: pd.DataFrame, gold: pd.DataFrame, tree: CodeTree, segments: pd.DataFrame | None,
                            *, level: str | None, unit: str, baseline: bool, thesis_gold: bool = False,
                            tokens=None, submit: Submit | None = None) -> Callable[[], Agreement]:
    """`compare_on_corpus` without writing, the baseline fitted with `submit`
    (`start_agreement`): returns the function that gives the result."""
    levels = [level] if level else list(LEVELS)
    if segments is None:
        if unit == "sentence":
            raise InputError("--unit sentence needs the corpus", fix="name it: hcrisis agree CORPUS ...")
        units = sorted(set(pred["segment_id"].astype(str)) | set(gold["segment_id"].astype(str)))
        return start_agreement(pred, gold, tree, units=units, levels=levels, unit=unit)
    if tokens is None:
        from hcrisis.text.tokens import tokenize_segments
        tokens = tokenize_segments(segments)
    groups = reused_groups(segments)     # found once: the split and the reused table need them
    keys = split_keys(segments, groups=groups)
    about_gold = thesis_gold_tables(segments, tree, groups) if thesis_gold else None
    if unit == "sentence":
        sents = sentence_units(tokens, segments)
        pred, gold = to_sentences(pred, sents), to_sentences(gold, sents)
        units, docs = sents["unit_id"].tolist(), None
        split_by = {u: keys[s] for u, s in zip(sents["unit_id"], sents["segment_id"])}
    else:
        from hcrisis.coding.suggest import unit_documents
        units = segments["segment_id"].astype(str).tolist()
        split_by = keys
        docs = unit_documents(tokens) if baseline else None
    return start_agreement(pred, gold, tree, units=units, levels=levels, unit=unit, docs=docs,
                           split_by=split_by, about_gold=about_gold, submit=submit)


def headline(summary: pd.DataFrame, level: str, split: str = "held-out",
             method: str = "codebook") -> pd.Series | None:
    hit = summary[(summary["level"] == level) & (summary["split"] == split) & (summary["method"] == method)]
    return None if hit.empty else hit.iloc[0]
