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

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from hcrisis.errors import SchemaError
from hcrisis.files import contained
from hcrisis.ingest.segments import Segment
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
    "base_folder": Field("str"),
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
        """A path the study names (relative to the study file), refused outside the
        study file's folder or, if declared, its `base_folder`."""
        value = self.data.get(key, default)
        if not value:
            return None
        within = self.path.parent / self.data.get("base_folder", ".")
        return contained(self.path.parent, value, named_in=self.path, key=key, line=self.lines.get(key),
                         within=within)

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
    dupes = sorted(i for i, n in Counter(s.id for s in segments).items() if n > 1)
    if dupes:
        raise SchemaError(p, [("segments", lines.get("segments"), f"duplicate segment id(s): {', '.join(dupes)}")])
    return Study(p, data["study"], data, lines, segments)


def check_segment_columns(study: Study, segments: pd.DataFrame) -> None:
    """Every `where` key must name a column of the corpus's segments table."""
    problems = []
    for i, seg in enumerate(study.segments):
        for column in seg.where:
            if column not in segments.columns:
                path = f"segments[{i}].where.{column}"
                problems.append((path, study.lines.get(path),
                                 "unknown attribute (not a column of the corpus's segments table)"))
    if problems:
        raise SchemaError(study.path, problems)
