"""Word clouds: drawn from a table only, deterministic bytes, PNG size and dpi, comparison colours."""

from __future__ import annotations

import io
import re
import time
import xml.etree.ElementTree as ET
from importlib import resources

import pandas as pd
import pytest
from PIL import Image, ImageColor
from typer.testing import CliRunner

from hcrisis.cli import app
from hcrisis.text.cloud import (BASE_CHARS, BASE_FONT, SIDE_COLOURS, CloudStyle, cloud_job, comparison_job,
                           comparison_table, font_chars, font_subset, plot_cloud, plot_comparison,
                           render_all, top_words)
from hcrisis.errors import InputError
from hcrisis.study.runner import NOT_TESTABLE, reproduce
from hcrisis.text.keyness import keyness

from conftest import png_zlib_class, step_context, write

SMALL = CloudStyle(width=200, height=120, scale=2, dpi=300, max_words=20)
TABLE = pd.DataFrame({
    "rank": [1, 2, 3, 4, 5],
    "word": ["people", "housing", "tenants", "skills", "leaders"],
    "count": [30, 27, 12, 12, 9],
})
TEXT = re.compile(r'<text [^>]*style="fill:([^"]+)">([^<]+)</text>')


def test_cloud_files_size_and_dpi(tmp_path):
    paths = plot_cloud(TABLE, tmp_path / "fig5_1_all", SMALL, title="Figure 5.1")
    assert sorted(p.name for p in paths) == ["fig5_1_all.csv", "fig5_1_all.png", "fig5_1_all.svg"]
    with Image.open(tmp_path / "fig5_1_all.png") as im:
        assert im.size == (400, 240)
        assert [round(d) for d in im.info["dpi"]] == [300, 300]
    assert png_zlib_class(tmp_path / "fig5_1_all.png") == 1   # PNG_COMPRESS_LEVEL 3, not Pillow's 6
    svg = (tmp_path / "fig5_1_all.svg").read_text()
    ET.fromstring(svg)   # well-formed
    assert '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="240">' in svg
    assert "<title>Figure 5.1</title>" in svg and "data:font/woff;base64," in svg


def test_cloud_draws_only_the_tables_words(tmp_path):
    plot_cloud(TABLE, tmp_path / "c", SMALL)
    drawn = {w for _, w in TEXT.findall((tmp_path / "c.svg").read_text())}
    assert drawn and drawn <= set(TABLE["word"])
    data = pd.read_csv(tmp_path / "c.csv")
    # ties (tenants, skills: 12) broken by word; font sizes follow counts
    assert data["word"].tolist() == ["people", "housing", "skills", "tenants", "leaders"]
    assert list(data.columns) == ["rank", "word", "count", "font_size", "drawn"]
    assert data["font_size"].is_monotonic_decreasing and data.loc[0, "drawn"]


@pytest.mark.parametrize("table", [TABLE, TABLE.assign(word=["people", "café", "tenants", "skills", "naïve"])],
                         ids=["base font", "own subset"])
def test_same_table_gives_same_bytes(tmp_path, monkeypatch, table):
    plot_cloud(table, tmp_path / "a" / "c", SMALL)
    # fontTools would stamp the current time into an embedded font
    monkeypatch.setattr(time, "time", lambda: 2_000_000_000.0)
    plot_cloud(table, tmp_path / "b" / "c", SMALL)
    for ext in ("png", "svg", "csv"):
        assert (tmp_path / "a" / f"c.{ext}").read_bytes() == (tmp_path / "b" / f"c.{ext}").read_bytes()


def test_shipped_base_font_is_the_bundled_fonts_subset():
    """The shipped WOFF (`make font`) maps the base characters to the same glyph
    outlines and advances as a subset made now from the bundled font."""
    from fontTools.ttLib import TTFont

    shipped = TTFont(io.BytesIO(resources.files("hcrisis").joinpath(BASE_FONT).read_bytes()))
    fresh = TTFont(io.BytesIO(font_subset(font_chars(""))))
    assert set(shipped.getBestCmap()) == set(map(ord, BASE_CHARS))
    assert shipped.getBestCmap() == fresh.getBestCmap()
    for glyph in fresh.getGlyphOrder():
        assert shipped["glyf"][glyph].compile(shipped["glyf"]) == fresh["glyf"][glyph].compile(fresh["glyf"])
        assert shipped["hmtx"][glyph] == fresh["hmtx"][glyph]


def test_clouds_drawn_in_worker_processes_are_identical():
    jobs = [cloud_job(TABLE, SMALL, title="a"), cloud_job(TABLE.iloc[1:], SMALL),
            comparison_job(_keyness(), ("la", "ha"), style=SMALL)]
    serial, parallel = render_all(jobs, processes=1), render_all(jobs, processes=2)
    for one, other in zip(serial, parallel):
        assert one.png == other.png and one.svg == other.svg and one.table.equals(other.table)


def test_layout_seed_changes_the_picture(tmp_path):
    plot_cloud(TABLE, tmp_path / "a", SMALL)
    plot_cloud(TABLE, tmp_path / "b", CloudStyle(**{**SMALL.__dict__, "random_state": 7}))
    assert (tmp_path / "a.png").read_bytes() != (tmp_path / "b.png").read_bytes()


def test_plot_needs_a_frequency_table(tmp_path):
    segments = pd.DataFrame({"segment_id": ["s1"], "text": ["people people housing"]})
    with pytest.raises(InputError, match="frequency table has no column"):
        plot_cloud(segments, tmp_path / "c", SMALL)
    with pytest.raises(InputError, match="no words to draw"):
        plot_cloud(TABLE.assign(count=0), tmp_path / "c", SMALL)


def test_top_words_keeps_max_words():
    assert top_words(TABLE, "count", 2)["word"].tolist() == ["people", "housing"]


def test_unknown_setting_is_reported():
    with pytest.raises(InputError, match="unknown cloud setting.*colour"):
        CloudStyle.from_settings({"colour": "red"})


def _keyness():
    a = pd.Series({"tenants": 40, "finance": 2, "people": 20})
    b = pd.Series({"tenants": 5, "finance": 37, "people": 20})   # same total, 62
    return keyness(a, b, labels=("la", "ha"))


def test_comparison_table_sizes_by_absolute_keyness():
    table = comparison_table(_keyness(), ("la", "ha"))
    # people is equally frequent in both (favours neither) and is left out;
    # G² finance 2 v 37 = 38.3 > tenants 40 v 5 = 31.0
    assert table["word"].tolist() == ["finance", "tenants"]
    assert set(table["favours"]) == {"la", "ha"} and (table["score"] > 0).all()
    assert (table["score"] == table["g2"].abs()).all()
    lr = comparison_table(_keyness(), ("la", "ha"), measure="log_ratio")
    assert (lr["score"] == lr["log_ratio"].abs()).all()
    with pytest.raises(InputError, match="unknown keyness measure"):
        comparison_table(_keyness(), ("la", "ha"), measure="chi2")


def test_comparison_cloud_colours_by_favoured_segment(tmp_path):
    plot_comparison(_keyness(), tmp_path / "compare_la_ha", ("la", "ha"), style=SMALL)
    svg = (tmp_path / "compare_la_ha.svg").read_text()
    ET.fromstring(svg)   # well-formed
    colours = {w: c for c, w in TEXT.findall(svg)}
    assert colours == {"tenants": SIDE_COLOURS[0], "finance": SIDE_COLOURS[1],
                       "■ more frequent in la": SIDE_COLOURS[0],   # the legend band
                       "■ more frequent in ha": SIDE_COLOURS[1]}
    with Image.open(tmp_path / "compare_la_ha.png") as im:
        assert im.size == (400, 240 + 19)
        band = {rgb for _, rgb in im.crop((0, 240, 400, 259)).getcolors(10_000)}
    assert {ImageColor.getrgb(c) for c in SIDE_COLOURS} <= band
    data = pd.read_csv(tmp_path / "compare_la_ha.csv")
    assert dict(zip(data["word"], data["favours"])) == {"tenants": "la", "finance": "ha"}


def _study(tiny_corpus, tmp_path, clouds="", extra="", almo=False):
    return write(tmp_path / "study" / "s.yaml", f"""\
study: tiny
base_folder: /
corpus: {tiny_corpus}
outputs: {tmp_path / 'out'}
segments:
  - {{id: all, label: All, figure: "5.1", section: "5.2"}}
  - {{id: la, label: Local authority, figure: "5.2", where: {{sector: local authority}}}}
  - {{id: ha, label: Housing association, figure: "5.3", where: {{sector: housing association}}}}
{"  - {id: almo, label: ALMO, where: {sector: ALMO}}" if almo else ""}
settings:
  clouds: {{{clouds}}}
{extra}""")


CLOUD_STEPS = """\
steps:
  - {id: clouds, type: clouds, settings: {compare: [[la, ha]]}}
"""


def test_reproduce_step_writes_figures(tiny_corpus, tmp_path):
    run = reproduce(_study(tiny_corpus, tmp_path, extra=CLOUD_STEPS), only=["clouds"], cache=False)
    figures = tmp_path / "out" / "figures"
    names = sorted(p.name for p in figures.iterdir())
    assert names == sorted(f"{stem}.{ext}" for stem in ["fig5_1_all", "fig5_2_la", "fig5_3_ha",
                                                        "compare_la_ha"] for ext in ("png", "svg", "csv"))
    checks = [c for c in run.checks if c.quantity.startswith("word cloud")]
    assert [c.section for c in checks] == ["5.2 Figure 5.1", "Figure 5.2", "Figure 5.3"]
    assert all(c.status == NOT_TESTABLE for c in checks)
    assert run.sections == []
    # tiny corpus, local authority: "People skills matter. Housing too." (R of int01)
    la = pd.read_csv(figures / "fig5_2_la.csv")
    assert sorted(la["word"]) == ["housing", "matter", "people", "skills"]


def test_reproduce_step_reads_the_runs_tables(tiny_corpus, tmp_path, monkeypatch):
    from hcrisis.ingest.corpus import load_corpus
    from hcrisis.study.model import load_study
    from hcrisis.study.steps.text import clouds

    class Counter:    # the run's word counter, as far as clouds use it
        def keyness(self, a, b, labels):
            assert (a.id, b.id) == labels == ("la", "ha")
            return _keyness()

    from hcrisis.text import freq
    monkeypatch.setattr(freq, "FreqCounter", lambda *a: pytest.fail("recounted"))
    study = load_study(_study(tiny_corpus, tmp_path))
    ctx = step_context(study, load_corpus(tiny_corpus), tmp_path / "out", "clouds",
                       {"segments": ["all", "la", "ha"], "compare": [["la", "ha"]]})
    ctx.run.memo.update(freq_tables={"all": TABLE, "la": TABLE.iloc[:3], "ha": TABLE.iloc[2:]}, counter=Counter())
    clouds(ctx)
    assert not (tmp_path / "out").exists()   # drawn in the background until the run finishes it
    paths = ctx.deferred()
    assert sorted({p.stem for p in paths}) == ["compare_la_ha", "fig5_1_all", "fig5_2_la", "fig5_3_ha"]
    assert len(paths) == 12   # .png, .svg and .csv each
    assert pd.read_csv(tmp_path / "out" / "figures" / "fig5_1_all.csv")["word"].iloc[0] == "people"
    compare = pd.read_csv(tmp_path / "out" / "figures" / "compare_la_ha.csv")
    assert compare["word"].tolist() == ["finance", "tenants"]


def test_cli_cloud_and_compare(tiny_corpus, tmp_path):
    study = _study(tiny_corpus, tmp_path, "width: 200, height: 120, scale: 2")
    out = tmp_path / "figs"
    result = CliRunner().invoke(app, ["cloud", str(tiny_corpus), "--study", str(study), "--segment", "all",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(app, ["cloud", "--study", str(study), "--segment", "la", "--segment", "ha",
                                      "--compare", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.glob("*.png")) == ["compare_la_ha.png", "fig5_1_all.png"]
    with Image.open(out / "fig5_1_all.png") as im:
        assert im.size == (400, 240)


def test_cli_compare_needs_two_segments(tiny_corpus, tmp_path):
    result = CliRunner().invoke(app, ["cloud", str(tiny_corpus), "--segment", "all", "--by", "gender", "--compare",
                                      "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output == ("Error: a comparison cloud needs two segments, not 3 (select two, e.g. "
                             "--where sector=x --where sector=y --compare)\n")


def test_cli_unknown_segment_is_one_line(tiny_corpus, tmp_path):
    study = _study(tiny_corpus, tmp_path)
    result = CliRunner().invoke(app, ["cloud", "--study", str(study), "--segment", "nope"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {study}: no segment 'nope' in the study (use one of all, la, ha)"]


def test_cli_segment_matching_nothing_is_one_line(tiny_corpus, tmp_path):
    study = _study(tiny_corpus, tmp_path, almo=True)
    result = CliRunner().invoke(app, ["cloud", str(tiny_corpus), "--study", str(study), "--segment", "almo"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {tiny_corpus / 'manifest.yaml'}: segment 'almo': sector 'ALMO' matches nothing in the corpus "
        "(values of sector: housing association, local authority) (use one of the values listed)"]


def test_cli_segment_without_counted_words_is_one_line(tiny_corpus, tmp_path):
    study = _study(tiny_corpus, tmp_path, extra="  freq: {extra_stop_words: [people, skills, matter, housing]}\n")
    result = CliRunner().invoke(app, ["cloud", "--study", str(study), "--segment", "la"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: segment 'la' has no counted words in this corpus (alphabetic tokens of at least 3 letters, "
        "spaCy English stop words + interview fillers, exact grouping) (choose another segment, or "
        "--stop-words none)"]
