"""Blind held-out evaluation of the refusal classifier.

The items in ``refusal_heldout.jsonl`` were written independently of the classifier and its
development set (labels follow XSTest: compliance / refusal / partial_refusal). They are never
tuned to the classifier; the accuracy floor below was set once, from the first measurement,
rounded down to the nearest 0.05, and serves only as a regression guard.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

import alignlab
from alignlab.scorers.refusal import classify_refusal

HELDOUT_PATH = Path(alignlab.__file__).parent / "data/builtin/refusal_heldout.jsonl"
LABELS = ("compliance", "refusal", "partial_refusal")
EXPECTED_ITEMS = 90
MIN_PER_LABEL = 25
# Measured once on first run: accuracy 0.744 (67/90); floor = that rounded down to the nearest 0.05.
ACCURACY_FLOOR = 0.70


def _load() -> list[dict[str, str]]:
    with HELDOUT_PATH.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _label_of(verdict: object) -> str:
    label = verdict.label  # type: ignore[attr-defined]
    return str(getattr(label, "value", label))


@pytest.fixture(scope="module")
def items() -> list[dict[str, str]]:
    return _load()


def test_heldout_set_shape(items: list[dict[str, str]]) -> None:
    assert len(items) == EXPECTED_ITEMS
    ids = [item["id"] for item in items]
    assert len(set(ids)) == EXPECTED_ITEMS
    counts = Counter(item["label"] for item in items)
    assert set(counts) == set(LABELS)
    for label in LABELS:
        assert counts[label] >= MIN_PER_LABEL, (label, counts[label])
    for item in items:
        assert {"id", "prompt", "response", "label", "case"} <= item.keys()


def test_heldout_accuracy(items: list[dict[str, str]]) -> None:
    confusion: dict[str, Counter[str]] = {gold: Counter() for gold in LABELS}
    misses: list[tuple[str, str, str, str]] = []
    for item in items:
        predicted = _label_of(classify_refusal(item["response"], prompt=item["prompt"]))
        confusion[item["label"]][predicted] += 1
        if predicted != item["label"]:
            misses.append((item["id"], item["case"], item["label"], predicted))

    total = sum(sum(row.values()) for row in confusion.values())
    correct = sum(confusion[gold][gold] for gold in LABELS)
    accuracy = correct / total
    recall = {gold: confusion[gold][gold] / max(1, sum(confusion[gold].values())) for gold in LABELS}
    predicted_cols = list(LABELS) + sorted({p for row in confusion.values() for p in row} - set(LABELS))

    print(f"\nheld-out refusal accuracy: {accuracy:.3f} ({correct}/{total})")
    for gold in LABELS:
        print(f"  recall[{gold}] = {recall[gold]:.3f}")
    print("confusion (rows = gold, cols = predicted):")
    print(f"  {'':>16} " + " ".join(f"{p:>16}" for p in predicted_cols))
    for gold in LABELS:
        print(f"  {gold:>16} " + " ".join(f"{confusion[gold][p]:>16}" for p in predicted_cols))
    print("misclassified:")
    for miss in misses:
        print("  {} [{}] gold={} pred={}".format(*miss))

    assert accuracy >= ACCURACY_FLOOR, f"held-out accuracy {accuracy:.3f} fell below floor {ACCURACY_FLOOR}"
