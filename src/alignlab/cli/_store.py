"""The store the CLI's service commands read and write (the settings' database URL)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alignlab.settings import load_settings

if TYPE_CHECKING:
    from alignlab.store import Store

__all__ = ["default_store"]


def default_store() -> Store:
    """Open (and migrate) the store named by the settings."""
    from alignlab.store import open_store

    return open_store(load_settings().database_url)
