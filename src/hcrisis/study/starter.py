"""`hcrisis study init`: a starter study file for a corpus, to edit.

It declares segment `all`, one segment per value of each declared attribute
(the values the manifest lists, else those found in the corpus; at most
`MAX_VALUES` per attribute), the generic steps, and comments saying what to
edit. Nothing in it is specific to any one study.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from hcrisis.errors import InputError
from hcrisis.files import write_atomic
from hcrisis.study.model import CODEBOOK_TYPES, DEFAULT_STEPS

MAX_VALUES = 12


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_") or "value"


def _quoted(value: str) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def starter_study(corpus_path: str | Path, study_path: str | Path) -> str:
    """The text of a starter study for the corpus, its paths relative to `study_path`'s folder."""
    from hcrisis.ingest.corpus import load_corpus

    corpus = load_corpus(corpus_path)
    root, here = Path(corpus.root).resolve(), Path(study_path).resolve().parent
    rel = os.path.relpath(root, here).replace(os.sep, "/")
    # a corpus beside the study's folder is outside it: declare the folder holding both
    base = os.path.relpath(os.path.commonpath([root, here]), here).replace(os.sep, "/")
    lines = [f"# Starter study for the corpus {corpus.name}: edit it, then run `hcrisis reproduce {study_path}`.",
             "# Paths are relative to this file. Every key: README, \"Study file format\".",
             f"study: {_slug(corpus.name)}", f"title: {_quoted(corpus.name)}",
             *([f"base_folder: {base}   # paths may lead here (README, \"Security and privacy\")"]
               if base != "." else []),
             f"corpus: {rel}",
             "# codebook: codebook.yaml       # a coding frame, for the coding steps", "outputs: outputs",
             "# Segments: named slices of the corpus (participant turns). Rename, merge or delete them;",
             "# `where` maps an attribute to a value or a list of values.", "segments:",
             "  - {id: all, label: All participants}"]
    seen = {"all"}
    segments = corpus.segments
    for attr in corpus.attributes:
        declared = corpus.manifest.get("attributes", {}).get(attr) or {}
        values = declared.get("values") or sorted(v for v in segments[attr].dropna().astype(str).unique() if v)
        if len(values) > MAX_VALUES:
            lines.append(f"  # {attr}: {len(values)} values, too many for a segment each")
            continue
        for value in values:
            seg_id = _slug(f"{attr}_{value}")
            if seg_id not in seen:
                seen.add(seg_id)
                lines.append(f"  - {{id: {seg_id}, label: {_quoted(f'{attr}: {value}')}, "
                             f"where: {{{attr}: {_quoted(value)}}}}}")
    lines += ["# Steps run in this order (each after the steps it reads). Delete what you do not need;",
              "# uncomment coding, matrix and cooccurrence once `codebook:` above names one. Add",
              "# `checks` steps to declare published numbers and claims (README, \"Check types\").",
              "steps:"]
    lines += [("  # - " if s["type"] in CODEBOOK_TYPES else "  - ") + f"{{id: {s['id']}, type: {s['type']}}}"
              for s in DEFAULT_STEPS]
    return "\n".join(lines) + "\n"


def write_starter_study(corpus_path: str | Path, out: str | Path, force: bool = False) -> Path:
    """Write `starter_study` to `out`; never over an existing file unless `force`."""
    out = Path(out)
    if out.exists() and not force:
        raise InputError("file exists", path=out, fix="choose another --out or pass --force")
    return write_atomic(out, starter_study(corpus_path, out))
