"""The compliance-gap run page says why a run failed and which samples errored (issue 13)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from inspect_ai.model import ModelOutput, get_model

import alignlab.evals.runner as runner_module
from alignlab.evals.runner import run_suite
from alignlab.settings import load_settings
from tests.web.conftest import Service
from tests.web.test_pages import _login


def test_failed_run_and_errored_samples_are_shown(service: Service, tmp_path: Path, monkeypatch: Any) -> None:
    calls = itertools.count()

    def reply(*_: Any) -> ModelOutput:
        raise ConnectionError(f"upstream unreachable #{next(calls)}")

    monkeypatch.setattr(runner_module, "get_model", lambda *_, **__: get_model("mockllm/model", custom_outputs=reply))
    run = run_suite(
        "compliance-gap", "mockllm/model", settings=load_settings(), store=service.store, limit=2,
        log_dir=tmp_path / "logs", display="none",
    )  # fmt: skip
    assert run.failed
    html = _login(service, service.moderator).get(f"/ui/compliance-gap/{run.record.id}").text
    assert '<span class="tag bad">failed</span> 2 of 2 samples errored' in html
    assert html.count('<span class="tag bad">sample errored</span> ConnectionError(') == 2
    runs = _login(service, service.moderator).get("/ui/compliance-gap").text
    assert 'title="2 of 2 samples errored' in runs
