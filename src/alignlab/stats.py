"""Statistics shared by every suite: proportions with confidence intervals and tests.

Wilson score intervals rather than the normal approximation: they stay inside [0, 1]
and keep close to nominal coverage at the small n and extreme rates typical of
safety evaluations (a 0/50 harmful-compliance rate still gets an upper bound).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats as _st

__all__ = ["Proportion", "TwoProportionTest", "two_proportion_test", "wilson_interval"]


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
    """Wilson score interval for a binomial proportion.

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
    z = float(_st.norm.ppf(1 - (1 - confidence) / 2))
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Proportion(successes, n, max(0.0, centre - half), min(1.0, centre + half), confidence)


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
    a = wilson_interval(a_successes, a_n, confidence)
    b = wilson_interval(b_successes, b_n, confidence)
    diff = b.rate - a.rate
    low = diff - math.sqrt((b.rate - b.low) ** 2 + (a.high - a.rate) ** 2)
    high = diff + math.sqrt((b.high - b.rate) ** 2 + (a.rate - a.low) ** 2)
    table = [[a_successes, a_n - a_successes], [b_successes, b_n - b_successes]]
    total = a_n + b_n
    col = a_successes + b_successes
    expected_min = min(r * c / total for r in (a_n, b_n) for c in (col, total - col)) if total else 0
    if expected_min < 5:
        p = float(_st.fisher_exact(table).pvalue)
        method = "fisher-exact"
    else:
        pooled = col / total
        se = math.sqrt(pooled * (1 - pooled) * (1 / a_n + 1 / b_n))
        z = diff / se if se > 0 else 0.0
        p = float(2 * _st.norm.sf(abs(z)))
        method = "two-proportion z"
    return TwoProportionTest(a, b, diff, low, high, p, method)
