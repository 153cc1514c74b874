"""Paired tests: McNemar, Newcombe's paired interval and the gate's tolerance test, Wilcoxon, Friedman.

Every comparison is of a *harm difference* ``Δ = candidate - baseline`` on the same samples,
signed so that a positive Δ is a regression, against a tolerance ``δ >= 0``
(the policy's ``max_regression``). Each check yields two one-sided p-values:

* ``p_worse``: evidence that ``Δ > δ`` (the candidate regressed beyond the tolerance);
  these are Holm-corrected across all checks, and a rejection fails the rule;
* ``p_within``: evidence that ``Δ < δ`` (the regression is provably within tolerance); a
  rejection passes the check. The gate passes only when *every* check passes, an
  intersection-union test, which needs no multiplicity correction.

Neither rejected means the data cannot tell: the verdict is *inconclusive*. The reported
interval is the two-sided ``1 - 2α`` one whose ends are the two one-sided tests (90% at
α = 0.05), the convention of equivalence testing.

For binary outcomes with ``δ = 0``, ``p_worse`` is the exact McNemar test (a binomial test
on the discordant pairs). With ``δ > 0`` the exact conditional test does not apply (the
null depends on the discordant rate), so both p-values come from inverting Newcombe's
(1998, method 10) hybrid-score interval for paired proportions, the interval reported.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize
from scipy import stats as _st

from alignlab.stats.proportions import wilson_interval

__all__ = [
    "HypothesisTest",
    "McNemarResult",
    "PairedTable",
    "PairedTest",
    "friedman_test",
    "mcnemar_exact",
    "mcnemar_test",
    "paired_difference_ci",
    "paired_proportion_test",
    "wilcoxon_signed_rank",
]

# Largest z the inversion searches: beyond ~8.2 the confidence level 1 - 2·sf(z) rounds to 1
# in double precision, so one-sided p-values bottom out near sf(8) ≈ 6e-16.
_Z_MAX = 8.0


@dataclass(frozen=True)
class PairedTable:
    """Counts of an event on the same samples under baseline and candidate.

    Attributes:
        both: Event under both.
        candidate_only: Event only under the candidate (for a harm event: a regression).
        baseline_only: Event only under the baseline (an improvement).
        neither: Event under neither.
    """

    both: int
    candidate_only: int
    baseline_only: int
    neither: int

    @property
    def n(self) -> int:
        return self.both + self.candidate_only + self.baseline_only + self.neither

    @property
    def baseline_rate(self) -> float:
        return (self.both + self.baseline_only) / self.n if self.n else float("nan")

    @property
    def candidate_rate(self) -> float:
        return (self.both + self.candidate_only) / self.n if self.n else float("nan")

    @property
    def difference(self) -> float:
        """Candidate rate minus baseline rate."""
        return (self.candidate_only - self.baseline_only) / self.n if self.n else float("nan")


@dataclass(frozen=True)
class McNemarResult:
    """Exact McNemar test: under H0 each discordant pair falls either way with probability 1/2.

    Attributes:
        first_only: Pairs with the event only under the first condition (for the gate: the candidate).
        second_only: Pairs with the event only under the second.
        p_value: Two-sided exact p-value.
        p_greater: One-sided p-value for "the event is more frequent under the first".
        n_pairs: All pairs, concordant ones included (``None`` when the caller did not say).
    """

    first_only: int
    second_only: int
    p_value: float
    p_greater: float
    n_pairs: int | None = None


def mcnemar_exact(first_only: int, second_only: int, *, n_pairs: int | None = None) -> McNemarResult:
    """Exact (binomial) McNemar test on the discordant pairs.

    Args:
        first_only: Pairs with the event only under the first condition.
        second_only: Pairs with the event only under the second.
        n_pairs: All pairs, recorded with the result.

    Returns:
        Both p-values are 1 when there are no discordant pairs.
    """
    m = first_only + second_only
    if m == 0:
        return McNemarResult(first_only, second_only, 1.0, 1.0, n_pairs)
    two = float(_st.binomtest(first_only, m, 0.5).pvalue)
    greater = float(_st.binomtest(first_only, m, 0.5, alternative="greater").pvalue)
    return McNemarResult(first_only, second_only, two, greater, n_pairs)


@dataclass(frozen=True)
class HypothesisTest:
    """The result of a significance test: its statistic (``None`` when degenerate), p-value, method, n."""

    statistic: float | None
    p_value: float
    method: str
    n: int


def mcnemar_test(first: Sequence[float], second: Sequence[float]) -> HypothesisTest:
    """McNemar's exact test for paired 0/1 outcomes given as two sequences (truthy = event)."""
    first_only = sum(1 for x, y in zip(first, second, strict=True) if x and not y)
    second_only = sum(1 for x, y in zip(first, second, strict=True) if y and not x)
    result = mcnemar_exact(first_only, second_only, n_pairs=len(first))
    return HypothesisTest(float(min(first_only, second_only)), result.p_value, "mcnemar exact", len(first))


def wilcoxon_signed_rank(changes: Sequence[float | None]) -> HypothesisTest:
    """Wilcoxon signed-rank test that paired changes are centred on zero (p = 1 when all are zero)."""
    values = [c for c in changes if c is not None]
    if not values or all(c == 0 for c in values):
        return HypothesisTest(None, 1.0, "wilcoxon (all changes zero)", len(values))
    result = _st.wilcoxon(values, zero_method="wilcox")
    return HypothesisTest(float(result.statistic), float(result.pvalue), "wilcoxon signed-rank", len(values))


def friedman_test(matrix: np.ndarray[Any, np.dtype[np.float64]]) -> HypothesisTest:
    """Friedman test over the columns of ``matrix`` (rows: blocks); Wilcoxon with two columns."""
    rows = int(matrix.shape[0])
    if rows == 0:
        return HypothesisTest(None, 1.0, "no complete records", 0)
    if matrix.shape[1] == 2:
        return wilcoxon_signed_rank(list(matrix[:, 1] - matrix[:, 0]))
    if rows < 2 or np.all(matrix == matrix[:, :1]):
        return HypothesisTest(None, 1.0, "friedman (no differences)", rows)
    res = _st.friedmanchisquare(*matrix.T)
    return HypothesisTest(float(res.statistic), float(res.pvalue), "friedman", rows)


def _wilson(k: int, n: int, z: float) -> tuple[float, float]:
    p = wilson_interval(k, n, 1 - 2 * float(_st.norm.sf(z)))
    return p.low, p.high


def _phi(t: PairedTable) -> float:
    # Newcombe's correlation of the two marginal rates, continuity-corrected towards 0 when positive.
    c1, c2 = t.both + t.candidate_only, t.baseline_only + t.neither
    b1, b2 = t.both + t.baseline_only, t.candidate_only + t.neither
    if 0 in (c1, c2, b1, b2):
        return 0.0
    a = float(t.both * t.neither - t.candidate_only * t.baseline_only)
    if a > t.n / 2:
        a -= t.n / 2
    elif a >= 0:
        a = 0.0
    return a / math.sqrt(c1 * c2 * b1 * b2)


def _newcombe(t: PairedTable, z: float) -> tuple[float, float]:
    p1, p2 = t.candidate_rate, t.baseline_rate
    l1, u1 = _wilson(t.both + t.candidate_only, t.n, z)
    l2, u2 = _wilson(t.both + t.baseline_only, t.n, z)
    phi = _phi(t)
    low = t.difference - math.sqrt(max(0.0, (p1 - l1) ** 2 + (u2 - p2) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2)))
    high = t.difference + math.sqrt(max(0.0, (p2 - l2) ** 2 + (u1 - p1) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1)))
    return low, high


def paired_difference_ci(table: PairedTable, confidence: float = 0.95) -> tuple[float, float]:
    """Newcombe's (1998, method 10) hybrid-score interval for ``candidate rate - baseline rate``.

    Unlike the conditional exact interval it accounts for the number of samples, so a run
    with no discordant pairs still gets an interval wider than ``[0, 0]``.
    """
    if table.n == 0:
        return -1.0, 1.0
    return _newcombe(table, float(_st.norm.ppf(1 - (1 - confidence) / 2)))


def _invert(bound: Callable[[float], float], target: float, *, decreasing: bool) -> float:
    """The one-sided p-value at which ``bound(z)`` (a CI end at z) reaches ``target``."""

    def gap(z: float) -> float:
        return bound(z) - target if decreasing else target - bound(z)

    if gap(0.0) <= 0:
        return 0.5 if gap(0.0) == 0 else float("nan")
    if gap(_Z_MAX) > 0:
        return float(_st.norm.sf(_Z_MAX))
    return float(_st.norm.sf(optimize.brentq(gap, 0.0, _Z_MAX, xtol=1e-10)))


@dataclass(frozen=True)
class PairedTest:
    """A paired comparison of a harm rate against a tolerance."""

    estimate: float
    low: float
    high: float
    p_worse: float
    p_within: float
    method: str


def paired_proportion_test(table: PairedTable, *, margin: float = 0.0, alpha: float = 0.05) -> PairedTest:
    """Compare ``candidate - baseline`` (positive = regression) with the tolerance ``margin``.

    Args:
        table: The paired counts of the unwanted event.
        margin: Largest tolerated regression ``δ >= 0``.
        alpha: One-sided level; the interval returned is the two-sided ``1 - 2·alpha`` one.
    """
    if table.n == 0:
        return PairedTest(float("nan"), -1.0, 1.0, 1.0, 1.0, "no samples")
    low, high = paired_difference_ci(table, 1 - 2 * alpha)
    d = table.difference
    # p_worse for H0 Δ <= δ, p_within for H0 Δ >= δ; the one whose estimate lies on the
    # far side of δ is inverted from the interval end, the other is its complement.
    if d > margin:
        p_worse = _invert(lambda z: _newcombe(table, z)[0], margin, decreasing=True)
        p_within = 1 - p_worse
    elif d < margin:
        p_within = _invert(lambda z: _newcombe(table, z)[1], margin, decreasing=False)
        p_worse = 1 - p_within
    else:
        p_worse = p_within = 0.5
    method = "Newcombe hybrid score"
    if margin == 0:
        p_worse = mcnemar_exact(table.candidate_only, table.baseline_only, n_pairs=table.n).p_greater
        method = "exact McNemar; Newcombe CI"
    return PairedTest(d, low, high, p_worse, p_within, method)
