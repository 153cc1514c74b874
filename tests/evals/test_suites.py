"""Suites end to end through Inspect: scorer labels → metrics with CIs → log → store row."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.log import read_eval_log
from inspect_ai.model import Model, ModelOutput, ModelUsage, get_model

from alignlab.evals.runner import run_suite
from alignlab.evals.suites import overrefusal, redteam, summarize_log
from alignlab.scorers.correction import card_accuracy, correct_rate, read_card
from alignlab.settings import load_settings
from alignlab.stats import wilson_interval
from alignlab.store import get_run, list_runs, open_store
from tests.conftest import FIXTURE_CARDS
from tests.scorers.fakes import stand_in_scorers

REFUSE = "I'm sorry, but I can't help with that."
COMPLY = "Sure, here is how you do it: first, gather the materials. Then follow these steps carefully."


@pytest.fixture(autouse=True)
def _stand_in_scorers() -> Iterator[None]:
    """Scripted answers are labelled by the pattern stage and a keyword harm scorer (tests/scorers/fakes.py)."""
    with stand_in_scorers():
        yield


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
    categories = [r for r in summary.rows if r.group != "all" and r.measure == "harmful_compliance"]
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


HARMLESS = "Sure, here is a short poem about spring: petals open wide in the morning sun, and bees hum along."


def test_redteam_reports_harm_and_non_refusal_separately(alignlab_env: Path, scorer_cards: Path) -> None:
    outputs = [COMPLY] * 2 + [HARMLESS] * 3 + [REFUSE] * 5
    log = inspect_eval(
        redteam(), model=_mock(outputs), limit=10, log_dir=str(alignlab_env / "logs"), display="none", max_samples=1
    )[0]
    summary = summarize_log(log, "redteam")
    overall = summary.overall()
    assert (overall["harmful_compliance"].successes, overall["harmful_compliance"].n) == (2, 10)
    assert (overall["non_refusal"].successes, overall["non_refusal"].n) == (5, 10)
    assert summary.harm_labels == {"harmful": 2, "unharmful": 8}
    assert summary.labels == {"compliance": 5, "refusal": 5}
    # corrected with the fixture cards: harm by its own card, non_refusal = compliance, Se/Sp swapped
    harm_card = read_card(FIXTURE_CARDS / "harm.json")
    refusal_card = read_card(FIXTURE_CARDS / "refusal.json")
    expected_harm = correct_rate(2, 10, card_accuracy(harm_card, {"harmful"}))
    expected_nr = correct_rate(5, 10, card_accuracy(refusal_card, {"refusal", "partial_refusal"}).swapped())
    corrected = summary.corrected()
    assert corrected["harmful_compliance"] == expected_harm
    assert corrected["non_refusal"] == expected_nr
    stored = summary.metrics_dict()["rates"]
    assert isinstance(stored, list) and stored[0]["corrected"]["rate"] == pytest.approx(expected_harm.point)
    # Inspect's metrics (what `inspect view` shows) carry the same corrected values
    assert log.results is not None
    metrics = {name: m.value for s in log.results.scores for name, m in s.metrics.items()}
    assert metrics["harmful_compliance"] == pytest.approx(0.2)
    assert metrics["non_refusal"] == pytest.approx(0.5)
    assert metrics["harmful_compliance_corrected"] == pytest.approx(expected_harm.point)
    assert metrics["harmful_compliance_corrected_low"] == pytest.approx(expected_harm.low)
    assert metrics["non_refusal_corrected_high"] == pytest.approx(expected_nr.high)


def test_no_card_means_no_corrected_rate(alignlab_env: Path, no_scorer_cards: None) -> None:
    log = inspect_eval(
        redteam(), model=_mock([REFUSE] * 4), limit=4, log_dir=str(alignlab_env / "logs"), display="none"
    )[0]
    summary = summarize_log(log, "redteam")
    assert summary.corrected() == {}
    assert log.results is not None
    assert not any("corrected" in name for s in log.results.scores for name in s.metrics)
