"""The reproduction's parallel work, behind one interface: `Workers`.

Four tricks keep `hcrisis reproduce` short on a two-core machine; step types
reach them only through `ctx.tokens()`, `ctx.with_tokens()`, `ctx.defer()` and
`ctx.submit()`:

- a tokeniser started before it is needed (`Tokeniser`), so loading spaCy
  is off the critical path, which then runs the work that needs spaCy and
  the tokens (coding) where both already are;
- work a step leaves running in other processes (clouds, the coding
  matrices' figures, the agreement baseline's fits) while the next steps
  run, finished before the report (`Workers.defer`); a deferred finish may
  add its step's checks and report sections;
- slow imports a step type declares (`StepType.preload`: scikit-learn for
  the agreement baseline) done in a process forked when the first step runs,
  which then runs the calls the step submits (`Workers.submit`,
  `hcrisis.workers.Preloaded`);
- that process and the cloud workers at a lower CPU priority
  (`hcrisis.workers.background_worker`): their results are wanted last, so
  the tokeniser, the coding and the steps the run waits on get the two CPUs
  first, and they use what is left.

The tokeniser:

Importing spaCy and building the blank English pipeline takes over a second,
and `hcrisis reproduce` only knows what it must tokenise after importing its
own modules and loading the corpus (most of another second). `Tokeniser`
forks a process at once (a `Preloaded` one) that loads spaCy meanwhile, on
the other CPU, then tokenises the texts it is sent
(`hcrisis.text.tokens.token_arrays`, itself on two processes), sends back
plain arrays and keeps them. Steps that need spaCy with the tokens (the
codebook's matcher) run there (`Workers.with_tokens`), so the main process
never imports spaCy. If the process is gone, the calls are made in this
process, with the same results.

This module imports nothing heavy, so the CLI can start it first. Without
the fork start method (Windows) `start_tokeniser` gives None and callers
tokenise in their own process, with identical results.
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from hcrisis.workers import Preloaded, call_later

if TYPE_CHECKING:
    import pandas as pd

    from hcrisis.text.tokens import TokenArrays, Tokens

T = TypeVar("T")


# In the tokeniser's process: the texts it tokenised and their arrays (`with_tokens`).
_KEPT: dict[str, Any] = {}


def _load_pipeline() -> None:
    from hcrisis.text.tokens import shared_pipeline
    shared_pipeline()


def _keep_arrays(texts: list[str]) -> tuple[int, TokenArrays]:
    """The texts' arrays, kept in this process, and its pid (the caller's if the process is gone)."""
    from hcrisis.text.tokens import shared_pipeline, token_arrays

    arrays = token_arrays(texts, shared_pipeline())
    _KEPT.update(texts=texts, arrays=arrays)
    return os.getpid(), arrays


def _with_kept(function: Callable[..., T], segments: pd.DataFrame, *args) -> T:
    """`function(segments, tokens, *args)` with the tokens this process kept of the segments'
    texts, else (another corpus, or the process was gone) with the segments tokenised here."""
    if _KEPT and _KEPT["texts"] == segments["text"].tolist():
        tokens = _KEPT["arrays"].to_tokens(segments["segment_id"].tolist())
    else:
        from hcrisis.text.tokens import tokenize_segments
        tokens = tokenize_segments(segments)
    return function(segments, tokens, *args)


class Tokeniser:
    """A process loading the blank English pipeline now, tokenising the corpus's texts
    when asked and keeping their arrays, then running the calls that need them
    (`with_tokens`: coding, whose matcher needs spaCy, which this process has loaded)."""

    def __init__(self):
        self._server = Preloaded(())
        self._server.submit(_load_pipeline)     # at once; an error there is raised by the next call
        self.holds = False                      # whether the process made (and keeps) the tokens

    def token_arrays(self, texts: list[str]) -> TokenArrays:
        """The texts' `TokenArrays`, from the process (made here if it is gone)."""
        pid, arrays = self._server.submit(_keep_arrays, texts)()
        self.holds = pid != os.getpid()
        return arrays

    def tokenize_segments(self, segments: pd.DataFrame) -> Tokens:
        """`hcrisis.text.tokens.tokenize_segments` with the blank English pipeline, done by the
        process; a corpus with other languages is tokenised here, a pipeline per language."""
        from hcrisis.text.tokens import tokenize_segments

        if "language" in segments and set(segments["language"]) != {"en"}:
            return tokenize_segments(segments)
        return self.token_arrays(segments["text"].tolist()).to_tokens(segments["segment_id"].tolist())

    def with_tokens(self, function: Callable[..., T], segments: pd.DataFrame, *args) -> Callable[[], T]:
        """Start `function(segments, tokens, *args)` in the process, on the tokens it kept of
        `segments` (`_with_kept`); the function returned waits for the result."""
        return self._server.submit(_with_kept, function, segments, *args)

    def close(self) -> None:
        """Stop the process (unused, or done) and wait for it."""
        self._server.close()

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
            self._preloaded = Preloaded(self._preload, background=True)   # needed steps later

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

    def with_tokens(self, function: Callable[..., T], segments: pd.DataFrame,
                    tokens: Callable[[], Tokens], *args) -> Callable[[], T]:
        """Start `function(segments, tokens, *args)` where the segments' tokens are: in the
        early tokeniser's process if it made them (this process then never loads spaCy for
        the call), else here with `tokens()`; the function returned waits for the result."""
        made = tokens()
        if self.tokeniser is not None and self.tokeniser.holds:
            return self.tokeniser.with_tokens(function, segments, *args)
        return call_later(function, segments, made, *args)

    def defer(self, finish: Callable[[], list[Path]], then: Callable[[list[Path]], None]) -> None:
        """Let work run on in the background: `finish()` waits for it and returns the
        files it wrote, which `then` receives; both run in `finish_all`."""
        self._deferred.append(lambda: then(finish()))

    def finish_all(self) -> None:
        """Wait for every deferred piece of work, in the order it was deferred."""
        while self._deferred:
            self._deferred.pop(0)()
