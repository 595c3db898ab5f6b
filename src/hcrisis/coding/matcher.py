"""The compiled codebook: rules matched over token arrays.

Compilation (`CompiledCodebook`): keywords and near terms become lemma
sequences, phrases lower-cased token sequences and wildcards prefixes of
lower-cased word types (expanded against the vocabulary being coded); all
are matched at once with numpy over the token arrays of `hcrisis.text.tokens`,
giving exactly the matches of spaCy's `PhraseMatcher` on LEMMA and LOWER
over one Doc per segment — linear in the text whatever the number of codes,
and without building Docs. Only `patterns` use spaCy's token `Matcher`, on
Docs of the segments that hold a word the patterns require; regexes run per
segment text. Coding units, scores and spans are computed with numpy over
all matches. The compiled
codebook is also a spaCy pipeline component, `hcrisis_coder`, that stores
rule hits of applied codes in `doc.spans["hcrisis_codes"]` and coded units in
`doc.spans["hcrisis_units"]` (label = code id).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

import numpy as np

from hcrisis.coding.codebook import Codebook, WEIGHTS, load_codebook
from hcrisis.saferegex import UserRegex

if TYPE_CHECKING:
    from hcrisis.text.tokens import Tokens

SPAN_KEY = "hcrisis_codes"
UNIT_KEY = "hcrisis_units"
LEMMA, LOWER = 0, 1          # the token attribute a keyword/phrase sequence is matched on


@dataclass(frozen=True)
class Rule:
    """What one matcher key stands for."""

    code: int                        # index in codebook order
    kind: str                        # a RULE_KINDS entry, or "term" (one term of a near rule)
    exclude: bool = False
    near: int = -1                   # index of the near rule (kind "term")
    term: int = -1                   # index of the term in it


def score(weights: Iterable[float]) -> float:
    """Evidence of a coding: S / (S + 2), S = summed weights of its distinct matched terms.

    A keyword weighs 1, a phrase, token pattern, near window or regex match 2
    (`WEIGHTS`), so one phrase or two different keywords give 0.5 and the
    score rises towards 1 with more distinct evidence; repeating one term
    adds nothing.
    """
    s = float(sum(weights))
    return s / (s + 2.0)


class CompiledCodebook:
    """A codebook's rules compiled for matching over token arrays (`hcrisis.text.tokens.Tokens`).

    Keywords, phrases, near terms and wildcards are token sequences matched
    with numpy over the whole corpus at once: the tokens whose type can open
    a sequence are found through a type → sequences index, and each
    candidate is checked a token at a time, vectorised over candidates. This
    gives exactly the matches of spaCy's PhraseMatcher on LEMMA (keywords,
    near terms) and LOWER (phrases, wildcard expansions) over one Doc per
    segment, without building Docs. Token patterns run spaCy's `Matcher`, on
    Docs of only the segments holding a word every pattern needs (when the
    patterns name one); regexes run per segment text.
    """

    def __init__(self, codebook: Codebook, nlp):
        from spacy.matcher import Matcher

        self.codebook = codebook
        self.nlp = nlp
        self.rules: list[Rule] = []
        # distinct sequences (LEMMA or LOWER, token strings) and wildcard prefixes -> their rules,
        # so that a word several rules use is matched once
        self.sequences: dict[tuple[int, tuple[str, ...]], list[int]] = {}
        self.prefixes: dict[str, list[int]] = {}
        self._words: dict[str, list[tuple[str, bool]]] = {}   # text -> its `words`
        self.tokens = Matcher(nlp.vocab)
        self.keys: dict[int, int] = {}                 # Matcher key hash -> rule index
        self.anchors: set[str] | None = set()          # see `_anchor`; None: no filter
        self.regexes: list[tuple[UserRegex, int]] = []
        self.near: list[tuple[int, int]] = []          # (within, number of terms), by near index
        for i, code in enumerate(codebook.codes):
            self._add_rules(i, code.rules, exclude=False)
            self._add_rules(i, code.rules.get("exclude", {}), exclude=True)
        self._index_sequences()
        rules = self.rules
        self.rule_code = np.array([r.code for r in rules], dtype=np.int64)
        self.rule_exclude = np.array([r.exclude for r in rules], dtype=bool)
        self.rule_term = np.array([r.kind == "term" for r in rules], dtype=bool)
        self.rule_near = np.array([r.near for r in rules], dtype=np.int64)
        self.rule_term_index = np.array([r.term for r in rules], dtype=np.int64)
        self.rule_weight = np.array([WEIGHTS.get(r.kind, 0.0) for r in rules])
        self.by_sentence = np.array([c.unit == "sentence" for c in codebook.codes], dtype=bool)
        self.min_hits = np.array([c.min_hits for c in codebook.codes], dtype=np.int64)

    # -- building
    def _rule(self, rule: Rule) -> int:
        self.rules.append(rule)
        return len(self.rules) - 1

    def _add_rules(self, i: int, rules: dict, exclude: bool) -> None:
        for word in rules.get("keywords", []):
            self._add_word(word, self._rule(Rule(i, "keywords", exclude)))
        for phrase in rules.get("phrases", []):
            rule = self._rule(Rule(i, "phrases", exclude))
            self.sequences.setdefault((LOWER, tuple(self._tokenise(phrase))), []).append(rule)
        for pattern in rules.get("patterns", []):
            r = self._rule(Rule(i, "patterns", exclude))
            self.keys[self.nlp.vocab.strings.add(f"hcrisis:{r}")] = r
            self.tokens.add(f"hcrisis:{r}", [pattern])
            anchor = _anchor(pattern)
            self.anchors = None if anchor is None or self.anchors is None else self.anchors | anchor
        for near in rules.get("near", []):
            n = len(self.near)
            self.near.append((near["within"], len(near["terms"])))
            for j, word in enumerate(near["terms"]):
                self._add_word(word, self._rule(Rule(i, "term", exclude, n, j)))
        for j, rx in enumerate(rules.get("regex", [])):
            name = f"code '{self.codebook.codes[i].id}' {'exclude.' if exclude else ''}regex[{j}]"
            self.regexes.append((UserRegex(rx, name, self.codebook.path), self._rule(Rule(i, "regex", exclude))))

    def _add_word(self, word: str, rule: int) -> None:
        from hcrisis.text.tokens import lemmatize_form

        if word.endswith("*"):
            self.prefixes.setdefault(word[:-1].lower(), []).append(rule)
        else:   # tokenised like the corpus: "well-being" is three tokens
            lemmas = tuple(lemmatize_form(w) for w in self._tokenise(word))
            self.sequences.setdefault((LEMMA, lemmas), []).append(rule)

    def _tokenise(self, text: str) -> list[str]:
        return [w for w, _ in self.words(text)]

    def words(self, text: str) -> list[tuple[str, bool]]:
        """A rule text's lower-cased tokens and whether each is alphabetic, tokenised once
        (also for the codebook's description similarity)."""
        if text not in self._words:
            self._words[text] = [(t.lower_, t.is_alpha) for t in self.nlp.make_doc(text)]
        return self._words[text]

    def _index_sequences(self) -> None:
        """Entries (sequences, then prefixes) as arrays, their rules, and the sequences by first token."""
        self.strings: dict[str, int] = {}                # every token string of a sequence -> code
        rules = [*self.sequences.values(), *self.prefixes.values()]
        n = len(rules)
        width = max([len(w) for _, w in self.sequences] + [1])
        self.entry_len = np.ones(n, dtype=np.int64)
        self.entry_attr = np.full(n, LOWER, dtype=np.int64)
        self.entry_codes = np.full((n, width), -1, dtype=np.int64)
        self.entry_rules = np.concatenate([[0], np.cumsum([len(r) for r in rules])]).astype(np.int64)
        self.entry_rule = np.array([r for rs in rules for r in rs], dtype=np.int64)
        self.first: dict[tuple[int, int], list[int]] = {}   # (attr, code of the first token) -> entries
        for e, (attr, words) in enumerate(self.sequences):
            codes = [self.strings.setdefault(w, len(self.strings)) for w in words]
            self.entry_len[e], self.entry_attr[e] = len(codes), attr
            self.entry_codes[e, :len(codes)] = codes
            self.first.setdefault((attr, codes[0]), []).append(e)

    # -- matching
    def _openers(self, lower: list[str], lemma: list[str]) -> tuple[np.ndarray, ...]:
        """Per type: its lemma and lower codes, and (CSR pointers, entries) of the entries it opens."""
        lem = np.array([self.strings.get(w, -1) for w in lemma], dtype=np.int64)
        low = np.array([self.strings.get(w, -1) for w in lower], dtype=np.int64)
        types, entries = [], []
        for attr, codes in ((LEMMA, lem), (LOWER, low)):
            for t in np.flatnonzero(codes >= 0).tolist():
                opened = self.first.get((attr, int(codes[t])), ())
                types += [t] * len(opened)
                entries += opened
        if self.prefixes:   # wildcards: every type whose lower-cased form starts with the prefix
            order = sorted(range(len(lower)), key=lower.__getitem__)
            forms = [lower[t] for t in order]
            for k, prefix in enumerate(self.prefixes):
                lo = bisect.bisect_left(forms, prefix)
                hi = bisect.bisect_left(forms, prefix + "\U0010ffff")
                types += order[lo:hi]
                entries += [len(self.sequences) + k] * (hi - lo)
        types_a = np.array(types, dtype=np.int64)
        by_type = np.argsort(types_a, kind="stable")
        ptr = np.concatenate([[0], np.cumsum(np.bincount(types_a, minlength=len(lower)))])
        return lem, low, ptr, np.array(entries, dtype=np.int64)[by_type]

    def matches(self, tokens: "Tokens", texts: Sequence[str], rows: Sequence[int] | None = None,
                docs: Callable[[list[int]], Iterable] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every rule match in the segment rows `rows` (default all) as arrays (rule, start, end).

        Start and end are token positions in `tokens`; a match never crosses a
        segment. `texts` are the segments' texts (for regexes); `docs(rows)`
        gives the Docs of some rows for token patterns (default: rebuilt by
        `Tokens.docs`).
        """
        return self._matches(tokens, tokens.segment, texts, rows, docs)

    def _matches(self, tokens, seg, texts, rows, docs):
        n_rows = len(tokens.segment_ids)
        rows = np.arange(n_rows) if rows is None else np.asarray(rows, dtype=np.int64)
        active = np.zeros(n_rows, dtype=bool)
        active[rows] = True
        lower, lemma = tokens.types["lower"].tolist(), tokens.types["lemma"].tolist()
        found = [self._sequence_matches(tokens, seg, active, lower, lemma)]
        if len(self.tokens):
            found.append(self._pattern_matches(tokens, seg, rows, lower, lemma, docs))
        if self.regexes:
            found.append(self._regex_matches(tokens, seg, rows, texts))
        rule, start, end = (np.concatenate(parts) for parts in zip(*found))
        return rule, start, end

    def _sequence_matches(self, tokens, seg, active, lower, lemma):
        lem, low, ptr, entries = self._openers(lower, lemma)
        tid = tokens.type_id
        count = np.diff(ptr)[tid] * active[seg]
        tok = np.repeat(np.arange(tid.size), count)
        offset = np.arange(tok.size) - np.repeat(np.cumsum(count) - count, count)
        entry = entries[ptr[tid[tok]] + offset]
        length = self.entry_len[entry]
        ok = tok + length <= tokens.bounds[1:][seg[tok]]       # within the segment
        for j in range(1, self.entry_codes.shape[1]):
            need = np.flatnonzero(ok & (length > j))
            if not need.size:
                break
            t = tid[tok[need] + j]
            got = np.where(self.entry_attr[entry[need]] == LEMMA, lem[t], low[t])
            ok[need] = got == self.entry_codes[entry[need], j]
        entry, tok, end = entry[ok], tok[ok], tok[ok] + length[ok]
        n_rules = np.diff(self.entry_rules)[entry]      # each entry's match is a match of each of its rules
        at = np.repeat(self.entry_rules[entry] - np.cumsum(n_rules) + n_rules, n_rules) + np.arange(n_rules.sum())
        return self.entry_rule[at], np.repeat(tok, n_rules), np.repeat(end, n_rules)

    def _pattern_matches(self, tokens, seg, rows, lower, lemma, docs):
        if self.anchors is not None:   # only segments holding a word some pattern needs
            needed = np.array([a in self.anchors or b.lower() in self.anchors for a, b in zip(lower, lemma)],
                              dtype=bool)
            holds = np.bincount(seg[needed[tokens.type_id]], minlength=len(tokens.segment_ids)) > 0
            rows = rows[holds[rows]]
        rows = rows.tolist()
        docs = docs or (lambda chosen: tokens.subset(chosen).docs(self.nlp))
        out = [(self.keys[k], tokens.bounds[r] + s, tokens.bounds[r] + e)
               for r, doc in zip(rows, docs(rows)) for k, s, e in self.tokens(doc)]
        return tuple(np.array(col, dtype=np.int64) for col in (zip(*out) if out else ([], [], [])))

    def _regex_matches(self, tokens, seg, rows, texts):
        """Regex matches widened to whole tokens, as spaCy's `Doc.char_span(alignment_mode="expand")`."""
        found = [(r, row, m.start(), m.end()) for row in rows.tolist() for rx, r in self.regexes
                 for m in rx.finditer(texts[row], f"segment {tokens.segment_ids[row]}") if m.end() > m.start()]
        if not found:
            return (np.zeros(0, dtype=np.int64),) * 3
        rule, row, a, b = (np.array(col, dtype=np.int64) for col in zip(*found))
        # tokens and their trailing spaces tile a segment's text: a character
        # belongs to the last token starting at or before it
        width = max(len(texts[r]) for r in rows.tolist()) + 1
        key = seg * width + tokens.start
        first = np.searchsorted(key, row * width + a, side="right") - 1
        last = np.searchsorted(key, row * width + b - 1, side="right") - 1
        first += a == _token_ends(tokens)[first]          # a match starting in a trailing space starts at the next token
        keep = first <= last
        return rule[keep], first[keep], last[keep] + 1

    def code(self, tokens: "Tokens", texts: Sequence[str], rows: Sequence[int] | None = None,
             docs: Callable[[list[int]], Iterable] | None = None):
        """The codes applied to each unit of the segment rows `rows` (default all), as a DataFrame.

        One row per coded unit and code, in (segment row, unit, code) order:
        `row`, `unit` (sentence number in the segment, or -1 for the segment),
        `code` (index in codebook order), `start`/`end` (characters of the unit
        in the segment's text, edge whitespace excluded for sentences),
        `hits`, `terms` (distinct lower-cased matched texts, sorted,
        `;`-joined), `score`, `spans` (character spans of the hits, sorted)
        `words` (tokens with a letter or digit in the unit) and the unit's
        tokens `token_start:token_end`.
        """
        seg, sent = tokens.segment, tokens.sentence()
        rule, s, e = self._matches(tokens, seg, texts, rows, docs)
        row, code = seg[s], self.rule_code[rule]
        unit = np.where(self.by_sentence[code], sent[s] - sent[tokens.bounds[row]], -1)
        n_units = int(unit.max()) + 2 if unit.size else 1
        g, first = _groups((row * n_units + unit + 1) * len(self.codebook.codes) + code)
        vetoed = np.zeros(first.size, dtype=bool)
        vetoed[g[self.rule_exclude[rule]]] = True
        use = ~self.rule_exclude[rule] & ~vetoed[g]
        term, plain = use & self.rule_term[rule], use & ~self.rule_term[rule]
        ends = _token_ends(tokens)
        lower = tokens.types["lower"].to_numpy(dtype=object)
        hg, hs, he = g[plain], s[plain], e[plain]
        terms = lower[tokens.type_id[hs]]              # one token: its lower-cased form
        longer = np.flatnonzero(he - hs > 1)           # else the text it spans
        terms[longer] = [texts[r][a:b].lower() for r, a, b in zip(
            seg[hs[longer]].tolist(), tokens.start[hs[longer]].tolist(), ends[he[longer] - 1].tolist())]
        near = self._near_hits(g[term], s[term], rule[term], lambda t: lower[tokens.type_id[t]])
        hg, hs, he, terms = (np.concatenate(p) for p in zip((hg, hs, he, terms), near))
        weights = np.concatenate([self.rule_weight[rule[plain]], np.full(near[0].size, WEIGHTS["near"])])
        return self._units(tokens, texts, sent, ends, (row[first], unit[first], code[first]),
                           (hg, hs, he, terms, weights))

    def _near_hits(self, g, s, rule, lower_of):
        """NEAR windows (`near_windows`) of each group's term matches: group, start, end, term."""
        n_near = max(len(self.near), 1)
        within = np.array([w for w, _ in self.near] or [1], dtype=np.int64)
        n_terms = np.array([k for _, k in self.near] or [1], dtype=np.int64)
        width, n_pos = int(n_terms.max()), int(s.max()) + 1 if s.size else 1
        pair = g * n_near + self.rule_near[rule]                                # (group, near rule)
        events = _distinct((pair * n_pos + s) * width + self.rule_term_index[rule])   # sorted: pair, token, term
        pair, pos, term = events // width // n_pos, events // width % n_pos, events % width
        # a window needs every term of the rule: keep the pairs holding all (most hold one)
        index = np.cumsum(np.diff(pair, prepend=-1) != 0) - 1
        held = np.zeros((int(index[-1]) + 1 if index.size else 0, width), dtype=bool)
        held[index, term] = True
        keep = held.sum(axis=1)[index] == n_terms[pair % n_near]
        pair, pos, term = pair[keep], pos[keep], term[keep]
        near = pair % n_near
        a, b = near_windows(pair, pos, term, n_terms[near], within[near])
        terms = [f"{x} NEAR/{w} {y}" for x, w, y in zip(lower_of(pos[a]), within[near[a]].tolist(), lower_of(pos[b]))]
        return pair[a] // n_near, pos[a], pos[b] + 1, np.array(terms, dtype=object)

    def _units(self, tokens, texts, sent, ends, groups, hits_of):
        """The coded units' table (see `code`) from each group's (row, unit, code) and hits."""
        import pandas as pd

        g_row, g_unit, g_code = groups
        hg, hs, he, terms, weights = hits_of
        hits = np.bincount(hg, minlength=g_row.size)
        kept = (hits > 0) & (hits >= self.min_hits[g_code])
        renumber = np.cumsum(kept) - 1
        h = kept[hg]
        hg, hs, he, terms, weights = renumber[hg[h]], hs[h], he[h], terms[h], weights[h]
        g_row, g_unit, g_code, hits = g_row[kept], g_unit[kept], g_code[kept], hits[kept]
        n = g_row.size
        # distinct terms of each unit with their strongest weight; the score of those weights
        term_code, names = pd.factorize(terms, sort=True)
        n_names = max(len(names), 1)
        values, which = np.unique(weights, return_inverse=True)
        n_values = max(values.size, 1)
        key = _distinct((hg * n_names + term_code) * n_values + which.ravel())    # sorted: unit, term, weight
        key = key[np.flatnonzero(np.diff(key // n_values, append=-1))]             # a term's strongest weight
        t_group, t_code, which = key // n_values // n_names, key // n_values % n_names, key % n_values
        mix = np.zeros((n, n_values), dtype=np.int64)                               # per unit: terms of each weight
        np.add.at(mix, (t_group, which), 1)
        # each distinct mix scored once; a mix as one number (its counts as digits) to find them
        _, one, mix_of = np.unique(mix @ (mix.max(initial=0) + 1) ** np.arange(n_values), return_index=True,
                                   return_inverse=True)
        scores = np.array([score(np.repeat(values, m).tolist()) for m in mix[one]])[mix_of.ravel()]
        bounds = np.searchsorted(t_group, np.arange(n + 1))
        joined = names[t_code[bounds[:-1]]].astype(object)        # most units have one term
        unit_terms = names[t_code].tolist()
        for i in np.flatnonzero(np.diff(bounds) > 1).tolist():
            joined[i] = ";".join(unit_terms[bounds[i]:bounds[i + 1]])
        # distinct hit spans of each unit, as characters of the segment's text
        n_tok, n_len = len(tokens) + 1, int((he - hs).max()) + 1 if he.size else 1
        span = _distinct((hg * n_tok + hs) * n_len + he - hs)                     # sorted: unit, start, end
        span_g, span_s = span // n_len // n_tok, span // n_len % n_tok
        span_e = span_s + span % n_len
        pairs = list(zip(tokens.start[span_s].tolist(), ends[span_e - 1].tolist()))
        bounds = np.searchsorted(span_g, np.arange(n + 1)).tolist()
        spans = [pairs[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
        # unit extents and words
        seg_a = tokens.bounds[g_row]
        sentence = sent[seg_a] + g_unit
        unit_a = np.where(g_unit < 0, seg_a, np.searchsorted(sent, sentence, side="left"))
        unit_b = np.where(g_unit < 0, tokens.bounds[g_row + 1], np.searchsorted(sent, sentence, side="right"))
        start = np.zeros(n, dtype=np.int64)
        used = _distinct(g_row)   # each segment's length once, not once per coding
        end = np.array([len(texts[r]) for r in used.tolist()], dtype=np.int64)[np.searchsorted(used, g_row)]
        for i in np.flatnonzero(g_unit >= 0).tolist():
            a, b = tokens.start[unit_a[i]], ends[unit_b[i] - 1]
            piece = texts[g_row[i]][a:b]
            start[i], end[i] = a + len(piece) - len(piece.lstrip()), b - len(piece) + len(piece.rstrip())
        return pd.DataFrame({"row": g_row, "unit": g_unit, "code": g_code, "start": start, "end": end,
                             "hits": hits, "terms": joined, "score": scores, "spans": spans,
                             "words": tokens.words_in(unit_a, unit_b), "token_start": unit_a, "token_end": unit_b})

    # -- spaCy component
    def __call__(self, doc):
        """Pipeline use: store the hits and units of applied codes as span groups."""
        tokens = doc_tokens([doc])
        coded = self.code(tokens, [doc.text], docs=lambda rows: [doc])
        ids = [c.id for c in self.codebook.codes]
        doc.spans[SPAN_KEY] = [doc.char_span(a, b, label=ids[c]) for c, spans in zip(coded["code"], coded["spans"])
                               for a, b in spans]
        doc.spans[UNIT_KEY] = [doc.char_span(a, b, label=ids[c], alignment_mode="expand")
                               for c, a, b in zip(coded["code"], coded["start"], coded["end"])]
        return doc


def _token_ends(tokens: "Tokens") -> np.ndarray:
    """Character offset just after each token in its segment's text."""
    lengths = np.array([len(form) for form in tokens.types["form"]], dtype=np.int64)
    return tokens.start + lengths[tokens.type_id]


def _groups(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group number of each key (numbered in key order) and the first index of each group."""
    order = np.argsort(key, kind="stable")             # equal keys keep their order: a group's first is first
    new = np.diff(key[order], prepend=key[order[:1]] - 1) != 0
    group = np.empty(key.size, dtype=np.int64)
    group[order] = np.cumsum(new) - 1
    return group, order[new]


def _distinct(values: np.ndarray) -> np.ndarray:
    """`np.unique` of an int array, by sorting: numpy 2's `np.unique` hashes first, which
    takes 20 times as long for some 10^5 distinct keys (76 against 3.5 ms at 200,000)."""
    values = np.sort(values)
    return values[np.diff(values, prepend=values[:1] - 1) != 0] if values.size else values


def _anchor(pattern: list[dict]) -> set[str] | None:
    """Lower-cased words one of which a Doc must hold for `pattern` to match, or None if unknown.

    Taken from the first token the pattern requires (no `?`, `*` or `!`
    operator) that names its text, lower-case form or lemma, as a string or
    an `IN` list; a token's lower-cased form or lemma equal to one of them,
    ignoring case, is a superset of what spaCy's Matcher would accept.
    """
    for spec in pattern:
        if spec.get("OP", "1") not in ("1", "+"):
            continue
        for attr in ("ORTH", "TEXT", "LOWER", "LEMMA"):
            value = spec.get(attr)
            if isinstance(value, dict) and set(value) == {"IN"}:
                value = value["IN"]
            if isinstance(value, str):
                return {value.lower()}
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return {v.lower() for v in value}
    return None


def doc_tokens(docs: list) -> "Tokens":
    """`Tokens` of spaCy Docs: types are (form, lemma) pairs, a word has a letter or digit."""
    from spacy.attrs import IDX, LEMMA as LEMMA_ATTR, ORTH, SENT_START, SPACY

    import pandas as pd

    from hcrisis.text.tokens import Tokens

    arrays = [doc.to_array([ORTH, LEMMA_ATTR, IDX, SENT_START, SPACY]).astype(np.uint64) for doc in docs]
    arr = np.concatenate(arrays) if arrays else np.zeros((0, 5), dtype=np.uint64)
    pairs, type_id = np.unique(arr[:, :2], axis=0, return_inverse=True)
    strings = docs[0].vocab.strings if docs else None
    forms = [strings[int(o)] for o in pairs[:, 0]]
    types = pd.DataFrame({"form": forms, "lower": [f.lower() for f in forms],
                          "lemma": [strings[int(m)] for m in pairs[:, 1]],
                          "is_punct": [not any(ch.isalnum() for ch in f) for f in forms]})
    bounds = np.concatenate([[0], np.cumsum([len(d) for d in docs])]).astype(np.int64)   # int64 when no docs too
    return Tokens([str(i) for i in range(len(docs))], bounds,
                  type_id.ravel().astype(np.int64), arr[:, 2].astype(np.int64), arr[:, 3] == 1,
                  arr[:, 4] == 1, types)


def near_windows(pair: np.ndarray, pos: np.ndarray, term: np.ndarray, k: np.ndarray,
                 within: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimal, non-overlapping token windows holding all k terms, at most `within` apart.

    Events are (pair, token, term index), sorted in that order, with the
    pair's number of terms `k` and its `within` given per event. Each pair
    is scanned left to right, a window starting after the previous one's
    last token. Returns the first and the last event of each window, in
    event order. The pairs advance together, one window (found or too wide)
    per round, so there are as many rounds as the busiest pair needs.
    """
    n = pair.size
    idx = np.arange(n)
    new_pair = np.diff(pair, prepend=-1) != 0
    pair_end, token_end = _run_end(new_pair), _run_end(new_pair | (np.diff(pos, prepend=-1) != 0))
    terms = np.arange(int(k.max()) if n else 0)
    own = terms < k[:, None]                               # events × terms: the pair's own terms
    # per term, its next (previous) event from each event; past the pair's end: none
    nxt = np.where(own, np.minimum.accumulate(np.where(term[::-1, None] == terms, idx[::-1, None], n))[::-1], -1)
    prv = np.where(own, np.maximum.accumulate(np.where(term[:, None] == terms, idx[:, None], -1)), n)
    first, last = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    at = np.flatnonzero(new_pair)                          # where each pair's scan resumes
    end = pair_end[at]
    while at.size:
        right = nxt[at].max(axis=1)                        # the first event by which every term occurred
        live = right < end
        right, end = right[live], end[live]
        left = prv[right].min(axis=1)                      # the latest event the window can start at
        ok = pos[right] - pos[left] <= within[right]
        first.append(left[ok])
        last.append(right[ok])
        at = np.where(ok, token_end[right], left + 1)      # a found window's tokens are used up
        live = at < end
        at, end = at[live], end[live]
    first, last = np.concatenate(first), np.concatenate(last)
    order = np.argsort(last)
    return first[order], last[order]


def _run_end(starts: np.ndarray) -> np.ndarray:
    """Per element, the index just past its run; `starts` marks the elements that begin a run."""
    return np.append(np.flatnonzero(starts), starts.size)[np.cumsum(starts)]


def compile_codebook(codebook: Codebook, nlp=None) -> CompiledCodebook:
    """Compile `codebook` for `nlp` (default: the toolkit's pipeline)."""
    from hcrisis.text.tokens import shared_pipeline

    return CompiledCodebook(codebook, nlp or shared_pipeline())


def register_component() -> None:
    """Register the `hcrisis_coder` factory: nlp.add_pipe("hcrisis_coder", config={"codebook": PATH})."""
    from spacy.language import Language

    if "hcrisis_coder" in Language.factories:
        return

    @Language.factory("hcrisis_coder", default_config={"codebook": ""})
    def make_coder(nlp, name: str, codebook: str):  # noqa: ARG001 - spaCy factory signature
        return CompiledCodebook(load_codebook(codebook), nlp)
