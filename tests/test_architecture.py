"""The import graph: every module in a layer, no cycle between siblings, and `make lint` catching a new one."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]


def _strongly_connected(nodes: Iterable[str], edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm; only the components with more than one node (the cycles)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(nodes):
        if node not in index:
            visit(node)
    return found


def sibling_cycles(graph: grimp.ImportGraph, package: str) -> list[list[str]]:
    """Cycles between the children of ``package`` (a child stands for itself and its descendants), recursively."""
    children = graph.find_children(package)
    owner = {m: child for child in children for m in {child, *graph.find_descendants(child)}}
    edges: dict[str, set[str]] = {c: set() for c in children}
    for module, child in owner.items():
        for imported in graph.find_modules_directly_imported_by(module):
            target = owner.get(imported)
            if target is not None and target != child:
                edges[child].add(target)
    cycles = _strongly_connected(children, edges)
    for child in sorted(children):
        cycles += sibling_cycles(graph, child)
    return cycles


def test_no_cycles_between_siblings_anywhere() -> None:
    assert sibling_cycles(grimp.build_graph("alignlab"), "alignlab") == []


def test_the_cycle_check_finds_a_cycle_through_a_third_module() -> None:
    graph = grimp.ImportGraph()
    for m in ("pkg", "pkg.a", "pkg.b", "pkg.c", "pkg.c.inner", "pkg.d"):
        graph.add_module(m)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.c.inner")
    graph.add_import(importer="pkg.c.inner", imported="pkg.a")
    graph.add_import(importer="pkg.d", imported="pkg.a")
    assert sibling_cycles(graph, "pkg") == [["pkg.a", "pkg.b", "pkg.c"]]


def test_lint_contracts_forbid_sibling_cycles_across_the_package() -> None:
    acyclic = [c for c in CONTRACTS if c["type"] == "acyclic_siblings"]
    assert acyclic and acyclic[0]["ancestors"] == ["alignlab"]


def test_every_top_level_module_is_in_a_layer() -> None:
    layers = next(c for c in CONTRACTS if c["type"] == "layers")["layers"]
    named = {name.strip() for layer in layers for name in layer.split("|")}
    children = grimp.build_graph("alignlab").find_children("alignlab")
    assert sorted(children - named) == []


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    lint_imports = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=tree, env=env, capture_output=True, text=True, timeout=300
    )


def test_lint_fails_on_a_new_cycle(tmp_path: Path) -> None:
    """What `make lint` runs (lint-imports with the repository's contracts), on a copy with one new cycle."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(ROOT / "src" / "alignlab", tmp_path / "src" / "alignlab", ignore=shutil.ignore_patterns("*.pyc"))
    stats = tmp_path / "src" / "alignlab" / "stats"
    (stats / "new_a.py").write_text("from alignlab.stats import new_b\n", encoding="utf-8")
    (stats / "new_b.py").write_text("def f() -> None:\n    from alignlab.stats import new_a  # noqa: F401\n")
    result = _lint(tmp_path)
    assert result.returncode != 0, result.stdout
    assert "No cycles between siblings BROKEN" in result.stdout
    assert "alignlab.stats" in result.stdout and "new_a" in result.stdout


def test_every_package_has_a_public_face() -> None:
    src = ROOT / "src" / "alignlab"

    def names(init: Path) -> set[str]:
        tree = ast.parse(init.read_text(encoding="utf-8"))
        return {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}

    faceless = [str(init.relative_to(src)) for init in sorted(src.rglob("__init__.py")) if "__all__" not in names(init)]
    assert faceless == []


def test_lazy_faces_resolve_every_name() -> None:
    import alignlab.evals
    import alignlab.stats

    for package in (alignlab.evals, alignlab.stats):
        assert [n for n in package.__all__ if getattr(package, n, None) is None] == []


# A module's private names are its own; a helper two modules need gets a public home.
_PRIVATE_IMPORTS_ALLOWED = {("alignlab.data.training_sets", "alignlab.data.registry", "_read_jsonl")}


def _private_imports() -> set[tuple[str, str, str]]:
    """``(importer, imported module, private name)`` for every ``from alignlab.x import _name`` of a non-module."""
    src = ROOT / "src"
    found = set()
    for path in (src / "alignlab").rglob("*.py"):
        importer = ".".join(path.relative_to(src).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith("alignlab"):
                continue
            if str(node.module).rsplit(".", 1)[-1].startswith("_"):
                continue  # a private module is its package's shared internals
            for alias in node.names:
                module_file = src / Path(*f"{node.module}.{alias.name}".split("."))
                is_module = module_file.with_suffix(".py").is_file() or module_file.is_dir()
                if alias.name.startswith("_") and not alias.name.startswith("__") and not is_module:
                    found.add((importer, str(node.module), alias.name))
    return found


def test_no_module_borrows_another_modules_private_helpers() -> None:
    assert _private_imports() - _PRIVATE_IMPORTS_ALLOWED == set()
