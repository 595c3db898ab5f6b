"""The early tokeniser process: the same tokens as tokenising in process, calls run where the
tokens are, and no process left behind."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hcrisis.study.parallel import start_tokeniser
from hcrisis.text.tokens import Tokens, tokenize_segments

SEGMENTS = pd.DataFrame({
    "segment_id": ["d1:1", "d1:2", "d2:1"],
    "text": ["People come first. Housing is a profession!", "", "Leaders lead; managers manage…"],
})


def assert_same_tokens(one: Tokens, other: Tokens) -> None:
    assert one.segment_ids == other.segment_ids and one.model == other.model
    for name in ("bounds", "type_id", "start", "sent_start", "space"):
        assert np.array_equal(getattr(one, name), getattr(other, name)), name
    pd.testing.assert_frame_equal(one.types, other.types)


def test_same_tokens_as_in_process():
    tokeniser = start_tokeniser()
    try:
        tokens = tokeniser.tokenize_segments(SEGMENTS)
        assert_same_tokens(tokens, tokenize_segments(SEGMENTS))
        assert tokens.column("lemma").tolist()[-5:] == ["lead", ";", "manager", "manage", "…"]
        assert tokeniser.holds and tokeniser._server._process.is_alive()   # kept for the calls that need them
    finally:
        tokeniser.close()
    assert not tokeniser._server._process.is_alive()


def _where_and_what(segments: pd.DataFrame, tokens: Tokens, extra: str) -> tuple[int, Tokens, str]:
    import os
    return os.getpid(), tokens, extra


def test_calls_with_tokens_run_where_the_tokens_were_made():
    """`Workers.with_tokens`: in the tokeniser's process on the tokens it kept (the same
    tokens), for other segments on theirs, and here when the tokens were made here."""
    import os

    from hcrisis.study.parallel import Workers

    tokeniser = start_tokeniser()
    workers = Workers(tokeniser)
    try:
        made = workers.tokenize_segments(SEGMENTS)
        pid, tokens, extra = workers.with_tokens(_where_and_what, SEGMENTS, lambda: made, "x")()
        assert pid == tokeniser._server._process.pid and extra == "x"
        assert_same_tokens(tokens, made)
        other = SEGMENTS.assign(text=["Other words here.", "", "And more."])
        assert_same_tokens(tokeniser.with_tokens(_where_and_what, other, "y")()[1], tokenize_segments(other))
    finally:
        tokeniser.close()
    here = Workers()
    pid, tokens, _ = here.with_tokens(_where_and_what, SEGMENTS, lambda: made, "z")()
    assert pid == os.getpid() and tokens is made


def test_gone_tokenises_in_process():
    tokeniser = start_tokeniser()
    tokeniser._server._process.kill()
    tokeniser._server._process.join()
    arrays = tokeniser.token_arrays(["a b"])
    assert arrays.type_id.size == 2 and not tokeniser.holds          # made here
    assert_same_tokens(tokeniser.tokenize_segments(SEGMENTS), tokenize_segments(SEGMENTS))
    tokeniser.close()


def test_unused_tokeniser_is_stopped():
    with start_tokeniser() as tokeniser:
        process = tokeniser._server._process
    assert not process.is_alive() and process.exitcode is not None


def test_errors_in_the_process_reach_the_caller():
    tokeniser = start_tokeniser()
    try:
        with pytest.raises(TypeError):
            tokeniser.token_arrays([None])
        assert tokeniser._server._process.is_alive()                   # and it goes on
        assert tokeniser.token_arrays(["a b"]).type_id.size == 2
    finally:
        tokeniser.close()


def test_other_languages_get_their_own_pipeline():
    """The early process holds the English pipeline only: a French segment is tokenised in
    process, by tokenize_segments, with French lemmas."""
    segments = pd.DataFrame({"segment_id": ["e:1", "f:1"], "language": ["en", "fr"],
                             "text": ["The homes need repairs.", "Les logements sont anciens."]})
    tokeniser = start_tokeniser()
    try:
        tokens = tokeniser.tokenize_segments(segments)
    finally:
        tokeniser.close()
    assert not tokeniser.holds
    assert_same_tokens(tokens, tokenize_segments(segments))
    assert "logement" in tokens.types["lemma"].tolist()


# ---------------------------------------------------------------- the preloaded process
def _square_and_pid(x: int) -> tuple[int, int]:
    import os
    return x * x, os.getpid()


def _fails(message: str) -> None:
    raise ValueError(message)


def test_preloaded_imports_then_runs_calls_in_order_whatever_order_they_are_asked_for():
    import os
    import sys

    from hcrisis.workers import Preloaded

    preloaded = Preloaded(("json", "no_such_module_here"))   # a missing module is skipped, not fatal
    try:
        first, second = preloaded.submit(_square_and_pid, 3), preloaded.submit(_square_and_pid, 4)
        assert second()[0] == 16 and first()[0] == 9
        assert preloaded.submit(sys.getrecursionlimit)() == sys.getrecursionlimit()
        assert preloaded.submit(_square_and_pid, 2)()[1] != os.getpid()     # ran in the other process
        with pytest.raises(ValueError, match="told to"):
            preloaded.submit(_fails, "told to")()
        assert preloaded.submit(_square_and_pid, 5)()[0] == 25                # and it goes on
    finally:
        preloaded.close()
    assert not preloaded._process.is_alive()


def test_preloaded_gone_calls_are_made_here():
    import os

    from hcrisis.workers import Preloaded

    preloaded = Preloaded(())
    waiting = preloaded.submit(_square_and_pid, 6)
    assert waiting()[0] == 36
    preloaded._process.kill()
    preloaded._process.join()
    assert preloaded.submit(_square_and_pid, 7)() == (49, os.getpid())
    preloaded.close()
    assert preloaded.submit(_square_and_pid, 8)() == (64, os.getpid())


def test_workers_preload_only_when_started_and_stop_it():
    import os

    from hcrisis.study.parallel import Workers

    workers = Workers(preload=("json",))
    assert workers.submit(_square_and_pid, 2)() == (4, os.getpid())        # not started: made here
    workers.start_preloading()
    process = workers._preloaded._process
    assert workers.submit(_square_and_pid, 3)()[1] == process.pid
    workers.close()
    assert not process.is_alive() and workers.submit(_square_and_pid, 4)() == (16, os.getpid())
    nothing = Workers()
    nothing.start_preloading()
    assert nothing._preloaded is None                                           # nothing to preload


def _echo(payload: list[str]) -> list[str]:
    return payload


@pytest.mark.timeout(60)
def test_preloaded_large_calls_sent_before_any_result_is_read():
    """Calls and results larger than the pipe's buffer, all sent before any is read: the
    process sends results while it still receives calls (else both sides wait forever)."""
    from hcrisis.workers import Preloaded

    preloaded = Preloaded(())
    payload = [f"{i:040d}" for i in range(50_000)]    # ~2.5 MB pickled, each way
    try:
        waits = [preloaded.submit(_echo, payload) for _ in range(3)]
        assert all(wait() == payload for wait in waits)
    finally:
        preloaded.close()


@pytest.mark.timeout(60)
def test_preloaded_reads_a_large_call_while_it_still_imports(tmp_path, monkeypatch):
    """A call larger than the pipe's buffer, sent while the process still imports its modules,
    does not wait for the import (a step submits its fits early, while scikit-learn loads):
    here the module's import waits until the caller has sent the call."""
    import os
    import sys
    import threading

    from hcrisis.workers import Preloaded

    sent = tmp_path / "sent"
    os.mkfifo(sent)
    (tmp_path / "slow_to_import_here.py").write_text(f"open({str(sent)!r}).read()\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    preloaded = Preloaded(("slow_to_import_here",))
    payload = [f"{i:040d}" for i in range(50_000)]    # ~2.5 MB pickled
    try:
        sending = threading.Thread(target=lambda: waits.append(preloaded.submit(_echo, payload)))
        waits: list = []
        sending.start()
        sending.join(20)
        assert not sending.is_alive(), "the caller waited for the import to send its call"
        with open(sent, "w") as fifo:   # lets the import finish
            fifo.write("done")
        assert waits[0]() == payload and "slow_to_import_here" not in sys.modules
    finally:
        preloaded.close()
