"""The report's content, in the order a reader wants it, computed apart from any writing.

`build_report` reads the study file, its corpus and codebook and the
outputs catalogue (`hcrisis.report.catalogue`) and returns a `Report`: plain
sections of tables, figures and quotations that the HTML template lays out.
What a study did not produce (no codebook, no gold coding, no published
numbers) is left out rather than shown empty. Labels come from the study:
segment labels, attribute descriptions and values, code labels; internal
ids (segment, document, code ids) are not shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from markupsafe import Markup

from hcrisis.report.catalogue import Catalogue, OutputFile
from hcrisis.report.svg import inline_svg
from hcrisis.report.tables import Cell, HeatScale, Table, format_number, frame_table

TOP_WORDS = 15        # rows of a segment's top-words table
TOP_KEYNESS = 10      # words each way of a keyness comparison
TOP_TERMS = 10
TOP_PAIRS = 15        # co-occurring code pairs
QUOTES_PER_CODE = 3
QUOTE_CHARS = 400     # a quotation is cut after this many characters: enough to read, no more
NONE = "(none)"
# Checks' statuses: a symbol and a word beside the colour, so colour never carries them alone.
STATUS_MARKS = {"reproduced": "✓", "differs": "≈", "not reproduced": "✗", "not computable": "–",
                "not testable": "?"}


@dataclass
class Figure:
    markup: Markup         # the inline SVG, named for screen readers by its caption and data file
    caption: str
    source: str            # the data file drawn (the CSV beside the SVG)


@dataclass
class Quote:
    text: str
    attribution: str


@dataclass
class CodeQuotes:
    label: str
    quotes: list[Quote]


@dataclass
class Block:
    """A section (with an `id`, the contents' link) or a sub-section: a heading and its
    figures, tables, quotations and sub-sections."""

    title: str
    intro: str = ""
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    quotes: list[CodeQuotes] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    id: str = ""


@dataclass
class Report:
    title: str
    description: str
    sections: list[Block]
    status_counts: list[tuple[str, str, int]]    # (status, mark, count)
    workbook: list[tuple[str, str, str]]         # (sheet, file, title), filled by the writer


class Labels:
    """The study's names for what the outputs call by id."""

    def __init__(self, study, corpus, codebook):
        self.segments = {s.id: s.label for s in study.segments}
        self.segments.setdefault("all", "All participants")
        self.segments["rest"] = "the rest of the corpus"
        declared = corpus.manifest.get("attributes", {}) if corpus is not None else {}
        self.attributes = {a: (d or {}).get("description") or a.replace("_", " ")
                           for a, d in declared.items() if isinstance(d, dict) or d is None}
        self.codebook = codebook

    def attribute(self, name: str) -> str:
        return self.attributes.get(name, name.replace("_", " "))

    def code(self, code_id: str) -> str:
        code = self.codebook.by_id.get(code_id) if self.codebook is not None else None
        return code.label if code is not None else code_id


@dataclass
class Sources:
    """Everything a report is built from."""

    study: object                 # hcrisis.study.model.Study
    corpus: object                # hcrisis.ingest.corpus.Corpus
    codebook: object | None       # hcrisis.coding.codebook.Codebook
    catalogue: Catalogue
    scanner: object | None        # hcrisis.ingest.privacy.Scanner, None to show identifiers
    provenance: object | None     # hcrisis.report.Provenance (inputs' hashes, package versions)
    tokens: object | None = None  # hcrisis.text.tokens.Tokens of the corpus, if already made


class FigureNamer:
    """Inlines figures with unique id prefixes and remembers which were shown."""

    def __init__(self, catalogue: Catalogue):
        self.catalogue = catalogue
        self.shown: set[str] = set()

    def figure(self, entry: OutputFile, caption: str) -> Figure:
        self.shown.add(entry.rel)
        data = entry.path.with_suffix(".csv")
        source = data.relative_to(self.catalogue.root).as_posix() if data.exists() else entry.rel
        alt = f"{caption}. The figure's data: {source}."
        prefix = f"fig{len(self.shown)}"
        return Figure(inline_svg(entry.path, prefix, alt), caption, source)


# ---------------------------------------------------------------- helpers
def mask_text(text: str, scanner) -> str:
    """Text with identifiers replaced by their kind ([NAME], [EMAIL]...) unless `scanner` is None."""
    if scanner is None:
        return " ".join(text.split())
    from hcrisis.ingest.privacy import hide_identifiers

    return hide_identifiers(text, 0, len(text), scanner.find(text))[0]


def _masked_words(df: pd.DataFrame, column: str, scanner) -> pd.DataFrame:
    """`df` with `column` masked (`mask_text`): take the rows shown first, the masking costs."""
    return df.assign(**{column: [mask_text(str(w), scanner) for w in df[column]]})


def _where_text(where: dict, labels: Labels) -> str:
    if not where:
        return "every participant"
    parts = []
    for column, wanted in where.items():
        values = wanted if isinstance(wanted, list) else [wanted]
        parts.append(f"{labels.attribute(column)}: {' or '.join(map(str, values))}")
    return "; ".join(parts)


# ---------------------------------------------------------------- sections
def study_section(src: Sources, labels: Labels, checks: pd.DataFrame | None) -> Block:
    study, corpus, book = src.study, src.corpus, src.codebook
    facts = [("Study file", study.path.name), ("Corpus", corpus.name),
             ("Corpus description", " ".join(str(corpus.manifest.get("description", "")).split())),
             ("Documents", f"{corpus.segments['document_id'].nunique():,}"),
             ("Segments (turns, paragraphs, rows)", f"{len(corpus.segments):,}")]
    if book is not None:
        version = f", version {book.data['version']}" if book.data.get("version") else ""
        facts.append(("Codebook", f"{book.name}{version}: {len(book.themes)} themes, {len(book.codes)} codes"))
    if checks is not None:
        facts.append(("Published numbers and claims checked", f"{len(checks):,}"))
    facts = [(k, v) for k, v in facts if v]
    about = Table("The study at a glance", ["item", "value"], [[Cell(k), Cell(v)] for k, v in facts],
                  [False, False])
    segs = pd.DataFrame([(s.label, _where_text(s.where, labels), s.figure or "", s.section or "")
                         for s in study.segments], columns=["segment", "selection", "figure", "section"])
    tables = [about]
    if len(segs):
        tables.append(frame_table(segs, "Segments compared in this study"))
    tables += provenance_tables(src.provenance)
    return Block(id="study", title="The study", tables=tables)


def provenance_tables(provenance) -> list[Table]:
    """Input files with their SHA-256 and package versions, as manifest.json lists them (no dates)."""
    if provenance is None:
        return []
    files = pd.DataFrame(sorted(provenance.inputs.items()), columns=["input file", "SHA-256"])
    versions = pd.DataFrame(sorted(provenance.packages.items()), columns=["package", "version"])
    return [frame_table(files, "Provenance: the input files and their SHA-256 hashes"),
            frame_table(versions, "Package versions")]


def corpus_section(src: Sources, labels: Labels) -> Block:
    from hcrisis.ingest.corpus import corpus_summary
    from hcrisis.text.tokens import tokenize_segments

    tokens = src.tokens if src.tokens is not None else tokenize_segments(src.corpus.segments)
    overall = corpus_summary(src.corpus, tokens=tokens).drop(columns="corpus")
    tables = [frame_table(overall, f"Corpus {src.corpus.name}: documents, participants, segments and words",
                          row_header=False)]
    for attribute in src.corpus.categorical_attributes():
        by = corpus_summary(src.corpus, attribute, tokens=tokens)
        name = labels.attribute(attribute)
        tables.append(frame_table(by, f"Documents, participants, segments and words by {name}",
                                  header=[name, *by.columns[1:]]))
    return Block(id="corpus", title="The corpus", intro="Words are counted as the frequency tables count them before stop "
                   "words are removed (alphabetic tokens of at least three letters), and split into "
                   "participant, interviewer and unlabelled words by speaker role; participants are "
                   "the distinct participants speaking.",
                   tables=tables)


def cloud_blocks(src: Sources, labels: Labels, figures: FigureNamer) -> list[Block]:
    """A word cloud per segment with its top words as a table."""
    from hcrisis.text.cloud import figure_stem

    cat, blocks = src.catalogue, []
    for seg in src.study.segments:
        fig = cat.figure(figure_stem(Path(), seg).name)
        freq = cat.table(f"freq_{seg.id}")
        if fig is None and freq is None:
            continue
        block = Block(seg.label)
        if fig is not None:
            block.figures.append(figures.figure(fig, fig.title))
        if freq is not None:
            df = _masked_words(cat.read(freq).head(TOP_WORDS), "word", src.scanner)
            cols = [c for c in ("rank", "word", "count", "weighted_percentage") if c in df.columns]
            block.tables.append(frame_table(df[cols], f"Top {len(df)} words: {seg.label}", source=freq.rel,
                                            header=[c.replace("weighted_percentage", "% of counted words")
                                                    .replace("_", " ") for c in cols], row_header=False))
        blocks.append(block)
    return blocks


def _pair(stem: str, form: str, ids: list[str]) -> tuple[str, str] | None:
    """The two segment ids named by a file stem of `form` ("keyness_{}_vs_{}", "compare_{}_{}");
    the second may be `rest`."""
    for a in ids:
        for b in [*ids, "rest"]:
            if stem == form.format(a, b):
                return a, b
    return None


KEYNESS_NOTE = ("G² is the log-likelihood of the difference (Rayson & Garside 2000), signed + when the word "
                "is relatively more frequent in the first group; log ratio is the binary log of the ratio of "
                "relative frequencies (Hardie 2014); p is adjusted for the number of words tested.")


def keyness_blocks(src: Sources, labels: Labels, figures: FigureNamer) -> list[Block]:
    """Per pair of segments compared: the comparison cloud and the top words each way of the
    keyness table, with counts, G², log ratio and adjusted p."""
    cat = src.catalogue
    ids = sorted(labels.segments, key=len, reverse=True)   # longest first: `focus_groups` before `focus`
    tables = {p: t for t in cat.tables_starting("keyness_") if (p := _pair(t.stem, "keyness_{}_vs_{}", ids))}
    clouds = {p: f for f in cat.figures if (p := _pair(f.stem, "compare_{}_{}", ids))}
    blocks = []
    for pair in sorted(tables.keys() | clouds.keys()):
        a, b = (labels.segments[s] for s in pair)
        block = Block(f"{a} compared with {b}", KEYNESS_NOTE)
        if pair in clouds:
            block.figures.append(figures.figure(clouds[pair], clouds[pair].title))
        if pair in tables:
            block.tables += keyness_tables(src, tables[pair], a, b)
        blocks.append(block)
    return blocks


def keyness_tables(src: Sources, entry: OutputFile, a: str, b: str) -> list[Table]:
    df = src.catalogue.read(entry)
    cols = ["item", "count_a", "count_b", "g2", "log_ratio", "p_adjusted"]
    header = ["word", f"count: {a}", f"count: {b}", "G²", "log ratio", "p adjusted"]
    # only the words shown are masked (a table lists every word tested)
    return [frame_table(_masked_words(side[cols].head(TOP_KEYNESS), "item", src.scanner),
                        f"Words more frequent in {name}", source=entry.rel, header=header, row_header=False)
            for name, side in ((a, df[df["g2"] > 0].sort_values("g2", ascending=False, kind="mergesort")),
                               (b, df[df["g2"] < 0].sort_values("g2", kind="mergesort")))]


def term_blocks(src: Sources, labels: Labels, figures: FigureNamer) -> list[Block]:
    """Top terms per segment, and the clouds drawn of terms (`<segment's figure>_terms`)."""
    from hcrisis.text.cloud import figure_stem

    from hcrisis.ingest.segments import ALL

    cat, tables = src.catalogue, []
    segments = src.study.segments + ([] if any(s.id == ALL.id for s in src.study.segments) else [ALL])
    shown = [f for f in (cat.figure(figure_stem(Path(), s).name + "_terms") for s in segments) if f]
    for seg_id, label in labels.segments.items():
        entry = cat.table(f"terms_{seg_id}")
        if entry is None:
            continue
        df = _masked_words(cat.read(entry).head(TOP_TERMS), "term", src.scanner)
        cols = [c for c in ("rank", "term", "count", "documents", "c_value") if c in df.columns]
        tables.append(frame_table(df[cols], f"Top multi-word terms: {label}", source=entry.rel,
                                  header=[c.replace("c_value", "C-value").replace("_", " ") for c in cols],
                                  row_header=False))
    if not tables and not shown:
        return []
    return [Block("Multi-word terms", "Two- to four-word terms ranked by C-value (Frantzi, Ananiadou "
                  "& Mima 2000), which favours frequent terms that are not just parts of longer ones.",
                  figures=[figures.figure(f, f.title) for f in shown], tables=tables)]


def heat_table(matrix: pd.DataFrame, attribute: str, codebook, labels: Labels, source: str) -> Table:
    """Codes (themes in bold, codes indented beneath) × the attribute's values: % of the value's
    segments coded, shaded, with the number printed; "(none)" (no value) is left out."""
    values = [v for v in dict.fromkeys(matrix[attribute].astype(str)) if v != NONE]
    pct = matrix.pivot(index="code_id", columns=attribute, values="col_pct")
    refs = matrix.groupby("code_id")["references"].sum()
    scale = HeatScale(float(pct[values].max().max()) if values else 0.0)
    rows = []
    for code in codebook.codes:
        if code.id not in pct.index:
            continue
        head = Cell(code.label, cls=f"depth{min(code.depth, 3)}")
        cells = [Cell(format_number("col_pct", float(pct.at[code.id, v])), scale.style(float(pct.at[code.id, v])))
                 for v in values]
        rows.append([head, *cells, Cell(format_number("references", int(refs.get(code.id, 0))))])
    return Table(f"Coding by {labels.attribute(attribute)}: % of each group's segments coded",
                 ["theme or code", *values, "coded units"], rows, [False, *[True] * len(values), True], source,
                 "Darker cells: a larger share. Themes count the units coded by any code beneath them.",
                 cls="heat")


def cooccurrence_table(df: pd.DataFrame, labels: Labels, source: str) -> Table:
    df = df.sort_values(["jaccard", "both"], ascending=False, kind="mergesort").head(TOP_PAIRS)
    shown = pd.DataFrame({"code": [labels.code(c) for c in df["code_a"]],
                          "with code": [labels.code(c) for c in df["code_b"]],
                          "units coded by both": df["both"], "Jaccard": df["jaccard"]})
    return frame_table(shown, f"The {len(shown)} code pairs most often coding the same units", source=source,
                       note="Jaccard = units of both / units of either (Jaccard 1912).", row_header=False)


def attribution(row, attributes: list[str]) -> str:
    """Who said it: the participant and the segment's attribute values (`row`: a segment's
    values by column, a mapping or a Series)."""
    parts = [str(row["participant_id"])] if str(row.get("participant_id", "")) else []
    parts += [str(row[a]) for a in attributes if str(row.get(a, "")) not in ("", "nan")]
    return ", ".join(parts) or "unattributed"


def quotations(src: Sources, codings: pd.DataFrame) -> list[CodeQuotes]:
    """Up to three quotations per code: its best-scoring units, each from another segment."""
    seg = src.corpus.segments
    attributes = src.corpus.categorical_attributes()
    position = {sid: i for i, sid in enumerate(seg["segment_id"].astype(str).tolist())}
    columns = {c: seg[c].tolist() for c in ("participant_id", "text", *attributes) if c in seg.columns}
    codings = codings[codings["segment_id"].astype(str).isin(position)]
    ranked = codings.sort_values(["score", "segment_id", "start"], ascending=[False, True, True], kind="mergesort")
    # each code's first units in rank order, one per segment (lists: a row at a time in pandas
    # costs more than the rest of the page)
    by_code: dict[str, list[tuple[str, int, int]]] = {}
    for code, sid, start, end in zip(ranked["code_id"].tolist(), ranked["segment_id"].astype(str).tolist(),
                                     ranked["start"].tolist(), ranked["end"].tolist()):
        units = by_code.setdefault(code, [])
        if len(units) < QUOTES_PER_CODE and all(sid != s for s, _, _ in units):
            units.append((sid, start, end))
    out = []
    for code in src.codebook.codes:
        if code.id not in by_code:
            continue
        quotes = []
        for sid, start, end in by_code[code.id]:
            row = {c: values[position[sid]] for c, values in columns.items()}
            text = mask_text(str(row["text"])[int(start):int(end)], src.scanner)
            if len(text) > QUOTE_CHARS:
                text = text[:QUOTE_CHARS].rsplit(" ", 1)[0] + " …"
            quotes.append(Quote(text, attribution(row, attributes)))
        out.append(CodeQuotes(code.label, quotes))
    return out


def coding_blocks(src: Sources, labels: Labels, figures: FigureNamer) -> list[Block]:
    cat, book = src.catalogue, src.codebook
    if book is None:
        return []
    blocks = []
    for entry in cat.tables_starting("matrix_"):
        attribute = entry.stem[len("matrix_"):]
        df = cat.read(entry)
        if attribute not in df.columns:
            continue
        block = Block(f"Themes and codes by {labels.attribute(attribute)}",
                      tables=[heat_table(df, attribute, book, labels, entry.rel)])
        for stem in (f"figure_matrix_{attribute}", f"figure_code_frequencies_{attribute}"):
            fig = cat.figure(stem)
            if fig is not None:
                block.figures.append(figures.figure(fig, _coding_caption(stem, labels.attribute(attribute))))
        blocks.append(block)
    co = cat.table("cooccurrence")
    if co is not None:
        blocks.append(Block("Codes that occur together", tables=[cooccurrence_table(cat.read(co), labels, co.rel)]))
    codings = cat.table("codings")
    if codings is not None and len(src.corpus.segments):
        note = ("Identifiers (names, e-mail addresses, phone numbers, postcodes, organisations) are shown "
                "as [NAME], [EMAIL]…" if src.scanner is not None else
                "Shown with identifiers (the report was written with --allow-identifiers).")
        blocks.append(Block("Quotations", f"Up to {QUOTES_PER_CODE} coded units per code, best-scoring first, "
                            f"cut after {QUOTE_CHARS} characters. {note}",
                            quotes=quotations(src, cat.read(codings))))
    return blocks


def _coding_caption(stem: str, attribute: str) -> str:
    if stem.startswith("figure_matrix_"):
        return f"Segments coded by each code, as a % of each {attribute} group's segments"
    return f"Units coded by each theme, by {attribute}"


def agreement_blocks(src: Sources) -> list[Block]:
    cat = src.catalogue
    overall = cat.table("agreement")
    if overall is None:
        return []
    df = cat.read(overall)
    cols = [c for c in ("level", "unit", "split", "method", "units", "top1", "recall", "kappa_top1",
                        "alpha_top1", "alpha_binary") if c in df.columns]
    tables = [frame_table(df[cols], overall.title, source=overall.rel, row_header=False,
                          header=[c.replace("top1", "top-1").replace("_", " ") for c in cols])]
    themes = cat.table("agreement_themes")
    if themes is not None:
        t = cat.read(themes)
        cols = [c for c in ("label", "gold_n", "pred_n", "precision", "recall", "f1", "kappa") if c in t.columns]
        tables.append(frame_table(t[cols], themes.title, source=themes.rel,
                                  header=["theme", "gold units", "coded units", "precision", "recall", "F1", "κ"]))
    return [Block("Agreement with the gold coding", "Cohen's κ and Krippendorff's α compare the codebook's "
                  "coding with the gold coding; `held-out` rows are units never read while writing the rules.",
                  tables=tables)]


def checks_section(checks: pd.DataFrame, source: str) -> Block:
    rows = []
    for r in checks.itertuples(index=False):
        status = str(r.status)
        mark = STATUS_MARKS.get(status, "")
        rows.append([Cell(str(r.section)), Cell(str(r.quantity)), Cell(str(r.published)), Cell(str(r.computed)),
                     Cell(f"{mark} {status}".strip(), cls="status-" + status.replace(" ", "-")),
                     Cell(str(r.note))])
    table = Table("Published numbers and claims: the value computed here and its status", ["section", "quantity",
                  "published", "computed", "status", "reason"], rows, [False] * 6, source, cls="status")
    return Block(id="checks", title="Reproduction checks", intro="Each published number or claim, the value computed "
                   "from the data here and whether it is reproduced; the reason says why not.", tables=[table])


def codebook_section(book) -> Block:
    from hcrisis.coding.codebook_doc import code_facts

    rows = []
    for code in book.codes:
        facts = dict(code_facts(code))
        rules = "; ".join(f"{k[6:]}: {v}" for k, v in facts.items() if k.startswith("Rule: "))
        rows.append([Cell(code.label, cls=f"depth{min(code.depth, 3)}"), Cell(facts.get("Definition", "")),
                     Cell(rules)])
    version = f" (version {book.data['version']})" if book.data.get("version") else ""
    table = Table(f"Codebook {book.name}{version}: {len(book.themes)} themes, {len(book.codes)} codes",
                  ["theme or code", "definition", "rules"], rows, [False] * 3,
                  book.path.name if book.path else None)
    return Block(id="codebook", title="Appendix: the codebook", tables=[table])


def other_figures(catalogue: Catalogue, figures: FigureNamer) -> Block | None:
    rest = [f for f in catalogue.figures if f.rel not in figures.shown]
    if not rest:
        return None
    return Block(id="figures", title="Other figures", blocks=[Block(f.title, figures=[figures.figure(f, f.title)])
                                                       for f in rest])


def read_checks(catalogue: Catalogue) -> tuple[pd.DataFrame | None, str]:
    entry = catalogue.table("checks")
    if entry is None:
        return None, ""
    df = catalogue.read(entry)
    return (df if len(df) else None), entry.rel


def build_report(src: Sources) -> Report:
    """Every section of the report for the study's outputs (see the module docstring)."""
    labels = Labels(src.study, src.corpus, src.codebook)
    figures = FigureNamer(src.catalogue)
    checks, checks_file = read_checks(src.catalogue)
    sections = [study_section(src, labels, checks), corpus_section(src, labels)]
    found = Block(id="findings", title="What the study found", blocks=[
        *cloud_blocks(src, labels, figures), *keyness_blocks(src, labels, figures), *term_blocks(src, labels, figures),
        *coding_blocks(src, labels, figures), *agreement_blocks(src)])
    if found.blocks:
        sections.append(found)
    if checks is not None:
        sections.append(checks_section(checks, checks_file))
    extra = other_figures(src.catalogue, figures)
    if extra is not None:
        sections.append(extra)
    if src.codebook is not None:
        sections.append(codebook_section(src.codebook))
    counts = checks["status"].value_counts() if checks is not None else pd.Series(dtype=int)
    status_counts = [(s, STATUS_MARKS.get(s, ""), int(n)) for s, n in sorted(counts.items())]
    title = str(src.study.data.get("title") or src.study.name)
    return Report(title, " ".join(str(src.study.data.get("description", "")).split()), sections,
                  status_counts, [])
