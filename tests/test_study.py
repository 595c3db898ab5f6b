"""The study file and segment selection."""

from __future__ import annotations

import pandas as pd
import pytest

from hcrisis.errors import SchemaError
from hcrisis.ingest.segments import Segment
from hcrisis.study.model import DEFAULT_STUDY, check_segment_columns, load_study

from conftest import ROOT, write


def test_segment_mask():
    df = pd.DataFrame({"is_interviewer": [True, False, False, False],
                       "sector": ["", "local authority", "ALMO", "local authority"],
                       "source_type": ["", "focus group", "focus group", "national interview"]})
    assert Segment("s", "S", {"sector": "local authority"}).mask(df).tolist() == [False, True, False, True]
    both = Segment("s", "S", {"source_type": ["focus group"], "sector": ["ALMO", "x"]})
    assert both.mask(df).tolist() == [False, False, True, False]
    assert Segment("s", "S", include_interviewer=True).mask(df).tolist() == [True] * 4


def test_thesis_study_file():
    study = load_study(ROOT / DEFAULT_STUDY)
    assert [s.id for s in study.segments] == ["all", "la", "ha", "national", "focus_groups",
                                              "case_studies", "almo"]
    assert [s.figure for s in study.segments][:6] == ["5.1", "5.2", "5.3", "5.4", "5.5", "5.6"]
    assert study.corpus_path == (ROOT / "corpora/thesis-excerpts").resolve()


def test_errors(tmp_path):
    p = write(tmp_path / "s.yaml", "study: x\ncorpus: c\nsegments:\n  - {id: a, label: A, where: {sectr: LA}}\n"
                                   "  - {id: a, label: B}\n")
    with pytest.raises(SchemaError, match="duplicate segment id"):
        load_study(p)
    write(p, "study: x\ncorpus: c\nsegments:\n  - {id: a, label: A, where: {sectr: LA}}\n")
    study = load_study(p)
    with pytest.raises(SchemaError) as exc:
        check_segment_columns(study, pd.DataFrame({"sector": [], "text": []}))
    assert exc.value.problems == [("segments[0].where.sectr", 4,
                                   "segment 'a': unknown attribute 'sectr' (declared: sector; also document_id, "
                                   "kind, participant_id, speaker, is_interviewer, speaker_role, language); declare it under 'attributes' "
                                   "in the corpus manifest, or use a declared one")]
    with pytest.raises(SchemaError, match="no segment 'zz' \\(known: a\\)"):
        study.segment("zz")


@pytest.mark.parametrize("steps,problem", [
    ("  - {id: a, type: cloud}\n", ("steps[0].type", 5, "unknown step type 'cloud' (use one of describe, ")),
    ("  - {id: m, type: matrix}\n", ("steps[0]", 5, "step 'm' (matrix) reads the results of a 'coding' step: "
                                                  "declare one before it")),
    ("  - {id: a, type: describe, reads: [b]}\n  - {id: b, type: describe, reads: [a]}\n",
     ("steps", 4, "steps read each other in a cycle: a -> b -> a")),
    ("  - {id: a, type: describe, reads: [zz]}\n", ("steps[0].reads", 5, "no step 'zz' (steps: a)")),
])
def test_step_declaration_errors(tmp_path, steps, problem):
    from hcrisis.study.runner import plan

    p = write(tmp_path / "s.yaml", "study: x\ncorpus: c\nsegments: []\nsteps:\n" + steps)
    with pytest.raises(SchemaError) as exc:
        plan(load_study(p))
    path, line, message = exc.value.problems[0]
    assert (path, line) == problem[:2] and message.startswith(problem[2])


def test_steps_run_after_the_steps_they_read(tmp_path):
    from hcrisis.study.runner import plan, select

    p = write(tmp_path / "s.yaml", "study: x\ncorpus: c\ncodebook: cb.yaml\nsteps:\n"
                                   "  - {id: m, type: matrix}\n  - {id: d, type: describe}\n"
                                   "  - {id: c, type: coding}\n  - {id: r, type: report}\n")
    study = load_study(p)
    steps = plan(study)
    assert [s.decl.id for s in steps] == ["c", "m", "d", "r"]
    assert [s.decl.id for s in select(steps, ["m"], study)] == ["c", "m", "r"]
    # steps whose work goes on in the background (clouds, matrix) run first, after what they read
    p = write(tmp_path / "b.yaml", "study: x\ncorpus: c\ncodebook: cb.yaml\nsteps:\n"
                                   "  - {id: d, type: describe}\n  - {id: k, type: cooccurrence}\n"
                                   "  - {id: cl, type: clouds}\n  - {id: c, type: coding}\n"
                                   "  - {id: m, type: matrix}\n  - {id: r, type: report}\n")
    assert [s.decl.id for s in plan(load_study(p))] == ["cl", "c", "m", "d", "k", "r"]
    assert [s.id for s in load_study(write(tmp_path / "t.yaml", "study: x\ncorpus: c\n")).steps] == [
        "describe", "frequencies", "keyness", "clouds", "terms", "report", "html", "workbook"]   # no codebook: no coding steps
