"""The one way code turns an alignlab model name into an Inspect :class:`~inspect_ai.model.Model`."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from alignlab import _inspect_private
from alignlab.errors import AlignlabError, ModelError
from alignlab.models.registry import SCRIPTED_PROVIDER, resolve_model

if TYPE_CHECKING:
    from inspect_ai.model import GenerateConfig, Model

__all__ = ["active_model", "get_model"]


def get_model(
    name: str,
    *,
    config: GenerateConfig | None = None,
    base_url: str | None = None,
    memoize: bool = True,
    **model_args: Any,
) -> Model:
    """Build the model behind an alignlab name (``default``, ``ckpt:NAME``, a directory, ``provider/model``).

    Args:
        name: The alignlab model name (see :mod:`alignlab.models.registry`).
        config: Default generation settings of the model.
        base_url: Base URL of an OpenAI-compatible server.
        memoize: Reuse an identical model built before (Inspect's cache); ``False`` for a fresh
            instance, e.g. a checkpoint name that may be retrained.
        **model_args: Provider-specific arguments passed to Inspect.

    Raises:
        UnknownNameError: ``name`` is not a model name.
        ModelError: The model cannot be used here (no API key, SDK missing, weights gone);
            one line, because a user's model name is a boundary.
    """
    from inspect_ai.model import GenerateConfig

    resolved = resolve_model(name, base_url=base_url)
    # alignlab's own providers register on import (Inspect would also find them through the entry point).
    if resolved.local:
        import alignlab.models.provider  # imports torch
        from alignlab.models.engines.choice import engine_model_args

        model_args = {**engine_model_args(), **model_args}  # the log's header names the precision
    elif resolved.inspect_name.startswith(f"{SCRIPTED_PROVIDER}/"):
        import alignlab.models.scripted  # noqa: F401
    try:
        return _inspect_get_model(
            resolved.inspect_name,
            config=config or GenerateConfig(),
            base_url=resolved.base_url,
            memoize=memoize,
            **{**resolved.model_args, **model_args},
        )
    except AlignlabError:
        raise
    except Exception as exc:
        raise ModelError(f"cannot use model {name!r}: {_one_line(exc)}") from None


def active_model() -> Model:
    """The model the running Inspect task evaluates (a solver or scorer asking for its own model)."""
    return _inspect_get_model()


def _inspect_get_model(*args: Any, **kwargs: Any) -> Model:
    from inspect_ai.model import get_model as inspect_get_model

    return inspect_get_model(*args, **kwargs)


def _one_line(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, _inspect_private.PrerequisiteError):
        # Inspect's message is multi-line rich markup.
        text = re.sub(r"\[/?[a-z ]+\]", "", text).replace("ERROR:", "")
    return " ".join(text.split())[:300] or exc.__class__.__name__
