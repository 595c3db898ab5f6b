"""The package's import rules, checked on the import graph of the sources (with `ast`,
imports inside functions and under TYPE_CHECKING included)."""

from __future__ import annotations

import ast
from pathlib import Path


SRC = Path(__file__).resolve().parents[1] / "src"
# `hcrisis quotes extract`: the one command that belongs to the thesis.
THESIS_COMMANDS = {"hcrisis.cli.thesis"}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every hcrisis module `path` imports, anywhere in its source."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return {m for m in found if m == "hcrisis" or m.startswith("hcrisis.")}


GRAPH = {module_name(p): imports(p) for p in sorted((SRC / "hcrisis").rglob("*.py"))}


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_stages_never_import_the_study_or_the_thesis():
    bad = sorted((m, i) for m, deps in GRAPH.items() for i in deps
                 if any(_in(m, f"hcrisis.{p}") for p in ("ingest", "text", "coding"))
                 and (_in(i, "hcrisis.study") or _in(i, "hcrisis.thesis")))
    assert bad == []


def test_only_the_thesis_imports_the_thesis():
    bad = sorted((m, i) for m, deps in GRAPH.items() for i in deps
                 if _in(i, "hcrisis.thesis") and not _in(m, "hcrisis.thesis") and m not in THESIS_COMMANDS)
    assert bad == []


def test_step_types_name_thesis_modules_only_as_thesis_types():
    from hcrisis.study.steptypes import STEP_TYPES
    for name, kind in STEP_TYPES.items():
        assert _in(kind.module, "hcrisis.thesis") == name.startswith("thesis."), name


def test_no_import_cycles_between_modules():
    """No module reaches itself through the imports of others (packages' `__init__` aside)."""
    packages = {module_name(p) for p in (SRC / "hcrisis").rglob("__init__.py")}
    graph = {m: {d for d in deps if d in GRAPH and d != m and d not in packages} for m, deps in GRAPH.items()}
    cycles = []
    for start in sorted(graph):
        seen, todo = set(), list(graph[start])
        while todo:
            m = todo.pop()
            if m == start:
                cycles.append(start)
                break
            if m not in seen:
                seen.add(m)
                todo += graph.get(m, ())
    assert cycles == []


def test_thesis_is_not_imported_by_a_generic_study(tmp_path):
    """Running the runner and the generic steps never loads hcrisis.thesis."""
    import subprocess
    import sys

    code = ("import sys, hcrisis.study.runner, hcrisis.study.steps.text, hcrisis.study.steps.coding, "
            "hcrisis.study.steps.checks, hcrisis.study.steps.report, hcrisis.cli; "
            "print(any(m.startswith('hcrisis.thesis') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": str(SRC)}, check=True)
    assert out.stdout.strip() == "False"
