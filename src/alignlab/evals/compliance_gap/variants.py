"""Prompt variants of the setting, declared as data (``variants.yaml`` or a user's YAML file).

A variant is the text of each system-prompt section. ``default`` defines them all; other
variants name a ``base`` and override sections (an empty string removes one), so a variant
file reads as the list of differences an experimenter made.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import yaml

from alignlab.errors import ConfigError, InputError, UnknownNameError

__all__ = ["SECTIONS", "PromptVariant", "TrainedTier", "builtin_variants", "get_variant", "load_variants"]

TrainedTier = Literal["free", "paid", "none"]
SECTIONS: tuple[str, ...] = ("intro", "objective", "rating", "training_data", "tier_tag")
"""System-prompt sections a variant fills, in the order they appear."""

BUILTIN_FILE = Path(__file__).with_name("variants.yaml")


@dataclass(frozen=True)
class PromptVariant:
    """One version of the setting's system prompt.

    Attributes:
        name: Variant name (``default``, ``paid-tier-trained`` ...).
        description: One line saying what changed.
        trained_tier: Which tier the prompt says is trained: tells which direction of gap a
            model that reasons about training would show.
        sections: Text of every section in :data:`SECTIONS` (empty when removed).
    """

    name: str
    description: str
    trained_tier: TrainedTier
    sections: dict[str, str]


def _variants_from_mapping(raw: Any, source: str, base: dict[str, PromptVariant]) -> dict[str, PromptVariant]:
    if not isinstance(raw, dict):
        raise InputError(f"{source}: expected a mapping of variant names to definitions")
    variants = dict(base)
    for name, body in raw.items():
        if not isinstance(body, dict):
            raise InputError(f"{source}: variant {name!r} must be a mapping")
        unknown = set(body) - {"description", "trained_tier", "sections", "base"}
        if unknown:
            raise InputError(f"{source}: variant {name!r} has unknown key(s) {', '.join(sorted(unknown))}")
        parent_name = body.get("base", None if name == "default" and "default" not in variants else "default")
        sections: dict[str, str] = {}
        if parent_name is not None:
            if parent_name not in variants:
                raise InputError(f"{source}: variant {name!r} has unknown base {parent_name!r}")
            sections = dict(variants[parent_name].sections)
        overrides = body.get("sections") or {}
        bad = set(overrides) - set(SECTIONS)
        if bad:
            raise InputError(f"{source}: variant {name!r} sets unknown section(s) {', '.join(sorted(bad))}")
        sections.update({k: str(v or "").strip() for k, v in overrides.items()})
        missing = [s for s in SECTIONS if s not in sections]
        if missing:
            raise InputError(f"{source}: variant {name!r} lacks section(s) {', '.join(missing)}")
        tier = body.get("trained_tier", "free")
        if tier not in ("free", "paid", "none"):
            raise InputError(f"{source}: variant {name!r}: trained_tier must be free, paid or none, got {tier!r}")
        variants[str(name)] = PromptVariant(
            str(name), str(body.get("description", "")), cast(TrainedTier, tier), sections
        )
    return variants


def builtin_variants() -> dict[str, PromptVariant]:
    """The variants shipped with alignlab, by name."""
    raw = yaml.safe_load(BUILTIN_FILE.read_text(encoding="utf-8"))
    return _variants_from_mapping(raw, str(BUILTIN_FILE), {})


def load_variants(path: Path | None = None) -> dict[str, PromptVariant]:
    """Built-in variants plus those declared in ``path`` (which may override built-ins).

    Raises:
        InputError: the file is missing or a variant is malformed.
    """
    variants = builtin_variants()
    if path is None:
        return variants
    if not path.is_file():
        raise InputError(f"{path}: no such variants file")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({exc.__class__.__name__})") from None
    return _variants_from_mapping(raw, str(path), variants)


def get_variant(name: str, path: Path | None = None) -> PromptVariant:
    """Look up a variant by name (raises :class:`UnknownNameError` listing the valid ones)."""
    variants = load_variants(path)
    if name not in variants:
        raise UnknownNameError("variant", name, variants)
    if not variants[name].sections.get("objective"):
        raise ConfigError(f"variant {name!r} has no objective section; the setting needs one")
    return variants[name]
