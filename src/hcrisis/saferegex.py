"""Users' regular expressions, run under a guarantee against runaway matching.

Codebook regex rules and manifest speaker patterns come from files someone
else may have written. Python's `re` backtracks: `(?:a|aa)+$` takes longer
than the age of the universe on a 5,000-character turn. So a user's pattern
runs in one of two ways (`UserRegex`):

- on RE2 (the `google-re2` package), an engine without backtracking whose
  time is linear in the text, when RE2 accepts the pattern and means the same
  by it as Python: patterns using `\\b`, `\\B`, `\\w`, `\\d`, `\\s` (and their
  negations) are left to Python, because RE2 gives them their ASCII meaning
  while Python's is Unicode, and so are `$` outside multi-line mode (Python's
  also matches before a final newline) and patterns that can match the empty
  string (after an empty match Python may match again at the same place);
- otherwise on Python's `re` with a budget of CPU time for finding each match
  (`MATCH_SECONDS`, plus `SECONDS_PER_CHAR` of the text, for a long text
  without a match). Past it the search is stopped and an `InputError` names
  the rule. The budget needs a POSIX interval timer and the main thread;
  elsewhere (Windows, worker threads) the pattern runs without it.

`slow_problem` tries a pattern on strings built to make backtracking
explode (`adversarial_strings`) and reports one that takes too long under
Python's engine, so `hcrisis codebook check` and the manifest loader reject
it before any text is read.
"""

from __future__ import annotations

import contextlib
import re
import signal
import threading
from pathlib import Path
from typing import Any, Iterator

from hcrisis.errors import InputError

try:  # Python 3.11+: the regex parser without sre_parse's deprecation warning
    import re._parser as sre
    import re._constants as sre_c
except ImportError:  # pragma: no cover
    import sre_constants as sre_c  # type: ignore[no-redef]
    import sre_parse as sre  # type: ignore[no-redef]

try:
    import re2
except ImportError:  # pragma: no cover - a dependency; without it every pattern has a budget
    re2 = None

MATCH_SECONDS = 1.0
SECONDS_PER_CHAR = 50e-9      # 2.4 s more for a 48 MB transcript
PROBE_SECONDS = 0.25          # per adversarial string: a linear pattern needs microseconds
PROBE_CHARS = 2000


class _Expired(Exception):
    """Raised by the timer's signal handler inside a search."""


def budget_available() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def cpu_budget(seconds: float) -> Iterator[Any]:
    """Raise `_Expired` in the block once it has used `seconds` of CPU time.

    Yields a function that restarts the budget (one per match). CPU time
    (ITIMER_VIRTUAL, SIGVTALRM), not wall time, so a busy machine does not
    stop a fast pattern, and the wall-clock SIGALRM stays free for others
    (pytest-timeout uses it). Without a timer the block runs unbounded.
    """
    if not budget_available():
        yield lambda: None
        return

    def expire(signum, frame):
        raise _Expired()

    previous = signal.signal(signal.SIGVTALRM, expire)
    restart = lambda: signal.setitimer(signal.ITIMER_VIRTUAL, seconds)  # noqa: E731
    try:
        restart()
        yield restart
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.signal(signal.SIGVTALRM, previous)


# ------------------------------------------------------------ RE2 or Python
_PERL_CLASSES = {sre_c.CATEGORY}
_BOUNDARIES = {sre_c.AT_BOUNDARY, sre_c.AT_NON_BOUNDARY}


def _items(parsed) -> Iterator[tuple[Any, Any]]:
    """Every (op, argument) of a parsed pattern, nested ones included."""
    for op, av in parsed:
        yield op, av
        if op == sre_c.IN:
            yield from av
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT) or op == getattr(sre_c, "POSSESSIVE_REPEAT", None):
            yield from _items(av[2])
        elif op == sre_c.SUBPATTERN:
            yield from _items(av[-1])
        elif op == sre_c.BRANCH:
            for alt in av[1]:
                yield from _items(alt)
        elif op in (sre_c.ASSERT, sre_c.ASSERT_NOT):
            yield from _items(av[1])
        elif op == sre_c.GROUPREF_EXISTS:
            for alt in av[1:]:
                if alt is not None:
                    yield from _items(alt)
        elif op == getattr(sre_c, "ATOMIC_GROUP", None):
            yield from _items(av)


def same_in_re2(pattern: str, flags: int = 0) -> bool:
    """Whether RE2 would mean by `pattern` what Python does (see the module docstring)."""
    parsed = sre.parse(pattern, flags)
    if parsed.getwidth()[0] == 0:
        return False
    multiline = bool(parsed.state.flags & re.MULTILINE)
    for op, av in _items(parsed):
        if op in _PERL_CLASSES or (op == sre_c.AT and av in _BOUNDARIES):
            return False
        if op == sre_c.AT and av == sre_c.AT_END and not multiline:
            return False
        if op == sre_c.SUBPATTERN and (av[1] or av[2]):   # scoped flags: (?m:...)
            return False
    return True


def _re2_compile(pattern: str, flags: int):
    if re2 is None or flags & ~(re.MULTILINE | re.IGNORECASE | re.DOTALL) or not same_in_re2(pattern, flags):
        return None
    inline = "".join(f for flag, f in ((re.MULTILINE, "m"), (re.IGNORECASE, "i"), (re.DOTALL, "s"))
                     if flags & flag)
    options = re2.Options()
    options.log_errors = False   # a pattern RE2 refuses goes to Python, quietly
    try:
        return re2.compile((f"(?{inline})" if inline else "") + pattern, options)
    except re2.error:
        return None


class UserRegex:
    """A user's pattern with the engine that runs it safely (see the module docstring).

    `name` and `source` (the rule and the file that holds it) are for the
    error raised when a search runs out of budget. The pattern must compile
    with `re` (callers validate it first and report their own error).
    """

    def __init__(self, pattern: str, name: str, source: str | Path | None = None, flags: int = 0):
        self.pattern, self.name, self.source = pattern, name, source
        self.python = re.compile(pattern, flags)
        self.groupindex = self.python.groupindex
        self.re2 = _re2_compile(pattern, flags)

    @property
    def engine(self) -> str:
        return "re2" if self.re2 is not None else "re"

    def finditer(self, text: str, where: str = "") -> list[Any]:
        """Every match in `text` (match objects of either engine: start, end, group,
        groupdict); `where` (a segment, a document) is named if the budget runs out."""
        if self.re2 is not None:
            return list(self.re2.finditer(text))
        found = []
        try:
            with cpu_budget(self._seconds(text)) as restart:
                for m in self.python.finditer(text):
                    found.append(m)
                    restart()
        except _Expired:
            raise self._expired(text, where) from None
        return found

    def match(self, text: str, where: str = "") -> Any:
        """A match at the start of `text`, or None (as `re.Pattern.match`)."""
        if self.re2 is not None:
            return self.re2.match(text)
        try:
            with cpu_budget(self._seconds(text)):
                return self.python.match(text)
        except _Expired:
            raise self._expired(text, where) from None

    @staticmethod
    def _seconds(text: str) -> float:
        return MATCH_SECONDS + SECONDS_PER_CHAR * len(text)

    def _expired(self, text: str, where: str) -> InputError:
        seconds = self._seconds(text)
        return InputError(f"{self.name} '{_shown(self.pattern)}' ran over its time budget "
                          f"({seconds:.1f} s of CPU for one match){' in ' + where if where else ''}: "
                          "catastrophic backtracking", path=self.source,
                          fix="rewrite it without repeats that can match the same text in several "
                              "ways, such as (a|aa)+ or (a+)+")


def _shown(pattern: str) -> str:
    return pattern if len(pattern) <= 60 else pattern[:57] + "..."


# ------------------------------------------------------------ adversarial strings
_CATEGORY_CHAR = {sre_c.CATEGORY_DIGIT: "1", sre_c.CATEGORY_SPACE: " ", sre_c.CATEGORY_WORD: "a",
                  sre_c.CATEGORY_NOT_DIGIT: "a", sre_c.CATEGORY_NOT_SPACE: "a", sre_c.CATEGORY_NOT_WORD: " "}


def _class_char(items) -> str:
    """A character the class `[...]` (parsed) accepts, as far as one can tell cheaply."""
    if items and items[0][0] == sre_c.NEGATE:
        excluded = {chr(av) for op, av in items if op == sre_c.LITERAL}
        return next(c for c in "ab0 " if c not in excluded)
    for op, av in items:
        if op == sre_c.LITERAL:
            return chr(av)
        elif op == sre_c.RANGE:
            return chr(av[0])
        elif op == sre_c.CATEGORY:
            return _CATEGORY_CHAR.get(av, "a")
    return "a"


def _sample(parsed, pump: int, choice: int, chars: set[str], depth: int = 0) -> str:
    """A string walking `parsed`: each repeat taken `pump` times at the top, twice when
    nested; alternative number `choice` of each branch. Collects the characters seen."""
    out = []
    for op, av in parsed:
        if op == sre_c.LITERAL:
            out.append(chr(av))
        elif op in (sre_c.NOT_LITERAL, sre_c.ANY):
            out.append("b" if op == sre_c.NOT_LITERAL and av == ord("a") else "a")
        elif op == sre_c.IN:
            out.append(_class_char(av))
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT) or op == getattr(sre_c, "POSSESSIVE_REPEAT", None):
            lo, hi, body = av
            once = _sample(body, pump, choice, chars, depth + 1)
            times = min(max(lo, min(hi, pump if depth == 0 else 2)), 2 * PROBE_CHARS // max(len(once), 1) + 1)
            out.append(once * times)
        elif op == sre_c.SUBPATTERN:
            out.append(_sample(av[-1], pump, choice, chars, depth))
        elif op == sre_c.BRANCH:
            alts = av[1]
            out.append(_sample(alts[choice % len(alts)], pump, choice, chars, depth))
        elif op == getattr(sre_c, "ATOMIC_GROUP", None):
            out.append(_sample(av, pump, choice, chars, depth))
        if out and out[-1]:
            chars.update(out[-1][:PROBE_CHARS])
    return "".join(out)[:PROBE_CHARS * 2]


def adversarial_strings(pattern: str, flags: int = 0) -> list[str]:
    """Strings that make a backtracking engine explode on the usual bad shapes.

    The pattern walked with its repeats pumped (each alternative choice 0, 1
    and last), and each character it can match repeated; all cut to
    `PROBE_CHARS` and ended by a character that matches nothing, so that
    every way of splitting the run gets tried before the match fails.
    """
    parsed = sre.parse(pattern, flags)
    chars: set[str] = {"a"}
    walks = {_sample(parsed, PROBE_CHARS, choice, chars) for choice in (0, 1, -1)}
    runs = {c * PROBE_CHARS for c in sorted(chars)[:16]}
    return [s[:PROBE_CHARS] + "\x01" for s in sorted(walks | runs) if s]


def slow_problem(pattern: str, flags: int = 0) -> str | None:
    """A message if Python's engine takes over `PROBE_SECONDS` on an adversarial string.

    Without a CPU timer (see `cpu_budget`) the probe could itself hang, so
    it is skipped and None returned.
    """
    if not budget_available():
        return None
    rx = re.compile(pattern, flags)
    for probe in adversarial_strings(pattern, flags):
        try:
            with cpu_budget(PROBE_SECONDS):
                rx.search(probe)
        except _Expired:
            shown = probe[:12].encode("unicode_escape").decode()
            return (f"too slow: over {PROBE_SECONDS} s on a {len(probe)}-character test string "
                    f"('{shown}...'); it backtracks catastrophically (rewrite repeats that can "
                    "match the same text in several ways, such as (a|aa)+, a+a+ or (a{1,50}){1,50})")
    return None
