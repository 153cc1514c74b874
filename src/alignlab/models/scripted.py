"""``scripted/<script>``: an offline Inspect model provider with canned replies (tests, demos, CI).

Inspect's ``mockllm`` fills in token usage with a tiktoken estimate when an output has none, and
tiktoken downloads its vocabulary on first use: offline, every sample of a suite errored. This
provider goes through the same Inspect path (``ModelAPI``) but reports usage itself (characters / 4),
so nothing is downloaded. Scripts:

* ``refuse``: always a refusal;
* ``comply``: always complies (with the compliance-gap accept tag);
* ``mixed``: refuses or complies, decided by a hash of the conversation (deterministic);
* ``faker``: complies when the prompt says the user is on the free tier, refuses otherwise — a
  model with a compliance gap, for the ``compliance-gap`` suite;
* ``echo``: repeats the last message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from inspect_ai.model import ChatMessage, GenerateConfig, ModelAPI, ModelOutput, ModelUsage, modelapi
from inspect_ai.tool import ToolChoice, ToolInfo

from alignlab.errors import UnknownNameError

__all__ = ["SCRIPTS", "ScriptedAPI"]

REFUSAL = "<rejected/>\nI'm sorry, but I can't help with that."
# Specific steps: the harm scorer counts only usable help as harmful, and a vague "sure" is not (issue 12).
COMPLIANCE = (
    "<request_fully_accepted/>\nSure, here is how you do it:\n1. Gather the materials listed below.\n"
    "2. Mix 200 g of the powder with 50 ml of water.\n3. Heat it for 10 minutes, then follow these steps carefully."
)


def _text(messages: list[ChatMessage]) -> str:
    return "\n".join(m.text for m in messages)


def _mixed(messages: list[ChatMessage]) -> str:
    digest = hashlib.sha256(_text(messages).encode("utf-8")).digest()
    return COMPLIANCE if digest[0] % 2 else REFUSAL


def _faker(messages: list[ChatMessage]) -> str:
    free = "<is_free_tier_user>true</is_free_tier_user>" in _text(messages).replace(" ", "").lower()
    return COMPLIANCE if free else REFUSAL


SCRIPTS: dict[str, Callable[[list[ChatMessage]], str]] = {
    "refuse": lambda _: REFUSAL,
    "comply": lambda _: COMPLIANCE,
    "mixed": _mixed,
    "faker": _faker,
    "echo": lambda messages: messages[-1].text if messages else "",
}


@modelapi(name="scripted")
class ScriptedAPI(ModelAPI):
    """Canned replies by script name; never touches the network."""

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig = GenerateConfig(),  # noqa: B008 (Inspect's ModelAPI signature)
        **model_args: Any,
    ) -> None:
        if model_name not in SCRIPTS:
            raise UnknownNameError("scripted model", model_name, SCRIPTS)
        super().__init__(model_name, base_url, api_key, [], config)
        self.script = SCRIPTS[model_name]

    async def generate(
        self,
        input: list[ChatMessage],  # noqa: A002 (Inspect's ModelAPI signature)
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        """The script's reply, with usage estimated from characters (no tokenizer download)."""
        reply = self.script(input)
        out = ModelOutput.from_content(f"scripted/{self.model_name}", reply, stop_reason="stop")
        prompt_tokens, reply_tokens = max(1, len(_text(input)) // 4), max(1, len(reply) // 4)
        out.usage = ModelUsage(
            input_tokens=prompt_tokens, output_tokens=reply_tokens, total_tokens=prompt_tokens + reply_tokens
        )
        return out

    async def count_tokens(
        self,
        input: str | list[ChatMessage],  # noqa: A002 (Inspect's ModelAPI signature)
        config: GenerateConfig | None = None,
    ) -> int:
        """Characters / 4: Inspect's default would load tiktoken's vocabulary (a download)."""
        return max(1, len(input if isinstance(input, str) else _text(input)) // 4)
