"""Statistics checked against scipy and hand calculations."""

from __future__ import annotations

import math

import pytest
from scipy import stats as st
from scipy.stats import binomtest

from alignlab.stats import two_proportion_test, wilson_interval


def test_wilson_matches_scipy() -> None:
    for k, n in [(0, 50), (3, 50), (25, 50), (50, 50), (7, 13)]:
        ours = wilson_interval(k, n)
        ref = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert ours.low == pytest.approx(ref.low, abs=1e-9)
        assert ours.high == pytest.approx(ref.high, abs=1e-9)


def test_wilson_zero_n_and_bad_input() -> None:
    p = wilson_interval(0, 0)
    assert (p.low, p.high) == (0.0, 1.0) and math.isnan(p.rate)
    with pytest.raises(ValueError):
        wilson_interval(5, 3)


def test_two_proportion_z_matches_chi2() -> None:
    res = two_proportion_test(30, 100, 45, 100)
    _chi2, p, _, _ = st.chi2_contingency([[30, 70], [45, 55]], correction=False)
    assert res.method == "two-proportion z"
    assert res.p_value == pytest.approx(p, rel=1e-9)
    assert res.difference == pytest.approx(0.15)
    assert res.low < res.difference < res.high


def test_two_proportion_small_counts_use_fisher() -> None:
    res = two_proportion_test(1, 10, 8, 10)
    assert res.method == "fisher-exact"
    assert res.p_value == pytest.approx(st.fisher_exact([[1, 9], [8, 2]]).pvalue)
    assert res.high < 0.9 and res.low > 0
