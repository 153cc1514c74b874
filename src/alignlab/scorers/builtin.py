"""The bundled scorers, by name (registered lazily by :func:`alignlab.scorers.get_scorer`)."""

from __future__ import annotations

from alignlab.scorers import ScorerFactory
from alignlab.scorers.patterns import PatternHarmScorer, PatternRefusalScorer

__all__ = ["FACTORIES"]

FACTORIES: dict[str, ScorerFactory] = {
    "refusal": PatternRefusalScorer,
    "harm": PatternHarmScorer,
    "refusal-patterns": PatternRefusalScorer,
    "harm-patterns": PatternHarmScorer,
}
