"""The declared study: a YAML file naming corpus, segments, references and outputs.

Like a spaCy project file, the study file holds the workflow's declarations
rather than hiding them in scripts. Paths are relative to the study file.

    study: thesis
    title: ...
    corpus: ../corpora/thesis-excerpts
    design: ../corpora/study-design
    codebook: ../codebooks/thesis.yaml
    outputs: ../outputs
    segments:
      - id: la
        label: Local authority interviews and focus groups
        figure: "5.2"
        where: {sector: local authority}
    settings: {freq: {min_length: 3}}
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from hcrisis.errors import SchemaError
from hcrisis.ingest.segments import Segment, segment_problems
from hcrisis.yamlspec import Field, Lines, load_validated

DEFAULT_STUDY = Path("studies/thesis.yaml")

_SEGMENT = Field("map", keys={
    "id": Field("str", required=True),
    "label": Field("str", required=True),
    "figure": Field("str"),
    "section": Field("str"),
    "where": Field("dict", values=Field("any")),
    "include_interviewer": Field("bool"),
})
STUDY_SPEC = Field("map", keys={
    "study": Field("str", required=True),
    "title": Field("str"),
    "description": Field("str"),
    "corpus": Field("str", required=True),
    "design": Field("str"),
    "codebook": Field("str"),
    "outputs": Field("str"),
    "segments": Field("list", items=_SEGMENT),
    "settings": Field("dict", values=Field("dict", values=Field("any"))),
})




@dataclass
class Study:
    path: Path
    name: str
    data: dict[str, Any]
    lines: Lines
    segments: list[Segment]

    def resolve(self, key: str, default: str | None = None) -> Path | None:
        value = self.data.get(key, default)
        return (self.path.parent / value).resolve() if value else None

    @property
    def corpus_path(self) -> Path:
        return self.resolve("corpus")

    @property
    def outputs(self) -> Path:
        return self.resolve("outputs", "outputs")

    def settings(self, stage: str) -> dict[str, Any]:
        return dict(self.data.get("settings", {}).get(stage, {}))

    def segment(self, seg_id: str) -> Segment:
        for seg in self.segments:
            if seg.id == seg_id:
                return seg
        known = ", ".join(s.id for s in self.segments)
        raise SchemaError(self.path, [("segments", self.lines.get("segments"),
                                       f"no segment '{seg_id}' (known: {known})")])


def load_study(path: str | Path) -> Study:
    p = Path(path)
    data, lines = load_validated(p, STUDY_SPEC)
    segments = [Segment(s["id"], s["label"], s.get("where", {}), s.get("figure"), s.get("section"),
                        s.get("include_interviewer", False)) for s in data.get("segments", [])]
    ids = [s.id for s in segments]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise SchemaError(p, [("segments", lines.get("segments"), f"duplicate segment id(s): {', '.join(dupes)}")])
    return Study(p, data["study"], data, lines, segments)


def check_segment_columns(study: Study, segments: pd.DataFrame) -> None:
    """Every segment must select words of the corpus (`hcrisis.ingest.segments.segment_problems`:
    declared attributes, values that exist, not empty); every problem with its line."""
    problems = []
    for i, seg in enumerate(study.segments):
        for attribute, message, fix in segment_problems(seg, segments):
            path = f"segments[{i}]" + (f".where.{attribute}" if attribute else "")
            problems.append((path, study.lines.get(path), f"{message}; {fix}"))
    if problems:
        raise SchemaError(study.path, problems)
