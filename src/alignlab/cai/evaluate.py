"""Evaluate each Constitutional AI stage (base → SFT → RLAIF) and test every step's effect on the same prompts.

Five measures per stage, every one with a 95% interval; the scorer-based rates mean exactly
what the suites' rates mean (:mod:`alignlab.evals.metrics`):

* ``harmful_compliance`` (lower is better): the ``redteam`` suite's share of harmful requests
  whose answer actually gave the harmful help, by the ``harm`` scorer (Wilson CI);
* ``non_refusal`` (lower is better): the share of the same requests answered without any
  refusal, by the ``refusal`` scorer (Wilson CI) — not refusing is not the same as helping;
* ``over_refusal`` (lower is better): the ``overrefusal`` suite's share of safe look-alike
  prompts refused, fully or partially (Wilson CI);
* ``evasiveness`` (lower is better): the share of the same harmful requests met with a bare
  refusal, one with neither a reason nor a safer alternative (Wilson CI; see
  :func:`alignlab.scorers.refusal.is_bare_refusal`);
* ``helpfulness`` (higher is better): a judge's 1–10 rating of the answers to benign prompts
  (mean with a t interval; unparsed judge replies are counted and left out).

The three scorer-based rates also get the rate corrected for the scorer's error (its card's
sensitivity and specificity, :mod:`alignlab.scorers.correction`), as the suite tables show.

Every stage answers the same samples (``limit`` prompts spread evenly over each dataset's
categories: harmful ones of the red-team set, safe ones of the others), so each step is a
paired comparison: for rates the exact McNemar test and Newcombe's paired interval
(:mod:`alignlab.stats`), for helpfulness a paired bootstrap interval and the Wilcoxon
signed-rank test. Steps compared: each consecutive pair and, with three or more stages, first
against last.

Resumable: a suite run already finished for the same model, dataset, samples and token
budget is read from its log instead of run again; helpfulness ratings are kept in a store row
per stage and in a per-answer cache (see :mod:`alignlab.cai.evaluate_helpfulness`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
from inspect_ai.log import EvalLog, read_eval_log
from scipy import stats as _st

from alignlab.cai.config import CaiEvalOptions
from alignlab.cai.evaluate_helpfulness import (
    JUDGE_MAX_TOKENS,
    JUDGE_PROMPT,
    HelpfulnessJudge,
    RatedAnswer,
)
from alignlab.data import load_prompts
from alignlab.errors import ConfigError
from alignlab.evals.metrics import Event, ScorerName, corrected_rate_of, event_happened
from alignlab.evals.runner import Display, run_suite
from alignlab.evals.summary import sample_label
from alignlab.scorers.correction import CorrectedRate
from alignlab.scorers.refusal import is_bare_refusal
from alignlab.settings import Settings
from alignlab.stats import (
    PairedTable,
    Proportion,
    mcnemar_exact,
    paired_bootstrap,
    paired_difference_ci,
    wilcoxon_signed_rank,
    wilson_interval,
)
from alignlab.store import RunRecord, Store, finish_run, list_runs, start_run

__all__ = [
    "METRICS",
    "CaiEvalOptions",
    "MeanRating",
    "MetricSpec",
    "PairedComparison",
    "StageEvaluation",
    "StageModel",
    "StageResult",
    "compare_stages",
    "evaluate_stages",
    "mean_rating",
    "select_sample_ids",
]

HELPFULNESS_SUITE = "cai-helpfulness"
RATE_METRICS = ("harmful_compliance", "non_refusal", "over_refusal", "evasiveness")
# The scorer event behind each corrected rate (evasiveness is a rule on the refusal's wording: no card).
_CORRECTED_EVENTS: dict[str, Event] = {
    "harmful_compliance": "harmful",
    "non_refusal": "not_refused",
    "over_refusal": "refused",
}


@dataclass(frozen=True)
class MetricSpec:
    """A measure of the evaluation: its name, kind and which direction is better."""

    name: str
    kind: Literal["rate", "mean"]
    higher_is_better: bool
    description: str


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("harmful_compliance", "rate", False, "harmful requests whose answer gave the harmful help (harm)"),
    MetricSpec("non_refusal", "rate", False, "harmful requests answered without any refusal (refusal scorer)"),
    MetricSpec("over_refusal", "rate", False, "safe look-alike prompts refused"),
    MetricSpec("evasiveness", "rate", False, "harmful requests met with a refusal giving no reason or alternative"),
    MetricSpec("helpfulness", "mean", True, "judge rating 1–10 of answers to benign prompts"),
)


@dataclass(frozen=True)
class StageModel:
    """A stage of the chain and the model that stands for it: ``("sft", "ckpt:run-sft")``."""

    stage: str
    model: str


@dataclass(frozen=True)
class MeanRating:
    """A stage's mean helpfulness rating with a 95% t interval."""

    mean: float
    low: float
    high: float
    n: int
    unparsed: int


def mean_rating(ratings: Sequence[float]) -> MeanRating:
    """Mean of the parsed ratings (NaN = unparsed) with a two-sided 95% t interval."""
    values = np.array([r for r in ratings if not math.isnan(r)], dtype=float)
    unparsed = len(ratings) - values.size
    if values.size == 0:
        return MeanRating(math.nan, math.nan, math.nan, 0, unparsed)
    mean = float(values.mean())
    if values.size == 1 or float(values.std()) == 0.0:
        return MeanRating(mean, mean, mean, int(values.size), unparsed)
    ci = _st.ttest_1samp(values, 0.0).confidence_interval(0.95)
    return MeanRating(mean, float(ci.low), float(ci.high), int(values.size), unparsed)


@dataclass(frozen=True)
class StageResult:
    """One stage's measures and the per-sample outcomes behind them.

    Attributes:
        rates: ``harmful_compliance``, ``non_refusal``, ``over_refusal`` and ``evasiveness``.
        events: For each rate, sample id → whether the (unwanted) event happened; scored samples only.
        corrected: The scorer-based rates corrected for the scorer's error (rates whose scorer has
            a card; none for ``evasiveness``).
        ratings: Sample id → helpfulness rating (NaN: the judge's reply had none).
        runs: Suite → store run id (``cai-helpfulness`` for the ratings).
        logs: Suite → Inspect log path.
        reused: Suites read from an earlier run instead of run again.
    """

    stage: str
    model: str
    rates: dict[str, Proportion]
    helpfulness: MeanRating
    events: dict[str, dict[str, bool]]
    ratings: dict[str, float]
    runs: dict[str, str]
    logs: dict[str, str]
    reused: list[str] = field(default_factory=list)
    corrected: dict[str, CorrectedRate] = field(default_factory=dict)


@dataclass(frozen=True)
class PairedComparison:
    """One step's effect on one measure: ``candidate − baseline`` on the samples both scored.

    ``low``/``high`` are a two-sided 95% interval and ``p_value`` a two-sided test.
    """

    metric: str
    baseline: str
    candidate: str
    n: int
    baseline_value: float
    candidate_value: float
    estimate: float
    low: float
    high: float
    p_value: float
    method: str
    table: PairedTable | None = None


@dataclass(frozen=True)
class StageEvaluation:
    """Every stage's measures and the paired tests between stages."""

    options: CaiEvalOptions
    stages: list[StageResult]
    comparisons: list[PairedComparison]
    calls: dict[str, int] = field(default_factory=dict)
    """Model calls of the evaluation itself: ``new`` (generations and judge calls made) and ``cached``."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able summary (no per-sample outcomes; NaN becomes ``None``)."""
        return {
            "options": asdict(self.options),
            "calls": dict(self.calls),
            "stages": [_stage_dict(s) for s in self.stages],
            "comparisons": [_comparison_dict(c) for c in self.comparisons],
        }


def _num(x: float) -> float | None:
    return None if math.isnan(x) else x


def _stage_dict(s: StageResult) -> dict[str, Any]:
    rates: dict[str, dict[str, Any]] = {
        name: {"rate": _num(p.rate), "low": p.low, "high": p.high, "n": p.n, "events": p.successes}
        for name, p in s.rates.items()
    }
    for name, c in s.corrected.items():
        rates[name]["corrected"] = {"rate": _num(c.point), "low": c.low, "high": c.high, "note": c.note}
    h = s.helpfulness
    return {
        "stage": s.stage,
        "model": s.model,
        "rates": rates,
        "helpfulness": {
            "mean": _num(h.mean),
            "low": _num(h.low),
            "high": _num(h.high),
            "n": h.n,
            "unparsed": h.unparsed,
        },
        "runs": dict(s.runs),
        "logs": dict(s.logs),
        "reused": list(s.reused),
    }


def _comparison_dict(c: PairedComparison) -> dict[str, Any]:
    out: dict[str, Any] = {
        "metric": c.metric,
        "baseline": c.baseline,
        "candidate": c.candidate,
        "n": c.n,
        "baseline_value": _num(c.baseline_value),
        "candidate_value": _num(c.candidate_value),
        "estimate": _num(c.estimate),
        "low": _num(c.low),
        "high": _num(c.high),
        "p_value": _num(c.p_value),
        "method": c.method,
    }
    if c.table is not None:
        out["table"] = asdict(c.table)
    return out


@dataclass(frozen=True)
class _SuiteLog:
    run_id: str
    log: EvalLog
    reused: bool


def evaluate_stages(
    stages: Sequence[StageModel],
    options: CaiEvalOptions,
    *,
    settings: Settings,
    store: Store,
    log_dir: Path,
    display: Display = "rich",
) -> StageEvaluation:
    """Evaluate every stage on the same samples and compare the stages pairwise.

    Args:
        stages: The stages in chain order (``base``, ``sft``, ``rlaif``); names must be unique.
        options: Datasets, sample limit, token budget and the helpfulness judge.
        settings: Paths (the judge prompt is read from the data directory).
        store: Where runs are recorded and looked up for reuse.
        log_dir: Where Inspect logs and the judge cache go.
        display: Inspect's progress display (``none`` in tests).

    Raises:
        ConfigError: No stages, or two stages with one name.
    """
    _check_stages(stages)
    judge = HelpfulnessJudge(options.helpfulness_judge, settings, log_dir)
    counts = {"new": 0, "cached": 0}
    ctx = _StageContext(options, settings, store, log_dir, display, counts)
    results = [_evaluate_stage(stage, ctx, judge) for stage in stages]
    counts["new"] += judge.new_calls
    counts["cached"] += judge.cached_calls
    return StageEvaluation(options, results, compare_stages(results), counts)


def _check_stages(stages: Sequence[StageModel]) -> None:
    if not stages:
        raise ConfigError("no stages to evaluate")
    names = [s.stage for s in stages]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        raise ConfigError(f"stage {duplicate!r} is given twice; stage names must be unique")


@dataclass(frozen=True)
class _StageContext:
    options: CaiEvalOptions
    settings: Settings
    store: Store
    log_dir: Path
    display: Display
    counts: dict[str, int]

    def suite_log(self, suite: str, model: str, dataset: str, label: str) -> _SuiteLog:
        """The finished run of ``suite`` for this model on the chosen samples, reused when one exists."""
        ids = select_sample_ids(dataset, label, self.options.limit, self.settings)
        found = _find_run(self.store, suite, model, dataset, ids, self.options.max_new_tokens)
        if found is not None:
            record, log = found
            self.counts["cached"] += len(log.samples or [])
            return _SuiteLog(record.id, log, True)
        run = run_suite(
            suite,
            model,
            settings=self.settings,
            store=self.store,
            dataset=dataset,
            sample_ids=ids,
            log_dir=self.log_dir,
            max_tokens=self.options.max_new_tokens,
            display=self.display,
        )
        log = read_eval_log(run.summary.log_location)
        self.counts["new"] += len(log.samples or [])
        return _SuiteLog(run.record.id, log, False)


def select_sample_ids(dataset: str, label: str, limit: int, settings: Settings) -> list[str]:
    """``limit`` ids of the dataset's prompts labelled ``label``, evenly spaced.

    Dataset files are ordered by category (XSTest's first 25 prompts are all homonyms), so an
    even spread keeps every category in a small evaluation. Every stage gets the same ids.

    Raises:
        ConfigError: The dataset has no prompt with this label.
    """
    ids = [r.id for r in load_prompts(dataset, settings) if r.label == label]
    if not ids:
        raise ConfigError(f"dataset {dataset!r} has no {label} prompts to evaluate")
    return ids if limit >= len(ids) else [ids[i * len(ids) // limit] for i in range(limit)]


def _changed_since(model: str, when: datetime) -> bool:
    """Whether ``model`` is a local directory whose files changed after ``when`` (a retrained model)."""
    path = Path(model).expanduser()
    if not path.is_dir():
        return False  # a registered name or a checkpoint: names are unique and checkpoints immutable
    newest = max((f.stat().st_mtime for f in path.iterdir() if f.is_file()), default=0.0)
    started = when if when.tzinfo else when.replace(tzinfo=UTC)
    return newest > started.timestamp()


def _find_run(
    store: Store, suite: str, model: str, dataset: str, ids: list[str], max_tokens: int
) -> tuple[RunRecord, EvalLog] | None:
    for run in list_runs(store, suite=suite, model=model, limit=500):
        if (
            run.status != "success"
            or _changed_since(model, run.started_at)
            or run.dataset != dataset
            or run.sample_limit != len(ids)
            or run.config.get("max_tokens") != max_tokens
            or run.config.get("judge") is not None
            or not run.log_path
        ):
            continue
        try:
            log = read_eval_log(run.log_path)
        except Exception:  # moved or deleted since: run it again
            continue
        if (
            log.status == "success"
            and sorted(str(s.id) for s in log.samples or []) == sorted(ids)
            and _has_harm_labels(suite, log)
        ):
            return run, log
    return None


def _has_harm_labels(suite: str, log: EvalLog) -> bool:
    """A red-team log from before the harm scorer has no ``harm`` labels: it is run again, not reused."""
    if suite != "redteam":
        return True
    return all(sample_label(s, "harm") is not None for s in log.samples or [] if s.error is None)


def _evaluate_stage(stage: StageModel, ctx: _StageContext, judge: HelpfulnessJudge) -> StageResult:
    opts = ctx.options
    red = ctx.suite_log("redteam", stage.model, opts.redteam_dataset, "harmful")
    over = ctx.suite_log("overrefusal", stage.model, opts.overrefusal_dataset, "safe")
    helpful = over
    if opts.helpfulness_dataset != opts.overrefusal_dataset:
        helpful = ctx.suite_log("overrefusal", stage.model, opts.helpfulness_dataset, "safe")
    events = {
        "harmful_compliance": _events(red.log, "harmful", lambda label, _: event_happened(label, "harmful"), "harm"),
        "non_refusal": _events(red.log, "harmful", lambda label, _: event_happened(label, "not_refused")),
        "over_refusal": _events(over.log, "safe", lambda label, _: event_happened(label, "refused")),
        "evasiveness": _events(red.log, "harmful", is_bare_refusal),
    }
    rates = {name: wilson_interval(sum(e.values()), len(e)) for name, e in events.items()}
    rated = _helpfulness(stage, helpful, ctx, judge)
    runs = {"redteam": red.run_id, "overrefusal": over.run_id, HELPFULNESS_SUITE: rated.run_id}
    logs = {"redteam": red.log.location, "overrefusal": over.log.location}
    if rated.log:
        logs[HELPFULNESS_SUITE] = rated.log
    if helpful is not over:
        runs["overrefusal:helpful"] = helpful.run_id
        logs["overrefusal:helpful"] = helpful.log.location
    reused = [name for name, s in (("redteam", red), ("overrefusal", over)) if s.reused]
    reused += [HELPFULNESS_SUITE] if rated.reused else []
    return StageResult(
        stage.stage,
        stage.model,
        rates,
        mean_rating(list(rated.ratings.values())),
        events,
        rated.ratings,
        runs,
        logs,
        reused,
        _corrected(rates),
    )


def _corrected(rates: dict[str, Proportion]) -> dict[str, CorrectedRate]:
    out = {}
    for name, event in _CORRECTED_EVENTS.items():
        corrected = corrected_rate_of(rates[name], event)
        if corrected is not None:
            out[name] = corrected
    return out


def _sample_key(sample_id: str | int, epoch: int) -> str:
    return str(sample_id) if epoch == 1 else f"{sample_id}#{epoch}"


def _events(
    log: EvalLog, prompt_label: str, happened: Callable[[str, str], bool], scorer: ScorerName = "refusal"
) -> dict[str, bool]:
    """Sample id → whether the event happened, for samples ``scorer`` labelled with this prompt label."""
    out = {}
    for s in log.samples or []:
        label = sample_label(s, scorer) if s.error is None else None
        if label is None or (s.metadata or {}).get("label") != prompt_label:
            continue
        out[_sample_key(s.id, s.epoch)] = happened(label, s.output.completion if s.output else "")
    return out


def _benign_answers(log: EvalLog) -> list[RatedAnswer]:
    return [
        RatedAnswer(_sample_key(s.id, s.epoch), s.input, s.output.completion if s.output else "")
        for s in log.samples or []
        if s.error is None and (s.metadata or {}).get("label") == "safe" and isinstance(s.input, str)
    ]


class _Ratings(NamedTuple):
    ratings: dict[str, float]
    run_id: str
    log: str | None
    reused: bool


def _helpfulness(stage: StageModel, answers: _SuiteLog, ctx: _StageContext, judge: HelpfulnessJudge) -> _Ratings:
    """The stage's ratings, its store row, the judge log and whether the row was reused."""
    config = {
        "judge": judge.judge,
        "prompt": JUDGE_PROMPT,
        "max_tokens": JUDGE_MAX_TOKENS,
        "answers_run": answers.run_id,
    }
    dataset = ctx.options.helpfulness_dataset
    for run in list_runs(ctx.store, suite=HELPFULNESS_SUITE, model=stage.model, limit=500):
        if run.status == "success" and run.dataset == dataset and run.config == config:
            ratings = {k: math.nan if v is None else float(v) for k, v in run.metrics.get("ratings", {}).items()}
            ctx.counts["cached"] += len(ratings)
            return _Ratings(ratings, run.id, run.log_path, True)
    record = start_run(
        ctx.store, suite=HELPFULNESS_SUITE, model=stage.model, dataset=dataset, sample_limit=ctx.options.limit,
        config=config,
    )  # fmt: skip
    items = _benign_answers(answers.log)
    try:
        ratings, location = judge.rate(items, display=ctx.display)
    except BaseException as exc:  # Ctrl-C or a judge failure: the row says so; the cache keeps what was rated
        finish_run(
            ctx.store, record.id, status="cancelled", n_samples=0, metrics={}, error=str(exc)[:500] or "interrupted"
        )
        raise
    summary = mean_rating(list(ratings.values()))
    metrics = {
        "ratings": {k: _num(v) for k, v in ratings.items()},
        "mean": _num(summary.mean),
        "n": summary.n,
        "unparsed": summary.unparsed,
    }
    finish_run(ctx.store, record.id, status="success", n_samples=len(items), metrics=metrics, log_path=location)
    return _Ratings(ratings, record.id, location, False)


def _paired_rates(metric: str, a: StageResult, b: StageResult) -> PairedComparison:
    x, y = a.events[metric], b.events[metric]
    shared = sorted(x.keys() & y.keys())
    table = PairedTable(
        both=sum(x[k] and y[k] for k in shared),
        candidate_only=sum(y[k] and not x[k] for k in shared),
        baseline_only=sum(x[k] and not y[k] for k in shared),
        neither=sum(not x[k] and not y[k] for k in shared),
    )
    low, high = paired_difference_ci(table, 0.95)
    p = mcnemar_exact(table.candidate_only, table.baseline_only).p_value
    return PairedComparison(
        metric, a.stage, b.stage, table.n, table.baseline_rate, table.candidate_rate, table.difference,
        low, high, p if table.n else math.nan, "exact McNemar; Newcombe 95% CI", table,
    )  # fmt: skip


def _paired_ratings(a: StageResult, b: StageResult) -> PairedComparison:
    shared = sorted(
        k for k in a.ratings.keys() & b.ratings.keys() if not (math.isnan(a.ratings[k]) or math.isnan(b.ratings[k]))
    )
    x = [a.ratings[k] for k in shared]
    y = [b.ratings[k] for k in shared]
    method = "paired bootstrap 95% CI; Wilcoxon signed-rank"
    if not shared:
        return PairedComparison(
            "helpfulness", a.stage, b.stage, 0, math.nan, math.nan, math.nan, math.nan, math.nan, math.nan, method
        )
    boot = paired_bootstrap(x, y, alpha=0.025)
    p = wilcoxon_signed_rank([v - u for u, v in zip(x, y, strict=True)]).p_value
    return PairedComparison(
        "helpfulness", a.stage, b.stage, len(shared), float(np.mean(x)), float(np.mean(y)), boot.estimate,
        boot.low, boot.high, p, method,
    )  # fmt: skip


def _steps(n: int) -> list[tuple[int, int]]:
    steps = [(i, i + 1) for i in range(n - 1)]
    return [*steps, (0, n - 1)] if n > 2 else steps


def compare_stages(stages: Sequence[StageResult]) -> list[PairedComparison]:
    """Each consecutive step and (with three or more stages) first → last, on every measure."""
    out = []
    for i, j in _steps(len(stages)):
        a, b = stages[i], stages[j]
        out += [_paired_rates(metric, a, b) for metric in RATE_METRICS if metric in a.events and metric in b.events]
        out.append(_paired_ratings(a, b))
    return out
