"""Model names and local model loading."""

from alignlab.models.default import ensure_default_model
from alignlab.models.registry import (
    ResolvedModel,
    list_models,
    local_model_dir,
    register_model_alias,
    register_model_prefix,
    resolve_model,
)

__all__ = [
    "ResolvedModel",
    "ensure_default_model",
    "list_models",
    "local_model_dir",
    "register_model_alias",
    "register_model_prefix",
    "resolve_model",
]
