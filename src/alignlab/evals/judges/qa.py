"""Judge quality assurance: position consistency, first-position preference, agreement with humans.

Every pair is judged twice, once in each order. A judge whose verdict follows the
*answer* gives the same preference both times; one whose verdict follows the *position*
flips. Seed 3 (Figures 8.17/8.18) found GPT-4 preferring the first answer among pairs
humans rated equal; :func:`summarize_judgments` measures exactly that, with intervals.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from scipy import stats as st

from alignlab.evals.judges.transform import PairLabel, label_from_score, swap_score
from alignlab.stats import Proportion, wilson_interval
from alignlab.stats import cohen_kappa as stats_kappa

__all__ = [
    "JudgeQASummary",
    "Kappa",
    "OrderJudgment",
    "PairOutcome",
    "cohen_kappa",
    "pair_outcomes",
    "summarize_judgments",
]

Order = Literal["12", "21"]


@dataclass(frozen=True)
class OrderJudgment:
    """One judge call on one pair in one order.

    Attributes:
        pair_id: The pair judged.
        order: ``"12"`` when the pair's answer 1 was shown first, ``"21"`` when swapped.
        score: The judge's 1–9 score *as shown* (1 = prefers the first shown), or ``None``.
        human_score: The human 1–9 score in the same shown orientation, or ``None``.
        error: Why the reply was unparsed.
        injection_suspected: An answer contained verdict-like text or an instruction to the grader.
        injection_evidence: Which answer, and the phrase found.
        human_source: Where the human score came from.
        reason: The judge's stated reason (or why the reply was unparsed), as written.
    """

    pair_id: str
    order: Order
    score: float | None
    human_score: float | None = None
    error: str | None = None
    injection_suspected: bool = False
    injection_evidence: str | None = None
    human_source: str | None = None
    reason: str = ""

    @property
    def original_score(self) -> float | None:
        """The score in the pair's own orientation (answer 1 vs answer 2)."""
        if self.score is None:
            return None
        return self.score if self.order == "12" else swap_score(self.score)


@dataclass(frozen=True)
class Kappa:
    """Cohen's κ with a large-sample (Fleiss–Cohen–Everitt 1969) confidence interval.

    ``undefined`` says why there is no κ to report (NaN value and bounds): no labels, or a
    rater that gave every item the same label.
    """

    kappa: float
    low: float
    high: float
    se: float
    n: int
    observed: float
    expected: float
    confidence: float = 0.95
    undefined: str | None = None

    def __str__(self) -> str:
        if self.undefined:
            return f"undefined: {self.undefined} (n={self.n})"
        return f"κ={self.kappa:.3f} [{self.low:.3f}, {self.high:.3f}] (n={self.n})"


def cohen_kappa(
    a: Sequence[Hashable], b: Sequence[Hashable], *, labels: Sequence[Hashable] | None = None, confidence: float = 0.95
) -> Kappa:
    """Cohen's κ between two raters' labels, with a Wald interval (:func:`alignlab.stats.cohen_kappa`).

    When either rater gives every item one label, κ is 0 (or 0/0) by construction and the
    large-sample standard error collapses to 0: a zero-width [0, 0] interval that looks like
    certainty. Such a κ is returned as NaN with ``undefined`` saying which rater was constant
    ("rater a" is ``a``, "rater b" is ``b``).
    """
    result = stats_kappa(a, b, labels=labels, confidence=confidence)
    nan = float("nan")
    n = len(a)
    cats = list(labels) if labels is not None else sorted(set(a) | set(b), key=str)
    po = sum(x == y for x, y in zip(a, b, strict=True)) / n if n else nan
    pe = sum((list(a).count(c) / n) * (list(b).count(c) / n) for c in cats) if n else nan
    if result.value is None or result.low is None or result.high is None:
        reason = result.reason.replace("the first rater", "rater a").replace("the second rater", "rater b")
        return Kappa(nan, nan, nan, nan, n, po, pe, confidence, reason)
    z = float(st.norm.ppf(1 - (1 - confidence) / 2))
    return Kappa(result.value, result.low, result.high, (result.high - result.value) / z, n, po, pe, confidence)


@dataclass(frozen=True)
class JudgeQASummary:
    """What a gate needs to know about a judge before trusting its verdicts.

    Attributes:
        n_pairs: Pairs judged.
        n_judgments: Judge calls (two per pair).
        n_unparsed: Replies that were not valid JSON / verdicts or out of range.
        unparsed_reasons: Count per reason.
        consistency: Pairs (both orders parsed) whose preferred answer survived the swap.
        decisive_consistency: The same among pairs where the judge preferred an answer in at
            least one order — a judge that always says "tie" is trivially consistent, not here.
        first_position: Among judgments of pairs humans rated equal, the share preferring the
            first shown answer.
        second_position: Same, preferring the second shown answer.
        first_position_p: Two-sided binomial test of first vs second among the non-tie
            verdicts on human ties (``None`` without any).
        agreement: Judgments whose preferred position (1, 2 or tie) equals the human's.
        kappa: Cohen's κ between judge and human labels over the same judgments.
        injection_flagged: Judgments whose answers contained verdict-like text.
    """

    judge: str
    prompt: str
    n_pairs: int
    n_judgments: int
    n_unparsed: int
    unparsed_reasons: dict[str, int]
    consistency: Proportion
    decisive_consistency: Proportion
    first_position: Proportion
    second_position: Proportion
    first_position_p: float | None
    agreement: Proportion
    kappa: Kappa | None
    injection_flagged: int
    judge_label_counts: dict[str, int] = field(default_factory=dict)

    @property
    def unparsed_rate(self) -> float:
        return self.n_unparsed / self.n_judgments if self.n_judgments else float("nan")

    def check(
        self,
        *,
        min_consistency: float | None = 0.8,
        max_unparsed_rate: float | None = 0.1,
        min_kappa: float | None = None,
        max_first_position: float | None = None,
        use_lower_bound: bool = False,
    ) -> list[str]:
        """Requirements this judge fails (empty when it passes).

        Args:
            min_consistency: Least share of pairs with the same verdict in both orders.
            max_unparsed_rate: Most share of unreadable replies.
            min_kappa: Least Cohen's κ against human labels.
            max_first_position: Most share of first-position wins among human ties.
            use_lower_bound: Compare the lower CI bound (κ, consistency) instead of the estimate.
        """
        failures = []
        if min_consistency is not None:
            value = self.consistency.low if use_lower_bound else self.consistency.rate
            if not value >= min_consistency:
                failures.append(f"consistency {value:.3f} < {min_consistency}")
        if max_unparsed_rate is not None and not self.unparsed_rate <= max_unparsed_rate:
            failures.append(f"unparsed rate {self.unparsed_rate:.3f} > {max_unparsed_rate}")
        if min_kappa is not None and self.kappa is not None and self.kappa.undefined:
            failures.append(f"kappa undefined ({self.kappa.undefined})")
        elif min_kappa is not None:
            k = float("nan") if self.kappa is None else (self.kappa.low if use_lower_bound else self.kappa.kappa)
            if not k >= min_kappa:
                failures.append(f"kappa {k:.3f} < {min_kappa}")
        if max_first_position is not None and not self.first_position.rate <= max_first_position:
            failures.append(f"first-position rate {self.first_position.rate:.3f} > {max_first_position}")
        return failures

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JudgeQASummary:
        """Rebuild a summary from :meth:`to_dict` (e.g. a store row's ``metrics["judge_qa"]``) for a gate."""

        def prop(d: dict[str, Any]) -> Proportion:
            return Proportion(int(d["successes"]), int(d["n"]), float(d["low"]), float(d["high"]))

        def num(value: Any) -> float:  # to_dict stores NaN as null
            return float("nan") if value is None else float(value)

        k = data.get("kappa")
        kappa = None
        if k is not None:
            kappa = Kappa(
                num(k["kappa"]),
                num(k["low"]),
                num(k["high"]),
                num(k["se"]),
                int(k["n"]),
                num(k["observed"]),
                num(k["expected"]),
                num(k["confidence"]),
                k.get("undefined"),
            )
        return cls(
            judge=data["judge"],
            prompt=data["prompt"],
            n_pairs=data["n_pairs"],
            n_judgments=data["n_judgments"],
            n_unparsed=data["n_unparsed"],
            unparsed_reasons=dict(data["unparsed_reasons"]),
            consistency=prop(data["consistency"]),
            decisive_consistency=prop(data["decisive_consistency"]),
            first_position=prop(data["first_position"]),
            second_position=prop(data["second_position"]),
            first_position_p=data["first_position_p"],
            agreement=prop(data["agreement"]),
            kappa=kappa,
            injection_flagged=data["injection_flagged"],
            judge_label_counts=dict(data["judge_label_counts"]),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (proportions with their rates and bounds)."""
        out = asdict(self)
        for key in ("consistency", "decisive_consistency", "first_position", "second_position", "agreement"):
            prop: Proportion = getattr(self, key)
            out[key] = {
                "rate": prop.rate if prop.n else None,
                "low": prop.low,
                "high": prop.high,
                "successes": prop.successes,
                "n": prop.n,
            }
        out["unparsed_rate"] = self.unparsed_rate
        finite: dict[str, Any] = _finite(out)
        return finite


def _finite(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj


def _consistency(judgments: Sequence[OrderJudgment], *, decisive_only: bool = False) -> Proportion:
    by_pair: dict[str, dict[str, OrderJudgment]] = {}
    for j in judgments:
        by_pair.setdefault(j.pair_id, {})[j.order] = j
    same = total = 0
    for orders in by_pair.values():
        scores = [orders[o].original_score for o in ("12", "21") if o in orders]
        if len(scores) != 2 or scores[0] is None or scores[1] is None:
            continue
        labels = (label_from_score(scores[0]), label_from_score(scores[1]))
        if decisive_only and labels == ("tie", "tie"):
            continue
        total += 1
        same += labels[0] == labels[1]
    return wilson_interval(same, total)


def _judge_kappa(human: list[PairLabel], machine: list[PairLabel]) -> Kappa:
    k = cohen_kappa(human, machine, labels=["1", "2", "tie"])
    if k.undefined:
        reason = k.undefined.replace("rater a", "the humans").replace("rater b", "the judge")
        k = replace(k, undefined=f"{reason}, so κ carries no information about agreement")
    return k


def summarize_judgments(judgments: Sequence[OrderJudgment], *, judge: str = "", prompt: str = "") -> JudgeQASummary:
    """Position consistency, first-position preference on human ties and κ against humans."""
    parsed = [j for j in judgments if j.score is not None]
    labels: Counter[str] = Counter(label_from_score(j.score) for j in parsed if j.score is not None)
    ties = [j for j in parsed if j.human_score is not None and label_from_score(j.human_score) == "tie"]
    tie_labels = Counter(label_from_score(j.score) for j in ties if j.score is not None)
    decided = tie_labels["1"] + tie_labels["2"]
    first_p = float(st.binomtest(tie_labels["1"], decided, 0.5).pvalue) if decided else None
    rated = [j for j in parsed if j.human_score is not None]
    human: list[PairLabel] = [label_from_score(j.human_score) for j in rated if j.human_score is not None]
    machine: list[PairLabel] = [label_from_score(j.score) for j in rated if j.score is not None]
    agree = sum(h == m for h, m in zip(human, machine, strict=True))
    kappa = _judge_kappa(human, machine) if rated else None
    return JudgeQASummary(
        judge=judge,
        prompt=prompt,
        n_pairs=len({j.pair_id for j in judgments}),
        n_judgments=len(judgments),
        n_unparsed=len(judgments) - len(parsed),
        unparsed_reasons=dict(Counter(j.error or "unknown" for j in judgments if j.score is None)),
        consistency=_consistency(judgments),
        decisive_consistency=_consistency(judgments, decisive_only=True),
        first_position=wilson_interval(tie_labels["1"], len(ties)),
        second_position=wilson_interval(tie_labels["2"], len(ties)),
        first_position_p=first_p,
        agreement=wilson_interval(agree, len(rated)),
        kappa=kappa,
        injection_flagged=sum(j.injection_suspected for j in judgments),
        judge_label_counts=dict(labels),
    )


_OUTCOME_NAMES = {"1": "answer 1", "2": "answer 2", "tie": "tie"}


@dataclass(frozen=True)
class PairOutcome:
    """What the judge decided about one pair in each order, in the pair's own orientation.

    Attributes:
        pair_id: The pair.
        human_score: The human 1–9 score (1 = answer 1 better), or ``None``.
        human_source: Where the human score came from.
        score_12: The judge's score with answer 1 shown first, or ``None`` when unparsed/missing.
        score_21: The judge's score with answer 2 shown first, mapped back to the pair's orientation.
        outcome: ``answer 1``/``answer 2``/``tie`` when both orders agree, ``inconsistent`` when
            they disagree, ``unparsed`` when an order has no readable verdict.
        agrees_with_human: Both orders agree with the human label (``None`` without one).
        injection: Which answer contained verdict-like or grader-directed text, and the phrase.
        reason_12: The judge's reason with answer 1 first.
        reason_21: The judge's reason with answer 2 first.
    """

    pair_id: str
    human_score: float | None
    human_source: str | None
    score_12: float | None
    score_21: float | None
    outcome: str
    agrees_with_human: bool | None
    injection: str | None
    reason_12: str = ""
    reason_21: str = ""

    @property
    def human_label(self) -> str:
        return "" if self.human_score is None else _OUTCOME_NAMES[label_from_score(self.human_score)]


def pair_outcomes(judgments: Sequence[OrderJudgment]) -> list[PairOutcome]:
    """One :class:`PairOutcome` per pair (in first-seen order) from its two order judgments."""
    by_pair: dict[str, dict[str, OrderJudgment]] = {}
    for j in judgments:
        by_pair.setdefault(j.pair_id, {})[j.order] = j
    out = []
    for pair_id, orders in by_pair.items():
        first = orders.get("12") or orders["21"]
        human = first.human_score if first.order == "12" or first.human_score is None else swap_score(first.human_score)
        s12 = orders["12"].original_score if "12" in orders else None
        s21 = orders["21"].original_score if "21" in orders else None
        if s12 is None or s21 is None:
            outcome = "unparsed"
        else:
            l12, l21 = label_from_score(s12), label_from_score(s21)
            outcome = _OUTCOME_NAMES[l12] if l12 == l21 else "inconsistent"
        agrees = None
        if human is not None:
            agrees = outcome == _OUTCOME_NAMES[label_from_score(human)]
        evidence = next((j.injection_evidence for j in orders.values() if j.injection_evidence), None)
        if evidence is None and any(j.injection_suspected for j in orders.values()):
            evidence = "verdict-like text"
        reasons = [orders[o].reason if o in orders else "" for o in ("12", "21")]
        out.append(PairOutcome(pair_id, human, first.human_source, s12, s21, outcome, agrees, evidence, *reasons))
    return out
