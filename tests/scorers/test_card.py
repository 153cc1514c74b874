"""Scorer cards: the statistics against hand/scipy values, unparsed replies, the bundled cards' schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from itertools import cycle
from typing import Any

import pytest
from sklearn.metrics import cohen_kappa_score

from alignlab.scorers import load_card
from alignlab.scorers.card import build_card, card_markdown, cohen_kappa, evaluate_set
from alignlab.scorers.datasets import LabelledResponse, LabelledSet
from alignlab.stats import wilson_interval

LABELS = ("compliance", "refusal", "partial_refusal")
POSITIVE = ("refusal", "partial_refusal")


def _set(golds: list[str], groups: list[str] | None = None) -> LabelledSet:
    groups = groups or [f"g{i}" for i in range(len(golds))]
    rows = tuple(LabelledResponse("p", "r", g, k) for g, k in zip(golds, groups, strict=True))
    return LabelledSet("toy", "refusal", "MIT", "hand", True, rows, "heldout")


def test_kappa_matches_sklearn() -> None:
    gold = [0, 0, 1, 1, 1, 0, 1, 0, 0, 1]
    pred = [0, 1, 1, 1, 0, 0, 1, 0, 0, 0]
    assert cohen_kappa(list(zip(gold, pred, strict=True)), 2) == pytest.approx(cohen_kappa_score(gold, pred))


def test_kappa_is_undefined_when_both_are_constant() -> None:
    assert cohen_kappa([(1, 1)] * 5, 2) is None
    card = evaluate_set(_set(["refusal"] * 5), ["refusal"] * 5, LABELS, POSITIVE)
    assert card.kappa is None and "undefined" in card.notes[0]


@pytest.mark.parametrize(
    ("golds", "preds", "who"),
    [
        # A judge that always says "compliance": kappa would be 0 with a zero-width [0, 0] interval.
        (["compliance", "refusal", "refusal", "compliance"], ["compliance"] * 4, "the scorer"),
        # Humans who labelled every row "compliance" (a small or one-sided set): the same degeneracy.
        (["compliance"] * 4, ["compliance", "refusal", "compliance", "refusal"], "the human labels"),
    ],
)
def test_kappa_is_undefined_with_a_reason_when_one_rater_is_constant(
    golds: list[str], preds: list[str], who: str
) -> None:
    assert (
        cohen_kappa([(int(g != "compliance"), int(p != "compliance")) for g, p in zip(golds, preds, strict=True)], 2)
        is None
    )
    card = evaluate_set(_set(golds), preds, LABELS, POSITIVE)
    assert card.kappa is None
    assert card.notes == [f"kappa undefined: {who} put every row in one class"]


def test_evaluate_set_counts_confusion_accuracy_and_wilson() -> None:
    golds = ["compliance", "compliance", "refusal", "partial_refusal", "refusal", "compliance"]
    preds = ["compliance", "refusal", "refusal", "refusal", "compliance", "compliance"]
    card = evaluate_set(_set(golds), preds, LABELS, POSITIVE)
    assert card.confusion == [[2, 1, 0], [1, 1, 0], [0, 1, 0]]
    # binary: compliance vs refusal-or-partial -> 2 + 2 correct of 6 (partial read as refusal is right)
    assert card.accuracy.value == pytest.approx(4 / 6, abs=1e-4)
    expected = wilson_interval(4, 6)
    assert (card.accuracy.low, card.accuracy.high) == (round(expected.low, 4), round(expected.high, 4))
    assert card.accuracy_3way is not None and card.accuracy_3way.value == pytest.approx(3 / 6, abs=1e-4)
    assert card.sensitivity is not None and card.sensitivity.value == pytest.approx(2 / 3, abs=1e-4)
    assert card.specificity is not None and card.specificity.value == pytest.approx(2 / 3, abs=1e-4)
    assert card.kappa is not None and card.kappa.low <= card.kappa.value <= card.kappa.high


def test_unparsed_judge_replies_are_counted_as_wrong_never_dropped() -> None:
    card = evaluate_set(_set(["refusal", "compliance", "refusal"]), ["refusal", None, None], LABELS, POSITIVE)
    assert card.n == 3 and card.unparsed == 2
    assert card.accuracy.value == pytest.approx(1 / 3, abs=1e-4)
    assert sum(map(sum, card.confusion)) == 1


def test_card_json_round_trips_and_renders() -> None:
    card_set = evaluate_set(_set(["refusal", "compliance"]), ["refusal", "compliance"], LABELS, POSITIVE)
    card = build_card("toy", "v1", LABELS, POSITIVE, [card_set], correction_set="toy")
    assert json.loads(json.dumps(card)) == card
    text = card_markdown(card)
    assert "| toy | heldout | 2 |" in text and "| human \\ scorer |" in text


@pytest.mark.parametrize("name", ["refusal", "harm"])
def test_bundled_cards_follow_the_schema(name: str) -> None:
    card = load_card(name)
    assert card["scorer"] == name and set(card["positive"]) <= set(card["labels"])
    assert card["correction"]["set"] in card["sets"]
    for set_name, s in card["sets"].items():
        k = len(s["labels"])
        assert s["labels"] == card["labels"], set_name
        assert len(s["confusion"]) == k and all(len(row) == k for row in s["confusion"])
        assert sum(map(sum, s["confusion"])) + s["unparsed"] == s["n"]
        assert s["role"] in ("validation", "heldout", "train-dev")
        for key in ("accuracy", "kappa"):
            if s[key] is not None:
                assert 0 <= s[key]["low"] <= s[key]["value"] <= s[key]["high"] <= 1 or key == "kappa"
    assert (resources.files("alignlab.scorers") / "cards" / f"{name}.json").is_file()


def _mock_judge(*replies: str) -> Any:
    from inspect_ai.model import ModelOutput, ModelUsage, get_model

    def outputs() -> Iterator[ModelOutput]:
        for text in cycle(replies):
            out = ModelOutput.from_content("mockllm/model", text)
            out.usage = ModelUsage(input_tokens=5, output_tokens=2, total_tokens=7)  # no tokenizer download
            yield out

    return get_model("mockllm/model", custom_outputs=outputs(), memoize=False)


def test_kappa_reads_only_parsed_replies() -> None:
    gold = ["refusal", "compliance"] * 4
    card = evaluate_set(_set(gold), ["refusal", "compliance"] * 3 + [None, None], LABELS, POSITIVE)
    assert card.kappa is not None and card.kappa.value == pytest.approx(1.0)  # the 6 parsed replies all agree
    assert card.accuracy.value == pytest.approx(6 / 8, abs=1e-4)  # the 2 unparsed count as wrong here
    assert any("6 parsed rows" in note for note in card.notes)
    silent = evaluate_set(_set(gold), [None] * 8, LABELS, POSITIVE)
    assert silent.kappa is None and "no reply could be parsed" in silent.notes[0]


def test_a_judge_is_scored_the_same_way_and_unparsed_replies_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    import alignlab.models
    from alignlab.scorers.validate import make_card

    judge = _mock_judge("refusal", "I would rather not say")
    monkeypatch.setattr(alignlab.models, "get_model", lambda name: judge)
    result = make_card("refusal", None, judge="mockllm/model", limit=4)
    pooled = result.card["sets"]["heldout"]
    assert result.card["scorer"] == "refusal (judge mockllm/model)"
    assert 0 < pooled["unparsed"] < pooled["n"]  # every other reply names no label: counted, not dropped
    assert sum(map(sum, pooled["confusion"])) + pooled["unparsed"] == pooled["n"]
    assert [row[0] for row in pooled["confusion"]] == [0, 0, 0]  # the parsed replies all said "refusal"
    assert all(s["n"] <= 4 for name, s in result.card["sets"].items() if name != "heldout")


def test_harm_judge_reply_parsing() -> None:
    from alignlab.scorers.harm_judge import parse_harm_label

    assert parse_harm_label("Harmful.") == "harmful"
    assert parse_harm_label("unharmful") == "unharmful"
    assert parse_harm_label("It is not harmful") == "unharmful"
    assert parse_harm_label("I cannot judge this") is None
