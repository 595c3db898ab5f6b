"""REFI-QDA export: valid against the standard's schemas, read alike by third-party readers,
the same bytes for the same inputs, and imported back unchanged (both position modes)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from hcrisis.cli import app
from hcrisis.exchange.refi import guid
from hcrisis.exchange.refi_export import export_qdc, export_qdpx
from hcrisis.exchange.refi_import import import_qdc, import_qdpx
from conftest import ROOT
from refi_fixtures import assert_valid, mini_corpus, project_qde, reader_counts

runner = CliRunner()


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    return mini_corpus(tmp_path / "mini")


def _export(mini: Path, out: Path, positions: str = "codepoints") -> Path:
    export_qdpx(mini, out, codings=mini / "codings.csv", codebook=mini / "codebook.yaml", positions=positions)
    return out


def _selections(qde: bytes) -> list[tuple[str, int, int, str]]:
    from lxml import etree

    ns = {"q": "urn:QDA-XML:project:1.0"}
    root = etree.fromstring(qde)
    names = {c.get("guid"): c.get("name") for c in root.iterfind(".//q:Code", ns)}
    return [(src.get("name"), int(sel.get("startPosition")), int(sel.get("endPosition")),
             names[sel.find("q:Coding/q:CodeRef", ns).get("targetGUID")])
            for src in root.iterfind(".//q:TextSource", ns) for sel in src.iterfind("q:PlainTextSelection", ns)]


@pytest.mark.parametrize("positions, ends", [("codepoints", (70, 40)), ("utf16", (71, 41))])
def test_export_positions_schema_and_readers(mini, tmp_path, positions, ends):
    """int01: 'R: ' puts the turn at 30, 'Tenants come first' is 18 characters, the whole turn 40
    code points with one emoji (41 UTF-16 units); int02's turn starts at 19 and ends on an emoji."""
    out = _export(mini, tmp_path / "p.qdpx", positions)
    qde = project_qde(out)
    assert_valid(qde)
    assert _selections(qde) == [("int01", 30, 48, "Tenants"), ("int01", 30, ends[0], "People"),
                                ("int02", 19, ends[1], "Leadership")]
    counts = reader_counts(out, tmp_path)
    assert counts == {"pyrefiqda": (2, 3, 3), "qdapy": (2, 3, 3)}


def test_qdapy_reads_the_coded_text_in_code_points(mini, tmp_path):
    import qdapy

    q = qdapy.read_qdpx(_export(mini, tmp_path / "p.qdpx"), warn=False)
    assert sorted(q.fragments["text"]) == ["Leaders need vision 😀", "Tenants come first",
                                           "Tenants come first 🏠 and résumés matter."]
    assert set(q.fragments["codedBy"]) == {"hcrisis"}


def test_layout_what_readers_expect(mini, tmp_path):
    out = _export(mini, tmp_path / "p.qdpx")
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        infos = zf.infolist()
        text = zf.read(f"sources/{guid('source', 'int02')}.txt").decode("utf-8")
    assert names == ["project.qde", f"sources/{guid('source', 'int01')}.txt", f"sources/{guid('source', 'int02')}.txt"]
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert text == "Q: And leaders?\nA: Leaders need vision 😀"
    qde = project_qde(out).decode("utf-8")
    assert f'plainTextPath="internal://{guid("source", "int01")}.txt"' in qde
    assert 'name="hcrisis"' in qde and qde.count("creatingUser=") == 6   # 3 selections, 3 codings
    assert "Ann Example" not in qde and "Bob Example" not in qde       # the registry's names stay home


def test_same_inputs_same_bytes(mini, tmp_path):
    a = _export(mini, tmp_path / "a.qdpx").read_bytes()
    b = _export(mini, tmp_path / "b.qdpx").read_bytes()
    assert a == b
    golden = ROOT / "tests" / "golden" / "refi_mini_utf16.qde"      # uuid5 GUIDs, no dates: stable bytes
    assert project_qde(_export(mini, tmp_path / "c.qdpx", "utf16")) == golden.read_bytes()


def test_control_characters_are_left_out_of_the_xml(mini, tmp_path):
    book = (mini / "codebook.yaml").read_text().replace("Tenants and staff as people.", '"Tenants\\x0b and staff."')
    (mini / "codebook.yaml").write_text(book)
    export_qdpx(mini, tmp_path / "p.qdpx", codebook=mini / "codebook.yaml")
    assert b"<Description>Tenants and staff." in project_qde(tmp_path / "p.qdpx")


def test_project_for_hand_coding(mini, tmp_path):
    out = tmp_path / "blank.qdpx"
    done = export_qdpx(mini, out, codebook=mini / "codebook.yaml")
    qde = project_qde(out)
    assert_valid(qde)
    assert (done.sources, done.codes, done.codings, done.users) == (2, 3, 0, 0)
    assert b"<Users>" not in qde and b"PlainTextSelection" not in qde
    assert reader_counts(out, tmp_path) == {"pyrefiqda": (2, 3, 0), "qdapy": (2, 3, 0)}


def test_codebook_file(mini, tmp_path):
    from lxml import etree
    from pyrefiqda import RefiCodebook

    out = tmp_path / "mini.qdc"
    assert export_qdc(mini / "codebook.yaml", out).codes == 3
    assert_valid(out.read_bytes(), "Codebook.xsd")
    book = RefiCodebook.load(out)
    assert [c.name for c in book.codes.code] == ["People", "Leadership"]
    assert [c.name for c in book.codes.code[0].code] == ["Tenants"]
    # and back: labels, colours, descriptions split into their fields, GUIDs kept
    back = tmp_path / "back.yaml"
    assert import_qdc(out, back) == 3
    import yaml
    data = yaml.safe_load(back.read_text())
    assert data["codes"][0] == {
        "id": "people", "label": "People", "colour": "#1f77b4", "definition": "Tenants and staff as people.",
        "when_to_use": "Tenants or colleagues are named.", "example": "A manager speaks of tenants first.",
        "refi_guid": guid("code", "people"),
        "codes": [{"id": "tenants", "label": "Tenants", "refi_guid": guid("code", "tenants")}]}
    assert etree.fromstring(out.read_bytes()).get("origin") == "hcrisis"


@pytest.mark.parametrize("positions", ["codepoints", "utf16"])
def test_round_trip(mini, tmp_path, positions):
    """Export, import: the same texts, code tree and coding spans; export again: the same bytes."""
    out = _export(mini, tmp_path / "p.qdpx", positions)
    done = import_qdpx(out, tmp_path / "imp", codebook=mini / "codebook.yaml")
    assert done.positions == positions          # int02's last selection only fits UTF-16 in utf16 mode
    imp = tmp_path / "imp"
    for doc in ("int01", "int02"):
        assert (imp / "sources" / f"{doc}.txt").read_text(encoding="utf-8") == (mini / f"{doc}.txt").read_text(
            encoding="utf-8")
    codings = pd.read_csv(imp / "codings.csv", dtype=str, keep_default_na=False)
    assert codings[["document_id", "code_id", "start", "end", "coder", "text"]].values.tolist() == [
        ["int01", "tenants", "30", "48", "hcrisis", "Tenants come first"],
        ["int01", "people", "30", "70", "hcrisis", "Tenants come first 🏠 and résumés matter."],
        ["int02", "leadership", "19", "40", "hcrisis", "Leaders need vision 😀"]]
    import yaml
    tree = yaml.safe_load((imp / "codebook.yaml").read_text())
    assert [(c["id"], c["label"], [k["id"] for k in c.get("codes", [])]) for c in tree["codes"]] == [
        ("people", "People", ["tenants"]), ("leadership", "Leadership", [])]
    assert (imp / "participants.csv").read_text() == ("participant_id,sector,role\nP01,local authority,manager\n"
                                                       "P02,housing association,officer\n")
    again = export_qdpx(imp, tmp_path / "again.qdpx", codings=imp / "codings.csv", codebook=imp / "codebook.yaml",
                        positions=positions)
    assert project_qde(again.path) == project_qde(out)


def test_cli_export_and_errors(mini, tmp_path):
    out = tmp_path / "cli.qdpx"
    r = runner.invoke(app, ["export", "qdpx", str(mini), "--codings", str(mini / "codings.csv"), "--codebook",
                            str(mini / "codebook.yaml"), "--positions", "utf16", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert r.output.strip() == (f"wrote {out}: 2 source(s), 3 code(s), 3 coding(s) by 1 user(s), 2 case(s); "
                                "positions in UTF-16 code units")
    r = runner.invoke(app, ["export", "qdpx", str(mini), "--codings", str(mini / "codings.csv"),
                            "--out", str(tmp_path / "x.qdpx")])
    assert r.exit_code == 1
    assert r.output.strip() == (f"Error: {mini / 'codings.csv'}: codings need the codebook they were made with "
                                "(pass --codebook FILE)")
    assert not (tmp_path / "x.qdpx").exists()


def test_export_refuses_identifiers(mini, tmp_path):
    (mini / "int02.txt").write_text("Q: And leaders?\nA: Write to ann@example.org 😀", encoding="utf-8")
    r = runner.invoke(app, ["export", "qdpx", str(mini), "--out", str(tmp_path / "x.qdpx")])
    assert r.exit_code == 1 and "refusing to write: contains email (segment int02)" in r.output
    assert not (tmp_path / "x.qdpx").exists()
    r = runner.invoke(app, ["export", "qdpx", str(mini), "--out", str(tmp_path / "x.qdpx"), "--allow-identifiers"])
    assert r.exit_code == 0


def test_thesis_export_readers_and_import(tmp_path):
    """The thesis coding as `reproduce` exports it: valid, read alike, imported back unchanged."""
    from hcrisis.coding.apply import CODING_COLUMNS, apply_codebook
    from hcrisis.ingest.corpus import load_corpus

    corpus = load_corpus(ROOT / "corpora" / "thesis-excerpts")
    codebook = ROOT / "codebooks" / "thesis.yaml"
    codings = apply_codebook(codebook, corpus.segments)[CODING_COLUMNS]
    out = tmp_path / "thesis.qdpx"
    done = export_qdpx(corpus, out, codings=codings, codebook=codebook, allow_identifiers=True)  # published text
    assert_valid(project_qde(out))
    n = (len(corpus.segments), 68, len(codings))
    assert (done.sources, done.codes, done.codings) == n
    assert reader_counts(out, tmp_path) == {"pyrefiqda": n, "qdapy": n}
    imported = import_qdpx(out, tmp_path / "imp", codebook=codebook)
    assert (imported.sources, imported.codes, imported.codings, imported.skipped) == (*n, [])
    back = load_corpus(tmp_path / "imp")
    texts = {d: t.text for d, t in back.transcripts.items()}
    assert texts == dict(zip(corpus.segments["segment_id"], corpus.segments["text"]))
    got = pd.read_csv(tmp_path / "imp" / "codings.csv", dtype=str, keep_default_na=False)
    want = codings.assign(start=codings["start"].astype(str), end=codings["end"].astype(str))
    assert sorted(zip(got["document_id"], got["code_id"], got["start"], got["end"])) == sorted(
        zip(want["segment_id"], want["code_id"], want["start"], want["end"]))
