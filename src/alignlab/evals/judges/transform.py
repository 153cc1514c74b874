"""Seed 3's Listing 8.3: two 0–10 human scores → one 1–9 pairwise preference.

1 means "strongly prefer answer 1", 9 "strongly prefer answer 2", 5 "equally good". The
book's listing drops the ``+ new_min`` that its Figure 8.16 formula has (and a closing
parenthesis); without it (3, 7) would give 5.6, not the 6.6 the book states, so the
formula of Figure 8.16 is what is implemented.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

__all__ = ["PairLabel", "label_from_score", "swap_score", "transform_score"]

PairLabel = Literal["1", "2", "tie"]
"""Which position a 1–9 pairwise score prefers."""


def transform_score(row: Mapping[str, float]) -> float:
    """Map ``row['answer_1_score']`` and ``row['answer_2_score']`` (0–10) onto the 1–9 scale.

    >>> transform_score({"answer_1_score": 3, "answer_2_score": 7})
    6.6
    """
    diff = row["answer_2_score"] - row["answer_1_score"]
    new_min, new_max = 1, 9
    old_min, old_max = -10, 10
    transformed_score = ((new_max - new_min) * (diff - old_min) / (old_max - old_min)) + new_min
    return transformed_score


def swap_score(score: float) -> float:
    """The same preference with the two answers' positions exchanged (1 ↔ 9, 5 stays)."""
    return 10.0 - score


def label_from_score(score: float) -> PairLabel:
    """``"1"`` below 5, ``"2"`` above 5, ``"tie"`` at exactly 5."""
    if score < 5:
        return "1"
    if score > 5:
        return "2"
    return "tie"
