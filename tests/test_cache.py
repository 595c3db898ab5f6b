"""Rerun cache: hits skip steps with byte-identical outputs; any changed input is a miss."""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest

from hcrisis.study import runner as reproduce
from hcrisis.study.cache import CACHE_DIR, Cache, cached_corpus, cached_tokens, digest
from hcrisis.files import write_atomic
from hcrisis.study.runner import REPRODUCED, run_reproduce

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


@pytest.fixture
def fake_steps(monkeypatch, tiny_corpus, tmp_path):
    """Two steps: `count` (cacheable, reads an extra input) and `use`, which needs its result."""
    calls = []
    extra = write(tmp_path / "extra.txt", "1\n")

    def count(ctx):
        calls.append("count")
        ctx.inputs.append(extra)
        n = len(ctx.corpus.segments) + int(extra.read_text())
        ctx.cache["n"] = pd.DataFrame({"n": [n]})
        ctx.written.append(write_atomic(ctx.out / "n.txt", f"{n}\n"))
        ctx.check("x", "segments", "8", str(n), REPRODUCED)
        ctx.add_section("Count", f"{n} segments")

    def use(ctx):
        calls.append("use")
        ctx.cache["unpicklable"] = lambda: None      # so this step is never cached
        ctx.written.append(write_atomic(ctx.out / "use.txt", f"{ctx.cache['n']['n'][0]}\n"))

    for module in reproduce.STEP_MODULES:   # register the real steps outside the patch
        importlib.import_module(module)
    monkeypatch.setattr(reproduce, "STEPS", {"count": (1, count), "use": (2, use)})
    study = write(tmp_path / "s.yaml", f"study: t\nbase_folder: /\ncorpus: {tiny_corpus}\noutputs: {tmp_path / 'out'}\n")
    return study, calls, extra


def _files(folder):
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_second_run_skips_and_is_byte_identical(fake_steps, tmp_path):
    study, calls, _ = fake_steps
    first = run_reproduce(study)
    out = _files(tmp_path / "out")
    second = run_reproduce(study)
    assert calls == ["count", "use", "use"]
    assert second.disk_cache.skipped == ["count"] and first.disk_cache.skipped == []
    assert _files(tmp_path / "out") == out
    assert (tmp_path / "out" / "use.txt").read_text() == "9\n"   # replayed result reached `use`
    assert [c.computed for c in second.checks] == ["9"]
    assert (tmp_path / CACHE_DIR / "step").is_dir()


def test_a_rerun_step_reruns_the_steps_after_it(fake_steps, monkeypatch):
    from hcrisis.study import cache as cache_module

    study, calls, _ = fake_steps

    def after(ctx):   # nothing of `count` among its inputs or code
        calls.append("after")
    after.__module__ = "hcrisis.errors"
    reproduce.STEPS["after"] = (3, after)
    run_reproduce(study)
    real = cache_module.source_hash
    # the code of `count` (this module) changes: `after` may see different results
    monkeypatch.setattr(cache_module, "source_hash", lambda m: "new" if m == __name__ else real(m))
    run_reproduce(study)
    assert calls == ["count", "use", "after", "count", "use", "after"]


@pytest.mark.parametrize("change", ["corpus", "extra input", "output", "study", "no cache"])
def test_changes_rerun_the_step(fake_steps, tiny_corpus, tmp_path, change):
    study, calls, extra = fake_steps
    run_reproduce(study)
    if change == "corpus":
        write(tiny_corpus / "int02.txt", "Q: And leaders?\nA: Leaders need vision.\nQ: More?\nA: No.\n")
    elif change == "extra input":
        extra.write_text("2\n")
    elif change == "output":
        (tmp_path / "out" / "n.txt").write_text("tampered\n")
    elif change == "study":
        study.write_text(study.read_text() + "title: T\n")
    ctx = run_reproduce(study, cache=change != "no cache")
    assert calls.count("count") == 2
    assert ctx.disk_cache is None or ctx.disk_cache.skipped == []
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
base_folder: /
corpus: {tiny_corpus}
outputs: {tmp_path / 'out'}
segments:
  - {{id: all, label: All, figure: "5.1"}}
settings: {{clouds: {{width: 200, height: 120}}}}
""")


def test_real_steps_rerun_skips_all(tiny_corpus, tmp_path):
    study = _tiny_study(tiny_corpus, tmp_path)
    steps = ["descriptives", "clouds"]
    run_reproduce(study, only=steps)
    out = _files(tmp_path / "out")
    ctx = run_reproduce(study, only=steps)
    assert ctx.disk_cache.skipped == steps   # in step order
    assert _files(tmp_path / "out") == out


def test_word_counter_is_not_in_step_records_and_chapter5_reruns_without_it(tiny_corpus, tmp_path,
                                                                             monkeypatch):
    import pickle

    from hcrisis.study import cache as cache_module

    study = _tiny_study(tiny_corpus, tmp_path)
    steps = ["chapter5", "clouds"]
    run_reproduce(study, only=steps)
    out = _files(tmp_path / "out")
    records = [pickle.loads(p.read_bytes()) for p in (tmp_path / CACHE_DIR / "step").glob("*.pkl")]
    assert records and all("freq_counter" not in r.results for r in records)
    assert any("freq" in r.results for r in records)
    # the chapter5 code changes: clouds (which ran first) is replayed, chapter5 counts
    # again from the cached tokens
    real = cache_module.source_hash
    monkeypatch.setattr(cache_module, "source_hash",
                        lambda m: "new" if m == "hcrisis.thesis.chapter5" else real(m))
    ctx = run_reproduce(study, only=steps)
    assert ctx.disk_cache.skipped == ["clouds"]
    assert _files(tmp_path / "out") == out
