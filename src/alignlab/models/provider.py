"""The ``alignlab/<name>`` Inspect model provider: local models by alignlab name.

It reuses Inspect's Hugging Face provider, which already batches concurrent requests
(left padding, one ``generate`` per batch), and only changes where the weights come
from: ``alignlab/default`` is the converted embedded model, ``alignlab/<dir>`` is a local
model directory, and other prefixes (``ckpt:``) resolve through :mod:`alignlab.models.local`.
Decoding is greedy unless the generate config asks for a temperature above zero, decided per
call: a model built greedy still samples when one call asks for ``temperature > 0``.
"""

from __future__ import annotations

from typing import Any

from inspect_ai.model import ChatMessage, GenerateConfig, ModelOutput, modelapi
from inspect_ai.tool import ToolChoice, ToolInfo

from alignlab._inspect_private import HuggingFaceAPI
from alignlab.models.local import local_model_dir

__all__ = ["AlignlabLocalAPI"]


@modelapi(name="alignlab")
class AlignlabLocalAPI(HuggingFaceAPI):
    """Inspect ``ModelAPI`` for local models addressed by alignlab names."""

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig = GenerateConfig(),  # noqa: B008 (Inspect's ModelAPI signature)
        **model_args: Any,
    ) -> None:
        path = local_model_dir(model_name)
        model_args.setdefault("model_path", str(path))
        model_args.setdefault("device", "cpu")
        sampling = config.temperature is not None and config.temperature > 0
        model_args.setdefault("do_sample", sampling)
        if not sampling:
            # transformers rejects temperature=0 together with greedy decoding flags.
            config = config.model_copy(update={"temperature": None, "top_p": None, "top_k": None})
        super().__init__(model_name, base_url, api_key, config, **model_args)
        self._sampling_default = sampling
        if not sampling:
            gen = self.model.generation_config
            gen.temperature, gen.top_p, gen.top_k = None, None, None

    async def generate(
        self,
        input: list[ChatMessage],  # noqa: A002 (Inspect's ModelAPI signature)
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        """Generate, sampling only when this call's temperature is above zero.

        Inspect's provider fixes ``do_sample`` when the model is built, so a greedy model
        asked for ``temperature=0.8`` decoded greedily (and transformers warned that the
        temperature was ignored). The parent reads ``self.do_sample`` while building the
        generate kwargs, before its first ``await``, so setting it here cannot leak into a
        concurrent call.
        """
        sampling = self._sampling_default if config.temperature is None else config.temperature > 0
        if not sampling:
            config = config.model_copy(update={"temperature": None, "top_p": None, "top_k": None})
        self.do_sample = sampling
        return await super().generate(input, tools, tool_choice, config)

    def max_connections(self) -> int:
        """Requests batched into one forward pass (override with ``--max-connections``)."""
        return 16
