"""The declared study: a YAML file naming corpus, segments, steps and outputs.

Like a spaCy (weasel) project file, the study file holds the workflow's
declarations rather than hiding them in scripts: each step names a
registered step type (`hcrisis.study.steptypes`), its settings and the steps
whose results it reads. Paths are relative to the study file.

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
    steps:
      - {id: freq, type: frequencies}
      - {id: clouds, type: clouds, settings: {segments: [all, la]}}
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
    "base_folder": Field("str"),
    "corpus": Field("str", required=True),
    "design": Field("str"),
    "codebook": Field("str"),
    "outputs": Field("str"),
    "segments": Field("list", items=_SEGMENT),
    "steps": Field("list", items=Field("map", keys={
        "id": Field("str", required=True),
        "type": Field("str", required=True),
        "settings": Field("dict", values=Field("any")),
        "reads": Field("list", items=Field("str")),
        "writes": Field("str"),
        "description": Field("str"),
    })),
    "settings": Field("dict", values=Field("dict", values=Field("any"))),
})
CODEBOOK_TYPES = ("coding", "matrix", "cooccurrence")
# A study without `steps:` runs these (the step types of any study; those of
# CODEBOOK_TYPES only when the study declares a codebook).
DEFAULT_STEPS = [
    {"id": "describe", "type": "describe"},
    {"id": "frequencies", "type": "frequencies"},
    {"id": "keyness", "type": "keyness"},
    {"id": "clouds", "type": "clouds"},
    {"id": "terms", "type": "terms"},
    {"id": "coding", "type": "coding"},
    {"id": "matrix", "type": "matrix"},
    {"id": "cooccurrence", "type": "cooccurrence"},
    {"id": "report", "type": "report"},
    {"id": "html", "type": "html"},
    {"id": "workbook", "type": "workbook"},
]


@dataclass(frozen=True)
class StepDecl:
    """One declared step: its id, registered type, settings, the steps it reads
    (None: the ones its type needs) and its folder under the outputs."""

    id: str
    type: str
    settings: dict[str, Any]
    reads: tuple[str, ...] | None
    writes: str | None
    index: int          # position in `steps:` (for error lines)

@dataclass
class Study:
    path: Path
    name: str
    data: dict[str, Any]
    lines: Lines
    segments: list[Segment]
    steps: list[StepDecl]

    def resolve(self, key: str, default: str | None = None) -> Path | None:
        """A path the study names (relative to the study file), refused outside the
        study file's folder or, if declared, its `base_folder`."""
        value = self.data.get(key, default)
        return self._contained(value, key, self.lines.get(key)) if value else None

    def _contained(self, value: str, key: str, line: int | None) -> Path:
        within = self.path.parent / self.data.get("base_folder", ".")
        return contained(self.path.parent, value, named_in=self.path, key=key, line=line, within=within)

    @property
    def corpus_path(self) -> Path:
        return self.resolve("corpus")

    @property
    def outputs(self) -> Path:
        return self.resolve("outputs", "outputs")

    def settings(self, stage: str) -> dict[str, Any]:
        return dict(self.data.get("settings", {}).get(stage, {}))

    def path_setting(self, value: str | None) -> Path | None:
        """A file named in a setting, relative to the study file's folder (not the cwd),
        held inside it (or `base_folder`) as every path the study names."""
        return self._contained(value, "settings", self.lines.get("settings")) if value else None

    def line(self, path: str) -> int | None:
        return self.lines.get(path)

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
    declared = data.get("steps") or [d for d in DEFAULT_STEPS if "codebook" in data or d["type"] not in CODEBOOK_TYPES]
    steps = [StepDecl(d["id"], d["type"], dict(d.get("settings", {})),
                      tuple(d["reads"]) if "reads" in d else None, d.get("writes"), i)
             for i, d in enumerate(declared)]
    dupes = sorted(i for i, n in Counter(s.id for s in steps).items() if n > 1)
    if dupes:
        raise SchemaError(p, [("steps", lines.get("steps"), f"duplicate step id(s): {', '.join(dupes)}")])
    escaping = [s for s in steps if s.writes and (Path(s.writes).is_absolute() or ".." in Path(s.writes).parts)]
    if escaping:   # a step writes under the study's outputs folder only
        where = f"steps[{escaping[0].index}].writes"
        raise SchemaError(p, [(where, lines.get(where), f"'{escaping[0].writes}' leaves the outputs folder "
                               "(name a folder inside it)")])
    return Study(p, data["study"], data, lines, segments, steps)


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
