"""Personal names in free text without a trained model.

Two shipped lists (`data/names/`, built by `write_name_lists` from the person
providers of the Faker package, MIT licence, see `LICENSE-names.txt`): given
names and surnames of the locales in `LOCALES` (English-speaking ones and
the languages most spoken in UK households), written in ASCII letters. A given name that is also an ordinary English word or place ("Will",
"Grace", "Paris") is marked `common`: its lower-case form is more frequent
than, or nearly as frequent as, its capitalised one in spaCy's English lexeme
probabilities (spacy-lookups-data, MIT; `_common`).

Rules, applied to capitalised words (`find_names`):

1. a title (Dr, Mrs, Cllr, ...) and the capitalised words after it;
2. a given name followed by a capitalised surname (in the list, or any
   capitalised word that is not an organisation or place word): the full name;
3. a given name that is not `common`, alone: a name, even at a sentence
   start ("Anna was lovely"), except before an organisation or place word
   ("Florence Street", "Grace Homes") or after a place preposition ("in Paris");
4. any capitalised word in a name context: after "my manager", "colleague",
   "called", "named", ... ("my manager Kupor") or before "said", "told",
   "asked", ... when not at a sentence start ("then Kupor said").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

LOCALES = ("en_GB", "en_IE", "en_US", "en_IN", "en_PK", "en_NZ", "en_NG", "en_KE", "ga_IE", "fr_FR",
           "de_DE", "es_ES", "it_IT", "pl_PL", "pt_PT", "nl_NL", "tr_TR", "sw")
TITLES = {"dr", "mr", "mrs", "ms", "miss", "mx", "prof", "professor", "sir", "dame", "cllr",
          "councillor", "lord", "lady", "rev", "reverend"}
# Words that make a capitalised run an organisation or a place, not a person.
ORG_WORDS = {"council", "homes", "housing", "association", "trust", "group", "ltd", "limited", "plc",
             "university", "college", "school", "street", "road", "avenue", "lane", "close", "court",
             "house", "centre", "center", "hospital", "partnership", "authority", "estate", "park",
             "square", "way", "city", "borough", "district", "county", "institute", "foundation",
             "services", "company", "department", "ministry", "office", "agency", "network", "church"}
CALENDAR = {"january", "february", "march", "april", "may", "june", "july", "august", "september",
            "october", "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday",
            "saturday", "sunday", "christmas", "easter"}
PLACE_BEFORE = {"in", "at", "near", "across", "around", "outside", "towards", "toward", "into"}
CONTEXT_BEFORE = {"manager", "colleague", "boss", "friend", "husband", "wife", "partner", "son",
                  "daughter", "mum", "dad", "mother", "father", "sister", "brother", "neighbour",
                  "tenant", "called", "named", "supervisor", "director", "officer", "worker", "chair"}
CONTEXT_AFTER = {"said", "says", "told", "asked", "explained", "replied", "mentioned", "thinks",
                 "thought", "reckons", "wrote", "emailed", "rang", "phoned"}
_WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*")
_PRONOUN_I = re.compile(r"I(?:['’](?:m|ve|d|ll))?")      # "I thought", "I've said": never a name
_SENTENCE_END = re.compile(r"(?:^|[.!?:;\n\"“”]\s*)$")


@dataclass(frozen=True)
class NameLists:
    given: frozenset[str]
    common: frozenset[str]       # given names that are also ordinary words or places
    surnames: frozenset[str]


@lru_cache(maxsize=1)
def name_lists() -> NameLists:
    folder = resources.files("hcrisis").joinpath("data/names")
    given, common, surnames = set(), set(), set()
    for line in folder.joinpath("given_names.txt").read_text("utf-8").splitlines():
        name, _, flag = line.partition("\t")
        given.add(name)
        if flag == "common":
            common.add(name)
    surnames = set(folder.joinpath("surnames.txt").read_text("utf-8").split())
    return NameLists(frozenset(given), frozenset(common), frozenset(surnames))


def _capitalised(word: str) -> bool:
    return word[:1].isupper() and not word.isupper() or (len(word) == 1 and word.isupper())


def _stem(word: str) -> str:
    """A word without a possessive ending (Anna's, Swaroop’s)."""
    return re.sub(r"['’]s?$", "", word)


def find_names(text: str) -> list[tuple[int, int]]:
    """Character spans of personal names in `text`, in order, not overlapping."""
    lists = name_lists()
    words = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        n = _name_length(text, words, i, lists)
        if n:
            spans.append((words[i][0], words[i][0] + len(_stem(text[words[i][0]:words[i + n - 1][1]]))))
            i += n
        else:
            i += 1
    return spans


def _name_length(text: str, words: list[tuple[int, int, str]], i: int, lists: NameLists) -> int:
    """How many words from i form a name (0: none)."""
    start, end, raw = words[i]
    word = _stem(raw)
    if (not _capitalised(word) or word.lower() in ORG_WORDS or word.lower() in CALENDAR
            or _PRONOUN_I.fullmatch(word)):
        return 0
    prev = words[i - 1][2].lower() if i > 0 and text[words[i - 1][1]:start] == " " else ""
    nxt = _stem(words[i + 1][2]) if i + 1 < len(words) else ""
    gap = text[end:words[i + 1][0]] if i + 1 < len(words) else ""
    name_next = _capitalised(nxt) and nxt.lower() not in ORG_WORDS
    if word.lower() in TITLES:          # "Dr Hughes", "Mrs. Patel", "Ms Ann Okafor"
        if not (name_next and gap in (" ", ". ")):
            return 0
        third = i + 2 < len(words) and text[words[i + 1][1]:words[i + 2][0]] == " "
        return 3 if third and words[i + 2][2] in lists.surnames else 2
    adjacent = gap == " "
    initial = _sentence_start(text, start)
    if (word in lists.given and adjacent and name_next
            and (nxt in lists.surnames or nxt not in lists.given or not initial)):
        return 2
    if word in lists.given and word not in lists.common:
        org_after = adjacent and nxt.lower() in ORG_WORDS
        return 0 if org_after or prev in PLACE_BEFORE else 1
    if prev in CONTEXT_BEFORE or (not initial and adjacent and nxt.lower() in CONTEXT_AFTER):
        return 1
    return 0


def _sentence_start(text: str, at: int) -> bool:
    return bool(_SENTENCE_END.search(text[max(0, at - 3):at]))


def _common(prob: dict[str, float], name: str) -> bool:
    """An ordinary word too: its lower-case form is frequent (log probability over -15)
    and at most one e-fold rarer than the capitalised form."""
    lower = prob.get(name.lower())
    return lower is not None and lower > -15 and lower >= prob.get(name, -99.0) - 1


def build_name_lists() -> dict[str, str]:
    """The texts of `data/names/` from Faker's person providers (needs faker, a test dependency)."""
    import importlib

    from spacy.util import load_language_data, registry

    given, surnames = set(), set()
    for locale in LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for attr in ("first_names", "first_names_male", "first_names_female"):
            given.update(getattr(provider, attr, ()))
        surnames.update(getattr(provider, "last_names", ()))
    prob = load_language_data(registry.lookups.get("en")["lexeme_prob"])
    clean = [n for n in given if re.fullmatch(r"[A-Z][a-z'\-]+", n)]
    lines = [f"{n}\tcommon" if _common(prob, n) else n for n in sorted(clean)]
    last = sorted(n for n in surnames if re.fullmatch(r"[A-Z][A-Za-z'\-]+", n))
    return {"given_names.txt": "\n".join(lines) + "\n", "surnames.txt": "\n".join(last) + "\n"}


def write_name_lists() -> None:
    """Rewrite `data/names/` (`make names`, after a Faker upgrade or a change of `LOCALES`)."""
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "data" / "names"
    for name, text in build_name_lists().items():
        (folder / name).write_text(text, "utf-8")
