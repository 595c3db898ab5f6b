"""A language per corpus and per document: its own tokenizer, stop words and lemmas; no silent mixing."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from hcrisis.cli import app
from hcrisis.errors import InputError, SchemaError
from hcrisis.ingest.corpus import load_corpus
from hcrisis.ingest.segments import ALL
from hcrisis.text.freq import FreqCounter, FreqSettings
from hcrisis.text.tokens import tokenize_segments

from conftest import write

MANIFEST = """\
name: bilingual
documents:
  - {id: en1, file: en1.txt, kind: interview}
  - {id: fr1, file: fr1.txt, kind: interview, language: fr}
"""


@pytest.fixture
def bilingual(tmp_path):
    write(tmp_path / "manifest.yaml", MANIFEST)
    write(tmp_path / "en1.txt", "Q: What about the homes?\nR: The homes are gonna need repairs.\n")
    write(tmp_path / "fr1.txt", "Q: Et les logements ?\nR: Les logements sont anciens et les loyers montent.\n")
    return tmp_path


def test_each_language_its_own_tokens(bilingual):
    c = load_corpus(bilingual)
    assert c.segments["language"].tolist() == ["en", "en", "fr", "fr"]
    tokens = tokenize_segments(c.segments)
    types = tokens.types.drop_duplicates(["language", "lower"]).set_index(["language", "lower"])
    assert types.loc[("fr", "les"), "is_stop"] and types.loc[("en", "the"), "is_stop"]
    assert types.loc[("fr", "logements"), "lemma"] == "logement"   # spaCy's French lookup lemmas
    assert types.loc[("en", "gonna"), "lemma"] == "go"
    # tokens stay in segment order
    assert [tokens.types["form"].iloc[t] for t in tokens.type_id[tokens.bounds[3]:tokens.bounds[4]]][:3] == [
        "Les", "logements", "sont"]


def test_a_scope_spanning_two_languages_is_an_error(bilingual):
    c = load_corpus(bilingual)
    tokens = tokenize_segments(c.segments)
    counter = FreqCounter(tokens, c.segments, FreqSettings.from_mapping())
    with pytest.raises(InputError, match="segment 'all' spans languages en, fr"):
        counter.table(ALL)
    french = (c.segments["language"] == "fr").to_numpy() & ~c.segments["is_interviewer"].to_numpy()
    assert counter.table(french)["word"].tolist() == ["anciens", "logements", "loyers", "montent"]
    together = FreqCounter(tokens, c.segments, FreqSettings.from_mapping(languages="together"))
    assert together.table(ALL)["word"].tolist() == ["anciens", "gonna", "homes", "logements", "loyers",
                                                    "montent", "need", "repairs"]


def test_cli_freq_refuses_mixed_languages(bilingual, tmp_path):
    result = CliRunner().invoke(app, ["freq", str(bilingual), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "Error: segment 'all' spans languages en, fr (select one language (where: {language: en}) or set "
        "settings.freq.languages: together in the study)")


def test_bad_language_code(tmp_path):
    write(tmp_path / "manifest.yaml", "name: x\nlanguage: English\ndocuments:\n  - {id: a, file: a.txt, kind: interview}\n")
    write(tmp_path / "a.txt", "Q: hi\n")
    with pytest.raises(SchemaError) as err:
        load_corpus(tmp_path)
    assert err.value.problems == [("language", 2, "expected an ISO 639 language code such as en, fr or de")]
