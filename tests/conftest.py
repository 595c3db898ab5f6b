"""Shared fixtures: small hand-checkable corpora built in tmp folders."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def png_zlib_class(path: Path) -> int:
    """The compression class a PNG's image data declares in its zlib header (RFC 1950
    FLEVEL: 0 for level 1, 1 for levels 2-5, 2 for the default 6, 3 for 7-9)."""
    data = Path(path).read_bytes()
    return data[data.index(b"IDAT") + 5] >> 6


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    """Two interviews and a focus group, with a participant registry."""
    write(tmp_path / "manifest.yaml", """\
name: tiny
attributes:
  sector: {values: [local authority, housing association]}
  source_type: {}
  gender: {}
participants: participants.csv
documents:
  - id: int01
    file: int01.txt
    kind: national interview
    attributes: {source_type: national interview}
    participants: [P01]
  - id: int02
    file: int02.txt
    kind: national interview
    attributes: {source_type: national interview}
    participants: [P02]
  - id: fg1
    file: fg1.txt
    kind: focus group
    attributes: {source_type: focus group, sector: housing association}
    speakers: {P1: F01, P2: F02, Moderator: interviewer}
""")
    write(tmp_path / "participants.csv",
          "participant_id,sector,gender\nP01,local authority,female\nP02,housing association,male\n"
          "F01,,female\nF02,,male\n")
    write(tmp_path / "int01.txt", "Interviewer: What skills?\nR: People skills matter.\nHousing too.\n")
    write(tmp_path / "int02.txt", "Q: And leaders?\nA: Leaders need vision.\n")
    write(tmp_path / "fg1.txt", "Moderator: Welcome.\nP1: Training matters.\nP2: Tenants first.\nP3: Yes.\n")
    return tmp_path


def step_context(study, corpus, out: Path, type_name: str, settings: dict | None = None,
                 results: dict | None = None):
    """A StepContext for calling one step type's function directly, with the results
    (`{type: results}`) of the steps it reads."""
    from hcrisis.study.model import StepDecl
    from hcrisis.study.parallel import Workers
    from hcrisis.study.runner import PlannedStep, Run, StepContext
    from hcrisis.study.steptypes import step_type

    run = Run(study, corpus, out, None, Workers())
    run.results.update(results or {})
    decl = StepDecl(type_name, type_name, settings or {}, None, None, 0)
    return StepContext(run, PlannedStep(decl, step_type(type_name), {t: t for t in results or {}}))
