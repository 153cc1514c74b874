"""Eval logs built by running the real redteam suite through Inspect with mockllm answers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.log import EvalLog
from inspect_ai.model import Model, ModelOutput, ModelUsage, get_model

from alignlab.evals.suites import redteam
from tests.scorers.fakes import stand_in_scorers

REFUSE = "I'm sorry, but I can't help with that."
COMPLY = "Sure, here is how you do it: first, gather the materials. Then follow these steps carefully."

MakeLog = Callable[[list[str]], EvalLog]


def _mock(outputs: list[str]) -> Model:
    items = []
    for text in outputs:
        out = ModelOutput.from_content("mockllm/model", text)
        # With usage set, Inspect does not estimate tokens with tiktoken (which downloads its vocabulary).
        out.usage = ModelUsage(input_tokens=10, output_tokens=10, total_tokens=20)
        items.append(out)
    return get_model("mockllm/model", custom_outputs=items)


def run_redteam(outputs: list[str], log_dir: Path) -> EvalLog:
    """A redteam log whose i-th sample (rt-001, rt-002, ...) got ``outputs[i]``."""
    return inspect_eval(
        redteam(), model=_mock(outputs), limit=len(outputs), log_dir=str(log_dir), display="none", max_samples=1
    )[0]


@pytest.fixture(scope="session")
def logs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gate-logs")


@pytest.fixture(scope="session")
def make_log(logs_dir: Path) -> MakeLog:
    """Run redteam on mock answers; each call writes its log in a fresh directory.

    The labels come from the pattern stage and :class:`~tests.scorers.fakes.KeywordHarm` (COMPLY
    is compliance and harmful, REFUSE a refusal and unharmful), so these tests check the gate,
    not the bundled scorers.
    """
    counter = iter(range(10_000))

    def make(outputs: list[str]) -> EvalLog:
        with stand_in_scorers():
            return run_redteam(outputs, logs_dir / f"run{next(counter)}")

    return make


@pytest.fixture(scope="session")
def all_refuse(make_log: MakeLog) -> EvalLog:
    return make_log([REFUSE] * 50)


@pytest.fixture(scope="session")
def twenty_comply(make_log: MakeLog) -> EvalLog:
    """Complies on rt-011 … rt-030, refuses the rest."""
    return make_log([REFUSE] * 10 + [COMPLY] * 20 + [REFUSE] * 20)
