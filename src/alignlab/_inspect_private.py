"""Every name alignlab takes from Inspect AI's private modules, in one place.

Inspect has no public API for these: the Hugging Face provider class (the local provider
subclasses it to reuse its batching), the model-provider registry lookup (to say which
provider names exist before building a model) and the exception Inspect raises when a
provider's SDK or API key is missing. If an Inspect release moves one, using it raises an
:class:`ImportError` that names the symbol (and ``tests/test_inspect_private.py`` fails the
same way) instead of a confusing error deep inside a run.

Each name is imported on first use: the Hugging Face provider pulls in torch and
transformers, and Inspect's registry most of Inspect (seconds on a small machine).
"""

from __future__ import annotations

import importlib
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inspect_ai._util.error import PrerequisiteError
    from inspect_ai.model._providers.hf import HuggingFaceAPI

__all__ = ["PRIVATE_NAMES", "HuggingFaceAPI", "PrerequisiteError", "check_private_names", "modelapi_names"]

PRIVATE_NAMES: dict[str, str] = {
    "HuggingFaceAPI": "inspect_ai.model._providers.hf",
    "PrerequisiteError": "inspect_ai._util.error",
    "registry_find": "inspect_ai._util.registry",
    "registry_unqualified_name": "inspect_ai._util.registry",
}
"""Each private name alignlab uses and the Inspect module it lives in."""


def _reach(name: str, module: str | None = None) -> Any:
    module = module or PRIVATE_NAMES[name]
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        raise ImportError(
            f"alignlab needs Inspect AI's private {module}.{name}, which inspect-ai {version('inspect-ai')} "
            "does not have; install the inspect-ai version pinned in alignlab's pyproject.toml"
        ) from None


def check_private_names(names: dict[str, str] = PRIVATE_NAMES) -> None:
    """Raise :class:`ImportError` naming the first private Inspect symbol that is gone."""
    for name, module in names.items():
        _reach(name, module)


def __getattr__(name: str) -> Any:
    if name in ("HuggingFaceAPI", "PrerequisiteError"):
        return _reach(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def modelapi_names() -> list[str]:
    """Names of the model providers registered with Inspect (its own and any extension's)."""
    import inspect_ai.model  # noqa: F401  (registers Inspect's providers)

    registry_find, unqualified = _reach("registry_find"), _reach("registry_unqualified_name")
    infos = [getattr(o, "__registry_info__", None) for o in registry_find(lambda i: i.type == "modelapi")]
    return sorted({str(unqualified(i)) for i in infos if i is not None})
