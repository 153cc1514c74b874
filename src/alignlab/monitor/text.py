"""Text the store can keep: no NUL character, no lone UTF-16 surrogate.

JSON lets a client send both (``"\\u0000"``, ``"\\ud800"``) and Python decodes them into a
``str``, but neither survives the store: SQLite and psycopg cannot encode a lone surrogate
as UTF-8, and PostgreSQL refuses NUL in ``text`` and ``jsonb``. Such a request is rejected at
the boundary with a 400 naming the field, rather than stored in an escaped form: an escaped
copy would no longer be what the model was sent, and the rows the monitor scores and the
preference pairs exported from them must be the real traffic. (A surrogate *pair* is
decoded by JSON into one valid character, so only lone ones are refused.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated

from pydantic import AfterValidator

__all__ = ["StorableStr", "check_storable", "unstorable"]

_BAD = re.compile("[\x00\ud800-\udfff]")
_MAX_DEPTH = 64


def _reason(text: str) -> str | None:
    match = _BAD.search(text)
    if match is None:
        return None
    return "contains a NUL character" if match.group() == "\x00" else "contains a lone UTF-16 surrogate"


def unstorable(value: object, path: str = "", _depth: int = 0) -> str | None:
    """Where and why ``value`` (a JSON-like tree) holds text the store cannot keep, or ``None``.

    Keys and values of mappings and items of lists are searched; the answer reads like
    ``messages.0.content: contains a NUL character``.
    """
    if isinstance(value, str):
        reason = _reason(value)
        return f"{path or 'value'}: {reason}" if reason else None
    if _depth > _MAX_DEPTH:
        return f"{path}: nested more than {_MAX_DEPTH} levels deep"
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            found = unstorable(str(key), where, _depth + 1) or unstorable(item, where, _depth + 1)
            if found:
                return found
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = unstorable(item, f"{path}.{i}" if path else str(i), _depth + 1)
            if found:
                return found
    return None


def check_storable(text: str) -> str:
    """Return ``text`` unchanged, or raise ``ValueError`` if it has a NUL or a lone surrogate."""
    reason = _reason(text)
    if reason:
        raise ValueError(reason)
    return text


StorableStr = Annotated[str, AfterValidator(check_storable)]
