"""The ``alignlab`` command: thin adapters that parse options, call one library function and format the result.

One module per command group; :mod:`alignlab.cli.main` assembles them into :data:`app` (its
``main()`` is the console script). Nothing imports this package but ``alignlab.__main__``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alignlab.cli.main import app

__all__ = ["app"]


def __getattr__(name: str) -> Any:
    if name == "app":
        import alignlab.cli.main

        return alignlab.cli.main.app
    raise AttributeError(f"module 'alignlab.cli' has no attribute {name!r}")
