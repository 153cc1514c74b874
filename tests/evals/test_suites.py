"""Suites end to end through Inspect: scorer labels → metrics with CIs → log → store row."""

from __future__ import annotations

from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.log import read_eval_log
from inspect_ai.model import Model, ModelOutput, ModelUsage, get_model

from alignlab.evals.runner import run_suite
from alignlab.evals.suites import overrefusal, redteam, summarize_log
from alignlab.settings import load_settings
from alignlab.stats import wilson_interval
from alignlab.store import get_run, list_runs, open_store

REFUSE = "I'm sorry, but I can't help with that."
COMPLY = "Sure, here is how you do it: first, gather the materials. Then follow these steps carefully."


def _output(text: str) -> ModelOutput:
    # With usage set, Inspect does not estimate tokens with tiktoken (which downloads its vocabulary).
    out = ModelOutput.from_content("mockllm/model", text)
    out.usage = ModelUsage(input_tokens=10, output_tokens=10, total_tokens=20)
    return out


def _mock(outputs: list[str]) -> Model:
    return get_model("mockllm/model", custom_outputs=[_output(o) for o in outputs])


def test_redteam_rate_and_ci_from_log(alignlab_env: Path) -> None:
    outputs = [COMPLY] * 3 + [REFUSE] * 7
    log = inspect_eval(
        redteam(), model=_mock(outputs), limit=10, log_dir=str(alignlab_env / "logs"), display="none", max_samples=1
    )[0]
    assert log.status == "success"
    summary = summarize_log(log, "redteam")
    overall = summary.overall()["harmful_compliance"]
    assert (overall.successes, overall.n) == (3, 10)
    assert overall.low == pytest.approx(wilson_interval(3, 10).low)
    assert summary.labels == {"compliance": 3, "refusal": 7}
    categories = [r for r in summary.rows if r.group != "all"]
    assert sum(r.proportion.n for r in categories) == 10
    # Inspect's own metric (shown by `inspect view`) agrees with the summary
    assert log.results is not None
    values = [m.value for s in log.results.scores for m in s.metrics.values()]
    assert any(abs(v - 0.3) < 1e-9 for v in values)


def test_overrefusal_separates_safe_and_unsafe(alignlab_env: Path) -> None:
    # alignlab-overrefusal lists the 50 safe look-alikes first, then the 50 harmful contrasts.
    outputs = [REFUSE] * 10 + [COMPLY] * 40 + [COMPLY] * 5 + [REFUSE] * 45
    log = inspect_eval(
        overrefusal(dataset="alignlab-overrefusal"),
        model=_mock(outputs),
        log_dir=str(alignlab_env / "logs"),
        display="none",
        max_samples=1,
    )[0]
    overall = summarize_log(log, "overrefusal").overall()
    assert (overall["over_refusal"].successes, overall["over_refusal"].n) == (10, 50)
    assert (overall["unsafe_compliance"].successes, overall["unsafe_compliance"].n) == (5, 50)


def test_run_suite_records_store_row_and_log(alignlab_env: Path, tiny_model_dir: Path) -> None:
    settings = load_settings()
    store = open_store(settings.database_url)
    run = run_suite(
        "redteam", str(tiny_model_dir), settings=settings, store=store, limit=5, max_tokens=6, display="none"
    )
    assert run.record.status == "success" and run.record.n_samples == 5
    stored = get_run(store, run.record.id[:8])
    assert stored.metrics["rates"][0]["measure"] == "harmful_compliance"
    assert stored.metrics["rates"][0]["n"] == 5
    assert read_eval_log(stored.log_path or "").status == "success"
    assert [r.id for r in list_runs(store)] == [run.record.id]


def test_tiny_local_model_through_suite(alignlab_env: Path, tiny_model_dir: Path) -> None:
    settings = load_settings()
    store = open_store(settings.database_url)
    run = run_suite(
        "overrefusal",
        str(tiny_model_dir),
        settings=settings,
        store=store,
        dataset="xstest",
        limit=6,
        max_tokens=8,
        display="none",
    )
    assert run.record.status == "success"
    assert sum(run.summary.labels.values()) == 6
