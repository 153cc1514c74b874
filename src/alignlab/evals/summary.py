"""Turn an Inspect eval log into the rates a suite reports, with confidence intervals.

The log is the source of truth: the CLI table, the store row and (later) the gate all
come from this one function, so a log produced elsewhere summarises the same way.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from inspect_ai.log import EvalLog, EvalSample

from alignlab.evals.metrics import Measure, rate_of
from alignlab.stats import Proportion, TwoProportionTest

__all__ = ["DiffRow", "LabelCounts", "RateRow", "SuiteSummary", "label_counts", "measure_rows", "sample_label"]


@dataclass(frozen=True)
class RateRow:
    """One reported rate: a measure over all samples or over one category."""

    measure: str
    group: str
    proportion: Proportion


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
    judge_unparsed: int
    log_location: str
    extra: dict[str, object] = field(default_factory=dict)
    diffs: list[DiffRow] = field(default_factory=list)

    def overall(self) -> dict[str, Proportion]:
        """Each measure's overall rate."""
        return {r.measure: r.proportion for r in self.rows if r.group == "all"}

    def metrics_dict(self) -> dict[str, object]:
        """A JSON-able dict of every rate (for the store)."""
        return {
            "labels": self.labels,
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
                }
                for d in self.diffs
            ],
            **({"extra": self.extra} if self.extra else {}),
        }


def sample_label(sample: EvalSample) -> str | None:
    """The refusal label the scorer gave a sample (``None`` if unscored)."""
    for score in (sample.scores or {}).values():
        label = (score.metadata or {}).get("label")
        if label is not None:
            return str(label)
    return None


def measure_rows(measure: Measure, samples: list[EvalSample]) -> list[RateRow]:
    """The rate of ``measure`` over all its samples and, when it asks for it, per category."""
    chosen = [(s, sample_label(s)) for s in samples if (s.metadata or {}).get("label") == measure.prompt_label]
    labels = [lab for _, lab in chosen if lab is not None]
    rows = [RateRow(measure.name, "all", rate_of(labels, measure.event))]
    if measure.by_category:
        groups: dict[str, list[str]] = defaultdict(list)
        for sample, lab in chosen:
            if lab is not None:
                groups[str((sample.metadata or {}).get("category", "?"))].append(lab)
        rows += [RateRow(measure.name, g, rate_of(labs, measure.event)) for g, labs in sorted(groups.items())]
    return rows


class LabelCounts(NamedTuple):
    """A log's samples that did not error, and how often the scorer gave each refusal label."""

    samples: list[EvalSample]
    labels: dict[str, int]


def label_counts(log: EvalLog) -> LabelCounts:
    """Count the refusal labels of a log's samples (errored samples are left out)."""
    samples = [s for s in (log.samples or []) if s.error is None]
    return LabelCounts(samples, dict(Counter(lab for s in samples if (lab := sample_label(s)) is not None)))
