"""The two engines: partitions in this process, or on a Dask cluster."""

from __future__ import annotations

import itertools
import logging
import os
import signal
from collections import deque
from typing import Any, Callable, Iterable, Iterator

from hcrisis.errors import HcrisisError, InputError

ENGINES = ("local", "dask")


class Engine:
    """Runs `fn(item, shared)` for every item; results in the items' order: one after
    another in this process, or (`processes` > 1, where processes can be forked) in that
    many forked processes, each item's result pickled back."""

    name = "local"

    def __init__(self, processes: int = 1):
        self.processes = processes

    def map(self, fn: Callable[[Any, Any], Any], items: Iterable, shared: Any) -> Iterator:
        import multiprocessing

        items = list(items)
        if self.processes > 1 and len(items) > 1 and "fork" in multiprocessing.get_all_start_methods():
            yield from _forked_map(fn, items, shared, min(self.processes, len(items)))
            return
        for item in items:
            yield fn(item, shared)

    def close(self) -> None:
        """Release the engine's resources (nothing for the local engine)."""

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class DaskEngine(Engine):
    """A `dask.distributed` client: of the cluster at `scheduler`, else of a
    `LocalCluster` with `workers` single-threaded worker processes (default one per CPU)."""

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise InputError("the Dask engine needs dask.distributed",
                             fix="pip install 'hcrisis[dask]', or use --engine local") from None
        self.cluster = None
        try:
            if scheduler:
                self.client = Client(scheduler, timeout="20s")
            else:
                self.cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                                            processes=True, dashboard_address=None,
                                            silence_logs=logging.ERROR)
                self.client = Client(self.cluster)
        except (OSError, TimeoutError) as exc:
            raise InputError(f"cannot reach the Dask scheduler {scheduler or '(local cluster)'}: "
                             f"{exc.__class__.__name__}", fix="check --scheduler ADDRESS (tcp://host:8786) "
                             "and that the scheduler is running") from None

    def map(self, fn, items, shared):
        """Each item a task; `shared` sent to the cluster once, as the result of a task
        every other task depends on (a worker fetches it once; unlike scattered data,
        the scheduler can compute it again if the workers holding it die). A task whose
        worker dies is run again on another (Dask's rescheduling, up to its allowed failures)."""
        from distributed import KilledWorker
        from distributed.client import FutureCancelledError

        handle = self.client.submit(_shared, shared, pure=False)
        futures: list = []

        def submit(item):
            futures.append(self.client.submit(fn, item, handle, pure=False))
            return futures[-1]

        try:
            # a result stays on its worker until read: a task or two per worker ahead, no more
            for future in in_flight(submit, items, 2 * max(1, sum(self.client.nthreads().values()))):
                yield future.result()
                future.release()      # the worker may drop the result now (partials can be large)
        except (KilledWorker, FutureCancelledError) as exc:
            raise HcrisisError(f"Dask workers died running a partition more times than the scheduler "
                               f"allows ({exc.__class__.__name__}); nothing was written",
                               fix="check the workers' memory (smaller partitions: hcrisis corpus pack "
                                   "--partition-mb) and logs") from None
        finally:
            for future in [*futures, handle]:
                future.release()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _shared(value: Any) -> Any:
    return value


def in_flight(submit: Callable[[Any], Any], items: Iterable, most: int) -> Iterator:
    """The futures of `submit(item)` for the items in order, at most `most` submitted and
    not yet handed out: the next item is submitted as a future is handed out (so results
    finished ahead of their turn, held until read, stay few)."""
    waiting = iter(items)
    futures = deque(submit(item) for item in itertools.islice(waiting, most))
    while futures:
        future = futures.popleft()
        futures.extend(submit(item) for item in itertools.islice(waiting, 1))
        yield future


# The function and shared value of each forked map, by a number of its own: the processes
# inherit them at the fork, so the shared value (a corpus source, a codebook) is never pickled.
_FORKED: dict[int, tuple[Callable, Any]] = {}
_FORK_NUMBERS = itertools.count()


def _forked_map(fn: Callable, items: list, shared: Any, processes: int) -> Iterator:
    """`fn(item, shared)` in `processes` forked processes (`die_with_parent`), results in order."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    key = next(_FORK_NUMBERS)
    _FORKED[key] = (fn, shared)
    pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"),
                               initializer=_forked_start, initargs=(os.getpid(),))
    try:
        # one item more than processes: a process never waits for its next item, and at
        # most that many results wait here to be read (a future holds its result)
        for future in in_flight(lambda item: pool.submit(_forked_call, key, item), items, processes + 1):
            yield future.result()
    except BrokenProcessPool:
        raise HcrisisError("a process working on a partition died (out of memory, or killed); nothing was written",
                           fix="check the machine's free memory, or run with fewer partitions at a time") from None
    finally:
        pool.shutdown(cancel_futures=True)
        del _FORKED[key]


def _forked_start(parent: int) -> None:
    from threadpoolctl import threadpool_limits

    from hcrisis.workers import die_with_parent

    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C: the parent stops the pool and reports it
    # the processes take the CPUs already: BLAS threads of their own would only contend
    # (measured: 2 CPU-s of 18 in coding 5M words on two CPUs)
    threadpool_limits(limits=1, user_api="blas")


def _forked_call(key: int, item: Any) -> Any:
    fn, shared = _FORKED[key]
    return fn(item, shared)


def local_processes(most: int = 2) -> int:
    """Forked processes for a local engine: one per CPU, at most `most` (each holds a
    partition's text and tokens)."""
    return max(1, min(os.cpu_count() or 1, most))


def open_engine(name: str = "local", scheduler: str | None = None, workers: int | None = None,
                processes: int = 1) -> Engine:
    """The engine named on the command line (`--engine`, `--scheduler`); the local one
    with `processes` forked processes (see `Engine`)."""
    if name not in ENGINES:
        raise InputError(f"unknown engine '{name}'", fix="use --engine local or --engine dask")
    if name == "local":
        if scheduler:
            raise InputError("--scheduler needs --engine dask", fix="add --engine dask or leave out --scheduler")
        return Engine(processes)
    return DaskEngine(scheduler, workers)
