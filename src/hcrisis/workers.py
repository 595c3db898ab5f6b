"""Worker processes that end with the process that forked them.

hcrisis forks workers to tokenise, to draw clouds and coding figures, and to
import slow modules (scikit-learn) before a step needs them (`Preloaded`). If the parent is
killed (SIGKILL, the out-of-memory killer, a closed terminal) nothing runs
its clean-up, and a worker blocked reading from its pipe would wait forever.
So each worker calls `die_with_parent` first: on Linux the kernel kills it
when its parent dies (`prctl(PR_SET_PDEATHSIG, SIGKILL)`); elsewhere a
daemon thread watches for the parent's exit (the worker is re-parented).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import queue
import signal
import sys
import threading
import time
from typing import Any, Callable, TypeVar

from hcrisis import libc

T = TypeVar("T")
# start `function(*args)`; the function returned waits for its result (or raises its error)
Submit = Callable[..., Callable[[], Any]]

PR_SET_PDEATHSIG = 1          # <linux/prctl.h>
WATCH_SECONDS = 0.5
BACKGROUND_NICE = 10          # a tenth of the CPU share of the work the run waits on


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


def background_worker(parent: int) -> None:
    """`die_with_parent`, then a lower CPU priority (`os.nice`), for work whose result is
    wanted only later (clouds waited for at the report, an import ahead of the step that
    needs it): the work the run waits on now gets the CPUs first, this what they leave."""
    die_with_parent(parent)
    if hasattr(os, "nice"):
        os.nice(BACKGROUND_NICE)


def _prctl_deathsig() -> bool:
    return libc.call("prctl", PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0


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
        return call_later(function, *args)
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


def call_later(function: Callable[..., T], *args) -> Callable[[], T]:
    """The `Submit` contract kept in this process: the call is made when its result is asked for."""
    return lambda: function(*args)


def _serve_calls(conn, parent_end, parent: int, modules: tuple[str, ...], background: bool) -> None:
    """In the forked process: import `modules`, then run each call received, in order."""
    from multiprocessing.reduction import ForkingPickler

    (background_worker if background else die_with_parent)(parent)
    signal.signal(signal.SIGINT, signal.SIG_DFL)   # Ctrl-C: leave quietly, the parent reports it
    parent_end.close()   # so that recv() ends (EOFError) when the parent closes its end
    # Calls are read off the pipe from the start, by a thread of their own, and unpickled
    # here once the modules are imported: a caller sending a large call early never waits
    # for the import.
    calls: queue.SimpleQueue = queue.SimpleQueue()
    threading.Thread(target=_receive_calls, args=(conn, calls), daemon=True).start()
    for name in modules:
        with contextlib.suppress(ImportError):   # a missing module is the call's to report
            importlib.import_module(name)
    # Results go back from a thread of their own: the parent may send more calls before
    # it reads any result, and with both sides sending large pickles into a full pipe
    # neither would ever read.
    results: queue.SimpleQueue = queue.SimpleQueue()
    threading.Thread(target=_send_results, args=(conn, results), daemon=True).start()
    while (data := calls.get()) is not None:
        try:
            function, args = ForkingPickler.loads(data)
            results.put(("ok", function(*args)))
        except Exception as exc:  # noqa: BLE001 - sent to the parent, which raises it
            results.put(("error", exc))


def _receive_calls(conn, calls) -> None:
    """The calls' pickles, in order; None once the parent has closed its end."""
    while True:
        try:
            calls.put(conn.recv_bytes())
        except (EOFError, OSError):
            calls.put(None)
            return


def _send_results(conn, results) -> None:
    while True:
        try:
            conn.send(results.get())
        except (OSError, ValueError):   # the parent is gone
            return


class Preloaded:
    """A forked process that imports slow modules now and runs calls later (`submit`).

    Importing scikit-learn takes about a second; a study step that fits models
    would wait for it. Forked when a run starts, the process imports it on the
    other CPU while the first steps run, then runs the calls the step submits
    while the step goes on. Calls and their results travel pickled, in order;
    if the process is gone, a call is made in this process, with the same result.
    """

    def __init__(self, modules: tuple[str, ...], background: bool = False):
        import multiprocessing

        context = multiprocessing.get_context("fork")
        self._conn, child_end = context.Pipe()
        self._process = context.Process(target=_serve_calls, name="hcrisis-preloaded",
                                        args=(child_end, self._conn, os.getpid(), modules, background))
        self._process.start()
        child_end.close()
        self._sent = self._received = 0             # calls sent and results received, in order
        self._results: dict[int, tuple] = {}        # received, by call number, until asked for

    def submit(self, function: Callable[..., T], *args) -> Callable[[], T]:
        """Start `function(*args)` in the process (after the calls before it); return a
        function that waits for the result (ask once). `function` must be importable by
        name; the process reads the call at once, while it imports its modules."""
        try:
            self._conn.send((function, args))
        except (OSError, ValueError):   # the process is gone, or closed
            return call_later(function, *args)
        number, self._sent = self._sent, self._sent + 1

        def result() -> T:
            try:
                while number not in self._results:
                    self._results[self._received] = self._conn.recv()
                    self._received += 1
            except (EOFError, OSError):   # died meanwhile: this call is made here
                return function(*args)
            status, value = self._results.pop(number)
            if status == "error":
                raise value
            return value
        return result

    def close(self) -> None:
        """Stop the process (its calls done or not) and wait for it."""
        self._conn.close()
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
