"""Listing 8.3, reply parsing and the QA statistics against hand calculations and scipy/sklearn."""

from __future__ import annotations

import math

import pytest
from scipy import stats as st
from sklearn.metrics import cohen_kappa_score

from alignlab.evals.judges import (
    OrderJudgment,
    cohen_kappa,
    label_from_score,
    parse_reply,
    summarize_judgments,
    transform_score,
)
from alignlab.stats import wilson_interval


def test_listing_8_3_values() -> None:
    assert transform_score({"answer_1_score": 3, "answer_2_score": 7}) == 6.6
    assert transform_score({"answer_1_score": 10, "answer_2_score": 0}) == 1.0
    assert transform_score({"answer_1_score": 0, "answer_2_score": 10}) == 9.0
    assert transform_score({"answer_1_score": 9, "answer_2_score": 9}) == 5.0
    assert [label_from_score(s) for s in (1.0, 4.9, 5.0, 5.1)] == ["1", "1", "tie", "2"]


@pytest.mark.parametrize(
    ("reply", "score", "error_part"),
    [
        ('JSON: {"reason": "Assistant 2 is clearer", "score": 7}', 7.0, None),
        ('{"reason": "r", "answer": 1}', 1.0, None),  # Figure 8.15's key
        ('{"reason": "r", "score": "3"}', 3.0, None),
        ('{"reason": "r", "score": 10}', None, "outside"),
        ('{"reason": "r", "score": 0}', None, "outside"),
        ("I prefer the first one.", None, "no JSON"),
        ('{"reason": "broken", "score": }', None, "no JSON"),
    ],
)
def test_parse_scale_reply(reply: str, score: float | None, error_part: str | None) -> None:
    verdict = parse_reply(reply, "scale")
    assert verdict.score == score
    if error_part:
        assert verdict.error is not None and error_part in verdict.error


def test_parse_verdict_reply_follows_fastchat_order() -> None:
    assert parse_reply("explanation... [[B]]", "verdict").score == 9.0
    assert parse_reply("[[C]]", "verdict").score == 5.0
    assert parse_reply("[[A]] then [[B]]", "verdict").score == 1.0
    assert not parse_reply("A is better", "verdict").parsed


def test_kappa_matches_sklearn_and_hand_variance() -> None:
    # 2x2 table [[20, 5], [10, 15]], n = 50: po = .7, pe = .5, kappa = .4.
    a = ["x"] * 25 + ["y"] * 25
    b = ["x"] * 20 + ["y"] * 5 + ["x"] * 10 + ["y"] * 15
    k = cohen_kappa(a, b)
    assert k.kappa == pytest.approx(0.4)
    assert k.kappa == pytest.approx(cohen_kappa_score(a, b))
    # Fleiss-Cohen-Everitt by hand: (.10972 + .10188 - .01) / (50 * .25) = .016128
    assert k.se == pytest.approx(math.sqrt(0.016128), rel=1e-9)
    assert k.low == pytest.approx(0.4 - 1.959964 * math.sqrt(0.016128), rel=1e-5)


def test_kappa_three_labels_matches_sklearn_and_degenerate_is_nan() -> None:
    a = ["1", "2", "tie", "1", "1", "2", "2", "tie", "1", "2", "1", "tie"]
    b = ["1", "2", "1", "1", "2", "2", "tie", "tie", "1", "1", "1", "2"]
    assert cohen_kappa(a, b).kappa == pytest.approx(cohen_kappa_score(a, b))
    assert math.isnan(cohen_kappa(["1"] * 5, ["1"] * 5).kappa)


def _j(
    pair: str, order: str, score: float | None, human: float | None = None, error: str | None = None
) -> OrderJudgment:
    return OrderJudgment(pair, order, score, human, error)  # type: ignore[arg-type]


def test_summary_consistency_first_position_and_agreement() -> None:
    judgments = [
        # p1: consistent (prefers answer 1 in both orders: 2 as shown, then 8 when swapped)
        _j("p1", "12", 2, 1),
        _j("p1", "21", 8, 9),
        # p2: position-driven (always says first) -> inconsistent
        _j("p2", "12", 1, 1),
        _j("p2", "21", 1, 9),
        # p3, p4, p5: human ties; the judge says first, first, first, second, tie, first
        _j("p3", "12", 2, 5),
        _j("p3", "21", 3, 5),
        _j("p4", "12", 1, 5),
        _j("p4", "21", 7, 5),
        _j("p5", "12", 5, 5),
        _j("p5", "21", 4, 5),
        # p6: one unparsed reply -> excluded from consistency
        _j("p6", "12", None, 1, "no JSON object with a score"),
        _j("p6", "21", 9, 9),
    ]
    s = summarize_judgments(judgments, judge="mock", prompt="book")
    assert (s.n_pairs, s.n_judgments, s.n_unparsed) == (6, 12, 1)
    assert s.unparsed_reasons == {"no JSON object with a score": 1}
    # In the pair's own orientation: p1 (2, 2) same; p2 (1, 9) flips; p3 (2, 7) flips; p4 (1, 3) same;
    # p5 (5, 6) tie vs "2" differs; p6 has an unparsed order.
    assert (s.consistency.successes, s.consistency.n) == (2, 5)
    assert (s.decisive_consistency.successes, s.decisive_consistency.n) == (2, 5)
    always_tie = summarize_judgments([_j("a", "12", 5, 1), _j("a", "21", 5, 9)])
    assert always_tie.consistency.rate == 1.0 and always_tie.decisive_consistency.n == 0
    assert (s.first_position.successes, s.first_position.n) == (4, 6)
    assert (s.second_position.successes, s.second_position.n) == (1, 6)
    assert s.first_position_p == pytest.approx(st.binomtest(4, 5, 0.5).pvalue)
    human = ["1", "2", "1", "2", "tie", "tie", "tie", "tie", "tie", "tie", "2"]
    judge = ["1", "2", "1", "1", "1", "1", "1", "2", "tie", "1", "2"]
    assert (s.agreement.successes, s.agreement.n) == (5, 11)
    assert s.kappa is not None and s.kappa.kappa == pytest.approx(cohen_kappa_score(human, judge))
    assert s.consistency.low == pytest.approx(wilson_interval(2, 5).low)


def test_summary_check_is_a_gate() -> None:
    good = summarize_judgments([_j("a", "12", 2, 1), _j("a", "21", 8, 9), _j("b", "12", 7, 9), _j("b", "21", 3, 1)])
    assert good.check(min_consistency=0.8) == []
    bad = summarize_judgments([_j("a", "12", 2, 1), _j("a", "21", 2, 9), _j("b", "12", None, 9, "x"), _j("b", "21", 3)])
    failures = bad.check(min_consistency=0.8, max_unparsed_rate=0.1, min_kappa=0.5)
    assert any("consistency" in f for f in failures)
    assert any("unparsed" in f for f in failures)
    assert any("kappa" in f for f in failures)
    assert bad.to_dict()["consistency"]["n"] == 1
    # A gate reads the stored dict back and applies the same requirements.
    import json

    stored = json.loads(json.dumps(bad.to_dict()))
    again = type(bad).from_dict(stored)
    assert again.check(min_consistency=0.8, max_unparsed_rate=0.1, min_kappa=0.5) == failures
    assert again.consistency == bad.consistency
