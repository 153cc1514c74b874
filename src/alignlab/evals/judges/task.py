"""Pairwise judging as an Inspect task: the model under evaluation *is* the judge.

Each pair becomes two samples, ``<id>:12`` and ``<id>:21`` (answers swapped). The scorer
only reads the judge's reply; the QA statistics are computed from the log afterwards, so
``inspect view`` shows every prompt and reply and :func:`judgments_from_log` can rebuild
the summary from any saved log.
"""

from __future__ import annotations

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

from alignlab.evals.judges.pairs import JudgePair
from alignlab.evals.judges.prompts import JudgePrompt, injection_evidence, parse_reply
from alignlab.evals.judges.qa import JudgeQASummary, OrderJudgment, summarize_judgments
from alignlab.evals.judges.transform import label_from_score, swap_score
from alignlab.models import get_model
from alignlab.settings import Settings
from alignlab.store import FinishStatus, Store, finish_run, start_run

__all__ = ["JudgeRun", "judgments_from_log", "pairwise_judge_task", "pairwise_verdict", "run_pairwise_judge"]

SUITE = "judge-pairwise"
Display = Literal["full", "rich", "plain", "none", "conversation", "log"]


@scorer(metrics=[])
def pairwise_verdict(reply_format: str = "scale") -> Scorer:
    """Read the judge reply as a 1–9 score; the value is the preferred position or ``unparsed``."""

    async def score(state: TaskState, target: Target) -> Score:
        text = state.output.completion if state.output else ""
        verdict = parse_reply(text, "verdict" if reply_format == "verdict" else "scale")
        label = label_from_score(verdict.score) if verdict.score is not None else "unparsed"
        return Score(
            value=label,
            answer=text[:4000],
            explanation=verdict.reason if verdict.parsed else verdict.error,
            metadata={"score": verdict.score, "error": verdict.error},
        )

    return score


def _samples(pairs: Sequence[JudgePair], prompt: JudgePrompt) -> list[Sample]:
    samples = []
    for pair in pairs:
        found = [(k, injection_evidence(a)) for k, a in ((1, pair.answer_1), (2, pair.answer_2))]
        evidence = "; ".join(f"answer {k}: {e!r}" for k, e in found if e) or None
        for order, first, second, human in (
            ("12", pair.answer_1, pair.answer_2, pair.human_score),
            ("21", pair.answer_2, pair.answer_1, None if pair.human_score is None else swap_score(pair.human_score)),
        ):
            samples.append(
                Sample(
                    id=f"{pair.id}:{order}",
                    input=[
                        ChatMessageSystem(content=prompt.system),
                        ChatMessageUser(content=prompt.render(pair.question, first, second)),
                    ],
                    metadata={
                        "pair_id": pair.id,
                        "order": order,
                        "human_score": human,
                        "human_source": pair.human_source,
                        "injection": evidence is not None,
                        "injection_evidence": evidence,
                    },
                )
            )
    return samples


def pairwise_judge_task(
    pairs: Sequence[JudgePair], prompt: JudgePrompt, *, max_tokens: int | None = None, name: str = SUITE
) -> Task:
    """An Inspect task judging every pair in both orders with ``prompt`` (greedy decoding)."""
    return Task(
        dataset=MemoryDataset(_samples(pairs, prompt), name=name),
        solver=generate(),
        scorer=pairwise_verdict(reply_format=prompt.reply_format),
        config=GenerateConfig(max_tokens=max_tokens or prompt.max_tokens, temperature=0.0),
        name=name,
    )


def judgments_from_log(log: EvalLog) -> list[OrderJudgment]:
    """One :class:`OrderJudgment` per scored sample of a pairwise-judge log."""
    out = []
    for sample in log.samples or []:
        meta = sample.metadata
        score = next(iter((sample.scores or {}).values()), None)
        score_meta = (score.metadata or {}) if score is not None else {}
        error = score_meta.get("error") if score is not None else (sample.error.message if sample.error else "no score")
        out.append(
            OrderJudgment(
                pair_id=str(meta["pair_id"]),
                order=meta["order"],
                score=score_meta.get("score"),
                human_score=meta.get("human_score"),
                error=error,
                injection_suspected=bool(meta.get("injection")),
                injection_evidence=meta.get("injection_evidence"),
                human_source=meta.get("human_source") or None,
                reason=(score.explanation or "") if score is not None else "",
            )
        )
    return out


@dataclass(frozen=True)
class JudgeRun:
    """A finished pairwise-judge run."""

    summary: JudgeQASummary
    judgments: list[OrderJudgment]
    log_location: str
    run_id: str | None


def run_pairwise_judge(
    pairs: Sequence[JudgePair],
    judge: str,
    prompt: JudgePrompt,
    *,
    settings: Settings,
    store: Store | None = None,
    dataset: str = "pairs",
    log_dir: Path | None = None,
    max_tokens: int | None = None,
    display: Display = "rich",
) -> JudgeRun:
    """Judge ``pairs`` in both orders with model ``judge``; return the QA summary.

    Args:
        pairs: The pairs (see :mod:`alignlab.evals.judges.pairs`).
        judge: An alignlab model name (``default``, ``openai/...``, a local directory).
        prompt: The judge prompt.
        settings: Paths.
        store: When given, the run and its QA summary are recorded (suite ``judge-pairwise``).
        dataset: Dataset label for the store row.
        log_dir: Inspect log directory (``settings.log_dir`` by default).
        max_tokens: Reply budget (the prompt's own default otherwise).
        display: Inspect's progress display.
    """
    model = get_model(judge)
    record = None
    if store is not None:
        record = start_run(
            store,
            suite=SUITE,
            model=judge,
            dataset=dataset,
            seed=0,
            config={"prompt": prompt.name, "pairs": len(pairs), "inspect_model": str(model)},
        )
    log = inspect_eval(
        pairwise_judge_task(pairs, prompt, max_tokens=max_tokens),
        model=model,
        log_dir=str(log_dir or settings.log_dir),
        display=display,
        fail_on_error=False,
    )[0]
    judgments = judgments_from_log(log)
    summary = summarize_judgments(judgments, judge=judge, prompt=prompt.name)
    if store is not None and record is not None:
        status: FinishStatus = "error"
        if log.status in ("success", "cancelled"):
            status = "success" if log.status == "success" else "cancelled"
        finish_run(
            store,
            record.id,
            status=status,
            n_samples=len(judgments),
            metrics={"judge_qa": summary.to_dict()},
            log_path=log.location,
            error=log.error.message if log.error else None,
        )
    return JudgeRun(summary, judgments, log.location, record.id if record else None)
