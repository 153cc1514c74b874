"""Constitutions: principles written as data (YAML), each a critique request and a revision request.

A constitution file holds a ``name`` and a list of ``principles``. Every principle has a
``name``, a ``critique_request`` and a ``revision_request`` (the supervised phase), and
optionally a ``comparison`` question (the RL phase's feedback model is asked it about two
answers) and a ``kind``: ``harmlessness`` (the default) or ``value`` for PALMS-style
value-targeted principles. Two ship with alignlab: ``default`` and ``palms-values``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

from alignlab.errors import ConfigError
from alignlab.yamlfile import read_yaml

__all__ = [
    "BUILTIN_CONSTITUTIONS",
    "Constitution",
    "Principle",
    "PrincipleKind",
    "load_constitution",
    "parse_constitution",
]

PrincipleKind = Literal["harmlessness", "value"]
BUILTIN_CONSTITUTIONS = {"default": "default.yaml", "palms-values": "palms-values.yaml"}
_REQUIRED = ("name", "critique_request", "revision_request")
_OPTIONAL = ("comparison", "kind")


@dataclass(frozen=True)
class Principle:
    """One principle of a constitution.

    Attributes:
        name: Short identifier, unique within the constitution.
        critique_request: Asked after the model's answer: what is wrong with it under this principle.
        revision_request: Asked after the critique: rewrite the answer.
        comparison: The question a feedback model answers about two answers (derived from
            the name when the file gives none).
        kind: ``harmlessness`` or ``value`` (PALMS-style value targets).
    """

    name: str
    critique_request: str
    revision_request: str
    comparison: str
    kind: PrincipleKind = "harmlessness"


@dataclass(frozen=True)
class Constitution:
    """A named list of principles."""

    name: str
    principles: tuple[Principle, ...]
    source: str

    def draw(self, rng: random.Random) -> Principle:
        """A principle drawn uniformly at random."""
        return self.principles[rng.randrange(len(self.principles))]

    def get(self, name: str) -> Principle:
        """The principle called ``name``."""
        for principle in self.principles:
            if principle.name == name:
                return principle
        raise ConfigError(f"constitution {self.name!r} has no principle {name!r}")


def _principle(raw: Any, index: int, source: str) -> Principle:
    label = f"{source}: principle #{index + 1}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{label} must be a mapping with {', '.join(_REQUIRED)}")
    if isinstance(raw.get("name"), str) and raw["name"].strip():
        label = f"{source}: principle {raw['name']!r}"
    unknown = sorted(set(raw) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise ConfigError(f"{label}: unknown field {unknown[0]!r}; valid fields: {', '.join(_REQUIRED + _OPTIONAL)}")
    for field in _REQUIRED:
        value = raw.get(field)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{label}: missing field {field!r} (a non-empty string)")
    kind = raw.get("kind", "harmlessness")
    if kind not in get_args(PrincipleKind):
        raise ConfigError(f"{label}: kind must be one of {', '.join(get_args(PrincipleKind))}; got {kind!r}")
    comparison = raw.get("comparison") or f"Which answer better follows the principle '{raw['name']}'?"
    if not isinstance(comparison, str):
        raise ConfigError(f"{label}: comparison must be a string")
    return Principle(
        name=raw["name"].strip(),
        critique_request=" ".join(raw["critique_request"].split()),
        revision_request=" ".join(raw["revision_request"].split()),
        comparison=" ".join(comparison.split()),
        kind=kind,
    )


def parse_constitution(data: Any, source: str) -> Constitution:
    """Validate a parsed constitution file.

    Raises:
        ConfigError: Not a mapping, no principles, a duplicate name, or a principle with a
            missing or unknown field (the message names the principle and the field).
    """
    if not isinstance(data, dict) or not isinstance(data.get("principles"), list) or not data["principles"]:
        raise ConfigError(f"{source}: needs a non-empty list under 'principles'")
    unknown = sorted(set(data) - {"name", "principles"})
    if unknown:
        raise ConfigError(f"{source}: unknown key {unknown[0]!r}; valid keys: name, principles")
    principles = tuple(_principle(raw, i, source) for i, raw in enumerate(data["principles"]))
    seen: set[str] = set()
    for p in principles:
        if p.name in seen:
            raise ConfigError(f"{source}: principle name {p.name!r} appears twice")
        seen.add(p.name)
    return Constitution(str(data.get("name") or Path(source).stem), principles, source)


def load_constitution(name_or_path: str) -> Constitution:
    """A built-in constitution (``default``, ``palms-values``) or a YAML file.

    Raises:
        ConfigError: Neither a built-in name nor a readable YAML file, or invalid content.
    """
    if name_or_path in BUILTIN_CONSTITUTIONS:
        text = resources.files("alignlab.cai").joinpath("constitutions", BUILTIN_CONSTITUTIONS[name_or_path])
        return parse_constitution(yaml.safe_load(text.read_text(encoding="utf-8")), name_or_path)
    path = Path(name_or_path).expanduser()
    if not path.is_file():
        raise ConfigError(
            f"constitution {name_or_path!r} is neither a built-in ({', '.join(BUILTIN_CONSTITUTIONS)}) nor a file"
        )
    return parse_constitution(read_yaml(path, what="constitution", mapping=False), str(path))
