"""Inspect's private names: all reached from one module, and a loud failure when Inspect moves one."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from alignlab import _inspect_private

SRC = Path(__file__).resolve().parents[1] / "src" / "alignlab"


def test_every_private_name_alignlab_uses_is_still_there() -> None:
    # Fails naming the symbol (module.name) when an Inspect release moves one.
    _inspect_private.check_private_names()
    assert _inspect_private.HuggingFaceAPI.__name__ == "HuggingFaceAPI"
    assert issubclass(_inspect_private.PrerequisiteError, Exception)
    assert "mockllm" in _inspect_private.modelapi_names()


def test_a_moved_name_fails_loudly_with_its_name() -> None:
    with pytest.raises(ImportError, match=r"private inspect_ai\._util\.registry\.registry_gone.*inspect-ai \d"):
        _inspect_private.check_private_names({"registry_gone": "inspect_ai._util.registry"})
    with pytest.raises(ImportError, match=r"inspect_ai\._nowhere\.thing"):
        _inspect_private.check_private_names({"thing": "inspect_ai._nowhere"})


def _private_inspect_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        modules = []
        if isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module]
        elif isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        found += [m for m in modules if m.startswith("inspect_ai") and any(p.startswith("_") for p in m.split("."))]
    return found


def test_no_other_module_reaches_into_inspect_private_names() -> None:
    offenders = {
        str(p.relative_to(SRC)): found
        for p in SRC.rglob("*.py")
        if p.name != "_inspect_private.py" and (found := _private_inspect_imports(p))
    }
    assert offenders == {}
