"""Paired statistics for the gate: McNemar, Newcombe's paired interval, paired bootstrap, Holm.

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

import numpy as np
from scipy import optimize
from scipy import stats as _st

__all__ = [
    "BootstrapResult",
    "McNemarResult",
    "PairedTable",
    "PairedTest",
    "ThresholdTest",
    "holm",
    "mcnemar_exact",
    "paired_bootstrap",
    "paired_difference_ci",
    "paired_proportion_test",
    "threshold_test",
]

_Z_MAX = 30.0


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
    """Exact McNemar test: under H0 each discordant pair is a regression with probability 1/2."""

    regressions: int
    improvements: int
    p_two_sided: float
    p_greater: float


def mcnemar_exact(regressions: int, improvements: int) -> McNemarResult:
    """Exact (binomial) McNemar test on the discordant pairs.

    Args:
        regressions: Samples with the event only under the candidate.
        improvements: Samples with the event only under the baseline.

    Returns:
        Two-sided p-value and the one-sided p-value for "the candidate has the event more
        often"; both are 1 when there are no discordant pairs.
    """
    m = regressions + improvements
    if m == 0:
        return McNemarResult(regressions, improvements, 1.0, 1.0)
    two = float(_st.binomtest(regressions, m, 0.5).pvalue)
    greater = float(_st.binomtest(regressions, m, 0.5, alternative="greater").pvalue)
    return McNemarResult(regressions, improvements, two, greater)


def _wilson(k: int, n: int, z: float) -> tuple[float, float]:
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


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
        p_worse = mcnemar_exact(table.candidate_only, table.baseline_only).p_greater
        method = "exact McNemar; Newcombe CI"
    return PairedTest(d, low, high, p_worse, p_within, method)


@dataclass(frozen=True)
class ThresholdTest:
    """The candidate's rate against an absolute bound (exact binomial tests)."""

    estimate: float
    low: float
    high: float
    p_worse: float
    p_within: float


def threshold_test(events: int, n: int, *, limit: float, upper: bool, alpha: float = 0.05) -> ThresholdTest:
    """Exact binomial tests of a rate against ``limit``.

    Args:
        events: Samples with the event.
        n: Samples.
        limit: The bound.
        upper: ``True`` when the rate must stay at or below ``limit`` (``max``), ``False`` for a ``min``.
        alpha: One-sided level; the Clopper-Pearson interval returned is the ``1 - 2·alpha`` one.
    """
    if n == 0:
        return ThresholdTest(float("nan"), 0.0, 1.0, 1.0, 1.0)
    above = float(_st.binomtest(events, n, limit, alternative="greater").pvalue) if limit < 1 else 1.0
    below = float(_st.binomtest(events, n, limit, alternative="less").pvalue) if limit > 0 else 1.0
    ci = _st.binomtest(events, n).proportion_ci(confidence_level=1 - 2 * alpha, method="exact")
    worse, within = (above, below) if upper else (below, above)
    return ThresholdTest(events / n, float(ci.low), float(ci.high), worse, within)


@dataclass(frozen=True)
class BootstrapResult:
    """Paired bootstrap of the mean difference ``candidate - baseline`` (positive = worse)."""

    estimate: float
    low: float
    high: float
    p_worse: float
    p_within: float
    resamples: int


def paired_bootstrap(
    baseline: Sequence[float],
    candidate: Sequence[float],
    *,
    margin: float = 0.0,
    alpha: float = 0.05,
    resamples: int = 2000,
    seed: int = 0,
) -> BootstrapResult:
    """Resample samples (pairs kept together) to get the distribution of the mean difference.

    The interval is the percentile ``1 - 2·alpha`` one; p-values are the share of bootstrap
    means on the wrong side of ``margin``, with the ``+1`` correction so none is 0.
    """
    x = np.asarray(baseline, dtype=float)
    y = np.asarray(candidate, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"paired samples differ in length: {x.shape} vs {y.shape}")
    if x.size == 0:
        return BootstrapResult(float("nan"), -1.0, 1.0, 1.0, 1.0, resamples)
    d = y - x  # (n,)
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    chunk = max(1, 2_000_000 // d.size)
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        idx = rng.integers(0, d.size, size=(stop - start, d.size))  # (chunk, n)
        means[start:stop] = d[idx].mean(axis=1)
    low, high = np.quantile(means, [alpha, 1 - alpha])
    p_worse = (1 + int(np.sum(means <= margin))) / (resamples + 1)
    p_within = (1 + int(np.sum(means >= margin))) / (resamples + 1)
    return BootstrapResult(float(d.mean()), float(low), float(high), p_worse, p_within, resamples)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (reject ``i`` when ``adjusted[i] < alpha``).

    Controls the family-wise error rate under any dependence between the tests.
    """
    m = len(p_values)
    adjusted = [1.0] * m
    running = 0.0
    for rank, i in enumerate(sorted(range(m), key=lambda j: p_values[j])):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted
