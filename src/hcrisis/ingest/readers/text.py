"""Plain-text and Markdown transcripts with speaker-turn lines.

Speaker labels are found the way real exports write them, at the start of a
line and in any case:

- `Interviewer: ...`, `interviewer 1:`, `Interviewer1 :`, `Int:`, `Q:`/`A:`,
  `R1:`, `Dr Jane Smith:`; Zoom/Teams display names with brackets, apostrophes
  (straight or curly), hyphens and digits (`Ann Lee (SL):`, `Bob’s iPad:`);
- a time before or after the label: `[00:12:03] Name:`, `00:12:03 Speaker 1`
  alone on its line, `Speaker 1  0:03` or `Speaker 1 (00:00:05):` above the turn;
- a label alone on its line with the turn below it (`Interviewer:` or a bare
  `Interviewer` line, as QDA tools print transcripts);
- QualCoder-style `[id1]` labels in square brackets;
- in a line over `LONG_LINE` characters (a transcript saved on one long line)
  also labels after a sentence's end (`... thanks. Respondent: ...`).

A label counts only if it recurs in the document, is a role label
(`Interviewer`, `Q`, `R2`, `Speaker 3`, see `hcrisis.ingest.roles`) or is
declared in the manifest, so a one-off `Note:` in prose is not a speaker; a
bare label line must recur (or be a role or declared label). Lines without a
label continue the current turn; text before the first label has no speaker;
a file with no labels at all becomes one turn per paragraph.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable

from hcrisis.errors import InputError
from hcrisis.files import read_bytes
from hcrisis.ingest.readers import ReaderOptions, Transcript, Turn, register
from hcrisis.ingest.readers.decode import decode_text
from hcrisis.ingest.roles import is_role_label
from hcrisis.saferegex import UserRegex

_TIMEVAL = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
_TIME = rf"[\[(]?(?P<time>{_TIMEVAL})[\])]?"
# One word of a label: letters, digits, apostrophes, dots, hyphens (no spaces),
# or a short bracketed part such as "(SL)"; a label has at most six of them.
_WORD = r"(?:[^\W_][\w'’.\-]{0,30}|\([^()\n:]{1,20}\))"
_LABEL = rf"(?P<speaker>{_WORD}(?:[ \t]{{1,3}}{_WORD}){{0,5}})"
_BOLD = r"(?:\*\*)?"
_COLON = rf"[ \t]*{_BOLD}:{_BOLD}(?![/\d])[ \t]*"
_LEAD = rf"^[ \t]*{_BOLD}"
# Each form of label line; `bare` forms (no colon, no time) need more evidence.
_FORMS = (
    ("time", re.compile(rf"{_LEAD}{_TIME}[ \t]+(?:-[ \t]+)?{_LABEL}(?:{_COLON}|[ \t]*$)")),
    ("bracket", re.compile(r"^[ \t]*\[(?P<speaker>[^\W\d_][\w .'’\-]{0,39})\](?:[ \t]*:)?[ \t]*")),
    ("colon", re.compile(rf"{_LEAD}{_LABEL}{_COLON}")),
    ("after", re.compile(rf"{_LEAD}{_LABEL}[ \t]+{_TIME}(?:[ \t]*:[ \t]*|[ \t]*$)")),
    ("bare", re.compile(rf"{_LEAD}(?P<speaker>[^\W_][\w'’\-]{{0,30}}(?:[ \t][^\W_][\w'’\-]{{0,30}}){{0,3}})"
                        rf"[ \t]*{_BOLD}[ \t]*$")),
)
# Bracketed words that annotate the recording, not speakers.
_ANNOTATIONS = {"inaudible", "laughter", "laughs", "crosstalk", "pause", "silence", "music",
                "applause", "overlapping", "unclear", "redacted", "name", "coughs", "noise"}
LONG_LINE = 400
# The sentence's end is matched, not looked behind at: a pattern that starts with a
# character class lets the regex engine skip to the candidates (3x faster on long
# lines); matches cannot overlap either way, as a match ends with a colon or space.
_INLINE = re.compile(rf"[.?!…\"”)\]][ \t]+(?P<speaker>[A-Z][\w'’\-]{{0,30}}(?:[ \t][A-Z0-9][\w'’\-]{{0,30}}){{0,2}}"
                     rf"){_COLON}")
# What may stand between an inline label's sentence end and its colon besides letters
# and digits (`\w` is a letter, digit or '_').
_NAME_OR_SPACE = "_'’- \t*"
# Kept for the default label form a redacted copy writes (`Label: text`).
DEFAULT_PATTERN = _FORMS[2][1].pattern


def parse_time(value: str | None) -> float | None:
    if not value:
        return None
    parts = value.replace(",", ".").split(":")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return seconds


@dataclass(frozen=True)
class Label:
    """A speaker label at `start`; the turn's text begins at `body`.

    Structured readers (docx tables, caption cues) build labels directly;
    `speaker` may be None for a turn boundary without a speaker. `form` says
    how a found label was written (see `_FORMS`; `explicit` for structured ones).
    """

    start: int
    body: int
    speaker: str | None
    time_start: float | None = None
    time_end: float | None = None
    form: str = "explicit"


class LabelFinder:
    """Finds speaker-label candidates in text; `keep` applies the recurrence rule.

    A manifest's `pattern` (a regex with a named group `speaker`) replaces the
    default forms and every match counts; `declared` labels (the manifest's
    `speakers` keys and interviewer lists) are found in any form, even
    written unusually, and count even once.
    """

    def __init__(self, pattern: str | None = None, declared: Iterable[str] = (),
                 path: str | Path = "") -> None:
        self.custom = compile_pattern(pattern, Path(path)) if pattern else None
        self.declared = {d.strip().casefold() for d in declared if d and d.strip()}
        # a name with a line break can never match a line
        names = sorted((d for d in self.declared if "\n" not in d), key=len, reverse=True)
        self.declared_rx = (re.compile(rf"{_LEAD}(?P<speaker>{'|'.join(map(re.escape, names))})"
                                       rf"(?:{_COLON}|[ \t]*$)", re.IGNORECASE) if names else None)
        # the forms tried on each line, in order (a transcript's every line is matched)
        self.forms = [("custom", self.custom)] if self.custom else \
            [("declared", self.declared_rx)] * bool(self.declared_rx) + list(_FORMS)
        self.any_form = None if self.custom else _alternation(self.forms)
        # by the number of a form's group in `any_form`: the form, its speaker's and time's groups
        self.groups = {} if self.custom else {
            self.any_form.groupindex[f"f{k}"]: (form, self.any_form.groupindex[f"s{k}"],
                                                self.any_form.groupindex.get(f"t{k}"))
            for k, (form, _) in enumerate(self.forms)}

    def match(self, line: str, offset: int = 0) -> Label | None:
        """The label at the start of one line (no newline inside), if any."""
        for form, rx in self.forms:
            m = rx.match(line)
            if m is None or not m.group("speaker").strip():
                continue
            speaker = m.group("speaker").strip()
            if form == "bracket" and speaker.lower() in _ANNOTATIONS:
                return None
            time = m.groupdict().get("time")
            return Label(offset + m.start(), offset + m.end(), speaker, parse_time(time), None, form)
        return None

    def candidates(self, text: str) -> list[Label]:
        """Every label candidate at a line start (and inline in long lines), in text order."""
        if self.custom is not None:
            return [Label(m.start(), m.end(), m.group("speaker").strip() or None,
                          parse_time(m.groupdict().get("time")), None, "custom")
                    for m in self.custom.finditer(text)
                    if m.start() == 0 or text[m.start() - 1] == "\n"]
        found: list[Label] = []
        pos = 0
        match = self.any_form.match
        for line in text.split("\n"):
            m = match(text, pos)      # every form at once, at this line's start
            if m is not None:
                label = self._label(m, line, pos)
                if label is not None:
                    found.append(label)
            if len(line) > LONG_LINE:
                found += _inline_labels(text, pos, pos + len(line))
            pos += len(line) + 1
        return found

    def _label(self, m: re.Match, line: str, pos: int) -> Label | None:
        """The label of the first form that matched (`_alternation`), as `match` gives it."""
        form, speaker_group, time_group = self.groups[m.lastindex]
        speaker = m.group(speaker_group).strip()
        if not speaker:     # `match` goes on to the later forms
            return self.match(line, pos)
        if form == "bracket" and speaker.lower() in _ANNOTATIONS:
            return None
        time = m.group(time_group) if time_group else None
        return Label(m.start(), m.end(), speaker, parse_time(time), None, form)

    def keep(self, labels: list[Label]) -> list[Label]:
        """The candidates that count as labels in this document.

        Explicit, custom and declared labels always count, and so do capitalised
        ones with a time (`00:12:03 Speaker 1`); a role label counts at a line
        start (alone on its line only capitalised and longer than a letter:
        `Interviewer`); any other label must occur twice (a bare one: two
        different bare labels must each occur twice, as in a dialogue).
        """
        counts = Counter((lab.speaker, lab.form == "bare") for lab in labels)
        bare = {s for (s, is_bare), n in counts.items() if is_bare and n > 1 and _capitalised(s)}
        if len(bare) < 2:
            bare = set()
        kept, spelling = [], {}
        # decided once per (speaker, form): a transcript repeats a few labels thousands of times
        decided: dict[tuple[str | None, str], bool] = {}
        for lab in labels:
            key = (lab.speaker, lab.form)
            if key not in decided:
                decided[key] = self._counts(lab.speaker, lab.form, counts, bare)
            if decided[key]:
                # `INT:` and `int:` in one document are one speaker, as first written
                first = spelling.setdefault(lab.speaker.casefold(), lab.speaker) if lab.speaker else None
                kept.append(lab if first == lab.speaker else replace(lab, speaker=first))
        return kept

    def _counts(self, label: str | None, form: str, counts: Counter, bare: set[str]) -> bool:
        """Whether a label of this speaker and form counts (`keep`'s rule)."""
        speaker = label or ""
        return (form in ("explicit", "custom", "declared")
                or (form in ("time", "after") and _capitalised(speaker))
                or speaker.casefold() in self.declared
                or (form not in ("inline", "bare") and is_role_label(speaker))
                or (form == "bare" and is_role_label(speaker) and len(speaker) > 1
                    and _capitalised(speaker))
                or (speaker in bare if form == "bare" else counts[(label, False)] > 1))

    def find(self, text: str) -> list[Label]:
        return self.keep(self.candidates(text))


def _inline_labels(text: str, start: int, end: int) -> list[Label]:
    """The labels after a sentence's end in `text[start:end]`, as `_INLINE.finditer` finds
    them, but tried only before each colon: between a label's sentence end and its colon
    are only name characters, spaces and `**`, none of them a sentence end, so walking
    back over those from a colon reaches the one place its label can start. (A regex
    scan of every character of long lines was a fifth of reading a corpus.)"""
    found = []
    colon = text.find(":", start, end)
    while colon >= 0:
        at = colon - 1
        while at >= start and (text[at].isalnum() or text[at] in _NAME_OR_SPACE):
            at -= 1
        m = _INLINE.match(text, at, end) if at >= start else None
        if m is not None:
            found.append(Label(m.start("speaker"), m.end(), m.group("speaker"), form="inline"))
        colon = text.find(":", colon + 1, end)
    return found


def _alternation(forms: list[tuple[str, re.Pattern]]) -> re.Pattern:
    """One regex trying `forms` in order at a line start (a regex alternation takes its
    first alternative that matches, as `LabelFinder.match` takes the first form): form k
    is group `f<k>` (the last group a match closes: `lastindex`), its speaker `s<k>` and
    its time `t<k>`. One match per line instead
    of one per form and line (reading a corpus spent most of its time here)."""
    parts = []
    for k, (_, rx) in enumerate(forms):
        body = rx.pattern.replace("(?P<speaker>", f"(?P<s{k}>").replace("(?P<time>", f"(?P<t{k}>")
        flags = "i" if rx.flags & re.IGNORECASE else ""
        parts.append(f"(?P<f{k}>(?{flags}:{body}))" if flags else f"(?P<f{k}>{body})")
    return re.compile("|".join(parts), re.MULTILINE)


def _capitalised(label: str) -> bool:
    return all(w[:1].isupper() or w[:1].isdigit() for w in label.split())


def compile_pattern(pattern: str, path: Path) -> UserRegex:
    """The manifest's pattern, run under `hcrisis.saferegex`'s guarantee (RE2 or a time budget)."""
    try:
        rx = UserRegex(pattern, "speaker pattern", path, re.MULTILINE)
    except re.error as exc:
        raise InputError(f"invalid speaker pattern: {exc}", path=path,
                         fix="fix speakers.pattern in the manifest") from None
    if "speaker" not in rx.groupindex:
        raise InputError("speaker pattern has no named group 'speaker'", path=path,
                         fix="use (?P<speaker>...) in speakers.pattern")
    return rx


def finder_for(options: ReaderOptions, path: Path) -> LabelFinder | None:
    """The label finder a reader uses, or None for paragraph-only documents."""
    if options.paragraphs_only:
        return None
    return LabelFinder(options.speaker_pattern, options.declared, path)


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def turns_from_labels(text: str, labels: list[Label]) -> list[Turn]:
    """Each label's turn runs to the next label; text before the first is paragraphs."""
    if not labels:
        return paragraph_turns(text)
    turns = paragraph_turns(text[:labels[0].start])
    for i, lab in enumerate(labels):
        stop = labels[i + 1].start if i + 1 < len(labels) else len(text)
        s, e = _trim(text, lab.body, stop)
        if e == s:  # a label with nothing said
            continue
        turns.append(Turn(lab.speaker, s, e, lab.time_start, lab.time_end))
    return turns


def split_turns(text: str, finder: LabelFinder | None = None) -> list[Turn]:
    """Split canonical text into turns at the labels that count."""
    return turns_from_labels(text, (finder or LabelFinder()).find(text))


# A newline that ends a paragraph: the next line is blank (spaces and tabs at most).
_PARAGRAPH_END = re.compile(r"\n(?=[ \t]*\n)")


def paragraph_turns(text: str, offset: int = 0) -> list[Turn]:
    """One turn per blank-line-separated paragraph, without speaker.

    The text is cut at paragraph ends rather than matched paragraph by
    paragraph: a regex repeating an alternation per character kept a
    backtracking frame per character (about 120 bytes each), so a 48 MB
    transcript without labels ran out of memory.
    """
    turns, start = [], 0
    ends = [m.start() for m in _PARAGRAPH_END.finditer(text)] + [len(text)]
    for end in ends:
        s, e = _trim(text, start, end)
        if e > s:
            turns.append(Turn(None, s + offset, e + offset))
        start = end + 1
    return turns


@register("txt", "md", "text")
def read_text(path: Path, options: ReaderOptions) -> Transcript:
    text = decode_text(read_bytes(path, options.max_bytes), path)
    finder = finder_for(options, path)
    turns = paragraph_turns(text) if finder is None else split_turns(text, finder)
    if not turns:
        raise InputError("transcript is empty", path=path, fix="check that the file has text")
    return Transcript(str(path), path.suffix.lower().lstrip("."), text, turns)
