"""What REFI-QDA export and import share: namespaces, GUIDs and the code tree.

A code's REFI-QDA `Description` carries the codebook's definition, then its
`when_to_use`, `when_not_to_use` and `example` as paragraphs headed
"When to use:", "When not to use:" and "Example:", so the tools show them
and an import gives them back as fields.
"""

from __future__ import annotations

import re
import uuid

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
NS_PREFIX = "urn:QDA-XML:"          # older codebooks use e.g. urn:QDA-XML:codebook:0:4
# Fixed, so the same id always gives the same GUID (uuid5, RFC 4122 section 4.3).
_GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:hcrisis:refi-qda")
_GUID = re.compile(r"\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?")
DESCRIPTION_FIELDS = (("when_to_use", "When to use"), ("when_not_to_use", "When not to use"),
                      ("example", "Example"))


def guid(kind: str, key: str) -> str:
    """A GUID derived from hcrisis's stable id of one kind of object."""
    return str(uuid.uuid5(_GUID_NAMESPACE, f"{kind}:{key}"))


def normal_guid(value: str | None) -> str | None:
    """A GUID lower-cased without braces (`{ABC...}` and `abc...` are one GUID); None if malformed."""
    m = _GUID.fullmatch((value or "").strip())
    return m.group(1).lower() if m else None


def describe(code: dict) -> str | None:
    """A code's REFI-QDA description from its definition and usage fields."""
    parts = [code["definition"].strip()] if code.get("definition") else []
    parts += [f"{title}: {code[key].strip()}" for key, title in DESCRIPTION_FIELDS if code.get(key)]
    return "\n\n".join(parts) or None


def parse_description(text: str | None) -> dict[str, str]:
    """The fields of a description written by `describe` (any other text is the definition)."""
    fields: dict[str, list[str]] = {}
    heads = {f"{title}:": key for key, title in DESCRIPTION_FIELDS}
    key = "definition"
    for para in re.split(r"\n\s*\n", (text or "").replace("\r\n", "\n").strip()):
        head = next((h for h in heads if para.startswith(h)), None)
        if head:
            key, para = heads[head], para[len(head):].strip()
        if para:
            fields.setdefault(key, []).append(para)
    return {k: "\n\n".join(v) for k, v in fields.items()}


def colour(value: str | None) -> str | None:
    """A REFI-QDA colour (#RGB or #RRGGBB) as the codebook's #rrggbb."""
    m = re.fullmatch(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})", (value or "").strip())
    if not m:
        return None
    hexes = m.group(1)
    return "#" + (hexes if len(hexes) == 6 else "".join(c * 2 for c in hexes)).lower()
