"""Seed 3's Listing 8.3: two 0–10 human scores → one 1–9 pairwise preference.

1 means "strongly prefer answer 1", 9 "strongly prefer answer 2", 5 "equally good". The
book's listing drops the ``+ new_min`` that its Figure 8.16 formula has (and a closing
parenthesis); without it (3, 7) would give 5.6, not the 6.6 the book states, so the
formula of Figure 8.16 is what is implemented.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

from alignlab.errors import InputError

__all__ = ["PairLabel", "check_score", "label_from_score", "swap_score", "transform_score"]

PairLabel = Literal["1", "2", "tie"]
"""Which position a 1–9 pairwise score prefers."""


def check_score(value: Any, *, name: str, low: float, high: float) -> float:
    """``value`` as a float when it is a real number in ``[low, high]``.

    Booleans (``True`` is 1 to Python), strings, NaN and infinities are refused: a score
    that is not a number on the scale would otherwise be transformed into one that looks
    plausible ((11, 0) → 0.6, ``True`` → 7.4).

    Raises:
        InputError: naming ``name`` and the value as given.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{name} {value!r} is not a number (expected {low:g}–{high:g})")
    if not math.isfinite(value) or not low <= value <= high:
        raise InputError(f"{name} {value!r} is outside {low:g}–{high:g}")
    return float(value)


def transform_score(row: Mapping[str, Any], *, scale: tuple[float, float] = (0, 10)) -> float:
    """Map ``row['answer_1_score']`` and ``row['answer_2_score']`` (0–10) onto the 1–9 scale.

    >>> transform_score({"answer_1_score": 3, "answer_2_score": 7})
    6.6

    Raises:
        InputError: a score is missing, not a number, or outside ``scale`` (the message
            names the score as given, not its transformed value).
    """
    low, high = scale
    scores = []
    for key in ("answer_1_score", "answer_2_score"):
        if key not in row:
            raise InputError(f"{key} is missing")
        scores.append(check_score(row[key], name=key, low=low, high=high))
    diff = scores[1] - scores[0]
    new_min, new_max = 1, 9
    old_min, old_max = low - high, high - low
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
