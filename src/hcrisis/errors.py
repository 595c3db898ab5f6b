"""The one error family of hcrisis.

The library raises these; the CLI catches `HcrisisError` once and prints its
one-line message (exit code 1). Messages name the file (and line, where there
is one) and say how to fix the problem.
"""

from __future__ import annotations

from pathlib import Path


class HcrisisError(Exception):
    """Base class: a problem the user can fix, reported in one line."""

    def __init__(self, message: str, *, path: str | Path | None = None,
                 line: int | None = None, fix: str | None = None):
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path + (f":{self.line}" if self.line is not None else "") + ": "
        text = where + self.message
        if self.fix:
            text += f" ({self.fix})"
        return text.replace("\n", " ")

    def __reduce__(self):
        # raised in a forked worker (`hcrisis.workers`), it is pickled to the parent; rebuilt
        # from its state without calling __init__, whose arguments differ by subclass
        # (SchemaError's could not be rebuilt from its message)
        return _rebuilt, (type(self), self.args, self.__dict__)


def _rebuilt(cls: type, args: tuple, state: dict) -> HcrisisError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class InputError(HcrisisError):
    """A file is missing, unreadable, undecodable or malformed."""


class SchemaError(HcrisisError):
    """A YAML file (manifest, study, codebook) breaks its schema.

    Carries every problem found, each with its path inside the document and
    its YAML line, so the user can fix them all in one go.
    """

    def __init__(self, path: str | Path, problems: list[tuple[str, int | None, str]]):
        self.problems = problems
        first_path, first_line, first_msg = problems[0]
        summary = f"{first_path}: {first_msg}"
        if len(problems) > 1:
            summary += f" (and {len(problems) - 1} more problem(s): " + "; ".join(
                f"{p}{f' line {ln}' if ln else ''}: {m}" for p, ln, m in problems[1:]) + ")"
        super().__init__(summary, path=path, line=first_line)


class CorpusError(HcrisisError):
    """A corpus is inconsistent: missing document, unknown attribute, empty."""


class PrivacyError(HcrisisError):
    """An export would write identifying text without --allow-identifiers."""
