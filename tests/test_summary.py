"""`hcrisis corpus info` by partition (hcrisis.engine.summary): the whole corpus's table
for any partitioning, and the command's output."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from typer.testing import CliRunner

from conftest import write
from hcrisis.cli import app
from hcrisis.engine.partitions import Partition
from hcrisis.engine.summary import describe_corpus
from hcrisis.errors import CorpusError
from hcrisis.ingest.corpus import corpus_summary, load_corpus
from test_engine import corpus, partitionings, whole  # noqa: F401  (fixtures and strategy)

BY = [None, "sector", "document", "speaker", "participant", "role", "language"]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=partitionings, by=st.sampled_from(BY))
def test_property_partitioned_summary_equals_whole_corpus(corpus, whole, parts, by):  # noqa: F811
    c, tokens = whole
    expected = corpus_summary(c, by, tokens=tokens)
    got = describe_corpus(corpus, by, partitions=parts).table
    pd.testing.assert_frame_equal(got, expected)


def test_summary_counts_a_participant_of_two_documents_once(tmp_path):
    """Participants and documents are counted once across partitions: literal table (words:
    alphabetic tokens of 3+ letters; the unmapped label X speaks as a participant)."""
    root = tmp_path / "c"
    write(root / "a.txt", "Interviewer: what skills matter?\nR: housing management skills matter most.\n")
    write(root / "b.txt", "Interviewer: and tenants?\nR: tenants need housing officers.\nX: hello there everyone.\nX: goodbye all.\n")
    write(root / "manifest.yaml", "name: two\nattributes:\n  sector: {}\ndocuments:\n"
          "  - {id: a, file: a.txt, kind: interview, attributes: {sector: la}, speakers: {R: p1}}\n"
          "  - {id: b, file: b.txt, kind: interview, attributes: {sector: la}, speakers: {R: p1}}\n")
    described = describe_corpus(root, "sector", partitions=[Partition(0, ("a",)), Partition(1, ("b",))])
    whole_table = corpus_summary(load_corpus(root), "sector")
    pd.testing.assert_frame_equal(described.table, whole_table)
    assert described.table.to_dict("records") == [
        {"sector": "la", "documents": 2, "participants": 1, "segments": 6, "words": 19,
         "participant_words": 14, "interviewer_words": 5, "unlabelled_words": 0}]
    assert described.unmapped_speakers == [("b", "X")] == load_corpus(root).unmapped_speakers


def test_unknown_attribute_is_one_line(corpus):  # noqa: F811
    with pytest.raises(CorpusError, match="unknown attribute 'region'"):
        describe_corpus(corpus, "region")
    result = CliRunner().invoke(app, ["corpus", "info", str(corpus), "--by", "region"])
    assert result.exit_code == 1
    assert result.output.splitlines()[-1].startswith(f"Error: {corpus / 'manifest.yaml'}: unknown attribute 'region'")


def test_corpus_info_command_prints_the_whole_corpus_table(corpus, whole):  # noqa: F811
    result = CliRunner().invoke(app, ["corpus", "info", str(corpus), "--by", "sector", "--format", "csv"])
    assert result.exit_code == 0, result.output
    expected = corpus_summary(whole[0], "sector", tokens=whole[1])
    assert result.stdout.splitlines()[0] == ",".join(expected.columns)
    assert len(result.stdout.splitlines()) == len(expected) + 1


def test_a_segment_id_in_two_partitions_is_the_whole_corpus_error(tmp_path):
    """Two tables whose ids clash, read in different partitions: corpus info, the word
    counts, the terms and code stop with the error a corpus read whole gives."""
    from hcrisis.coding.apply import code_partitions
    from hcrisis.coding.codebook import build_codebook
    from hcrisis.engine.partitions import open_source
    from hcrisis.engine.stages import Scope, count_words
    from hcrisis.engine.terms import TermScope, partitioned_terms
    from hcrisis.ingest.segments import ALL
    from hcrisis.text.freq import FreqSettings

    root = tmp_path / "c"
    for name, answer in (("a", "More training for housing officers."), ("b", "Clearer careers in housing.")):
        write(root / f"{name}.csv", f"rid,answer\nR1,{answer}\nR{name},{answer}\n")
    write(root / "manifest.yaml", "name: clash\ntables:\n"
          "  - {id: a, file: a.csv, kind: survey response, text_column: answer, id_column: rid}\n"
          "  - {id: b, file: b.csv, kind: survey response, text_column: answer, id_column: rid}\n")
    with pytest.raises(CorpusError, match="segment id 'R1' occurs twice"):
        load_corpus(root)
    parts = [Partition(0, ("a",)), Partition(1, ("b",))]
    with pytest.raises(CorpusError, match="segment id 'R1' occurs twice"):
        describe_corpus(root, partitions=parts)
    with pytest.raises(CorpusError, match="segment id 'R1' occurs twice"):
        count_words(root, [Scope(ALL)], FreqSettings(), partitions=parts)
    with pytest.raises(CorpusError, match="segment id 'R1' occurs twice"):
        partitioned_terms(root, [TermScope((ALL,), 1, 1, None)], partitions=parts)
    book = build_codebook({"codebook": "b", "codes": [{"id": "t", "label": "Training", "rules": {"keywords": ["training"]}}]})
    with pytest.raises(CorpusError, match="segment id 'R1' occurs twice"):
        with code_partitions(open_source(root), book, tmp_path / "out", [], guarded=False, partitions=parts):
            pass
    assert not (tmp_path / "out").exists()
