"""A user's own scoring function and records, read at the CLI boundary for counterfactual fairness.

``alignlab fairness check --function module:callable --records people.jsonl --protected race,gender``
imports the user's module (their explicit request: the code runs in this process, as it
would in their own script) and validates the records before any of them is scored.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from alignlab.data.jsonlines import iter_json_objects
from alignlab.errors import InputError

__all__ = ["import_scoring_function", "load_records_jsonl", "protected_values"]

_SCALAR = (str, int, float, bool)


def import_scoring_function(spec: str) -> Callable[[Mapping[str, Any]], float]:
    """``module:callable`` (``package.module:name``) → the callable; the current directory is importable.

    Raises:
        InputError: the spec is malformed, the module cannot be imported, or the name is not callable.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise InputError(f"--function {spec!r}: expected module:callable, e.g. scoring:risk")
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InputError(f"--function {spec!r}: cannot import {module_name!r} ({exc})") from None
    except SyntaxError as exc:
        raise InputError(f"--function {spec!r}: {exc.filename}:{exc.lineno}: {exc.msg}") from None
    fn = module
    for part in attr.split("."):
        if not hasattr(fn, part):
            raise InputError(f"--function {spec!r}: module {module_name!r} has no attribute {attr!r}")
        fn = getattr(fn, part)
    if not callable(fn):
        raise InputError(f"--function {spec!r}: {attr!r} is not callable")
    return fn  # type: ignore[return-value]


def load_records_jsonl(path: Path, protected: Sequence[str], *, max_records: int = 100_000) -> list[dict[str, Any]]:
    """Read JSONL records, each a JSON object whose protected attributes are scalars.

    Raises:
        InputError: missing/unreadable file, a line that is not a JSON object, a record missing a
            protected attribute or holding a non-scalar value there, no records, too many records.
    """
    records: list[dict[str, Any]] = []
    for where, _, row in iter_json_objects(path):
        for attr in protected:
            if attr not in row:
                raise InputError(f"{where}: no {attr!r} field (protected attributes: {', '.join(protected)})")
            if not isinstance(row[attr], _SCALAR):
                raise InputError(f"{where}: {attr} must be a string, number or boolean, got {row[attr]!r}")
        records.append(row)
        if len(records) > max_records:
            raise InputError(f"{path}: more than {max_records:,} records")
    if not records:
        raise InputError(f"{path}: no records")
    return records


def protected_values(records: Sequence[dict[str, Any]], protected: Sequence[str]) -> dict[str, list[Any]]:
    """Each protected attribute's values in order of first appearance (the first is the reference).

    Raises:
        InputError: an attribute takes a single value in the records (nothing to swap it to).
    """
    values: dict[str, list[Any]] = {}
    for attr in protected:
        seen = list(dict.fromkeys(r[attr] for r in records))
        if len(seen) < 2:
            raise InputError(
                f"protected attribute {attr!r} has one value ({seen[0]!r}) in the records: nothing to swap"
            )
        values[attr] = seen
    return values
