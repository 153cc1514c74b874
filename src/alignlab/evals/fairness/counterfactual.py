"""Counterfactual fairness for any scoring function over records (seed 3, Listing 8.2 / Table 8.1).

For every record and every protected attribute, the attribute is swapped to each other
value while everything else is held fixed, and the score is recomputed, so every record is
scored at every value. An attribute is *flagged* when any swap moves the score. Paired
tests then ask whether the values differ systematically over records: per value, the
Wilcoxon signed-rank test of score(value) − score(reference value) (exact for small n);
per attribute, the Friedman test over all values (the Wilcoxon test when there are two).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from alignlab.stats import HypothesisTest, Proportion, friedman_test, wilcoxon_signed_rank, wilson_interval

__all__ = [
    "AttributeEffect",
    "BatchScorer",
    "Counterfactual",
    "CounterfactualReport",
    "counterfactual_fairness",
]

Record = Mapping[str, Any]
ScoreFn = Callable[[Record], float]
Outcome = tuple[float | None, str | None]


@runtime_checkable
class BatchScorer(Protocol):
    """Scores many records in one call, ``(value, error)`` each (e.g. a sandboxed function)."""

    def score_batch(self, records: Sequence[Record]) -> list[Outcome]: ...


@dataclass(frozen=True)
class Counterfactual:
    """One swapped record and its score."""

    record_index: int
    attribute: str
    original_value: Any
    new_value: Any
    original_score: float | None
    score: float | None
    error: str | None = None

    @property
    def change(self) -> float | None:
        if self.score is None or self.original_score is None:
            return None
        return self.score - self.original_score


@dataclass(frozen=True)
class AttributeEffect:
    """How much swapping one protected attribute moves the score.

    Attributes:
        attribute: The protected attribute.
        n: Counterfactuals scored (errors excluded).
        errors: Counterfactuals whose scoring failed.
        mean_change: Mean signed change (counterfactual − original).
        mean_abs_change: Mean absolute change.
        max_abs_change: Largest absolute change.
        flip_rate: Counterfactuals whose outcome flipped: the decision at ``threshold`` when
            one is given, else any score change larger than ``tolerance``.
        test: Friedman test over the values (Wilcoxon signed-rank with two values), over
            records scored at every value.
        flagged: Some swap moved the score by more than ``tolerance``.
        reference: The value others are compared with (the first in ``protected``).
        by_value: Mean paired difference score(value) − score(reference) per value.
        value_tests: Wilcoxon signed-rank test of that difference per value.
    """

    attribute: str
    n: int
    errors: int
    mean_change: float
    mean_abs_change: float
    max_abs_change: float
    flip_rate: Proportion
    test: HypothesisTest
    flagged: bool
    reference: str = ""
    by_value: dict[str, float] = field(default_factory=dict)
    value_tests: dict[str, HypothesisTest] = field(default_factory=dict)


@dataclass(frozen=True)
class CounterfactualReport:
    """Scores of the original records, every counterfactual, and per-attribute effects."""

    scores: list[float | None]
    score_errors: list[str | None]
    counterfactuals: list[Counterfactual]
    effects: dict[str, AttributeEffect]

    @property
    def flagged(self) -> list[str]:
        """Protected attributes that move the score."""
        return [a for a, e in self.effects.items() if e.flagged]

    @property
    def errors(self) -> list[str]:
        """One line per record or counterfactual that could not be scored."""
        lines = [f"record {i}: {e}" for i, e in enumerate(self.score_errors) if e]
        lines += [
            f"record {c.record_index} with {c.attribute}={c.new_value!r}: {c.error}"
            for c in self.counterfactuals
            if c.error
        ]
        return lines


def _score_all(score: ScoreFn | BatchScorer, records: Sequence[Record]) -> list[Outcome]:
    if isinstance(score, BatchScorer):
        return score.score_batch(records)
    out: list[Outcome] = []
    for record in records:
        try:
            value = float(score(record))
        except Exception as exc:  # a failing record is reported, the run continues
            out.append((None, f"{type(exc).__name__}: {exc}"))
            continue
        out.append((value, None) if math.isfinite(value) else (None, f"non-finite score {value}"))
    return out


def counterfactual_fairness(
    score: ScoreFn | BatchScorer,
    records: Sequence[Record],
    protected: Mapping[str, Sequence[Any]],
    *,
    threshold: float | None = None,
    tolerance: float = 1e-9,
) -> CounterfactualReport:
    """Swap each protected attribute to each other value and measure the score change.

    Args:
        score: ``score(record) -> float``, or a :class:`BatchScorer` (all records in one call).
        records: The records (dicts); never modified.
        protected: Attribute name → the values to swap through (e.g. ``{"gender": ["Male", "Female"]}``).
        threshold: Decision threshold; with it the flip rate counts decisions (``score >= threshold``)
            that change, without it any score change.
        tolerance: Changes up to this size count as none.

    Returns:
        The report; records or counterfactuals whose scoring raised are listed in ``errors``.
    """
    plan: list[tuple[int, str, Any, Any]] = []
    for i, record in enumerate(records):
        for attr, values in protected.items():
            plan.extend((i, attr, record.get(attr), v) for v in values if v != record.get(attr))
    swapped = [{**records[i], attr: new} for i, attr, _, new in plan]
    outcomes = _score_all(score, [dict(r) for r in records] + swapped)
    originals, cf_outcomes = outcomes[: len(records)], outcomes[len(records) :]
    counterfactuals = [
        Counterfactual(i, attr, old, new, originals[i][0], value, error or (originals[i][1] and "original failed"))
        for (i, attr, old, new), (value, error) in zip(plan, cf_outcomes, strict=True)
    ]
    effects = {
        attr: _effect(
            attr,
            list(values),
            originals,
            [c for c in counterfactuals if c.attribute == attr],
            records,
            threshold,
            tolerance,
        )
        for attr, values in protected.items()
    }
    return CounterfactualReport([o[0] for o in originals], [o[1] for o in originals], counterfactuals, effects)


def _value_matrix(
    attr: str, values: list[Any], originals: list[Outcome], cfs: list[Counterfactual], records: Sequence[Record]
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Scores (records × values); rows with any missing score are dropped."""
    matrix = np.full((len(records), len(values)), np.nan)
    for i, record in enumerate(records):
        if record.get(attr) in values and originals[i][0] is not None:
            matrix[i, values.index(record.get(attr))] = originals[i][0]
    for c in cfs:
        if c.score is not None and c.new_value in values:
            matrix[c.record_index, values.index(c.new_value)] = c.score
    complete: np.ndarray[Any, np.dtype[np.float64]] = matrix[~np.isnan(matrix).any(axis=1)]
    return complete


def _effect(
    attr: str,
    values: list[Any],
    originals: list[Outcome],
    cfs: list[Counterfactual],
    records: Sequence[Record],
    threshold: float | None,
    tolerance: float,
) -> AttributeEffect:
    scored = [c for c in cfs if c.change is not None]
    changes = np.array([c.change for c in scored], dtype=float)
    if threshold is None:
        flips = int(np.sum(np.abs(changes) > tolerance))
    else:
        flips = sum((c.score >= threshold) != (c.original_score >= threshold) for c in scored)  # type: ignore[operator]
    matrix = _value_matrix(attr, values, originals, cfs, records)
    diffs = {str(v): [float(d) for d in matrix[:, j] - matrix[:, 0]] for j, v in enumerate(values) if j > 0}
    nan = float("nan")
    return AttributeEffect(
        attribute=attr,
        n=len(scored),
        errors=len(cfs) - len(scored),
        mean_change=float(changes.mean()) if len(changes) else nan,
        mean_abs_change=float(np.abs(changes).mean()) if len(changes) else nan,
        max_abs_change=float(np.abs(changes).max()) if len(changes) else nan,
        flip_rate=wilson_interval(flips, len(scored)),
        test=friedman_test(matrix),
        flagged=bool(len(changes) and np.abs(changes).max() > tolerance),
        reference=str(values[0]) if values else "",
        by_value={k: float(np.mean(v)) if v else nan for k, v in diffs.items()},
        value_tests={k: wilcoxon_signed_rank(v) for k, v in diffs.items()},
    )
