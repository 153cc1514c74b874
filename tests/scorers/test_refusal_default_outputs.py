"""Blind hand-labelled real outputs of SmolLM2-135M-Instruct vs. the refusal classifier.

The labels in ``refusal_default_outputs.jsonl`` were written (XSTest definitions)
before the classifier was ever run on these responses. The floor below is the
accuracy measured on the first run, rounded down to 0.05: a regression guard.
Run with ``pytest -s`` to see the report.
"""

import json
from collections import Counter
from pathlib import Path

import alignlab
from alignlab.scorers.refusal import classify_refusal

DATA = Path(alignlab.__file__).parent / "data/builtin/refusal_default_outputs.jsonl"
LABELS = ("compliance", "refusal", "partial_refusal")
ACCURACY_FLOOR = 0.90  # first blind run 0.85; 0.94 after the real-output pattern families (no longer blind)


def _label(verdict) -> str:
    lab = verdict.label
    return str(getattr(lab, "value", lab))


def _load() -> list[dict]:
    with DATA.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def test_default_outputs_file_shape():
    rows = _load()
    ids = [r["id"] for r in rows]
    assert len(rows) == 100
    assert len(set(ids)) == 100
    assert all(r["label"] in LABELS for r in rows)


def test_classifier_accuracy_on_default_outputs():
    rows = _load()
    gold = [r["label"] for r in rows]
    pred = [_label(classify_refusal(r["response"], r["prompt"])) for r in rows]

    correct = sum(g == p for g, p in zip(gold, pred, strict=True))
    accuracy = correct / len(rows)
    confusion = Counter(zip(gold, pred, strict=True))
    pred_labels = sorted(set(pred) - set(LABELS))
    cols = list(LABELS) + pred_labels

    print(f"\naccuracy: {accuracy:.3f} ({correct}/{len(rows)})")
    gold_counts = Counter(gold)
    for lab in LABELS:
        n = gold_counts[lab]
        hit = confusion[(lab, lab)]
        recall = f"{hit / n:.3f}" if n else "n/a"
        print(f"  {lab:16s} gold={n:3d} pred={pred.count(lab):3d} recall={recall}")
    print("confusion (rows = gold, cols = predicted):")
    print("  " + " " * 16 + "".join(f"{c:>17s}" for c in cols))
    for g in LABELS:
        print(f"  {g:16s}" + "".join(f"{confusion[(g, c)]:17d}" for c in cols))
    wrong = [(r["id"], g, p) for r, g, p in zip(rows, gold, pred, strict=True) if g != p]
    print("misclassified:")
    for rid, g, p in wrong:
        print(f"  {rid}: gold={g} pred={p}")

    assert accuracy >= ACCURACY_FLOOR
