"""Settings read from the environment (``ALIGNLAB_*``), never at import time.

Every path has a default under the user's data/cache directories, never inside the
repository. Call :func:`load_settings` where settings are needed and pass the object down.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from platformdirs import user_cache_dir, user_data_dir

__all__ = ["Settings", "load_settings"]


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else None


@dataclass(frozen=True)
class Settings:
    """Resolved configuration.

    Attributes:
        home: Where alignlab keeps its state (database, logs). ``ALIGNLAB_HOME``.
        cache_dir: Converted model weights and other caches. ``ALIGNLAB_CACHE_DIR``.
        data_dir: Local copies of public datasets, or ``None`` to use the canonical
            sources. ``ALIGNLAB_DATA_DIR``.
        database_url: SQLAlchemy URL of the store. ``ALIGNLAB_DATABASE_URL``; defaults to a
            SQLite file in ``home``.
        log_dir: Where Inspect eval logs are written. ``ALIGNLAB_LOG_DIR``.
        default_model_path: A directory holding an already converted default model (or any
            Hugging Face model directory) to use instead of converting the GGUF.
            ``ALIGNLAB_DEFAULT_MODEL_PATH``.
    """

    home: Path
    cache_dir: Path
    data_dir: Path | None
    database_url: str
    log_dir: Path
    default_model_path: Path | None = None
    extra: dict[str, str] = field(default_factory=dict)


def load_settings() -> Settings:
    """Read settings from the environment."""
    home = _env_path("ALIGNLAB_HOME") or Path(user_data_dir("alignlab"))
    cache_dir = _env_path("ALIGNLAB_CACHE_DIR") or Path(user_cache_dir("alignlab"))
    database_url = os.environ.get("ALIGNLAB_DATABASE_URL") or f"sqlite:///{home / 'alignlab.db'}"
    log_dir = _env_path("ALIGNLAB_LOG_DIR") or home / "logs"
    return Settings(
        home=home,
        cache_dir=cache_dir,
        data_dir=_env_path("ALIGNLAB_DATA_DIR"),
        database_url=database_url,
        log_dir=log_dir,
        default_model_path=_env_path("ALIGNLAB_DEFAULT_MODEL_PATH"),
    )
