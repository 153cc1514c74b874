"""Shared test helpers: mock model outputs with usage set and hand-built scored samples."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from inspect_ai.log import EvalSample
from inspect_ai.model import ChatMessage, GenerateConfig, Model, ModelOutput, ModelUsage, get_model
from inspect_ai.scorer import Score


def output(text: str) -> ModelOutput:
    # With usage set, Inspect does not estimate tokens with tiktoken (which downloads its vocabulary).
    out = ModelOutput.from_content("mockllm/model", text)
    out.usage = ModelUsage(input_tokens=10, output_tokens=10, total_tokens=20)
    return out


def scripted(outputs: list[str]) -> Model:
    return get_model("mockllm/model", custom_outputs=[output(o) for o in outputs], memoize=False)


def responder(fn: Callable[[str], str]) -> Model:
    """A mock model whose reply is ``fn(last user message)``."""

    def reply(messages: list[ChatMessage], tools: Any, tool_choice: Any, config: GenerateConfig) -> ModelOutput:
        return output(fn(messages[-1].text))

    return get_model("mockllm/model", custom_outputs=reply, memoize=False)


def scored_sample(
    i: int,
    condition: str,
    *,
    prefix: str,
    label: str,
    af_label: bool | None = None,
    af_votes: int = 0,
    harm: str | None = None,
) -> EvalSample:
    tier, _, cot = condition.partition("/")
    return EvalSample(
        id=f"r{i}:{condition}",
        epoch=1,
        input="x",
        target="",
        metadata={
            "condition": condition,
            "tier": tier,
            "cot": cot == "cot",
            "request": f"request {i}",
            "request_id": f"r{i}",
        },
        scores={
            "compliance_gap_scorer": Score(
                value=1.0 if prefix == "accepted" else 0.0,
                metadata={
                    "prefix": prefix,
                    "label": label,
                    "judge_unparsed": False,
                    "af_label": af_label,
                    "af_votes": [None] * af_votes,
                    **({"harm": harm} if harm is not None else {}),
                },
            )
        },
    )
