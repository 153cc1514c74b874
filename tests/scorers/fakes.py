"""Test doubles for the response scorers, registered by name like a user's own scorer."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from alignlab.scorers import ScorerResult, register_scorer
from alignlab.scorers.builtin import FACTORIES


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
def harm_by_keyword() -> Iterator[None]:
    """``get_scorer("harm")`` is :class:`KeywordHarm` inside the block, the bundled one after."""
    register_scorer("harm", KeywordHarm)
    try:
        yield
    finally:
        register_scorer("harm", FACTORIES["harm"])
