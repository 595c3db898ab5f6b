"""`hcrisis report`: the HTML page and the Excel workbook of a study that is not the thesis.

The library study (tests/report_study.py) is reproduced once; the page is
checked for structure (heading order, captions, header cells, alt text
naming data files), labels from the study, masked identifiers and stable
bytes; the workbook is read back with openpyxl.
"""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from hcrisis.cli import app
from hcrisis.cli.progress import StepProgress
from hcrisis.errors import InputError
from hcrisis.report import write_report
from hcrisis.report.build import HeatScale, heat_table
from hcrisis.report.catalogue import OutputFile, load_catalogue
from hcrisis.report.svg import inline_svg
from hcrisis.report.xlsx import sheet_names, write_workbook
from hcrisis.study.runner import reproduce

from conftest import write
from report_study import write_library_study


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    """The library study, reproduced (which also writes report.html and tables.xlsx)."""
    study = write_library_study(tmp_path_factory.mktemp("library"))
    reproduce(study)
    return study


class Page(HTMLParser):
    """What the tests look at in a page: headings, tables, figures, text."""

    def __init__(self, text: str):
        super().__init__()
        self.headings: list[int] = []
        self.tables: list[dict] = []
        self.svgs: list[dict] = []
        self.tags: set[str] = set()
        self.text: list[str] = []
        self._in = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self._in.append(tag)
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.headings.append(int(tag[1]))
        if tag == "table":
            self.tables.append({"caption": "", "th": 0})
        if tag == "th" and self.tables:
            self.tables[-1]["th"] += 1
        if tag == "svg":
            self.svgs.append(dict(attrs))

    def handle_endtag(self, tag):
        while self._in and self._in.pop() != tag:
            pass

    def handle_data(self, data):
        if "caption" in self._in and self.tables:
            self.tables[-1]["caption"] += data
        if not {"style", "svg"} & set(self._in):
            self.text.append(data)

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


@pytest.fixture(scope="module")
def page(library) -> tuple[str, Page]:
    html = (library.parent / "outputs" / "report.html").read_text(encoding="utf-8")
    return html, Page(html)


def test_reproduce_writes_the_report_and_workbook(library):
    out = library.parent / "outputs"
    assert (out / "report.html").stat().st_size > 10_000
    assert (out / "tables.xlsx").read_bytes()[:2] == b"PK"
    assert "checks.csv" in {p.name for p in out.iterdir()}


def test_headings_in_order_tables_captioned_figures_named(page):
    html, doc = page
    assert doc.headings[0] == 1 and doc.headings.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(doc.headings, doc.headings[1:])), doc.headings
    assert doc.tables and all(t["caption"].strip() and t["th"] for t in doc.tables)
    assert len(doc.svgs) == 8   # 2 clouds, the comparison, the terms cloud, 2 × 2 coding figures
    for svg in doc.svgs:
        assert svg["role"] == "img" and svg["viewbox"]
        assert ".csv" in svg["aria-label"]   # alt text names the data file
    assert len({svg["id"] for svg in doc.svgs}) == len(doc.svgs)


def test_self_contained(page):
    html, doc = page
    assert "script" not in doc.tags and "<link" not in html and "<img" not in html
    # every reference is to the page itself or inline data (xmlns values name namespaces, not files)
    refs = re.findall(r"""(?:href|src)=["']([^"']*)|url\(["']?([^"')]*)""", html)
    assert refs and all(a.startswith(("#", "data:")) or b.startswith(("#", "data:")) for a, b in refs)
    assert "default-src 'none'" in html   # the page forbids itself any fetch


def test_labels_from_the_study_not_ids(page):
    _, doc = page
    words = doc.words
    for label in ("Central library users", "Village library users compared with the rest of the corpus",
                  "Library branch", "Kind of visitor", "Books and reading", "Getting to the library"):
        assert label in words, label
    assert "Other figures" not in words   # every figure placed beside its tables
    for internal in ("opening_hours", "g1:0001"):
        assert internal not in words, internal


def test_heat_table_of_the_coding(page):
    html, _ = page
    heat = html.split('<table class="heat">')
    assert len(heat) == 3 and not any("(none)" in h.split("</table>")[0] for h in heat[1:])
    # access, central: 3 of the central branch's 6 coded segments (matrix_branch.csv col_pct 50)
    assert '<th scope="row" class="depth0">Getting to the library</th><td class="num" style="background:' in html
    assert ">50.0</td>" in html


def test_checks_with_status_in_words_and_colour(page):
    html, doc = page
    assert '<td class="status-reproduced">✓ reproduced</td>' in html
    assert '<td class="status-differs">≈ differs</td>' in html
    assert "not testable" in doc.words and "fewer than 300 counted words in all" in doc.words


def test_quotations_mask_identifiers(page, library, tmp_path):
    html, doc = page
    assert "Alice" not in doc.words and "[NAME]" in doc.words
    shown = write_report(library, tmp_path / "open.html", allow_identifiers=True).html.read_text(encoding="utf-8")
    assert "I tell my friend Alice about new books" in shown


def test_page_and_workbook_are_byte_identical(library, tmp_path):
    a = write_report(library, tmp_path / "a" / "report.html", tmp_path / "a" / "tables.xlsx")
    b = write_report(library, tmp_path / "b" / "report.html", tmp_path / "b" / "tables.xlsx")
    assert a.html.read_bytes() == b.html.read_bytes()
    assert a.xlsx.read_bytes() == b.xlsx.read_bytes()
    out = library.parent / "outputs"
    assert a.html.read_bytes() == (out / "report.html").read_bytes()
    assert a.xlsx.read_bytes() == (out / "tables.xlsx").read_bytes()


def test_workbook_read_back(library):
    out = library.parent / "outputs"
    wb = openpyxl.load_workbook(out / "tables.xlsx")
    catalogue = load_catalogue(out)
    index = wb["Index"]
    assert wb.sheetnames[0] == "Index" and len(wb.sheetnames) == 1 + len(catalogue.tables)
    assert all(len(n) <= 31 for n in wb.sheetnames) and len({n.lower() for n in wb.sheetnames}) == len(wb.sheetnames)
    rows = list(index.iter_rows(min_row=2, values_only=True))
    assert [r[2] for r in rows] == [t.rel for t in catalogue.tables]
    link = index["A2"].hyperlink
    assert link.location == f"'{rows[0][0]}'!A1"
    by_file = {r[2]: r[0] for r in rows}
    ws = wb[by_file["coding/matrix_branch.csv"]]
    assert ws.freeze_panes == "A2" and ws["A1"].font.b and ws["A1"].value == "code_id"
    header = [c.value for c in ws[1]]
    access = {h: c for h, c in zip(header, ws[2])}
    assert access["references"].value == 3 and access["references"].data_type == "n"
    assert access["col_pct"].value == pytest.approx(0.5) and access["col_pct"].number_format == "0.0%"
    assert ws.column_dimensions["B"].width >= len("services/digital")
    assert index["B1"].font.b


def test_text_that_looks_like_a_formula_stays_text(tmp_path):
    risky = ["=HYPERLINK(\"http://x.example\",\"click\")", "+1", "-2 apples", "@SUM(A1)", "\tx", "\rx", "plain"]
    frame = pd.DataFrame({"text": risky, "n": range(7)})
    write(tmp_path / "out" / "turns.csv", frame.to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC))
    catalogue = load_catalogue(tmp_path / "out")
    path = write_workbook(tmp_path / "t.xlsx", catalogue, sheet_names(catalogue.tables))
    ws = openpyxl.load_workbook(path)["turns"]
    cells = [ws.cell(row=i, column=1) for i in range(2, 9)]
    # OOXML writes a carriage return as _x000D_ (Excel shows it as one; openpyxl leaves it escaped)
    assert [c.value for c in cells] == [r.replace("\r", "_x000D_") for r in risky]
    assert all(c.data_type == "s" for c in cells)
    assert [ws.cell(row=i, column=2).value for i in range(2, 9)] == list(range(7))


@given(st.lists(st.text(alphabet="ab_[]:*?/\\'X", min_size=0, max_size=40), max_size=30))
def test_sheet_names_are_valid_and_unique(stems):
    entries = [OutputFile(Path(f"t{i}") / f"{s}.csv", f"{s}.csv", s) for i, s in enumerate(stems)]
    names = [s.name for s in sheet_names(entries)]
    assert all(0 < len(n) <= 31 and not set(n) & set("[]:*?/\\") and not n.startswith("'") and not n.endswith("'")
               for n in names)
    assert len({n.lower() for n in names} | {"index"}) == len(names) + 1


def test_heat_table_by_hand():
    from hcrisis.coding.codebook import build_codebook

    book = build_codebook({"codebook": "b", "codes": [
        {"id": "t", "label": "Theme", "rules": {"keywords": ["x"]},
         "codes": [{"id": "c", "label": "Code", "rules": {"keywords": ["y"]}}]}]})
    matrix = pd.DataFrame({"code_id": ["t", "t", "t", "c", "c", "c"], "v": ["a", "b", "(none)"] * 2,
                           "references": [2, 1, 5, 1, 0, 0], "col_pct": [50.0, 25.0, 10.0, 25.0, 0.0, 0.0]})

    class Labels:
        attribute = staticmethod(lambda a: "Value")

    table = heat_table(matrix, "v", book, Labels(), "m.csv")
    assert table.header == ["theme or code", "a", "b", "coded units"]
    assert [[c.text for c in row] for row in table.rows] == [["Theme", "50.0", "25.0", "8"],
                                                              ["Code", "25.0", "0.0", "1"]]
    assert table.rows[0][1].style == HeatScale(50.0).style(50.0) == "background:#084594;color:#fff"
    assert table.rows[1][2].style == "background:#f7fbff;color:#111"


def test_inline_svg_scoped_and_refused_when_unsafe(tmp_path):
    svg = write(tmp_path / "f.svg", '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
                'width="100" height="50"><defs><style>*{stroke:red}</style><clipPath id="c1"/></defs>'
                '<rect clip-path="url(#c1)"/></svg>')
    markup = str(inline_svg(svg, "fig3", 'A "chart"'))
    assert markup.startswith('<svg xmlns="http://www.w3.org/2000/svg" id="fig3" viewBox="0 0 100 50" role="img" '
                             'aria-label="A &#34;chart&#34;">')
    assert 'id="fig3-c1"' in markup and "url(#fig3-c1)" in markup and "#fig3 *{stroke:red}" in markup
    for bad in ('<svg width="1" height="1"><script>alert(1)</script></svg>',
                '<svg width="1" height="1"><image href="https://example.org/x.png"/></svg>',
                '<svg width="1" height="1" onload="x()"></svg>'):
        with pytest.raises(InputError, match="not a plain SVG figure"):
            inline_svg(write(tmp_path / "bad.svg", bad), "f", "x")


def test_cli_report(library, tmp_path):
    out, xlsx = tmp_path / "r.html", tmp_path / "r.xlsx"
    result = CliRunner().invoke(app, ["report", str(library), "--out", str(out), "--xlsx", str(xlsx)])
    assert result.exit_code == 0, result.output
    assert out.exists() and xlsx.exists() and "8 figures" in result.output


def test_cli_report_without_outputs(tmp_path):
    study = write_library_study(tmp_path / "fresh")
    result = CliRunner().invoke(app, ["report", str(study), "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == (f"Error: {tmp_path / 'fresh' / 'outputs'}: outputs folder not found "
                                              "(run `hcrisis reproduce STUDY` first, or give the study whose "
                                              "outputs to report)")
    assert not (tmp_path / "r.html").exists()


def test_comparison_legend_and_heatmap_use_labels(library):
    out = library.parent / "outputs"
    legend = (out / "figures" / "compare_central_village.svg").read_text(encoding="utf-8")
    assert "more frequent in Central library users" in legend and "more frequent in central<" not in legend
    heat = (out / "coding" / "figure_matrix_branch.svg").read_text(encoding="utf-8")
    assert "Computers and wifi" in heat and "(none)" not in heat


def test_plain_progress_one_line_per_step():
    stream = io.StringIO()
    with StepProgress(stream) as progress:
        progress("terms")
        progress.detail("tokenising 11 segments")
        progress("coding")
    lines = stream.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == ["step terms", "step coding"]
    assert lines[0].endswith(" s (tokenising 11 segments)") and "\x1b" not in stream.getvalue()


FIGURE_SIZES = "Array.from(document.querySelectorAll('figure svg'), s => s.getBoundingClientRect())" \
               ".map(r => [r.width, r.height])"
VISIBLE = "(sel => {const t = document.querySelector(sel); if (!t) return false; t.scrollIntoView();" \
          " const r = t.getBoundingClientRect(); return r.width > 0 && r.height > 0 &&" \
          " getComputedStyle(t).visibility === 'visible' && r.top < innerHeight && r.bottom > 0})"


def test_report_in_headless_chromium(library, tmp_path):
    """The page in a real browser: no console errors, no requests, figures drawn, tables visible,
    nothing wider than a 375 px phone or an A4 page; screenshots at 1280 and 375 px beside the test."""
    from browser import INSTALL, Browser, chromium_path

    executable = chromium_path()
    if executable is None:
        pytest.fail(f"the report's browser test needs Chromium: {INSTALL}")
    report = library.parent / "outputs" / "report.html"
    browser = Browser(executable)
    try:
        page = browser.open(report.as_uri(), 1280)
        sizes = page.evaluate(FIGURE_SIZES)
        assert len(sizes) == 8 and all(w > 100 and h > 50 for w, h in sizes), sizes
        assert page.evaluate(VISIBLE + "('table.status')") and page.evaluate(VISIBLE + "('table.heat')")
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(tmp_path / "report-1280.png")
        page.resize(375, 812)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        assert all(w <= 375 for w, _ in page.evaluate(FIGURE_SIZES))
        assert page.evaluate(VISIBLE + "('table.heat')")
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(tmp_path / "report-375.png")
        # printed on A4 (210 mm less 2 × 12 mm margins = 703 px): no table or figure wider than the page
        page.send("Emulation.setEmulatedMedia", {"media": "print"})
        page.resize(703, 1000)
        widest = page.evaluate("Math.max(...Array.from(document.querySelectorAll('table, figure svg'),"
                               " e => e.getBoundingClientRect().right))")
        assert widest <= 703, widest
        assert page.errors() == []
        assert {u for u in page.requests() if not u.startswith("data:")} == {report.as_uri()}
    finally:
        browser.close()
    for name in ("report-1280.png", "report-375.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_guarded_cells_read_back_as_written_and_only_the_runs_tables(tmp_path):
    """The catalogue undoes the CSV writer's formula guard (the page and the workbook show
    `-ish`, not `'-ish`) and lists only what the run wrote, per its manifest.json: a table
    another command left in the folder is not the study's result."""
    import json

    from hcrisis.tables import write_table

    out = tmp_path / "outputs"
    written = write_table(pd.DataFrame({"word": ["-ish", "=SUM(A1)", "plain"], "n": [1, 2, 3]}), out / "t")
    write_table(pd.DataFrame({"word": ["stray"]}), out / "freq" / "freq_all")
    assert (out / "t.csv").read_text(encoding="utf-8").splitlines()[1] == "'-ish,1"
    write(out / "manifest.json", json.dumps({"outputs": {f"outputs/{p.name}": "" for p in written}}))
    catalogue = load_catalogue(out)
    assert [e.rel for e in catalogue.tables] == ["t.csv"]
    assert catalogue.read(catalogue.tables[0])["word"].tolist() == ["-ish", "=SUM(A1)", "plain"]

