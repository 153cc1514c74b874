"""The bundled scorers, by name (registered lazily by :func:`alignlab.scorers.get_scorer`)."""

from __future__ import annotations

from alignlab.scorers import ResponseScorer, ScorerFactory
from alignlab.scorers.patterns import PatternHarmScorer, PatternRefusalScorer


def _learned_refusal() -> ResponseScorer:
    from alignlab.scorers.learned import LearnedScorer

    return LearnedScorer.bundled("refusal")


def _learned_harm() -> ResponseScorer:
    from alignlab.scorers.learned import LearnedScorer

    return LearnedScorer.bundled("harm")


__all__ = ["FACTORIES"]

FACTORIES: dict[str, ScorerFactory] = {
    "refusal": _learned_refusal,
    "harm": _learned_harm,
    "refusal-patterns": PatternRefusalScorer,
    "harm-patterns": PatternHarmScorer,
}
