"""Agreement of the scorers with human labels, the pattern stage beside them, and their speed.

For every labelled set (held-out parts of the MIT sets, the non-commercial validation sets,
and the training parts, marked ``train-dev``): binary accuracy of the learned scorer and of
its pattern baseline (``refusal-patterns``; ``harm-patterns`` = "not a full refusal"), and
three-way accuracy for the refusal sets that have partial refusals; the refusal card also splits
Do-Not-Answer by question into a ``dev`` half (read for error analysis) and a ``test`` half (never
read), and the refusal scorers are scored per answering model on it. Then leave-one-source-out:
for each permitted source, a head trained on all the others scores every row of it (our
honest proxy for "a set we have not seen"). Then rows/s on 2,250 rows drawn from the
validation sets. Prints the load average: the figures depend on it.

    ALIGNLAB_DATA_DIR=../shared/data .venv/bin/python benchmarks/scorers.py
"""

from __future__ import annotations

import argparse
import os
import random
import time

from alignlab.scorers import get_scorer
from alignlab.scorers.datasets import LabelledResponse, load_sets
from alignlab.scorers.validate import by_model, leave_one_source_out, make_card, predict
from alignlab.settings import load_settings

PAIRS = {"refusal": ("refusal", "refusal-patterns"), "harm": ("harm", "harm-patterns")}


def _fmt(interval: dict[str, float] | None) -> str:
    return "-" if not interval else f"{interval['value']:.3f}"


def agreement(family: str) -> None:
    learned, baseline = PAIRS[family]
    data_dir = load_settings().data_dir
    cards = {name: make_card(name, data_dir).card for name in (learned, baseline)}
    print(f"\n## {family}: binary accuracy (3-way in brackets), learned vs patterns")
    print(f"{'set':42} {'role':10} {'n':>6}  {learned:>16}  {baseline:>18}")
    for set_name, s in cards[learned]["sets"].items():
        b = cards[baseline]["sets"][set_name]
        three = f" [{_fmt(s['accuracy_3way'])}]" if s.get("accuracy_3way") else ""
        three_b = f" [{_fmt(b['accuracy_3way'])}]" if b.get("accuracy_3way") else ""
        print(
            f"{set_name:42} {s['role']:10} {s['n']:>6}  {_fmt(s['accuracy']) + three:>16}  "
            f"{_fmt(b['accuracy']) + three_b:>18}"
        )


def per_model(family: str) -> None:
    """Do-Not-Answer's agreement per answering model: style matters (Llama-2-chat lectures, GPT-4 is terse)."""
    learned, baseline = PAIRS[family]
    positive = ("refusal", "partial_refusal", "harmful")
    [dna] = [s for s in load_sets(family, load_settings().data_dir) if s.name == "do-not-answer"]  # type: ignore[arg-type]
    print(f"\n## {family}: Do-Not-Answer per answering model (binary accuracy), learned vs patterns")
    for part in by_model(dna):
        scores = []
        for name in (learned, baseline):
            hits = [
                (r.label in positive) == (p in positive)
                for r, p in zip(part.rows, predict(name, part, None), strict=True)
            ]
            scores.append(sum(hits) / len(hits))
        print(f"{part.name:42} {len(part.rows):>6}  {scores[0]:>8.3f}  {scores[1]:>18.3f}")


def unseen(family: str) -> None:
    learned, baseline = PAIRS[family]
    print(f"\n## {family}: leave one source out (binary accuracy on all of its rows), learned vs patterns")
    print(f"{'left-out source':42} {'n':>6}  {learned:>8}  {baseline:>18}")
    for r in leave_one_source_out(family, load_settings().data_dir, baseline):  # type: ignore[arg-type]
        print(f"{r.source:42} {r.n:>6}  {r.learned:>8.3f}  {r.baseline:>18.3f}")


def speed(n: int) -> None:
    data_dir = load_settings().data_dir
    rows: list[LabelledResponse] = [r for s in load_sets("harm", data_dir) if not s.trainable for r in s.rows]
    sample = random.Random(0).sample(rows, n)
    prompts, responses = [r.prompt for r in sample], [r.response for r in sample]
    print(f"\n## speed on {n} rows (validation answers; load average before: {os.getloadavg()[0]:.1f})")
    for name in ("refusal", "harm", "refusal-patterns"):
        scorer = get_scorer(name)
        scorer.classify(prompts[:10], responses[:10])  # load weights outside the timing
        start = time.perf_counter()
        scorer.classify(prompts, responses)
        seconds = time.perf_counter() - start
        print(f"{name:18} {seconds:6.1f} s  {n / seconds:7.0f} rows/s")
    print(f"load average after: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=2250, help="rows for the speed test")
    parser.add_argument("--only", choices=["refusal", "harm", "models", "unseen", "speed"], help="run one part")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for part in ("refusal", "harm"):
        if args.only in (None, part):
            agreement(part)
    if args.only in (None, "models"):
        per_model("refusal")
    for part in ("refusal", "harm"):
        if args.only in (None, "unseen"):
            unseen(part)
    if args.only in (None, "speed"):
        speed(args.rows)


if __name__ == "__main__":
    main()
