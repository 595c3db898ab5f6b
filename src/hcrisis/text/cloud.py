"""Word clouds of study segments (thesis Figures 5.1–5.6), drawn from frequency tables.

A cloud is always drawn from a table (word, count — the frequency table of
`hcrisis.text.freq`), never from raw text, so the figure and the CSV beside it
cannot disagree. Output is deterministic: a fixed layout seed, the bundled
DejaVu Sans Bold font (`data/fonts/`, DejaVu 2.37 as in Debian's
fonts-dejavu-core, Bitstream Vera licence in LICENSE-DejaVu.txt) and a fixed
canvas; the PNG holds only image data and its dpi (no time or text chunks). The layout is computed on a small canvas and the PNG is rendered at
`scale` times its size straight from wordcloud's PIL image (with 300 dpi
metadata), which is several times faster than a large canvas or a
matplotlib figure. The SVG embeds a WOFF subset of the font, saved without
fontTools' timestamp, so it renders the same anywhere and is byte-stable.
The clouds of a run are drawn in forked worker processes (`render_all`).

A comparison cloud sizes each word by its keyness (|G²|, Rayson & Garside
2000, or |log ratio|, Hardie 2014; see `hcrisis.text.keyness`) between two
segments and colours it by the segment it favours.
"""

from __future__ import annotations

import base64
import io
import os
import zlib
from dataclasses import dataclass, fields
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import pandas as pd

from hcrisis.errors import InputError
from hcrisis.files import PNG_COMPRESS_LEVEL, write_atomic
from hcrisis.ingest.segments import Segment
from hcrisis.tables import write_table
from hcrisis.text.freq import FreqSettings

if TYPE_CHECKING:
    from hcrisis.ingest.corpus import Corpus
    from hcrisis.text.terms import TermSettings

FONT = "data/fonts/DejaVuSans-Bold.ttf"
BASE_FONT = "data/fonts/DejaVuSans-Bold-base.woff"   # FONT's subset for BASE_CHARS
# Colour-blind-safe dark colours (Okabe & Ito 2008), one per word by a hash of
# the word, so a word keeps its colour across the six figures.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#000000", "#E69F00", "#56B4E9")
# Comparison clouds: first segment blue, second vermilion.
SIDE_COLOURS = ("#0072B2", "#D55E00")
MEASURES = ("g2", "log_ratio")
LAYOUT_TABLES = ["GPOS", "GSUB", "GDEF", "kern", "FFTM"]
LEGEND_BAND = 0.08    # comparison clouds: legend band height, fraction of the cloud's
MAX_PROCESSES = 2     # clouds drawn at once (render_all)
LEGEND_MARK = "■"     # before each comparison legend's label, in the side's colour
# embedded in every SVG: printable ASCII and the legend's mark, so that the usual
# clouds need no font subsetting (fontTools) when they are drawn
BASE_CHARS = "".join(map(chr, range(0x20, 0x7F))) + LEGEND_MARK


@dataclass(frozen=True)
class CloudStyle:
    """Fixed drawing settings (study file: `settings.clouds`)."""

    # Layout canvas in pixels; the PNG is width·scale by height·scale (1600×1000).
    # wordcloud lays words out on the canvas and draws them `scale` times larger:
    # a quarter of the 800×500 canvas's layout time, the same image to the eye.
    width: int = 400
    height: int = 250
    scale: int = 4
    dpi: int = 300
    max_words: int = 100
    random_state: int = 42
    background: str = "white"
    prefer_horizontal: float = 0.9
    # Largest font as a share of the layout height (0.3: what wordcloud's own
    # default picks on these clouds by laying out the top two words first,
    # a third of each cloud's drawing time). A word too long for it is made
    # smaller until it fits, as wordcloud does with every word.
    max_font_share: float = 0.3

    @classmethod
    def from_settings(cls, settings: dict, path: Path | None = None) -> "CloudStyle":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise InputError(f"unknown cloud setting(s): {', '.join(unknown)}", path=path,
                             fix=f"use only {', '.join(sorted(known))} under settings.clouds")
        for key, value in settings.items():
            if key in SETTING_RANGES:
                kind, lo, hi = SETTING_RANGES[key]
                if isinstance(value, bool) or not isinstance(value, kind) or not lo <= value <= hi:
                    raise InputError(f"settings.clouds.{key} is {value!r}", path=path,
                                     fix=f"use a number from {lo} to {hi}")
        return cls(**settings)


# Ranges of the numeric drawing settings: a canvas or scale past these asks
# for gigabytes of image, a user's typo rather than a figure.
SETTING_RANGES: dict[str, tuple[type | tuple[type, ...], float, float]] = {
    "width": (int, 50, 4000), "height": (int, 50, 4000), "scale": (int, 1, 16), "dpi": (int, 50, 1200),
    "max_words": (int, 1, 2000), "random_state": (int, 0, 2**32 - 1),
    "prefer_horizontal": ((int, float), 0, 1), "max_font_share": ((int, float), 0.01, 1),
}


def font_path() -> str:
    return str(resources.files("hcrisis").joinpath(FONT))


def top_words(table: pd.DataFrame, value: str, max_words: int) -> pd.DataFrame:
    """The `max_words` rows with the largest `value`, ties broken by word."""
    missing = [c for c in ("word", value) if c not in table.columns]
    if missing:
        raise InputError(f"frequency table has no column(s) {', '.join(missing)}",
                         fix="pass a table from hcrisis.text.freq (columns word, count, ...)")
    rows = table[table[value] > 0]
    rows = rows.sort_values([value, "word"], ascending=[False, True], kind="mergesort")
    return rows.head(max_words).reset_index(drop=True)


def word_colour(word: str) -> str:
    return PALETTE[zlib.crc32(word.encode("utf-8")) % len(PALETTE)]


@dataclass
class Rendered:
    png: bytes
    svg: str
    table: pd.DataFrame   # the words given to the cloud, with font_size and drawn


@dataclass
class CloudJob:
    """One cloud to draw: `words` sized by their column `value`, in `colours`, and
    `legend` (text, colour) pairs written in a band below the cloud."""

    words: pd.DataFrame
    value: str
    colours: dict[str, str]
    style: CloudStyle
    title: str | None = None
    legend: list[tuple[str, str]] | None = None

    def __post_init__(self):
        # checked here, in the calling process, rather than in a worker
        if self.words.empty:
            raise InputError("no words to draw", fix="choose a segment with counted words")


def render(job: CloudJob) -> Rendered:
    """Lay out a cloud and render PNG bytes and SVG text."""
    from wordcloud import WordCloud

    words, value, colours, style, title, legend = (job.words, job.value, job.colours, job.style,
                                                   job.title, job.legend)
    wc = WordCloud(font_path=font_path(), width=style.width, height=style.height,
                   scale=style.scale, max_words=style.max_words, random_state=style.random_state,
                   background_color=style.background, prefer_horizontal=style.prefer_horizontal,
                   max_font_size=max(1, round(style.max_font_share * style.height)),
                   color_func=lambda word, **_: colours[word])
    wc.generate_from_frequencies(dict(zip(words["word"], words[value].astype(float))))
    sizes = {w: int(size * style.scale) for (w, _), size, *_ in wc.layout_}
    table = words.copy()
    table["font_size"] = [sizes.get(w, 0) for w in table["word"]]
    table["drawn"] = table["font_size"] > 0
    image, svg = wc.to_image(), wc.to_svg(embed_font=False)
    chars = {ch for (word, _), *_ in wc.layout_ for ch in word}
    if legend:
        image, svg = _legend_band(image, svg, legend, style)
        chars |= {ch for text, _ in legend for ch in text}
    buf = io.BytesIO()
    image.save(buf, format="PNG", dpi=(style.dpi, style.dpi), compress_level=PNG_COMPRESS_LEVEL)
    return Rendered(buf.getvalue(), _finish_svg(svg, "".join(sorted(chars)), title), table)


def _legend_band(image, svg: str, legend: list[tuple[str, str]], style: CloudStyle):
    """Add a band below the cloud (PNG and SVG alike) with the legend's coloured labels:
    side by side when they fit the width, else one per line (segment labels are long),
    in a font shrunk only if one label alone is wider than the cloud."""
    from xml.sax.saxutils import escape   # here: it imports urllib, a cost on every rerun

    from PIL import Image, ImageDraw, ImageFont

    width, height = image.size
    line = round(height * LEGEND_BAND)
    size = round(line * 0.6)
    font = ImageFont.truetype(font_path(), size)
    lengths = [font.getlength(text) for text, _ in legend]
    if max(lengths) + size > width:
        size = int(size * (width - size) / (max(lengths) + size))
        font = ImageFont.truetype(font_path(), size)
        lengths = [font.getlength(text) for text, _ in legend]
    one_line = sum(lengths) + size * len(legend) <= width
    places, x = [], size // 2
    for i, n in enumerate(lengths):
        places.append((x, height + line // 2) if one_line else (size // 2, height + line * i + line // 2))
        x += round(n) + size
    band = line if one_line else line * len(legend)
    canvas = Image.new(image.mode, (width, height + band), style.background)
    canvas.paste(image, (0, 0))
    draw, items = ImageDraw.Draw(canvas), []
    for (text, colour), (x, y) in zip(legend, places):
        draw.text((x, y), text, fill=colour, font=font, anchor="lm")
        items.append(f'<text x="{x}" y="{y}" dominant-baseline="middle" '
                     f'font-size="{size}" style="fill:{colour}">{escape(text)}</text>')
    svg = svg.replace(f'height="{height}"', f'height="{height + band}"', 1)
    svg = svg.replace("</svg>", "\n".join([*items, "</svg>"]))
    # the background rect is 100% high, so it covers the band too
    return canvas, svg


def _finish_svg(svg: str, chars: str, title: str | None) -> str:
    """A title and a byte-stable embedded font subset for `chars` after the <svg> tag."""
    from xml.sax.saxutils import escape

    head, rest = svg.split("\n", 1)
    extra = [f"<title>{escape(title)}</title>"] if title else []
    extra.append(_font_face(font_chars(chars)))
    return "\n".join([head, *extra, rest]) + "\n"


def font_chars(chars: str) -> str:
    """The characters to embed for a cloud drawing `chars`: printable ASCII plus any
    others, so most clouds share one font subset, made once (`_font_face` is cached)."""
    return "".join(sorted(set(BASE_CHARS) | set(chars)))


@lru_cache(maxsize=8)
def _font_face(text: str) -> str:
    """An @font-face rule with a WOFF subset of the bundled font for `text`
    (for the base characters, the subset shipped beside the font)."""
    if text == font_chars(""):
        data = resources.files("hcrisis").joinpath(BASE_FONT).read_bytes()
    else:
        data = font_subset(text)
    return ("<style>@font-face{font-family:'DejaVu Sans';font-weight:bold;font-style:normal;"
            f'src:url("data:font/woff;base64,{base64.b64encode(data).decode("ascii")}")format("woff");}}</style>')


def font_subset(text: str) -> bytes:
    """A WOFF subset of the bundled font with the glyphs of `text`.

    wordcloud's own `embed_font` lets fontTools stamp the current time into
    the font's head table, so its SVG changes every second; here the
    timestamp is kept from the source font. `make font` writes the subset
    of the base characters to `BASE_FONT`, which saves importing fontTools
    (a fifth of a second) in every run.
    """
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options(hinting=False, desubroutinize=True, ignore_missing_glyphs=True)
    font = TTFont(font_path(), recalcTimestamp=False)
    # Parsing the OpenType layout tables costs 0.3 s a cloud; the SVG's
    # positions come from Pillow's layout anyway.
    for tag in LAYOUT_TABLES:
        if tag in font:
            del font[tag]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    font.flavor = "woff"
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


def write_base_font() -> Path:
    """(Re)write the shipped subset of the base characters (`make font`)."""
    return write_atomic(Path(str(resources.files("hcrisis").joinpath(BASE_FONT))),
                        font_subset(font_chars("")))


def render_all(jobs: list[CloudJob], processes: int | None = None) -> list[Rendered]:
    """`render` every job, in order (see `start_rendering`)."""
    return start_rendering(jobs, processes)()


def start_rendering(jobs: list[CloudJob], processes: int | None = None,
                    background: bool = False) -> Callable[[], list[Rendered]]:
    """Start rendering `jobs` in forked worker processes (default: one per CPU, at
    most `MAX_PROCESSES`; with `background`, at a lower CPU priority:
    `hcrisis.workers.background_worker`) and return a function that waits for
    them and gives the results in order; without fork, or with one process that
    is not `background`, the jobs are rendered when it is called. Each cloud has
    its own seeded layout, so the bytes do not depend on where it was drawn."""
    import multiprocessing

    # imported and made once here, inherited by the workers
    import wordcloud  # noqa: F401
    _font_face(font_chars(""))

    processes = min(processes or os.cpu_count() or 1, MAX_PROCESSES, len(jobs))
    # one job is drawn here when asked for, unless it is background work (the caller goes on)
    if not processes or (processes == 1 and not background) or "fork" not in multiprocessing.get_all_start_methods():
        return lambda: [render(job) for job in jobs]
    from concurrent.futures import ProcessPoolExecutor

    from hcrisis.workers import background_worker, die_with_parent

    pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"),
                               initializer=background_worker if background else die_with_parent,
                               initargs=(os.getpid(),))
    futures = [pool.submit(render, job) for job in jobs]

    def results() -> list[Rendered]:
        try:
            return [f.result() for f in futures]
        finally:
            pool.shutdown()
    return results


def write_figure(rendered: Rendered, stem: str | Path) -> list[Path]:
    """`<stem>.png`, `<stem>.svg` and the data table `<stem>.csv`."""
    stem = Path(stem)
    return [write_atomic(stem.with_suffix(".png"), rendered.png),
            write_atomic(stem.with_suffix(".svg"), rendered.svg),
            *write_table(rendered.table, stem, markdown=False)]


def cloud_job(table: pd.DataFrame, style: CloudStyle = CloudStyle(), title: str | None = None) -> CloudJob:
    """The cloud of a frequency table (columns word, count), sized by count."""
    words = top_words(table, "count", style.max_words)
    return CloudJob(words, "count", {w: word_colour(w) for w in words["word"]}, style, title)


def plot_cloud(table: pd.DataFrame, stem: str | Path, style: CloudStyle = CloudStyle(),
               title: str | None = None) -> list[Path]:
    """Word cloud of a frequency table (columns word, count), sized by count."""
    return write_figure(render(cloud_job(table, style, title)), stem)


def check_measure(measure: str) -> None:
    if measure not in MEASURES:
        raise InputError(f"unknown keyness measure '{measure}'", fix=f"use one of {', '.join(MEASURES)}")


def comparison_table(keyness: pd.DataFrame, labels: tuple[str, str], measure: str = "g2",
                     max_words: int = 100) -> pd.DataFrame:
    """Words of a keyness table (hcrisis.text.keyness.keyness) sized by |measure|.

    Items favouring neither side are left out; `score` is |G²| or |log ratio|.
    """
    check_measure(measure)
    table = keyness[keyness["favours"].isin(labels)].rename(columns={"item": "word"})
    table = table.assign(score=table[measure].abs())
    keep = ["word", "score", "favours", "count_a", "count_b", "g2", "log_ratio", "p_adjusted"]
    return top_words(table[[c for c in keep if c in table.columns]], "score", max_words)


def comparison_job(keyness: pd.DataFrame, labels: tuple[str, str], measure: str = "g2",
                   style: CloudStyle = CloudStyle(), title: str | None = None,
                   names: tuple[str, str] | None = None) -> CloudJob:
    """Comparison cloud: words sized by |keyness|, coloured by the segment they favour.

    `labels` are the values of the keyness table's `favours` column (segment
    ids); `names` are what the legend calls the two sides (the segments'
    labels), by default the ids themselves.
    """
    words = comparison_table(keyness, labels, measure, style.max_words)
    side = dict(zip(labels, SIDE_COLOURS))
    colours = {w: side[f] for w, f in zip(words["word"], words["favours"])}
    legend = [(f"{LEGEND_MARK} more frequent in {name}", side[label]) for label, name in zip(labels, names or labels)]
    return CloudJob(words, "score", colours, style, title, legend)


def plot_comparison(keyness: pd.DataFrame, stem: str | Path, labels: tuple[str, str],
                    measure: str = "g2", style: CloudStyle = CloudStyle(),
                    title: str | None = None) -> list[Path]:
    """Comparison cloud: words sized by |keyness|, coloured by the segment they favour."""
    return write_figure(render(comparison_job(keyness, labels, measure, style, title)), stem)


def write_figures(jobs: list[tuple[Path, CloudJob]]) -> list[Path]:
    """Draw every (stem, job) and write the figures in order."""
    return start_figures(jobs)()


def start_figures(jobs: list[tuple[Path, CloudJob]], background: bool = False) -> Callable[[], list[Path]]:
    """Start drawing every (stem, job) (`start_rendering`); the returned function
    waits for the drawings, writes the figures in order and returns their paths."""
    results = start_rendering([job for _, job in jobs], background=background)
    return lambda: [p for (stem, _), r in zip(jobs, results()) for p in write_figure(r, stem)]


def figure_stem(folder: Path, seg: Segment) -> Path:
    """fig5_1_all (the thesis's figure number, then the segment), else cloud_<segment>."""
    name = f"fig{seg.figure.replace('.', '_')}_{seg.id}" if seg.figure else f"cloud_{seg.id}"
    return Path(folder) / name


def compare_stem(folder: Path, pair: tuple[str, str]) -> Path:
    return Path(folder) / f"compare_{pair[0]}_{pair[1]}"


def run_cloud(corpus: str | Path | Corpus, segments: Sequence[Segment], out: str | Path, *,
              settings: FreqSettings = FreqSettings(), style: CloudStyle = CloudStyle(),
              compare: bool = False, measure: str = "g2", terms: TermSettings | None = None,
              allow_identifiers: bool = False) -> list[Path]:
    """`hcrisis cloud`: a cloud of each segment (`cloud_<segment>`, or the study's figure
    name), or with `compare` one comparison cloud of the two segments sized by keyness;
    with `terms`, clouds of used terms (multi-word terms counted as single items). A cloud
    whose words include an identifier is refused unless `allow_identifiers`."""
    from hcrisis.ingest.corpus import as_corpus
    from hcrisis.ingest.privacy import item_guard
    from hcrisis.text.freq import count_words

    check_measure(measure)
    if compare and len(segments) != 2:
        raise InputError(f"a comparison cloud needs two segments, not {len(segments)}",
                         fix="select two, e.g. --where sector=x --where sector=y --compare")
    if compare and terms is not None:
        raise InputError("--terms draws frequency clouds, not comparisons", fix="leave out --compare or --terms")
    c = as_corpus(corpus)
    guard = item_guard(c, allow_identifiers)
    counter = count_words(c, settings, segments)
    folder = Path(out)
    if terms is not None:
        return terms_clouds(counter, segments, folder, style, terms, guard)
    if compare:
        pair = (segments[0].id, segments[1].id)
        table = counter.keyness(*segments, labels=pair)
        guard(comparison_table(table, pair, measure, style.max_words)["word"], compare_stem(folder, pair))
        return write_figures([(compare_stem(folder, pair),
                               comparison_job(table, pair, measure, style, **comparison_text(*segments)))])
    jobs = []
    for seg in segments:
        table = counted(counter.table(seg, top=settings.top), seg, settings)
        guard(top_words(table, "count", style.max_words)["word"], figure_stem(folder, seg))
        jobs.append((figure_stem(folder, seg), cloud_job(table, style, title=cloud_title(seg))))
    return write_figures(jobs)


def counted(table: pd.DataFrame, seg: Segment, settings: FreqSettings) -> pd.DataFrame:
    """A segment's frequency table if it has counted words, else an error naming the segment."""
    if table.empty:
        raise InputError(f"segment '{seg.id}' has no counted words in this corpus ({settings.describe()})",
                         fix="choose another segment, or --stop-words none")
    return table


def cloud_title(seg: Segment) -> str:
    """A segment's cloud title: its figure number (if the study gives one) and label."""
    return f"Figure {seg.figure}: {seg.label}" if seg.figure else seg.label


def comparison_text(first: Segment, second: Segment) -> dict[str, object]:
    """Title and legend names of a comparison cloud: the segments' labels, not their ids."""
    names = (first.label, second.label)
    return {"title": f"Keyness: {names[0]} versus {names[1]}", "names": names}


def terms_cloud_job(table: pd.DataFrame, seg: Segment, folder: Path, style) -> tuple[Path, CloudJob]:
    """The cloud of used terms from a `merged_frequency_table` (stem `<figure stem>_terms`).

    Drawn like the word clouds (`cloud_job`), so "social purpose" is one item
    where the word cloud shows "social" and "purpose".
    """
    stem = figure_stem(folder, seg)
    title = (f"Figure {seg.figure}, terms as single items: {seg.label}" if seg.figure
             else f"{seg.label}: terms as single items")
    return stem.with_name(f"{stem.name}_terms"), cloud_job(table, style, title=title)


def terms_clouds(counter, segments: Sequence[Segment], folder: Path, style, settings: TermSettings,
                 guard: Callable[[Sequence[str], Path], None]) -> list[Path]:
    """`hcrisis cloud --terms`: a used-terms cloud of each segment (`terms_cloud_job`), each
    table's items shown to `guard` first."""
    from hcrisis.text.terms import accepted_terms, merge_terms, merged_frequency_table

    accepted = accepted_terms(counter.tokens, counter.segments, settings)
    merged = merge_terms(counter.tokens, accepted)     # once for every segment
    tables = [counted(merged_frequency_table(counter, seg, accepted, top=counter.settings.top, merged=merged),
                      seg, counter.settings) for seg in segments]
    for seg, table in zip(segments, tables):
        guard(top_words(table, "count", style.max_words)["word"], figure_stem(folder, seg))
    return write_figures([terms_cloud_job(table, seg, folder, style) for seg, table in zip(segments, tables)])
