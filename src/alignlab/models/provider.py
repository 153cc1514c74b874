"""The ``alignlab/<name>`` Inspect model provider: local models by alignlab name.

``alignlab/default`` is the converted embedded model, ``alignlab/<dir>`` is a local model
directory, and other prefixes (``ckpt:``) resolve through :mod:`alignlab.models.local`.
The provider picks an engine (:mod:`alignlab.models.engines.local`): OpenVINO GenAI with
continuous batching on the CPU, or Inspect's Hugging Face provider (transformers fp32,
left-padded batches) as the fallback, announced in one line. The engine and precision used
are recorded in every output's metadata, so every log says what produced it.
Decoding is greedy unless the generate config asks for a temperature above zero, decided per
call: a model built greedy still samples when one call asks for ``temperature > 0``.
"""

from __future__ import annotations

import sys
from typing import Any

from inspect_ai.model import ChatMessage, GenerateConfig, ModelAPI, ModelOutput, modelapi
from inspect_ai.tool import ToolChoice, ToolInfo

from alignlab._inspect_private import HuggingFaceAPI
from alignlab.errors import ModelError
from alignlab.models.engines.choice import choose_engine
from alignlab.models.engines.local import OpenVINOChatAPI, start_openvino
from alignlab.models.local import local_model_dir
from alignlab.settings import load_settings

__all__ = ["AlignlabLocalAPI", "TransformersLocalAPI"]

_ANNOUNCED: set[str] = set()


@modelapi(name="alignlab")
class AlignlabLocalAPI(ModelAPI):
    """Inspect ``ModelAPI`` for local models addressed by alignlab names (dispatches to an engine)."""

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig = GenerateConfig(),  # noqa: B008 (Inspect's ModelAPI signature)
        **model_args: Any,
    ) -> None:
        super().__init__(model_name, base_url, api_key, [], config)
        choice = choose_engine(model_args)
        path = local_model_dir(model_name)
        self.backend: ModelAPI | None = None
        self._fallback_args = (base_url, api_key, config, {"model_path": str(path), **model_args})
        self._transformers: TransformersLocalAPI | None = None
        if choice.engine != "transformers":
            try:
                engine = start_openvino(path, choice.precision, load_settings())
                self.backend = OpenVINOChatAPI(model_name, engine=engine, model_dir=path, config=config)
            except ModelError as exc:
                if choice.explicit:
                    raise
                _announce(f"alignlab: OpenVINO engine unavailable ({exc}); generating with transformers fp32")
        if self.backend is None:
            self.backend = self._transformers_api()

    def _transformers_api(self) -> TransformersLocalAPI:
        if self._transformers is None:
            base_url, api_key, config, args = self._fallback_args
            self._transformers = TransformersLocalAPI(self.model_name, base_url, api_key, config, **args)
        return self._transformers

    def transformers_weights(self) -> tuple[Any, Any]:
        """The transformers model and tokenizer behind this name, loaded once and shared.

        Log-likelihood suites (BBQ, CrowS-Pairs) and the bias probe score with them instead of
        loading the same weights a second time.
        """
        api = self._transformers_api()
        return api.model, api.tokenizer

    async def generate(
        self,
        input: list[ChatMessage],  # noqa: A002 (Inspect's ModelAPI signature)
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        """Generate on the chosen engine; the output's metadata names engine and precision.

        Calls asking for log-probabilities (CAI's ``method: logprobs``) go to transformers:
        OpenVINO GenAI returns the chosen tokens' log-probabilities, not the top candidates.
        """
        backend = self._transformers_api() if config.logprobs else self.backend
        assert backend is not None
        out = await backend.generate(input, tools, tool_choice, config)
        assert isinstance(out, ModelOutput)
        engine = getattr(backend, "metadata", None) or {"engine": "transformers", "precision": "fp32"}
        out.metadata = {**(out.metadata or {}), **engine}
        return out

    def max_tokens(self) -> int | None:
        """The engine's default."""
        return self.backend.max_tokens() if self.backend else None

    def max_connections(self) -> int:
        """Requests in flight at once (override with ``--max-connections``)."""
        return self.backend.max_connections() if self.backend else 16

    def collapse_user_messages(self) -> bool:
        """Like Inspect's HF provider."""
        return True

    def close(self) -> None:
        """Release the transformers model (the OpenVINO engine is shared by the process)."""
        for backend in {id(b): b for b in (self.backend, self._transformers) if b is not None}.values():
            backend.close()


def _announce(line: str) -> None:
    if line not in _ANNOUNCED:
        _ANNOUNCED.add(line)
        print(line, file=sys.stderr)


class TransformersLocalAPI(HuggingFaceAPI):
    """The transformers fallback: Inspect's HF provider on a local model directory."""

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig = GenerateConfig(),  # noqa: B008 (Inspect's ModelAPI signature)
        **model_args: Any,
    ) -> None:
        model_args.setdefault("model_path", str(local_model_dir(model_name)))
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
