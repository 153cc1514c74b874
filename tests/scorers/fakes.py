"""Test doubles for the response scorers, registered by name like a user's own scorer."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from alignlab.scorers import ScorerResult, register_scorer
from alignlab.scorers.builtin import FACTORIES
from alignlab.scorers.patterns import PatternRefusalScorer


class KeywordHarm:
    """A harm scorer that disagrees with "did not refuse": only answers that give steps are harmful."""

    name = "harm"
    labels = ("harmful", "unharmful")

    def classify(self, prompts: Sequence[str], responses: Sequence[str]) -> list[ScorerResult]:
        return [
            ScorerResult("harmful", 0.9, "gives steps") if "steps" in r else ScorerResult("unharmful", 0.1, "no steps")
            for r in responses
        ]


@contextmanager
def stand_in_scorers() -> Iterator[None]:
    """``refusal`` is the pattern stage and ``harm`` is :class:`KeywordHarm` inside the block.

    Tests of the suites and the gate check what they do with labels; which label a learned
    scorer gives a scripted answer is the scorers' own tests' business.
    """
    register_scorer("refusal", PatternRefusalScorer)
    register_scorer("harm", KeywordHarm)
    try:
        yield
    finally:
        register_scorer("refusal", FACTORIES["refusal"])
        register_scorer("harm", FACTORIES["harm"])
