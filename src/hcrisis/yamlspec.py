"""YAML loading with line numbers, and a small declarative schema checker.

Manifests, study files and codebooks are validated with the same checker: it
rejects unknown keys, checks types and required keys, and reports *every*
problem at once, each with its path inside the document (`documents[2].file`)
and its YAML line.
"""

from __future__ import annotations

import gc
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


# libyaml's parser where PyYAML was built with it (its wheels are): the
# pure-Python one cost a quarter of a second per codebook. Errors are
# re-parsed with the pure-Python parser, whose messages name the problem.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Files a user hands over are untrusted: YAML anchors and aliases are refused
# (an alias bomb of a few hundred bytes expands to gigabytes), and so are
# collections nested deeper than this (a codebook's code tree of 30 levels
# is about 70 deep).
MAX_DEPTH = 100
MAX_YAML_BYTES = 50 * 1024 * 1024
_STR = "tag:yaml.org,2002:str"


class _Builder:
    """Python data and the line of every key path, built from parser events.

    Events rather than a composed node tree: a node tree of a 300,000-document
    manifest takes ten times longer to build than its events, and events carry
    the anchors and aliases the loader refuses.
    """

    def __init__(self, path: Path):
        self.path = path
        self.lines: Lines = {}
        self.resolver = yaml.resolver.Resolver()
        # first characters a plain scalar of another type than str can start with
        self.typed_starts = set(self.resolver.yaml_implicit_resolvers) - {""}
        self.constructor = yaml.constructor.SafeConstructor()
        # open collections: [container, its key path, pending key or None, that key's line]
        self.stack: list[list[Any]] = []
        self.root: Any = None
        self.documents = 0
        self.handlers = {
            yaml.ScalarEvent: self._on_scalar, yaml.MappingStartEvent: self._on_start,
            yaml.SequenceStartEvent: self._on_start, yaml.MappingEndEvent: self._on_end,
            yaml.SequenceEndEvent: self._on_end, yaml.AliasEvent: self._refuse,
            yaml.DocumentStartEvent: self._on_document,
        }

    def error(self, message: str, event: yaml.Event, fix: str) -> InputError:
        return InputError(message, path=self.path, line=event.start_mark.line + 1, fix=fix)

    def feed(self, event: yaml.Event) -> None:
        handler = self.handlers.get(type(event))
        if handler is not None:   # stream and document ends need nothing
            handler(event)

    def _refuse(self, event: yaml.Event) -> None:
        raise self.error("YAML anchors and aliases (&name, *name) are not accepted", event,
                         "write the repeated part out in full")

    def _on_document(self, event: yaml.Event) -> None:
        self.documents += 1
        if self.documents > 1:
            raise self.error("more than one YAML document ('---')", event, "keep one document per file")

    def _on_start(self, event: yaml.CollectionStartEvent) -> None:
        if event.anchor is not None:
            self._refuse(event)
        if len(self.stack) >= MAX_DEPTH:
            raise self.error(f"nested deeper than {MAX_DEPTH} levels", event, "flatten the structure")
        container: Any = {} if type(event) is yaml.MappingStartEvent else []
        path = self._place(container, event)
        self.stack.append([container, path, None, 0])

    def _on_end(self, event: yaml.Event) -> None:
        self.stack.pop()

    def _on_scalar(self, event: yaml.ScalarEvent) -> None:
        if event.anchor is not None:
            self._refuse(event)
        self._place(self._scalar(event), event)

    def _place(self, value: Any, event: yaml.Event) -> str:
        """Put a value into the open collection (or make it the root); return its key path."""
        line = event.start_mark.line + 1
        if not self.stack:
            self.root = value
            self.lines[""] = line
            return ""
        frame = self.stack[-1]
        container, path = frame[0], frame[1]
        if isinstance(container, list):
            child = _child(path, len(container))
            container.append(value)
            self.lines[child] = line
            return child
        if frame[2] is None:   # a key
            if isinstance(value, (dict, list)):
                raise self.error("a mapping key must be a plain value", event,
                                 "write the key as text")
            key = str(value)
            child = _child(path, key)
            if key in container:
                raise SchemaError(self.path, [(child, line, "duplicate key")])
            frame[2], frame[3] = key, line
            return child
        key, child = frame[2], _child(path, frame[2])
        container[key] = value
        self.lines[child] = frame[3]   # a key's line, not its value's
        frame[2] = None
        return child

    def _scalar(self, event: yaml.ScalarEvent) -> Any:
        """A scalar as yaml.safe_load gives it (implicit types resolved, unsafe tags refused)."""
        tag, value = event.tag, event.value
        if tag is None and (not event.implicit[0] or (value and value[0] not in self.typed_starts)):
            return value   # quoted, or plain text no implicit type can match: the common case
        if tag is None or tag == "!":
            tag = self.resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag == _STR:
            return event.value
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        construct = self.constructor.yaml_constructors.get(tag, self.constructor.yaml_constructors[None])
        return construct(self.constructor, node)


def parse_yaml(text: str) -> Any:
    """yaml.safe_load with libyaml where available (for packaged and derived files;
    user files go through `load_yaml`, which keeps line numbers and refuses aliases)."""
    return yaml.load(text, Loader=_FAST_LOADER)


def _build(text: str, path: Path) -> _Builder:
    builder = _Builder(path)
    try:
        for event in yaml.parse(text, Loader=_FAST_LOADER):
            builder.feed(event)
    except yaml.YAMLError:
        builder = _Builder(path)
        for event in yaml.parse(text, Loader=yaml.SafeLoader):   # raises again, with its clearer message
            builder.feed(event)
    return builder


def load_yaml(path: str | Path) -> tuple[Any, Lines]:
    """Parse a YAML file; return its data and a map from key path to line."""
    p = Path(path)
    raw = read_bytes(p, MAX_YAML_BYTES)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 (byte {exc.start})", path=p,
                         fix="save the file as UTF-8") from None
    # The garbage collector's passes over millions of new containers made a
    # large manifest's load quadratic; nothing built here holds a cycle.
    collecting = gc.isenabled()
    gc.disable()
    try:
        builder = _build(text, p)
    except yaml.YAMLError as exc:  # also ReaderError (control characters), not a MarkedYAMLError
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc).splitlines()[0]
        raise InputError(f"malformed YAML: {problem}", path=p, line=line,
                         fix="fix the YAML syntax at that line") from None
    finally:
        if collecting:
            gc.enable()
    return builder.root, builder.lines


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
