"""The two engines: partitions in this process, or on a Dask cluster."""

from __future__ import annotations

import logging
import os
from typing import Any, Callable, Iterable, Iterator

from hcrisis.errors import HcrisisError, InputError

ENGINES = ("local", "dask")


class Engine:
    """Runs `fn(item, shared)` for every item; results in the items' order."""

    name = "local"

    def map(self, fn: Callable[[Any, Any], Any], items: Iterable, shared: Any) -> Iterator:
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
        futures = [self.client.submit(fn, item, handle, pure=False) for item in items]
        try:
            for future in futures:
                yield future.result()
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


def open_engine(name: str = "local", scheduler: str | None = None, workers: int | None = None) -> Engine:
    """The engine named on the command line (`--engine`, `--scheduler`)."""
    if name not in ENGINES:
        raise InputError(f"unknown engine '{name}'", fix="use --engine local or --engine dask")
    if name == "local":
        if scheduler:
            raise InputError("--scheduler needs --engine dask", fix="add --engine dask or leave out --scheduler")
        return Engine()
    return DaskEngine(scheduler, workers)
