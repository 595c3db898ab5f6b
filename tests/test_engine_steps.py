"""Tokens, terms and a study's reproduction on the engines (hcrisis.engine): tokens joined from
partitions equal the whole corpus's; `reproduce --engine dask` writes the local run's bytes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from typer.testing import CliRunner

from conftest import write
from hcrisis.cli import app
from hcrisis.engine import partitions as partitions_module
from hcrisis.engine.terms import partitioned_terms, scopes_of
from hcrisis.engine.tokens import engine_tokens
from hcrisis.ingest.corpus import load_corpus
from hcrisis.ingest.segments import ALL, Segment
from hcrisis.text.runs import run_terms
from hcrisis.text.terms import TermIndex, TermSettings, keyness_of, term_keyness
from hcrisis.text.tokens import Tokens, tokenize_segments
from test_any_study import study  # noqa: F401 - the ward study, a fixture
from test_engine import CODEBOOK, cluster, corpus, partitionings, whole  # noqa: F401 - fixtures

runner = CliRunner()


def assert_same_tokens(got: Tokens, expected: Tokens) -> None:
    for name in ("bounds", "type_id", "start", "sent_start", "space"):
        a, b = getattr(got, name), getattr(expected, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    pd.testing.assert_frame_equal(got.types, expected.types)
    assert got.segment_ids == expected.segment_ids and got.model == expected.model


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=partitionings)
def test_property_tokens_joined_from_partitions_equal_the_whole_corpus(corpus, whole, parts):  # noqa: F811
    assert_same_tokens(engine_tokens(corpus, partitions=parts), whole[1])


def test_joined_tokens_keep_each_language_apart(tmp_path):
    """Types are numbered by language, then form hash, whichever partitions hold them."""
    write(tmp_path / "manifest.yaml", "name: bilingual\ndocuments:\n  - {id: en1, file: en1.txt, kind: interview}\n"
                                      "  - {id: fr1, file: fr1.txt, kind: interview, language: fr}\n"
                                      "  - {id: en2, file: en2.txt, kind: interview}\n")
    write(tmp_path / "en1.txt", "Q: What about the homes?\nR: The homes are old and les loyers rise.\n")
    write(tmp_path / "fr1.txt", "Q: Et les logements ?\nR: Les logements sont anciens et les homes aussi.\n")
    write(tmp_path / "en2.txt", "Q: And rents?\nR: Rents rise, homes stay old.\n")
    expected = tokenize_segments(load_corpus(tmp_path).segments)
    parts = partitions_module.open_source(tmp_path).partitions(max_bytes=1)
    assert len(parts) == 3
    assert_same_tokens(engine_tokens(tmp_path, partitions=parts), expected)


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_reproduce_on_the_dask_engine_writes_the_local_bytes(study, cluster, monkeypatch):  # noqa: F811
    """Every output of the ward study (tokens, counts, terms, coding, agreement, report) is
    the same when its corpus is tokenised and coded one document per partition on Dask."""
    out = study.parent / "outputs"
    result = runner.invoke(app, ["reproduce", str(study), "--no-cache"])
    assert result.exit_code == 0, result.output
    local = _files(out)
    planned = partitions_module.FolderSource.partitions
    monkeypatch.setattr(partitions_module.FolderSource, "partitions", lambda self, max_bytes=0: planned(self, 1))
    for extra in (["--no-cache"], []):       # without, then with the rerun store (tokens as Arrow)
        result = runner.invoke(app, ["reproduce", str(study), "--engine", "dask", "--scheduler", cluster, *extra])
        assert result.exit_code == 0, result.output
        assert _files(out) == local


# ---- terms by partition -------------------------------------------------------------

LA = Segment("la", "Local authority", where={"sector": "local authority"})
HA = Segment("ha", "Housing association", where={"sector": ["housing association"]})
TERM_SETTINGS = [TermSettings(), TermSettings(min_freq=1, top=15), TermSettings(min_docs=2, top=40)]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=partitionings, which=st.sampled_from(range(len(TERM_SETTINGS))))
def test_property_partitioned_terms_equal_whole_corpus(corpus, whole, parts, which):  # noqa: F811
    """Every table (counts, documents, participants, C-value, G², PMI, shown forms, members)
    and the term keyness of two segments, for any partitioning."""
    c, tokens = whole
    s = TERM_SETTINGS[which]
    index = TermIndex(tokens, c.segments)
    got = partitioned_terms(corpus, scopes_of([ALL, LA, HA], s, False) + scopes_of([LA, HA], s, True)[2:],
                            partitions=parts)
    for k, seg in enumerate([ALL, LA, HA]):
        expected = index.table(seg, s.min_freq, s.min_docs, s.top)
        assert len(expected) > 5
        pd.testing.assert_frame_equal(got.tables[k], expected)
        assert got.tables[k].attrs == expected.attrs
    pd.testing.assert_frame_equal(
        keyness_of(got.tables[3], got.counts[1:3], (int(got.words[1]), int(got.words[2])), ("la", "ha"), "fdr_bh"),
        term_keyness(index, LA, HA, s, labels=("la", "ha")))


def test_terms_on_the_dask_engine_writes_the_local_bytes(cluster, corpus, tmp_path):  # noqa: F811
    codebook = write(tmp_path / "codebook.yaml", CODEBOOK)
    outputs = {}
    for engine in ("local", "dask"):
        args = ["terms", str(corpus), "--where", "sector=local authority", "--where", "sector=ALMO", "--compare",
                "--uncovered", str(codebook), "--min-freq", "3", "--out", str(tmp_path / engine), "--engine", engine]
        result = runner.invoke(app, args + (["--scheduler", cluster] if engine == "dask" else []), terminal_width=200)
        assert result.exit_code == 0, result.output
        outputs[engine] = _files(tmp_path / engine)
    assert outputs["dask"] == outputs["local"] and len(outputs["local"]) == 14
    # and the whole-corpus path's bytes (the library's default without an engine)
    c = load_corpus(corpus)
    chosen = [Segment("sector-local-authority", "sector = local authority", where={"sector": "local authority"}),
              Segment("sector-almo", "sector = ALMO", where={"sector": "ALMO"})]
    run_terms(c, chosen, tmp_path / "whole", settings=TermSettings(min_freq=3), compare=True, uncovered=codebook)
    assert _files(tmp_path / "whole") == outputs["local"]


def test_terms_model_needs_the_local_engine(corpus, tmp_path):  # noqa: F811
    result = runner.invoke(app, ["terms", str(corpus), "--model", "en_core_web_sm", "--engine", "dask",
                                 "--scheduler", "tcp://127.0.0.1:1", "--out", str(tmp_path / "t")])
    assert result.exit_code == 1
    assert result.output == ("Error: --model needs the whole corpus's parses in one process, not --engine dask "
                             "(leave out --model or use --engine local)\n")
    assert not (tmp_path / "t").exists()


# ---- freq and kwic reuse a study's stored tokens -------------------------------------

def test_freq_and_kwic_with_a_study_reuse_its_stored_tokens(study, tmp_path, monkeypatch):  # noqa: F811
    import shutil

    from hcrisis.text import tokens as tokens_module

    shutil.rmtree(study.parent / ".hcrisis-cache", ignore_errors=True)
    commands = {"freq": ["freq", "--study", str(study), "--by", "role", "--out", str(tmp_path / "{run}")],
                "kwic": ["kwic", "training", "--study", str(study), "--window", "3",
                         "--out", str(tmp_path / "{run}" / "kwic.csv")]}

    def run_all(run: str) -> dict:
        outputs = {}
        for name, args in commands.items():
            result = runner.invoke(app, [a.format(run=run) for a in args], terminal_width=200)
            assert result.exit_code == 0, result.output
            outputs[name] = result.stdout.replace(run, "RUN")
        return {**outputs, **_files(tmp_path / run)}

    tokenised = run_all("tokenised")           # no store yet: tokenised as always
    assert runner.invoke(app, ["reproduce", str(study)]).exit_code == 0
    monkeypatch.setattr(tokens_module, "tokenize_segments", lambda *a, **k: pytest.fail("tokenised again"))
    reused = run_all("reused")
    assert reused == tokenised and len(reused) == 8     # two outputs, 4 freq files, kwic.csv and .md
    assert "2 hit(s) of 'training' in 2 document(s)" in reused["kwic"]
