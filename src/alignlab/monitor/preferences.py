"""Turn feedback into preference pairs in TRL's conversational ``prompt``/``chosen``/``rejected`` format.

Three sources, strongest first, each pair carrying its ``lineage`` (the feedback rows and
interactions that made it):

* ``pairwise``: votes on the same two responses are pooled; the majority wins, ties are
  dropped.
* ``thumbs``: within one prompt, every response with net thumbs up is preferred over
  every response with net thumbs down.
* ``score``: within one prompt, a response whose mean 1–10 score is at least
  ``min_score_gap`` above another's is preferred.
* ``flag``: within one prompt, any other successful answer with no bad signal of its own (no
  flag, no net thumbs down, no mean score below 5.5) is preferred over an answer a moderator
  confirmed as bad; a pair another source
  already made with the flagged answer rejected lists the flag in its lineage too.
* ``implicit`` (only with ``include_implicit``): within one prompt, an answer the user
  copied (net of regenerations) is preferred over one they regenerated.

A response confirmed as bad by a moderator (a flag resolved ``confirmed``) is never
``chosen``. Every export is recorded in the store, and the file is the training dataset
``export:<id>``; only successful interactions with a non-empty response take part, and pairs
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

from alignlab.data.training_sets import content_hash
from alignlab.store import Store, record_feedback_export
from alignlab.store.service_tables import FeedbackRow, InteractionRow

__all__ = ["ExportSummary", "PreferencePair", "export_preferences", "preference_pairs"]

Source = Literal["pairwise", "thumbs", "score", "flag", "implicit"]


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
    export_id: str = ""
    """Train on the file as ``export:<export_id>``."""


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
        flagged = {f.interaction_id for f in feedback if f.kind == "flag" and f.resolution == "confirmed"}
        # A confirmed flag pairs with the other answers to its prompt, rated or not.
        hashes = select(InteractionRow.prompt_hash).where(InteractionRow.id.in_(flagged))
        rows = session.scalars(
            select(InteractionRow).where(InteractionRow.id.in_(ids) | InteractionRow.prompt_hash.in_(hashes))
        ).all()
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
    _flag_pairs(responses, feedback, pairs, add)
    return list(pairs.values())


def _flag_pairs(
    responses: dict[str, _Response],
    feedback: list[FeedbackRow],
    pairs: dict[frozenset[str], PreferencePair],
    add: Callable[..., None],
) -> None:
    flags: dict[str, list[str]] = defaultdict(list)
    for f in feedback:
        if f.kind == "flag" and f.resolution == "confirmed" and f.interaction_id in responses:
            flags[f.interaction_id].append(f.id)
    for pair in pairs.values():
        rejected = pair.lineage["rejected_interaction_id"]
        pair.lineage["feedback_ids"] = [*pair.lineage["feedback_ids"], *flags.get(rejected, [])]
    # The other answer must carry no bad signal of its own: no open or confirmed flag, no net
    # thumbs down, no mean score below the scale's midpoint.
    suspect = {f.interaction_id for f in feedback if f.kind == "flag" and f.resolution != "dismissed"}
    net: dict[str, int] = defaultdict(int)
    scores: dict[str, list[int]] = defaultdict(list)
    for f in feedback:
        if f.kind == "thumbs":
            net[f.interaction_id] += 1 if f.thumbs == "up" else -1
        elif f.kind == "score" and f.score is not None:
            scores[f.interaction_id].append(f.score)
    suspect |= {i for i, v in net.items() if v < 0} | {i for i, s in scores.items() if sum(s) / len(s) < 5.5}
    for bad, flag_ids in flags.items():
        for good in responses.values():
            if good.prompt_hash == responses[bad].prompt_hash and good.id not in suspect:
                add(good.id, bad, "flag", list(flag_ids))


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
    """Write the preference pairs as JSON lines to ``out`` and record the export in the store.

    The file loads with ``datasets.load_dataset("json")``; ``alignlab train`` takes it as
    ``export:<id>`` (or ``export:latest``) and records which feedback events it learned from.
    """
    pairs = [
        p.model_dump() for p in preference_pairs(store, min_score_gap=min_score_gap, include_implicit=include_implicit)
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    by_source: dict[str, int] = defaultdict(int)
    with out.open("w", encoding="utf-8") as fh:
        for pair in pairs:
            fh.write(json.dumps(pair, ensure_ascii=False) + "\n")
            by_source[pair["lineage"]["source"]] += 1
    export = record_feedback_export(
        store,
        path=str(out.resolve()),
        sha256=content_hash(pairs),
        n_pairs=len(pairs),
        by_source=dict(by_source),
        options={"min_score_gap": min_score_gap, "include_implicit": include_implicit},
    )
    return ExportSummary(out, len(pairs), dict(by_source), export.id)
