"""Turn feedback into preference pairs in TRL's conversational ``prompt``/``chosen``/``rejected`` format.

Three sources, strongest first, each pair carrying its ``lineage`` (the feedback rows and
interactions that made it):

* ``pairwise``: votes on the same two responses are pooled; the majority wins, ties are
  dropped.
* ``thumbs``: within one prompt, every response with net thumbs up is preferred over
  every response with net thumbs down.
* ``score``: within one prompt, a response whose mean 1–10 score is at least
  ``min_score_gap`` above another's is preferred.
* ``implicit`` (only with ``include_implicit``): within one prompt, an answer the user
  copied (net of regenerations) is preferred over one they regenerated.

A response confirmed as bad by a moderator (a flag resolved ``confirmed``) is never
``chosen``. Only successful interactions with a non-empty response take part, and pairs
whose two answers are identical are skipped (they carry no preference signal).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import select

from alignlab.store import Store
from alignlab.store.service_tables import FeedbackRow, InteractionRow

__all__ = ["ExportSummary", "PreferencePair", "export_preferences", "preference_pairs"]

Source = Literal["pairwise", "thumbs", "score", "implicit"]


class PreferencePair(BaseModel):
    """One TRL preference example plus where it came from."""

    prompt: list[dict[str, Any]]
    chosen: list[dict[str, str]]
    rejected: list[dict[str, str]]
    lineage: dict[str, Any]


@dataclass(frozen=True)
class ExportSummary:
    """What :func:`export_preferences` wrote."""

    path: Path
    pairs: int
    by_source: dict[str, int]


@dataclass
class _Response:
    id: str
    prompt_hash: str
    messages: list[dict[str, Any]]
    text: str


def _load(store: Store) -> tuple[dict[str, _Response], list[FeedbackRow]]:
    with store.session() as session:
        feedback = list(session.scalars(select(FeedbackRow).order_by(FeedbackRow.created_at, FeedbackRow.id)))
        ids = {f.interaction_id for f in feedback} | {
            f.other_interaction_id for f in feedback if f.other_interaction_id
        }
        rows = session.scalars(select(InteractionRow).where(InteractionRow.id.in_(ids))).all()
    responses = {
        r.id: _Response(r.id, r.prompt_hash, list(r.request.get("messages", [])), r.response_text or "")
        for r in rows
        if r.status == "ok" and (r.response_text or "").strip()
    }
    return responses, feedback


def preference_pairs(
    store: Store, *, min_score_gap: float = 2.0, include_implicit: bool = False
) -> list[PreferencePair]:
    """Build every preference pair the feedback supports (see the module docstring)."""
    responses, feedback = _load(store)
    banned = {f.interaction_id for f in feedback if f.kind == "flag" and f.resolution == "confirmed"}
    pairs: dict[frozenset[str], PreferencePair] = {}

    def add(chosen: str, rejected: str, source: Source, feedback_ids: list[str], **extra: Any) -> None:
        key = frozenset((chosen, rejected))
        if chosen in banned or key in pairs or chosen not in responses or rejected not in responses:
            return
        c, r = responses[chosen], responses[rejected]
        if c.text.strip() == r.text.strip():  # no preference signal in identical answers
            return
        pairs[key] = PreferencePair(
            prompt=c.messages,
            chosen=[{"role": "assistant", "content": c.text}],
            rejected=[{"role": "assistant", "content": r.text}],
            lineage={
                "source": source,
                "feedback_ids": feedback_ids,
                "chosen_interaction_id": chosen,
                "rejected_interaction_id": rejected,
                **extra,
            },
        )

    votes: dict[frozenset[str], list[FeedbackRow]] = defaultdict(list)
    for f in feedback:
        if f.kind == "pairwise" and f.other_interaction_id:
            votes[frozenset((f.interaction_id, f.other_interaction_id))].append(f)
    for ballot in votes.values():
        tally: dict[str, int] = defaultdict(int)
        for f in ballot:
            if f.choice in ("a", "b"):
                tally[f.interaction_id if f.choice == "a" else str(f.other_interaction_id)] += 1
        ranked = sorted(tally.items(), key=lambda kv: -kv[1])
        if ranked and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
            winner = ranked[0][0]
            loser = next(i for i in (ballot[0].interaction_id, str(ballot[0].other_interaction_id)) if i != winner)
            add(winner, loser, "pairwise", [f.id for f in ballot], votes=dict(tally))

    by_prompt: dict[str, dict[str, list[FeedbackRow]]] = defaultdict(lambda: defaultdict(list))
    for f in feedback:
        if f.kind in ("thumbs", "score", "implicit") and f.interaction_id in responses:
            by_prompt[responses[f.interaction_id].prompt_hash][f.interaction_id].append(f)
    for group in by_prompt.values():
        net = {i: sum(1 if f.thumbs == "up" else -1 for f in fs if f.kind == "thumbs") for i, fs in group.items()}
        ids = {i: [f.id for f in fs if f.kind == "thumbs"] for i, fs in group.items()}
        for good, bad in product([i for i, v in net.items() if v > 0], [i for i, v in net.items() if v < 0]):
            add(good, bad, "thumbs", ids[good] + ids[bad])
        scores = {i: [f.score for f in fs if f.kind == "score" and f.score is not None] for i, fs in group.items()}
        means = {i: sum(s) / len(s) for i, s in scores.items() if s}
        sids = {i: [f.id for f in group[i] if f.kind == "score"] for i in means}
        for good, bad in product(means, means):
            if means[good] - means[bad] >= min_score_gap:
                add(good, bad, "score", sids[good] + sids[bad], score_gap=means[good] - means[bad])
        if include_implicit:
            _implicit_pairs(group, add)
    return list(pairs.values())


def _implicit_pairs(group: dict[str, list[FeedbackRow]], add: Callable[..., None]) -> None:
    # Weak signals: a copied answer was used, a regenerated one was not.
    net = {
        i: sum({"copied": 1, "regenerated": -1}.get(f.event or "", 0) for f in fs if f.kind == "implicit")
        for i, fs in group.items()
    }
    ids = {i: [f.id for f in fs if f.kind == "implicit"] for i, fs in group.items()}
    for good, bad in product([i for i, v in net.items() if v > 0], [i for i, v in net.items() if v < 0]):
        add(good, bad, "implicit", ids[good] + ids[bad])


def export_preferences(
    store: Store, out: Path, *, min_score_gap: float = 2.0, include_implicit: bool = False
) -> ExportSummary:
    """Write the preference pairs as JSON lines to ``out`` (loadable with ``datasets.load_dataset("json")``)."""
    pairs = preference_pairs(store, min_score_gap=min_score_gap, include_implicit=include_implicit)
    out.parent.mkdir(parents=True, exist_ok=True)
    by_source: dict[str, int] = defaultdict(int)
    with out.open("w", encoding="utf-8") as fh:
        for pair in pairs:
            fh.write(json.dumps(pair.model_dump(), ensure_ascii=False) + "\n")
            by_source[pair.lineage["source"]] += 1
    return ExportSummary(out, len(pairs), dict(by_source))
