"""AI feedback accounting with a scripted feedback model: consistency, unparsed, drop vs downweight."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, ClassVar

import pytest

from alignlab.cai.config import FeedbackOptions
from alignlab.cai.constitution import load_constitution
from alignlab.cai.feedback import SampledPair, first_letter_probability, label_pairs, verdict_from_logprobs
from alignlab.cai.generate import CallCache, Generator
from alignlab.cai.stages import preference_training_rows
from tests.cai.conftest import JUDGE, scripted_judge

# two consistent, one flipping, one unparseable
PAIRS = [
    SampledPair("c1", "[consistent] q1", "alpha", "beta"),
    SampledPair("c2", "[consistent] q2", "zulu", "yankee"),
    SampledPair("f1", "[flip] q3", "one", "two"),
    SampledPair("g1", "[garbage] q4", "left", "right"),
]


def _label(tmp_path: Path, policy: str) -> tuple[Generator, list[dict[str, object]], dict[str, object]]:
    generator = Generator(CallCache(tmp_path / "calls.jsonl"), progress=False, models={JUDGE: scripted_judge()})
    options = FeedbackOptions(model=JUDGE, inconsistent=policy)  # type: ignore[arg-type]
    result = label_pairs(generator, PAIRS, load_constitution("default"), options, seed=0)
    return generator, result.rows, result.stats


def test_consistency_accounting_is_exact(tmp_path: Path) -> None:
    generator, rows, stats = _label(tmp_path, "drop")
    assert stats["n_pairs"] == 4 and stats["n_replies"] == 8
    assert stats["unparsed"] == 2 and stats["unparsed_pairs"] == 1  # both replies about g1
    assert stats["unparsed_reasons"] == {"no [[A]]/[[B]]/[[C]] verdict": 2}
    assert (stats["consistent"], stats["inconsistent"]) == (2, 1)
    assert stats["consistency"]["rate"] == pytest.approx(2 / 3) and stats["consistency"]["n"] == 3
    assert 0 < stats["consistency"]["low"] < 2 / 3 < stats["consistency"]["high"] < 1  # Wilson
    by_id = {r["id"]: r for r in rows}
    # "alpha" < "beta" and "yankee" < "zulu": the answer that sorts first wins in both orders
    assert by_id["c1"]["chosen"][0]["content"] == "alpha" and by_id["c1"]["votes"] == ["1", "1"]
    assert by_id["c2"]["chosen"][0]["content"] == "yankee" and by_id["c2"]["votes"] == ["2", "2"]
    assert by_id["f1"]["votes"] == ["1", "2"] and by_id["f1"]["status"] == "inconsistent"
    assert by_id["g1"]["status"] == "unparsed" and by_id["g1"]["votes"] == [None, None]
    assert [r["weight"] for r in rows] == [1.0, 1.0, 0.0, 0.0]
    assert stats["kept"] == 2 and generator.counts["feedback"].as_dict() == {"new": 8, "cached": 0}
    assert all(r["principle"] in {p.name for p in load_constitution("default").principles} for r in rows)


def test_downweight_keeps_inconsistent_pairs_at_half_weight(tmp_path: Path) -> None:
    _, dropped, _ = _label(tmp_path / "drop", "drop")
    _, weighted, stats = _label(tmp_path / "down", "downweight")
    assert [r["weight"] for r in weighted] == [1.0, 1.0, 0.5, 0.0] and stats["kept"] == 3
    # first order's verdict breaks the one-all tie: "one" was shown first and preferred
    assert weighted[2]["chosen"][0]["content"] == "one"
    train_drop, held_drop = preference_training_rows(dropped, 0.5, seed=0)
    train_down, held_down = preference_training_rows(weighted, 0.5, seed=0)
    assert len(held_drop) == len(held_down) == 1  # one of the two consistent pairs, never an inconsistent one
    assert len(train_drop) == 2  # the other consistent pair, twice
    assert len(train_down) == 3  # ... plus the inconsistent pair once: half the weight
    assert held_down[0] not in train_down


def test_cached_feedback_makes_no_new_call(tmp_path: Path) -> None:
    _label(tmp_path, "drop")
    generator, _, stats = _label(tmp_path, "drop")  # same cache file
    assert generator.counts["feedback"].as_dict() == {"new": 0, "cached": 8}
    assert stats["consistent"] == 2
    lines = (tmp_path / "calls.jsonl").read_text().splitlines()
    assert len(lines) == 8 and {json.loads(x)["phase"] for x in lines} == {"feedback"}


def test_logprob_verdicts() -> None:
    assert verdict_from_logprobs(json.dumps({"top_logprobs": {"###": -1.0, " B": -2.0, "A": -3.0}})).startswith("[[B]]")
    assert verdict_from_logprobs(json.dumps({"top_logprobs": {"A": -4.0, "The": -1.0}})).startswith("[[A]]")
    assert "neither letter" in verdict_from_logprobs(json.dumps({"top_logprobs": {"The": -1.0}}))


class _PositionBiasedJudge:
    """Says "A" in every order, with a residual lean the order average should recover."""

    # P(A) in order 12 and in order 21, per pair: x leans to answer 1, y to answer 2.
    P_A: ClassVar[dict[str, tuple[float, float]]] = {"x": (0.8, 0.6), "y": (0.6, 0.9)}

    def __init__(self) -> None:
        self.calls = 0

    def generate(self, model: str, conversations: list[Any], params: list[Any], phase: str) -> list[str]:
        replies = []
        for conversation in conversations:
            pair = "x" if "[x]" in conversation[1]["content"] else "y"
            order = 0 if conversation[1]["content"].index("first-") < conversation[1]["content"].index("second-") else 1
            p_a = self.P_A[pair][order]
            top = {"A": math.log(p_a), " B": math.log(1 - p_a), "The": math.log(0.001)}
            replies.append(json.dumps({"top_logprobs": top}))
        self.calls += len(conversations)
        return replies


def test_logprob_order_average_labels_inconsistent_pairs() -> None:
    pairs = [SampledPair("x", "[x] q", "first-x", "second-x"), SampledPair("y", "[y] q", "first-y", "second-y")]
    options = FeedbackOptions(model=JUDGE, method="logprobs", inconsistent="downweight")
    result = label_pairs(_PositionBiasedJudge(), pairs, load_constitution("default"), options, seed=0)  # type: ignore[arg-type]
    x, y = result.rows
    assert x["status"] == y["status"] == "inconsistent" and x["votes"] == y["votes"] == ["1", "2"]
    # x: (0.8 + (1 - 0.6)) / 2 = 0.6 for answer 1; y: (0.6 + (1 - 0.9)) / 2 = 0.35 -> answer 2 at 0.65
    assert x["chosen"][0]["content"] == "first-x" and x["p_chosen"] == pytest.approx(0.6)
    assert y["chosen"][0]["content"] == "second-y" and y["p_chosen"] == pytest.approx(0.65)
    assert x["weight"] == y["weight"] == 0.5
    assert result.stats["position_bias"] == pytest.approx((0.8 + 0.6 + 0.6 + 0.9) / 4)
    assert result.stats["mean_p_chosen"] == pytest.approx((0.6 + 0.65) / 2)
    assert result.stats["consistent"] == 0 and result.stats["inconsistent"] == 2


def test_first_letter_probability() -> None:
    assert first_letter_probability(json.dumps({"top_logprobs": {"A": math.log(0.3), "B": math.log(0.1)}})) == (
        pytest.approx(0.75)
    )
    # B missing from the top: bounded by the least likely candidate
    bound = first_letter_probability(json.dumps({"top_logprobs": {"A": -1.0, "The": -3.0}}))
    assert bound == pytest.approx(1 / (1 + math.exp(-2.0)))
    assert first_letter_probability(json.dumps({"top_logprobs": {"The": -1.0}})) is None
    assert first_letter_probability("[[A]]") is None
