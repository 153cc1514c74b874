"""Paired statistics (the gate's and the suites') against scipy and published or hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from alignlab.stats import (
    PairedTable,
    friedman_test,
    holm,
    mcnemar_exact,
    mcnemar_test,
    paired_bootstrap,
    paired_difference_ci,
    paired_proportion_test,
    threshold_test,
    wilcoxon_signed_rank,
)

# Cavo et al. (2012) as analysed in Fagerland, Lydersen & Laake, "Statistical Analysis of Contingency
# Tables" (2017), ch. 8: 59 both, 6 only first, 16 only second, 80 neither. Published: estimate -0.0621,
# Newcombe square-and-add 95% CI (-0.1186, -0.0046), exact McNemar p = 0.052.
CAVO = PairedTable(both=59, candidate_only=6, baseline_only=16, neither=80)


def test_mcnemar_exact_is_binomial_on_discordant_pairs() -> None:
    result = mcnemar_exact(6, 16)
    assert result.p_value == pytest.approx(0.0525, abs=5e-4)
    assert result.p_value == pytest.approx(stats.binomtest(6, 22, 0.5).pvalue)
    assert result.p_greater == pytest.approx(stats.binomtest(6, 22, 0.5, alternative="greater").pvalue)
    # by hand: 5 regressions, 0 improvements -> P(X >= 5 | n=5, 1/2) = 1/32
    assert mcnemar_exact(5, 0).p_greater == pytest.approx(1 / 32)
    assert mcnemar_exact(0, 0).p_greater == 1.0


def test_newcombe_paired_interval_matches_published_example() -> None:
    low, high = paired_difference_ci(CAVO, 0.95)
    assert CAVO.difference == pytest.approx(-0.0621, abs=1e-4)
    assert (low, high) == (pytest.approx(-0.1186, abs=1e-4), pytest.approx(-0.0046, abs=1e-4))


def test_no_discordant_pairs_still_gives_an_interval_that_shrinks_with_n() -> None:
    small = paired_difference_ci(PairedTable(0, 0, 0, 20))
    large = paired_difference_ci(PairedTable(0, 0, 0, 500))
    assert small[0] < 0 < small[1] and large[0] < 0 < large[1]
    assert large[1] < small[1] / 3


def test_margin_p_values_invert_the_interval() -> None:
    table = PairedTable(both=10, candidate_only=20, baseline_only=5, neither=65)
    low, high = paired_difference_ci(table, 0.90)
    # Testing against the 90% interval's own ends gives one-sided p = 0.05 exactly.
    assert paired_proportion_test(table, margin=low, alpha=0.05).p_worse == pytest.approx(0.05, abs=1e-6)
    assert paired_proportion_test(table, margin=high, alpha=0.05).p_within == pytest.approx(0.05, abs=1e-6)
    at_zero = paired_proportion_test(table, margin=0.0)
    assert at_zero.p_worse == pytest.approx(stats.binomtest(20, 25, 0.5, alternative="greater").pvalue)
    assert at_zero.method.startswith("exact McNemar")


def test_threshold_test_is_exact_binomial() -> None:
    t = threshold_test(3, 20, limit=0.3, upper=True, alpha=0.05)
    assert t.p_worse == pytest.approx(stats.binomtest(3, 20, 0.3, alternative="greater").pvalue)
    assert t.p_within == pytest.approx(stats.binomtest(3, 20, 0.3, alternative="less").pvalue)
    ci = stats.binomtest(3, 20).proportion_ci(0.90, method="exact")
    assert (t.low, t.high) == (pytest.approx(ci.low), pytest.approx(ci.high))
    floor = threshold_test(3, 20, limit=0.3, upper=False)
    assert (floor.p_worse, floor.p_within) == (t.p_within, t.p_worse)


def test_holm_by_hand() -> None:
    # sorted: .005*4=.02, .01*3=.03, .03*2=.06, .04*1=.04 -> monotone .06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []


def test_paired_bootstrap_matches_a_hand_loop_and_is_seeded() -> None:
    rng = np.random.default_rng(7)
    x = rng.integers(0, 2, 200).astype(float)
    y = np.where(rng.random(200) < 0.15, 1 - x, x)
    result = paired_bootstrap(x, y, margin=0.05, alpha=0.05, resamples=500, seed=3)
    again = paired_bootstrap(x, y, margin=0.05, alpha=0.05, resamples=500, seed=3)
    assert result == again
    d = y - x
    hand = np.random.default_rng(3)
    means = d[hand.integers(0, d.size, size=(500, d.size))].mean(axis=1)
    assert result.estimate == pytest.approx(d.mean())
    assert (result.low, result.high) == (
        pytest.approx(np.quantile(means, 0.05)),
        pytest.approx(np.quantile(means, 0.95)),
    )
    assert result.p_worse == pytest.approx((1 + np.sum(means <= 0.05)) / 501)
    # and it agrees with the normal approximation of a mean at this n
    se = d.std(ddof=1) / np.sqrt(d.size)
    assert result.high - result.low == pytest.approx(2 * 1.645 * se, rel=0.15)


def test_mcnemar_test_on_outcome_sequences_by_hand() -> None:
    ref = [0, 0, 0, 0, 0, 0, 1, 1]
    other = [1, 1, 1, 1, 1, 0, 1, 0]
    # discordant: 5 only-other, 1 only-ref -> binomial(5 of 6)
    result = mcnemar_test(ref, other)
    assert result.p_value == pytest.approx(stats.binomtest(5, 6, 0.5).pvalue)
    assert (result.statistic, result.n) == (1.0, 8)
    assert mcnemar_test([1, 0], [1, 0]).p_value == 1.0
    assert mcnemar_exact(3, 1, n_pairs=10).n_pairs == 10


def test_wilcoxon_and_friedman_match_scipy() -> None:
    changes = [0.5, -0.1, 0.3, 0.8, 0.2, 0.4, -0.05]
    assert wilcoxon_signed_rank(changes).p_value == pytest.approx(stats.wilcoxon(changes).pvalue)
    assert wilcoxon_signed_rank([0.0, 0.0]).p_value == 1.0
    matrix = np.array([[1.0, 2.0, 3.0], [2.0, 3.5, 3.0], [0.5, 1.0, 2.0], [1.0, 1.5, 2.5]])
    assert friedman_test(matrix).p_value == pytest.approx(stats.friedmanchisquare(*matrix.T).pvalue)
    two = np.array([[1.0, 2.0], [2.0, 3.5], [0.5, 1.0], [1.0, 0.5], [3.0, 4.0], [2.0, 2.5]])
    assert friedman_test(two).method == "wilcoxon signed-rank"
    assert friedman_test(np.empty((0, 3))).method == "no complete records"
