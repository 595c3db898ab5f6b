"""Progress of long commands on stderr, live in a terminal and plain when piped.

In a terminal, a rich display lists the steps with their elapsed time, the
running one with a spinner and what it is doing (tokenising or coding so
many segments). Piped, redirected or in CI (`CI` set), nothing is animated:
one line per finished step with its time, e.g. `step coding: 2.31 s (coding
207 segments with 68 codes)`. Standard output stays for results.
"""

from __future__ import annotations

import os
import sys
import time


class StepProgress:
    """`progress(name)` starts a step (ending the one before); `progress.detail(text)` says
    what the running step is doing. Use as a context manager: leaving it ends the last step."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() and not os.environ.get("CI")
        self.name: str | None = None
        self.details: list[str] = []
        self.started = 0.0
        self._rich = None
        self._task = None

    def __enter__(self) -> "StepProgress":
        if self.live:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._rich = Progress(SpinnerColumn(finished_text="✓"), TextColumn("{task.description}"),
                                  TimeElapsedColumn(), console=Console(file=self.stream), transient=False)
            self._rich.start()
        return self

    def __call__(self, name: str) -> None:
        self._end()
        self.name, self.details, self.started = name, [], time.perf_counter()
        if self._rich is not None:
            self._task = self._rich.add_task(name, total=1)

    def detail(self, text: str) -> None:
        self.details.append(text)
        if self._rich is not None and self._task is not None:
            self._rich.update(self._task, description=f"{self.name}: {text}")

    def _end(self) -> None:
        if self.name is None:
            return
        if self._rich is not None:
            self._rich.update(self._task, completed=1)
        else:
            extra = f" ({'; '.join(self.details)})" if self.details else ""
            print(f"step {self.name}: {time.perf_counter() - self.started:.2f} s{extra}", file=self.stream,
                  flush=True)
        self.name = None

    def __exit__(self, *exc) -> None:
        self._end()
        if self._rich is not None:
            self._rich.stop()
