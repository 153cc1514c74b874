"""Rates corrected for scorer error: the estimator by hand, its edges, the card reader and coverage."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from alignlab.errors import ConfigError
from alignlab.scorers.correction import (
    BinaryAccuracy,
    card_accuracy,
    correct_difference,
    correct_rate,
    find_card,
    read_card,
    rogan_gladen,
    scorer_card,
)

CARDS = Path(__file__).parent / "cards"


def test_rogan_gladen_by_hand() -> None:
    # Harm fixture card: Se = 160/180 = 8/9, Sp = 190/220 = 19/22; 43 of 50 flagged.
    # (43/50 + 19/22 − 1) / (8/9 + 19/22 − 1) = (398/550) / (149/198) = 78804/81950.
    acc = card_accuracy(read_card(CARDS / "harm.json"), {"harmful"})
    assert (acc.true_positive, acc.false_negative, acc.true_negative, acc.false_positive) == (160, 20, 190, 30)
    result = correct_rate(43, 50, acc)
    assert result.point == pytest.approx(78804 / 81950, abs=1e-12)
    assert result.sensitivity == pytest.approx(8 / 9)
    assert result.specificity == pytest.approx(19 / 22)
    assert result.low < result.point < result.high <= 1.0
    assert result.note == ""
    assert result.method.startswith("rogan-gladen")


def test_interval_matches_the_delta_method_when_everything_is_large() -> None:
    # With big samples the three Beta posteriors are near normal and the ratio is near linear,
    # so the Monte Carlo interval should match the delta-method one computed independently.
    k, n, tp, fn, tn, fp = 3000, 10000, 9000, 1000, 8000, 2000
    acc = BinaryAccuracy(tp, fn, tn, fp)
    ap, se, sp = k / n, tp / (tp + fn), tn / (tn + fp)
    pi = (ap + sp - 1) / (se + sp - 1)
    var = (ap * (1 - ap) / n + pi**2 * se * (1 - se) / (tp + fn) + (1 - pi) ** 2 * sp * (1 - sp) / (tn + fp)) / (
        se + sp - 1
    ) ** 2
    half = float(stats.norm.ppf(0.975)) * math.sqrt(var)
    result = correct_rate(k, n, acc, draws=100_000)
    assert result.point == pytest.approx(pi)
    assert result.low == pytest.approx(pi - half, abs=0.002)
    assert result.high == pytest.approx(pi + half, abs=0.002)


def test_seeded_draws_repeat() -> None:
    acc = BinaryAccuracy(80, 20, 90, 10)
    assert correct_rate(12, 40, acc) == correct_rate(12, 40, acc)


def test_no_samples() -> None:
    result = correct_rate(0, 0, BinaryAccuracy(80, 20, 90, 10))
    assert math.isnan(result.point)
    assert (result.low, result.high) == (0.0, 1.0)
    assert result.note == "no samples"
    assert not result.correctable
    assert str(result) == "n/a (no samples)"


@pytest.mark.parametrize("acc", [BinaryAccuracy(50, 50, 50, 50), BinaryAccuracy(30, 70, 60, 40)])
def test_a_chance_level_scorer_is_not_correctable(acc: BinaryAccuracy) -> None:
    result = correct_rate(20, 50, acc)
    assert not result.correctable
    assert result.method == "none"
    assert "not correctable" in result.note
    assert (result.low, result.high) == (0.0, 1.0)


def test_a_card_without_one_class_is_not_correctable() -> None:
    result = correct_rate(20, 50, BinaryAccuracy(0, 0, 90, 10))
    assert not result.correctable
    assert "no human-labelled event" in result.note


def test_estimates_outside_the_unit_interval_are_clipped_and_said() -> None:
    acc = BinaryAccuracy(90, 10, 80, 20)  # Se 0.9, Sp 0.8: the scorer flags 20% of non-events
    low = correct_rate(8, 50, acc)  # 16% observed < 20% false-positive rate
    assert rogan_gladen(8 / 50, 0.9, 0.8) < 0
    assert low.point == 0.0
    assert low.low == 0.0
    assert 0 < low.high < 0.2
    assert "clipped to 0" in low.note
    far = correct_rate(1, 50, acc)  # 2%: even the interval's top is below zero before clipping
    assert (far.low, far.high) == (0.0, 0.0)
    assert "does not fit the card" in far.note
    high = correct_rate(50, 50, BinaryAccuracy(60, 40, 95, 5))  # 100% observed > 60% hit rate
    assert high.point == 1.0
    assert high.high == 1.0
    assert "clipped to 100%" in high.note


def test_bad_counts_are_a_bug() -> None:
    with pytest.raises(ValueError):
        correct_rate(5, 3, BinaryAccuracy(1, 1, 1, 1))
    with pytest.raises(ValueError):
        BinaryAccuracy(-1, 1, 1, 1)


def test_three_class_card_collapses_per_event() -> None:
    card = read_card(CARDS / "refusal.json")
    refused = card_accuracy(card, {"refusal", "partial_refusal"})
    # rows = human, columns = scorer, order compliance/refusal/partial_refusal
    assert (refused.true_positive, refused.false_negative) == (60 + 5 + 4 + 15, 10 + 6)
    assert (refused.true_negative, refused.false_positive) == (180, 12 + 8)
    assert card_accuracy(card, {"compliance"}) == refused.swapped()
    complied = card_accuracy(card, {"compliance", "partial_refusal"})
    assert (complied.true_positive, complied.false_negative) == (180 + 8 + 6 + 15, 12 + 4)
    assert (complied.true_negative, complied.false_positive) == (60, 10 + 5)
    assert refused.swapped().sensitivity == pytest.approx(refused.specificity)


def test_card_errors_are_one_line(tmp_path: Path) -> None:
    card = read_card(CARDS / "harm.json")
    with pytest.raises(ConfigError, match="no label 'refused'"):
        card_accuracy(card, {"refused"})
    with pytest.raises(ConfigError, match="no set"):
        card_accuracy(card, {"harmful"}, set_name="other")
    bad = json.loads((CARDS / "harm.json").read_text())
    bad["sets"]["fixture-validation"]["confusion"] = [[1, 2, 3], [4, 5, 6]]
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    with pytest.raises(ConfigError, match="malformed"):
        read_card(tmp_path / "bad.json")
    with pytest.raises(ConfigError, match="no scorer card for 'nonexistent'"):
        scorer_card("nonexistent")
    assert find_card("../../etc/passwd") is None


# (true rate, scorer sensitivity, specificity, sample n, card positives, card negatives)
SCENARIOS = [
    (0.30, 0.90, 0.95, 50, 300, 300),  # a good scorer, a demo-sized sample
    (0.86, 0.70, 0.90, 50, 100, 100),  # a high rate, a scorer that misses refusals
    (0.05, 0.85, 0.97, 100, 200, 400),  # a rare event
    (0.50, 0.80, 0.80, 30, 50, 50),  # everything small
]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_coverage_with_known_truth(scenario: tuple[float, float, float, int, int, int]) -> None:
    truth, se, sp, n, positives, negatives = scenario
    rng = np.random.default_rng(2026)
    reps, covered = 1000, 0
    for rep in range(reps):
        tp, tn = int(rng.binomial(positives, se)), int(rng.binomial(negatives, sp))
        event = rng.random(n) < truth
        flagged = np.where(event, rng.random(n) < se, rng.random(n) < 1 - sp)
        acc = BinaryAccuracy(tp, positives - tp, tn, negatives - tn)
        result = correct_rate(int(flagged.sum()), n, acc, draws=4000, seed=rep)
        covered += result.low <= truth <= result.high
    assert covered / reps >= 0.93, f"coverage {covered / reps:.3f} in {scenario}"


# ---------------------------------------------------------------- differences of two corrected rates


def test_difference_by_hand() -> None:
    # Harm fixture card: Se = 8/9, Sp = 19/22, Se + Sp − 1 = 149/198. Unclipped, the difference of two
    # Rogan–Gladen estimates is (AP_b − AP_a) / (Se + Sp − 1) = (43/50 − 20/50) / (149/198) = 4554/7450.
    acc = card_accuracy(read_card(CARDS / "harm.json"), {"harmful"})
    result = correct_difference((20, 50), (43, 50), acc)
    assert result.a.point == pytest.approx(5742 / 16390, abs=1e-12)
    assert result.b.point == pytest.approx(78804 / 81950, abs=1e-12)
    assert result.point == pytest.approx(4554 / 7450, abs=1e-12)
    assert result.low < result.point < result.high
    assert str(result) == f"{4554 / 7450 * 100:+.1f} pts [{result.low * 100:+.1f}, {result.high * 100:+.1f}]"
    assert result == correct_difference((20, 50), (43, 50), acc)  # seeded
    # The same rates: the card cannot move the difference off zero.
    same = correct_difference((20, 50), (20, 50), acc)
    assert same.point == 0.0 and same.low < 0.0 < same.high


def test_difference_shares_the_card_as_the_delta_method_says() -> None:
    # d = (AP_b − AP_a) / J with one J = Se + Sp − 1 for both rates:
    # var(d) ≈ (var AP_a + var AP_b) / J² + d² (var Se + var Sp) / J².
    # Big samples and a small card, so the card's share of the variance dominates (counted twice, the
    # half-width would be about 0.021 instead of 0.011); π_a = 1/7, π_b = 2/7: no clipping.
    ka, kb, n, tp, fn, tn, fp = 30_000, 40_000, 100_000, 450, 50, 400, 100
    acc = BinaryAccuracy(tp, fn, tn, fp)
    se, sp = tp / (tp + fn), tn / (tn + fp)
    youden = se + sp - 1
    d = (kb - ka) / n / youden
    var_ap = (ka / n * (1 - ka / n) + kb / n * (1 - kb / n)) / n
    var = (var_ap + d**2 * (se * (1 - se) / (tp + fn) + sp * (1 - sp) / (tn + fp))) / youden**2
    half = float(stats.norm.ppf(0.975)) * math.sqrt(var)
    result = correct_difference((ka, n), (kb, n), acc, draws=100_000)
    assert result.point == pytest.approx(d)
    assert result.low == pytest.approx(d - half, abs=0.002)
    assert result.high == pytest.approx(d + half, abs=0.002)


def test_difference_edges() -> None:
    acc = BinaryAccuracy(80, 20, 90, 10)
    empty = correct_difference((0, 0), (5, 10), acc)
    assert not empty.correctable and (empty.low, empty.high, empty.note) == (-1.0, 1.0, "no samples")
    chance = correct_difference((3, 10), (5, 10), BinaryAccuracy(50, 50, 50, 50))
    assert not chance.correctable and "no better than chance" in chance.note
    clipped = correct_difference((0, 40), (30, 40), acc)  # 0/40 is below the false-positive rate
    assert clipped.a.point == 0.0 and clipped.note.startswith("a: Rogan–Gladen estimate")


# (true rate a, true rate b, sensitivity, specificity, n a, n b, card positives, card negatives)
DIFF_SCENARIOS = [
    (0.30, 0.50, 0.90, 0.95, 50, 50, 300, 300),  # a gap, a good scorer, demo-sized samples
    (0.86, 0.70, 0.70, 0.90, 50, 50, 100, 100),  # high rates, a scorer that misses
    (0.05, 0.15, 0.85, 0.97, 100, 100, 200, 400),  # rare events
    (0.50, 0.50, 0.80, 0.80, 30, 30, 50, 50),  # no gap, everything small
    (0.00, 0.05, 0.85, 0.95, 50, 50, 200, 200),  # one rate at the boundary
]


@pytest.mark.parametrize("scenario", DIFF_SCENARIOS)
def test_difference_coverage_with_known_truth(scenario: tuple[float, float, float, float, int, int, int, int]) -> None:
    truth_a, truth_b, se, sp, n_a, n_b, positives, negatives = scenario
    rng = np.random.default_rng(2026)

    def flagged(truth: float, n: int) -> int:
        event = rng.random(n) < truth
        return int(np.where(event, rng.random(n) < se, rng.random(n) < 1 - sp).sum())

    reps, covered = 1000, 0
    for rep in range(reps):
        tp, tn = int(rng.binomial(positives, se)), int(rng.binomial(negatives, sp))
        acc = BinaryAccuracy(tp, positives - tp, tn, negatives - tn)
        result = correct_difference((flagged(truth_a, n_a), n_a), (flagged(truth_b, n_b), n_b), acc, draws=4000,
                                    seed=rep)  # fmt: skip
        covered += result.low <= truth_b - truth_a <= result.high
    assert covered / reps >= 0.93, f"coverage {covered / reps:.3f} in {scenario}"
