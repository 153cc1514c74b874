"""vLLM on GPUs: a separate server for generation, and TRL's rollouts for online training.

alignlab never imports vLLM into its own environment (it pins torch and transformers versions
that vLLM's wheels do not share). Generation at scale runs ``vllm serve`` in its own environment and
reaches it through Inspect's ``vllm/`` or ``openai-api/`` providers (see docs/engines.md). For the
online trainers (RLOO), TRL drives vLLM itself when it is importable and a GPU is present: this
module only decides the default, which a recipe's ``trl:`` section overrides (``use_vllm: false``).
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

__all__ = ["vllm_rollout_defaults"]


def _cuda_available() -> bool:
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


def vllm_rollout_defaults() -> dict[str, Any]:
    """TRL config defaults for rollouts: vLLM when it is installed and a GPU is present, else none.

    ``ALIGNLAB_VLLM_SERVER=http://host:8000`` selects TRL's server mode (a ``trl vllm-serve`` process
    on other GPUs); otherwise vLLM shares the training GPU (``colocate``).
    """
    if importlib.util.find_spec("vllm") is None or not _cuda_available():
        return {}
    server = os.environ.get("ALIGNLAB_VLLM_SERVER")
    if server:
        return {"use_vllm": True, "vllm_mode": "server", "vllm_server_base_url": server}
    return {"use_vllm": True, "vllm_mode": "colocate"}
