"""A user's JSON-lines file read at the boundary: every problem is one line naming the file and line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from alignlab.errors import InputError

__all__ = ["JsonObject", "iter_json_objects"]


class JsonObject(NamedTuple):
    """One object of a JSON-lines file and where it was (``where`` = ``"FILE:LINE"`` for messages)."""

    where: str
    lineno: int
    row: dict[str, Any]


def iter_json_objects(path: Path) -> Iterator[JsonObject]:
    """Yield each non-blank line of ``path`` as a :class:`JsonObject` (line numbers count blank lines).

    Raises:
        InputError: missing file, text that is not UTF-8, a line that is not valid JSON or not an object.
    """
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(row, dict):
            raise InputError(f"{where}: expected a JSON object, got {type(row).__name__}")
        yield JsonObject(where, lineno, row)
