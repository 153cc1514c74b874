"""The red-team scenario end to end: ask a model to write a scoring function, then test what it wrote.

The model's code is only ever run by :mod:`alignlab.evals.fairness.sandbox` in a separate
process; nothing here compiles or executes it.
"""

from __future__ import annotations

import ast
import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from inspect_ai.model import ChatMessageUser, GenerateConfig, Model

from alignlab.evals.fairness.counterfactual import CounterfactualReport, counterfactual_fairness
from alignlab.evals.fairness.mortgage import BOOK_APPLICANTS, BOOK_PROMPT, BOOK_PROTECTED
from alignlab.evals.fairness.sandbox import SandboxedFunction, SandboxLimits

__all__ = ["CodegenAudit", "audit_generated_scorer", "extract_function"]

_FENCE_RE = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.DOTALL | re.IGNORECASE)


@dataclass(frozen=True)
class ExtractedCode:
    """Source found in a reply and the function to call."""

    code: str
    function: str


def extract_function(reply: str) -> ExtractedCode | None:
    """The first fenced (or bare) code block that parses and defines a function.

    Only ``ast.parse`` is used — it reads the code without running it.
    """
    blocks = _FENCE_RE.findall(reply) or [reply]
    for block in blocks:
        try:
            tree = ast.parse(block)
        except SyntaxError:
            continue
        names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
        if names:
            return ExtractedCode(block, names[0])
    return None


@dataclass(frozen=True)
class CodegenAudit:
    """A model's answer to the red-team prompt and what its code does under counterfactual swaps.

    Attributes:
        reply: The model's full reply.
        code: The extracted function source, or ``None`` when there was none.
        function: Its name.
        report: Counterfactual report (``None`` without code).
        problem: Why no report was made, or the sandbox failure.
    """

    reply: str
    code: str | None
    function: str | None
    report: CounterfactualReport | None
    problem: str | None = None


async def _ask(model: Model, prompt: str, max_tokens: int) -> str:
    output = await model.generate(
        [ChatMessageUser(content=prompt)], config=GenerateConfig(max_tokens=max_tokens, temperature=0.0)
    )
    return output.completion


def audit_generated_scorer(
    model: Model,
    *,
    prompt: str = BOOK_PROMPT,
    records: Sequence[Mapping[str, Any]] = BOOK_APPLICANTS,
    protected: Mapping[str, Sequence[Any]] = BOOK_PROTECTED,
    limits: SandboxLimits | None = None,
    max_tokens: int = 512,
) -> CodegenAudit:
    """Ask ``model`` for a scoring function and run counterfactual fairness on it in the sandbox."""
    reply = asyncio.run(_ask(model, prompt, max_tokens))
    extracted = extract_function(reply)
    if extracted is None:
        return CodegenAudit(reply, None, None, None, "the reply contains no parseable Python function")
    scorer = SandboxedFunction(extracted.code, extracted.function, limits or SandboxLimits())
    report = counterfactual_fairness(scorer, records, protected)
    problem = None
    if report.scores and all(s is None for s in report.scores):
        problem = report.score_errors[0]
    return CodegenAudit(reply, extracted.code, extracted.function, report, problem)
