"""`hcrisis code`: apply a codebook to a corpus and tabulate the codings.

`apply_codebook` matches the compiled codebook (`hcrisis.coding.codebook`) on the
shared `Tokens` arrays (never re-tokenising) and returns one row per coded
unit and code:

    segment_id, code_id, code_path, theme_id, unit, start, end,
    matched_terms, hits, score, similarity, primary

`unit` is `segment` (turn/paragraph codes: the segment row) or `s<k>`, the
k-th sentence of the segment (0-based); `start`/`end` are character offsets
of the unit in the segment's text; `matched_terms` are the distinct
lower-cased matched texts, sorted and `;`-joined; `score` is
`hcrisis.coding.codebook.score`, plus weight × `similarity` (the cosine of the unit
and the code's description, `hcrisis.coding.similarity`) when the codebook declares
`similarity` (else the column is empty; a row with 0 hits and no matched
terms was coded by that similarity alone, its `fallback`);
`primary` marks the best-scoring code of the unit
(ties: codebook order). Interviewer turns are not coded (questions are not
participant data). The frame also carries `row` (segment row), `words`
(words in the unit) and `spans` (character spans of the hits), which are
not written to codings.csv.

Aggregates count a unit coded by a child code for each ancestor too (a
theme's count is that of the units coded by it or any code beneath it, each
unit once):

- matrix_<attribute>.csv (NVivo's matrix coding query), per code and value
  of each attribute the corpus declares (or those asked for, `hcrisis code --by ATTR`): references (coded units), segments,
  participants and words coded; `row_pct` = references / the code's
  references over all values × 100; `col_pct` = coded segments / the
  value's (non-interviewer) segments × 100.
- cooccurrence.csv: per pair of codes (neither an ancestor of the other)
  coding at least one unit together: units of each, units of both, and
  Jaccard = both / (units_a + units_b − both) (Jaccard, 1912). The unit is
  the sentence when every code is coded by sentence, else the segment.
- quotes/<code_id>.md: the units coded by each code, matched terms in bold,
  with their attribution — an explicit export of research text, limited to
  the coded units, refused (`hcrisis.ingest.privacy.guard_export`) when a unit
  holds identifiers unless identifiers are allowed (`--allow-identifiers`;
  in a study, the coding step's `allow_identifiers: true`; the study step
  then writes the tables without quotations).
- figures (PNG and SVG, byte-stable): theme references by attribute (bar
  chart) and the code × value matrix of `col_pct` (heatmap), each with its
  table CSV beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence, TYPE_CHECKING

import numpy as np
import pandas as pd

from hcrisis.coding.codebook import Codebook, load_codebook
from hcrisis.coding.matcher import compile_codebook
from hcrisis.errors import InputError
from hcrisis.files import atomic_path, write_atomic
from hcrisis.coding.similarity import score_by_description
from hcrisis.tables import write_table

if TYPE_CHECKING:
    from hcrisis.ingest.corpus import Corpus

CODING_COLUMNS = ["segment_id", "code_id", "code_path", "theme_id", "unit", "start", "end",
                  "matched_terms", "hits", "score", "similarity", "primary"]
ATTRIBUTION = ("participant_id", "role_label", "sector", "source_type", "section")
NONE = "(none)"


# ---------------------------------------------------------------- coding
def coded_rows(segments: pd.DataFrame) -> list[int]:
    """Rows to code: every segment but interviewer turns."""
    if "is_interviewer" not in segments:
        return list(range(len(segments)))
    return np.flatnonzero(~segments["is_interviewer"].to_numpy(dtype=bool)).tolist()


def apply_codebook(codebook: Codebook | str | Path, segments: pd.DataFrame, tokens=None,
                   *, nlp=None) -> pd.DataFrame:
    """Code every (non-interviewer) segment; one row per coded unit and code."""
    from hcrisis.text.tokens import shared_pipeline, tokenize_segments

    if not isinstance(codebook, Codebook):
        codebook = load_codebook(codebook)
    if tokens is None:
        tokens = tokenize_segments(segments, nlp)
    compiled = compile_codebook(codebook, nlp or shared_pipeline(tokens.model))
    texts, rows = segments["text"].astype(str).tolist(), coded_rows(segments)
    coded = score_by_description(compiled.code(tokens, texts, rows), codebook, compiled.nlp, tokens, rows, texts,
                                 compiled.words)
    codes = codebook.codes
    order, row, unit = (coded[c].to_numpy() for c in ("code", "row", "unit"))
    of_code = {name: np.array([getattr(c, name) for c in codes], dtype=object)[order]
               for name in ("id", "code_path", "theme")}
    ids = segments["segment_id"].astype(str).to_numpy(dtype=object)
    rank = pd.factorize(ids, sort=True)[0][row]            # sorting by rank sorts by segment id
    df = pd.DataFrame({
        "segment_id": ids[row],
        "code_id": of_code["id"], "code_path": of_code["code_path"], "theme_id": of_code["theme"],
        "unit": ["segment" if u < 0 else f"s{u}" for u in unit.tolist()],
        "start": coded["start"], "end": coded["end"], "matched_terms": coded["terms"], "hits": coded["hits"],
        "score": coded["score"], "similarity": coded["similarity"],
        "primary": primary(rank * (unit.max(initial=0) + 2) + unit + 1, coded["score"].to_numpy(), order),
        "row": row, "words": coded["words"], "order": order, "spans": coded["spans"]})
    return df.take(np.lexsort((order, coded["start"].to_numpy(), rank))).reset_index(drop=True)


def primary(unit: np.ndarray, score: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Whether each coding is its unit's primary one: the highest score, ties to the earlier code."""
    ranked = np.lexsort((order, -score, unit))
    out = np.zeros(unit.size, dtype=bool)
    out[ranked[np.diff(unit[ranked], prepend=-1) != 0]] = True
    return out


# ---------------------------------------------------------------- aggregates
def with_ancestors(codings: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Each coded unit once per code and ancestor: unit_key, row, words, code_id."""
    units = codings.assign(unit_key=codings["segment_id"] + "#" + codings["unit"])
    rows = [(u, r, w, a) for u, r, w, c in units[["unit_key", "row", "words", "code_id"]].itertuples(index=False)
            for a in codebook.ancestors(c)]
    out = pd.DataFrame(rows, columns=["unit_key", "row", "words", "code_id"])
    return out.drop_duplicates(["unit_key", "code_id"]).reset_index(drop=True)


def matrix(codings: pd.DataFrame, codebook: Codebook, segments: pd.DataFrame, attribute: str) -> pd.DataFrame:
    """Code × attribute value: references, segments, participants, words, row and column %."""
    values_of = segments[attribute].fillna("").astype(str).replace("", NONE)
    eligible = values_of.iloc[coded_rows(segments)].value_counts()
    values = sorted(eligible.index, key=lambda v: (v == NONE, v))
    exp = with_ancestors(codings, codebook)
    rows = exp["row"].to_numpy(dtype=int)
    pid = segments.get("participant_id", pd.Series([""] * len(segments))).fillna("").astype(str)
    exp["value"] = values_of.to_numpy()[rows]
    exp["participant"] = pid.replace("", np.nan).to_numpy()[rows]   # nunique skips NaN: no one
    grid = pd.MultiIndex.from_product([[c.id for c in codebook.codes], values], names=["code_id", "value"])
    counts = exp.groupby(["code_id", "value"]).agg(
        references=("unit_key", "nunique"), segments=("row", "nunique"),
        participants=("participant", "nunique"), words=("words", "sum")).reindex(grid, fill_value=0)
    counts = counts.astype(int).reset_index()
    total = counts.groupby("code_id")["references"].transform("sum")
    counts["row_pct"] = np.where(total > 0, 100.0 * counts["references"] / total.where(total > 0, 1), 0.0)
    counts["col_pct"] = 100.0 * counts["segments"] / counts["value"].map(eligible).astype(float)
    counts.insert(1, "code_path", counts["code_id"].map(lambda c: codebook.by_id[c].code_path))
    return counts.rename(columns={"value": attribute})


def cooccurrence(codings: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Pairs of codes on the same units: counts and Jaccard (see the module docstring)."""
    exp = with_ancestors(codings, codebook)
    by_sentence = all(c.unit == "sentence" for c in codebook.codes)
    exp["key"] = exp["unit_key"] if by_sentence else exp["unit_key"].str.rsplit("#", n=1).str[0]
    exp = exp.drop_duplicates(["key", "code_id"])
    ids = [c.id for c in codebook.codes]
    keys = sorted(exp["key"].unique())
    m = np.zeros((len(keys), len(ids)), dtype=np.int64)
    m[np.searchsorted(keys, exp["key"]), [codebook.order[c] for c in exp["code_id"]]] = 1
    both = m.T @ m
    rows = []
    for i, j in zip(*np.nonzero(np.triu(both, 1))):
        a, b = ids[i], ids[j]
        if a in codebook.ancestors(b) or b in codebook.ancestors(a):
            continue
        union = both[i, i] + both[j, j] - both[i, j]
        rows.append((a, b, int(both[i, i]), int(both[j, j]), int(both[i, j]), both[i, j] / union))
    return pd.DataFrame(rows, columns=["code_a", "code_b", "units_a", "units_b", "both", "jaccard"])


# ---------------------------------------------------------------- quotations
def highlight(text: str, spans: list[tuple[int, int]], offset: int) -> str:
    """`text` with the (merged) spans in **bold**; Markdown's `*` escaped."""
    merged: list[list[int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    out, pos = [], 0
    for s, e in merged:
        s, e = max(s - offset, 0), min(e - offset, len(text))
        out += [_escape(text[pos:s]), "**", _escape(text[s:e]), "**"]
        pos = e
    out.append(_escape(text[pos:]))
    return "".join(out)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_")


def quotations(codings: pd.DataFrame, codebook: Codebook, segments: pd.DataFrame) -> dict[str, str]:
    """Markdown of the coded units of each code that has codings, by code id."""
    texts = segments["text"].astype(str).tolist()
    # columns as arrays once: a pandas lookup per coding and attribute cost ~70 s at 5M words
    attrs = {c: segments[c].to_numpy(dtype=object) for c in ATTRIBUTION if c in segments.columns}
    out = {}
    for code_id, group in codings.groupby("code_id", sort=False):
        code = codebook.by_id[code_id]
        lines = [f"# {code.label} (`{code.id}`)", "", f"Code path: `{code.code_path}`. "
                 f"{len(group)} coded unit(s); matched terms in bold.", ""]
        if code.data.get("definition"):
            lines += [code.data["definition"].strip(), ""]
        for c in group.itertuples(index=False):
            quote = highlight(texts[c.row][c.start:c.end], c.spans, c.start)
            lines += ["> " + ln for ln in quote.splitlines() or [""]]
            who = [f"{a}: {v}" for a, values in attrs.items() if (v := str(values[c.row])) not in ("", "nan")]
            how = f"score {c.score:.3f}" + (f" (no rule hit; description similarity {c.similarity:.3f})"
                                            if c.hits == 0 else "")
            lines += ["", "— " + "; ".join([f"`{c.segment_id}` ({c.unit})", *who, how]), ""]
        out[code_id] = "\n".join(lines).rstrip() + "\n"
    return out


# ---------------------------------------------------------------- figures
def save_figure(fig, stem: Path) -> list[Path]:
    """PNG and SVG with fixed metadata and hash salt, so reruns give the same bytes."""
    import matplotlib

    written = []
    with matplotlib.rc_context({"svg.hashsalt": "hcrisis", "svg.fonttype": "none"}):
        for ext, meta in (("png", {"Software": None}), ("svg", {"Date": None, "Creator": None})):
            path = stem.with_suffix(f".{ext}")
            with atomic_path(path) as tmp:
                fig.savefig(tmp, format=ext, metadata=meta, dpi=100)
            written.append(path)
    return written


def figure_label(codebook: Codebook, code_id: str, width: int = 42) -> str:
    """A code's label for a figure axis, cut to `width` characters."""
    text = codebook.by_id[code_id].label
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


def figures(mat: pd.DataFrame, codebook: Codebook, attribute: str, out: Path) -> list[Path]:
    """Theme references by value (bars) and the code × value col_pct heatmap, with their tables.

    Segments without a value ("(none)") stay in the matrix table but not in the
    figures, which compare the attribute's values; axes show the codes' labels,
    in fonts that stay legible when the figure is printed at the width of a page.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    themes = [c.id for c in codebook.themes]
    valued = mat[mat[attribute] != NONE]
    if valued.empty:      # no segment has a value: the matrix table says so, there is nothing to draw
        return []
    bars = valued[valued["code_id"].isin(themes)].pivot(index="code_id", columns=attribute,
                                                        values="references").reindex(themes)
    heat = valued.pivot(index="code_id", columns=attribute, values="col_pct").reindex([c.id for c in codebook.codes])
    labelled = {name: frame.rename_axis(None, axis=1).reset_index().assign(
        label=lambda d: [codebook.by_id[c].label for c in d["code_id"]]) for name, frame in
        (("code_frequencies", bars), ("matrix", heat))}
    written = []
    for name, frame in labelled.items():
        columns = ["code_id", "label", *[c for c in frame.columns if c not in ("code_id", "label")]]
        written += write_table(frame[columns], out / f"figure_{name}_{attribute}", markdown=False)

    fig, ax = plt.subplots(figsize=(9, max(5.0, 0.35 * len(bars) + 1.5)))
    bars.iloc[::-1].set_axis([figure_label(codebook, c) for c in bars.index[::-1]]).plot.barh(ax=ax, width=0.8)
    ax.set_xlabel("coded units (references)", fontsize=11)
    ax.set_ylabel("")
    ax.tick_params(labelsize=10)
    ax.legend(fontsize=10, title=attribute, title_fontsize=10)
    ax.set_title(f"Theme frequencies by {attribute}", fontsize=12)
    fig.subplots_adjust(left=0.36, right=0.97, top=0.94, bottom=0.08)   # fixed: no text measuring
    written += save_figure(fig, out / f"figure_code_frequencies_{attribute}")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(9, max(4.0, 0.24 * len(heat) + 2.2)))
    im = ax.imshow(heat.to_numpy(dtype=float), aspect="auto", cmap="viridis")
    ax.set_xticks(range(heat.shape[1]), heat.columns, rotation=30, ha="right", fontsize=10)
    ax.set_yticks(range(heat.shape[0]), [figure_label(codebook, c) for c in heat.index], fontsize=9)
    for tick, code_id in zip(ax.get_yticklabels(), heat.index):   # themes in bold, their codes below
        tick.set_fontweight("bold" if codebook.by_id[code_id].depth == 0 else "normal")
    ax.set_title(f"Segments coded (% of the {attribute}'s segments)", fontsize=12)
    fig.colorbar(im, ax=ax, label="% of segments")
    fig.subplots_adjust(left=0.36, right=0.97, top=1 - 0.5 / fig.get_figheight(),
                        bottom=1.5 / fig.get_figheight())
    written += save_figure(fig, out / f"figure_matrix_{attribute}")
    plt.close(fig)
    return written


# ---------------------------------------------------------------- outputs
def guard_quotes(codings: pd.DataFrame, segments: pd.DataFrame, out: Path, allow_identifiers: bool,
                 scanner=None) -> None:
    """Refuse the quotations export if a coded unit holds identifiers (`hcrisis.ingest.privacy`)."""
    from hcrisis.ingest.privacy import guard_export

    texts = segments["text"].astype(str).tolist()
    units = pd.DataFrame({"segment_id": codings["segment_id"],
                          "quote": [texts[r][a:b] for r, a, b in zip(codings["row"], codings["start"], codings["end"])]})
    guard_export(units, Path(out) / "quotes", allow_identifiers, scanner)


def write_outputs(codings: pd.DataFrame, codebook: Codebook, segments: pd.DataFrame, out: Path,
                  attributes: Sequence[str], *, quotes: bool = True) -> list[Path]:
    """codings.csv, matrices by `attributes`, co-occurrence, figures and (if `quotes`,
    guarded first) quotations."""
    out = Path(out)
    return (write_codings(codings, codebook, segments, out, quotes=quotes)
            + write_matrices(codings, codebook, segments, out, attributes)
            + write_table(cooccurrence(codings, codebook), out / "cooccurrence", title="Code co-occurrence"))


def write_codings(codings: pd.DataFrame, codebook: Codebook, segments: pd.DataFrame, out: Path,
                  *, quotes: bool = True) -> list[Path]:
    """codings.csv and (if `quotes`) quotes/<code_id>.md, stale quotation files removed."""
    out = Path(out)
    written = write_table(codings[CODING_COLUMNS], out / "codings", markdown=False)
    texts = quotations(codings, codebook, segments) if quotes else {}
    for stale in sorted((out / "quotes").glob("*.md")):
        if stale.stem not in texts:
            stale.unlink()
    written += [write_atomic(out / "quotes" / f"{cid}.md", text) for cid, text in texts.items()]
    return written


def write_matrices(codings: pd.DataFrame, codebook: Codebook, segments: pd.DataFrame, out: Path,
                   attributes: Sequence[str]) -> list[Path]:
    """matrix_<attribute> and its figures for each attribute (a column of `segments`)."""
    tables, mats = _matrix_tables(codings, codebook, segments, Path(out), attributes)
    return tables + _draw_figures(mats, codebook, Path(out))


def start_matrices(codings: pd.DataFrame, codebook: Codebook, segments: pd.DataFrame, out: Path,
                   attributes: Sequence[str]) -> tuple[list[Path], Callable[[], list[Path]]]:
    """`write_matrices` with the figures drawn in forked processes (`start_in_background`),
    one per attribute (two cores draw two at once): the matrix tables written now, and a
    function that waits for the figures and their tables and returns their paths. Drawing
    them is most of the time matrices take."""
    from hcrisis.workers import start_in_background

    tables, mats = _matrix_tables(codings, codebook, segments, Path(out), attributes)
    drawing = [start_in_background(_draw_figures, [m], codebook, Path(out)) for m in mats]
    return tables, lambda: [p for done in drawing for p in done()]


def _matrix_tables(codings, codebook, segments, out: Path, attributes) -> tuple[list[Path], list[tuple]]:
    """The matrix tables, written, and each with its attribute (for `_draw_figures`)."""
    written, mats = [], []
    for attribute in attributes:
        mat = matrix(codings, codebook, segments, attribute)
        written += write_table(mat, out / f"matrix_{attribute}", title=f"Matrix coding: codes by {attribute}")
        mats.append((mat, attribute))
    return written, mats


def _draw_figures(mats: list[tuple[pd.DataFrame, str]], codebook: Codebook, out: Path) -> list[Path]:
    return [p for mat, attribute in mats for p in figures(mat, codebook, attribute, out)]


@dataclass
class CodeRun:
    codebook: Codebook
    codings: pd.DataFrame
    segments: int
    written: list[Path]


def run_code(corpus: str | Path | Corpus, codebook: str | Path, out: str | Path, *,
             allow_identifiers: bool = False, attributes: Sequence[str] | None = None, engine=None) -> CodeRun:
    """`hcrisis code`: load, code partition by partition (`code_corpus`, on `engine`),
    check the quotations, write every output; matrix coding by `attributes` (default:
    every declared attribute)."""
    from hcrisis.ingest.corpus import as_corpus
    from hcrisis.ingest.segments import SELECTABLE, attributes_of

    book = load_codebook(codebook)
    loaded = as_corpus(corpus)
    segments = loaded.segments
    unknown = [a for a in attributes or () if a not in attributes_of(segments) and a not in SELECTABLE]
    if unknown:
        raise InputError(f"unknown attribute '{unknown[0]}' (declared: {', '.join(loaded.attributes) or 'none'})",
                         path=loaded.manifest_path, fix="name a declared attribute with --by")
    codings = code_corpus(corpus, book, segments["segment_id"].to_numpy(), engine)
    guard_quotes(codings, segments, Path(out), allow_identifiers, loaded)
    by = list(attributes) if attributes else loaded.attributes
    return CodeRun(book, codings, len(segments), write_outputs(codings, book, segments, Path(out), by))


# ---------------------------------------------------------------- by partition
@dataclass
class CodeJob:
    source: Any
    codebook: Codebook


def code_partial(part, job: CodeJob) -> tuple[pd.DataFrame, int]:
    """A partition's codings (rows of its own segments table) and its number of rows;
    only the rows coded are tokenised."""
    from hcrisis.engine.stages import tokens_of_rows

    segments = job.source.segments(part)
    needed = np.zeros(len(segments), dtype=bool)
    needed[coded_rows(segments)] = True
    return apply_codebook(job.codebook, segments, tokens_of_rows(segments, needed)), len(segments)


def merge_codings(partials: list[tuple[pd.DataFrame, int]], segment_ids: np.ndarray) -> pd.DataFrame:
    """Codings of every partition, rows shifted to the whole table's, in `apply_codebook`'s
    order (a unit's coding depends on its own words and the codebook only: the description
    idf comes from the codebook)."""
    first = np.cumsum([0] + [n for _, n in partials])
    df = pd.concat([c.assign(row=c["row"] + first[i]) for i, (c, _) in enumerate(partials)], ignore_index=True)
    rank = pd.factorize(segment_ids, sort=True)[0][df["row"].to_numpy()]
    return df.take(np.lexsort((df["order"].to_numpy(), df["start"].to_numpy(), rank))).reset_index(drop=True)


def code_corpus(corpus, codebook: Codebook, segment_ids: np.ndarray, engine=None, partitions=None) -> pd.DataFrame:
    """`apply_codebook` over a corpus (folder or loaded), partition by partition on an engine
    (`hcrisis.engine`; default: in this process); `segment_ids` of the whole segments table."""
    from hcrisis.engine import Engine
    from hcrisis.engine.partitions import open_source

    source = open_source(corpus)
    partials = list((engine or Engine()).map(code_partial, partitions or source.partitions(),
                                             CodeJob(source, codebook)))
    return merge_codings(partials, segment_ids)


def theme_summary(codings: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Units coded per theme (counting codings of the codes beneath it)."""
    exp = with_ancestors(codings, codebook)
    n = exp.groupby("code_id")["unit_key"].nunique()
    rows = [(t.id, t.label, int(n.get(t.id, 0))) for t in codebook.themes]
    return pd.DataFrame(rows, columns=["theme_id", "label", "units"])
