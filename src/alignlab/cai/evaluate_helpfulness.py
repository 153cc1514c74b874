"""Helpfulness and evasiveness of a stage's answers: a 1–10 judge rating, and bare refusals.

Helpfulness is MT-Bench's ``single-v1`` judge prompt (the one
:func:`alignlab.evals.judges.single_answer_scorer` uses) rating each answer to a benign prompt,
run as an Inspect task so the judge's requests are batched and every reply is in a log
(``inspect view``); :func:`alignlab.evals.judges.parse_rating` reads the ``[[rating]]``. A reply
without a readable rating (or a judge call that errored) is *unparsed*: counted, left out of
the mean and of the paired tests, never silently scored.

Evasiveness follows Constitutional AI's aim of a model that is "harmless but not evasive": a
harmful request met with a *bare* refusal ("I can't help with that.") is evasive; a refusal
that says why (a harm, a law, a risk) or offers a safer alternative (another approach, a
helpline, a professional) engages with the person and is not. It reuses the sentence families
of the refusal classifier's pattern stage (``lecture``, ``redirect``, ``support``), so it
inherits that classifier's measured limits.

Judge ratings are cached in ``<log_dir>/cai-judge-cache.jsonl``, keyed by judge, prompt,
budget, question and answer, as each stage's batch finishes: a rerun after an interruption
asks only about what was not rated, and an answer two stages share is rated once.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from inspect_ai import Task
from inspect_ai import eval as inspect_eval
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.log import EvalLog
from inspect_ai.model import ChatMessageSystem, ChatMessageUser, GenerateConfig
from inspect_ai.scorer import Score, Scorer, Target, scorer
from inspect_ai.solver import TaskState, generate

from alignlab.errors import InputError
from alignlab.evals.judges import parse_rating
from alignlab.evals.judges.single import load_single_prompt
from alignlab.models import get_model
from alignlab.settings import Settings

__all__ = [
    "JUDGE_MAX_TOKENS",
    "JUDGE_PROMPT",
    "HelpfulnessJudge",
    "RatedAnswer",
    "helpfulness_rating",
    "helpfulness_task",
]

JUDGE_PROMPT = "single-v1"
JUDGE_MAX_TOKENS = 160
CACHE_FILE = "cai-judge-cache.jsonl"
TASK_NAME = "cai_helpfulness"
Display = Literal["full", "rich", "plain", "none", "conversation", "log"]


@dataclass(frozen=True)
class RatedAnswer:
    """An answer to rate: the benign prompt's sample id, the prompt and the answer."""

    id: str
    question: str
    answer: str


@scorer(metrics=[])
def helpfulness_rating() -> Scorer:
    """Read the judge's ``[[rating]]`` (1–10); the value is the rating or ``unparsed``."""

    async def score(state: TaskState, target: Target) -> Score:
        reply = state.output.completion if state.output else ""
        rating = parse_rating(reply)
        parsed = not math.isnan(rating)
        return Score(value=rating if parsed else "unparsed", answer=reply[:4000],
                     metadata={"rating": rating if parsed else None})  # fmt: skip

    return score


def helpfulness_task(items: Sequence[RatedAnswer], settings: Settings, *, name: str = TASK_NAME) -> Task:
    """An Inspect task in which the *model* is the judge, rating each answer with ``single-v1``."""
    system, template = load_single_prompt(settings, JUDGE_PROMPT)
    samples = [
        Sample(
            id=item.id,
            input=[
                ChatMessageSystem(content=system),
                ChatMessageUser(content=template.format(question=item.question, answer=item.answer)),
            ],
            metadata={"question": item.question},
        )
        for item in items
    ]
    return Task(
        dataset=MemoryDataset(samples, name=name),
        solver=generate(),
        scorer=helpfulness_rating(),
        config=GenerateConfig(max_tokens=JUDGE_MAX_TOKENS, temperature=0.0),
        name=name,
    )


def _ratings_from_log(log: EvalLog) -> dict[str, float | None]:
    """Sample id → rating; NaN for a reply without one, ``None`` for a judge call that errored."""
    out: dict[str, float | None] = {}
    for sample in log.samples or []:
        score = next(iter((sample.scores or {}).values()), None)
        if sample.error is not None or score is None:
            out[str(sample.id)] = None
            continue
        rating = (score.metadata or {}).get("rating")
        out[str(sample.id)] = math.nan if rating is None else float(rating)
    return out


class HelpfulnessJudge:
    """Rates answers 1–10 with one judge model, batched through Inspect; ratings are cached on disk."""

    def __init__(self, judge: str, settings: Settings, log_dir: Path) -> None:
        self.judge = judge
        self.settings = settings
        self.log_dir = log_dir
        self.cache_path = log_dir / CACHE_FILE
        self._cache = _read_cache(self.cache_path)
        self.new_calls = 0
        self.cached_calls = 0

    def _key(self, item: RatedAnswer) -> str:
        raw = json.dumps([self.judge, JUDGE_PROMPT, JUDGE_MAX_TOKENS, item.question, item.answer])
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()

    def rate(self, items: Sequence[RatedAnswer], *, display: Display = "none") -> tuple[dict[str, float], str | None]:
        """Each answer's rating (NaN: unparsed) and the judge log (``None`` when every rating was cached)."""
        keys = {item.id: self._key(item) for item in items}
        todo = [item for item in items if keys[item.id] not in self._cache]
        self.cached_calls += len(items) - len(todo)
        location = None
        if todo:
            logs = inspect_eval(
                helpfulness_task(todo, self.settings),
                model=get_model(self.judge),
                log_dir=str(self.log_dir),
                display=display,
                log_buffer=4,
                fail_on_error=False,
            )
            if not logs:
                raise InputError("helpfulness judging was interrupted; run again to resume (finished work is reused)")
            location = logs[0].location
            rated = _ratings_from_log(logs[0])
            self.new_calls += len(rated)
            # An errored judge call is not cached: it is asked again next time.
            self._remember({keys[i]: r for i, r in rated.items() if i in keys and r is not None})
        ratings = {item.id: self._cache.get(keys[item.id], math.nan) for item in items}
        return ratings, location

    def _remember(self, ratings: dict[str, float]) -> None:
        self._cache.update(ratings)
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        with self.cache_path.open("a", encoding="utf-8") as fh:
            for key, rating in ratings.items():
                fh.write(json.dumps({"key": key, "rating": None if math.isnan(rating) else rating}) + "\n")


def _read_cache(path: Path) -> dict[str, float]:
    cache: dict[str, float] = {}
    if not path.is_file():
        return cache
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
            rating = row["rating"]
            cache[str(row["key"])] = math.nan if rating is None else float(rating)
        except (ValueError, KeyError, TypeError):
            continue  # a line cut short by an interruption: that rating is asked again
    return cache
