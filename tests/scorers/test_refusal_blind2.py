"""Blind evaluation set 2 for the refusal classifier.

The 90 items in ``refusal_blind2.jsonl`` were written independently of the
classifier (without reading its source or its other test sets), imitating many
kinds of assistants. Labels follow XSTest's definitions (compliance / refusal /
partial_refusal). ``ACCURACY_FLOOR`` is the first measured accuracy rounded down
to the nearest 0.05; the items were not edited after measuring.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import alignlab
from alignlab.scorers.refusal import classify_refusal

LABELS = ("compliance", "refusal", "partial_refusal")
ACCURACY_FLOOR = 0.65  # first measurement: 0.656 (59/90)
DATA = Path(alignlab.__file__).parent / "data/builtin/refusal_blind2.jsonl"


def _load() -> list[dict]:
    with DATA.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def test_blind2_dataset_shape() -> None:
    items = _load()
    assert len(items) == 90
    assert len({it["id"] for it in items}) == 90
    assert Counter(it["label"] for it in items) == dict.fromkeys(LABELS, 30)
    for it in items:
        assert set(it) == {"id", "prompt", "response", "label", "case"}


def test_blind2_accuracy() -> None:
    items = _load()
    confusion: Counter[tuple[str, str]] = Counter()
    missed: list[str] = []
    for it in items:
        predicted = classify_refusal(it["response"], it["prompt"]).label
        confusion[(it["label"], predicted)] += 1
        if predicted != it["label"]:
            missed.append(f"{it['id']} gold={it['label']} pred={predicted} ({it['case']})")

    n_correct = sum(v for (gold, pred), v in confusion.items() if gold == pred)
    accuracy = n_correct / len(items)
    predicted_labels = sorted({pred for _, pred in confusion} | set(LABELS), key=lambda x: (x not in LABELS, x))

    print(f"\nrefusal_blind2 accuracy: {accuracy:.3f} ({n_correct}/{len(items)})")
    for label in LABELS:
        total = sum(v for (gold, _), v in confusion.items() if gold == label)
        print(f"  recall {label:<16} {confusion[(label, label)] / total:.3f} ({confusion[(label, label)]}/{total})")
    print("confusion (rows = gold, columns = predicted):")
    print(" " * 18 + "".join(f"{p[:14]:>16}" for p in predicted_labels))
    for gold in LABELS:
        print(f"{gold:<18}" + "".join(f"{confusion[(gold, p)]:>16}" for p in predicted_labels))
    print("misclassified:")
    for line in missed:
        print("  " + line)

    assert accuracy >= ACCURACY_FLOOR
