"""YAML loading with line numbers, and a small declarative schema checker.

Manifests, study files and codebooks are validated with the same checker: it
rejects unknown keys, checks types and required keys, and reports *every*
problem at once, each with its path inside the document (`documents[2].file`)
and its YAML line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from hcrisis.errors import InputError, SchemaError
from hcrisis.files import read_bytes

Lines = dict[str, int]


def _child(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


# libyaml's composer where PyYAML was built with it (its wheels are): the
# pure-Python one cost a quarter of a second per codebook. Errors are
# re-parsed with the pure-Python loader, whose messages name the problem.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _scalar(node: yaml.Node) -> Any:
    """A scalar (or an aliased collection) as yaml.safe_load would give it."""
    return yaml.constructor.SafeConstructor().construct_object(node, deep=True)


def _construct(node: yaml.Node, path: str, lines: Lines) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(_scalar(key_node))
            if key in out:
                lines[_child(path, key)] = key_node.start_mark.line + 1
                raise SchemaError(lines.get("__file__", "?"),
                                  [(_child(path, key), key_node.start_mark.line + 1,
                                    "duplicate key")])
            lines[_child(path, key)] = key_node.start_mark.line + 1
            out[key] = _construct(value_node, _child(path, key), lines)
            lines[_child(path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, _child(path, i), lines) for i, item in enumerate(node.value)]
    return _scalar(node)


def parse_yaml(text: str) -> Any:
    """yaml.safe_load with libyaml where available (for packaged and derived files;
    user files go through `load_yaml`, which keeps line numbers)."""
    return yaml.load(text, Loader=_FAST_LOADER)


def _compose(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_FAST_LOADER)
    except yaml.YAMLError:
        return yaml.compose(text, Loader=yaml.SafeLoader)   # raises again, with its clearer message


def load_yaml(path: str | Path) -> tuple[Any, Lines]:
    """Parse a YAML file; return its data and a map from key path to line."""
    p = Path(path)
    raw = read_bytes(p)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 (byte {exc.start})", path=p,
                         fix="save the file as UTF-8") from None
    lines: Lines = {"__file__": str(p)}  # type: ignore[dict-item]
    try:
        node = _compose(text)
        if node is None:
            return None, lines
        data = _construct(node, "", lines)
    except SchemaError as exc:
        raise SchemaError(p, exc.problems) from None
    except yaml.YAMLError as exc:  # also ReaderError (control characters), not a MarkedYAMLError
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc).splitlines()[0]
        raise InputError(f"malformed YAML: {problem}", path=p, line=line,
                         fix="fix the YAML syntax at that line") from None
    except RecursionError:  # an alias inside itself (`&a [*a]`)
        raise InputError("malformed YAML: recursive alias", path=p,
                         fix="remove the alias that refers to itself") from None
    return data, lines


@dataclass
class Field:
    """One value's expected shape.

    kind: "str", "int", "float", "bool", "list", "map" (fixed keys), "dict"
    (free keys, values of `values`), or "any". `check` returns an error
    message or None.
    """

    kind: str
    required: bool = False
    keys: dict[str, "Field"] = field(default_factory=dict)
    items: "Field | None" = None
    values: "Field | None" = None
    choices: tuple[Any, ...] | None = None
    check: Callable[[Any], str | None] | None = None


_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,), "int": (int,), "float": (int, float), "bool": (bool,),
    "list": (list,), "map": (dict,), "dict": (dict,),
}


def validate(data: Any, spec: Field, lines: Lines, path: str = "") -> list[tuple[str, int | None, str]]:
    """Return every problem of `data` against `spec` as (path, line, message)."""
    problems: list[tuple[str, int | None, str]] = []
    line = lines.get(path)
    if spec.kind != "any":
        ok = isinstance(data, _TYPES[spec.kind]) and not (
            spec.kind in ("int", "float") and isinstance(data, bool))
        if not ok:
            shown = path or "(top level)"
            problems.append((shown, line, f"expected {spec.kind}, got {type(data).__name__}"))
            return problems
    if spec.choices is not None and data not in spec.choices:
        problems.append((path, line, f"{data!r} is not one of {', '.join(map(str, spec.choices))}"))
    if spec.check is not None:
        msg = spec.check(data)
        if msg:
            problems.append((path, line, msg))
    if spec.kind == "map":
        for key in data:
            if key not in spec.keys:
                known = ", ".join(sorted(spec.keys))
                problems.append((_child(path, key), lines.get(_child(path, key)),
                                 f"unknown key (known keys: {known})"))
        for key, sub in spec.keys.items():
            if key in data:
                problems += validate(data[key], sub, lines, _child(path, key))
            elif sub.required:
                problems.append((path or "(top level)", line, f"missing required key '{key}'"))
    elif spec.kind == "dict" and spec.values is not None:
        for key, value in data.items():
            problems += validate(value, spec.values, lines, _child(path, key))
    elif spec.kind == "list" and spec.items is not None:
        for i, item in enumerate(data):
            problems += validate(item, spec.items, lines, _child(path, i))
    return problems


def load_validated(path: str | Path, spec: Field) -> tuple[Any, Lines]:
    """Load a YAML file and validate it; raise SchemaError listing every problem."""
    data, lines = load_yaml(path)
    if data is None:
        raise InputError("file is empty", path=path, fix="see the README for its format")
    problems = validate(data, spec, lines)
    if problems:
        raise SchemaError(path, problems)
    return data, lines
