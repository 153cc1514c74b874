"""Counterfactual fairness for any scoring function over records (seed 3, Listing 8.2 / Table 8.1).

For every record and every protected attribute, the attribute is swapped to each other
value while everything else is held fixed, and the score is recomputed. An attribute is
*flagged* when any swap moves the score; the per-record mean change gets a paired test
(Wilcoxon signed-rank, exact for small n), so "moves the score sometimes" and "moves it
systematically" are both visible.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
from scipy import stats as st

from alignlab.stats import Proportion, wilson_interval

__all__ = [
    "AttributeEffect",
    "BatchScorer",
    "Counterfactual",
    "CounterfactualReport",
    "counterfactual_fairness",
    "paired_test",
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
class PairedTest:
    """A paired test of counterfactual vs original scores."""

    statistic: float | None
    p_value: float
    method: str
    n: int


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
        test: Wilcoxon signed-rank test on per-record mean changes.
        flagged: Some swap moved the score by more than ``tolerance``.
        by_value: Mean signed change per swapped-to value.
    """

    attribute: str
    n: int
    errors: int
    mean_change: float
    mean_abs_change: float
    max_abs_change: float
    flip_rate: Proportion
    test: PairedTest
    flagged: bool
    by_value: dict[str, float] = field(default_factory=dict)


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


def paired_test(changes: Sequence[float]) -> PairedTest:
    """Wilcoxon signed-rank test that the changes are centred on zero (p = 1 when all are zero)."""
    values = [c for c in changes if c is not None]
    if not values or all(c == 0 for c in values):
        return PairedTest(None, 1.0, "wilcoxon (all changes zero)", len(values))
    result = st.wilcoxon(values, zero_method="wilcox")
    return PairedTest(float(result.statistic), float(result.pvalue), "wilcoxon signed-rank", len(values))


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
        attr: _effect(attr, [c for c in counterfactuals if c.attribute == attr], threshold, tolerance)
        for attr in protected
    }
    return CounterfactualReport([o[0] for o in originals], [o[1] for o in originals], counterfactuals, effects)


def _effect(attr: str, cfs: list[Counterfactual], threshold: float | None, tolerance: float) -> AttributeEffect:
    scored = [c for c in cfs if c.change is not None]
    changes = np.array([c.change for c in scored], dtype=float)
    if threshold is None:
        flips = int(np.sum(np.abs(changes) > tolerance))
    else:
        flips = sum((c.score >= threshold) != (c.original_score >= threshold) for c in scored)  # type: ignore[operator]
    per_record: dict[int, list[float]] = {}
    for c in scored:
        per_record.setdefault(c.record_index, []).append(c.change)  # type: ignore[arg-type]
    by_value: dict[str, list[float]] = {}
    for c in scored:
        by_value.setdefault(str(c.new_value), []).append(c.change)  # type: ignore[arg-type]
    nan = float("nan")
    return AttributeEffect(
        attribute=attr,
        n=len(scored),
        errors=len(cfs) - len(scored),
        mean_change=float(changes.mean()) if len(changes) else nan,
        mean_abs_change=float(np.abs(changes).mean()) if len(changes) else nan,
        max_abs_change=float(np.abs(changes).max()) if len(changes) else nan,
        flip_rate=wilson_interval(flips, len(scored)),
        test=paired_test([float(np.mean(v)) for v in per_record.values()]),
        flagged=bool(len(changes) and np.abs(changes).max() > tolerance),
        by_value={k: float(np.mean(v)) for k, v in sorted(by_value.items())},
    )
