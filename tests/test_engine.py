"""Partitioned reductions (hcrisis.engine): equal to the whole-corpus path for any
partitioning; the Dask engine byte-identical to the local one; corpus pack."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from typer.testing import CliRunner

from conftest import ROOT, write
from hcrisis.cli import app
from hcrisis.engine.partitions import Partition, open_source, pack_corpus, plan
from hcrisis.coding.apply import code_corpus
from hcrisis.engine.partitions import outline
from hcrisis.engine.stages import Scope, count_words
from hcrisis.ingest.corpus import load_corpus
from hcrisis.ingest.segments import ALL, Segment
from hcrisis.text.freq import FreqCounter, FreqSettings
from hcrisis.text.tokens import tokenize_segments

WORDS = ("housing tenants managing managed manager homes repairs the and of people skills leadership "
         "council rent arrears communication yeah um you know sort of kind housing's can't e.g. "
         "Tenants HOUSING").split()
SECTORS = ("local authority", "housing association", "ALMO")
N_DOCS = 9
runner = CliRunner()


def _turn(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 14))) + rng.choice([".", "?", "!", ""])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Nine transcripts (interviews and focus groups, interviewer turns, fillers, stems), fixed seed."""
    root = tmp_path_factory.mktemp("engine") / "corpus"
    rng = random.Random(18)
    docs = []
    for i in range(N_DOCS):
        lines = []
        for _ in range(rng.randint(4, 12)):
            lines += [f"Interviewer: {_turn(rng)}", f"{rng.choice(['R', 'R', 'P1', 'P2'])}: {_turn(rng)}"]
        write(root / f"d{i}.txt", "\n".join(lines) + "\n")
        docs.append(f"  - {{id: d{i}, file: d{i}.txt, kind: interview, attributes: {{sector: {SECTORS[i % 3]}}}, "
                    f"speakers: {{R: p{i}a, P1: p{i}b, P2: p{i}c}}}}\n")
    write(root / "manifest.yaml", "name: engine\nattributes:\n  sector: {values: [local authority, housing association, "
          "ALMO]}\ndocuments:\n"
          + "".join(docs))
    return root


@pytest.fixture(scope="module")
def whole(corpus):
    c = load_corpus(corpus)
    return c, tokenize_segments(c.segments)


LA = Segment("la", "Local authority", where={"sector": "local authority"})
HA = Segment("ha", "Housing association", where={"sector": ["housing association"]})
SETTINGS = [FreqSettings(), FreqSettings(grouping="stemmed", min_length=2), FreqSettings(stop_words="none")]


def cuts(draw_sizes: list[int]) -> list[Partition]:
    """Partitions of the nine documents in order, of the drawn sizes."""
    ids = [f"d{i}" for i in range(N_DOCS)]
    parts, at = [], 0
    for size in draw_sizes:
        if at < len(ids):
            parts.append(Partition(len(parts), tuple(ids[at:at + size])))
            at += size
    if at < len(ids):
        parts.append(Partition(len(parts), tuple(ids[at:])))
    return parts


partitionings = st.lists(st.integers(1, N_DOCS), min_size=1, max_size=N_DOCS).map(cuts)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=partitionings, which=st.sampled_from(range(len(SETTINGS))))
def test_property_partitioned_counts_equal_whole_corpus(corpus, whole, parts, which):
    c, tokens = whole
    s = SETTINGS[which]
    counter = FreqCounter(tokens, c.segments, s)
    merged = count_words(corpus, [Scope(ALL), Scope(LA), Scope(LA, rest=True), Scope(HA)], s, partitions=parts)
    for k, scope in enumerate([ALL, LA, counter.rest(LA), HA]):
        expected = counter.table(scope)
        got = merged.table(k)
        assert got.equals(expected) and got.index.equals(expected.index)
        assert got.attrs == expected.attrs
    assert merged.keyness(1, 3, labels=("la", "ha")).equals(counter.keyness(LA, HA, labels=("la", "ha")))
    pd.testing.assert_frame_equal(merged.outline, outline(c.segments))      # what the checks read
    assert merged.keyness(1, 2, labels=("la", "rest")).equals(
        counter.keyness(LA, counter.rest(LA), labels=("la", "rest")))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=partitionings)
def test_property_partitioned_codings_equal_whole_corpus(corpus, whole, parts):
    from hcrisis.coding.apply import apply_codebook
    from hcrisis.coding.codebook import load_codebook

    c, tokens = whole
    book = load_codebook(ROOT / "codebooks" / "thesis.yaml")
    expected = apply_codebook(book, c.segments, tokens)
    got = code_corpus(corpus, book, c.segments["segment_id"].to_numpy(), partitions=parts)
    assert len(expected) > 20
    pd.testing.assert_frame_equal(got, expected)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=partitionings, by=st.sampled_from(["sector", "speaker", "document_id", "is_interviewer"]))
def test_property_selection_chosen_after_the_count_equals_whole_corpus(corpus, whole, parts, by):
    """Counted by groups of rows, the segments of `--by` chosen on the outline afterwards:
    the tables of the segments chosen on the whole corpus first."""
    from hcrisis.engine.stages import CountJob, ScopeCounts, tally
    from hcrisis.ingest.segments import Selection

    c, tokens = whole
    selection = Selection(by=by)
    source = open_source(corpus)
    total = tally(CountJob(source, FreqSettings(), selection=selection), partitions=parts)
    chosen = selection.resolve(total.outline)
    assert chosen == selection.resolve(c.segments)
    merged = ScopeCounts(total, FreqSettings(), source, [Scope(s) for s in chosen])
    counter = FreqCounter(tokens, c.segments, FreqSettings(languages="together"))
    for k, seg in enumerate(chosen):
        expected = counter.table(seg)
        assert merged.table(k).equals(expected) and merged.table(k).attrs == expected.attrs


def test_freq_and_compare_read_each_transcript_once(corpus, tmp_path, monkeypatch):
    import hcrisis.ingest.corpus as corpus_module

    reads = []
    real = corpus_module.read_transcript
    monkeypatch.setattr(corpus_module, "read_transcript", lambda path, *a: reads.append(path) or real(path, *a))
    for command in (["freq", "--by", "sector"], ["compare", "--where", "sector=ALMO"]):
        reads.clear()
        result = runner.invoke(app, [command[0], str(corpus), *command[1:], "--out", str(tmp_path / command[0])])
        assert result.exit_code == 0, result.output
        assert sorted(reads) == sorted(corpus / f"d{i}.txt" for i in range(N_DOCS))

@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=partitionings)
def test_property_partitioned_outputs_equal_whole_corpus(corpus, whole, parts, tmp_path_factory):
    """codings.csv and the quotation files (the same bytes), matrices and co-occurrence."""
    from hcrisis.coding.apply import apply_codebook, code_partitions, cooccurrence, matrix, spilled_outputs, write_codings
    from hcrisis.coding.codebook import load_codebook

    c, tokens = whole
    book = load_codebook(ROOT / "codebooks" / "thesis.yaml")
    expected = apply_codebook(book, c.segments, tokens)
    assert len(expected) > 20
    out = tmp_path_factory.mktemp("codings")
    write_codings(expected, book, c.segments, out / "whole")
    with code_partitions(open_source(corpus), book, out / "parts", ["sector"], guarded=True,
                         partitions=parts) as coded:
        spilled_outputs(coded.spill, book, out / "parts", quotes=True)
        got = pd.concat(list(coded.spill.units()), ignore_index=True)
        pd.testing.assert_frame_equal(coded.matrix("sector"), matrix(expected, book, c.segments, "sector"))
        pd.testing.assert_frame_equal(coded.cooccurrence(), cooccurrence(expected, book))
    assert _files(out / "parts") == _files(out / "whole") and len(_files(out / "whole")) > 3
    assert got["segment_id"].tolist() == expected["segment_id"].tolist()      # what the privacy guard reads
    assert got["quote"].tolist() == [t[a:b] for t, a, b in zip(c.segments["text"].to_numpy()[expected["row"]],
                                                                expected["start"], expected["end"])]
    assert sorted(p.name for p in out.iterdir()) == ["parts", "whole"]     # no temporary folder left


def test_runs_merged_a_few_keys_at_a_time_give_the_same_bytes(corpus, whole, tmp_path, monkeypatch):
    """Seven keys held over four runs, two files open at a time: the whole-corpus path's files
    and the privacy guard's units in the same order."""
    import hcrisis.coding.codings as codings
    from hcrisis.coding.apply import apply_codebook, code_partitions, spilled_outputs, unit_texts, write_codings
    from hcrisis.coding.codebook import load_codebook

    c, tokens = whole
    book = load_codebook(ROOT / "codebooks" / "thesis.yaml")
    expected = apply_codebook(book, c.segments, tokens)
    write_codings(expected, book, c.segments, tmp_path / "whole")
    monkeypatch.setattr(codings, "KEYS_HELD", 7)
    monkeypatch.setattr(codings, "OPEN_FILES", 2)
    with code_partitions(open_source(corpus), book, tmp_path / "parts", ["sector"], guarded=True,
                         partitions=cuts([2, 4, 1, 2])) as coded:
        spilled_outputs(coded.spill, book, tmp_path / "parts", quotes=True)
        got = pd.concat(list(coded.spill.units()), ignore_index=True)
    assert _files(tmp_path / "parts") == _files(tmp_path / "whole") and len(_files(tmp_path / "whole")) > 3
    assert got["segment_id"].tolist() == expected["segment_id"].tolist()
    assert got["quote"].tolist() == unit_texts(expected, c.segments)


def test_forked_local_engine_codes_the_same_bytes(corpus, tmp_path):
    """Two forked processes (three partitions) give the outputs of one process."""
    from hcrisis.coding.apply import code_partitions, spilled_outputs
    from hcrisis.coding.codebook import load_codebook
    from hcrisis.engine.run import Engine

    book = load_codebook(ROOT / "codebooks" / "thesis.yaml")
    written = {}
    for processes in (1, 2):
        out = tmp_path / str(processes)
        with code_partitions(open_source(corpus), book, out, ["sector"], guarded=False, engine=Engine(processes),
                             partitions=cuts([3, 3, 3])) as coded:
            spilled_outputs(coded.spill, book, out, quotes=True)
            written[processes] = (_files(out), coded.matrix("sector"), coded.cooccurrence(), coded.rows)
    assert written[2][0] == written[1][0] and len(written[1][0]) > 3
    pd.testing.assert_frame_equal(written[2][1], written[1][1])
    pd.testing.assert_frame_equal(written[2][2], written[1][2])
    assert written[2][3] == written[1][3] == len(load_corpus(corpus).segments)


def _refuse_second(item, shared):
    from hcrisis.errors import InputError

    if item == 2:
        raise InputError("unreadable partition", path=shared, fix="pack the corpus again")
    return item * 10


def test_forked_local_engine_passes_errors_and_order(tmp_path):
    from hcrisis.engine.run import Engine
    from hcrisis.errors import InputError

    assert list(Engine(2).map(_refuse_second, [5, 1, 3, 4], None)) == [50, 10, 30, 40]
    with pytest.raises(InputError) as err:
        list(Engine(2).map(_refuse_second, [1, 2, 3], tmp_path / "p.parquet"))
    assert err.value.one_line() == f"{tmp_path / 'p.parquet'}: unreadable partition (pack the corpus again)"


def test_plan_groups_documents_by_size():
    sizes = [("a", 5), ("b", 5), ("c", 1), ("d", 20), ("e", 0)]
    assert [p.documents for p in plan(sizes, max_bytes=10)] == [("a", "b"), ("c",), ("d",), ("e",)]
    assert [p.documents for p in plan(sizes, max_bytes=100)] == [("a", "b", "c", "d", "e")]
    assert plan([], 10) == []


def test_pack_round_trip(corpus, whole, tmp_path):
    written = pack_corpus(corpus, tmp_path / "packed", max_bytes=2_000)
    assert written[-1].name == "pack.json" and len(written) > 3
    source = open_source(tmp_path / "packed")
    parts = source.partitions()
    table = pd.concat([source.segments(p) for p in parts], ignore_index=True)
    pd.testing.assert_frame_equal(table, whole[0].segments)
    # the same corpus packs to the same bytes
    again = pack_corpus(corpus, tmp_path / "again", max_bytes=2_000)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in written]


def test_pack_refuses_a_non_empty_folder(corpus, tmp_path):
    write(tmp_path / "out" / "keep.txt", "x")
    result = runner.invoke(app, ["corpus", "pack", str(corpus), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.output == f"Error: {tmp_path / 'out'}: output folder is not empty (give a new or empty folder for --out)\n"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["keep.txt"]


def test_packed_corpus_gives_the_same_counts(corpus, tmp_path):
    pack_corpus(corpus, tmp_path / "packed", max_bytes=3_000)
    s = FreqSettings(grouping="stemmed")
    packed = count_words(tmp_path / "packed", [Scope(ALL), Scope(LA, rest=True)], s)
    folder = count_words(corpus, [Scope(ALL), Scope(LA, rest=True)], s)
    assert len(open_source(tmp_path / "packed").partitions()) > 1
    for k in range(2):
        assert packed.table(k).equals(folder.table(k))


def test_partitions_tokenise_each_language_with_its_pipeline(tmp_path):
    """A French document counted by partition drops French stop words, as the whole-corpus
    counter does (the partition path once tokenised every text as English)."""
    write(tmp_path / "manifest.yaml", "name: bilingual\ndocuments:\n  - {id: en1, file: en1.txt, kind: interview}\n"
                                      "  - {id: fr1, file: fr1.txt, kind: interview, language: fr}\n")
    write(tmp_path / "en1.txt", "Q: What about the homes?\nR: The homes are old and the rents rise.\n")
    write(tmp_path / "fr1.txt", "Q: Et les logements ?\nR: Les logements sont anciens et les loyers montent.\n")
    c = load_corpus(tmp_path)
    french = Segment("fr", "French", where={"language": "fr"})
    counted = count_words(tmp_path, [Scope(french)], FreqSettings())
    whole = FreqCounter(tokenize_segments(c.segments), c.segments, FreqSettings()).table(french)
    assert counted.table(0)["word"].tolist() == whole["word"].tolist() == ["anciens", "logements", "loyers",
                                                                           "montent"]


def test_scheduler_needs_dask_engine(corpus, tmp_path):
    result = runner.invoke(app, ["freq", str(corpus), "--out", str(tmp_path), "--scheduler", "tcp://x:1"])
    assert result.exit_code == 1
    assert result.output == "Error: --scheduler needs --engine dask (add --engine dask or leave out --scheduler)\n"


# ---- the Dask engine on a LocalCluster of two worker processes ----------------------

@pytest.fixture(scope="module")
def cluster():
    dask = pytest.importorskip("dask")
    from distributed import LocalCluster
    # one failure allowed: a task whose worker dies runs once more, on a fresh worker
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=50) as local:
            yield local.scheduler_address


COMMANDS = {
    "freq": ["freq", "{corpus}", "--grouping", "stemmed", "--out", "{out}"],
    "compare": ["compare", "{corpus}", "--where", "sector=local authority", "--out", "{out}"],
    "code": ["code", "{corpus}", "--codebook", "{codebook}", "--out", "{out}"],
}
CODEBOOK = """\
codebook: engine
version: "1"
codes:
  - id: housing
    label: Housing
    definition: Homes and tenants.
    rules: {keywords: [housing, homes, tenant*]}
    codes:
      - id: repairs
        label: Repairs
        definition: Repairs to homes.
        rules: {keywords: [repairs], phrases: [council rent]}
  - id: skills
    label: Skills
    definition: Skills of managers and leaders.
    rules: {keywords: [skills, leadership, manag*], near: [{terms: [people, skills], within: 4}]}
"""


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_dask_engine_writes_the_same_bytes(cluster, corpus, tmp_path, command):
    outputs = {}
    for engine in ("local", "dask"):
        out = tmp_path / engine
        codebook = write(tmp_path / "codebook.yaml", CODEBOOK)
        args = [a.format(corpus=corpus, out=out, codebook=codebook) for a in COMMANDS[command]]
        extra = ["--engine", "dask", "--scheduler", cluster] if engine == "dask" else []
        result = runner.invoke(app, args + extra, terminal_width=200)
        assert result.exit_code == 0, result.output
        outputs[engine] = _files(out)
    assert outputs["dask"] == outputs["local"] and len(outputs["local"]) >= 2


def _kill_first_attempt(part, shared):
    """Kill this worker process the first time partition 1 runs (a marker file remembers)."""
    import os
    import signal

    from hcrisis.engine.stages import count_partial

    job, marker = shared
    if part.index == 1 and not marker.exists():
        marker.write_text("killed")
        os.kill(os.getpid(), signal.SIGKILL)
    return count_partial(part, job)


def _always_kill(part, shared):
    import os
    import signal

    os.kill(os.getpid(), signal.SIGKILL)


def test_a_killed_worker_is_retried_with_the_same_result(cluster, corpus, whole, tmp_path):
    import cloudpickle

    from hcrisis.engine.run import open_engine
    from hcrisis.engine.stages import CountJob, ScopeCounts, Tally

    cloudpickle.register_pickle_by_value(__import__(__name__))    # workers need not import the tests
    source = open_source(corpus)
    job = CountJob(source, FreqSettings(), (Scope(ALL),))
    parts = cuts([3, 3, 3])
    with open_engine("dask", cluster) as engine:
        partials = list(engine.map(_kill_first_attempt, parts, (job, tmp_path / "killed")))
    assert (tmp_path / "killed").exists()
    tally = Tally()
    for p in partials:
        tally.add(p)
    total = tally.total()
    c, tokens = whole
    assert ScopeCounts(total, FreqSettings(), source).table(0).equals(
        FreqCounter(tokens, c.segments, FreqSettings()).table(ALL))


def test_workers_dying_every_time_fail_in_one_line(cluster, corpus):
    import cloudpickle

    from hcrisis.engine.run import open_engine
    from hcrisis.errors import HcrisisError

    cloudpickle.register_pickle_by_value(__import__(__name__))
    with open_engine("dask", cluster) as engine, pytest.raises(HcrisisError) as err:
        list(engine.map(_always_kill, cuts([9]), None))
    assert err.value.one_line().startswith("Dask workers died running a partition more times than the scheduler "
                                           "allows (KilledWorker); nothing was written")


def test_in_flight_submits_a_bounded_number_ahead():
    from hcrisis.engine.run import in_flight

    submitted = []
    handed = []
    for future in in_flight(lambda item: submitted.append(item) or item * 10, range(7), 3):
        handed.append(future)
        assert len(submitted) - len(handed) <= 3
    assert handed == [0, 10, 20, 30, 40, 50, 60] and submitted == list(range(7))


def test_a_forked_process_dying_is_one_error_line():
    """A partition's process killed (out of memory) gives the engine's error, not a traceback."""
    import os

    from hcrisis.engine.run import Engine
    from hcrisis.errors import HcrisisError

    def work(item, shared):
        if item == 2:
            os._exit(9)
        return item + shared

    with pytest.raises(HcrisisError, match="a process working on a partition died"):
        list(Engine(processes=2).map(work, range(5), 10))
    assert list(Engine(processes=2).map(lambda item, shared: item * shared, range(4), 3)) == [0, 3, 6, 9]
