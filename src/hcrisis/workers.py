"""Worker processes that end with the process that forked them.

hcrisis forks workers to tokenise and to draw clouds and coding figures. If the parent is
killed (SIGKILL, the out-of-memory killer, a closed terminal) nothing runs
its clean-up, and a worker blocked reading from its pipe would wait forever.
So each worker calls `die_with_parent` first: on Linux the kernel kills it
when its parent dies (`prctl(PR_SET_PDEATHSIG, SIGKILL)`); elsewhere a
daemon thread watches for the parent's exit (the worker is re-parented).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time
from typing import Callable, TypeVar

T = TypeVar("T")

PR_SET_PDEATHSIG = 1          # <linux/prctl.h>
WATCH_SECONDS = 0.5


def die_with_parent(parent: int) -> None:
    """Make this (forked) process end when process `parent` ends.

    Pass the parent's pid as the parent saw it before forking: if it has
    died already, the worker ends at once. Linux delivers the signal when the
    thread that forked ends, so fork from the main thread (hcrisis does).
    """
    if sys.platform.startswith("linux") and _prctl_deathsig():
        if os.getppid() != parent:   # died between the fork and the prctl
            os._exit(1)
        return
    threading.Thread(target=_watch, args=(parent,), name="hcrisis-parent-watch", daemon=True).start()


def _prctl_deathsig() -> bool:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    os._exit(1)


# Work handed to a forked process by `start_in_background`: the child inherits this
# table at the fork, so the work's arguments (a corpus, its tokens) are never pickled.
_PENDING: dict[int, tuple[Callable, tuple]] = {}


def _run_pending(key: int):
    function, args = _PENDING[key]
    return function(*args)


def start_in_background(function: Callable[..., T], *args) -> Callable[[], T]:
    """Start `function(*args)` in one forked process (`die_with_parent`) and return a
    function that waits for it and gives its result (or raises its error); without
    fork the call is made when that function is called. Only the result is pickled."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return lambda: function(*args)
    from concurrent.futures import ProcessPoolExecutor

    key = id(args)
    _PENDING[key] = (function, args)
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"),
                               initializer=die_with_parent, initargs=(os.getpid(),))
    future = pool.submit(_run_pending, key)   # forks the process, which holds _PENDING as it is now

    def result() -> T:
        try:
            return future.result()
        finally:
            pool.shutdown()
            _PENDING.pop(key, None)
    return result
