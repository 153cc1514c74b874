"""The RL phase's AI feedback: two answers per prompt, a feedback model picks one, in both orders.

For every new red-team prompt the SFT model samples two answers. A feedback model (any
model name) is shown the prompt, the two answers and one principle's comparison question,
drawn at random per pair, and replies ``[[A]]`` or ``[[B]]`` (``method: text``); or, as in
the CAI paper, the more likely of the letters A and B as its first token decides
(``method: logprobs``, for models that return log-probabilities: local models, OpenAI). It
is asked twice, with the answers swapped. The replies are read with the judges' parser and the two orders are
compared with the judges' QA (:func:`alignlab.evals.judges.summarize_judgments`):

* a pair whose preferred answer survives the swap is **consistent** (weight 1);
* one whose preference flips (or turns into a tie) is **inconsistent**: dropped (weight 0)
  or down-weighted (weight 0.5), as configured; its label is the answer with more votes,
  the first order breaking a tie;
* a pair with an unreadable reply in either order is **unparsed**: counted, reported, and
  given weight 0 (there is no verdict to check against the other order);
* a consistent tie (both orders say neither) carries no preference: weight 0.

With ``method: logprobs`` each reply also gives P(first shown is better), the normalised
probability of its first letter. For an inconsistent pair the label then comes from the
average over both orders of P(answer 1 is better) — ``(P12(A) + P21(B)) / 2`` — instead of
the first order's verdict: a judge with a pure position bias says "A" in both orders, so the
first order's verdict is then a coin the pair's sampling order flipped, while the average
cancels the bias and keeps whatever residual preference the judge has (the CAI paper trains
on these normalised probabilities). ``position_bias`` in the stats is the mean P(first shown).

Every pair is written to ``ai_preferences.jsonl`` with its status and weight, so nothing
is dropped silently; the weight column says what the preference model trains on.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from alignlab.cai.config import FeedbackMethod, FeedbackOptions
from alignlab.cai.constitution import Constitution, Principle
from alignlab.cai.generate import Generator, GenParams, Messages
from alignlab.evals.judges import JudgePrompt, OrderJudgment, parse_reply, summarize_judgments
from alignlab.evals.judges.prompts import GUARD
from alignlab.evals.judges.transform import label_from_score

__all__ = [
    "DOWNWEIGHT",
    "FeedbackResult",
    "SampledPair",
    "feedback_prompt",
    "first_letter_probability",
    "label_pairs",
    "sample_pairs",
    "verdict_from_logprobs",
]

DOWNWEIGHT = 0.5
_SYSTEM = (
    "You compare two answers that an AI assistant gave to the same request. Question: {comparison} "
    "Reply with [[A]] if Answer A is better on this question, or [[B]] if Answer B is better." + GUARD
)
_TEMPLATE = """### Request
{question}

### The Start of Answer A
{answer_1}
### The End of Answer A

### The Start of Answer B
{answer_2}
### The End of Answer B

{instruction}"""
_DELIMITERS = (
    "### Request",
    "### The Start of Answer A",
    "### The End of Answer A",
    "### The Start of Answer B",
    "### The End of Answer B",
    "Verdict ([[A]] or [[B]]):",
    "Reply with one letter, A or B.",
)
_INSTRUCTIONS = {"text": "Verdict ([[A]] or [[B]]):", "logprobs": "Reply with one letter, A or B."}
TOP_LOGPROBS = 20


def feedback_prompt(principle: Principle, method: FeedbackMethod = "text") -> JudgePrompt:
    """The judge prompt for one principle (answers' copies of the delimiters are defused)."""
    system = _SYSTEM.replace("{comparison}", principle.comparison)
    template = _TEMPLATE.replace("{instruction}", _INSTRUCTIONS[method])
    return JudgePrompt(f"cai-{principle.name}", system, template, "verdict", _DELIMITERS, max_tokens=24)


def _top_logprobs(reply: str) -> dict[str, float] | None:
    try:
        top: dict[str, float] = json.loads(reply)["top_logprobs"]
    except (json.JSONDecodeError, KeyError, TypeError):
        return None
    return top


def _letters(top: dict[str, float]) -> dict[str, float]:
    letters: dict[str, float] = {}
    for token, logprob in top.items():
        letter = token.strip().upper()
        if letter in ("A", "B"):
            letters[letter] = max(logprob, letters.get(letter, -math.inf))
    return letters


def verdict_from_logprobs(reply: str) -> str:
    """Turn a first-token distribution (``{"top_logprobs": …}``) into a ``[[A]]``/``[[B]]`` reply.

    The more likely of the letters A and B wins (the CAI paper's multiple-choice reading); a
    letter outside the top candidates counts as less likely than the last of them. When
    neither letter is among them the reply says so, and the verdict parser leaves it unparsed.
    """
    top = _top_logprobs(reply)
    if top is None:
        return reply
    letters = _letters(top)
    if not letters:
        shown = ", ".join(repr(t) for t in list(top)[:5])
        return f"neither letter among the top {len(top)} first tokens ({shown})"
    best = max(letters, key=lambda k: letters[k])
    detail = ", ".join(f"{k}={v:.2f}" for k, v in sorted(letters.items()))
    return f"[[{best}]] (first-token logprobs {detail})"


def first_letter_probability(reply: str) -> float | None:
    """P(A) / (P(A) + P(B)) from a first-token distribution reply, or ``None`` without either letter.

    A letter missing from the top candidates is given the least likely candidate's logprob
    (it is at most that likely), so the probability is then a bound rather than exact.
    """
    top = _top_logprobs(reply)
    letters = _letters(top) if top else {}
    if not top or not letters:
        return None
    floor = min(top.values())
    return 1.0 / (1.0 + math.exp(letters.get("B", floor) - letters.get("A", floor)))


@dataclass(frozen=True)
class SampledPair:
    """Two answers of the SFT model to one prompt."""

    id: str
    prompt: str
    answer_1: str
    answer_2: str


@dataclass(frozen=True)
class FeedbackResult:
    """The labelled pairs and the accounting the report shows."""

    rows: list[dict[str, Any]]
    stats: dict[str, Any]


def sample_pairs(
    generator: Generator, model: str, prompts: list[tuple[str, str]], options: FeedbackOptions, *, seed: int
) -> list[SampledPair]:
    """Sample two answers per ``(id, prompt)`` from ``model`` (temperature from ``options``)."""
    conversations: list[Messages] = []
    params: list[GenParams] = []
    for _, prompt in prompts:
        for sample in (0, 1):
            conversations.append([{"role": "user", "content": prompt}])
            params.append(GenParams(options.max_new_tokens, options.temperature, seed, sample))
    answers = generator.generate(model, conversations, params, "sample")
    return [SampledPair(pid, prompt, answers[2 * i], answers[2 * i + 1]) for i, (pid, prompt) in enumerate(prompts)]


def _judge(
    generator: Generator, pairs: list[SampledPair], principles: list[Principle], options: FeedbackOptions
) -> tuple[list[OrderJudgment], dict[tuple[str, str], float]]:
    """Both orders of every pair; with logprobs also P(first shown is better) per (pair id, order)."""
    conversations: list[Messages] = []
    meta: list[tuple[str, str]] = []
    for pair, principle in zip(pairs, principles, strict=True):
        prompt = feedback_prompt(principle, options.method)
        for order, first, second in (("12", pair.answer_1, pair.answer_2), ("21", pair.answer_2, pair.answer_1)):
            conversations.append(
                [
                    {"role": "system", "content": prompt.system},
                    {"role": "user", "content": prompt.render(pair.prompt, first, second)},
                ]
            )
            meta.append((pair.id, order))
    top = TOP_LOGPROBS if options.method == "logprobs" else 0
    params = [GenParams(options.judge_max_tokens, top_logprobs=top)] * len(conversations)
    replies = generator.generate(options.model, conversations, params, "feedback")
    judgments = []
    first_shown: dict[tuple[str, str], float] = {}
    for (pair_id, order), reply in zip(meta, replies, strict=True):
        text = verdict_from_logprobs(reply) if top else reply
        verdict = parse_reply(text, "verdict")
        judgments.append(OrderJudgment(pair_id, order, verdict.score, error=verdict.error))  # type: ignore[arg-type]
        probability = first_letter_probability(reply) if top else None
        if probability is not None:
            first_shown[(pair_id, order)] = probability
    return judgments, first_shown


def _decide(votes: Sequence[str | None], policy: str, p_answer_1: float | None = None) -> tuple[str, int, float]:
    """(status, index of the chosen answer 0/1, weight) from the two original-orientation votes.

    ``p_answer_1`` (logprobs only): the order-averaged P(answer 1 is better); it labels
    inconsistent pairs when it leans either way.
    """
    if any(v is None for v in votes):
        return "unparsed", 0, 0.0
    if votes[0] == votes[1]:
        if votes[0] == "tie":
            return "tie", 0, 0.0
        return "consistent", 0 if votes[0] == "1" else 1, 1.0
    tally = Counter(v for v in votes if v != "tie")
    first = votes[0] if votes[0] != "tie" else votes[1]
    winner = first if tally["1"] == tally["2"] else tally.most_common(1)[0][0]
    if p_answer_1 is not None and p_answer_1 != 0.5:
        winner = "1" if p_answer_1 > 0.5 else "2"
    return "inconsistent", 0 if winner == "1" else 1, DOWNWEIGHT if policy == "downweight" else 0.0


def label_pairs(
    generator: Generator,
    pairs: list[SampledPair],
    constitution: Constitution,
    options: FeedbackOptions,
    *,
    seed: int,
) -> FeedbackResult:
    """Judge every pair in both orders and turn the verdicts into weighted preference rows."""
    principles = [constitution.draw(random.Random(f"{seed}:feedback:{p.id}")) for p in pairs]
    judgments, first_shown = _judge(generator, pairs, principles, options)
    by_pair: dict[str, dict[str, OrderJudgment]] = {}
    for j in judgments:
        by_pair.setdefault(j.pair_id, {})[j.order] = j
    rows = []
    for pair, principle in zip(pairs, principles, strict=True):
        orders = by_pair[pair.id]
        scores = [orders["12"].original_score, orders["21"].original_score]
        votes = [None if s is None else label_from_score(s) for s in scores]
        p12, p21 = first_shown.get((pair.id, "12")), first_shown.get((pair.id, "21"))
        p_answer_1 = None if p12 is None or p21 is None else (p12 + (1.0 - p21)) / 2
        status, chosen, weight = _decide(votes, options.inconsistent, p_answer_1)
        answers = (pair.answer_1, pair.answer_2)
        rows.append(
            {
                "id": pair.id,
                "prompt": [{"role": "user", "content": pair.prompt}],
                "chosen": [{"role": "assistant", "content": answers[chosen]}],
                "rejected": [{"role": "assistant", "content": answers[1 - chosen]}],
                "principle": principle.name,
                "votes": votes,
                "status": status,
                "consistent": status in ("consistent", "tie"),
                "weight": weight,
                "p_chosen": None if p_answer_1 is None else round(p_answer_1 if chosen == 0 else 1 - p_answer_1, 4),
            }
        )
    stats = _stats(judgments, rows, options)
    if first_shown:
        stats["position_bias"] = round(sum(first_shown.values()) / len(first_shown), 4)
        strengths = [p for r in rows if isinstance(p := r["p_chosen"], float)]
        stats["mean_p_chosen"] = round(sum(strengths) / len(strengths), 4) if strengths else None
    return FeedbackResult(rows, stats)


def _stats(judgments: list[OrderJudgment], rows: list[dict[str, Any]], options: FeedbackOptions) -> dict[str, Any]:
    summary = summarize_judgments(judgments, judge=options.model, prompt="cai-feedback")
    consistency = summary.consistency
    status = Counter(r["status"] for r in rows)
    return {
        "n_pairs": len(rows),
        "n_replies": summary.n_judgments,
        "unparsed": summary.n_unparsed,
        "unparsed_reasons": summary.unparsed_reasons,
        "unparsed_pairs": status["unparsed"],
        "consistent": consistency.successes,
        "inconsistent": consistency.n - consistency.successes,
        "ties": status["tie"],
        "consistency": {
            "rate": consistency.rate if consistency.n else None,
            "low": consistency.low,
            "high": consistency.high,
            "n": consistency.n,
        },
        "policy": options.inconsistent,
        "kept": sum(r["weight"] > 0 for r in rows),
        "judge_label_counts": summary.judge_label_counts,
    }
