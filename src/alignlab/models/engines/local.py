"""Which engine serves a local model, and the Inspect ``ModelAPI`` of the OpenVINO engine.

``engine``: ``auto`` (OpenVINO when it starts, else transformers, said in one line),
``openvino`` (OpenVINO or a one-line error: the user asked for it) or ``transformers``.
``precision``: ``exact`` (greedy outputs equal transformers fp32), ``bf16``, ``int8``, ``int4``.
Both come from the model args (``-M engine=openvino``), else ``ALIGNLAB_ENGINE`` /
``ALIGNLAB_PRECISION`` (what ``alignlab --engine … --precision …`` sets), else the defaults.
"""

from __future__ import annotations

import asyncio
import random
import sys
import threading
from pathlib import Path
from typing import Any, Literal

from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessage,
    ChatMessageAssistant,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
)
from inspect_ai.tool import ToolChoice, ToolInfo

from alignlab.errors import ModelError
from alignlab.models.default import file_lock
from alignlab.models.engines.export import LlamaShape, export_ir, ir_dir, read_llama_shape
from alignlab.models.engines.openvino import PRECISIONS, OpenVINOEngine, Precision, SamplingParams
from alignlab.settings import Settings

__all__ = ["OpenVINOChatAPI", "exported_ir", "start_openvino"]

_DEFAULT_MAX_TOKENS = 2048  # Inspect's HF provider default, so both engines stop at the same length


_ENGINES: dict[tuple[str, str], OpenVINOEngine] = {}
_ENGINES_LOCK = threading.Lock()


def start_openvino(model_dir: Path, precision: Precision, settings: Settings) -> OpenVINOEngine:
    """The process's engine for ``model_dir`` at ``precision``, exporting the IR on first use.

    One engine per model and precision is shared by every caller in the process, so
    concurrent suites, judges and the proxy all feed one continuous batch.

    Raises:
        ModelError: the model cannot be exported (not a Llama) or the engine fails to start.
    """
    out = ir_dir(settings.cache_dir / "models" / "openvino", model_dir, PRECISIONS[precision][0])
    key = (str(out), precision)
    with _ENGINES_LOCK:
        if key in _ENGINES:
            return _ENGINES[key]
        out, shape = exported_ir(model_dir, precision, settings)
        try:
            engine = OpenVINOEngine(
                out, precision=precision, eos_token_ids=shape.eos_token_ids, max_context=shape.max_positions
            )
        except ModelError:
            raise
        except Exception as exc:  # OpenVINO raises RuntimeError with a long C++ trace
            raise ModelError(f"the OpenVINO engine failed to start: {_first_line(exc)}") from exc
        _ENGINES[key] = engine
        return engine


def exported_ir(model_dir: Path, precision: Precision, settings: Settings) -> tuple[Path, LlamaShape]:
    """The cached OpenVINO IR of ``model_dir`` for ``precision`` (exported once, under a file lock) and its shape.

    Raises:
        ModelError: the model cannot be exported (not a Llama, an unreadable config).
    """
    fmt = PRECISIONS[precision][0]
    out = ir_dir(settings.cache_dir / "models" / "openvino", model_dir, fmt)
    try:
        shape = read_llama_shape(model_dir)
    except (KeyError, ValueError, TypeError) as exc:
        raise ModelError(f"OpenVINO export: unreadable config in {model_dir}: {_first_line(exc)}") from exc
    if not (out / "openvino_model.xml").is_file():
        with file_lock(out.parent / ".export.lock"):
            print(f"Exporting {model_dir.name} to OpenVINO IR ({fmt}) in {out} — once only…", file=sys.stderr)
            try:
                export_ir(model_dir, out, fmt)
            except ModelError:
                raise
            except Exception as exc:  # a model this exporter does not understand: fall back, don't crash
                raise ModelError(f"OpenVINO export of {model_dir} failed: {_first_line(exc)}") from exc
    return out, shape


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


class OpenVINOChatAPI(ModelAPI):
    """Chat on a local model through :class:`OpenVINOEngine` (tokens from the HF tokenizer)."""

    def __init__(
        self,
        model_name: str,
        *,
        engine: OpenVINOEngine,
        model_dir: Path,
        config: GenerateConfig,
    ) -> None:
        from transformers import AutoTokenizer

        super().__init__(model_name=model_name, config=config)
        self.engine = engine
        self.tokenizer: Any = AutoTokenizer.from_pretrained(str(model_dir))
        self.metadata = {"engine": "openvino", "precision": engine.precision}
        # GenAI seeds each request (default 0: every sampled answer would be the same). Like the
        # HF provider, which seeds torch once at build, a seeded model gives a reproducible
        # sequence of different samples.
        self._rng = random.Random(config.seed)

    async def generate(
        self,
        input: list[ChatMessage],  # noqa: A002 (Inspect's ModelAPI signature)
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        """Generate one completion; a prompt longer than the context fails this sample only."""
        if tools:
            raise ModelError("tool calling is not supported by alignlab's local engines")
        ids = self.prompt_ids(input)
        params = SamplingParams(
            max_new_tokens=config.max_tokens or _DEFAULT_MAX_TOKENS,
            temperature=config.temperature,
            top_p=config.top_p,
            top_k=config.top_k,
            seed=self._rng.getrandbits(31),
        )
        completion = await asyncio.wrap_future(self.engine.submit(ids, params))
        text = self.decode(completion.token_ids)
        stop_reason: Literal["stop", "max_tokens"] = "stop" if completion.finish == "stop" else "max_tokens"
        for stop in config.stop_seqs or []:
            if stop in text:
                text, stop_reason = text[: text.index(stop)], "stop"
        n_out = len(completion.token_ids)
        return ModelOutput(
            model=self.model_name,
            choices=[
                ChatCompletionChoice(
                    message=ChatMessageAssistant(content=text, model=self.model_name, source="generate"),
                    stop_reason=stop_reason,
                )
            ],
            usage=ModelUsage(input_tokens=len(ids), output_tokens=n_out, total_tokens=len(ids) + n_out),
            metadata=dict(self.metadata),
        )

    def prompt_ids(self, messages: list[ChatMessage]) -> list[int]:
        """The prompt's token ids: the model's chat template, as transformers renders it."""
        chat = [{"role": m.role, "content": m.text} for m in messages]
        text = self.tokenizer.apply_chat_template(chat, add_generation_prompt=True, tokenize=False)
        return list(self.tokenizer(text)["input_ids"])

    def decode(self, token_ids: list[int]) -> str:
        """Text of generated ids, decoded as Inspect's Hugging Face provider decodes them."""
        return str(self.tokenizer.decode(token_ids, skip_special_tokens=True, clean_up_tokenization_spaces=False))

    def max_tokens(self) -> int | None:
        """Same default as the transformers engine."""
        return _DEFAULT_MAX_TOKENS

    def max_connections(self) -> int:
        """Requests in flight at once; the engine batches them continuously."""
        return 32

    def collapse_user_messages(self) -> bool:
        """Like Inspect's HF provider (many chat templates want alternating roles)."""
        return True
