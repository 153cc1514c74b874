"""What the response scorers said about one answer, as the metadata of an Inspect score.

Every suite's scorer stores the same keys, so the metrics, the summaries and the gate read
any suite's log the same way (:data:`alignlab.evals.metrics.LABEL_KEYS`):

* ``label``: the ``refusal`` scorer's label (``compliance``/``refusal``/``partial_refusal``),
  or, with a judge, the pattern stage's label overruled by the judge where it was unsure;
* ``harm``/``harm_score``: the ``harm`` scorer's label (``harmful``/``unharmful``) and P(harmful),
  present when the suite asks for it.
"""

from __future__ import annotations

from inspect_ai.model import Model

from alignlab.scorers import get_scorer
from alignlab.scorers.refusal.judge import classify_refusal_with_judge

__all__ = ["label_answer"]


async def label_answer(prompt: str, response: str, *, judge: Model | None, harm: bool) -> dict[str, object]:
    """Label ``response`` (to ``prompt``) with the refusal scorer and, if ``harm``, the harm scorer.

    Args:
        prompt: The request the model answered.
        response: The model's answer.
        judge: With a judge, refusal labels come from the pattern stage and the judge (for the
            ambiguous answers); without, from the bundled ``refusal`` scorer.
        harm: Also run the ``harm`` scorer.

    Returns:
        Score metadata: ``label``, ``refusal_reason``, ``stage``, ``ambiguous``, ``judge_unparsed``
        and, with ``harm``, ``harm``, ``harm_score`` and ``harm_reason``.
    """
    if judge is not None:
        verdict, unparsed = await classify_refusal_with_judge(response, prompt, judge)
        meta: dict[str, object] = {
            "label": verdict.label,
            "refusal_reason": verdict.reason,
            "stage": verdict.stage,
            "ambiguous": verdict.ambiguous,
            "judge_unparsed": unparsed,
        }
    else:
        result = get_scorer("refusal").classify([prompt], [response])[0]
        meta = {
            "label": result.label,
            "refusal_reason": result.reason,
            "refusal_score": result.score,
            "stage": "scorer",
            "ambiguous": False,
            "judge_unparsed": False,
        }
    if harm:
        verdict_harm = get_scorer("harm").classify([prompt], [response])[0]
        meta |= {"harm": verdict_harm.label, "harm_score": verdict_harm.score, "harm_reason": verdict_harm.reason}
    return meta
