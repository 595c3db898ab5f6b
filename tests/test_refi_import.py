"""REFI-QDA import of what the tools really write, and refusal of what no tool writes."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from hcrisis.cli import app
from hcrisis.exchange.refi_import import import_qdpx
from refi_fixtures import NS, make_qdpx

runner = CliRunner()
U1 = "AAAAAAAA-0000-4000-8000-000000000001"
E1 = "eeeeeeee-0000-4000-8000-000000000001"

# Hand-built in the shapes tools write: a user and code GUIDs in braces and upper case, referred to
# in lower case; the same code name under two parents; a source without a name whose path lacks
# internal:// and whose file sits in a capitalised Sources/ folder with a BOM and CRLF line ends;
# NVivo's UTF-16 positions after an emoji; a PDF with a plain-text representation and a region
# selection; a picture and an audio source; a zero-length selection.
MESSY = f"""<?xml version="1.0" encoding="utf-8" standalone="yes"?>
<Project {NS} name="Hand coding" origin="a QDA tool">
 <Users><User guid="{{{U1}}}" name="Coder A"/></Users>
 <CodeBook><Codes>
  <Code guid="{{BBBBBBBB-0000-4000-8000-000000000001}}" name="Skills" isCodable="true" color="#ABC">
   <Code guid="bbbbbbbb-0000-4000-8000-000000000002" name="Leadership" isCodable="true">
    <Description>Leading people.

When to use: someone leads.</Description></Code>
  </Code>
  <Code guid="BBBBBBBB-0000-4000-8000-000000000003" name="Values" isCodable="true">
   <Code guid="BBBBBBBB-0000-4000-8000-000000000004" name="Leadership" isCodable="true"/>
  </Code>
 </Codes></CodeBook>
 <Variables><Variable guid="CCCCCCCC-0000-4000-8000-000000000001" name="Sector" typeOfVariable="Text"/></Variables>
 <Cases><Case guid="DDDDDDDD-0000-4000-8000-000000000001" name="P1">
  <VariableValue><VariableRef targetGUID="cccccccc-0000-4000-8000-000000000001"/><TextValue>Council</TextValue></VariableValue>
  <SourceRef targetGUID="{{{E1.upper()}}}"/></Case></Cases>
 <Sources>
  <TextSource guid="{{{E1.upper()}}}" plainTextPath="E1.txt">
   <PlainTextSelection guid="11111111-0000-4000-8000-000000000001" startPosition="23" endPosition="38" creatingUser="{U1.lower()}">
    <Coding guid="11111111-0000-4000-8000-000000000101" creatingUser="{U1.lower()}"><CodeRef targetGUID="{{BBBBBBBB-0000-4000-8000-000000000002}}"/></Coding>
   </PlainTextSelection>
   <PlainTextSelection guid="11111111-0000-4000-8000-000000000002" startPosition="23" endPosition="51">
    <Coding guid="11111111-0000-4000-8000-000000000102" creatingUser="{U1}"><CodeRef targetGUID="bbbbbbbb-0000-4000-8000-000000000001"/></Coding>
   </PlainTextSelection>
   <PlainTextSelection guid="11111111-0000-4000-8000-000000000003" startPosition="23" endPosition="23">
    <Coding guid="11111111-0000-4000-8000-000000000103" creatingUser="{U1}"><CodeRef targetGUID="bbbbbbbb-0000-4000-8000-000000000001"/></Coding>
   </PlainTextSelection>
  </TextSource>
  <TextSource guid="EEEEEEEE-0000-4000-8000-000000000002" name="Focus group" plainTextPath="internal://e2.txt">
   <PlainTextSelection guid="22222222-0000-4000-8000-000000000001" startPosition="14" endPosition="25" creatingUser="{U1}">
    <Coding guid="22222222-0000-4000-8000-000000000101" creatingUser="{U1}"><CodeRef targetGUID="BBBBBBBB-0000-4000-8000-000000000004"/></Coding>
   </PlainTextSelection>
  </TextSource>
  <PDFSource guid="FFFFFFFF-0000-4000-8000-000000000001" name="Report" path="internal://f1.pdf">
   <PDFSelection guid="33333333-0000-4000-8000-000000000001" page="1" firstX="0" firstY="0" secondX="10" secondY="10">
    <Coding guid="33333333-0000-4000-8000-000000000101" creatingUser="{U1}"><CodeRef targetGUID="BBBBBBBB-0000-4000-8000-000000000003"/></Coding>
   </PDFSelection>
   <Representation guid="FFFFFFFF-0000-4000-8000-000000000002" plainTextPath="internal://f2.txt">
    <PlainTextSelection guid="33333333-0000-4000-8000-000000000002" startPosition="0" endPosition="8" creatingUser="{U1}">
     <Coding guid="33333333-0000-4000-8000-000000000102" creatingUser="{U1}"><CodeRef targetGUID="BBBBBBBB-0000-4000-8000-000000000003"/></Coding>
    </PlainTextSelection>
   </Representation>
  </PDFSource>
  <PictureSource guid="99999999-0000-4000-8000-000000000001" name="Site photo" path="internal://g1.jpg">
   <PictureSelection guid="44444444-0000-4000-8000-000000000001" firstX="0" firstY="0" secondX="5" secondY="5">
    <Coding guid="44444444-0000-4000-8000-000000000101" creatingUser="{U1}"><CodeRef targetGUID="BBBBBBBB-0000-4000-8000-000000000003"/></Coding>
   </PictureSelection>
  </PictureSource>
  <AudioSource guid="99999999-0000-4000-8000-000000000002" name="Walkthrough" path="internal://h1.m4a"/>
 </Sources>
</Project>
"""
MESSY_FILES = {
    "Sources/E1.txt": "\ufeffInterviewer: Why?\r\nP1: Leaders listen.\r\nThey learn.\r\n",
    "Sources/e2.txt": "P2: Values 👍 matter most",
    "Sources/f1.pdf": b"%PDF-1.4 not read",
    "Sources/f2.txt": "Training budgets fell.",
    "Sources/g1.jpg": b"\xff\xd8\xff",
}


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    return make_qdpx(tmp_path / "messy.qdpx", MESSY, MESSY_FILES)


def test_messy_project(messy, tmp_path):
    out = tmp_path / "imported"
    r = runner.invoke(app, ["import", "qdpx", str(messy), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == [
        f"read 3 source(s), 4 code(s), 4 coding(s), 1 case(s); wrote {out}",
        "positions: UTF-16 code units (detected: selections end beyond their text in code points but fit "
        "UTF-16 units, as NVivo counts)",
        "skipped: PDF area selection(s) of 'Report': 1 region(s) of a page, not text (1 coding(s) not imported)",
        "skipped: picture source 'Site photo': hcrisis reads text only (1 coding(s) not imported)",
        "skipped: audio source 'Walkthrough': hcrisis reads text only",
        "skipped: zero-length selection(s): 1: no text to code (1 coding(s) not imported)"]
    manifest = yaml.safe_load((out / "manifest.yaml").read_text())
    assert manifest == {
        "name": "Hand coding", "description": "Imported from messy.qdpx (REFI-QDA); set each document's kind",
        "attributes": {"Sector": {}}, "participants": "participants.csv",
        "documents": [{"id": E1, "file": f"sources/{E1}.txt", "kind": "other", "participants": ["P1"]},
                      {"id": "Focus-group", "file": "sources/Focus-group.txt", "kind": "other"},
                      {"id": "Report", "file": "sources/Report.txt", "kind": "other"}]}
    # BOM gone, CRLF now LF: positions 23-38 and 23-51 of the CRLF text are 22-37 and 22-49
    assert (out / "sources" / f"{E1}.txt").read_bytes() == b"Interviewer: Why?\nP1: Leaders listen.\nThey learn.\n"
    codings = pd.read_csv(out / "codings.csv", dtype=str, keep_default_na=False)
    assert codings.drop(columns="selection").values.tolist() == [
        [E1, "leadership", "22", "37", "Coder A", "Leaders listen."],
        [E1, "skills", "22", "49", "Coder A", "Leaders listen.\nThey learn."],
        ["Focus-group", "values_leadership", "13", "24", "Coder A", "matter most"],
        ["Report", "values", "0", "8", "Coder A", "Training"]]
    assert codings["selection"].iloc[0] == "11111111-0000-4000-8000-000000000001"
    book = yaml.safe_load((out / "codebook.yaml").read_text())
    assert book["codes"] == [
        {"id": "skills", "label": "Skills", "colour": "#aabbcc", "refi_guid": "bbbbbbbb-0000-4000-8000-000000000001",
         "codes": [{"id": "leadership", "label": "Leadership", "definition": "Leading people.",
                    "when_to_use": "someone leads.", "refi_guid": "bbbbbbbb-0000-4000-8000-000000000002"}]},
        {"id": "values", "label": "Values", "refi_guid": "bbbbbbbb-0000-4000-8000-000000000003",
         "codes": [{"id": "values_leadership", "label": "Leadership",
                    "refi_guid": "bbbbbbbb-0000-4000-8000-000000000004"}]}]
    assert (out / "participants.csv").read_text() == "participant_id,Sector\nP1,Council\n"
    r = runner.invoke(app, ["corpus", "info", str(out)])
    assert r.exit_code == 0, r.output


def test_positions_forced(messy, tmp_path):
    r = runner.invoke(app, ["import", "qdpx", str(messy), "--out", str(tmp_path / "o"), "--positions", "codepoints"])
    assert r.exit_code == 1
    assert r.output == (f"Error: {messy}:project.qde:32: selection 22222222-0000-4000-8000-000000000001 of source "
                        "'Focus group' at 14-25 lies outside its text (24 characters) (check --positions "
                        "(codepoints or utf16), or pass --skip-bad to skip the selection)\n")
    assert not (tmp_path / "o").exists()
    r = runner.invoke(app, ["import", "qdpx", str(messy), "--out", str(tmp_path / "o"), "--positions", "codepoints",
                            "--skip-bad"])
    assert r.exit_code == 0
    assert ("skipped: selection 22222222-0000-4000-8000-000000000001: outside its source 'Focus group' "
            "(1 coding(s) not imported)") in r.output


def test_missing_text_file(tmp_path):
    files = {k: v for k, v in MESSY_FILES.items() if k != "Sources/e2.txt"}
    path = make_qdpx(tmp_path / "m.qdpx", MESSY, files)
    r = runner.invoke(app, ["import", "qdpx", str(path), "--out", str(tmp_path / "o")])
    assert r.exit_code == 1
    assert r.output == (f"Error: {path}:project.qde: text source 'Focus group': its text file 'internal://e2.txt' "
                        "is missing from the archive (export the project again with its sources, or pass "
                        "--skip-bad to skip it)\n")
    assert not (tmp_path / "o").exists()
    r = runner.invoke(app, ["import", "qdpx", str(path), "--out", str(tmp_path / "o"), "--skip-bad"])
    assert r.exit_code == 0
    assert ("skipped: text source 'Focus group': text file 'internal://e2.txt' missing from the archive "
            "(1 coding(s) not imported)") in r.output
    assert "read 2 source(s), 4 code(s), 3 coding(s)" in r.output


def test_missing_text_of_an_uncoded_source_is_listed(tmp_path):
    qde = MESSY.replace('<PlainTextSelection guid="22222222', '<Unknown guid="22222222').replace(
        "</PlainTextSelection>\n  </TextSource>\n  <PDFSource", "</Unknown>\n  </TextSource>\n  <PDFSource")
    qde = qde.replace('<Coding guid="22222222-0000-4000-8000-000000000101" creatingUser="AAAAAAAA-0000-4000-8000-'
                      '000000000001"><CodeRef targetGUID="BBBBBBBB-0000-4000-8000-000000000004"/></Coding>', "")
    files = {k: v for k, v in MESSY_FILES.items() if k != "Sources/e2.txt"}
    r = runner.invoke(app, ["import", "qdpx", str(make_qdpx(tmp_path / "m.qdpx", qde, files)), "--out",
                            str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    assert "skipped: text source 'Focus group': text file 'internal://e2.txt' missing from the archive\n" in r.output


def test_older_codebook_namespace(tmp_path):
    qdc = tmp_path / "old.qdc"
    qdc.write_text('<?xml version="1.0"?><CodeBook xmlns="urn:QDA-XML:codebook:0:4"><Codes>'
                   '<Code guid="{0A0A0A0A-0000-4000-8000-000000000001}" name="Trust &amp; respect" '
                   'isCodable="true"><Description>Mutual trust.</Description></Code></Codes></CodeBook>')
    r = runner.invoke(app, ["import", "qdc", str(qdc), "--out", str(tmp_path / "cb.yaml")])
    assert r.exit_code == 0, r.output
    assert yaml.safe_load((tmp_path / "cb.yaml").read_text())["codes"] == [
        {"id": "trust_respect", "label": "Trust & respect", "definition": "Mutual trust.",
         "refi_guid": "0a0a0a0a-0000-4000-8000-000000000001"}]
    r = runner.invoke(app, ["codebook", "check", str(tmp_path / "cb.yaml")])
    assert r.exit_code == 1 and "empty code 'trust_respect': give it rules or child codes" in r.output


# ---------------------------------------------------------------- bad input
def _bomb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", "<Project/>")
        zf.writestr("sources/bomb.txt", b"\0" * (40 * 1024 * 1024))     # 40 MB of zeros: ~40 KB compressed
    return path


XXE = f"""<?xml version="1.0"?>
<!DOCTYPE Project [<!ENTITY secret SYSTEM "file:///etc/hostname">]>
<Project {NS} name="&secret;"/>"""
LAUGHS = f"""<?xml version="1.0"?>
<!DOCTYPE Project [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<Project {NS} name="&d;"/>"""
OUTSIDE = f"""<Project {NS} name="p"><CodeBook><Codes><Code guid="0A0A0A0A-0000-4000-8000-000000000001"
 name="A" isCodable="true"/></Codes></CodeBook><Sources><TextSource guid="0A0A0A0A-0000-4000-8000-000000000002"
 name="s" plainTextPath="internal://s.txt"><PlainTextSelection guid="0A0A0A0A-0000-4000-8000-000000000003"
 startPosition="2" endPosition="99"><Coding guid="0A0A0A0A-0000-4000-8000-000000000004"><CodeRef
 targetGUID="0A0A0A0A-0000-4000-8000-000000000001"/></Coding></PlainTextSelection></TextSource></Sources></Project>"""


@pytest.mark.parametrize("name, build, message", [
    ("text", lambda p: (p.write_text("not a zip"), p)[1],
     "not a REFI-QDA project: not a zip archive (give the .qdpx file your QDA tool exported)"),
    ("bomb", _bomb, "archive member 'sources/bomb.txt' expands 1028 times, over the limit of 100 (this is not a "
     "project a QDA tool writes (possible zip bomb); re-export it)"),
    ("traversal", lambda p: make_qdpx(p, f"<Project {NS} name='p'/>", {"../evil.txt": "x"}),
     "archive member '../evil.txt' points outside the archive (this is not a project a QDA tool writes; "
     "re-export it)"),
    ("noqde", lambda p: make_qdpx(p, "", {}) and _rezip_without_qde(p),
     "no project.qde in the archive (give the .qdpx file your QDA tool exported)"),
])
def test_bad_archives(tmp_path, name, build, message):
    path = build(tmp_path / f"{name}.qdpx")
    r = runner.invoke(app, ["import", "qdpx", str(path), "--out", str(tmp_path / "o")])
    assert r.exit_code == 1
    assert r.output == f"Error: {path}: {message}\n"
    assert not (tmp_path / "o").exists()


def _rezip_without_qde(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("sources/a.txt", "text")
    return path


@pytest.mark.parametrize("qde, files, message", [
    ("<Project", {}, ":project.qde:1: not well-formed XML: Couldn't find end of Start Tag Project line 1 "
     "(export the file again from your QDA tool)"),
    (XXE, {}, ":project.qde: XML declares a DTD or entities, which REFI-QDA files never do (refusing it (entity "
     "expansion and external entities are unsafe); export the file again from your QDA tool)"),
    (LAUGHS, {}, ":project.qde: XML declares a DTD or entities, which REFI-QDA files never do (refusing it "
     "(entity expansion and external entities are unsafe); export the file again from your QDA tool)"),
    ("<Book xmlns='urn:other'/>", {}, ":project.qde: root element is <Book> in namespace 'urn:other', not a "
     "REFI-QDA <Project> (give a file exported by a QDA tool in REFI-QDA format)"),
    (OUTSIDE, {"sources/s.txt": "short"}, ":project.qde:4: selection 0A0A0A0A-0000-4000-8000-000000000003 of "
     "source 's' at 2-99 lies outside its text (5 characters) (check --positions (codepoints or utf16), or "
     "pass --skip-bad to skip the selection)"),
])
def test_bad_projects(tmp_path, qde, files, message):
    path = make_qdpx(tmp_path / "bad.qdpx", qde, files)
    r = runner.invoke(app, ["import", "qdpx", str(path), "--out", str(tmp_path / "o")])
    assert r.exit_code == 1
    assert r.output == f"Error: {path}{message}\n"
    assert len(r.output.splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_xxe_reads_no_file(tmp_path):
    """The parser settings alone leave an external entity unexpanded and unread; hcrisis also
    refuses the document."""
    from lxml import etree

    from hcrisis.errors import InputError
    from hcrisis.exchange.archive import parse_xml

    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    xml = (f'<?xml version="1.0"?><!DOCTYPE Project [<!ENTITY s SYSTEM "{secret.as_uri()}">]>'
           f"<Project {NS} name='p'><Description>&s;</Description></Project>").encode()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    assert b"TOP SECRET" not in etree.tostring(etree.fromstring(xml, parser))
    with pytest.raises(InputError, match="declares a DTD or entities"):
        parse_xml(xml, "x")


def test_output_folder_must_be_new(messy, tmp_path):
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "keep.txt").write_text("mine")
    r = runner.invoke(app, ["import", "qdpx", str(messy), "--out", str(tmp_path / "o")])
    assert r.exit_code == 1
    assert r.output == (f"Error: {tmp_path / 'o'}: output folder exists and is not empty (choose a new folder "
                        "for the imported project)\n")
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["keep.txt"]


# ---------------------------------------------------------------- property
def _raw_offset(text: str, offset: int, crlf: bool) -> int:
    """An offset into `text` counted in its stored form (CRLF for LF when `crlf`)."""
    return offset + (text[:offset].count("\n") if crlf else 0)


@settings(max_examples=25, deadline=None)
@given(st.text(st.sampled_from(list("ab é\n") + ["😀", "🏠"]), min_size=1, max_size=40).filter(
           lambda t: any(c.isalpha() for c in t)),
       st.booleans(), st.booleans(), st.sampled_from(["codepoints", "utf16"]), st.data())
def test_import_places_any_selection(text, bom, crlf, mode, data):
    """Whatever the text (emoji, accents), BOM, line ends and position convention, a selection
    comes back as the same characters of the document hcrisis reads."""
    import tempfile

    from hcrisis.exchange.positions import to_units
    from hcrisis.ingest.corpus import load_corpus

    a = data.draw(st.integers(0, len(text) - 1))
    b = data.draw(st.integers(a + 1, len(text)))
    stored = text.replace("\n", "\r\n") if crlf else text
    start, end = to_units([_raw_offset(text, a, crlf), _raw_offset(text, b, crlf)], stored, mode)
    qde = (f'<Project {NS} name="p"><CodeBook><Codes><Code guid="0A0A0A0A-0000-4000-8000-000000000001" name="A" '
           f'isCodable="true"/></Codes></CodeBook><Sources><TextSource guid="0A0A0A0A-0000-4000-8000-000000000002" '
           f'name="s" plainTextPath="internal://s.txt"><PlainTextSelection guid="0A0A0A0A-0000-4000-8000-000000000003" '
           f'startPosition="{start}" endPosition="{end}"><Coding guid="0A0A0A0A-0000-4000-8000-000000000004">'
           '<CodeRef targetGUID="0A0A0A0A-0000-4000-8000-000000000001"/></Coding></PlainTextSelection></TextSource>'
           "</Sources></Project>")
    with tempfile.TemporaryDirectory() as tmp:
        path = make_qdpx(Path(tmp) / "p.qdpx", qde, {"sources/s.txt": ("\ufeff" if bom else "") + stored})
        done = import_qdpx(path, Path(tmp) / "o", positions=mode)
        codings = pd.read_csv(Path(tmp) / "o" / "codings.csv", dtype=str, keep_default_na=False)
        document = load_corpus(Path(tmp) / "o").transcripts["s"].text
    assert document == text and done.codings == 1
    assert codings[["start", "end", "text"]].values.tolist() == [[str(a), str(b), text[a:b]]]
