"""Model names and local model loading.

:func:`get_model` is the one entry point from an alignlab name to an Inspect model; the
name forms are described in :mod:`alignlab.models.registry`.
"""

from alignlab.models.default import ensure_default_model
from alignlab.models.loader import active_model, get_model
from alignlab.models.local import (
    CKPT_PREFIX,
    checkpoint_model_dir,
    checkpoint_of,
    local_model_dir,
    register_model_prefix,
)
from alignlab.models.registry import (
    ResolvedModel,
    inspect_providers,
    list_models,
    register_model_alias,
    resolve_model,
)

__all__ = [
    "CKPT_PREFIX",
    "ResolvedModel",
    "active_model",
    "checkpoint_model_dir",
    "checkpoint_of",
    "ensure_default_model",
    "get_model",
    "inspect_providers",
    "list_models",
    "local_model_dir",
    "register_model_alias",
    "register_model_prefix",
    "resolve_model",
]
