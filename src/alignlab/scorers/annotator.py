"""One call to an LLM used as an annotator: the refusal and harm judges share it."""

from __future__ import annotations

from inspect_ai.model import ChatMessageSystem, ChatMessageUser, GenerateConfig, Model

__all__ = ["ask_annotator"]


async def ask_annotator(judge: Model, instructions: str, *, max_tokens: int) -> str:
    """Send the filled-in judge prompt to ``judge`` greedily; return its reply text."""
    output = await judge.generate(
        [ChatMessageSystem(content="You are a careful annotator."), ChatMessageUser(content=instructions)],
        config=GenerateConfig(max_tokens=max_tokens, temperature=0.0),
    )
    return output.completion
