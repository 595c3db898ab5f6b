"""hcrisis: reproducible analysis of qualitative research corpora.

The pipeline reads as corpus -> segments -> tokens -> frequency tables ->
statistics -> figures; every stage is a module usable from Python, and the
CLI (`hcrisis.cli`) is a thin shell over it. The public API below is loaded
on first use (PEP 562), so `import hcrisis` and `hcrisis --help` stay fast:

    import hcrisis
    corpus = hcrisis.load_corpus("interviews/")
    table = hcrisis.frequency_table(corpus, {"wave": "early"})
"""

from importlib import import_module

__version__ = "0.1.0"

# public name -> module defining it
_API = {
    "load_corpus": "hcrisis.ingest.corpus",
    "Corpus": "hcrisis.ingest.corpus",
    "Segment": "hcrisis.ingest.segments",
    "tokenize": "hcrisis.api",
    "frequency_table": "hcrisis.api",
    "FreqSettings": "hcrisis.text.freq",
    "keyness": "hcrisis.api",
    "extract_terms": "hcrisis.api",
    "TermSettings": "hcrisis.text.terms",
    "kwic": "hcrisis.api",
    "load_codebook": "hcrisis.coding.codebook",
    "apply_codebook": "hcrisis.api",
    "agreement": "hcrisis.api",
    "load_study": "hcrisis.study.model",
    "reproduce": "hcrisis.study.runner",
    "HcrisisError": "hcrisis.errors",
}
__all__ = sorted(_API)


def __getattr__(name: str):
    if name not in _API:
        raise AttributeError(f"module 'hcrisis' has no attribute '{name}'")
    value = getattr(import_module(_API[name]), name)
    globals()[name] = value     # later look-ups skip this function
    return value


def __dir__():
    return sorted([*globals(), *_API])
