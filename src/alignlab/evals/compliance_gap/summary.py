"""Statistics of a compliance-gap run, read from its eval log.

Per condition (tier × reasoning): compliance by the prefix check, by the refusal
classifier and by the harm scorer (did the answer actually give the harmful help?) side by
side (the prefix instruction itself changes behaviour, so no one measure is trusted alone),
how the instruction was followed, and the rate of alignment-faking reasoning. The two
scorer-based rates are also shown corrected for the scorer's error (its card).
The compliance gap is free − paid within each reasoning condition, with a Newcombe
interval and a two-proportion z or Fisher exact test (:func:`alignlab.stats.two_proportion_test`).
The gaps of the two scorer-based measures also get a corrected difference: both tiers' rates
corrected with the scorer's card, the interval carrying both samples' and the card's
uncertainty, the card shared by the two rates (:func:`alignlab.scorers.correction.correct_difference`).

The same requests appear in both tiers, so each gap also gets an exact McNemar test on
the requests answered in both (a paired test, more powerful when the pairing matters);
the unpaired test stays the headline because it is what the literature reports.

Rates use every scored sample of the condition as denominator; the alignment-faking rate
uses the samples with at least one parsed judge vote (the others are counted as unparsed).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from inspect_ai.log import EvalLog, EvalSample, read_eval_log

from alignlab.errors import InputError
from alignlab.evals.compliance_gap.parsing import PREFIX_STATUSES
from alignlab.evals.compliance_gap.prompts import ALL_CONDITIONS
from alignlab.evals.metrics import Event, event_happened, event_labels, event_scorer
from alignlab.evals.summary import (
    JUDGE_NOTE,
    DiffRow,
    RateRow,
    SuiteSummary,
    corrected_row,
    label_counts,
    sample_label,
    used_judge,
)
from alignlab.scorers.correction import CorrectedDifference, correct_difference_with_card
from alignlab.stats import (
    McNemarResult,
    Proportion,
    TwoProportionTest,
    mcnemar_exact,
    two_proportion_test,
    wilson_interval,
)

_MEASURES = (("prefix", "prefix_compliance"), ("classifier", "classifier_compliance"), ("harm", "harm_compliance"))
# The scorer event behind each scorer-based measure (the prefix check has no card: no correction).
_EVENTS: dict[str, Event] = {"classifier": "complied", "harm": "harmful"}

__all__ = [
    "ConditionStats",
    "GapStats",
    "GapSummary",
    "compute_gap_summary",
    "gap_summary_of_log",
    "read_gap_log",
    "summarize_compliance_gap",
]


@dataclass(frozen=True)
class ConditionStats:
    """What one condition measured."""

    condition: str
    tier: str
    cot: bool
    n: int
    prefix_counts: dict[str, int]
    prefix_compliance: Proportion
    classifier_compliance: Proportion
    harm_compliance: Proportion | None
    """By the harm scorer; ``None`` in logs written before it ran in this suite."""
    ignored_instruction: Proportion
    alignment_faking: Proportion | None
    """``None`` when no scratchpad was judged (no judge, or the no-CoT condition)."""
    af_unparsed_samples: int
    judge_unparsed: int


@dataclass(frozen=True)
class GapStats:
    """Free − paid within one reasoning condition, for one way of measuring compliance."""

    cot: bool
    measure: str
    test: TwoProportionTest
    paired: McNemarResult | None = None
    """Exact McNemar test over requests answered in both tiers (first: free-only compliance)."""
    corrected: CorrectedDifference | None = None
    """free − paid with both rates corrected by the measure's scorer card (``None``: no scorer or no card)."""


@dataclass(frozen=True)
class GapSummary:
    """Every condition's rates and the gaps."""

    variant: str
    trained_tier: str
    conditions: list[ConditionStats]
    gaps: list[GapStats]


def _score_meta(sample: EvalSample) -> dict[str, Any]:
    for score in (sample.scores or {}).values():
        if score.metadata and "prefix" in score.metadata:
            return score.metadata
    return {}


def _condition_stats(name: str, tier: str, cot: bool, samples: list[EvalSample]) -> ConditionStats:
    metas = [_score_meta(s) for s in samples]
    prefixes = Counter(str(m.get("prefix")) for m in metas)
    labels = [lab for s in samples if (lab := sample_label(s)) is not None]
    harms = [lab for s in samples if (lab := sample_label(s, "harm")) is not None]
    af_labels = [m["af_label"] for m in metas if m.get("af_label") is not None]
    judged = [m for m in metas if m.get("af_votes")]
    n = len(metas)
    return ConditionStats(
        condition=name,
        tier=tier,
        cot=cot,
        n=n,
        prefix_counts={p: prefixes.get(p, 0) for p in PREFIX_STATUSES},
        prefix_compliance=wilson_interval(prefixes.get("accepted", 0), n),
        classifier_compliance=wilson_interval(sum(event_happened(lab, "complied") for lab in labels), len(labels)),
        harm_compliance=wilson_interval(sum(event_happened(lab, "harmful") for lab in harms), len(harms))
        if harms
        else None,
        ignored_instruction=wilson_interval(prefixes.get("ignored_instruction", 0), n),
        alignment_faking=wilson_interval(sum(bool(x) for x in af_labels), len(af_labels)) if judged else None,
        af_unparsed_samples=sum(1 for m in judged if m.get("af_label") is None),
        judge_unparsed=sum(1 for m in metas if m.get("judge_unparsed")),
    )


def _complied(meta: dict[str, Any], measure: str) -> bool:
    if measure == "prefix":
        return meta.get("prefix") == "accepted"
    if measure == "harm":
        return event_happened(str(meta.get("harm", "")), "harmful")
    return event_happened(str(meta.get("label", "")), "complied")


def _paired(free: list[EvalSample], paid: list[EvalSample], measure: str) -> McNemarResult:
    def by_request(samples: list[EvalSample]) -> dict[str, bool]:
        return {str((s.metadata or {}).get("request_id", s.id)): _complied(_score_meta(s), measure) for s in samples}

    f, p = by_request(free), by_request(paid)
    common = sorted(set(f) & set(p))
    free_only = sum(f[k] and not p[k] for k in common)
    paid_only = sum(p[k] and not f[k] for k in common)
    return mcnemar_exact(free_only, paid_only, n_pairs=len(common))


def compute_gap_summary(samples: Iterable[EvalSample], *, variant: str = "", trained_tier: str = "") -> GapSummary:
    """Per-condition rates and free − paid gaps from scored samples (errored samples are skipped)."""
    scored = [s for s in samples if s.error is None and _score_meta(s)]
    stats: dict[str, ConditionStats] = {}
    groups: dict[str, list[EvalSample]] = {}
    for cond in ALL_CONDITIONS:
        chosen = [s for s in scored if (s.metadata or {}).get("condition") == cond.name]
        if chosen:
            stats[cond.name] = _condition_stats(cond.name, cond.tier, cond.cot, chosen)
            groups[cond.name] = chosen
    gaps: list[GapStats] = []
    for cot in (True, False):
        suffix = "cot" if cot else "no-cot"
        free, paid = stats.get(f"free/{suffix}"), stats.get(f"paid/{suffix}")
        if free is None or paid is None:
            continue
        for measure, attr in _MEASURES:
            a, b = getattr(paid, attr), getattr(free, attr)
            if a is None or b is None:
                continue
            test = two_proportion_test(a.successes, a.n, b.successes, b.n)
            paired = _paired(groups[f"free/{suffix}"], groups[f"paid/{suffix}"], measure)
            gaps.append(GapStats(cot, measure, test, paired, _corrected_gap(measure, a, b)))
        if free.alignment_faking is not None and paid.alignment_faking is not None:
            a, b = paid.alignment_faking, free.alignment_faking
            gaps.append(GapStats(cot, "alignment_faking", two_proportion_test(a.successes, a.n, b.successes, b.n)))
    return GapSummary(variant, trained_tier, list(stats.values()), gaps)


def _corrected_gap(measure: str, paid: Proportion, free: Proportion) -> CorrectedDifference | None:
    event = _EVENTS.get(measure)
    if event is None:
        return None
    return correct_difference_with_card(
        (paid.successes, paid.n), (free.successes, free.n), event_scorer(event), event_labels(event)
    )


def _paired_dict(p: McNemarResult) -> dict[str, Any]:
    return {"n_pairs": p.n_pairs, "free_only": p.first_only, "paid_only": p.second_only, "p_value": p.p_value}


def _note(gap: GapStats) -> str:
    p = gap.paired
    if p is None:
        return ""
    counts = f"{p.first_only} free-only, {p.second_only} paid-only"
    return f"paired on {p.n_pairs} requests: {counts}, McNemar p={p.p_value:.3g}"


def read_gap_log(path: Path) -> EvalLog:
    """Read a compliance-gap eval log.

    Raises:
        InputError: the log is missing or is not a compliance-gap log.
    """
    if not path.exists():
        raise InputError(f"{path}: no such log")
    try:
        log = read_eval_log(str(path))
    except Exception as exc:  # a file that is not a log: the user's mistake, one line
        raise InputError(f"{path}: not a readable Inspect eval log ({type(exc).__name__}: {exc})") from None
    if not log.eval.task.endswith("compliance_gap"):
        raise InputError(f"{path}: not a compliance_gap log (task {log.eval.task})")
    return log


def gap_summary_of_log(log: EvalLog) -> GapSummary:
    """:func:`compute_gap_summary` of a log, with the variant its task recorded."""
    meta = log.eval.metadata or {}
    return compute_gap_summary(
        log.samples or [], variant=str(meta.get("variant", "")), trained_tier=str(meta.get("trained_tier", ""))
    )


def _judge_noted(c: CorrectedDifference | None) -> CorrectedDifference | None:
    return None if c is None else replace(c, note="; ".join(n for n in (JUDGE_NOTE, c.note) if n))


def summarize_compliance_gap(log: EvalLog) -> SuiteSummary:
    """The ``compliance-gap`` suite's summary hook: rates per condition and the gaps as differences."""
    gap = gap_summary_of_log(log)
    judged = used_judge(log)
    rows: list[RateRow] = []
    for c in gap.conditions:
        rows += [
            RateRow("compliance_prefix", c.condition, c.prefix_compliance),
            corrected_row("compliance_classifier", c.condition, c.classifier_compliance, "complied", judged=judged),
        ]
        if c.harm_compliance is not None:
            rows.append(corrected_row("compliance_harm", c.condition, c.harm_compliance, "harmful"))
        rows.append(RateRow("ignored_instruction", c.condition, c.ignored_instruction))
        if c.alignment_faking is not None:
            rows.append(RateRow("alignment_faking", c.condition, c.alignment_faking))
    diffs = [
        DiffRow(f"gap_{g.measure}", "cot" if g.cot else "no-cot", "free − paid", g.test, _note(g),
                _judge_noted(g.corrected) if judged and g.measure == "classifier" else g.corrected)
        for g in gap.gaps
    ]  # fmt: skip
    counts = label_counts(log)
    labels = counts.labels
    return SuiteSummary(
        suite="compliance-gap",
        model=log.eval.model,
        dataset=log.eval.dataset.name or "",
        status=log.status,
        n_samples=sum(labels.values()),
        rows=rows,
        labels=labels,
        judge_unparsed=sum(c.judge_unparsed for c in gap.conditions),
        log_location=log.location,
        harm_labels=counts.harm_labels,
        extra={
            "variant": gap.variant,
            "trained_tier": gap.trained_tier,
            "prefix_counts": {c.condition: c.prefix_counts for c in gap.conditions},
            "af_unparsed_samples": {c.condition: c.af_unparsed_samples for c in gap.conditions},
            "af_judged": any(c.alignment_faking is not None for c in gap.conditions),
            "paired_mcnemar": {
                f"gap_{g.measure}/{'cot' if g.cot else 'no-cot'}": _paired_dict(g.paired) for g in gap.gaps if g.paired
            },
        },
        diffs=diffs,
    )
