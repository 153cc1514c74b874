"""Measure a scorer, or any model as an LLM judge, on every labelled set and build its card.

``make_card("harm")`` scores the bundled ``harm`` scorer; ``make_card("harm", judge="openai/gpt-4o")``
asks that model the same question through the judge prompts (:mod:`.refusal.judge`,
:mod:`.harm_judge`) so a user can see whether a judge beats the bundled scorer before
trusting it. The pooled ``heldout`` set (every held-out part together) is the one whose
confusion matrix corrects rates.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from alignlab.errors import ConfigError
from alignlab.scorers import get_scorer
from alignlab.scorers.card import SetCard, build_card, evaluate_set
from alignlab.scorers.datasets import LabelledResponse, LabelledSet, ScorerName, load_sets, split_sets
from alignlab.scorers.learned import HARM_LABELS, weights_path
from alignlab.scorers.refusal import REFUSAL_LABELS

__all__ = [
    "CardResult",
    "SourceResult",
    "by_model",
    "dna_halves",
    "family_of",
    "leave_one_source_out",
    "make_card",
    "predict",
    "source_of",
    "write_card",
]

POOLED_HELDOUT = "heldout"
DNA = "do-not-answer"
_POSITIVE: dict[ScorerName, tuple[str, ...]] = {"refusal": ("refusal", "partial_refusal"), "harm": ("harmful",)}
_LABELS: dict[ScorerName, tuple[str, ...]] = {"refusal": REFUSAL_LABELS, "harm": HARM_LABELS}


@dataclass(frozen=True)
class CardResult:
    """A card (JSON-ready) and the per-set figures it was built from."""

    card: dict[str, Any]
    sets: list[SetCard]


def family_of(name: str) -> ScorerName:
    """``refusal`` or ``harm``: which labels a scorer name produces."""
    family = name.split("-", 1)[0]
    if family not in ("refusal", "harm"):
        raise ConfigError(f"scorer {name!r}: cards exist for refusal and harm scorers (names starting refusal/harm)")
    return family  # type: ignore[return-value]


def _limit(labelled: LabelledSet, limit: int | None) -> LabelledSet:
    if limit is None or len(labelled.rows) <= limit:
        return labelled
    rows = list(labelled.rows)
    random.Random(f"{labelled.name}:{limit}").shuffle(rows)
    return replace(labelled, rows=tuple(rows[:limit]))


def dna_halves(labelled: LabelledSet) -> list[LabelledSet]:
    """Do-Not-Answer split by question into a ``dev`` half (read for error analysis) and a ``test`` half (never read).

    The split is a hash of the question's normalised words, so every model's answer to one question
    lands in the same half; the ``test`` half is the honest figure for phrasings tuned on ``dev``.
    """
    halves: dict[str, list[LabelledResponse]] = {"dev": [], "test": []}
    for row in labelled.rows:
        digest = hashlib.sha256(f"dna-half:{row.group}".encode()).digest()
        halves["dev" if digest[0] % 2 == 0 else "test"].append(row)
    return [replace(labelled, name=f"{labelled.name}:{half}", rows=tuple(rows)) for half, rows in halves.items()]


def by_model(labelled: LabelledSet) -> list[LabelledSet]:
    """One set per answering model (rows without a model name are left out), in first-seen order."""
    models = dict.fromkeys(r.model for r in labelled.rows if r.model)
    return [
        replace(labelled, name=f"{labelled.name}:{m}", rows=tuple(r for r in labelled.rows if r.model == m))
        for m in models
    ]


def _with_halves(sets: list[LabelledSet], family: ScorerName) -> list[LabelledSet]:
    """The refusal card also reports Do-Not-Answer's dev and test halves (see :func:`dna_halves`)."""
    if family != "refusal":
        return sets
    return [part for s in sets for part in ([s, *dna_halves(s)] if s.name == DNA else [s])]


def predict(name: str, labelled: LabelledSet, judge: str | None) -> list[str | None]:
    """Each row's predicted label; ``None`` where a judge's reply could not be parsed."""
    prompts = [r.prompt for r in labelled.rows]
    responses = [r.response for r in labelled.rows]
    if judge is None:
        return [r.label for r in get_scorer(name).classify(prompts, responses)]
    return _judge_labels(family_of(name), prompts, responses, judge)


def _judge_labels(family: ScorerName, prompts: list[str], responses: list[str], judge: str) -> list[str | None]:
    from alignlab.models import get_model
    from alignlab.scorers.harm_judge import ask_harm_judge
    from alignlab.scorers.refusal.judge import ask_refusal_judge

    model = get_model(judge)
    ask = ask_refusal_judge if family == "refusal" else ask_harm_judge

    async def ask_all() -> list[tuple[str | None, str]]:
        return await asyncio.gather(*[ask(r, p, model) for p, r in zip(prompts, responses, strict=True)])

    return [label for label, _ in asyncio.run(ask_all())]


def _version(name: str, judge: str | None) -> str:
    if judge is not None:
        return f"judge:{judge}"
    if name in ("refusal", "harm"):
        path = weights_path(name)  # type: ignore[arg-type]
        if path.is_file():
            return "weights-sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return "patterns"


def make_card(name: str, data_dir: Path | None, *, judge: str | None = None, limit: int | None = None) -> CardResult:
    """Score ``name`` (or ``judge`` on ``name``'s question) on every labelled set.

    Args:
        name: A registered scorer (``refusal``, ``harm``, ``refusal-patterns``, ...).
        data_dir: ``ALIGNLAB_DATA_DIR``; without it only the project's own sets are scored.
        judge: A model name to score as an LLM judge instead of the scorer.
        limit: At most this many rows per set (a seeded sample), for slow judges.
    """
    family = family_of(name)
    if judge is None:
        get_scorer(name)  # an unknown name fails before any data is read
    sets = [_limit(s, limit) for s in _with_halves(split_sets(load_sets(family, data_dir)), family)]
    labels, positive = _LABELS[family], _POSITIVE[family]
    predictions = {s.name: predict(name, s, judge) for s in sets}
    cards = [evaluate_set(s, predictions[s.name], labels, positive) for s in sets]
    heldout = [s for s in sets if s.role == "heldout"]
    if heldout:
        pooled = LabelledSet(
            POOLED_HELDOUT,
            family,
            "as each part",
            "every held-out part above, pooled",
            True,
            tuple(r for s in heldout for r in s.rows),
            "heldout",
        )
        predicted = [p for s in heldout for p in predictions[s.name]]
        cards.append(evaluate_set(pooled, predicted, labels, positive))
    correction = POOLED_HELDOUT if heldout else cards[0].name
    card_name = f"{name} (judge {judge})" if judge else name
    card = build_card(card_name, _version(name, judge), labels, positive, cards, correction_set=correction)
    return CardResult(card, cards)


@dataclass(frozen=True)
class SourceResult:
    """Binary agreement on one source's every row, by a head trained without that source, and by the baseline."""

    source: str
    n: int
    learned: float
    baseline: float


def source_of(set_name: str) -> str:
    """The source a set's part comes from: ``gptfuzz-evaluate`` is GPTFuzz, every ``project:*`` set is the project."""
    name = set_name.removesuffix(":heldout")
    if name.startswith("project:"):
        return "project"
    return name.removesuffix("-evaluate")


def _agreement(labelled: LabelledSet, predicted: list[str | None], positive: tuple[str, ...]) -> float:
    hits = sum((row.label in positive) == (p in positive) for row, p in zip(labelled.rows, predicted, strict=True))
    return hits / len(labelled.rows)


def leave_one_source_out(family: ScorerName, data_dir: Path | None, baseline: str) -> list[SourceResult]:
    """For each trainable source: train the head on the others' training parts, score all of its rows.

    The closest we have to "a set we have not seen": the left-out source's answers come from
    other models, prompts and labellers than everything the head was trained on. ``baseline``
    (a scorer name, e.g. ``refusal-patterns``) is scored on the same rows.
    """
    from alignlab.scorers.learned import LearnedScorer, train_weights
    from alignlab.scorers.training import DEFAULT_CONFIGS

    sets = split_sets(load_sets(family, data_dir))
    positive = _POSITIVE[family]
    results = []
    for source in sorted({source_of(s.name) for s in sets if s.trainable}):
        rows = tuple(r for s in sets if s.trainable and source_of(s.name) == source for r in s.rows)
        held = LabelledSet(source, family, "", "", True, rows, "heldout")
        others = [s for s in sets if source_of(s.name) != source]
        scorer = LearnedScorer(train_weights(others, DEFAULT_CONFIGS[family]))
        prompts, responses = [r.prompt for r in rows], [r.response for r in rows]
        learned: list[str | None] = [r.label for r in scorer.classify(prompts, responses)]
        base = _agreement(held, predict(baseline, held, None), positive)
        results.append(SourceResult(source, len(rows), round(_agreement(held, learned, positive), 4), round(base, 4)))
    return results


def write_card(result: CardResult, *, md_path: Path, json_path: Path) -> None:
    """Write the card as Markdown and JSON."""
    import json

    from alignlab.scorers.card import card_markdown

    for path in (md_path, json_path):
        path.parent.mkdir(parents=True, exist_ok=True)
    md_path.write_text(card_markdown(result.card) + "\n", encoding="utf-8")
    json_path.write_text(json.dumps(result.card, indent=1) + "\n", encoding="utf-8")
