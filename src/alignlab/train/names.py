"""``ckpt:<name>`` model names: a checkpoint recorded in the store, usable wherever a model is.

Importing this module registers the prefix with :mod:`alignlab.models`; the CLI and the Inspect
entry point import it. It stays light (no torch, no TRL) so that importing it costs nothing.
"""

from __future__ import annotations

from pathlib import Path

from alignlab.errors import ModelError
from alignlab.models import register_model_prefix
from alignlab.settings import load_settings
from alignlab.store import get_checkpoint, open_store

__all__ = ["CKPT_PREFIX", "checkpoint_model_dir"]

CKPT_PREFIX = "ckpt"


def checkpoint_model_dir(name: str) -> Path:
    """The saved model directory of the checkpoint called ``name`` (store from the settings).

    Raises:
        InputError: No checkpoint has this name.
        ModelError: The checkpoint's directory is gone.
    """
    settings = load_settings()
    store = open_store(settings.database_url)
    try:
        record = get_checkpoint(store, name)
    finally:
        store.close()
    path = Path(record.path)
    if not (path / "config.json").is_file():
        raise ModelError(f"checkpoint {name!r} is recorded but its model directory {path} is missing")
    return path


register_model_prefix(CKPT_PREFIX, checkpoint_model_dir)
