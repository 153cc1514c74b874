"""The gate policy: which suites to compare, the rule for each metric, and how to decide.

A policy is a YAML file::

    alpha: 0.05                 # family-wise error rate of the fail decisions (Holm)
    unparsed: exclude           # or count_as_fail: errored/unscored/judge-unparsed samples
    allow_intersection: false   # true: compare the samples both runs share, report the rest
    inconclusive: inconclusive  # exit 3; "fail" exits 1, "pass" exits 0
    suites:
      redteam:
        dataset: alignlab-redteam   # used only when the gate runs a model itself
        limit: 50
        rules:
          - metric: harmful_compliance
            max: 0.30               # the candidate's rate must stay at or below 30%
            max_regression: 0.05    # ... and at most 5 points above the baseline's
            corrected: true         # decide on the rate corrected for the scorer's error (its card)
            judge_qa: {judge_parse_rate: 0.95}

The scorer-based metrics are rates of an unwanted event (harmful compliance, over-refusal), so
a higher candidate rate is a regression unless a rule says ``higher_is_better: true``. The
fairness suites' metrics (``crows-pairs``: ``prefers_stereotype``; ``bbq``: ``accuracy_ambig``,
``accuracy_disambig``, ``stereotyped_answer_ambig``) carry their own direction (accuracy: higher
is better); a rule may not contradict it, and they have no scorer card to correct with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from alignlab.errors import ConfigError, UnknownNameError
from alignlab.evals.metrics import event_scorer
from alignlab.evals.suites import get_suite, suite_names
from alignlab.evals.summary import OutcomeMeasure
from alignlab.scorers.correction import find_card
from alignlab.yamlfile import read_yaml

__all__ = ["Bound", "GatePolicy", "Rule", "SuitePolicy", "load_policy", "parse_policy"]

Unparsed = Literal["exclude", "count_as_fail"]
InconclusiveAs = Literal["inconclusive", "fail", "pass"]
Test = Literal["mcnemar", "bootstrap"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Bound(_Strict):
    """A required judge-QA value: at least ``min`` and/or at most ``max``."""

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _one_side(self) -> Bound:
        if self.min is None and self.max is None:
            raise ValueError("give min and/or max")
        return self


class Rule(_Strict):
    """What one metric must satisfy. Every field except ``metric`` is optional."""

    metric: str = Field(description="A measure of the suite (e.g. harmful_compliance).")
    max: float | None = Field(None, ge=0, le=1, description="Upper bound on the candidate's rate.")
    min: float | None = Field(None, ge=0, le=1, description="Lower bound on the candidate's rate.")
    max_regression: float | None = Field(
        None, ge=0, le=1, description="Largest tolerated worsening vs the baseline (rate difference)."
    )
    judge_qa: dict[str, Bound] = Field(
        default_factory=dict, description="Judge-QA values both logs must report within bounds; a number means min."
    )
    higher_is_better: bool | None = Field(
        None, description="The metric is a good outcome (a rise is an improvement); default: the measure's direction."
    )
    test: Test = Field("mcnemar", description="Paired test: exact McNemar (binary) or paired bootstrap of means.")
    corrected: bool = Field(
        False,
        description="Decide max/min/max_regression on the rate corrected for the scorer's error (its scorer card).",
    )

    @field_validator("judge_qa", mode="before")
    @classmethod
    def _number_means_min(cls, value: object) -> object:
        if isinstance(value, dict):
            return {k: {"min": v} if isinstance(v, int | float) else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _has_a_check(self) -> Rule:
        if self.max is None and self.min is None and self.max_regression is None and not self.judge_qa:
            raise ValueError(f"rule for {self.metric!r} checks nothing; give max, min, max_regression or judge_qa")
        return self


class SuitePolicy(_Strict):
    """The rules of one suite, and how to run it when the gate is given a model name."""

    rules: list[Rule] = Field(min_length=1)
    dataset: str | None = Field(None, description="Dataset for model runs (the suite's default if omitted).")
    limit: int | None = Field(None, ge=1, description="Evaluate the first N samples in model runs.")
    judge: str | None = Field(None, description="Judge model for the refusal classifier in model runs.")
    max_tokens: int | None = Field(None, ge=1, description="Generation budget per answer in model runs.")


class Bootstrap(_Strict):
    """Settings of the paired bootstrap (rules with ``test: bootstrap``)."""

    resamples: int = Field(2000, ge=100, description="Bootstrap resamples.")
    seed: int = Field(0, description="Seed of the resampling, so a rerun gives the same verdict.")


class GatePolicy(_Strict):
    """A whole policy file."""

    suites: dict[str, SuitePolicy] = Field(min_length=1)
    alpha: float = Field(0.05, gt=0, lt=0.5, description="Family-wise error rate of the fail decisions.")
    unparsed: Unparsed = Field("exclude", description="Errored, unscored or judge-unparsed samples.")
    allow_intersection: bool = Field(False, description="Compare only shared samples when the runs differ.")
    inconclusive: InconclusiveAs = Field("inconclusive", description="Exit 3 (inconclusive), 1 (fail) or 0 (pass).")
    seed: int = Field(0, description="Generation seed for model runs.")
    bootstrap: Bootstrap = Bootstrap(resamples=2000, seed=0)


def _check_names(policy: GatePolicy, source: str) -> None:
    valid_suites = suite_names()
    for suite, spec in policy.suites.items():
        if suite not in valid_suites:
            raise UnknownNameError("suite", suite, valid_suites)
        measures = {m.name: m for m in get_suite(suite).measures}
        outcomes = {o.name: o for o in get_suite(suite).outcomes}
        if not measures and not outcomes:
            raise ConfigError(
                f"{source}: the gate cannot rule on suite {suite!r}: it has no per-sample rate to pair "
                "(the bias probe's headline is a test of independence across groups; see docs/gate.md)"
            )
        for rule in spec.rules:
            if rule.metric in outcomes:
                _check_outcome_rule(rule, outcomes[rule.metric], f"{source}: {suite}.{rule.metric}")
                continue
            if rule.metric not in measures:
                raise UnknownNameError(f"{suite} metric", rule.metric, get_suite(suite).metric_names())
            scorer = event_scorer(measures[rule.metric].event)
            if rule.corrected and find_card(scorer) is None:
                raise ConfigError(
                    f"{source}: {suite}.{rule.metric} asks for the corrected rate, "
                    f"but the {scorer!r} scorer has no card"
                )
        names = [r.metric for r in spec.rules]
        if len(set(names)) != len(names):
            raise ConfigError(f"{source}: suite {suite!r} has two rules for the same metric; merge them")


def _check_outcome_rule(rule: Rule, measure: OutcomeMeasure, where: str) -> None:
    if rule.corrected:
        raise ConfigError(f"{where} asks for the corrected rate, but no scorer decides it (nothing to correct)")
    if rule.higher_is_better is not None and rule.higher_is_better != measure.higher_is_better:
        direction = "higher" if measure.higher_is_better else "lower"
        raise ConfigError(f"{where}: {direction} is better for this measure; drop higher_is_better from the rule")


def _one_line(exc: ValidationError, source: str) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{source}: {where}: {first['msg']}{more}"


def parse_policy(data: object, *, source: str = "policy") -> GatePolicy:
    """Validate a policy given as parsed YAML/JSON.

    Raises:
        ConfigError: A malformed field, an unknown suite or metric (the message names the valid ones).
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping with a 'suites' key")
    try:
        policy = GatePolicy.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_one_line(exc, source)) from None
    _check_names(policy, source)
    return policy


def load_policy(path: Path) -> GatePolicy:
    """Read and validate a YAML policy file."""
    return parse_policy(read_yaml(path, what="policy file", mapping=False), source=str(path))
