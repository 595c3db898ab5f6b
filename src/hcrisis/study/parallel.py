"""The reproduction's parallel work, behind one interface: `Workers`.

Three tricks keep `hcrisis reproduce` short on a two-core machine; step types
reach them only through `ctx.tokens()`, `ctx.defer()` and `ctx.submit()`:

- a tokeniser started before it is needed (`Tokeniser`), so loading spaCy
  is off the critical path;
- work a step leaves running in other processes (clouds, the coding
  matrices' figures being drawn) while
  the next steps run, finished before the report (`Workers.defer`);
- slow imports a step type declares (`StepType.preload`: scikit-learn for
  the agreement baseline) done in a process forked when the first step runs,
  which then runs the calls the step submits (`Workers.submit`,
  `hcrisis.workers.Preloaded`).

The tokeniser:

Importing spaCy and building the blank English pipeline takes over a second,
and `hcrisis reproduce` only knows what it must tokenise after importing its
own modules and loading the corpus (most of another second). `Tokeniser`
forks a process at once that loads spaCy meanwhile, on the other CPU, then
tokenises the texts it is sent (`hcrisis.text.tokens.token_arrays`, itself on two
processes) and sends back plain arrays, so steps that only count words never
import spaCy in the main process. If every step is replayed from the cache,
the process is stopped unused.

This module imports nothing heavy, so the CLI can start it first. Without
the fork start method (Windows) `start_tokeniser` gives None and callers
tokenise in their own process, with identical results.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Callable, TypeVar

from hcrisis.workers import Preloaded, call_later, die_with_parent

if TYPE_CHECKING:
    import pandas as pd

    from hcrisis.text.tokens import TokenArrays, Tokens

T = TypeVar("T")


def _serve(conn, parent_end, parent: int) -> None:
    """In the forked process: load the pipeline, wait for texts, send their arrays."""
    die_with_parent(parent)   # a killed parent runs no clean-up: go with it
    signal.signal(signal.SIGINT, signal.SIG_DFL)   # Ctrl-C: leave quietly, the parent reports it
    parent_end.close()   # so that recv() ends (EOFError) when the parent does
    try:
        from hcrisis.text.tokens import shared_pipeline, token_arrays
        nlp = shared_pipeline()
        texts = conn.recv()
        result = ("ok", token_arrays(texts, nlp))
    except EOFError:
        return
    except Exception as exc:  # noqa: BLE001 - sent to the parent, which raises it
        result = ("error", exc)
    conn.send(result)


class Tokeniser:
    """A process loading the blank pipeline now and tokenising one list of texts later."""

    def __init__(self):
        context = multiprocessing.get_context("fork")
        self._conn, child_end = context.Pipe()
        self._process = context.Process(target=_serve, args=(child_end, self._conn, os.getpid()),
                                        name="hcrisis-tokeniser")
        self._process.start()
        child_end.close()

    def token_arrays(self, texts: list[str]) -> TokenArrays | None:
        """The texts' `TokenArrays` from the process, which then ends; None if it is
        gone or was used already (the caller then tokenises itself)."""
        if self._conn is None:
            return None
        try:
            self._conn.send(texts)
            status, value = self._conn.recv()
        except (EOFError, OSError):
            return None
        finally:
            self.close()
        if status == "error":
            raise value
        return value

    def tokenize_segments(self, segments: pd.DataFrame) -> Tokens:
        """`hcrisis.text.tokens.tokenize_segments` with the blank English pipeline, done by the
        process; a corpus with other languages is tokenised here, a pipeline per language."""
        from hcrisis.text.tokens import tokenize_segments

        if "language" in segments and set(segments["language"]) != {"en"}:
            return tokenize_segments(segments)
        arrays = self.token_arrays(segments["text"].tolist())
        if arrays is None:
            return tokenize_segments(segments)
        return arrays.to_tokens(segments["segment_id"].tolist())

    def close(self) -> None:
        """Stop the process (unused, or done) and wait for it."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()

    def __enter__(self) -> "Tokeniser":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def start_tokeniser() -> Tokeniser | None:
    """A `Tokeniser` loading spaCy from now on, or None where processes cannot fork."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    return Tokeniser()


class Workers:
    """The run's parallel helpers: an early tokeniser (or None), deferred work, and a
    process importing the `preload` modules (started by `start_preloading`)."""

    def __init__(self, tokeniser: Tokeniser | None = None, preload: tuple[str, ...] = ()):
        self.tokeniser = tokeniser
        self._deferred: list[Callable[[], None]] = []
        self._preload, self._preloaded = preload, None

    def start_preloading(self) -> None:
        """Fork the process importing the `preload` modules (once; not without them or fork)."""
        if self._preload and self._preloaded is None and "fork" in multiprocessing.get_all_start_methods():
            self._preloaded = Preloaded(self._preload)

    def submit(self, function: Callable[..., T], *args) -> Callable[[], T]:
        """`function(*args)` started in the preloaded process if there is one, else made here
        when its result is asked for: returns the function that gives the result."""
        return (self._preloaded.submit if self._preloaded else call_later)(function, *args)

    def close(self) -> None:
        """Stop the preloaded process."""
        if self._preloaded is not None:
            self._preloaded.close()
            self._preloaded = None

    def tokenize_segments(self, segments: pd.DataFrame) -> Tokens:
        """The blank pipeline's tokens, by the early tokeniser if there is one."""
        if self.tokeniser is not None:
            return self.tokeniser.tokenize_segments(segments)
        from hcrisis.text.tokens import tokenize_segments
        return tokenize_segments(segments)

    def defer(self, finish: Callable[[], list[Path]], then: Callable[[list[Path]], None]) -> None:
        """Let work run on in the background: `finish()` waits for it and returns the
        files it wrote, which `then` receives; both run in `finish_all`."""
        self._deferred.append(lambda: then(finish()))

    def finish_all(self) -> None:
        """Wait for every deferred piece of work, in the order it was deferred."""
        while self._deferred:
            self._deferred.pop(0)()
