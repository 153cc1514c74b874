"""Decide each policy rule from paired samples: pass, fail or inconclusive.

A rule holds up to three kinds of check on one metric:

* ``regression``: the candidate's rate minus the baseline's on the same samples, against
  ``max_regression`` (exact McNemar / Newcombe, or a paired bootstrap);
* ``max`` / ``min``: the candidate's rate against an absolute bound (exact binomial);
* ``judge_qa``: named quality numbers of the judge (read from both logs) within bounds.

Every rule also reports both runs' rates corrected for the scorer's error (the scorer card's
sensitivity and specificity, :mod:`alignlab.scorers.correction`). With ``corrected: true``
the rule is *decided* on the corrected rate: ``max``/``min`` compare the corrected rate's
Monte Carlo posterior with the bound (its tail probabilities play the one-sided p-values),
and ``max_regression`` is tested on the observed labels with the margin scaled to the
scorer's scale: an error common to both runs shrinks a true difference ``d`` to
``d · (Se + Sp − 1)``, so the tolerated margin is ``max_regression · (Se + Sp − 1)`` and
the reported difference and interval are divided by ``Se + Sp − 1``.

A statistical check *fails* when its Holm-adjusted ``p_worse`` is below ``alpha`` (the
whole policy is one family), *passes* when ``p_within`` is below ``alpha``, and is
*inconclusive* otherwise: too few samples, or too few discordant pairs, to tell. A rule
fails when any check fails, else is inconclusive when any check is, else passes; the gate
aggregates its rules the same way. See :mod:`alignlab.stats.paired` for why.

Exit codes: 0 pass, 1 fail, 3 inconclusive (or what the policy's ``inconclusive`` maps it
to); the CLI uses 2 for bad input.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

from inspect_ai.log import EvalLog

from alignlab.evals.metrics import event_happened, event_labels, event_scorer
from alignlab.evals.suites import Measure, get_suite
from alignlab.gate.logs import Outcome, PairedSample, Pairing
from alignlab.gate.policy import Bound, GatePolicy, Rule
from alignlab.scorers.correction import (
    BinaryAccuracy,
    CorrectedRate,
    card_accuracy,
    correct_rate,
    corrected_tails,
    find_card,
)
from alignlab.stats import PairedTable, holm, paired_bootstrap, paired_proportion_test, threshold_test

__all__ = ["EXIT_CODES", "Check", "Flip", "GateResult", "RuleResult", "Verdict", "decide", "judge_qa_values"]

Verdict = Literal["pass", "fail", "inconclusive"]
CheckKind = Literal["regression", "max", "min", "judge_qa"]
EXIT_CODES: dict[Verdict, int] = {"pass": 0, "fail": 1, "inconclusive": 3}


@dataclass(frozen=True)
class Check:
    """One check of a rule, in the metric's units (rates; differences are candidate - baseline).

    ``p_worse`` is the raw one-sided p-value for a violation, ``p_adjusted`` its Holm
    adjustment, ``p_within`` the one-sided p-value for "within the limit".
    """

    kind: CheckKind
    name: str
    limit: float
    estimate: float | None
    low: float | None
    high: float | None
    p_worse: float | None
    p_within: float | None
    method: str
    verdict: Verdict = "inconclusive"
    p_adjusted: float | None = None
    reason: str = ""
    baseline_value: float | None = None  # judge_qa only: the baseline log's value


@dataclass(frozen=True)
class Flip:
    """A sample whose outcome changed between baseline and candidate."""

    sample: PairedSample
    direction: Literal["regressed", "improved"]


@dataclass(frozen=True)
class RuleResult:
    """A rule's checks and the samples behind them."""

    suite: str
    metric: str
    n: int
    excluded: int
    baseline_rate: float
    candidate_rate: float
    checks: list[Check]
    flips: list[Flip]
    baseline_corrected: CorrectedRate | None = None
    candidate_corrected: CorrectedRate | None = None
    on_corrected: bool = False
    """The rule's checks were decided on the corrected rate (``corrected: true``)."""

    @property
    def name(self) -> str:
        return f"{self.suite}.{self.metric}"

    @property
    def verdict(self) -> Verdict:
        return _worst(c.verdict for c in self.checks)


@dataclass(frozen=True)
class GateResult:
    """The gate's decision."""

    alpha: float
    unparsed: str
    inconclusive_as: Verdict
    rules: list[RuleResult]
    pairings: list[Pairing] = field(default_factory=list)

    @property
    def verdict(self) -> Verdict:
        return _worst(r.verdict for r in self.rules)

    @property
    def outcome(self) -> Verdict:
        """The verdict after the policy's mapping of ``inconclusive``."""
        return self.inconclusive_as if self.verdict == "inconclusive" else self.verdict

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.outcome]


def _worst(verdicts: Iterable[Verdict]) -> Verdict:
    seen = set(verdicts)
    return "fail" if "fail" in seen else "inconclusive" if "inconclusive" in seen else "pass"


def judge_qa_values(log: EvalLog) -> dict[str, float]:
    """Named judge-quality numbers a log reports.

    Built in: ``scored_rate`` (samples scored without error) and, when the run had a judge,
    ``judge_parse_rate`` (judge replies that named a label; 1.0 when none was needed). Any
    metric of the log's results (e.g. a pairwise judge's ``position_consistency``) and any
    number under ``eval.metadata["judge_qa"]`` are also available by name.
    """
    samples = log.samples or []
    values: dict[str, float] = {}
    if samples:
        scored = [s for s in samples if s.error is None and s.scores]
        values["scored_rate"] = len(scored) / len(samples)
    metas = [sc.metadata or {} for s in samples for sc in (s.scores or {}).values()]
    consulted = [m for m in metas if m.get("stage") == "judge" or m.get("judge_unparsed")]
    if (log.eval.task_args or {}).get("judge") or consulted:
        parsed = sum(1 for m in consulted if not m.get("judge_unparsed"))
        values["judge_parse_rate"] = parsed / len(consulted) if consulted else 1.0
    for score in log.results.scores if log.results else []:
        for name, metric in score.metrics.items():
            values.setdefault(name, float(metric.value))
    for name, value in ((log.eval.metadata or {}).get("judge_qa") or {}).items():
        if isinstance(value, int | float):
            values[str(name)] = float(value)
    return values


def _harm(outcome: Outcome, measure: Measure, rule: Rule, unparsed: str) -> bool | None:
    """Whether the sample went the unwanted way; ``None`` when it is excluded."""
    scorer = event_scorer(measure.event)
    label = outcome.label_of(scorer)
    # A refusal judge's unparsed reply matters only to rules on refusal labels.
    if label is None or (scorer == "refusal" and outcome.unparsed):
        return None if unparsed == "exclude" else True
    happened = event_happened(label, measure.event)
    return not happened if rule.higher_is_better else happened


def _pct(x: float) -> str:
    return f"{x:.1%}"


def _regression_check(rule: Rule, pairs: list[tuple[bool, bool]], policy: GatePolicy, youden: float = 1.0) -> Check:
    """The paired test of candidate − baseline; ``youden`` < 1 tests the corrected difference (module docstring)."""
    margin = rule.max_regression or 0.0
    scaled = margin * youden
    sign = -1.0 if rule.higher_is_better else 1.0
    name = f"regression ≤ {margin * 100:+.1f} pts"
    if rule.test == "bootstrap":
        b = paired_bootstrap(
            [float(x) for x, _ in pairs],
            [float(y) for _, y in pairs],
            margin=scaled,
            alpha=policy.alpha,
            resamples=policy.bootstrap.resamples,
            seed=policy.bootstrap.seed,
        )
        est, low, high, pw, pin = b.estimate, b.low, b.high, b.p_worse, b.p_within
        method = f"paired bootstrap ({b.resamples} resamples)"
    else:
        table = PairedTable(
            both=sum(x and y for x, y in pairs),
            candidate_only=sum(y and not x for x, y in pairs),
            baseline_only=sum(x and not y for x, y in pairs),
            neither=sum(not x and not y for x, y in pairs),
        )
        t = paired_proportion_test(table, margin=scaled, alpha=policy.alpha)
        est, low, high, pw, pin, method = t.estimate, t.low, t.high, t.p_worse, t.p_within, t.method
    if youden != 1.0:
        method += f"; corrected: margin × (Se + Sp − 1) = × {youden:.3f}, difference ÷ {youden:.3f}"
    # Stored in metric units: a drop in a higher-is-better metric is the regression.
    lo, hi = sorted((sign * low / youden, sign * high / youden))
    return Check("regression", name, sign * margin, sign * est / youden, lo, hi, pw, pin, method)


_BOUNDS_OP = {"max": "≤", "min": "≥"}


def _bounds(rule: Rule) -> list[tuple[CheckKind, float]]:
    pairs: tuple[tuple[CheckKind, float | None], ...] = (("max", rule.max), ("min", rule.min))
    return [(kind, limit) for kind, limit in pairs if limit is not None]


def _threshold_checks(rule: Rule, events: int, n: int, alpha: float) -> list[Check]:
    checks = []
    for kind, limit in _bounds(rule):
        t = threshold_test(events, n, limit=limit, upper=kind == "max", alpha=alpha)
        checks.append(
            Check(
                kind,
                f"rate {_BOUNDS_OP[kind]} {_pct(limit)}",
                limit,
                t.estimate,
                t.low,
                t.high,
                t.p_worse,
                t.p_within,
                "exact binomial; Clopper-Pearson CI",
            )
        )
    return checks


def _corrected_threshold_checks(rule: Rule, events: int, n: int, acc: BinaryAccuracy, alpha: float) -> list[Check]:
    """Bounds on the corrected rate; the posterior's tail probabilities play the one-sided p-values."""
    c = correct_rate(events, n, acc, confidence=1 - 2 * alpha)
    checks = []
    for kind, limit in _bounds(rule):
        name = f"corrected rate {_BOUNDS_OP[kind]} {_pct(limit)}"
        if not c.correctable:
            checks.append(Check(kind, name, limit, math.nan, None, None, None, None, "none", reason=c.note))
            continue
        at_most, at_least = corrected_tails(events, n, acc, limit)
        worse, within = (at_most, at_least) if kind == "max" else (at_least, at_most)
        method = f"Rogan–Gladen with {acc.source}; Monte Carlo posterior tail"
        checks.append(Check(kind, name, limit, c.point, c.low, c.high, worse, within, method))
    return checks


def _accuracy(measure: Measure) -> BinaryAccuracy | None:
    card = find_card(event_scorer(measure.event))
    return None if card is None else card_accuracy(card, event_labels(measure.event))


def _statistical_checks(
    rule: Rule, pairs: list[tuple[bool, bool]], cand_events: int, acc: BinaryAccuracy | None, policy: GatePolicy
) -> list[Check]:
    if not rule.corrected:
        regression = [_regression_check(rule, pairs, policy)] if rule.max_regression is not None else []
        return regression + _threshold_checks(rule, cand_events, len(pairs), policy.alpha)
    youden = math.nan if acc is None else acc.sensitivity + acc.specificity - 1
    if acc is None or not youden > 0:
        why = "the scorer has no card" if acc is None else "the scorer is no better than chance (Se + Sp ≤ 1)"
        kinds: list[tuple[CheckKind, float]] = []
        if rule.max_regression is not None:
            kinds.append(("regression", rule.max_regression))
        return [
            Check(kind, f"corrected {kind}", limit, math.nan, None, None, None, None, "none", reason=why)
            for kind, limit in kinds + _bounds(rule)
        ]
    regression = [_regression_check(rule, pairs, policy, youden)] if rule.max_regression is not None else []
    return regression + _corrected_threshold_checks(rule, cand_events, len(pairs), acc, policy.alpha)


def _qa_check(name: str, bound: Bound, logs: dict[str, dict[str, float]]) -> Check:
    parts = [f"≥ {bound.min:g}" if bound.min is not None else "", f"≤ {bound.max:g}" if bound.max is not None else ""]
    label = f"{name} {' and '.join(p for p in parts if p)}"
    problems = []
    for role, values in logs.items():
        value = values.get(name)
        if value is None:
            problems.append(f"{role} log does not report {name}")
        elif (bound.min is not None and value < bound.min) or (bound.max is not None and value > bound.max):
            problems.append(f"{role} {name} = {value:.3g}")
    cand = logs["candidate"].get(name)
    limit = bound.min if bound.min is not None else bound.max
    verdict: Verdict = "fail" if problems else "pass"
    reason = "; ".join(problems)
    return Check("judge_qa", label, float(limit or 0.0), cand, None, None, None, None, "reported value",
                 verdict=verdict, reason=reason, baseline_value=logs["baseline"].get(name))  # fmt: skip


def _outcome_harm(outcome: Outcome, rule: Rule, unparsed: str) -> bool | None:
    """:func:`_harm` for an outcome measure (no scorer label): ``None`` also when the sample is not in it."""
    if rule.metric not in outcome.values:
        return None
    happened = outcome.values[rule.metric]
    if happened is None:
        return None if unparsed == "exclude" else True
    return not happened if rule.higher_is_better else happened


def _paired_harms(
    suite: str, rule: Rule, pairing: Pairing, policy: GatePolicy
) -> tuple[Rule, list[tuple[PairedSample, bool | None, bool | None]], BinaryAccuracy | None]:
    """The rule with its direction settled, each sample's (baseline, candidate) unwanted outcome, the card."""
    spec = get_suite(suite)
    outcome = next((o for o in spec.outcomes if o.name == rule.metric), None)
    if outcome is not None:
        rule = rule.model_copy(update={"higher_is_better": outcome.higher_is_better})
        chosen = [s for s in pairing.samples if rule.metric in s.baseline.values or rule.metric in s.candidate.values]
        return (
            rule,
            [(s, _outcome_harm(s.baseline, rule, policy.unparsed), _outcome_harm(s.candidate, rule, policy.unparsed))
             for s in chosen],
            None,
        )  # fmt: skip
    measure = next(m for m in spec.measures if m.name == rule.metric)
    rule = rule.model_copy(update={"higher_is_better": bool(rule.higher_is_better)})
    chosen = [s for s in pairing.samples if s.prompt_label == measure.prompt_label]
    harms = [
        (s, _harm(s.baseline, measure, rule, policy.unparsed), _harm(s.candidate, measure, rule, policy.unparsed))
        for s in chosen
    ]
    return rule, harms, _accuracy(measure)


def _rule(suite: str, rule: Rule, pairing: Pairing, qa: dict[str, dict[str, float]], policy: GatePolicy) -> RuleResult:
    rule, harms, acc = _paired_harms(suite, rule, pairing, policy)
    kept = [(s, x, y) for s, x, y in harms if x is not None and y is not None]
    pairs = [(bool(x), bool(y)) for _, x, y in kept]
    n = len(pairs)
    # Rates in the metric's own units (the share of samples where the event happened).
    to_event = (lambda h: not h) if rule.higher_is_better else (lambda h: h)
    base_events, cand_events = sum(to_event(x) for x, _ in pairs), sum(to_event(y) for _, y in pairs)
    checks = _statistical_checks(rule, pairs, cand_events, acc, policy)
    checks += [_qa_check(name, bound, qa) for name, bound in rule.judge_qa.items()]
    flips = [Flip(s, "regressed" if y else "improved") for s, x, y in kept if x != y]
    confidence = 1 - 2 * policy.alpha
    return RuleResult(
        suite,
        rule.metric,
        n,
        len(harms) - n,
        base_events / n if n else math.nan,
        cand_events / n if n else math.nan,
        checks,
        flips,
        baseline_corrected=None if acc is None else correct_rate(base_events, n, acc, confidence=confidence),
        candidate_corrected=None if acc is None else correct_rate(cand_events, n, acc, confidence=confidence),
        on_corrected=rule.corrected,
    )


def _decide_checks(rules: list[RuleResult], alpha: float) -> list[RuleResult]:
    stat = [(i, j, c.p_worse) for i, r in enumerate(rules) for j, c in enumerate(r.checks) if c.p_worse is not None]
    adjusted = holm([p for _, _, p in stat])
    decided = [list(r.checks) for r in rules]
    for (i, j, _), p_adj in zip(stat, adjusted, strict=True):
        c = decided[i][j]
        if rules[i].n == 0:
            c = replace(c, verdict="inconclusive", p_adjusted=p_adj, reason="no samples left to compare")
        elif p_adj < alpha:
            c = replace(c, verdict="fail", p_adjusted=p_adj, reason=f"violation is significant (Holm p={p_adj:.3g})")
        elif c.p_within is not None and c.p_within < alpha:
            c = replace(c, verdict="pass", p_adjusted=p_adj, reason=f"within the limit (p={c.p_within:.3g})")
        else:
            c = replace(
                c,
                verdict="inconclusive",
                p_adjusted=p_adj,
                reason="too few samples to tell: the interval straddles the limit",
            )
        decided[i][j] = c
    return [replace(r, checks=cs) for r, cs in zip(rules, decided, strict=True)]


def decide(policy: GatePolicy, pairings: dict[str, Pairing], logs: dict[str, tuple[EvalLog, EvalLog]]) -> GateResult:
    """Apply every rule of the policy to the paired samples of its suite.

    Args:
        policy: The validated policy.
        pairings: Each suite's paired samples (:func:`alignlab.gate.logs.pair_logs`).
        logs: Each suite's ``(baseline, candidate)`` logs, for the judge-QA values.
    """
    rules = []
    for suite, spec in policy.suites.items():
        base, cand = logs[suite]
        qa = {"baseline": judge_qa_values(base), "candidate": judge_qa_values(cand)}
        rules += [_rule(suite, rule, pairings[suite], qa, policy) for rule in spec.rules]
    return GateResult(
        alpha=policy.alpha,
        unparsed=policy.unparsed,
        inconclusive_as=policy.inconclusive,
        rules=_decide_checks(rules, policy.alpha),
        pairings=list(pairings.values()),
    )
