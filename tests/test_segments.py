"""Segment selection and validation (hcrisis.ingest.segments), for studies and commands alike."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, strategies as st

from hcrisis.errors import InputError, SchemaError
from hcrisis.ingest.segments import ALL, Segment, by_segments, parse_where, segment_problems, select
from hcrisis.study.model import check_segment_columns, load_study

from conftest import write

TABLE = pd.DataFrame({
    "segment_id": ["a:1", "a:2", "b:1", "b:2", "c:1"],
    "document_id": ["a", "a", "b", "b", "c"],
    "is_interviewer": [True, False, True, False, False],
    "text": ["Any news?", "Rotas again.", "And you?", "Training, mostly.", "..."],
    "wave": ["early", "early", "late", "late", "late"],
    "role": ["", "nurse", "", "manager", "nurse"],
})


def test_where_on_is_interviewer_selects_the_interviewer():
    assert Segment("q", "Q", {"is_interviewer": True}).mask(TABLE).tolist() == [True, False, True, False, False]
    assert parse_where("is_interviewer=yes").mask(TABLE).tolist() == [True, False, True, False, False]
    assert parse_where("is_interviewer=false").mask(TABLE).tolist() == [False, True, False, True, True]
    assert ALL.mask(TABLE).tolist() == [False, True, False, True, True]


def test_parse_where_ids_labels_and_masks():
    seg = parse_where("wave=early,late;role=nurse")
    assert (seg.id, seg.label) == ("wave-early-late_role-nurse", "wave = early or late; role = nurse")
    assert seg.mask(TABLE).tolist() == [False, True, False, False, True]
    with pytest.raises(InputError, match="cannot read --where 'wave='"):
        parse_where("wave=")


@given(st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True),
                       st.lists(st.text(st.characters(blacklist_characters=";,=", blacklist_categories=("Cs",)),
                                        min_size=1, max_size=6).map(str.strip).filter(bool),
                                min_size=1, max_size=3),
                       min_size=1, max_size=3))
def test_parse_where_reads_back_what_it_is_given(where):
    spec = ";".join(f"{a}={','.join(vs)}" for a, vs in where.items())
    seg = parse_where(spec)
    assert seg.where == {a: vs if len(vs) > 1 else vs[0] for a, vs in where.items()}
    assert seg.id and all(ch.isalnum() or ch in "-_" for ch in seg.id)   # safe in a file name


def test_problems_name_segment_attribute_and_existing_values():
    assert segment_problems(Segment("w", "W", {"wave": ["early", "Late"], "region": "x"}), TABLE) == [
        ("wave", "segment 'w': wave 'Late' matches nothing in the corpus (values of wave: early, late)",
         "use one of the values listed"),
        ("region", "segment 'w': unknown attribute 'region' (declared: wave, role; also document_id, kind, "
                   "participant_id, speaker, is_interviewer, speaker_role, language)",
         "declare it under 'attributes' in the corpus manifest, or use a declared one")]
    # the values listed are those of participant speech: role '' of the interviewer is not one
    assert segment_problems(Segment("m", "M", {"role": "Manager"}), TABLE)[0][1].endswith(
        "(values of role: manager, nurse)")
    # every condition matches something, but not together; and a turn of punctuation has no words
    assert segment_problems(Segment("x", "X", {"wave": "early", "role": "manager"}), TABLE)[0][1] == \
        "segment 'x' has 0 words in the corpus (wave = early; role = manager: 0 turn(s) selected)"
    assert segment_problems(Segment("c", "C", {"document_id": "c"}), TABLE)[0][1] == \
        "segment 'c' has 0 words in the corpus (document_id = c: 1 turn(s) selected)"
    assert segment_problems(Segment("ok", "OK", {"role": "nurse"}), TABLE) == []


def test_select_and_by():
    assert [s.id for s in by_segments(TABLE, "role")] == ["role-manager", "role-nurse"]
    declared = [Segment("all", "Everyone", include_interviewer=True), Segment("n", "Nurses", {"role": "nurse"})]
    chosen = select(TABLE, declared, ids=["all", "n"], where=["wave=late"])
    assert [s.id for s in chosen] == ["all", "n", "wave-late"]
    assert select(TABLE, declared)[0].label == "Everyone"        # the study's own `all`
    assert select(TABLE) == [ALL]
    with pytest.raises(InputError, match="segment 'wave-late' is selected twice"):
        select(TABLE, where=["wave=late", "wave=late"])
    with pytest.raises(InputError, match="no segment 'm' in the study \\(use one of all, n\\)"):
        select(TABLE, declared, ids=["m"])


def test_study_reports_every_segment_problem_with_its_line(tmp_path):
    p = write(tmp_path / "s.yaml", "study: x\ncorpus: c\nsegments:\n"
                                   "  - {id: e, label: E, where: {wave: Early}}\n"
                                   "  - {id: m, label: M, where: {wave: early, role: manager}}\n")
    with pytest.raises(SchemaError) as exc:
        check_segment_columns(load_study(p), TABLE)
    assert [(path, line) for path, line, _ in exc.value.problems] == [("segments[0].where.wave", 4),
                                                                      ("segments[1]", 5)]
