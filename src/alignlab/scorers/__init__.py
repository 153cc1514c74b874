"""Response scorers: one interface for every classifier that labels a model's answer.

Two scorers ship (see ``docs/scorers.md`` and their cards in ``docs/scorers/``):

* ``refusal``: ``compliance`` / ``refusal`` / ``partial_refusal`` (XSTest's definitions);
  ``score`` is P(refusal or partial_refusal).
* ``harm``: ``harmful`` / ``unharmful``, whether the answer actually gave the harmful help
  that was asked for (HarmBench's and StrongREJECT's notion, not "did not refuse");
  ``score`` is P(harmful).

Each scorer's measured error is in its card (:func:`load_card`), which the rate correction
(:mod:`alignlab.scorers.correction`) reads. Users add scorers by name with
:func:`register_scorer`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol, runtime_checkable

from alignlab.errors import UnknownNameError

__all__ = [
    "ResponseScorer",
    "ScorerFactory",
    "ScorerResult",
    "get_scorer",
    "load_card",
    "register_scorer",
    "scorer_names",
]


@dataclass(frozen=True)
class ScorerResult:
    """One scorer's verdict on one response.

    Attributes:
        label: One of the scorer's ``labels``.
        score: The probability of the scorer's positive class(es), in [0, 1]: P(refusal or
            partial_refusal) for ``refusal``, P(harmful) for ``harm``.
        reason: A short reason for logs and the explorer.
    """

    label: str
    score: float
    reason: str = ""


@runtime_checkable
class ResponseScorer(Protocol):
    """Anything that labels (prompt, response) pairs."""

    name: str
    labels: tuple[str, ...]

    def classify(self, prompts: Sequence[str], responses: Sequence[str]) -> list[ScorerResult]:
        """Label each response to the prompt at the same position."""
        ...


ScorerFactory = Callable[[], ResponseScorer]

_REGISTRY: dict[str, ScorerFactory] = {}
_INSTANCES: dict[str, ResponseScorer] = {}


def register_scorer(name: str, factory: ScorerFactory) -> None:
    """Make ``get_scorer(name)`` build a scorer with ``factory`` (called once, lazily)."""
    _REGISTRY[name] = factory
    _INSTANCES.pop(name, None)


def scorer_names() -> list[str]:
    """The registered scorer names."""
    _register_builtins()
    return sorted(_REGISTRY)


def get_scorer(name: str) -> ResponseScorer:
    """The scorer registered as ``name`` (built once per process and shared).

    Raises:
        UnknownNameError: no scorer has that name.
    """
    _register_builtins()
    if name not in _REGISTRY:
        raise UnknownNameError("scorer", name, _REGISTRY)
    if name not in _INSTANCES:
        _INSTANCES[name] = _REGISTRY[name]()
    return _INSTANCES[name]


def load_card(name: str) -> dict[str, Any]:
    """The bundled scorer card (JSON, schema in ``docs/scorers.md``) for ``name``.

    Raises:
        UnknownNameError: no card is bundled for that name.
    """
    path = resources.files("alignlab.scorers") / "cards" / f"{name}.json"
    if not path.is_file():
        cards = resources.files("alignlab.scorers") / "cards"
        names = [p.name.removesuffix(".json") for p in cards.iterdir() if p.name.endswith(".json")]
        raise UnknownNameError("scorer card", name, names)
    card: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return card


_BUILTINS_DONE = False


def _register_builtins() -> None:
    """Register the bundled scorers on first use, so importing this package stays cheap."""
    global _BUILTINS_DONE
    if _BUILTINS_DONE:
        return
    _BUILTINS_DONE = True
    from alignlab.scorers import builtin

    for name, factory in builtin.FACTORIES.items():
        _REGISTRY.setdefault(name, factory)
