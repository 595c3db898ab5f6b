"""spaCy's lookup tables (spacy-lookups-data), found and read as spaCy finds and reads
them (`spacy.util.registry.lookups`, `spacy.util.load_language_data`) without importing
spaCy, which costs most of a second in a process that only looks lemmas up."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

# the entry-point group spaCy's `registry.lookups` reads: a language's tables by name
ENTRY_POINTS = "spacy_lookups"


def lookup_tables(language: str) -> dict[str, Path]:
    """The files of the tables a lookups package registers for `language`, {} if none."""
    from importlib.metadata import entry_points

    for entry in entry_points(group=ENTRY_POINTS, name=language):
        return {name: Path(str(path)) for name, path in entry.load().items()}
    return {}


def read_table(path: Path) -> dict:
    """A table's data: the JSON file, else its gzipped twin (`<file>.gz`), as spaCy reads it."""
    if path.exists():
        return json.loads(path.read_bytes())
    zipped = path.with_name(path.name + ".gz")
    if zipped.exists():
        return json.loads(gzip.decompress(zipped.read_bytes()))
    raise FileNotFoundError(f"no lookup table {path} (nor {zipped.name})")
