"""Proportions with confidence intervals, and tests of one or two independent rates.

Wilson score intervals rather than the normal approximation: they stay inside [0, 1]
and keep close to nominal coverage at the small n and extreme rates typical of
safety evaluations (a 0/50 harmful-compliance rate still gets an upper bound).
"""

from __future__ import annotations

from dataclasses import dataclass

from scipy import stats as _st

__all__ = [
    "Proportion",
    "ThresholdTest",
    "TwoProportionTest",
    "threshold_test",
    "two_proportion_test",
    "wilson_interval",
]


@dataclass(frozen=True)
class Proportion:
    """A rate with its Wilson confidence interval."""

    successes: int
    n: int
    low: float
    high: float
    confidence: float = 0.95

    @property
    def rate(self) -> float:
        return self.successes / self.n if self.n else float("nan")

    def __str__(self) -> str:
        if not self.n:
            return "n/a (n=0)"
        return f"{self.rate:.1%} [{self.low:.1%}, {self.high:.1%}] ({self.successes}/{self.n})"


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> Proportion:
    """Wilson score interval for a binomial proportion (scipy's ``binomtest(...).proportion_ci``).

    Args:
        successes: Number of events counted.
        n: Number of trials.
        confidence: Two-sided confidence level.

    Returns:
        The proportion with its interval; for ``n == 0`` the interval is ``[0, 1]``.
    """
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"need 0 <= successes <= n, got {successes}/{n}")
    if n == 0:
        return Proportion(0, 0, 0.0, 1.0, confidence)
    ci = _st.binomtest(successes, n).proportion_ci(confidence_level=confidence, method="wilson")
    return Proportion(successes, n, max(0.0, float(ci.low)), min(1.0, float(ci.high)), confidence)


@dataclass(frozen=True)
class TwoProportionTest:
    """Difference ``b - a`` between two independent rates, with a test."""

    a: Proportion
    b: Proportion
    difference: float
    low: float
    high: float
    p_value: float
    method: str


def two_proportion_test(
    a_successes: int, a_n: int, b_successes: int, b_n: int, confidence: float = 0.95
) -> TwoProportionTest:
    """Compare two independent proportions.

    The difference ``b - a`` gets a Newcombe (Wilson-score hybrid) interval; the p-value is
    Fisher's exact test when any expected cell count is below 5, else the pooled two-sided
    z-test (equal to the chi-square test without continuity correction).
    """
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest  # seconds to import

    a = wilson_interval(a_successes, a_n, confidence)
    b = wilson_interval(b_successes, b_n, confidence)
    diff = b.rate - a.rate
    low = high = float("nan")
    if a_n and b_n:
        low, high = (
            float(x)
            for x in confint_proportions_2indep(
                b_successes, b_n, a_successes, a_n, method="newcomb", compare="diff", alpha=1 - confidence
            )
        )
    table = [[a_successes, a_n - a_successes], [b_successes, b_n - b_successes]]
    total = a_n + b_n
    col = a_successes + b_successes
    expected_min = min(r * c / total for r in (a_n, b_n) for c in (col, total - col)) if total else 0
    if expected_min < 5:
        return TwoProportionTest(a, b, diff, low, high, float(_st.fisher_exact(table).pvalue), "fisher-exact")
    _z, p = proportions_ztest([b_successes, a_successes], [b_n, a_n])
    return TwoProportionTest(a, b, diff, low, high, float(p), "two-proportion z")


@dataclass(frozen=True)
class ThresholdTest:
    """A rate against an absolute bound (exact binomial tests)."""

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
