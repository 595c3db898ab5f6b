"""Rerun cache: a rerun of `hcrisis reproduce` with unchanged inputs skips unchanged steps.

A small content-addressed store under `.hcrisis-cache/` beside the study's
outputs folder (the project folder; gitignored). Two kinds of entry:

- `step`: what a reproduction step added to the run — its checks, report
  sections, the files it wrote (path and sha256), the extra input files it
  read (path and sha256) and the derived results it left in `ctx.cache` for
  later steps (e.g. per-segment frequency tables, codings). The key is the
  sha256 of the step name, the hashes of the study file and corpus files, the
  study's declarations and settings, the package versions and the hash of
  hcrisis's own source, so any change to code or data gives a new key. A
  record is used only if every file it wrote still has the hash it had and
  every extra input still has the hash it had; the step is then skipped and
  its record replayed, so outputs and report are byte-identical.
- `corpus`: the loaded corpus (segments table), keyed by the hashes of
  every file in the corpus folder and the readers' code: parsing
  transcripts is the largest cost of a rerun otherwise.
- `tokens`: the corpus's token arrays (`hcrisis.text.tokens.Tokens`, compact
  numpy arrays, not spaCy Docs: a DocBin is no faster to load than
  re-tokenising and costs gigabytes), keyed by the segments' text and the
  tokeniser's code and versions, for steps that do run.

A step whose results cannot be pickled (e.g. spaCy objects in `ctx.cache`)
is simply not cached. Entries are Python pickles, written atomically; the
cache trusts its own folder like the rest of the project. Delete the folder
(or run `hcrisis reproduce --no-cache`) to start cold.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Callable

from hcrisis.files import sha256_file, write_atomic

CACHE_DIR = ".hcrisis-cache"
FORMAT = 2             # bump when the record layout changes
KEEP_TOKENS = 4        # corpora and token arrays kept (most recently used first)
STEP_BYTES = 2 << 30   # step records kept, in bytes (a step may keep token arrays)
# ctx.cache entries left out of step records: the token arrays have their own
# cache kind, and the word counter (which holds them) is rebuilt from it by a
# later step that runs; pickling it made every rerun load ~20 MB per 0.5M words.
UNCACHED_KEYS = {"tokens", "freq_counter"}
TOKENISER_PACKAGES = ("spacy", "spacy-lookups-data", "numpy", "pandas")


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


class Cache:
    """Pickled entries by kind and key under one folder."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self._hashes: dict[Path, str | None] = {}
        self._resolved: dict[str, Path] = {}
        self._versions: dict[str, str] | None = None
        self.skipped: list[str] = []   # steps replayed from the cache in this run
        self.chain = ""                # key of the last step run or replayed

    def versions(self) -> dict[str, str]:
        """Package versions (hcrisis.study.runner.PACKAGES), looked up once per run."""
        if self._versions is None:
            from hcrisis.study.runner import package_versions
            self._versions = package_versions()
        return self._versions

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

    def _path(self, kind: str, key: str) -> Path:
        return self.root / kind / f"{key}.pkl"

    def load(self, kind: str, key: str) -> Any | None:
        path = self._path(kind, key)
        try:
            with open(path, "rb") as fh:
                value = pickle.load(fh)
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

    def prune(self, kind: str, keep: int | None = None, keep_bytes: int | None = None) -> None:
        """Delete the least recently used entries of a kind beyond `keep` entries or
        `keep_bytes` bytes (the newest entry is always kept)."""
        entries = sorted(self._path(kind, "x").parent.glob("*.pkl"),
                         key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
        total = 0
        for i, p in enumerate(entries):
            total += p.stat().st_size
            if i and ((keep is not None and i >= keep) or (keep_bytes is not None and total > keep_bytes)):
                p.unlink(missing_ok=True)


def open_cache(outputs: str | Path) -> Cache:
    """The project's cache: `.hcrisis-cache/` beside the outputs folder."""
    return Cache(Path(outputs).parent / CACHE_DIR)


@dataclass
class StepRecord:
    """What one step added to the run, enough to replay it without running it."""

    checks: list
    sections: list
    written: list[tuple[str, str]]            # (absolute path, sha256)
    inputs: list[tuple[str, str | None]]      # extra inputs the step read
    results: dict[str, Any] = field(default_factory=dict)

    def valid(self, cache: Cache) -> bool:
        return all(cache.file_hash(p) == h for p, h in self.written + self.inputs)

    def replay(self, ctx) -> None:
        ctx.checks += self.checks
        ctx.sections += self.sections
        ctx.written += [Path(p) for p, _ in self.written]
        ctx.inputs += [Path(p) for p, _ in self.inputs]
        ctx.cache.update(self.results)


def step_key(ctx, cache: Cache, name: str, fn: Callable) -> str:
    """The step's key, chained to the previous step's: a step may use what earlier
    steps left in ctx.cache, so a change upstream must reach every later key."""
    base = cache.hashed(ctx.inputs)
    return digest(FORMAT, "step", name, cache.chain, base, ctx.study.data, cache.versions(),
                  source_hash(fn.__module__))


def run_step(ctx, name: str, fn: Callable, cache: Cache | None) -> bool:
    """Run step `fn`, or replay its cached record; True when it was skipped.

    A step that left work running (`ctx.finish_later`) is recorded once that
    work is done, by the finisher it adds to `ctx.finishers`."""
    key = None
    if cache is not None:
        key = cache.chain = step_key(ctx, cache, name, fn)
        record = cache.load("step", key)
        if isinstance(record, StepRecord) and record.valid(cache):
            record.replay(ctx)
            cache.skipped.append(name)
            return True
    marks = len(ctx.checks), len(ctx.sections), len(ctx.written), len(ctx.inputs)
    before = dict(ctx.cache)
    ctx.deferred = None
    fn(ctx)
    deferred, ctx.deferred = ctx.deferred, None
    checks, sections = ctx.checks[marks[0]:], ctx.sections[marks[1]:]
    written, inputs = ctx.written[marks[2]:], ctx.inputs[marks[3]:]
    results = {k: v for k, v in ctx.cache.items() if k not in UNCACHED_KEYS and before.get(k) is not v}

    def finish() -> None:
        nonlocal written
        if deferred is not None:
            later = deferred()
            ctx.written += later
            written = written + later
        if cache is not None:
            cache.forget(written)
            record = StepRecord(checks, sections, cache.hashed(written), cache.hashed(inputs), results)
            cache.store("step", key, record, keep_bytes=STEP_BYTES)

    if deferred is None:
        finish()
    else:
        ctx.finishers.append(finish)
    return False


def cached_corpus(path: str | Path, cache: Cache | None):
    """`load_corpus(path)`, loaded from the cache when no file in the corpus folder changed.

    Keyed by every file under the folder (hidden ones aside), not only those
    the manifest lists, so reading the manifest is not needed to decide; a
    stray file only costs a reload.
    """
    from hcrisis.ingest.corpus import MANIFEST, load_corpus

    if cache is None:
        return load_corpus(path)
    root = Path(path)
    root = root.parent if root.is_file() else root
    if not (root / MANIFEST).is_file():
        return load_corpus(path)   # its own one-line error
    own = cache.root.resolve()
    files = sorted(p for p in root.rglob("*") if p.is_file() and own not in p.resolve().parents
                   and not any(part.startswith(".") for part in p.relative_to(root).parts))
    key = digest(FORMAT, "corpus", str(root.resolve()), source_hash("hcrisis.ingest.corpus"),
                 [(p.relative_to(root).as_posix(), cache.file_hash(p)) for p in files])
    entry = cache.load("corpus", key)
    # the manifest may name files outside the folder: check those too
    if isinstance(entry, tuple) and all(cache.file_hash(p) == h for p, h in entry[1]):
        return entry[0]
    corpus = load_corpus(path)
    inputs = cache.hashed(corpus.input_files())
    cache.store("corpus", key, (corpus, inputs), keep=KEEP_TOKENS)
    return corpus


def segments_hash(segments) -> str:
    """sha256 of the segment ids and texts a tokeniser sees."""
    h = hashlib.sha256()
    for seg_id, text in zip(segments["segment_id"], segments["text"]):
        h.update(f"{len(seg_id)}:{seg_id}{len(text)}:".encode("utf-8"))
        h.update(text.encode("utf-8"))
    return h.hexdigest()


def cached_tokens(segments, cache: Cache | None, model: str | None = None, tokeniser=None):
    """`tokenize_segments(segments)`, loaded from the cache when the text is unchanged;
    done by `tokeniser` (`hcrisis.study.parallel`), if given, for the blank pipeline."""
    from hcrisis.text.tokens import tokenize_segments

    def tokenize():
        if tokeniser is not None and model is None:
            return tokeniser.tokenize_segments(segments)
        return tokenize_segments(segments, model=model)

    if cache is None:
        return tokenize()
    versions = {k: v for k, v in cache.versions().items() if k in TOKENISER_PACKAGES}
    key = digest(FORMAT, "tokens", segments_hash(segments), model, versions,
                 source_hash("hcrisis.text.tokens"))
    tokens = cache.load("tokens", key)
    if tokens is None:
        tokens = tokenize()
        cache.store("tokens", key, tokens, keep=KEEP_TOKENS)
    return tokens
