"""A codebook as the tree agreement compares on: ids in order, parents, published sections."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class CodeTree:
    """What agreement needs of a codebook: ids in order, parents, sections."""

    path: Path
    order: list[str]
    parent: dict[str, str | None]
    sections: dict[str, list[str]]
    labels: dict[str, str] = field(default_factory=dict)

    def theme(self, code: str) -> str:
        while self.parent[code] is not None:
            code = self.parent[code]
        return code

    def depth(self, code: str) -> int:
        return 0 if self.parent[code] is None else 1 + self.depth(self.parent[code])

    def at_level(self, code: str, level: str) -> str:
        return self.theme(code) if level == "theme" else code

    def __post_init__(self):
        self._rank = {code: i for i, code in enumerate(self.order)}   # rank() runs once per coding

    def rank(self, code: str) -> int:
        return self._rank[code]


def load_code_tree(path: str | Path) -> CodeTree:
    """The code hierarchy of a codebook, validated by `hcrisis.coding.codebook`."""
    from hcrisis.coding.codebook import load_codebook

    cb = load_codebook(path, require_rules=False)     # only the tree is compared
    return CodeTree(Path(path), [c.id for c in cb.codes], {c.id: c.parent for c in cb.codes},
                    {c.id: [normalise_section(s) for s in c.data.get("thesis_sections", [])] for c in cb.codes},
                    {c.id: c.label for c in cb.codes})


def normalise_section(value: object) -> str:
    """'5. 2' -> '5.2', '8.' -> '8': the thesis writes some numbers with spaces."""
    return re.sub(r"\s+", "", str(value)).strip(".")
