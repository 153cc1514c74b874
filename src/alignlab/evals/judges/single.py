"""A single-answer judge score (MT-Bench ``single-v1``, 1–10) usable as a ``(prompt, answer) -> float`` scorer.

Used, for example, by :func:`alignlab.evals.fairness.llm_counterfactual_fairness` to compare
a judge's grades of answers to name- or gender-swapped prompts. An unreadable reply scores
NaN and is left out of the paired tests.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import Callable

from inspect_ai.model import ChatMessage, ChatMessageSystem, ChatMessageUser, GenerateConfig, Model

from alignlab.errors import DatasetError
from alignlab.evals.judges.prompts import MT_BENCH_FILE, MT_BENCH_URL
from alignlab.settings import Settings

__all__ = ["load_single_prompt", "parse_rating", "single_answer_scorer"]

# FastChat's two patterns, in its order.
_RATING = (re.compile(r"\[\[(\d+\.?\d*)\]\]"), re.compile(r"\[(\d+\.?\d*)\]"))


def parse_rating(text: str) -> float:
    """The ``[[rating]]`` in a reply (1–10), or NaN."""
    for rx in _RATING:
        match = rx.search(text)
        if match is not None:
            value = float(match.group(1))
            return value if 1 <= value <= 10 else math.nan
    return math.nan


def load_single_prompt(settings: Settings, name: str) -> tuple[str, str]:
    """The system prompt and template of MT-Bench's single-answer judge prompt ``name``.

    Raises:
        DatasetError: The MT-Bench judge prompts are not in the data directory, or lack ``name``.
    """
    path = settings.data_dir / MT_BENCH_FILE if settings.data_dir else None
    if path is None or not path.is_file():
        raise DatasetError(f"judge prompt {name!r} is read from $ALIGNLAB_DATA_DIR/{MT_BENCH_FILE} ({MT_BENCH_URL})")
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line) if line.strip() else {}
        if row.get("name") == name:
            return str(row["system_prompt"]), str(row["prompt_template"])
    raise DatasetError(f"{path} has no prompt named {name!r}")


def single_answer_scorer(
    model: Model, settings: Settings, *, prompt: str = "single-v1", max_tokens: int = 256
) -> Callable[[str, str], float]:
    """A scorer that asks ``model`` to rate an answer 1–10 with an MT-Bench single-answer prompt."""
    system, template = load_single_prompt(settings, prompt)

    def score(question: str, answer: str) -> float:
        messages: list[ChatMessage] = [
            ChatMessageSystem(content=system),
            ChatMessageUser(content=template.format(question=question, answer=answer)),
        ]
        output = asyncio.run(model.generate(messages, config=GenerateConfig(max_tokens=max_tokens, temperature=0.0)))
        return parse_rating(output.completion)

    return score
