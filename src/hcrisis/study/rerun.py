"""The rerun store: a rerun of `hcrisis reproduce` with unchanged inputs replays unchanged steps.

A small content-addressed store on disk under `.hcrisis-cache/` beside the
study's outputs folder (the project folder; gitignored). Three kinds of entry:

- `step`: what a declared step added to the run — its checks, report
  sections, the files it wrote (path and sha256), the input files it read
  (path and the sha256 recorded when it read them) and its results for the
  steps that read it. The key (`step_key`) covers everything the step's
  outputs depend on: its id, type and settings, the study's segments and
  stage settings, the corpus files' hashes, the keys of the steps it reads,
  package versions and the hash of the step type's code (with every hcrisis
  module it imports). Files a step reads while it runs (the codebook, a
  stop-word list named in the settings) are checked when the record is
  replayed: a record is used only if every file it read and wrote still has
  the hash it had.
- `corpus`: the loaded corpus (segments table), keyed by the hashes of
  every file in the corpus folder and the readers' code.
- `tokens`: the corpus's token arrays (`hcrisis.text.tokens.Tokens`, compact
  numpy arrays, not spaCy Docs), keyed by the segments' text and the
  tokeniser's code and versions, as an Arrow file read back memory-mapped
  (`hcrisis.text.tokenfile`). `hcrisis freq` and `kwic` given
  `--study` read them too (`stored_tokens`), so a corpus a study has
  tokenised is not tokenised again.

Other entries are Python pickles. Entries are written atomically; the store
trusts its own folder like the rest of the project. Delete the folder (or
run `hcrisis reproduce --no-cache`) to start cold.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any, Callable

from hcrisis.files import sha256_file, write_atomic

CACHE_DIR = ".hcrisis-cache"
FORMAT = 3             # bump when the record layout changes
KEEP_TOKENS = 4        # corpora and token arrays kept (most recently used first)
TOKENS_FILE = ".arrow"   # token entries: Arrow IPC files (hcrisis.text.tokenfile)
STEP_BYTES = 2 << 30   # step records kept, in bytes (codings and other results can be large)
TOKENISER_PACKAGES = ("spacy", "spacy-lookups-data", "numpy", "pandas")
PACKAGES = ["hcrisis", "spacy", "spacy-lookups-data", "pandas", "numpy", "scikit-learn",
            "scipy", "wordcloud", "matplotlib", "pyyaml", "snowballstemmer", "threadpoolctl"]


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    """Versions of the packages whose code shapes the outputs (manifest.json, step keys)."""
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def digest(*parts: Any) -> str:
    """sha256 of a JSON rendering of `parts` (sorted keys; paths as strings)."""
    text = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _package_root() -> Path:
    return Path(str(resources.files("hcrisis")))


@lru_cache(maxsize=None)
def _module_file(module: str) -> Path | None:
    """The source file of an hcrisis module name, if it is one."""
    parts = module.split(".")
    if parts[0] != "hcrisis":
        return None
    base = _package_root().joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


# `from .x import a, b` / `from hcrisis.x import (a,` / `import hcrisis.x`, also
# inside functions (hcrisis imports heavy modules lazily). A regex, not ast:
# parsing every module costs more than the rest of a cached rerun.
_FROM = re.compile(r"^[ \t]*from[ \t]+(\.+[\w.]*|hcrisis[\w.]*)[ \t]+import[ \t]+\(?([\w \t,]*)", re.M)
_IMPORT = re.compile(r"^[ \t]*import[ \t]+(hcrisis[\w.]*)", re.M)


@lru_cache(maxsize=None)
def _imports(module: str) -> tuple[str, ...]:
    """hcrisis modules that `module` imports anywhere in its source."""
    path = _module_file(module)
    if path is None:
        return ()
    text = path.read_text("utf-8")
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = _IMPORT.findall(text)
    for base, names in _FROM.findall(text):
        if base.startswith("."):
            level = len(base) - len(base.lstrip("."))
            anchor = package.rsplit(".", level - 1)[0] if level > 1 else package
            base = anchor + ("." + base.lstrip(".") if base.lstrip(".") else "")
        found.append(base)
        found += [f"{base}.{n.strip()}" for n in names.split(",") if n.strip()]  # `from . import x`
    return tuple(sorted({m for m in found if _module_file(m) is not None}))


@lru_cache(maxsize=None)
def source_hash(module: str) -> str:
    """sha256 of a module's own source, every hcrisis module it imports
    (transitively) and the packaged data files: a step's code version."""
    seen, todo = set(), [module]
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo += _imports(m)
    root = _package_root()
    files = sorted({_module_file(m) for m in seen} - {None})
    files += sorted(p for p in (root / "data").rglob("*") if p.is_file())
    return digest([(p.relative_to(root).as_posix(), _package_file_hash(p)) for p in files])


@lru_cache(maxsize=None)
def _package_file_hash(path: Path) -> str:
    """sha256 of one of hcrisis's own files, once per process (every step's key hashes the data files)."""
    return sha256_file(path)


def _unpickle(path: Path) -> Any:
    with open(path, "rb") as fh:
        return pickle.load(fh)


class RerunStore:
    """Pickled entries by kind and key under one folder."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self._hashes: dict[Path, str | None] = {}
        self._resolved: dict[str, Path] = {}

    def resolve(self, path: str | Path) -> Path:
        """The absolute path, resolved once per run (every step key lists every input)."""
        key = str(path)
        if key not in self._resolved:
            self._resolved[key] = Path(path).resolve()
        return self._resolved[key]

    def file_hash(self, path: str | Path) -> str | None:
        """sha256 of a file, once per run; None if it does not exist."""
        p = self.resolve(path)
        if p not in self._hashes:
            self._hashes[p] = sha256_file(p) if p.is_file() else None
        return self._hashes[p]

    def hashed(self, paths) -> list[tuple[str, str | None]]:
        """(absolute path, sha256) of each path, as step keys and records list them."""
        return [(str(self.resolve(p)), self.file_hash(p)) for p in paths]

    def forget(self, paths) -> None:
        """Drop remembered hashes of files that were just (re)written."""
        for p in paths:
            self._hashes.pop(self.resolve(p), None)

    def _path(self, kind: str, key: str, suffix: str = ".pkl") -> Path:
        return self.root / kind / f"{key}{suffix}"

    def load(self, kind: str, key: str, read: Callable[[Path], Any] = _unpickle, suffix: str = ".pkl") -> Any | None:
        """The entry read by `read` (default: unpickled); None if absent or unreadable."""
        path = self._path(kind, key, suffix)
        try:
            value = read(path)
            os.utime(path)   # most recently used, for pruning
            return value
        except Exception:  # noqa: BLE001 - a damaged or stale entry is a miss
            return None

    def store(self, kind: str, key: str, value: Any, keep: int | None = None,
              keep_bytes: int | None = None) -> bool:
        """Pickle `value`; False (and nothing written) if it cannot be pickled."""
        try:
            data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - unpicklable results: not cacheable
            return False
        write_atomic(self._path(kind, key), data)
        self.prune(kind, keep, keep_bytes)
        return True

    def store_file(self, kind: str, key: str, write: Callable[[Path], Any], suffix: str,
                   keep: int | None = None) -> None:
        """An entry written by `write(path)` (which writes atomically)."""
        write(self._path(kind, key, suffix))
        self.prune(kind, keep)

    def prune(self, kind: str, keep: int | None = None, keep_bytes: int | None = None) -> None:
        """Delete the least recently used entries of a kind beyond `keep` entries or
        `keep_bytes` bytes (the newest entry is always kept)."""
        entries = sorted((p for p in self._path(kind, "x").parent.glob("*") if p.is_file()),
                         key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
        total = 0
        for i, p in enumerate(entries):
            total += p.stat().st_size
            if i and ((keep is not None and i >= keep) or (keep_bytes is not None and total > keep_bytes)):
                p.unlink(missing_ok=True)


def open_store(outputs: str | Path) -> RerunStore:
    """The project's rerun store: `.hcrisis-cache/` beside the outputs folder."""
    return RerunStore(Path(outputs).parent / CACHE_DIR)


@dataclass
class StepRecord:
    """What one step added to the run, enough to replay it without running it."""

    checks: list
    sections: list
    written: list[tuple[str, str]]            # (absolute path, sha256)
    inputs: list[tuple[str, str | None]]      # files the step read, hashed when read
    results: dict[str, Any] = field(default_factory=dict)

    def valid(self, store: RerunStore) -> bool:
        return all(store.file_hash(p) == h for p, h in self.written + self.inputs)


def step_key(step, study, corpus_hashes, read_keys: list[str], module: str) -> str:
    """The key of a declared step (see the module docstring)."""
    declared = {k: study.data.get(k) for k in ("corpus", "design", "codebook", "outputs", "segments", "settings")}
    return digest(FORMAT, "step", step.id, step.type, step.settings, step.writes, declared,
                  corpus_hashes, read_keys, package_versions(), source_hash(module))


def cached_corpus(path: str | Path, store: RerunStore | None):
    """`load_corpus(path)`, loaded from the store when no file in the corpus folder changed.

    Keyed by every file under the folder (hidden ones aside), not only those
    the manifest lists, so reading the manifest is not needed to decide; a
    stray file only costs a reload.
    """
    from hcrisis.ingest.corpus import MANIFEST, load_corpus

    if store is None:
        return load_corpus(path)
    root = Path(path)
    root = root.parent if root.is_file() else root
    if not (root / MANIFEST).is_file():
        return load_corpus(path)   # its own one-line error
    own = store.root.resolve()
    files = sorted(p for p in root.rglob("*") if p.is_file() and own not in p.resolve().parents
                   and not any(part.startswith(".") for part in p.relative_to(root).parts))
    key = digest(FORMAT, "corpus", str(root.resolve()), source_hash("hcrisis.ingest.corpus"),
                 [(p.relative_to(root).as_posix(), store.file_hash(p)) for p in files])
    entry = store.load("corpus", key)
    # the manifest may name files outside the folder: check those too
    if isinstance(entry, tuple) and all(store.file_hash(p) == h for p, h in entry[1]):
        return entry[0]
    corpus = load_corpus(path)
    inputs = store.hashed(corpus.input_files())
    store.store("corpus", key, (corpus, inputs), keep=KEEP_TOKENS)
    return corpus


def segments_hash(segments) -> str:
    """sha256 of the segment ids and texts a tokeniser sees."""
    h = hashlib.sha256()
    for seg_id, text in zip(segments["segment_id"], segments["text"]):
        h.update(f"{len(seg_id)}:{seg_id}{len(text)}:".encode("utf-8"))
        h.update(text.encode("utf-8"))
    return h.hexdigest()


def tokens_key(segments) -> str:
    """The key of a segments table's tokens: their text, the tokeniser's code and versions."""
    versions = {k: v for k, v in package_versions().items() if k in TOKENISER_PACKAGES}
    return digest(FORMAT, "tokens", TOKENS_FILE, segments_hash(segments), versions,
                  source_hash("hcrisis.text.tokens"))


def cached_tokens(segments, store: RerunStore | None, tokenize: Callable | None = None):
    """`tokenize(segments)` (default `tokenize_segments`, the blank pipeline), loaded
    from the store when the text is unchanged."""
    if tokenize is None:
        from hcrisis.text.tokens import tokenize_segments as tokenize
    if store is None:
        return tokenize(segments)
    from hcrisis.text.tokenfile import write_tokens

    key = tokens_key(segments)
    tokens = _load_tokens(store, key)
    if tokens is None:
        tokens = tokenize(segments)
        store.store_file("tokens", key, lambda path: write_tokens(tokens, path), TOKENS_FILE, keep=KEEP_TOKENS)
    return tokens


def _load_tokens(store: RerunStore, key: str):
    from hcrisis.text.tokenfile import read_tokens
    return store.load("tokens", key, read_tokens, TOKENS_FILE)


def stored_tokens(outputs: str | Path, corpus: str | Path):
    """(corpus, tokens) of a corpus folder as the rerun store of a study with this outputs
    folder holds them (`hcrisis reproduce` stored them), or None: nothing stored, or a
    file, the text or the tokeniser changed since."""
    store = open_store(outputs)
    if not (store.root / "tokens").is_dir():
        return None
    loaded = cached_corpus(corpus, store)
    tokens = _load_tokens(store, tokens_key(loaded.segments))
    return (loaded, tokens) if tokens is not None else None
