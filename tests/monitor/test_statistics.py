"""The monitor's statistics: CUSUM, MMD permutation test, rolling rates — checked by hand and by simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from alignlab.monitor import BernoulliCusum, RollingRate, mmd_permutation_test
from alignlab.monitor.rates import is_flagged
from alignlab.monitor.sequential import CusumAlarm


def test_cusum_matches_hand_computation() -> None:
    cusum = BernoulliCusum(0.1, 0.3, h=5.0)
    up, down = math.log(3.0), math.log(0.7 / 0.9)
    expected = [up, 2 * up, 2 * up + down, 3 * up + down, 4 * up + down]
    for outcome, value in zip([1, 1, 0, 1, 1], expected, strict=True):
        step = cusum.update(bool(outcome))
        assert step.statistic == pytest.approx(value) and not step.alarm
    assert cusum.update(True).alarm  # 5·ln 3 + ln(7/9) = 5.24 ≥ 5
    assert cusum.statistic == 0.0
    for _ in range(100):  # a run of zeros floors at zero instead of banking credit
        cusum.update(False)
    assert cusum.statistic == 0.0


def test_cusum_detects_a_shift_quickly_and_rarely_fires_without_one() -> None:
    rng = np.random.default_rng(0)
    false_alarms = 0
    cusum = BernoulliCusum(0.1, 0.3, h=5.0)
    for x in rng.random(5000) < 0.1:
        false_alarms += cusum.update(bool(x)).alarm
    delays = []
    for _ in range(50):
        cusum = BernoulliCusum(0.1, 0.3, h=5.0)
        for i, x in enumerate(rng.random(1000) < 0.3):
            if cusum.update(bool(x)).alarm:
                delays.append(i + 1)
                break
    assert false_alarms <= 5  # in-control run length is in the thousands at h = 5
    assert len(delays) == 50 and np.mean(delays) < 40


def test_cusum_alarm_fires_once_and_resolves_on_the_way_back() -> None:
    alarm = CusumAlarm(0.1, 0.4, h=3.0)
    # Up: 3·ln 4 = 4.16 ≥ 3 after the third hit; the old restart-on-alarm would fire again every 3 hits.
    changes = [alarm.update(True) for _ in range(30)]
    assert changes[2] is True and changes.count(True) == 1 and changes.count(False) == 0
    # Down: each miss adds ln(0.9/0.6) = 0.405 to the downward CUSUM; 3 / 0.405 → the 8th miss resolves.
    back = [alarm.update(False) for _ in range(30)]
    assert back.index(False) == 7 and back.count(False) == 1 and back.count(True) == 0
    assert not alarm.firing


def test_cusum_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError, match="p0 < p1"):
        BernoulliCusum(0.3, 0.1)


def test_mmd_statistic_by_hand() -> None:
    x, y = np.array([[0.0], [1.0]]), np.array([[3.0], [4.0]])
    result = mmd_permutation_test(x, y, n_permutations=20)
    pooled = np.array([0.0, 1.0, 3.0, 4.0])
    d2 = (pooled[:, None] - pooled[None, :]) ** 2
    median = np.median(d2[np.triu_indices(4, 1)])
    k = np.exp(-d2 / median)
    expected = k[:2, :2].mean() + k[2:, 2:].mean() - 2 * k[:2, 2:].mean()
    assert result.mmd2 == pytest.approx(expected)
    assert result.bandwidth == pytest.approx(math.sqrt(median))


def test_mmd_test_has_power_and_keeps_its_level() -> None:
    rng = np.random.default_rng(1)
    shifted = mmd_permutation_test(rng.normal(size=(40, 8)), rng.normal(0.7, 1, size=(40, 8)), n_permutations=200)
    assert shifted.p_value < 0.01
    rejections = sum(
        mmd_permutation_test(rng.normal(size=(30, 8)), rng.normal(size=(30, 8)), n_permutations=100, seed=s).p_value
        < 0.05
        for s in range(40)
    )
    assert rejections <= 6  # expected 2 of 40 at the 5% level; 6 has binomial tail probability < 1%


def test_rolling_rate_window() -> None:
    rate = RollingRate(4)
    for x in (True, True, False, False):
        rate.add(x)
    assert rate.rate == 0.5 and rate.n == 4
    rate.add(False)
    rate.add(False)
    assert rate.rate == 0.0 and rate.n == 4


def test_harmful_is_the_union_of_toxicity_and_profanity() -> None:
    assert is_flagged({"toxicity": {"flagged": False}, "profanity": {"flagged": True}}, "harmful") is True
    assert is_flagged({"toxicity": {"flagged": False}}, "harmful") is False
    assert is_flagged({"refusal": {"flagged": True}}, "harmful") is None
