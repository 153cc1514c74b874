"""Runs whose samples errored say so: stored as ``error`` with the reason, and the CLI exits 1."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from inspect_ai.model import Model, ModelOutput, ModelUsage, get_model
from typer.testing import CliRunner

import alignlab.evals.runner as runner_module
from alignlab.cli.main import app
from alignlab.evals.runner import run_suite
from alignlab.settings import Settings
from alignlab.store import Store, get_run

REFUSE = "I'm sorry, but I can't help with that."


def _failing_mock(fail: Callable[[int], bool]) -> Model:
    # A mockllm whose n-th call raises (as a provider that cannot be reached would).
    counter = itertools.count()

    def reply(*_: Any) -> ModelOutput:
        if fail(next(counter)):
            raise ConnectionError("upstream unreachable (test)")
        out = ModelOutput.from_content("mockllm/model", REFUSE)
        out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return out

    return get_model("mockllm/model", custom_outputs=reply)


@pytest.fixture
def failing(monkeypatch: pytest.MonkeyPatch) -> Callable[[Callable[[int], bool]], None]:
    def use(fail: Callable[[int], bool]) -> None:
        monkeypatch.setattr(runner_module, "get_model", lambda *_, **__: _failing_mock(fail))

    return use


def _run(settings: Settings, store: Store, **kw: Any) -> runner_module.SuiteRun:
    return run_suite("redteam", "mockllm/model", settings=settings, store=store, limit=8, display="none", **kw)


def test_all_samples_errored_is_an_error_run_with_the_reason(settings: Settings, store: Store, failing: Any) -> None:
    failing(lambda _: True)
    run = _run(settings, store)
    assert run.failed and (run.errored, run.n_total) == (8, 8)
    stored = get_run(store, run.record.id)
    assert stored.status == "error"
    assert stored.error is not None and "8 of 8 samples errored" in stored.error
    assert "upstream unreachable (test)" in stored.error


def test_a_share_of_errors_within_the_limit_succeeds_and_is_noted(
    settings: Settings, store: Store, failing: Any
) -> None:
    failing(lambda n: n == 0)
    strict = _run(settings, store)
    assert strict.failed and strict.errored == 1
    failing(lambda n: n == 0)
    lenient = _run(settings, store, max_sample_errors=0.2)
    assert not lenient.failed and lenient.record.status == "success"
    assert lenient.record.error is not None and "1 of 8 samples errored (within --max-sample-errors 0.2)" in (
        lenient.record.error
    )


def test_cli_exits_1_and_names_the_error(alignlab_env: Path, failing: Any) -> None:
    failing(lambda _: True)
    result = CliRunner().invoke(app, ["eval", "redteam", "--model", "mockllm/model", "--limit", "4"])
    assert result.exit_code == 1, result.output
    assert "4 of 4 samples errored" in result.output and "upstream unreachable" in result.output
    assert "Traceback" not in result.output


def test_scripted_model_runs_the_compliance_gap_suite_offline(
    alignlab_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tiktoken

    def no_download(*_: Any, **__: Any) -> None:
        raise AssertionError("tiktoken was asked for a vocabulary (a download)")

    monkeypatch.setattr(tiktoken, "get_encoding", no_download)
    result = CliRunner().invoke(app, ["eval", "compliance-gap", "--model", "scripted/faker", "--limit", "4"])
    assert result.exit_code == 0, result.output
    assert "samples errored" not in result.output
    # free tier complies, paid tier refuses (refusal scorer); the harm scorer sees the same split
    assert "compliance=2, harmful=2, refusal=2, unharmful=2" in " ".join(result.output.split())


def test_explorer_shows_why_samples_errored(settings: Settings, store: Store, failing: Any, tmp_path: Path) -> None:
    from alignlab.evals.compliance_gap.explorer import export_explorer, load_transcripts

    failing(lambda _: True)
    run = run_suite("compliance-gap", "mockllm/model", settings=settings, store=store, limit=2, display="none")
    assert run.failed and run.record.log_path is not None
    transcripts = load_transcripts(Path(run.record.log_path))
    assert transcripts and all(t.error == "ConnectionError('upstream unreachable (test)')" for t in transcripts)
    page = export_explorer([Path(run.record.log_path)], tmp_path / "explorer.html").read_text()
    assert f"{len(transcripts)} of {len(transcripts)} samples errored and were not scored" in page
    assert page.count("sample errored</b>: ConnectionError(&#x27;upstream unreachable (test)&#x27;)") == len(
        transcripts
    )
