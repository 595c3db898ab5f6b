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

`hcrisis code` (`run_code`) never holds the corpus or its codings: each
partition (`hcrisis.engine`) is coded where it is read and reduced to a
`CodedPart` — its codings as pieces of the output files, sorted (`pieces`;
a sorted run on disk, merged with the others' in the whole corpus's order by
`hcrisis.coding.codings.Spill`), its
matrix counts (references, segments and words add up over partitions; the
participants are kept as distinct code, value and participant triples) and
its co-occurrence counts (units are within a partition, so pair counts add
up). The in-memory functions (`write_outputs`, `matrix`, `cooccurrence`,
`quotations`) are the same reductions over a single table.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence, TYPE_CHECKING

import numpy as np
import pandas as pd

from hcrisis import libc
from hcrisis.coding.codebook import Codebook, load_codebook
from hcrisis.coding.codings import Pieces, Run, Spill
from hcrisis.coding.matcher import compile_codebook
from hcrisis.errors import CorpusError, InputError
from hcrisis.files import PNG_COMPRESS_LEVEL, atomic_path
from hcrisis.coding.similarity import score_by_description
from hcrisis.tables import csv_rows, table_to_csv, write_table

if TYPE_CHECKING:
    from hcrisis.ingest.corpus import Corpus

CODING_COLUMNS = ["segment_id", "code_id", "code_path", "theme_id", "unit", "start", "end",
                  "matched_terms", "hits", "score", "similarity", "primary"]
ATTRIBUTION = ("participant_id", "role_label", "sector", "source_type", "section")
NONE = "(none)"
LABEL_CLEARANCE = 2   # figures: pixels between the widest code label and the left edge


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
    """Each coded unit once per code and ancestor: unit_key (an integer per segment row
    and unit), row, words and code (its codebook order)."""
    lineage = [[codebook.order[a] for a in codebook.ancestors(c.id)] for c in codebook.codes]
    sizes = np.array([len(x) for x in lineage], dtype=np.int64)
    firsts = np.cumsum(sizes) - sizes
    order = codings["order"].to_numpy(dtype=np.int64)
    repeats = sizes[order]
    which = np.repeat(np.arange(len(order)), repeats)
    step = np.arange(len(which)) - np.repeat(np.cumsum(repeats) - repeats, repeats)   # 0, 1, ... per coding
    units, kinds = pd.factorize(codings["unit"].to_numpy(dtype=object))
    row = codings["row"].to_numpy(dtype=np.int64)
    out = pd.DataFrame({"unit_key": (row * max(len(kinds), 1) + units)[which], "row": row[which],
                        "words": codings["words"].to_numpy()[which],
                        "code": np.array([a for x in lineage for a in x], dtype=np.int64)[firsts[order][which] + step]})
    return out.drop_duplicates(["unit_key", "code"]).reset_index(drop=True)


@dataclass
class MatrixCounts:
    """What a matrix table adds up over partitions: per code (codebook order) and value,
    references, segments and words (`counts`), the distinct participants (`people`),
    and the value's segments that are coded (`eligible`, non-interviewer)."""

    counts: pd.DataFrame
    people: pd.DataFrame
    eligible: pd.Series

    def participants(self) -> pd.Series:
        """Distinct participants per code and value."""
        return self.people.groupby(["code", "value"]).size()


class MatrixTotal:
    """`MatrixCounts` added up as partitions arrive. The distinct participants are kept
    as a presence table, one byte per code and (value, participant) pair (values and
    participants numbered here): its size is the matrix's result, codes × participants,
    whatever the number of partitions; a sorted array of code, value and participant
    triples held 8 bytes per triple and grew to ~15 MB at 50M words."""

    def __init__(self) -> None:
        self.counts: pd.DataFrame | None = None
        self.eligible = pd.Series(dtype=np.int64)
        self.values: dict[str, int] = {}
        self.pairs: dict[tuple[int, str], int] = {}      # (value, participant) -> column
        self.pair_values: list[int] = []                  # each column's value
        self.seen = np.zeros((0, 0), dtype=bool)          # code × column

    def add(self, part: MatrixCounts) -> None:
        self.counts = part.counts if self.counts is None else \
            pd.concat([self.counts, part.counts]).groupby(level=[0, 1]).sum()
        self.eligible = self.eligible.add(part.eligible, fill_value=0).astype(np.int64)
        people = part.people
        value = [self.values.setdefault(v, len(self.values)) for v in people["value"].tolist()]
        column = np.fromiter((self._column(v, p) for v, p in zip(value, people["participant"].tolist())),
                             np.int64, len(people))
        code = people["code"].to_numpy(dtype=np.int64)
        self._grow(int(code.max(initial=-1)) + 1, len(self.pair_values))
        self.seen[code, column] = True

    def _column(self, value: int, participant: str) -> int:
        column = self.pairs.setdefault((value, participant), len(self.pairs))
        if column == len(self.pair_values):
            self.pair_values.append(value)
        return column

    def _grow(self, codes: int, columns: int) -> None:
        """Room for `codes` rows and `columns` columns, doubling the columns as they fill."""
        rows, room = self.seen.shape
        if codes > rows or columns > room:
            grown = np.zeros((max(codes, rows), max(columns, 2 * room)), dtype=bool)
            grown[:rows, :room] = self.seen
            self.seen = grown

    def participants(self) -> pd.Series:
        """Distinct participants per code and value: the presence table's columns summed
        by value (no row per participant, which cost ~90 MB at 50M words)."""
        value = np.asarray(self.pair_values, dtype=np.int64)
        order = np.argsort(value, kind="stable")
        values, starts = np.unique(value[order], return_index=True)
        present = self.seen[:, order].view(np.uint8)
        n = np.add.reduceat(present, starts, axis=1, dtype=np.int64) if len(values) else present[:, :0]
        index = pd.MultiIndex.from_product([range(n.shape[0]), np.array(list(self.values), dtype=object)[values]],
                                           names=["code", "value"])
        return pd.Series(n.reshape(-1), index=index, dtype=np.int64)


def matrix_counts(units: pd.DataFrame, segments: pd.DataFrame, attribute: str) -> MatrixCounts:
    """A segments table's `MatrixCounts` by `attribute`; `units` from `with_ancestors`."""
    values_of = segments[attribute].fillna("").astype(str).replace("", NONE).to_numpy(dtype=object)
    eligible = pd.Series(values_of[coded_rows(segments)], dtype=object).value_counts().astype(np.int64)
    rows = units["row"].to_numpy(dtype=np.int64)
    pid = segments.get("participant_id", pd.Series([""] * len(segments))).fillna("").astype(str)
    frame = units.assign(value=values_of[rows], participant=pid.replace("", np.nan).to_numpy(dtype=object)[rows])
    counts = frame.groupby(["code", "value"]).agg(references=("unit_key", "nunique"), segments=("row", "nunique"),
                                                  words=("words", "sum"))
    people = frame.loc[frame["participant"].notna(), ["code", "value", "participant"]].drop_duplicates()
    return MatrixCounts(counts, people, eligible)


def matrix_table(total: MatrixCounts | MatrixTotal, codebook: Codebook, attribute: str) -> pd.DataFrame:
    """Code × attribute value: references, segments, participants, words, row and column %."""
    eligible = total.eligible
    values = sorted(eligible.index, key=lambda v: (v == NONE, v))
    grid = pd.MultiIndex.from_product([range(len(codebook.codes)), values], names=["code", "value"])
    counts = total.counts.assign(participants=total.participants())
    counts = counts[["references", "segments", "participants", "words"]].reindex(grid, fill_value=0)
    counts = counts.fillna(0).astype(int).reset_index()
    ids = np.array([c.id for c in codebook.codes], dtype=object)
    counts.insert(0, "code_id", ids[counts.pop("code").to_numpy()])
    total_refs = counts.groupby("code_id")["references"].transform("sum")
    counts["row_pct"] = np.where(total_refs > 0, 100.0 * counts["references"] / total_refs.where(total_refs > 0, 1),
                                 0.0)
    counts["col_pct"] = 100.0 * counts["segments"] / counts["value"].map(eligible).astype(float)
    counts.insert(1, "code_path", counts["code_id"].map(lambda c: codebook.by_id[c].code_path))
    return counts.rename(columns={"value": attribute})


def matrix(codings: pd.DataFrame, codebook: Codebook, segments: pd.DataFrame, attribute: str) -> pd.DataFrame:
    """Code × attribute value of one segments table and its codings (see `matrix_table`)."""
    return matrix_table(matrix_counts(with_ancestors(codings, codebook), segments, attribute), codebook, attribute)


def cooccurrence_counts(units: pd.DataFrame, codebook: Codebook) -> np.ndarray:
    """Units (sentences when every code codes sentences, else segments) coded by each
    pair of codes (codebook order; the diagonal: by each code); `units` from `with_ancestors`."""
    by_sentence = all(c.unit == "sentence" for c in codebook.codes)
    n = len(codebook.codes)
    pairs = units.drop_duplicates(["unit_key" if by_sentence else "row", "code"])
    key = pairs["unit_key" if by_sentence else "row"].to_numpy()
    order = np.argsort(key, kind="stable")
    code = pairs["code"].to_numpy(dtype=np.int64)[order]
    firsts = np.flatnonzero(np.r_[True, key[order][1:] != key[order][:-1]]) if len(key) else np.zeros(0, np.int64)
    sizes = np.diff(np.r_[firsts, len(key)])
    per = np.repeat(sizes, sizes)                        # each coding: the codings of its unit
    a = np.repeat(np.arange(len(code)), per)
    b = np.repeat(np.repeat(firsts, sizes), per) + np.arange(len(a)) - np.repeat(np.cumsum(per) - per, per)
    return np.bincount(code[a] * n + code[b], minlength=n * n).reshape(n, n).astype(np.int64)


def cooccurrence_table(both: np.ndarray, codebook: Codebook) -> pd.DataFrame:
    """Pairs of codes on the same units: counts and Jaccard (see the module docstring)."""
    ids = [c.id for c in codebook.codes]
    rows = []
    for i, j in zip(*np.nonzero(np.triu(both, 1))):
        a, b = ids[i], ids[j]
        if a in codebook.ancestors(b) or b in codebook.ancestors(a):
            continue
        union = both[i, i] + both[j, j] - both[i, j]
        rows.append((a, b, int(both[i, i]), int(both[j, j]), int(both[i, j]), both[i, j] / union))
    return pd.DataFrame(rows, columns=["code_a", "code_b", "units_a", "units_b", "both", "jaccard"])


def cooccurrence(codings: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Pairs of codes on the same units of one set of codings (see `cooccurrence_table`)."""
    return cooccurrence_table(cooccurrence_counts(with_ancestors(codings, codebook), codebook), codebook)


# ---------------------------------------------------------------- quotations
def highlight(text: str, spans: list[tuple[int, int]], offset: int, escape: Callable[[str], str] | None = None) -> str:
    """`text` with the (merged) spans in **bold**; Markdown's `*` escaped (`escape`: how,
    when the caller knows better, e.g. `str` for text with nothing to escape)."""
    escape = escape or _escape
    merged: list[list[int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    out, pos = [], 0
    for s, e in merged:
        s, e = max(s - offset, 0), min(e - offset, len(text))
        out += [escape(text[pos:s]), "**", escape(text[s:e]), "**"]
        pos = e
    out.append(escape(text[pos:]))
    return "".join(out)


_ESCAPED = re.compile(r"[\\*_]")    # what `_escape` escapes


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_")


def quote_blocks(codings: pd.DataFrame, segments: pd.DataFrame) -> list[str]:
    """Each coding's block of its code's quotation file: the unit, matched terms in bold,
    then its attribution, each followed by a blank line."""
    texts = segments["text"].astype(str).tolist()
    # columns as lists once: a pandas lookup per coding and attribute cost ~70 s at 5M words
    attrs = [(c, segments[c].to_numpy(dtype=object)) for c in ATTRIBUTION if c in segments.columns]
    seen: dict[int, tuple[list[str], Any]] = {}   # a segment's attribution and escape, for its codings
    columns = ("row", "start", "end", "spans", "segment_id", "unit", "score", "similarity", "hits")
    blocks = []
    for row, start, end, spans, segment_id, unit, score, similarity, hits in zip(*(codings[c].tolist()
                                                                                     for c in columns)):
        if row not in seen:
            seen[row] = ([f"{a}: {v}" for a, values in attrs if (v := str(values[row])) not in ("", "nan")],
                         None if _ESCAPED.search(texts[row]) else str)
        who, escape = seen[row]
        quote = highlight(texts[row][start:end], spans, start, escape)
        how = f"score {score:.3f}" + (f" (no rule hit; description similarity {similarity:.3f})" if hits == 0 else "")
        lines = ["> " + ln for ln in quote.splitlines() or [""]]
        blocks.append("\n".join(lines + ["", "— " + "; ".join([f"`{segment_id}` ({unit})", *who, how]), "", ""]))
    return blocks


def quotes_header(code, units: int) -> str:
    """The first lines of a code's quotation file."""
    lines = [f"# {code.label} (`{code.id}`)", "", f"Code path: `{code.code_path}`. "
             f"{units} coded unit(s); matched terms in bold.", ""]
    if code.data.get("definition"):
        lines += [code.data["definition"].strip(), ""]
    return "\n".join(lines) + "\n"


def quotations(codings: pd.DataFrame, codebook: Codebook, segments: pd.DataFrame) -> dict[str, str]:
    """Markdown of the coded units of each code that has codings, by code id (the files
    `write_codings` writes)."""
    blocks = quote_blocks(codings, segments)
    groups = codings.groupby("code_id", sort=False).indices
    return {code_id: quotes_header(codebook.by_id[code_id], len(groups[code_id]))
            + "".join(blocks[i] for i in groups[code_id])[:-1] for code_id in pd.unique(codings["code_id"])}


# ---------------------------------------------------------------- figures
def _pyplot():
    """matplotlib's pyplot on the Agg backend (files only, no display)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save_figure(fig, stem: Path) -> list[Path]:
    """PNG and SVG with fixed metadata and hash salt, so reruns give the same bytes."""
    import matplotlib

    written = []
    with matplotlib.rc_context({"svg.hashsalt": "hcrisis", "svg.fonttype": "none"}):
        for ext, options in _SAVE_OPTIONS.items():
            path = stem.with_suffix(f".{ext}")
            with atomic_path(path) as tmp:
                fig.savefig(tmp, format=ext, dpi=100, **options)
            written.append(path)
    return written


_SAVE_OPTIONS = {"png": {"metadata": {"Software": None}, "pil_kwargs": {"compress_level": PNG_COMPRESS_LEVEL}},
                 "svg": {"metadata": {"Date": None, "Creator": None}}}


def _fixed_positions(ax, title: str, *unlabelled: str) -> None:
    """The title at the top of the axes, and the unlabelled axes' (empty) labels placed,
    so that matplotlib does not measure every tick label at each save to move them
    clear of the ticks (a fifth of the drawing time with a code per row); the title is
    where matplotlib would put it, as no tick labels are above the axes."""
    ax.set_title(title, fontsize=12, y=1.0)
    for name in unlabelled:
        getattr(ax, f"{name}axis").set_label_coords(0.5, 0.5)


def _label_margin(fig, ax, least: float = 0.36) -> float:
    """The left margin (a fraction of the figure's width, at least `least`) that holds the
    widest code label beside its tick: labels are cut to 42 characters, but how wide that
    is depends on the letters and on bold (themes). Measured once, before the margins are
    set, rather than by matplotlib's layout engines at every save."""
    renderer = fig.canvas.get_renderer()
    widest = max((t.get_window_extent(renderer).width for t in ax.get_yticklabels() if t.get_text()), default=0.0)
    tick = ax.yaxis.get_major_ticks()[0] if ax.get_yticks().size else None
    pad = (tick.get_tick_padding() + tick.get_pad()) * fig.dpi / 72 if tick is not None else 0.0
    return max(least, (widest + pad + LABEL_CLEARANCE) / (fig.get_figwidth() * fig.dpi))


def figure_label(codebook: Codebook, code_id: str, width: int = 42) -> str:
    """A code's label for a figure axis, cut to `width` characters."""
    text = codebook.by_id[code_id].label
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


@dataclass
class MatrixFigures:
    """What an attribute's two figures show: references per theme (`bars`) and the
    code × value col_pct (`heat`), code ids as index, the attribute's values as columns."""

    attribute: str
    bars: pd.DataFrame
    heat: pd.DataFrame


def figure_data(mat: pd.DataFrame, codebook: Codebook, attribute: str) -> MatrixFigures | None:
    """The figures' data of an attribute's matrix, or None when no segment has a value.

    Segments without a value ("(none)") stay in the matrix table but not in the
    figures, which compare the attribute's values.
    """
    valued = mat[mat[attribute] != NONE]
    if valued.empty:      # the matrix table says so, there is nothing to draw
        return None
    themes = [c.id for c in codebook.themes]
    bars = valued[valued["code_id"].isin(themes)].pivot(index="code_id", columns=attribute,
                                                        values="references").reindex(themes)
    heat = valued.pivot(index="code_id", columns=attribute, values="col_pct").reindex([c.id for c in codebook.codes])
    return MatrixFigures(attribute, bars, heat)


def write_figure_tables(data: MatrixFigures, codebook: Codebook, out: Path) -> list[Path]:
    """The data tables beside the figures (`figure_code_frequencies_<attribute>.csv`,
    `figure_matrix_<attribute>.csv`), with the codes' labels."""
    written = []
    for name, frame in (("code_frequencies", data.bars), ("matrix", data.heat)):
        frame = frame.rename_axis(None, axis=1).reset_index().assign(
            label=lambda d: [codebook.by_id[c].label for c in d["code_id"]])
        columns = ["code_id", "label", *[c for c in frame.columns if c not in ("code_id", "label")]]
        written += write_table(frame[columns], out / f"figure_{name}_{data.attribute}", markdown=False)
    return written


def draw_figures(data: MatrixFigures, codebook: Codebook, out: Path) -> list[Path]:
    """Theme references by value (bars) and the code × value heatmap, as PNG and SVG;
    axes show the codes' labels, in fonts that stay legible when the figure is printed
    at the width of a page."""
    plt = _pyplot()
    attribute, bars, heat = data.attribute, data.bars, data.heat
    fig, ax = plt.subplots(figsize=(9, max(5.0, 0.35 * len(bars) + 1.5)))
    bars.iloc[::-1].set_axis([figure_label(codebook, c) for c in bars.index[::-1]]).plot.barh(ax=ax, width=0.8)
    ax.set_xlabel("coded units (references)", fontsize=11)
    ax.set_ylabel("")
    ax.tick_params(labelsize=10)
    ax.legend(fontsize=10, title=attribute, title_fontsize=10)
    _fixed_positions(ax, f"Theme frequencies by {attribute}", "y")
    fig.subplots_adjust(left=_label_margin(fig, ax), right=0.97, top=0.94, bottom=0.08)
    written = save_figure(fig, out / f"figure_code_frequencies_{attribute}")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(9, max(4.0, 0.24 * len(heat) + 2.2)))
    im = ax.imshow(heat.to_numpy(dtype=float), aspect="auto", cmap="viridis")
    ax.set_xticks(range(heat.shape[1]), heat.columns, rotation=30, ha="right", fontsize=10)
    ax.set_yticks(range(heat.shape[0]), [figure_label(codebook, c) for c in heat.index], fontsize=9)
    for tick, code_id in zip(ax.get_yticklabels(), heat.index):   # themes in bold, their codes below
        tick.set_fontweight("bold" if codebook.by_id[code_id].depth == 0 else "normal")
    _fixed_positions(ax, f"Segments coded (% of the {attribute}'s segments)", "x", "y")
    fig.colorbar(im, ax=ax, label="% of segments")
    fig.subplots_adjust(left=_label_margin(fig, ax), right=0.97, top=1 - 0.5 / fig.get_figheight(),
                        bottom=1.5 / fig.get_figheight())
    written += save_figure(fig, out / f"figure_matrix_{attribute}")
    plt.close(fig)
    return written


# ---------------------------------------------------------------- outputs
def guard_quotes(codings: pd.DataFrame, segments: pd.DataFrame, out: Path, allow_identifiers: bool,
                 scanner=None) -> None:
    """Refuse the quotations export if a coded unit holds identifiers (`hcrisis.ingest.privacy`)."""
    from hcrisis.ingest.privacy import guard_export

    guard_export(pd.DataFrame({"segment_id": codings["segment_id"], "quote": unit_texts(codings, segments)}),
                 Path(out) / "quotes", allow_identifiers, scanner)


def unit_texts(codings: pd.DataFrame, segments: pd.DataFrame) -> list[str]:
    """The text of each coded unit."""
    texts = segments["text"].astype(str).tolist()
    return [texts[r][a:b] for r, a, b in zip(codings["row"].tolist(), codings["start"].tolist(),
                                             codings["end"].tolist())]


def pieces(codings: pd.DataFrame, segments: pd.DataFrame, *, quotes: bool = True, raw: bool = False) -> Pieces:
    """The codings of a segments table as `Pieces` of the output files: codings.csv lines,
    quotation blocks (if `quotes`) and the units' texts (if `raw`, for the privacy guard)."""
    texts = {"csv": csv_rows(codings[CODING_COLUMNS])}
    if quotes:
        texts["quotes"] = quote_blocks(codings, segments)
    if raw:
        texts["raw"] = unit_texts(codings, segments)
    return Pieces.of(codings["segment_id"].to_numpy(dtype=object), codings["start"].to_numpy(),
                     codings["order"].to_numpy(), texts)


def spilled_outputs(spill: Spill, codebook: Codebook, out: Path, quotes: bool) -> list[Path]:
    """codings.csv and (if `quotes`) quotes/<code_id>.md from sorted pieces."""
    def header(code: int, units: int) -> tuple[str, str]:
        c = codebook.codes[code]
        return f"{c.id}.md", quotes_header(c, units)

    return spill.write(out / "codings.csv", _csv_header(), out / "quotes", header if quotes else None)


def _csv_header() -> str:
    return table_to_csv(pd.DataFrame(columns=CODING_COLUMNS))


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
    """codings.csv and (if `quotes`) quotes/<code_id>.md, stale quotation files removed
    (written as `hcrisis code` writes a partition's)."""
    with Spill(Path(out)) as spill:
        spill.add(pieces(codings, segments, quotes=quotes))
        return spilled_outputs(spill, codebook, Path(out), quotes)


def write_matrices(codings: pd.DataFrame, codebook: Codebook, segments: pd.DataFrame, out: Path,
                   attributes: Sequence[str]) -> list[Path]:
    """matrix_<attribute> tables and figures for each attribute."""
    out = Path(out)
    tables, data = _matrix_tables(_matrices(codings, codebook, segments, attributes), codebook, out)
    return tables + [p for d in data for p in draw_figures(d, codebook, out)]


def start_matrices(codings: pd.DataFrame, codebook: Codebook, segments: pd.DataFrame, out: Path,
                   attributes: Sequence[str]) -> tuple[list[Path], Callable[[], list[Path]]]:
    """`write_matrices` with the figures drawn in forked processes (`start_matrix_figures`):
    the tables written now, and a function that waits for the figures and returns their paths."""
    return _start_matrices(_matrices(codings, codebook, segments, attributes), codebook, Path(out))


def _matrices(codings, codebook, segments, attributes) -> list[tuple[pd.DataFrame, str]]:
    return [(matrix(codings, codebook, segments, a), a) for a in attributes]


def _start_matrices(mats, codebook: Codebook, out: Path) -> tuple[list[Path], Callable[[], list[Path]]]:
    tables, data = _matrix_tables(mats, codebook, out)
    return tables, start_matrix_figures(data, codebook, out)


def _matrix_tables(mats, codebook: Codebook, out: Path) -> tuple[list[Path], list[MatrixFigures]]:
    """The matrix tables and the figures' data tables, written; the figures' data (none for
    an attribute no segment has)."""
    tables = [p for mat, attribute in mats
              for p in write_table(mat, out / f"matrix_{attribute}", title=f"Matrix coding: codes by {attribute}")]
    data = [d for mat, attribute in mats if (d := figure_data(mat, codebook, attribute)) is not None]
    return tables + [p for d in data for p in write_figure_tables(d, codebook, out)], data


def start_matrix_figures(data: list[MatrixFigures], codebook: Codebook, out: Path) -> Callable[[], list[Path]]:
    """Start drawing the attributes' figures (`draw_figures`) in a forked process, which
    imports matplotlib (a quarter of the drawing) and forks one more per CPU to share the
    attributes; return a function that waits for them and gives the paths in the
    attributes' order. Drawing is most of the time matrices take; this process goes on."""
    from hcrisis.workers import start_in_background

    return start_in_background(_draw_shared, data, codebook, out) if data else list


def _draw_shared(data: list[MatrixFigures], codebook: Codebook, out: Path) -> list[Path]:
    from hcrisis.workers import start_in_background

    _pyplot()   # before the fork: the other drawing processes inherit it
    processes = min(len(data), os.cpu_count() or 1)
    others = [start_in_background(_draw_share, data[k::processes], codebook, out) for k in range(1, processes)]
    by_attribute = dict(_draw_share(data[0::processes], codebook, out))
    for wait in others:
        by_attribute.update(wait())
    return [p for d in data for p in by_attribute[d.attribute]]


def _draw_share(share: list[MatrixFigures], codebook: Codebook, out: Path) -> list[tuple[str, list[Path]]]:
    return [(d.attribute, draw_figures(d, codebook, out)) for d in share]


# ---------------------------------------------------------------- by partition
@dataclass
class CodeRun:
    codebook: Codebook
    codings: int            # rows of codings.csv
    coded_segments: int
    segments: int
    written: list[Path]


@dataclass
class CodeJob:
    source: Any
    codebook: Codebook
    attributes: tuple[str, ...]
    guarded: bool           # the privacy guard reads the units' texts
    folder: Path | None = None   # where the sorted runs are written, if the partitions are coded on this machine


@dataclass
class CodedPart:
    """What a partition leaves for the outputs: its number of segment rows, its codings'
    `Pieces` (or, written where it was coded, their `Run`), its matrix counts by attribute and co-occurrence counts, and (guarded)
    its speakers (for the privacy guard's names)."""

    rows: int
    pieces: Pieces | Run
    matrices: list[MatrixCounts]
    pairs: np.ndarray
    speakers: pd.DataFrame | None
    ids: np.ndarray           # hashes of its segment ids (`hcrisis.engine.partitions.check_unique_ids`)


def _coded_segments(part, job: CodeJob) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A partition's segments table and codings (only its coded rows tokenised)."""
    from hcrisis.engine.stages import tokens_of_rows

    segments = job.source.segments(part)
    needed = np.zeros(len(segments), dtype=bool)
    needed[coded_rows(segments)] = True
    return segments, apply_codebook(job.codebook, segments, tokens_of_rows(segments, needed))


def code_partial(part, job: CodeJob) -> CodedPart:
    """Code a partition and reduce it to a `CodedPart`."""
    segments, codings = _coded_segments(part, job)
    units = with_ancestors(codings, job.codebook)
    speakers = segments[["speaker", "participant_id"]].drop_duplicates() if job.guarded else None
    from hcrisis.engine.partitions import id_hashes

    sorted_pieces = pieces(codings, segments, raw=job.guarded)
    return CodedPart(len(segments), sorted_pieces.write(job.folder) if job.folder else sorted_pieces,
                     [matrix_counts(units, segments, a) for a in job.attributes],
                     cooccurrence_counts(units, job.codebook), speakers, id_hashes(segments))


def codings_partial(part, job: CodeJob) -> tuple[pd.DataFrame, int]:
    """A partition's codings (rows of its own segments table) and its number of rows."""
    segments, codings = _coded_segments(part, job)
    return codings, len(segments)


def merge_codings(partials: list[tuple[pd.DataFrame, int]], segment_ids: np.ndarray) -> pd.DataFrame:
    """Codings of every partition, rows shifted to the whole table's, in `apply_codebook`'s
    order (a unit's coding depends on its own words and the codebook only: the description
    idf comes from the codebook)."""
    first = np.cumsum([0] + [n for _, n in partials])
    if first[-1] != len(segment_ids):    # rows are looked up in the table read before
        raise CorpusError("the corpus's files changed while it was read", fix="run the command again")
    df = pd.concat([c.assign(row=c["row"] + first[i]) for i, (c, _) in enumerate(partials)], ignore_index=True)
    rank = pd.factorize(segment_ids, sort=True)[0][df["row"].to_numpy()]
    return df.take(np.lexsort((df["order"].to_numpy(), df["start"].to_numpy(), rank))).reset_index(drop=True)


def code_corpus(corpus, codebook: Codebook, segment_ids: np.ndarray, engine=None, partitions=None) -> pd.DataFrame:
    """`apply_codebook` over a corpus (folder or loaded) partition by partition on an engine,
    every coding held in memory (a study's corpus: its steps read the codings);
    `segment_ids` of the whole segments table. `hcrisis code` writes its outputs from
    the partitions without holding them (`code_partitions`)."""
    from hcrisis.engine import Engine
    from hcrisis.engine.partitions import open_source

    source = open_source(corpus)
    partials = list((engine or Engine()).map(codings_partial, partitions or source.partitions(),
                                             CodeJob(source, codebook, (), False)))
    return merge_codings(partials, segment_ids)


@dataclass
class CodedCorpus:
    """A corpus's codings merged from its partitions' `CodedPart`s: their sorted runs
    (`spill`), the segment rows read, matrix counts by attribute and co-occurrence
    counts added, and (guarded) the speakers."""

    codebook: Codebook
    attributes: tuple[str, ...]
    spill: Spill
    rows: int = 0
    matrices: list[MatrixTotal] = field(default_factory=list)
    pairs: Any = 0
    speakers: list[pd.DataFrame] = field(default_factory=list)

    def add(self, part: CodedPart) -> None:
        self.spill.add(part.pieces)
        self.rows, self.pairs = self.rows + part.rows, self.pairs + part.pairs
        self.matrices = self.matrices or [MatrixTotal() for _ in part.matrices]
        for total, counts in zip(self.matrices, part.matrices):
            total.add(counts)
        self.speakers += [part.speakers] if part.speakers is not None else []

    def matrix(self, attribute: str) -> pd.DataFrame:
        return matrix_table(self.matrices[self.attributes.index(attribute)], self.codebook, attribute)

    def cooccurrence(self) -> pd.DataFrame:
        return cooccurrence_table(self.pairs, self.codebook)


@contextmanager
def code_partitions(source, codebook: Codebook, out: Path, attributes: Sequence[str], *, guarded: bool,
                    engine=None, partitions=None) -> Iterator[CodedCorpus]:
    """Code a corpus source (`hcrisis.engine.partitions`) partition by partition on `engine`
    (default: in this process; `partitions`: the source's own unless given) into a
    `CodedCorpus`, its codings in sorted runs; their temporary files (beside `out`) are
    removed on leaving."""
    from hcrisis.engine import Engine
    from hcrisis.engine.partitions import check_unique_ids

    forked = getattr(engine, "processes", 1) > 1
    if forked:   # built once here, inherited by the forked processes
        from hcrisis.text.tokens import shared_pipeline
        shared_pipeline()
    with Spill(out) as spill:
        # forked processes share this machine's disk: they write their runs themselves
        job = CodeJob(source, codebook, tuple(attributes), guarded, spill.folder if forked else None)
        coded = CodedCorpus(codebook, tuple(attributes), spill)
        parts, ids = partitions or source.partitions(), []
        for part in (engine or Engine()).map(code_partial, parts, job):
            coded.add(part)
            ids.append(part.ids)
            libc.release_freed_memory()
        check_unique_ids(source, parts, ids)   # before the merge, which takes a segment to be in one run
        yield coded


def run_code(corpus: str | Path | Corpus, codebook: str | Path, out: str | Path, *,
             allow_identifiers: bool = False, attributes: Sequence[str] | None = None, engine=None) -> CodeRun:
    """`hcrisis code`: code the corpus (folder, packed or loaded) partition by partition
    (`code_partitions`, on `engine`), check the quotations, then write every output; matrix
    coding by `attributes` (default: every declared attribute). No partition's text is
    kept past its own reduction."""
    from hcrisis.engine.partitions import open_source

    book, source, out = load_codebook(codebook), open_source(corpus), Path(out)
    by = _matrix_attributes(source, attributes)
    with code_partitions(source, book, out, by, guarded=not allow_identifiers, engine=engine) as coded:
        if coded.rows == 0:
            raise CorpusError("corpus has no text segments", path=source.path,
                              fix="list at least one non-empty document or table")
        if not allow_identifiers:
            _guard_spilled(coded.spill, source, pd.concat(coded.speakers, ignore_index=True).drop_duplicates(), out)
        written = spilled_outputs(coded.spill, book, out, quotes=True)
        tables, figures_drawn = _start_matrices([(coded.matrix(a), a) for a in by], book, out)
        written += tables + write_table(coded.cooccurrence(), out / "cooccurrence", title="Code co-occurrence")
        return CodeRun(book, coded.spill.codings, coded.spill.segments, coded.rows, written + figures_drawn())


def _matrix_attributes(source, attributes: Sequence[str] | None) -> list[str]:
    """The attributes to tabulate: those asked for (declared, or a segments column that
    can be selected on), else every declared one."""
    from hcrisis.ingest.corpus import SEGMENT_COLUMNS
    from hcrisis.ingest.segments import SELECTABLE

    declared = [c for c in source.columns() if c not in SEGMENT_COLUMNS]
    unknown = [a for a in attributes or () if a not in declared and a not in SELECTABLE]
    if unknown:
        raise InputError(f"unknown attribute '{unknown[0]}' (declared: {', '.join(declared) or 'none'})",
                         path=source.path, fix="name a declared attribute with --by")
    return list(attributes) if attributes else declared


def _guard_spilled(spill: Spill, source, speakers: pd.DataFrame, out: Path) -> None:
    """The privacy guard of `guard_quotes` over the spilled units' texts, in order, with the
    names of the whole corpus (its registry, manifest and every partition's speakers)."""
    from hcrisis.ingest.privacy import Scanner, guard_export

    scanner = Scanner.from_corpus(source.outline_corpus(speakers))
    for units in spill.units():
        guard_export(units, out / "quotes", False, scanner)


def theme_summary(codings: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Units coded per theme (counting codings of the codes beneath it)."""
    n = with_ancestors(codings, codebook).groupby("code")["unit_key"].nunique()
    rows = [(t.id, t.label, int(n.get(codebook.order[t.id], 0))) for t in codebook.themes]
    return pd.DataFrame(rows, columns=["theme_id", "label", "units"])
