"""The compact outline (hcrisis.engine.partitions.outline) that a partitioned command keeps
for every segment row: what the whole corpus's checks read of it equals what they read of
the full segments table (masks, selections, their errors, languages, the privacy guard's
speakers), and partitions' outlines merge into the outline of the whole table."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import ROOT, write
from hcrisis.engine.partitions import OUTLINE_COLUMNS, Partition, merge_outlines, open_source, outline
from hcrisis.engine.stages import Scope, count_words
from hcrisis.errors import CorpusError, InputError
from hcrisis.ingest.corpus import load_corpus, outline_marks
from hcrisis.ingest.privacy import speaker_people
from hcrisis.ingest.segments import ALL, SELECTABLE, Segment, attributes_of, by_segments, segment_problems, select
from hcrisis.text.freq import FreqSettings, check_languages

EXCERPTS = ROOT / "corpora" / "thesis-excerpts"


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """Interviews in two languages, a focus group with an unmapped label, a turn with no
    word, an attribute left empty: the full table with its texts as marks, and the outline."""
    root = tmp_path_factory.mktemp("outline")
    write(root / "manifest.yaml", """\
name: mixed
attributes:
  sector: {values: [local authority, housing association]}
  wave: {}
documents:
  - {id: a, file: a.txt, kind: interview, attributes: {sector: local authority, wave: early}, participants: [pa]}
  - {id: b, file: b.txt, kind: interview, language: fr, attributes: {sector: housing association}, participants: [pb]}
  - {id: g, file: g.txt, kind: focus group, attributes: {wave: late}, speakers: {P1: g1, Moderator: interviewer}}
""")
    write(root / "a.txt", "Interviewer: Skills?\nR: People skills matter.\nInterviewer: ...\nR: Housing, too.\n")
    write(root / "b.txt", "Q: Et les chefs ?\nR: Les chefs ont une vision.\n")
    write(root / "g.txt", "Moderator: Welcome.\nP1: Training matters.\nP2: Tenants first.\nP2: --\n")
    c = load_corpus(root)
    return c, c.segments.assign(text=outline_marks(c.segments["text"].tolist())), outline(c.segments)


def _columns(table: pd.DataFrame) -> list[str]:
    return [*SELECTABLE, *attributes_of(table), "position", "region"]


@st.composite
def segments(draw, table: pd.DataFrame):
    """A segment on 0-2 columns (selectable, attributes, or ones no outline answers), each
    with values present in the table or not, with or without the interviewer."""
    where = {}
    for column in draw(st.lists(st.sampled_from(_columns(table)), max_size=2, unique=True)):
        present = sorted({str(v) for v in table[column]}) if column in table else []
        values = draw(st.lists(st.sampled_from(present + ["nothing", "True", "no"]), min_size=1, max_size=2))
        where[column] = values if len(values) > 1 else values[0]
    return Segment("s", "S", where, include_interviewer=draw(st.booleans()))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_property_outline_selects_as_the_full_table(mixed, data):
    _, full, small = mixed
    seg = data.draw(segments(full))
    problems = segment_problems(seg, full)
    assert segment_problems(seg, small) == problems
    if not any(column for column, *_ in problems):      # masks of columns that exist
        assert (seg.mask(small) == seg.mask(full)).all()


@pytest.mark.parametrize("column", [*SELECTABLE, "sector", "wave", "position", "segment_id"])
def test_by_each_column_gives_the_same_segments_or_error(mixed, column):
    _, full, small = mixed

    def chosen(table):
        try:
            return by_segments(table, column, "manifest.yaml")
        except InputError as exc:
            return exc.one_line()

    assert chosen(small) == chosen(full)


def test_select_errors_and_languages_read_the_same(mixed):
    _, full, small = mixed
    for where in (["sector=housing association"], ["wave=early;sector=local authority"], ["kind=interview"]):
        assert select(small, where=where) == select(full, where=where)
    for where in (["wave=autumn"], ["region=north"], ["kind=focus group;language=fr"],
                  ["wave=late;sector=local authority"]):
        with pytest.raises(InputError) as expected:
            select(full, where=where)
        with pytest.raises(InputError) as got:
            select(small, where=where)
        assert got.value.one_line() == expected.value.one_line()
    every = Segment("all", "All").mask(full)
    with pytest.raises(InputError) as expected:
        check_languages(every, full, FreqSettings(), "all")
    with pytest.raises(InputError) as got:
        check_languages(every, small, FreqSettings(), "all")
    assert got.value.one_line() == expected.value.one_line() == (
        "segment 'all' spans languages en, fr (select one language (where: {language: en}) or set "
        "settings.freq.languages: together in the study)")


def test_privacy_guard_reads_the_same_speakers(mixed):
    c, _, small = mixed
    assert speaker_people(c) == speaker_people(c.__class__(**{**c.__dict__, "segments": small}))


def test_outline_keeps_the_checked_columns_as_categoricals(mixed):
    c, full, small = mixed
    assert list(small.columns) == [col for col in full.columns if col in OUTLINE_COLUMNS or col in c.attributes]
    strings = [col for col in small.columns if col != "is_interviewer"]
    assert all(isinstance(small[col].dtype, pd.CategoricalDtype) for col in strings)
    assert all(list(small[col].cat.categories) == sorted(set(full[col])) for col in strings)
    assert all(small[col].tolist() == full[col].tolist() for col in small.columns)


@pytest.mark.parametrize("cut", [[1, 1, 1], [2, 1], [1, 2], [3]])
def test_partitions_outlines_merge_into_the_whole_outline(mixed, cut):
    c, _, small = mixed
    source, docs, parts = open_source(c.root), ["a", "b", "g"], []
    for size in cut:
        parts.append(Partition(len(parts), tuple(docs[:size])))
        docs = docs[size:]
    merged = merge_outlines([outline(source.segments(p)) for p in parts])
    pd.testing.assert_frame_equal(merged, small)


def test_excerpts_outline_merged_by_document():
    """The thesis excerpts (a table of excerpts, a registry): one partition per document."""
    source = open_source(EXCERPTS)
    whole = load_corpus(EXCERPTS).segments
    parts = [Partition(i, (d,)) for i, d in enumerate(dict.fromkeys(whole["document_id"]))]
    pd.testing.assert_frame_equal(merge_outlines([outline(source.segments(p)) for p in parts]), outline(whole))


@pytest.fixture
def clashing(tmp_path):
    """Three tables whose ids clash across them: 'R2' (rows 2 and 5) before 'R1' (rows 1 and 6)."""
    write(tmp_path / "manifest.yaml", "name: clash\ntables:\n" + "".join(
        f"  - {{id: {t}, file: {t}.csv, kind: survey response, text_column: answer, id_column: rid}}\n"
        for t in "abc"))
    write(tmp_path / "a.csv", "rid,answer\nR1,Pay.\nR2,Rent.\nR3,Repairs.\n")
    write(tmp_path / "b.csv", "rid,answer\nR4,Pay.\nR2,Rent.\n")
    write(tmp_path / "c.csv", "rid,answer\nR1,Pay.\n")
    return tmp_path, [Partition(i, (t,)) for i, t in enumerate("abc")]


def test_a_clash_across_partitions_names_the_first_row_an_earlier_row_repeats(clashing):
    from hcrisis.engine.partitions import check_unique_ids, id_hashes

    root, parts = clashing
    with pytest.raises(CorpusError, match="segment id 'R2' occurs twice") as whole:
        load_corpus(root)
    source = open_source(root)
    with pytest.raises(CorpusError) as got:
        check_unique_ids(source, parts, [id_hashes(source.segments(p)) for p in parts])
    assert got.value.one_line() == whole.value.one_line()
    with pytest.raises(CorpusError) as counted:
        count_words(root, [Scope(ALL)], FreqSettings(), partitions=parts)
    assert counted.value.one_line() == whole.value.one_line()


def test_ids_whose_hashes_clash_are_told_apart(clashing):
    """Two different ids of the same hash are no clash; the same id is."""
    import numpy as np

    from hcrisis.engine.partitions import check_unique_ids

    root, parts = clashing
    source = open_source(root)
    same = [np.zeros(n, dtype=np.uint64) for n in (3, 2, 1)]     # every id hashed alike
    with pytest.raises(CorpusError, match="segment id 'R2' occurs twice"):
        check_unique_ids(source, parts, same)
    write(root / "c.csv", "rid,answer\nR5,Pay.\n")
    write(root / "b.csv", "rid,answer\nR4,Pay.\nR6,Rent.\n")
    check_unique_ids(source, parts, same)
