"""Turn an Inspect eval log into the rates a suite reports, with confidence intervals.

The log is the source of truth: the CLI table, the store row and (later) the gate all
come from this one function, so a log produced elsewhere summarises the same way.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from inspect_ai import Task
from inspect_ai.log import EvalLog, EvalSample

from alignlab.evals.metrics import Event, Measure, ScorerName, corrected_rate_of, event_scorer, rate_of, score_label
from alignlab.scorers.correction import CorrectedDifference, CorrectedRate
from alignlab.stats import Proportion, TwoProportionTest

__all__ = [
    "DiffRow",
    "LabelCounts",
    "OutcomeMeasure",
    "RateRow",
    "SuiteSpec",
    "SuiteSummary",
    "corrected_row",
    "label_counts",
    "measure_rows",
    "sample_label",
    "used_judge",
]

JUDGE_NOTE = "labels partly from a judge; the card describes the bundled scorer"


@dataclass(frozen=True)
class RateRow:
    """One reported rate: a measure over all samples or over one category.

    ``corrected`` is the rate corrected for the scorer's error (its card's sensitivity and
    specificity), ``None`` for rates no scorer decides (a prefix check) or a scorer without a card.
    """

    measure: str
    group: str
    proportion: Proportion
    corrected: CorrectedRate | None = None


def corrected_row(measure: str, group: str, p: Proportion, event: Event, *, judged: bool = False) -> RateRow:
    """A :class:`RateRow` with ``p`` corrected by the card of ``event``'s scorer."""
    corrected = corrected_rate_of(p, event)
    if corrected is not None and judged:
        corrected = replace(corrected, note="; ".join(n for n in (JUDGE_NOTE, corrected.note) if n))
    return RateRow(measure, group, p, corrected)


def _corrected_dict(c: CorrectedRate | None) -> dict[str, object] | None:
    if c is None:
        return None
    return {
        "rate": c.point if c.correctable else None,
        "ci_low": c.low,
        "ci_high": c.high,
        "method": c.method,
        "note": c.note,
        "sensitivity": c.sensitivity,
        "specificity": c.specificity,
    }


def _corrected_diff_dict(c: CorrectedDifference | None) -> dict[str, object] | None:
    if c is None:
        return None
    return {
        "difference": c.point if c.correctable else None,
        "ci_low": c.low,
        "ci_high": c.high,
        "method": c.method,
        "note": c.note,
    }


@dataclass(frozen=True)
class DiffRow:
    """A reported difference between two groups' rates (``test.b - test.a``), with its test."""

    measure: str
    group: str
    label: str
    """What is subtracted from what, e.g. ``free − paid``."""
    test: TwoProportionTest
    note: str = ""
    """Anything else a reader needs, e.g. a paired test on the same prompts."""
    corrected: CorrectedDifference | None = None
    """The same difference with both rates corrected for the scorer's error (one card, shared)."""


@dataclass(frozen=True)
class SuiteSummary:
    """What a suite run measured."""

    suite: str
    model: str
    dataset: str
    status: str
    n_samples: int
    rows: list[RateRow]
    labels: dict[str, int]
    """How often the refusal scorer gave each label."""
    judge_unparsed: int
    log_location: str
    extra: dict[str, object] = field(default_factory=dict)
    diffs: list[DiffRow] = field(default_factory=list)
    harm_labels: dict[str, int] = field(default_factory=dict)
    """How often the harm scorer gave each label (empty when the suite does not run it)."""

    def corrected(self) -> dict[str, CorrectedRate]:
        """Each measure's overall rate corrected for scorer error (measures with a card only)."""
        return {r.measure: r.corrected for r in self.rows if r.group == "all" and r.corrected is not None}

    def overall(self) -> dict[str, Proportion]:
        """Each measure's overall rate."""
        return {r.measure: r.proportion for r in self.rows if r.group == "all"}

    def metrics_dict(self) -> dict[str, object]:
        """A JSON-able dict of every rate (for the store)."""
        return {
            "labels": self.labels,
            **({"harm_labels": self.harm_labels} if self.harm_labels else {}),
            "judge_unparsed": self.judge_unparsed,
            "rates": [
                {
                    "measure": r.measure,
                    "group": r.group,
                    "successes": r.proportion.successes,
                    "n": r.proportion.n,
                    "rate": r.proportion.rate,
                    "ci_low": r.proportion.low,
                    "ci_high": r.proportion.high,
                    "corrected": _corrected_dict(r.corrected),
                }
                for r in self.rows
            ],
            "differences": [
                {
                    "measure": d.measure,
                    "group": d.group,
                    "label": d.label,
                    "difference": d.test.difference,
                    "ci_low": d.test.low,
                    "ci_high": d.test.high,
                    "p_value": d.test.p_value,
                    "method": d.test.method,
                    "note": d.note,
                    "corrected": _corrected_diff_dict(d.corrected),
                }
                for d in self.diffs
            ],
            **({"extra": self.extra} if self.extra else {}),
        }


def sample_label(sample: EvalSample, scorer: ScorerName = "refusal") -> str | None:
    """The label ``scorer`` gave a sample (``None`` if it did not score it)."""
    for score in (sample.scores or {}).values():
        label = score_label(score.metadata, scorer)
        if label is not None:
            return label
    return None


def used_judge(log: EvalLog) -> bool:
    """Whether a judge settled some of the refusal labels (the card then describes only part of them)."""
    return bool((log.eval.task_args or {}).get("judge"))


def measure_rows(measure: Measure, samples: list[EvalSample], *, judged: bool = False) -> list[RateRow]:
    """The rate of ``measure`` (and its corrected rate) over all its samples and, if it asks, per category.

    ``judged``: a judge settled some refusal labels (the corrected rates say so).
    """
    scorer = event_scorer(measure.event)
    judged = judged and scorer == "refusal"
    chosen = [(s, sample_label(s, scorer)) for s in samples if (s.metadata or {}).get("label") == measure.prompt_label]
    labels = [lab for _, lab in chosen if lab is not None]
    rows = [corrected_row(measure.name, "all", rate_of(labels, measure.event), measure.event, judged=judged)]
    if measure.by_category:
        groups: dict[str, list[str]] = defaultdict(list)
        for sample, lab in chosen:
            if lab is not None:
                groups[str((sample.metadata or {}).get("category", "?"))].append(lab)
        rows += [
            corrected_row(measure.name, g, rate_of(labs, measure.event), measure.event, judged=judged)
            for g, labs in sorted(groups.items())
        ]
    return rows


class LabelCounts(NamedTuple):
    """A log's samples that did not error, and how often each scorer gave each label."""

    samples: list[EvalSample]
    labels: dict[str, int]
    harm_labels: dict[str, int]


def label_counts(log: EvalLog) -> LabelCounts:
    """Count the refusal and harm labels of a log's samples (errored samples are left out)."""
    samples = [s for s in (log.samples or []) if s.error is None]
    return LabelCounts(
        samples,
        dict(Counter(lab for s in samples if (lab := sample_label(s)) is not None)),
        dict(Counter(lab for s in samples if (lab := sample_label(s, "harm")) is not None)),
    )


@dataclass(frozen=True)
class OutcomeMeasure:
    """A rate of a suite whose per-sample outcome is no scorer label (log-likelihood suites).

    The gate pairs such a measure's outcomes sample by sample like a scorer event's
    (:mod:`alignlab.gate.compare`).

    Attributes:
        name: The measure's name (what a gate rule's ``metric`` says).
        description: What the rate counts, for docs and error messages.
        higher_is_better: The direction of a good change (accuracy); ``False`` for unwanted events.
        applies: Whether a sample belongs to the measure (read from its metadata; errored samples too).
        happened: The outcome of a scored sample; ``None`` when it counts for neither side (a tie).
    """

    name: str
    description: str
    higher_is_better: bool
    applies: Callable[[EvalSample], bool]
    happened: Callable[[EvalSample], bool | None]


@dataclass(frozen=True)
class SuiteSpec:
    """A named suite: its task factory, default dataset and the rates it reports.

    Defined here, not in :mod:`alignlab.evals.suites`: Inspect re-imports a task's file outside
    ``sys.modules`` (``eval_retry`` from a source checkout), where a dataclass with postponed
    annotations cannot be built.
    """

    name: str
    task: Callable[..., Task]
    default_dataset: str
    description: str
    measures: tuple[Measure, ...]
    summarize: Callable[[EvalLog], SuiteSummary] | None = None
    """Suite-specific summary used instead of ``measures`` (rates per condition, differences)."""
    outcomes: tuple[OutcomeMeasure, ...] = ()
    """Rates the gate can rule on that no scorer decides (the fairness suites' headline rates)."""
    local_model_args: dict[str, str] = field(default_factory=dict)
    """Model args for a local model (``{"engine": "transformers"}``: the suite scores with its weights)."""

    def metric_names(self) -> list[str]:
        """Every measure a gate rule may name."""
        return [m.name for m in self.measures] + [o.name for o in self.outcomes]
