"""Cohen's κ against a hand computation and scikit-learn, and when it is undefined."""

from __future__ import annotations

import math

import pytest
from scipy import stats
from sklearn.metrics import cohen_kappa_score

from alignlab.stats import cohen_kappa


def test_kappa_by_hand_and_sklearn() -> None:
    a = [True, True, False, False, True, False]
    b = [True, False, False, False, True, True]
    # observed 4/6; expected 0.5*0.5 + 0.5*0.5 = 0.5 -> kappa = (2/3 - 1/2) / (1/2)
    result = cohen_kappa(a, b)
    assert result.value == pytest.approx(1 / 3)
    assert result.value == pytest.approx(cohen_kappa_score(a, b))
    assert result.low is not None and result.high is not None
    assert result.low < result.value < result.high and result.n == 6


def test_kappa_interval_is_fleiss_cohen_everitt_by_hand() -> None:
    # 2x2 table [[20, 5], [10, 15]] (n=50): po=.7, rows (.5,.5), cols (.6,.4), pe=.5, kappa=.4
    a = ["y"] * 25 + ["n"] * 25
    b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    p = {("y", "y"): 0.4, ("y", "n"): 0.1, ("n", "y"): 0.2, ("n", "n"): 0.3}
    rows, cols, k, pe = {"y": 0.5, "n": 0.5}, {"y": 0.6, "n": 0.4}, 0.4, 0.5
    diag = sum(p[c, c] * (1 - (rows[c] + cols[c]) * (1 - k)) ** 2 for c in "yn")
    off = (1 - k) ** 2 * (p["y", "n"] * (cols["y"] + rows["n"]) ** 2 + p["n", "y"] * (cols["n"] + rows["y"]) ** 2)
    se = math.sqrt((diag + off - (k - pe * (1 - k)) ** 2) / (50 * (1 - pe) ** 2))
    z = stats.norm.ppf(0.975)
    result = cohen_kappa(a, b)
    assert result.value == pytest.approx(k)
    assert (result.low, result.high) == (pytest.approx(k - z * se), pytest.approx(k + z * se))


def test_kappa_with_a_constant_rater_is_undefined_with_a_reason() -> None:
    result = cohen_kappa(["refusal"] * 4, ["refusal", "compliance", "refusal", "refusal"])
    assert result.value is None and result.low is None and not result.defined
    assert "first rater gave every item the same label ('refusal')" in result.reason
    assert str(result).startswith("κ undefined:")
    assert cohen_kappa([], []).reason == "no items rated by both raters"
    with pytest.raises(ValueError, match="as many labels"):
        cohen_kappa([1, 2], [1])


def test_kappa_counts_unused_labels() -> None:
    a, b = ["1", "2", "2", "1", "tie"], ["1", "2", "1", "1", "2"]
    result = cohen_kappa(a, b, labels=["1", "2", "tie"])
    assert result.value == pytest.approx(cohen_kappa_score(a, b, labels=["1", "2", "tie"]))
