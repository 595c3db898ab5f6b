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
                                   "kind, participant_id, speaker, is_interviewer); declare it under 'attributes' "
                                   "in the corpus manifest, or use a declared one")]
    with pytest.raises(SchemaError, match="no segment 'zz' \\(known: a\\)"):
        study.segment("zz")
