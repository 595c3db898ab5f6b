"""The public Python API: `import hcrisis`, loaded on first use; the README's "From Python" block runs."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

import hcrisis
from hcrisis.cli import app

from conftest import ROOT
from ward_corpus import make_ward

PUBLIC = {"load_corpus", "Corpus", "tokenize", "frequency_table", "keyness", "extract_terms", "kwic",
          "load_codebook", "apply_codebook", "agreement", "load_study", "reproduce", "HcrisisError"}


def _modules_after(code: str) -> set[str]:
    """hcrisis, pandas and spaCy modules loaded by `code` in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True).stdout.split()
    return {m for m in out if m.split(".")[0] in ("hcrisis", "pandas", "spacy")}


def test_the_public_names():
    assert PUBLIC <= set(hcrisis.__all__) and PUBLIC <= set(dir(hcrisis))
    with pytest.raises(AttributeError, match="no attribute 'load_corpse'"):
        hcrisis.load_corpse   # noqa: B018


def test_import_hcrisis_loads_nothing_heavy():
    assert _modules_after("import hcrisis") == {"hcrisis"}
    loaded = _modules_after("import hcrisis\nhcrisis.load_corpus, hcrisis.Corpus, hcrisis.HcrisisError")
    assert not {m for m in loaded if m.startswith(("hcrisis.study", "hcrisis.thesis", "spacy"))}
    assert not {m for m in _modules_after("import hcrisis.coding") if m.startswith(("hcrisis.study",
                                                                                     "hcrisis.thesis"))}


def readme_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.search(r"^## From Python\n.*?^```python\n(.*?)^```", text, re.S | re.M).group(1)


def test_readme_from_python_runs(tmp_path, monkeypatch):
    make_ward(tmp_path)
    monkeypatch.chdir(tmp_path)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(readme_block(), "README.md", "exec"), {})
    assert printed.getvalue().splitlines()[-1] == (
        "interviews/manifest.yaml: segment 'wave-early': wave 'Early' matches nothing in the corpus "
        "(values of wave: early, late) (use one of the values listed)")


def test_api_and_cli_agree(tmp_path, monkeypatch):
    """`hcrisis freq` / `compare` write what the API returns (one call of the library each)."""
    corpus = make_ward(tmp_path)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(app, ["freq", str(corpus), "--where", "wave=early"]).exit_code == 0
    assert runner.invoke(app, ["compare", str(corpus), "--where", "role=nurse"]).exit_code == 0
    c = hcrisis.load_corpus(corpus)
    tokens = hcrisis.tokenize(c)
    table = hcrisis.frequency_table(c, {"wave": "early"}, tokens=tokens)
    written = pd.read_csv("outputs/freq/freq_wave-early.csv")
    assert written[["word", "count"]].values.tolist() == table[["word", "count"]].values.tolist()
    key = hcrisis.keyness(c, {"role": "nurse"}, tokens=tokens)
    written = pd.read_csv("outputs/compare/keyness_role-nurse_vs_rest.csv")
    assert written["item"].tolist() == key["item"].tolist()
    assert written["g2"].to_numpy() == pytest.approx(key["g2"].to_numpy(), rel=1e-5)   # CSV: 6 digits
    hits = hcrisis.kwic(c, "rota", tokens=tokens, window=1)
    assert hits[["left", "match", "right"]].values.tolist() == [
        ["", "Rotas", "and"], ["the", "rotas", ", and"], ["New", "rotas", ". Night"]]   # punctuation is free
