"""The monitor in its own process: it scores what the proxy records, resumes without rescoring, may die alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from alignlab.monitor import AlertSink, Monitor, MonitorConfig, NewInteraction, get_interaction, record_interaction
from alignlab.monitor.metrics import ServiceMetrics
from alignlab.monitor.process import MonitorProcess, poll_and_score
from alignlab.monitor.state import read_monitor_state
from alignlab.settings import load_settings
from alignlab.store import Store, open_store
from alignlab.web import create_app, service_state
from tests.web.conftest import BOTH_DBS, service_config
from tests.web.fake_upstream import serve_in_thread

SERVE = "import sys; from alignlab.cli.main import main; sys.argv[0] = 'alignlab'; main()"
CHEAP = MonitorConfig(detectors=("refusal", "profanity"), drift=False, window=20, min_events=5)


def _wait_scored(store: Store, ids: Sequence[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not all(get_interaction(store, i).scored_at for i in ids):
        assert time.monotonic() < deadline, "the monitor process did not score the interactions"
        time.sleep(0.05)


def _chat(client: httpx.Client, text: str) -> str:
    r = client.post("/v1/chat/completions", json={"model": "echo", "messages": [{"role": "user", "content": text}]})
    assert r.status_code == 200, r.text
    return r.headers["x-alignlab-interaction-id"]


def test_child_process_scores_proxy_traffic_and_may_die_alone(
    upstream_url: str, tmp_path: Path, alignlab_env: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = service_config(
        upstream_url,
        f"sqlite:///{tmp_path / 's.db'}",
        monitor=CHEAP,
        monitor_mode="process",
        require_key_for_proxy=False,
    )
    app = create_app(load_settings(), config)
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        child: MonitorProcess = service_state(app).monitor_process
        store: Store = service_state(app).store
        assert service_state(app).monitor is None and child.process is not None
        first_pid = child.process.pid
        ids = [_chat(client, "I'm sorry, but I can't help with that." if i % 2 else f"fact {i}") for i in range(6)]
        _wait_scored(store, ids)
        labels = [get_interaction(store, i).scores["refusal"]["label"] for i in ids]  # type: ignore[index]
        assert labels == ["compliance", "refusal"] * 3
        state = read_monitor_state(store)
        assert state is not None and state.pid == first_pid != os.getpid()
        assert state.rates["refusal"].n == 6 and state.rates["refusal"].rate == pytest.approx(0.5)

        os.kill(first_pid, signal.SIGKILL)  # a crash of the detectors' process
        during = [_chat(client, f"while the monitor is down {i}") for i in range(3)]  # the proxy still answers
        _wait_scored(store, during)  # the restarted child picks them up from the store
        assert child.restarts == 1 and child.process.pid != first_pid
        assert f"monitor process {first_pid} exited with code -9" in caplog.text
        last = child.process
    assert not last.is_alive()  # stopped with the server


class _Counting:
    """A detector that counts how often it saw each response (a rescored row shows up twice)."""

    name = "count"

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()

    def score(self, prompts: Sequence[str], responses: Sequence[str]) -> list[dict[str, Any]]:
        self.seen.update(responses)
        return [{"flagged": False} for _ in responses]


def _worker(store: Store, detector: _Counting, stop: threading.Event, result: list[int]) -> threading.Thread:
    config = MonitorConfig(detectors=("count",), drift=False, thresholds={}, cusum={})
    monitor = Monitor(store, config, AlertSink(store), ServiceMetrics(), detectors=[detector])
    thread = threading.Thread(target=lambda: result.append(poll_and_score(monitor, stop, poll_s=0.01)))
    thread.start()
    return thread


def _record(store: Store, texts: Sequence[str]) -> list[str]:
    new = [
        NewInteraction(
            model="m",
            backend="upstream",
            stream=False,
            status="ok",
            http_status=200,
            request={"messages": [{"role": "user", "content": "q"}]},
            response_text=t,
            latency_ms=1.0,
        )
        for t in texts
    ]
    return [record_interaction(store, n).id for n in new]


@BOTH_DBS
def test_a_restarted_worker_resumes_without_rescoring(db_url: str) -> None:
    store = open_store(db_url)
    first_ids = _record(store, [f"a{i}" for i in range(40)])
    detector, stop, result = _Counting(), threading.Event(), list[int]()
    thread = _worker(store, detector, stop, result)
    _wait_scored(store, first_ids[:32])  # at least one batch
    stop.set()
    thread.join(10)
    first_times = {i: get_interaction(store, i).scored_at for i in first_ids}
    later_ids = _record(store, [f"b{i}" for i in range(10)])
    second, stop, result2 = _Counting(), threading.Event(), list[int]()
    thread = _worker(store, second, stop, result2)
    _wait_scored(store, first_ids + later_ids)
    stop.set()
    thread.join(10)
    assert result[0] + result2[0] == 50
    assert set(detector.seen.values()) == {1} and set(second.seen.values()) == {1}
    assert not set(detector.seen) & set(second.seen)  # nobody scored twice
    for i, at in first_times.items():  # what the first worker committed, the second left alone
        assert at is None or get_interaction(store, i).scored_at == at
    store.close()


def test_cli_monitor_run_scores_the_backlog_and_stops_on_sigterm(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    store = open_store(db)
    ids = _record(store, ["Sure, here it is.", "I'm sorry, but I can't help with that."])
    env = {**os.environ, "ALIGNLAB_DATABASE_URL": db, "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [sys.executable, "-c", SERVE, "monitor", "run", "--detector", "refusal", "--no-drift"]
    worker = subprocess.Popen([*cmd, "--poll-interval", "0.05"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        _wait_scored(store, ids)
    finally:
        worker.send_signal(signal.SIGTERM)
        out, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0
    assert "stopped after scoring 2 interactions" in out
    assert [get_interaction(store, i).scores["refusal"]["label"] for i in ids] == ["compliance", "refusal"]  # type: ignore[index]
    store.close()
