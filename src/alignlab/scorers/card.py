"""Scorer cards: a scorer's (or an LLM judge's) agreement with human labels, set by set.

For every labelled set: the confusion matrix (rows = human label, columns = scorer label, in
the scorer's label order), accuracy and per-class precision/recall with Wilson intervals,
and Cohen's kappa with a bootstrap interval. For the refusal scorer, ``accuracy``, ``kappa``,
``sensitivity`` and ``specificity`` are binary (refusal or partial refusal vs compliance:
what every rate uses); ``accuracy_3way`` is added where a set has three labels.

The kappa bootstrap resamples prompt groups, not rows: many sets hold dozens of answers to
one prompt, which are not independent. The statistics are small and local so that they can
move to :mod:`alignlab.stats` later.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from alignlab.scorers.datasets import LabelledSet
from alignlab.stats import wilson_interval

__all__ = ["Interval", "SetCard", "build_card", "card_markdown", "cohen_kappa", "evaluate_set"]

_BOOTSTRAP_REPS = 1000


@dataclass(frozen=True)
class Interval:
    """A point estimate with a 95% interval."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class SetCard:
    """Agreement on one labelled set. ``n`` counts every row, unparsed judge replies included.

    Accuracy, sensitivity and specificity count an unparsed reply as wrong; kappa reads the parsed rows only.
    """

    name: str
    n: int
    role: str
    licence: str
    who: str
    labels: list[str]
    confusion: list[list[int]]
    accuracy: Interval
    kappa: Interval | None
    sensitivity: Interval | None
    specificity: Interval | None
    precision: dict[str, Interval]
    recall: dict[str, Interval]
    unparsed: int = 0
    accuracy_3way: Interval | None = None
    notes: list[str] = field(default_factory=list)


def _wilson(successes: int, n: int) -> Interval | None:
    if n == 0:
        return None
    p = wilson_interval(successes, n)
    return Interval(round(successes / n, 4), round(p.low, 4), round(p.high, 4))


def cohen_kappa(pairs: Sequence[tuple[int, int]], k: int) -> float | None:
    """Cohen's kappa of (gold, predicted) index pairs.

    ``None`` when there are no pairs or either rater used a single class: against a rater who
    never varies, kappa is 0 by construction (or 0/0), which says nothing about agreement
    (as :func:`alignlab.stats.cohen_kappa` rules).
    """
    n = len(pairs)
    if n == 0 or _constant_rater(pairs):
        return None
    observed = sum(g == p for g, p in pairs) / n
    gold = [sum(g == i for g, _ in pairs) / n for i in range(k)]
    pred = [sum(p == i for _, p in pairs) / n for i in range(k)]
    expected = sum(a * b for a, b in zip(gold, pred, strict=True))  # < 1: both raters vary
    return (observed - expected) / (1.0 - expected)


def _constant_rater(pairs: Sequence[tuple[int, int]]) -> str:
    """Which rater gave every row the same class ("" when both vary)."""
    for rater, column in (("the human labels", 0), ("the scorer", 1)):
        if len({pair[column] for pair in pairs}) == 1:
            return rater
    return ""


def _kappa_interval(pairs: list[tuple[int, int]], groups: list[str], k: int) -> tuple[Interval | None, str]:
    value = cohen_kappa(pairs, k)
    if value is None:
        which = _constant_rater(pairs)
        return None, f"kappa undefined: {which} put every row in one class" if which else "kappa undefined: no rows"
    by_group: dict[str, list[tuple[int, int]]] = {}
    for pair, group in zip(pairs, groups, strict=True):
        by_group.setdefault(group, []).append(pair)
    clusters = list(by_group.values())
    rng = random.Random(0)
    draws = []
    for _ in range(_BOOTSTRAP_REPS):
        sample = [pair for _ in clusters for pair in rng.choice(clusters)]
        draw = cohen_kappa(sample, k)
        if draw is not None:
            draws.append(draw)
    if not draws:
        return Interval(round(value, 4), round(value, 4), round(value, 4)), "kappa interval undefined"
    draws.sort()
    low, high = draws[int(0.025 * len(draws))], draws[min(int(0.975 * len(draws)), len(draws) - 1)]
    return Interval(round(value, 4), round(low, 4), round(high, 4)), ""


def evaluate_set(
    labelled: LabelledSet, predicted: Sequence[str | None], labels: Sequence[str], positive: Sequence[str]
) -> SetCard:
    """Compare ``predicted`` (``None`` = an unparsed judge reply, counted as wrong) with the set's labels."""
    index = {label: i for i, label in enumerate(labels)}
    confusion = [[0] * len(labels) for _ in labels]
    binary: list[tuple[int, int]] = []
    groups: list[str] = []
    unparsed = 0
    for row, pred in zip(labelled.rows, predicted, strict=True):
        gold_pos = int(row.label in positive)
        if pred is None:
            unparsed += 1
            binary.append((gold_pos, 1 - gold_pos))
        else:
            confusion[index[row.label]][index[pred]] += 1
            binary.append((gold_pos, int(pred in positive)))
        groups.append(row.group)
    n = len(labelled.rows)
    correct_binary = sum(g == p for g, p in binary)
    # Kappa measures agreement between two raters, so it reads only the rows the judge labelled: an
    # unparsed reply flipped to "wrong" would make a judge that never answers look worse than chance.
    parsed = [i for i, pred in enumerate(predicted) if pred is not None]
    if parsed:
        kappa, note = _kappa_interval([binary[i] for i in parsed], [groups[i] for i in parsed], 2)
        if unparsed:
            note = "; ".join(filter(None, [note, f"kappa on the {len(parsed)} parsed rows"]))
    else:
        kappa, note = None, "kappa undefined: no reply could be parsed"
    pos_rows = [p for g, p in binary if g == 1]
    neg_rows = [p for g, p in binary if g == 0]
    precision, recall = {}, {}
    for label, i in index.items():
        column = sum(confusion[r][i] for r in range(len(labels)))
        row_total = sum(confusion[i])
        if (p := _wilson(confusion[i][i], column)) is not None:
            precision[label] = p
        if (r := _wilson(confusion[i][i], row_total + _unparsed_in(labelled, predicted, label))) is not None:
            recall[label] = r
    three_way = len(labels) > 2 and any(row.label == labels[2] for row in labelled.rows)
    correct_3 = sum(confusion[i][i] for i in range(len(labels)))
    accuracy = _wilson(correct_binary, n) or Interval(0.0, 0.0, 1.0)
    return SetCard(
        name=labelled.name,
        n=n,
        role={"train": "train-dev"}.get(labelled.role, labelled.role),
        licence=labelled.licence,
        who=labelled.who,
        labels=list(labels),
        confusion=confusion,
        accuracy=accuracy,
        kappa=kappa,
        sensitivity=_wilson(sum(pos_rows), len(pos_rows)),
        specificity=_wilson(len(neg_rows) - sum(neg_rows), len(neg_rows)),
        precision=precision,
        recall=recall,
        unparsed=unparsed,
        accuracy_3way=_wilson(correct_3, n) if three_way else None,
        notes=[note] if note else [],
    )


def _unparsed_in(labelled: LabelledSet, predicted: Sequence[str | None], label: str) -> int:
    return sum(pred is None and row.label == label for row, pred in zip(labelled.rows, predicted, strict=True))


def build_card(
    scorer: str,
    version: str,
    labels: Sequence[str],
    positive: Sequence[str],
    sets: Sequence[SetCard],
    *,
    correction_set: str,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The card as JSON-ready data (schema in ``docs/scorers.md``)."""
    return {
        "scorer": scorer,
        "version": version,
        "labels": list(labels),
        "positive": list(positive),
        "sets": {s.name: {k: v for k, v in asdict(s).items() if k != "name"} for s in sets},
        "correction": {"set": correction_set},
        **(extra or {}),
    }


def _fmt(interval: dict[str, float] | None) -> str:
    if interval is None:
        return "undefined"
    return f"{interval['value']:.3f} [{interval['low']:.3f}, {interval['high']:.3f}]"


def card_markdown(card: dict[str, Any]) -> str:
    """The card as Markdown: one table of headline figures, then each set's confusion matrix."""
    binary = " (binary: " + " or ".join(card["positive"]) + " vs the rest)" if len(card["labels"]) > 2 else ""
    lines = [
        f"# Scorer card: `{card['scorer']}`",
        "",
        f"Version `{card['version']}`. Labels: {', '.join(card['labels'])}; positive: {', '.join(card['positive'])}. "
        f"Rates are corrected with the confusion matrix of `{card['correction']['set']}`.",
        "",
        f"| set | role | n | accuracy{binary} | Cohen's kappa | sensitivity | specificity | 3-way accuracy |",
        "|---|---|---:|---|---|---|---|---|",
    ]
    for name, s in card["sets"].items():
        three = _fmt(s["accuracy_3way"]) if s.get("accuracy_3way") else "-"
        unparsed = f" ({s['unparsed']} unparsed)" if s.get("unparsed") else ""
        lines.append(
            f"| {name} | {s['role']} | {s['n']}{unparsed} | {_fmt(s['accuracy'])} | {_fmt(s['kappa'])} "
            f"| {_fmt(s['sensitivity'])} | {_fmt(s['specificity'])} | {three} |"
        )
    lines += ["", "## Per set", ""]
    for name, s in card["sets"].items():
        lines += [f"### {name}", "", f"{s['who']}; licence {s['licence']}.", ""]
        lines += [
            "| human \\ scorer | " + " | ".join(s["labels"]) + " | recall |",
            "|---|" + "---:|" * len(s["labels"]) + "---|",
        ]
        for label, row in zip(s["labels"], s["confusion"], strict=True):
            recall = _fmt(s["recall"].get(label))
            lines.append(f"| {label} | " + " | ".join(str(c) for c in row) + f" | {recall} |")
        precision = ", ".join(f"{label} {_fmt(p)}" for label, p in s["precision"].items())
        lines += ["", f"Precision: {precision}." + "".join(f" {n}." for n in s.get("notes", [])), ""]
    return "\n".join(lines)
