"""Where the weights of a local model name live: ``default``, ``ckpt:<name>``, a model directory.

Name prefixes resolve to a directory: ``ckpt:`` (a checkpoint recorded in the store) is built
in; :func:`register_model_prefix` adds others. This module sits below the Inspect provider and
the name registry, which both read it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alignlab.errors import ModelError
from alignlab.models.default import ensure_default_model
from alignlab.settings import load_settings

__all__ = [
    "CKPT_PREFIX",
    "checkpoint_model_dir",
    "checkpoint_of",
    "local_model_dir",
    "model_prefixes",
    "register_model_prefix",
]

CKPT_PREFIX = "ckpt"


def checkpoint_model_dir(name: str) -> Path:
    """The saved model directory of the checkpoint called ``name`` (store from the settings).

    Raises:
        InputError: No checkpoint has this name.
        ModelError: The checkpoint's directory is gone.
    """
    from alignlab.store import get_checkpoint, open_store  # SQLAlchemy: only when a ckpt: name is used

    store = open_store(load_settings().database_url)
    try:
        record = get_checkpoint(store, name)
    finally:
        store.close()
    path = Path(record.path)
    if not (path / "config.json").is_file():
        raise ModelError(f"checkpoint {name!r} is recorded but its model directory {path} is missing")
    return path


def checkpoint_of(model_name: str) -> str | None:
    """The checkpoint name behind a ``ckpt:<name>`` model name; ``None`` for any other name."""
    prefix, _, rest = model_name.partition(":")
    return rest if prefix == CKPT_PREFIX and rest else None


_PREFIXES: dict[str, Callable[[str], Path]] = {CKPT_PREFIX: checkpoint_model_dir}


def register_model_prefix(prefix: str, resolver: Callable[[str], Path]) -> None:
    """Resolve ``<prefix>:<rest>`` names to a local model directory with ``resolver(rest)``."""
    _PREFIXES[prefix] = resolver


def model_prefixes() -> list[str]:
    """The registered name prefixes (``ckpt`` and any added)."""
    return list(_PREFIXES)


def local_model_dir(model_name: str) -> Path:
    """Directory of the local model behind ``alignlab/<model_name>``.

    Raises:
        ModelError: ``model_name`` is neither a known name nor a model directory.
    """
    if model_name == "default":
        return ensure_default_model(load_settings())
    prefix, _, rest = model_name.partition(":")
    if rest and prefix in _PREFIXES:
        return _PREFIXES[prefix](rest)
    path = Path(model_name)
    if (path / "config.json").is_file():
        return path
    raise ModelError(f"no local model {model_name!r}: not a known name and not a model directory")
