"""The rerun store: hits replay steps with byte-identical outputs; any changed input is a miss."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from hcrisis.files import sha256_file, write_atomic
from hcrisis.study import rerun, steptypes
from hcrisis.study.rerun import CACHE_DIR, RerunStore as Cache, cached_corpus, cached_tokens, digest
from hcrisis.study.runner import REPRODUCED, reproduce
from hcrisis.study.steptypes import StepType

from conftest import write


def test_store_load_and_misses(tmp_path):
    cache = Cache(tmp_path)
    assert cache.load("step", "k") is None
    assert cache.store("step", "k", {"a": pd.Series([1, 2])})
    assert cache.load("step", "k")["a"].tolist() == [1, 2]
    assert not cache.store("step", "lam", lambda: 1)          # unpicklable: not stored
    assert not (tmp_path / "step" / "lam.pkl").exists()
    (tmp_path / "step" / "k.pkl").write_bytes(b"damaged")
    assert cache.load("step", "k") is None


def test_prune_keeps_most_recent(tmp_path):
    cache = Cache(tmp_path)
    for i in range(5):
        cache.store("tokens", f"k{i}", i, keep=3)
    assert sorted(p.stem for p in (tmp_path / "tokens").glob("*.pkl")) == ["k2", "k3", "k4"]
    for i in range(3):
        cache.store("step", f"s{i}", b"x" * 1000, keep_bytes=2500)
    assert sorted(p.stem for p in (tmp_path / "step").glob("*.pkl")) == ["s1", "s2"]


def test_digest_is_order_free_for_dicts():
    assert digest({"a": 1, "b": 2}) == digest({"b": 2, "a": 1}) != digest({"a": 1, "b": 3})


CALLS: list[str] = []
EXTRA: list = []


def count(ctx):
    CALLS.append("count")
    ctx.read(EXTRA[0])
    n = len(ctx.corpus.segments) + int(EXTRA[0].read_text())
    ctx.results["n"] = pd.DataFrame({"n": [n]})
    ctx.wrote([write_atomic(ctx.out / "n.txt", f"{n}\n")])
    ctx.check("x", "segments", "8", str(n), REPRODUCED)
    ctx.add_section("Count", f"{n} segments")


def use(ctx):
    CALLS.append("use")
    ctx.results["unpicklable"] = lambda: None      # so this step is never stored
    ctx.wrote([write_atomic(ctx.out / "use.txt", f"{ctx.needs('count')['n']['n'][0]}\n")])


def show(ctx):   # like `use`, but storable
    CALLS.append("show")
    ctx.wrote([write_atomic(ctx.out / "show.txt", f"{ctx.needs('count')['n']['n'][0]}\n")])


def after(ctx):   # reads nothing of `count`
    CALLS.append("after")


@pytest.fixture
def fake_steps(monkeypatch, tiny_corpus, tmp_path):
    """Two step types: `count` (storable, reads an extra input) and `use`, which reads its result."""
    CALLS.clear()
    EXTRA[:] = [write(tmp_path / "extra.txt", "1\n")]
    types = {"count": StepType("count", f"{__name__}:count", "", writes=""),
             "use": StepType("use", f"{__name__}:use", "", reads=("count",), writes=""),
             "show": StepType("show", f"{__name__}:show", "", reads=("count",), writes=""),
             "after": StepType("after", f"{__name__}:after", "", writes="")}
    monkeypatch.setattr(steptypes, "STEP_TYPES", {**steptypes.STEP_TYPES, **types})
    study = write(tmp_path / "s.yaml", f"study: t\ncorpus: {tiny_corpus}\noutputs: {tmp_path / 'out'}\n"
                                       "steps:\n  - {id: count, type: count}\n  - {id: use, type: use}\n")
    return study, CALLS, EXTRA[0]


def _files(folder):
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_second_run_skips_and_is_byte_identical(fake_steps, tmp_path):
    study, calls, _ = fake_steps
    first = reproduce(study)
    out = _files(tmp_path / "out")
    second = reproduce(study)
    assert calls == ["count", "use", "use"]
    assert second.skipped == ["count"] and first.skipped == []
    assert _files(tmp_path / "out") == out
    assert (tmp_path / "out" / "use.txt").read_text() == "9\n"   # replayed result reached `use`
    assert [c.computed for c in second.checks] == ["9"]
    assert (tmp_path / CACHE_DIR / "step").is_dir()


def test_a_rerun_step_reruns_the_steps_that_read_it(fake_steps):
    study, calls, extra = fake_steps
    study.write_text(study.read_text().replace("type: use}", "type: show}") + "  - {id: after, type: after}\n")
    reproduce(study)
    extra.write_text("2\n")   # count's own input: count reruns, and so does show, which reads it
    second = reproduce(study)
    assert calls == ["count", "show", "after", "count", "show"]
    assert second.skipped == ["after"]
    assert (study.parent / "out" / "show.txt").read_text() == "10\n"


@pytest.mark.parametrize("change", ["corpus", "extra input", "output", "study", "no cache"])
def test_changes_rerun_the_step(fake_steps, tiny_corpus, tmp_path, change):
    study, calls, extra = fake_steps
    reproduce(study)
    if change == "corpus":
        write(tiny_corpus / "int02.txt", "Q: And leaders?\nA: Leaders need vision.\nQ: More?\nA: No.\n")
    elif change == "extra input":
        extra.write_text("2\n")
    elif change == "output":
        (tmp_path / "out" / "n.txt").write_text("tampered\n")
    elif change == "study":
        study.write_text(study.read_text() + "settings: {freq: {min_length: 2}}\n")
    ctx = reproduce(study, cache=change != "no cache")
    assert calls.count("count") == 2
    assert ctx.skipped == []
    expected = {"corpus": "11\n", "extra input": "10\n"}.get(change, "9\n")
    assert (tmp_path / "out" / "n.txt").read_text() == expected


def test_token_arrays_are_cached(tiny_corpus, tmp_path, monkeypatch):
    from hcrisis.text import tokens as tokens_module
    from hcrisis.ingest.corpus import load_corpus

    segments = load_corpus(tiny_corpus).segments
    cache = Cache(tmp_path / "c")
    first = cached_tokens(segments, cache)
    monkeypatch.setattr(tokens_module, "tokenize_segments", lambda *a, **k: pytest.fail("re-tokenised"))
    second = cached_tokens(segments, cache)
    assert np.array_equal(first.type_id, second.type_id) and first.types.equals(second.types)
    changed = segments.assign(text=segments["text"].str.replace("People", "Persons"))
    with pytest.raises(pytest.fail.Exception, match="re-tokenised"):
        cached_tokens(changed, cache)


def test_stored_tokens_are_an_arrow_file_read_back_mapped_to_equal_arrays(tiny_corpus, tmp_path):
    """The tokens entry is an uncompressed Arrow IPC file any Arrow reader opens; read back,
    every column equals the tokeniser's and the per-token columns are views of the mapping."""
    from pyarrow import feather

    from hcrisis.ingest.corpus import load_corpus
    from hcrisis.text.tokens import tokenize_segments

    segments = load_corpus(tiny_corpus).segments
    expected = tokenize_segments(segments)
    cached_tokens(segments, Cache(tmp_path / "c"))
    (entry,) = (tmp_path / "c" / "tokens").iterdir()
    assert entry.suffix == ".arrow"
    assert feather.read_table(entry).num_rows == 1
    got = cached_tokens(segments, Cache(tmp_path / "c"))
    for name in ("bounds", "type_id", "start", "sent_start", "space"):
        a, b = getattr(expected, name), getattr(got, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    for name in ("type_id", "start", "sent_start", "space"):
        assert not getattr(got, name).flags.owndata          # a view, not a copy
    pd.testing.assert_frame_equal(got.types, expected.types)
    assert got.segment_ids == expected.segment_ids and got.model == expected.model
    entry.write_bytes(entry.read_bytes()[:200])               # damaged: a miss, tokenised again
    again = cached_tokens(segments, Cache(tmp_path / "c"))
    assert np.array_equal(again.type_id, expected.type_id)


def test_corpus_is_cached_until_a_file_changes(tiny_corpus, tmp_path, monkeypatch):
    from hcrisis.ingest import corpus as corpus_module

    cache = Cache(tmp_path / "c")
    first = cached_corpus(tiny_corpus, cache)
    monkeypatch.setattr(corpus_module, "load_corpus", lambda *a, **k: pytest.fail("reloaded"))
    assert cached_corpus(tiny_corpus, Cache(tmp_path / "c")).segments.equals(first.segments)
    write(tiny_corpus / "notes" / "new.txt", "x")
    with pytest.raises(pytest.fail.Exception, match="reloaded"):
        cached_corpus(tiny_corpus, Cache(tmp_path / "c"))


def _tiny_study(tiny_corpus, tmp_path):
    return write(tmp_path / "s.yaml", f"""\
study: tiny
corpus: {tiny_corpus}
outputs: {tmp_path / 'out'}
segments:
  - {{id: all, label: All, figure: "5.1"}}
settings: {{clouds: {{width: 200, height: 120}}}}
steps:
  - {{id: descriptives, type: describe}}
  - {{id: frequencies, type: frequencies}}
  - {{id: clouds, type: clouds}}
""")


def test_real_steps_rerun_skips_all(tiny_corpus, tmp_path):
    study = _tiny_study(tiny_corpus, tmp_path)
    reproduce(study)
    out = _files(tmp_path / "out")
    run = reproduce(study)
    # in run order: clouds, whose drawing goes on in the background, first (`plan`)
    assert run.skipped == ["clouds", "descriptives", "frequencies"]
    assert _files(tmp_path / "out") == out


def test_checks_and_sections_are_reported_in_declaration_order(tiny_corpus, tmp_path):
    """clouds runs first (`plan`), yet its check comes after those of the steps declared before it."""
    study = _tiny_study(tiny_corpus, tmp_path)
    study.write_text(study.read_text().replace("steps:\n", "steps:\n  - {id: counted, type: checks, settings: "
                                               "{checks: [{type: count, section: '1', quantity: participants, "
                                               "segment: all, of: participants, published: '2'}]}}\n"))
    run = reproduce(study, cache=False)
    assert run.ran[0] == "clouds" and [c.quantity for c in run.checks] == ["participants", "word cloud: All"]


def _late(ctx):
    """A background step whose check and section come with its background work."""
    def finish():
        ctx.check("9", "late", "1", "1", "reproduced")
        ctx.add_section("Late", "added when its work was done")
        return []
    ctx.defer(finish)


def test_background_work_adds_its_steps_checks_in_declaration_order_and_to_its_record(tiny_corpus, tmp_path,
                                                                                       monkeypatch):
    """A `background` step's deferred work may add checks and sections (the agreement step does,
    once the baseline is fitted): they come in declaration order and are replayed with the step."""
    from hcrisis.study import steptypes

    monkeypatch.setitem(steptypes.STEP_TYPES, "late", steptypes.StepType("late", f"{__name__}:_late", "a test step",
                                                                         writes="", background=True))
    study = _tiny_study(tiny_corpus, tmp_path)
    study.write_text(study.read_text().replace("steps:\n", "steps:\n  - {id: counted, type: checks, settings: "
                                               "{checks: [{type: count, section: '1', quantity: participants, "
                                               "segment: all, of: participants, published: '2'}]}}\n"
                                               "  - {id: late, type: late}\n") + "  - {id: report, type: report}\n")
    for cached in (False, True):
        run = reproduce(study)
        assert ("late" in run.skipped) is cached
        assert [c.quantity for c in run.checks] == ["participants", "late", "word cloud: All"]
        assert [title for title, _ in run.sections] == ["Late"]
        assert "## Late\n\nadded when its work was done" in (tmp_path / "out" / "reproduction.md").read_text()


def test_word_counts_are_not_in_step_records_and_a_step_reruns_without_them(tiny_corpus, tmp_path,
                                                                             monkeypatch):
    import pickle

    study = _tiny_study(tiny_corpus, tmp_path)
    reproduce(study)
    out = _files(tmp_path / "out")
    records = [pickle.loads(p.read_bytes()) for p in (tmp_path / CACHE_DIR / "step").glob("*.pkl")]
    assert len(records) == 3 and all(r.results == {} for r in records)
    # the frequencies code changes: the other steps are replayed, frequencies counts
    # again from the stored tokens
    real = rerun.source_hash
    monkeypatch.setattr(rerun, "source_hash",
                        lambda m: "new" if m == "hcrisis.study.steps.text" else real(m))
    study.write_text(study.read_text().replace("type: clouds}", "type: clouds, settings: {segments: [all]}}"))
    run = reproduce(study)
    assert run.skipped == ["descriptives"] and run.ran == ["clouds", "frequencies"]
    manifest = tmp_path / "out" / "manifest.json"    # records the study file's new hash
    assert {p: b for p, b in _files(tmp_path / "out").items() if p != manifest} == \
        {p: b for p, b in out.items() if p != manifest}


def test_a_stop_word_file_is_read_beside_the_study_hashed_and_rerun(tiny_corpus, tmp_path, monkeypatch):
    study = write(tmp_path / "project" / "s.yaml", f"""\
study: tiny
base_folder: ..
corpus: {tiny_corpus}
outputs: out
settings: {{freq: {{stop_words: stops.txt}}}}
steps:
  - {{id: frequencies, type: frequencies}}
  - {{id: describe, type: describe}}
""")
    stops = write(tmp_path / "project" / "stops.txt", "people\n")
    monkeypatch.chdir(tiny_corpus)            # not the study's folder: the file is found beside the study
    reproduce(study)
    out = tmp_path / "project" / "out"
    assert "people" not in (out / "tables" / "freq_all.csv").read_text()
    manifest = (out / "manifest.json").read_text()
    assert f'"stops.txt": "{sha256_file(stops)}"' in manifest.replace("project/", "")
    write(stops, "housing\n")
    run = reproduce(study)
    assert run.skipped == ["describe"] and run.ran == ["frequencies"]
    assert "people" in (out / "tables" / "freq_all.csv").read_text()
