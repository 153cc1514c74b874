"""Errors raised by alignlab.

User mistakes (a bad name, a missing file, an unreachable server) are subclasses of
:class:`AlignlabError`; the CLI renders them as one line without a traceback. Anything
else is a bug and keeps its traceback.

    AlignlabError
    ├── ConfigError            bad setting, option or config file
    │   └── UnknownNameError   a model, suite, dataset or judge name that is not registered
    ├── DatasetError           dataset files missing or malformed
    ├── ModelError             a model cannot be resolved, loaded or reached
    ├── StoreError             the database is unreachable or out of date
    └── InputError             a user-supplied file (CSV, JSONL) lacks what is needed
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "AlignlabError",
    "ConfigError",
    "DatasetError",
    "InputError",
    "ModelError",
    "StoreError",
    "UnknownNameError",
]


class AlignlabError(Exception):
    """Base class for errors caused by user input or the environment."""


class ConfigError(AlignlabError):
    """A setting, option or configuration file is invalid."""


class UnknownNameError(ConfigError):
    """A name that is not in a registry; the message lists the valid names."""

    def __init__(self, kind: str, name: str, valid: Iterable[str]) -> None:
        self.kind = kind
        self.name = name
        self.valid = sorted(valid)
        super().__init__(f"unknown {kind} {name!r}; valid {kind}s: {', '.join(self.valid)}")


class DatasetError(AlignlabError):
    """Dataset files are missing or malformed."""


class ModelError(AlignlabError):
    """A model cannot be resolved, loaded or reached."""


class StoreError(AlignlabError):
    """The store (database) is unreachable or cannot be migrated."""


class InputError(AlignlabError):
    """A user-supplied input file lacks required columns or is malformed."""
