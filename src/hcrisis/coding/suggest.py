"""`hcrisis suggest`: machine suggestions for a human coder, clearly labelled.

Two kinds, both for review, neither a coding:

- code suggestions: a TF-IDF + logistic regression classifier (one-vs-rest,
  one binary model per code) trained on the coded units proposes codes with
  probabilities for the units no code matched;
  a unit coded only by description similarity (`hits` 0 in `hcrisis code`'s
  table, `hcrisis.coding.similarity`) counts as uncoded: no rule reached it;
- candidate themes: NMF topics over the TF-IDF matrix of the uncoded units
  (Lee and Seung 1999), each with its top terms and the ids of the units
  that load most on it; never their text.

Texts are the units' lemmas (alphabetic, non-stop words) from the corpus's
one tokenisation, so suggestions see the same words as the codebook.
scikit-learn is imported inside functions: it costs about a second.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hcrisis.errors import InputError
from hcrisis.tables import write_table

if TYPE_CHECKING:
    from hcrisis.ingest.corpus import Corpus

SEED = 0
LABEL = "suggestion (unreviewed)"
THEME_LABEL = "candidate theme (unreviewed)"


def unit_documents(tokens) -> list[str]:
    """One space-joined lemma string per segment: alphabetic non-stop words."""
    keep_type = (tokens.types["is_alpha"] & ~tokens.types["is_stop"]).to_numpy()
    lemmas = tokens.types["lemma"].str.lower().to_numpy()
    docs = []
    for i in range(len(tokens.segment_ids)):
        ids = tokens.type_id[tokens.bounds[i]:tokens.bounds[i + 1]]
        docs.append(" ".join(lemmas[t] for t in ids if keep_type[t]))
    return docs


def tfidf():
    from sklearn.feature_extraction.text import TfidfVectorizer
    return TfidfVectorizer(analyzer=str.split, sublinear_tf=True)


def text_classifier(seed: int = SEED, *, multilabel: bool = False):
    """TF-IDF + logistic regression (scikit-learn), balanced class weights.

    With `multilabel`, one binary model per code (one-vs-rest) on a 0/1 matrix.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline

    model = LogisticRegression(max_iter=2000, class_weight="balanced", random_state=seed)
    return make_pipeline(tfidf(), OneVsRestClassifier(model) if multilabel else model)


def suggest_codes(docs: list[str], unit_ids: list[str], codings: pd.DataFrame, *, top_k: int = 3,
                  seed: int = SEED) -> pd.DataFrame:
    """Top-k codes with probabilities for every unit without a coding."""
    from sklearn.preprocessing import MultiLabelBinarizer

    columns = ["segment_id", "rank", "code_id", "score", "status"]
    coded = codings.groupby(codings["segment_id"].astype(str))["code_id"].agg(lambda s: sorted(set(map(str, s))))
    train = [i for i, u in enumerate(unit_ids) if u in coded.index]
    todo = [i for i, u in enumerate(unit_ids) if u not in coded.index]
    if len(train) < 2:
        raise InputError(f"only {len(train)} coded unit(s) to learn from",
                         fix="code more of the corpus first (hcrisis code), or check the codings' segment ids")
    if not todo:
        return pd.DataFrame(columns=columns)
    mlb = MultiLabelBinarizer()
    y = mlb.fit_transform([coded[unit_ids[i]] for i in train])
    model = text_classifier(seed, multilabel=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a code on every or no training unit: constant predictor
        model.fit([docs[i] for i in train], y)
        proba = model.predict_proba([docs[i] for i in todo])
    rows = []
    for row, i in zip(np.atleast_2d(proba), todo):
        order = sorted(range(len(mlb.classes_)), key=lambda j: (-row[j], mlb.classes_[j]))[:top_k]
        rows += [(unit_ids[i], r + 1, mlb.classes_[j], round(float(row[j]), 4), LABEL)
                 for r, j in enumerate(order)]
    return pd.DataFrame(rows, columns=columns)


def candidate_themes(docs: list[str], unit_ids: list[str], n_topics: int = 5, *, n_terms: int = 8,
                     n_examples: int = 3, seed: int = SEED) -> pd.DataFrame:
    """NMF topics over TF-IDF of the given (uncoded) units: terms and example unit ids."""
    from sklearn.decomposition import NMF

    columns = ["topic", "top_terms", "example_units", "weight_share", "status"]
    nonempty = [i for i, d in enumerate(docs) if d.strip()]
    if not nonempty:
        return pd.DataFrame(columns=columns)
    vec = tfidf()
    x = vec.fit_transform([docs[i] for i in nonempty])
    k = min(n_topics, x.shape[0], x.shape[1])
    if k < 1:
        return pd.DataFrame(columns=columns)
    nmf = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence notes on tiny inputs
        w = nmf.fit_transform(x)
    terms = vec.get_feature_names_out()
    share = w.sum(axis=0) / w.sum() if w.sum() else np.zeros(k)
    rows = []
    for t in range(k):
        top = sorted(range(len(terms)), key=lambda j: (-nmf.components_[t, j], terms[j]))[:n_terms]
        ex = sorted(range(len(nonempty)), key=lambda i: (-w[i, t], unit_ids[nonempty[i]]))[:n_examples]
        rows.append((f"candidate_{t + 1}", "; ".join(terms[j] for j in top if nmf.components_[t, j] > 0),
                     "; ".join(unit_ids[nonempty[i]] for i in ex if w[i, t] > 0),
                     round(float(share[t]), 4), THEME_LABEL))
    return pd.DataFrame(rows, columns=columns)


def rule_codings(codings: pd.DataFrame) -> pd.DataFrame:
    """The codings some rule made: without rows of 0 hits (description similarity alone);
    a table without a `hits` column (e.g. a human coder's) is kept whole."""
    if "hits" not in codings.columns:
        return codings
    return codings[pd.to_numeric(codings["hits"], errors="coerce").fillna(1).to_numpy() > 0]


def run_suggest(corpus: str | Path | Corpus, codings_path: str | Path, *, topics: int = 5, top_k: int = 3,
                out: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, list[Path]]:
    """The `hcrisis suggest` command: suggestions and candidate themes, written to `out`."""
    from hcrisis.coding.codings import load_codings
    from hcrisis.ingest.corpus import as_corpus
    from hcrisis.text.tokens import tokenize_segments

    c = as_corpus(corpus)
    segments = c.segments[~c.segments["is_interviewer"].astype(bool)].reset_index(drop=True)
    codings = rule_codings(load_codings(codings_path))
    docs = unit_documents(tokenize_segments(segments))
    ids = segments["segment_id"].astype(str).tolist()
    suggestions = suggest_codes(docs, ids, codings, top_k=top_k)
    coded = set(codings["segment_id"].astype(str))
    uncoded = [i for i, u in enumerate(ids) if u not in coded]
    themes = candidate_themes([docs[i] for i in uncoded], [ids[i] for i in uncoded], topics)
    out = Path(out)
    written = write_table(suggestions, out / "suggestions",
                          title="Suggested codes for uncoded units (classifier output, to be reviewed)")
    written += write_table(themes, out / "candidate_themes",
                           title="Candidate new themes from uncoded units (NMF topics, to be reviewed)")
    return suggestions, themes, written
