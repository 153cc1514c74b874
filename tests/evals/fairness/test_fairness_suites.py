"""Issue 15 item 3: BBQ and CrowS-Pairs as suites: Inspect logs, store rows, gate-readable rates."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log

from alignlab.evals.runner import run_suite
from alignlab.evals.suites import suite_names, summarize_log
from alignlab.gate import decide, pair_logs, parse_policy
from alignlab.settings import Settings
from alignlab.store import Store, list_runs

DATA = Path(os.environ.get("ALIGNLAB_DATA_DIR") or Path(__file__).resolve().parents[4] / "shared" / "data")
pytestmark = pytest.mark.skipif(not (DATA / "bbq").is_dir(), reason="needs ../shared/data")


def test_fairness_suites_are_registered() -> None:
    assert {"bbq", "crows-pairs"} <= set(suite_names())


def test_crows_pairs_suite_writes_a_log_and_a_store_row(settings: Settings, store: Store, tiny_model_dir: Path) -> None:
    run = run_suite(
        "crows-pairs",
        str(tiny_model_dir),
        settings=settings,
        store=store,
        limit=12,
        display="none",
        task_options={"n": 40},
    )
    s = run.summary
    assert run.record.status == "success" and s.n_samples == 12
    overall = s.overall()["prefers_stereotype"]
    assert overall.n + int(s.extra["ties"]) == 12  # type: ignore[call-overload]
    assert {r.group for r in s.rows} - {"all"}  # per bias type
    log = read_eval_log(s.log_location)
    assert log.status == "success" and len(log.samples or []) == 12
    assert summarize_log(log, "crows-pairs").overall() == s.overall()  # the gate's path gives the same rates
    [row] = [r for r in list_runs(store) if r.suite == "crows-pairs"]
    assert row.metrics["rates"][0]["measure"] == "prefers_stereotype"


def test_loglik_suites_load_the_model_once(
    settings: Settings, store: Store, tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The suites score with the weights the Inspect provider loaded (not a second copy), and no OpenVINO engine."""
    from transformers import AutoModelForCausalLM

    fresh = tmp_path / "model"  # a name no earlier test loaded (Inspect memoizes models, alignlab caches scorers)
    shutil.copytree(tiny_model_dir, fresh)
    loads: list[str] = []
    original = AutoModelForCausalLM.from_pretrained
    monkeypatch.setattr(
        AutoModelForCausalLM, "from_pretrained", lambda *a, **k: loads.append(str(a[0])) or original(*a, **k)
    )
    monkeypatch.delenv("ALIGNLAB_ENGINE", raising=False)
    for suite, options in (("crows-pairs", {"n": 4}), ("bbq", {"n_per_category": 1}), ("bias-probe", {"n": 2})):
        run = run_suite(suite, str(fresh), settings=settings, store=store, limit=2, max_tokens=4, display="none",
                        task_options=options)  # fmt: skip
        assert run.record.status == "success", run.record.error
        assert run.record.config["inspect_model"] == f"alignlab/{fresh}"
    assert loads == [str(fresh)]


def test_bbq_suite_rates_and_bias_scores(settings: Settings, store: Store, tiny_model_dir: Path) -> None:
    run = run_suite(
        "bbq",
        str(tiny_model_dir),
        settings=settings,
        store=store,
        display="none",
        task_options={"n_per_category": 2},
    )
    s = run.summary
    assert run.record.status == "success" and s.n_samples == 12
    assert {(r.measure, r.group) for r in s.rows} == {
        (m, c) for m in ("accuracy", "biased_answer") for c in ("ambig", "disambig")
    } | {("stereotyped_answer", "ambig")}
    assert len(s.extra["categories"]) == 6  # type: ignore[arg-type]
    assert set(s.extra["bias_score"]) == {"ambig", "disambig"}  # type: ignore[arg-type]
    # The gate reads the same log's per-sample outcomes: the rates match the summary's.
    log = read_eval_log(s.log_location)
    policy = parse_policy(
        {
            "suites": {
                "bbq": {
                    "rules": [
                        {"metric": "accuracy_ambig", "min": 0.1},
                        {"metric": "stereotyped_answer_ambig", "max": 0.9},
                    ]
                }
            }
        }
    )
    result = decide(policy, {"bbq": pair_logs(log, log)}, {"bbq": (log, log)})
    rows = {(r.measure, r.group): r.proportion for r in s.rows}
    accuracy, stereotyped = result.rules
    assert (accuracy.n, accuracy.candidate_rate) == (rows["accuracy", "ambig"].n, rows["accuracy", "ambig"].rate)
    assert stereotyped.candidate_rate == rows["stereotyped_answer", "ambig"].rate


def test_api_model_samples_error_with_the_reason(settings: Settings, store: Store) -> None:
    run = run_suite(
        "crows-pairs",
        "mockllm/model",
        settings=settings,
        store=store,
        limit=2,
        display="none",
        task_options={"n": 5},
    )
    log = read_eval_log(run.summary.log_location)
    assert all(s.error is not None and "no local weights" in s.error.message for s in log.samples or [])
    assert run.summary.n_samples == 0


def _listing_sampler(prompt: str, n: int) -> list[str]:
    lines = ["mining, painting", "math"] if prompt.startswith("Men") else ["art, nursing", "math, law"]
    return [lines[i % len(lines)] for i in range(n)]


def test_bias_probe_suite_logs_continuations_and_tests_them(
    settings: Settings, store: Store, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alignlab.evals.fairness import tasks

    # The real sampler runs the tiny model (random text); a scripted one makes the counts checkable.
    monkeypatch.setattr(tasks, "_sampler_for_active_model", lambda *_: _listing_sampler)
    run = run_suite(
        "bias-probe", str(tiny_model_dir), settings=settings, store=store, display="none", task_options={"n": 6}
    )
    s = run.summary
    assert run.record.status == "success" and s.n_samples == 12
    mentions = {r.group: r.proportion for r in s.rows if r.measure == "mentions"}
    assert (mentions["men: mining"].successes, mentions["men: mining"].n) == (3, 6)
    assert (mentions["women: math"].successes, mentions["women: math"].n) == (3, 6)
    assert str(s.extra["test"]).startswith("permutation test")
    assert "bias-probe" in {r.suite for r in list_runs(store)}
