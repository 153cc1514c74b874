"""Read a user's YAML file (configs, policies, constitutions) with one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from alignlab.errors import ConfigError

__all__ = ["check_keys", "read_yaml", "unknown_key"]


def read_yaml(path: Path, *, what: str = "file", mapping: bool = True) -> Any:
    """Parse the YAML file at ``path``.

    Args:
        path: The file.
        what: What the file is, for messages ("config", "policy file", …).
        mapping: Require a mapping of keys to values (an empty file reads as ``{}``).

    Raises:
        ConfigError: The file is missing or unreadable, not valid YAML, or not a mapping.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} not found") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if mapping:
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise ConfigError(f"{path} must hold a mapping of keys to values")
    return data


def unknown_key(where: str, key: str, valid: list[str]) -> ConfigError:
    """The one-line error for a key a config section does not have, listing the valid ones."""
    return ConfigError(f"unknown {where} key {key!r}; valid keys: {', '.join(valid)}")


def check_keys(data: dict[str, Any], valid: list[str], where: str) -> None:
    """Raise :func:`unknown_key`'s error for the first key of ``data`` not in ``valid``."""
    for key in data:
        if key not in valid:
            raise unknown_key(where, key, valid)
