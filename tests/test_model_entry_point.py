"""``alignlab.models.get_model`` is the only place that builds an Inspect model from a name."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "alignlab"
ENTRY_POINT = SRC / "models" / "loader.py"


def _inspect_get_model_uses(tree: ast.AST) -> int:
    uses = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("inspect_ai"):
            uses += sum(a.name == "get_model" for a in node.names)
        elif isinstance(node, ast.Attribute) and node.attr == "get_model":
            base = ast.unparse(node.value)
            uses += base.startswith("inspect_ai")
    return uses


def test_only_the_entry_point_calls_inspects_get_model() -> None:
    offenders = [
        str(p.relative_to(SRC))
        for p in sorted(SRC.rglob("*.py"))
        if p != ENTRY_POINT and _inspect_get_model_uses(ast.parse(p.read_text(encoding="utf-8")))
    ]
    assert offenders == []
    assert _inspect_get_model_uses(ast.parse(ENTRY_POINT.read_text(encoding="utf-8"))) == 1


def test_resolve_model_results_are_not_turned_into_models_elsewhere() -> None:
    # The old pattern, get_model(resolve_model(x).inspect_name), must not come back.
    offenders = [
        str(p.relative_to(SRC)) for p in sorted(SRC.rglob("*.py")) if ".inspect_name" in p.read_text(encoding="utf-8")
    ]
    assert set(offenders) <= {"models/loader.py", "models/registry.py"}
