"""Figures inlined in the report: SVG files made safe to share one HTML page.

Several SVG documents in one page share one id space and one set of style
rules, so each figure's ids (matplotlib's clip paths and glyphs) are given
the figure's own prefix and its `*` style rules are scoped to it. The root
element gets a viewBox (word clouds are written with a width and height
only) so CSS can scale it to the page, and an accessible name. A figure that
would run code or fetch anything (a script, an event handler, an external
link) is refused: the report makes no network requests.
"""

from __future__ import annotations

import re
from pathlib import Path

from markupsafe import Markup, escape

from hcrisis.errors import InputError
from hcrisis.files import read_bytes

MAX_SVG_BYTES = 5 * 1024 * 1024
_ROOT = re.compile(r"<svg\b[^>]*>", re.DOTALL)
_UNSAFE = re.compile(r"<script|<foreignObject|\son[a-z]+\s*=|javascript:|(?:href|src)\s*=\s*(?![\"']?(?:#|data:))"
                     r"|url\(\s*(?![\"']?(?:#|data:))", re.IGNORECASE)
_ATTR = re.compile(r'\s(width|height|viewBox)="([^"]*)"')


def _number(length: str) -> float | None:
    """The number of an SVG length such as 576pt or 1600 (None for percentages)."""
    m = re.fullmatch(r"\s*([0-9.]+)\s*(px|pt)?\s*", length)
    return float(m.group(1)) if m else None


def _root(tag: str, prefix: str, label: str) -> str:
    """The root <svg> tag with a viewBox, no fixed size, an id and an accessible name."""
    attrs = dict(_ATTR.findall(tag))
    tag = _ATTR.sub("", tag)
    view = attrs.get("viewBox")
    if not view:
        w, h = _number(attrs.get("width", "")), _number(attrs.get("height", ""))
        if not w or not h:
            raise ValueError("no viewBox, width or height")
        view = f"0 0 {w:g} {h:g}"
    extra = f' id="{prefix}" viewBox="{view}" role="img" aria-label="{escape(label)}"'
    return tag[:-1].rstrip("/ ") + extra + ">"


def inline_svg(path: Path, prefix: str, label: str) -> Markup:
    """The SVG file's markup for inlining under `prefix`, named `label` for screen readers."""
    text = read_bytes(path, MAX_SVG_BYTES).decode("utf-8", errors="replace")
    root = _ROOT.search(text)
    if root is None or _UNSAFE.search(text):
        raise InputError("not a plain SVG figure (no <svg> element, or a script or external link)",
                         path=path, fix="re-run `hcrisis reproduce` to redraw it")
    try:
        head = _root(root.group(), prefix, label)
    except ValueError as exc:
        raise InputError(f"cannot size the figure: {exc}", path=path, fix="re-run `hcrisis reproduce`") from None
    body = text[root.end():]
    body = re.sub(r'(?<=\s)id="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', body)
    body = re.sub(r'(href="#|url\(#)([^")]+)', lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", body)
    body = re.sub(r"(<style[^>]*>.*?</style>)", lambda m: m.group(1).replace("*{", f"#{prefix} *{{"),
                  body, flags=re.DOTALL)
    return Markup(head + body.rstrip())
