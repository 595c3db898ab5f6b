"""YAML with line numbers and the schema checker."""

from __future__ import annotations

import pytest

from hcrisis.errors import InputError, SchemaError
from hcrisis.yamlspec import Field, load_validated, load_yaml, validate

from conftest import write

SPEC = Field("map", keys={
    "name": Field("str", required=True),
    "n": Field("int"),
    "items": Field("list", items=Field("map", keys={"id": Field("str", required=True)})),
    "mode": Field("str", choices=("a", "b")),
})


def test_lines_recorded(tmp_path):
    data, lines = load_yaml(write(tmp_path / "x.yaml", "name: x\nitems:\n  - id: a\n  - id: b\n"))
    assert data == {"name": "x", "items": [{"id": "a"}, {"id": "b"}]}
    assert (lines["name"], lines["items"], lines["items[1].id"]) == (1, 2, 4)


def test_every_problem_reported_with_path_and_line(tmp_path):
    p = write(tmp_path / "x.yaml", "n: two\nitems:\n  - idd: a\nmode: c\nextra: 1\n")
    with pytest.raises(SchemaError) as exc:
        load_validated(p, SPEC)
    assert exc.value.problems == [
        ("extra", 5, "unknown key (known keys: items, mode, n, name)"),
        ("(top level)", 1, "missing required key 'name'"),
        ("n", 1, "expected int, got str"),
        ("items[0].idd", 3, "unknown key (known keys: id)"),
        ("items[0]", 3, "missing required key 'id'"),
        ("mode", 4, "'c' is not one of a, b"),
    ]
    assert exc.value.one_line().startswith(f"{p}:5: extra: unknown key")


def test_duplicate_key(tmp_path):
    p = write(tmp_path / "x.yaml", "name: a\nname: b\n")
    with pytest.raises(SchemaError) as exc:
        load_yaml(p)
    assert exc.value.problems == [("name", 2, "duplicate key")]


def test_bool_is_not_int():
    assert validate({"name": "x", "n": True}, SPEC, {}) == [("n", None, "expected int, got bool")]


def test_empty_and_not_utf8(tmp_path):
    with pytest.raises(InputError, match="file is empty"):
        load_validated(write(tmp_path / "e.yaml", ""), SPEC)
    with pytest.raises(InputError, match="not UTF-8"):
        load_yaml(write(tmp_path / "b.yaml", b"name: \xff\n"))
