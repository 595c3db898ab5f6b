"""Fuzzing readers and the manifest loader: a correct result or an HcrisisError, nothing else."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from hcrisis.ingest.corpus import load_corpus
from hcrisis.errors import HcrisisError
from hcrisis.ingest.readers import Transcript, read_transcript

from formats import SRT, TEAMS_VTT, make_docx, make_odt, make_pdf

FORMATS = ["txt", "docx", "odt", "pdf", "vtt", "srt"]
FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
_counter = itertools.count()


def outcome(path: Path, fmt: str | None = None) -> Transcript | None:
    """Read `path`; an HcrisisError is an accepted outcome, any other exception fails."""
    try:
        t = read_transcript(path, fmt=fmt)
    except HcrisisError as exc:
        assert "\n" not in exc.one_line()
        return None
    for turn in t.turns:  # a result must be consistent with its own text
        assert 0 <= turn.start < turn.end <= len(t.text)
        assert t.turn_text(turn) == t.turn_text(turn).strip()
    return t


@pytest.fixture(scope="module")
def valid(tmp_path_factory) -> dict[str, bytes]:
    d = tmp_path_factory.mktemp("valid")
    return {
        "txt": b"Interviewer: What skills?\r\nR: People.\r\n",
        "docx": make_docx(d / "a.docx", [[("Jane:", True), (" hi", False)]],
                          table=[("P1", "row")]).read_bytes(),
        "odt": make_odt(d / "a.odt", ["Interviewer: hi?", "P1: yes"]).read_bytes(),
        "pdf": make_pdf([["Interviewer: hi?", "R: yes"]]),
        "vtt": TEAMS_VTT.encode(),
        "srt": SRT.encode(),
    }


def _file(tmp_path: Path, ext: str, data: bytes) -> Path:
    p = tmp_path / f"f{next(_counter)}.{ext}"
    p.write_bytes(data)
    return p


@FUZZ
@given(ext=st.sampled_from(FORMATS), data=st.binary(max_size=600))
def test_random_bytes(tmp_path, ext, data):
    outcome(_file(tmp_path, ext, data))


@FUZZ
@given(src=st.sampled_from(FORMATS), ext=st.sampled_from(FORMATS), cut=st.floats(0, 1))
def test_truncated_files_and_wrong_extensions(tmp_path, valid, src, ext, cut):
    data = valid[src][:int(len(valid[src]) * cut)]
    outcome(_file(tmp_path, ext, data))


@FUZZ
@given(src=st.sampled_from(FORMATS), pos=st.floats(0, 1), byte=st.integers(0, 255))
def test_flipped_byte(tmp_path, valid, src, pos, byte):
    data = bytearray(valid[src])
    data[int(pos * (len(data) - 1))] = byte
    outcome(_file(tmp_path, src, bytes(data)))


_time = st.tuples(st.integers(0, 99), st.integers(0, 70), st.integers(0, 70), st.integers(0, 999))
_label = st.sampled_from(["", " ", "Jane Smith", "P1", "Q", "a:b", "<", "Speaker 2"])


@FUZZ
@given(cues=st.lists(st.tuples(_time, _time, _label, st.text(max_size=30)), max_size=6),
       voice=st.booleans(), sep=st.sampled_from([".", ","]))
def test_captions_with_broken_timings_and_empty_labels(tmp_path, cues, voice, sep):
    def stamp(t):
        return f"{t[0]:02d}:{t[1]:02d}:{t[2]:02d}{sep}{t[3]:03d}"

    body = "".join(
        f"{i}\n{stamp(a)} --> {stamp(b)}\n"
        + (f"<v {label}>{text}</v>" if voice else f"{label}: {text}") + "\n\n"
        for i, (a, b, label, text) in enumerate(cues, 1))
    for ext, head in (("vtt", "WEBVTT\n\n"), ("srt", "")):
        t = outcome(_file(tmp_path, ext, (head + body).encode()))
        if t is not None:
            assert all(x.time_start is None or x.time_end is None or x.time_start <= x.time_end
                       for x in t.turns)


_yaml_piece = st.sampled_from([
    "name: x\n", "name: [1]\n", "documents:\n", "  - id: a\n", "    file: a.txt\n",
    "    kind: interview\n", "    kind: nonsense\n", "    speakers: {P1: F01}\n", "    speakers: []\n",
    "attributes: {sector: {values: [a]}}\n", "attributes: 3\n", "participants: p.csv\n",
    "participants: [{participant_id: F01}]\n", "tables:\n", "  - {id: t, file: t.csv, kind: other, text_column: x}\n",
    "speakers: {pattern: '(?P<speaker>['}\n", "settings: {privacy: {organisations: 3}}\n",
    "\t", ": :\n", "&a [*a]\n", "- \n", "\x00", "\x85", "key: !!python/object:os.system x\n",
])


@FUZZ
@given(pieces=st.lists(_yaml_piece, max_size=12), raw=st.binary(max_size=40))
def test_manifest_loader(tmp_path, pieces, raw):
    folder = tmp_path / f"c{next(_counter)}"
    folder.mkdir()
    (folder / "a.txt").write_text("Interviewer: hi?\nP1: yes\n")
    (folder / "t.csv").write_text("x\nhello\n")
    (folder / "p.csv").write_bytes(raw)
    (folder / "manifest.yaml").write_bytes("".join(pieces).encode("utf-8", "surrogatepass") + raw)
    try:
        load_corpus(folder)
    except HcrisisError as exc:
        assert "\n" not in exc.one_line()


# ---------------------------------------------------------------- YAML structure
def _yaml_tree():
    """YAML text of nested flow collections `depth` deep, some anchored and aliased."""
    leaf = st.sampled_from(["x", "1", "'q'", "null", "*a", "&a y"])
    return st.recursive(leaf, lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(st.tuples(st.sampled_from(["k", "m", "n"]), inner), max_size=3).map(
            lambda kv: "{" + ", ".join(f"{k}{i}: {v}" for i, (k, v) in enumerate(kv)) + "}"),
        inner.map(lambda x: "&b " + x),
    ), max_leaves=12)


@FUZZ
@given(tree=_yaml_tree(), depth=st.integers(0, 160))
def test_yaml_aliases_and_nesting(tmp_path, tree, depth):
    """A tree nested `depth` more levels loads as yaml.safe_load does, unless it holds an
    anchor or alias or is nested past the cap: then a one-line error naming a line."""
    import yaml

    from hcrisis.yamlspec import MAX_DEPTH, load_yaml
    text = "top: " + "[" * depth + tree + "]" * depth + "\n"
    p = _file(tmp_path, "yaml", text.encode())
    try:
        data, lines = load_yaml(p)
    except HcrisisError as exc:
        assert "\n" not in exc.one_line() and exc.line == 1
        assert "&" in text or "*" in text or "nested deeper" in exc.message or "duplicate" in exc.message
        return
    assert "&" not in text and "*" not in text
    assert data == yaml.safe_load(text) and lines["top"] == 1
    assert depth < MAX_DEPTH


# ---------------------------------------------------------------- paths named in a manifest
@FUZZ
@given(parts=st.lists(st.sampled_from(["..", ".", "a", "b", "out", "inner", "/", "/etc", "a/../.."]),
                      min_size=1, max_size=6))
def test_named_paths_stay_inside(tmp_path, parts):
    from hcrisis.errors import InputError
    from hcrisis.files import contained
    root = tmp_path / "corpus"
    (root / "a" / "b").mkdir(parents=True, exist_ok=True)
    if not (root / "out").exists():
        (root / "out").symlink_to(tmp_path)          # leads out
        (root / "inner").symlink_to(root / "a")      # stays in
    name = "/".join(parts)
    try:
        target = contained(root, name, named_in=root / "manifest.yaml", key="documents[0].file")
    except InputError as exc:
        assert exc.one_line().startswith(f"{root / 'manifest.yaml'}: documents[0].file: '{name}' is outside")
        assert not Path(os.path.realpath(root / name)).is_relative_to(root.resolve())
        return
    assert target == Path(os.path.realpath(root / name)) and target.is_relative_to(root.resolve())


# ---------------------------------------------------------------- user regexes
_atom = st.sampled_from(["a", "b", "ab", ".", "[ab]", "[^a]", r"\.", "(?:a|b)", "(?:a|aa)", "x?"])


def _regex():
    return st.recursive(_atom, lambda inner: st.one_of(
        st.tuples(inner, inner).map("".join),
        st.tuples(inner, inner).map(lambda ab: f"(?:{ab[0]}|{ab[1]})"),
        st.tuples(inner, st.sampled_from(["+", "*", "?", "{1,3}", "+?", "{2}"])).map(
            lambda ir: f"(?:{ir[0]}){ir[1]}"),
        inner.map(lambda x: f"({x})"),
    ), max_leaves=6)


@FUZZ
@given(pattern=_regex(), anchor=st.sampled_from(["", "^", "(?m)^", "(?i)", "(?s)"]),
       texts=st.lists(st.text(alphabet="abAB.\n x", max_size=12), min_size=1, max_size=4))
def test_re2_means_what_python_means(pattern, anchor, texts):
    """Where RE2 runs a pattern, its matches are Python's (cross-check of two engines)."""
    from hcrisis.saferegex import UserRegex, _Expired, cpu_budget
    rx = UserRegex(anchor + pattern, "fuzz")
    for text in texts:
        got = [(m.start(), m.end(), m.groups()) for m in rx.finditer(text)]
        try:
            with cpu_budget(1.0):
                want = [(m.start(), m.end(), m.groups()) for m in rx.python.finditer(text)]
        except _Expired:
            continue
        assert got == want, (rx.engine, anchor + pattern, text)


@FUZZ
@given(pattern=_regex())
def test_adversarial_probe_ends(pattern):
    """The probe of any pattern ends (its own budget) with a message or None."""
    from hcrisis.saferegex import slow_problem
    result = slow_problem(pattern)
    assert result is None or result.startswith("too slow: over 0.25 s")
