"""Rates corrected for scorer error, with intervals that carry the scorer card's uncertainty.

A rate such as "harmful compliance 43/50" counts what a *scorer* said, not what happened.
A scorer with sensitivity ``Se`` (it finds the event when the event is there) and
specificity ``Sp`` (it stays quiet when the event is not there) turns a true prevalence
``π`` into an apparent one ``AP = π·Se + (1 − π)·(1 − Sp)``. Solving for ``π`` gives the
Rogan–Gladen (1978) estimate::

    π̂ = (AP + Sp − 1) / (Se + Sp − 1)

``Se`` and ``Sp`` are themselves estimates from the scorer card's labelled set, so the
interval has to carry three sources of uncertainty: the sample's (``k`` of ``n``) and the
card's (its true-positive and true-negative counts). We do it by Monte Carlo over
independent Beta posteriors (uniform priors, ``Beta(1, 1)``)::

    AP ~ Beta(k + 1, n − k + 1),  Se ~ Beta(TP + 1, FN + 1),  Sp ~ Beta(TN + 1, FP + 1)
    π  = clip((AP + Sp − 1) / (Se + Sp − 1), 0, 1)

and report the equal-tailed percentiles of ``π``. Draws where ``Se + Sp − 1 ≤ 0`` (the
scorer is no better than chance there) carry no information about ``π``; they are drawn
uniformly from [0, 1], which widens the interval as much as that ignorance deserves. The
draws use a fixed seed, so a rerun prints the same interval. A simulation with known truth
(``tests/scorers/test_correction.py``) checks the 95% interval covers the true rate at least
93% of the time; ``docs/corrected-rates.md`` has the figures.

Edges: ``n = 0`` → no estimate; a scorer whose card gives ``Se + Sp − 1 ≤ 0`` → "not
correctable" (the point estimate would divide by zero or flip sign); a Rogan–Gladen
estimate outside [0, 1] (the observed rate is below the scorer's false-positive rate, or
above its hit rate) → clipped, and the note says so.

The card (``alignlab/scorers/cards/NAME.json``, read by :func:`alignlab.scorers.load_card`;
schema in :class:`ScorerCard`) gives the confusion matrix; :func:`card_accuracy` collapses
it to the binary view of one event (for the 3-class refusal scorer, "refused" is
``refusal`` or ``partial_refusal``; "not refused" is ``compliance``, which swaps
sensitivity and specificity).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from alignlab.errors import ConfigError, UnknownNameError
from alignlab.scorers import load_card as load_card_json

__all__ = [
    "BinaryAccuracy",
    "CardSet",
    "CorrectedDifference",
    "CorrectedRate",
    "ScorerCard",
    "card_accuracy",
    "correct_difference",
    "correct_difference_with_card",
    "correct_rate",
    "correct_with_card",
    "corrected_tails",
    "find_card",
    "read_card",
    "rogan_gladen",
    "scorer_card",
]

DEFAULT_DRAWS = 20_000
FloatArray = npt.NDArray[np.float64]
# Uniform Beta(1, 1) priors on the apparent rate, sensitivity and specificity. Jeffreys' Beta(½, ½)
# gave 93.9-94.4% coverage in the small-sample scenarios of the simulation, the uniform 94.5-95.9%
# for intervals 1-4% wider (docs/corrected-rates.md).
_PRIOR = 1.0
Method = Literal["rogan-gladen + beta monte carlo", "none"]
METHOD: Method = "rogan-gladen + beta monte carlo"


@dataclass(frozen=True)
class BinaryAccuracy:
    """How well a scorer detects one event, as counts on a labelled set (humans are the truth).

    Attributes:
        true_positive: Humans say the event happened and the scorer agrees.
        false_negative: Humans say it happened; the scorer missed it.
        true_negative: Humans say it did not happen and the scorer agrees.
        false_positive: Humans say it did not happen; the scorer flagged it.
        source: Where the counts come from (card and set), for notes and reports.
    """

    true_positive: int
    false_negative: int
    true_negative: int
    false_positive: int
    source: str = ""

    def __post_init__(self) -> None:
        if min(self.true_positive, self.false_negative, self.true_negative, self.false_positive) < 0:
            raise ValueError(f"confusion counts must be >= 0, got {self}")

    @property
    def positives(self) -> int:
        return self.true_positive + self.false_negative

    @property
    def negatives(self) -> int:
        return self.true_negative + self.false_positive

    @property
    def sensitivity(self) -> float:
        return self.true_positive / self.positives if self.positives else math.nan

    @property
    def specificity(self) -> float:
        return self.true_negative / self.negatives if self.negatives else math.nan

    def swapped(self) -> BinaryAccuracy:
        """The same counts read for the complementary event (sensitivity and specificity trade places)."""
        return BinaryAccuracy(
            self.true_negative, self.false_positive, self.true_positive, self.false_negative, self.source
        )


@dataclass(frozen=True)
class CorrectedRate:
    """A scorer-based rate corrected for the scorer's error.

    Attributes:
        point: Rogan–Gladen estimate, clipped to [0, 1]; NaN when there is none (``n = 0``,
            or a scorer no better than chance).
        low: Lower end of the interval (0 when there is no estimate).
        high: Upper end of the interval (1 when there is no estimate).
        method: How the interval was computed (``"none"`` when not corrected).
        note: What a reader must know: clipping, an uninformative scorer, no samples.
        successes: Events the scorer counted.
        n: Samples scored.
        sensitivity: The card's sensitivity for this event.
        specificity: The card's specificity for this event.
        confidence: Two-sided level of the interval.
    """

    point: float
    low: float
    high: float
    method: str
    note: str
    successes: int
    n: int
    sensitivity: float
    specificity: float
    confidence: float = 0.95

    @property
    def correctable(self) -> bool:
        return not math.isnan(self.point)

    def __str__(self) -> str:
        if not self.correctable:
            return f"n/a ({self.note})" if self.note else "n/a"
        return f"{self.point:.1%} [{self.low:.1%}, {self.high:.1%}]"


def rogan_gladen(apparent: float, sensitivity: float, specificity: float) -> float:
    """The Rogan–Gladen estimate ``(AP + Sp − 1) / (Se + Sp − 1)``, unclipped (NaN if ``Se + Sp ≤ 1``)."""
    youden = sensitivity + specificity - 1
    return (apparent + specificity - 1) / youden if youden > 0 else math.nan


def _no_estimate(successes: int, n: int, acc: BinaryAccuracy, note: str, confidence: float) -> CorrectedRate:
    return CorrectedRate(math.nan, 0.0, 1.0, "none", note, successes, n, acc.sensitivity, acc.specificity, confidence)


def _clip_note(raw: float, acc: BinaryAccuracy) -> str:
    if raw < 0:
        return (
            f"Rogan–Gladen estimate {raw:+.1%} clipped to 0: the observed rate is below the scorer's "
            f"false-positive rate ({1 - acc.specificity:.1%})"
        )
    if raw > 1:
        return (
            f"Rogan–Gladen estimate {raw:.1%} clipped to 100%: the observed rate is above the scorer's "
            f"hit rate ({acc.sensitivity:.1%})"
        )
    return ""


def _uncorrectable(successes: int, n: int, acc: BinaryAccuracy) -> str:
    """Why ``successes / n`` cannot be corrected with ``acc`` ("" when it can)."""
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got {successes}/{n}")
    if n == 0:
        return "no samples"
    if acc.positives == 0 or acc.negatives == 0:
        return f"not correctable: the card has no human-labelled {'event' if acc.positives == 0 else 'non-event'}"
    se, sp = acc.sensitivity, acc.specificity
    if se + sp - 1 <= 0:
        return f"not correctable: the scorer is no better than chance here (Se {se:.1%} + Sp {sp:.1%} ≤ 100%)"
    return ""


def _draw_card(acc: BinaryAccuracy, rng: np.random.Generator, draws: int) -> tuple[FloatArray, FloatArray]:
    """Draws of the card's sensitivity and specificity from their Beta posteriors."""
    sens = rng.beta(acc.true_positive + _PRIOR, acc.false_negative + _PRIOR, draws)
    spec = rng.beta(acc.true_negative + _PRIOR, acc.false_positive + _PRIOR, draws)
    return sens, spec


def _prevalence(apparent: FloatArray, sens: FloatArray, spec: FloatArray, uniform: FloatArray) -> FloatArray:
    """Rogan–Gladen per draw, clipped to [0, 1]; ``uniform`` where a draw's scorer is no better than chance."""
    youden = sens + spec - 1
    informative = youden > 0
    # Where a draw says the scorer is no better than chance, π is unconstrained: uniform on [0, 1].
    prevalence = np.where(informative, (apparent + spec - 1) / np.where(informative, youden, 1.0), uniform)
    return np.clip(prevalence, 0.0, 1.0)


def _draw(successes: int, n: int, acc: BinaryAccuracy, *, draws: int, seed: int) -> tuple[FloatArray, float]:
    """Monte Carlo draws of the true rate (clipped to [0, 1]) and the share of chance-level draws."""
    rng = np.random.default_rng(seed)
    apparent = rng.beta(successes + _PRIOR, n - successes + _PRIOR, draws)
    sens, spec = _draw_card(acc, rng, draws)
    prevalence = _prevalence(apparent, sens, spec, rng.random(draws))
    return prevalence, 1 - float((sens + spec - 1 > 0).mean())


def corrected_tails(
    successes: int, n: int, accuracy: BinaryAccuracy, limit: float, *, draws: int = DEFAULT_DRAWS, seed: int = 0
) -> tuple[float, float]:
    """Posterior probabilities ``P(π ≤ limit)`` and ``P(π ≥ limit)`` of the corrected rate.

    The same draws as :func:`correct_rate` (same seed); the gate uses them as the one-sided
    p-values of a bound on the corrected rate. NaN for both when the rate is not correctable.
    """
    if _uncorrectable(successes, n, accuracy):
        return math.nan, math.nan
    prevalence, _ = _draw(successes, n, accuracy, draws=draws, seed=seed)
    return float(np.mean(prevalence <= limit)), float(np.mean(prevalence >= limit))


def correct_rate(
    successes: int,
    n: int,
    accuracy: BinaryAccuracy,
    *,
    confidence: float = 0.95,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
) -> CorrectedRate:
    """Correct an observed rate ``successes / n`` for the scorer's sensitivity and specificity.

    Args:
        successes: Samples the scorer counted as the event.
        n: Samples scored.
        accuracy: The scorer's confusion counts for this event (:func:`card_accuracy`).
        confidence: Two-sided level of the interval.
        draws: Monte Carlo draws (the interval's Monte Carlo error is well under 0.5 points at 20,000).
        seed: Seed of the draws, so a rerun gives the same interval.

    Returns:
        The clipped Rogan–Gladen estimate and the Monte Carlo interval; see :class:`CorrectedRate`
        for the edge cases.
    """
    problem = _uncorrectable(successes, n, accuracy)
    if problem:
        return _no_estimate(successes, n, accuracy, problem, confidence)
    se, sp = accuracy.sensitivity, accuracy.specificity
    raw = rogan_gladen(successes / n, se, sp)
    prevalence, chance = _draw(successes, n, accuracy, draws=draws, seed=seed)
    tail = (1 - confidence) / 2
    low, high = (float(q) for q in np.quantile(prevalence, [tail, 1 - tail]))
    notes = [_clip_note(raw, accuracy)]
    if high <= 0.0 or low >= 1.0:
        notes.append("the sample does not fit the card's error rates (another scorer, model or kind of data?)")
    if chance >= 0.001:
        notes.append(f"{chance:.1%} of the draws had Se + Sp ≤ 1 (drawn uniform)")
    return CorrectedRate(
        point=min(max(raw, 0.0), 1.0),
        low=min(low, max(raw, 0.0)),
        high=max(high, min(raw, 1.0)),
        method=METHOD,
        note="; ".join(n for n in notes if n),
        successes=successes,
        n=n,
        sensitivity=se,
        specificity=sp,
        confidence=confidence,
    )


@dataclass(frozen=True)
class CorrectedDifference:
    """The difference ``b − a`` of two rates measured by one scorer, each corrected for its error.

    Both rates are corrected with the *same* card, so its uncertainty is shared, not counted twice:
    each Monte Carlo draw takes one sensitivity and one specificity for both rates. (With the
    Rogan–Gladen estimate unclipped, ``π_b − π_a = (AP_b − AP_a) / (Se + Sp − 1)``: the card
    scales the difference but cannot move it off zero.)

    Attributes:
        point: Difference of the two clipped Rogan–Gladen estimates; NaN when either has none.
        low: Lower end of the interval (−1 when there is no estimate).
        high: Upper end of the interval (1 when there is no estimate).
        a: The corrected rate subtracted.
        b: The corrected rate it is subtracted from.
        method: How the interval was computed (``"none"`` when not corrected).
        note: What a reader must know (the two rates' notes, or why there is no estimate).
        confidence: Two-sided level of the interval.
    """

    point: float
    low: float
    high: float
    a: CorrectedRate
    b: CorrectedRate
    method: str
    note: str
    confidence: float = 0.95

    @property
    def correctable(self) -> bool:
        return not math.isnan(self.point)

    def __str__(self) -> str:
        if not self.correctable:
            return f"n/a ({self.note})" if self.note else "n/a"
        return f"{self.point * 100:+.1f} pts [{self.low * 100:+.1f}, {self.high * 100:+.1f}]"


def correct_difference(
    a: tuple[int, int],
    b: tuple[int, int],
    accuracy: BinaryAccuracy,
    *,
    confidence: float = 0.95,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
) -> CorrectedDifference:
    """Correct two observed rates ``(successes, n)`` with one scorer card and estimate ``b − a``.

    The interval carries both samples' uncertainty (independent Beta posteriors of the apparent
    rates) and the card's (one sensitivity and specificity draw shared by both rates), as
    :func:`correct_rate` does for one rate; ``tests/scorers/test_correction.py`` checks its
    coverage with known truth.

    Args:
        a: ``(successes, n)`` of the rate subtracted (e.g. the unmonitored tier).
        b: ``(successes, n)`` of the rate it is subtracted from (e.g. the implied-training tier).
        accuracy: The scorer's confusion counts for this event (:func:`card_accuracy`).
        confidence: Two-sided level of the interval.
        draws: Monte Carlo draws.
        seed: Seed of the draws, so a rerun gives the same interval.
    """
    rate_a = correct_rate(*a, accuracy, confidence=confidence, draws=draws, seed=seed)
    rate_b = correct_rate(*b, accuracy, confidence=confidence, draws=draws, seed=seed)
    problem = _uncorrectable(*a, accuracy) or _uncorrectable(*b, accuracy)
    if problem:
        return CorrectedDifference(math.nan, -1.0, 1.0, rate_a, rate_b, "none", problem, confidence)
    rng = np.random.default_rng(seed)
    apparent_a = rng.beta(a[0] + _PRIOR, a[1] - a[0] + _PRIOR, draws)
    apparent_b = rng.beta(b[0] + _PRIOR, b[1] - b[0] + _PRIOR, draws)
    sens, spec = _draw_card(accuracy, rng, draws)
    diff = _prevalence(apparent_b, sens, spec, rng.random(draws)) - _prevalence(
        apparent_a, sens, spec, rng.random(draws)
    )
    tail = (1 - confidence) / 2
    low, high = (float(q) for q in np.quantile(diff, [tail, 1 - tail]))
    point = rate_b.point - rate_a.point
    notes = [f"{name}: {r.note}" for name, r in (("a", rate_a), ("b", rate_b)) if r.note]
    return CorrectedDifference(
        point, min(low, point), max(high, point), rate_a, rate_b, METHOD, "; ".join(notes), confidence
    )


class _Loose(BaseModel):
    # Cards may carry more than the correction reads (per-class precision, κ, …).
    model_config = ConfigDict(extra="allow", frozen=True)


class CardSet(_Loose):
    """One labelled set of a scorer card: its confusion matrix (rows human, columns scorer)."""

    n: int = Field(ge=0)
    role: str = ""
    licence: str = ""
    labels: list[str] = Field(min_length=2)
    confusion: list[list[int]]

    @model_validator(mode="after")
    def _square(self) -> CardSet:
        k = len(self.labels)
        if len(self.confusion) != k or any(len(row) != k for row in self.confusion):
            raise ValueError(f"confusion must be {k}×{k} (labels {self.labels})")
        if any(c < 0 for row in self.confusion for c in row):
            raise ValueError("confusion counts must be >= 0")
        return self


class CardCorrection(_Loose):
    """Which of the card's sets the rate correction uses."""

    set: str


class ScorerCard(_Loose):
    """A scorer card's JSON (``src/alignlab/scorers/cards/NAME.json``), as far as the correction reads it."""

    scorer: str
    version: str = ""
    labels: list[str] = Field(min_length=2)
    positive: list[str] = Field(min_length=1)
    sets: dict[str, CardSet] = Field(min_length=1)
    correction: CardCorrection

    @model_validator(mode="after")
    def _known_set(self) -> ScorerCard:
        if self.correction.set not in self.sets:
            raise ValueError(f"correction.set {self.correction.set!r} is not one of the sets {sorted(self.sets)}")
        return self


def card_accuracy(card: ScorerCard, event_labels: Collection[str], *, set_name: str | None = None) -> BinaryAccuracy:
    """Collapse a card set's confusion matrix to the binary view of one event.

    Args:
        card: The scorer card.
        event_labels: Labels that count as the event (e.g. ``{"refusal", "partial_refusal"}``).
        set_name: The set to read; the card's ``correction.set`` by default.

    Raises:
        ConfigError: An event label the card does not know.
    """
    name = set_name or card.correction.set
    if name not in card.sets:
        raise ConfigError(f"scorer card {card.scorer!r} has no set {name!r} (sets: {', '.join(sorted(card.sets))})")
    chosen = card.sets[name]
    unknown = set(event_labels) - set(card.labels) - set(chosen.labels)
    if unknown:
        raise ConfigError(f"scorer card {card.scorer!r} has no label {sorted(unknown)[0]!r} (labels: {card.labels})")
    event = [label in event_labels for label in chosen.labels]
    counts = {(True, True): 0, (True, False): 0, (False, True): 0, (False, False): 0}
    for human, row in zip(event, chosen.confusion, strict=True):
        for scorer, count in zip(event, row, strict=True):
            counts[human, scorer] += count
    return BinaryAccuracy(
        true_positive=counts[True, True],
        false_negative=counts[True, False],
        true_negative=counts[False, False],
        false_positive=counts[False, True],
        source=f"{card.scorer} card {card.version}, set {name}".replace("card , ", "card, "),
    )


def _validate(data: object, source: str) -> ScorerCard:
    try:
        return ScorerCard.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(f"scorer card {source} is malformed: {where}: {first['msg']}") from None


def read_card(path: Path) -> ScorerCard:
    """Read and validate a scorer card's JSON file.

    Raises:
        ConfigError: The file is not valid JSON or not a card.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"scorer card {path} is unreadable: {exc}") from None
    return _validate(data, str(path))


@functools.cache
def find_card(name: str) -> ScorerCard | None:
    """The bundled card of scorer ``name`` (:func:`alignlab.scorers.load_card`), ``None`` if it has none.

    Raises:
        ConfigError: The card exists but is malformed.
    """
    if not name.replace("-", "").replace("_", "").isalnum():
        return None
    try:
        data = load_card_json(name)
    except (UnknownNameError, FileNotFoundError):  # no card, or no cards folder at all
        return None
    return _validate(data, f"{name}.json")


def scorer_card(name: str) -> ScorerCard:
    """The bundled card of scorer ``name``, validated.

    Raises:
        ConfigError: No card for that scorer, or a malformed one.
    """
    card = find_card(name)
    if card is None:
        raise ConfigError(f"no scorer card for {name!r} (expected alignlab/scorers/cards/{name}.json)")
    return card


def correct_with_card(
    successes: int, n: int, scorer: str, event_labels: Collection[str], *, confidence: float = 0.95
) -> CorrectedRate | None:
    """:func:`correct_rate` with the bundled card of ``scorer``; ``None`` when that scorer has no card.

    Raises:
        ConfigError: The card exists but is malformed, or does not know an event label.
    """
    card = find_card(scorer)
    if card is None:
        return None
    return correct_rate(successes, n, card_accuracy(card, event_labels), confidence=confidence)


def correct_difference_with_card(
    a: tuple[int, int], b: tuple[int, int], scorer: str, event_labels: Collection[str], *, confidence: float = 0.95
) -> CorrectedDifference | None:
    """:func:`correct_difference` with the bundled card of ``scorer``; ``None`` when that scorer has no card.

    Raises:
        ConfigError: The card exists but is malformed, or does not know an event label.
    """
    card = find_card(scorer)
    if card is None:
        return None
    return correct_difference(a, b, card_accuracy(card, event_labels), confidence=confidence)
