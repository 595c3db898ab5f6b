"""`hcrisis.workers.start_in_background`: the result, or the error, of work done in a forked process."""

from __future__ import annotations

import pytest

from hcrisis.errors import InputError, SchemaError
from hcrisis.workers import BACKGROUND_NICE, Preloaded, background_worker, start_in_background


def _fail(error: Exception) -> None:
    raise error


def test_the_result_comes_back():
    assert start_in_background(sorted, [3, 1, 2])() == [1, 2, 3]


@pytest.mark.parametrize("error", [
    InputError("cannot write the workbook", path="out/tables.xlsx", line=3, fix="check the folder"),
    SchemaError("studies/s.yaml", [("steps[0].type", 7, "unknown step type"), ("title", None, "missing")]),
])
def test_errors_reach_the_caller_with_their_file_line_and_fix(error):
    with pytest.raises(type(error)) as caught:
        start_in_background(_fail, error)()
    got = caught.value
    assert (got.one_line(), got.path, got.line, got.fix) == (error.one_line(), error.path, error.line, error.fix)
    assert getattr(got, "problems", None) == getattr(error, "problems", None)


def test_the_arguments_are_inherited_not_pickled():
    """The forked process holds the arguments already (a corpus and its tokens can be large):
    an argument that cannot be pickled still reaches it."""
    import threading

    lock = threading.Lock()   # not picklable
    assert start_in_background(lambda held: held.acquire(blocking=False), lock)() is True


def test_background_work_runs_at_a_lower_priority():
    """Work wanted only later (a preload, clouds for the report) yields the CPUs to the rest."""
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    lower = min(19, os.nice(0) + BACKGROUND_NICE)
    preloaded = Preloaded((), background=True)
    try:
        assert preloaded.submit(os.nice, 0)() == lower
    finally:
        preloaded.close()
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"), initializer=background_worker,
                             initargs=(os.getpid(),)) as pool:
        assert pool.submit(os.nice, 0).result() == lower
    assert start_in_background(os.nice, 0)() == os.nice(0)   # the rest keeps this process's priority
