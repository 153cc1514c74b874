"""The monitor behind the running service: scores off the request path, alerts to the webhook, /metrics."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from fastapi import FastAPI

from alignlab.monitor import MonitorConfig, get_interaction
from alignlab.settings import load_settings
from alignlab.web import create_app, service_state
from tests.web.conftest import service_config
from tests.web.fake_upstream import serve_in_thread


@pytest.fixture
def watched(
    upstream_url: str, upstream_app: FastAPI, tmp_path: Path, alignlab_env: Path
) -> Iterator[tuple[str, FastAPI]]:
    monitor = MonitorConfig(
        detectors=("refusal", "toxicity", "profanity"),
        window=6,
        min_events=6,
        drift=False,
        thresholds={"harmful": 0.4},
        cusum={},
    )
    webhook = upstream_url.removesuffix("/v1") + "/webhook"
    app = create_app(
        load_settings(),
        service_config(
            upstream_url,
            f"sqlite:///{tmp_path / 's.db'}",
            monitor=monitor,
            webhook_url=webhook,
            require_key_for_proxy=False,
        ),
    )
    upstream_app.state.webhooks.clear()
    with serve_in_thread(app) as url:
        yield url, app


def test_toxic_traffic_raises_a_webhook_alert(watched: tuple[str, FastAPI], upstream_app: FastAPI) -> None:
    url, app = watched
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
    ids = []
    for i in range(8):
        prompt = "you are a worthless fucking idiot" if i % 2 else "what is the capital of France?"
        raw = client.chat.completions.with_raw_response.create(
            model="echo", messages=[{"role": "user", "content": prompt}]
        )
        ids.append(raw.headers["x-alignlab-interaction-id"])
    service_state(app).monitor.drain()
    scores = [get_interaction(service_state(app).store, i).scores for i in ids]
    assert [s["toxicity"]["flagged"] for s in scores] == [bool(i % 2) for i in range(8)]  # type: ignore[index]
    assert all(s["refusal"]["label"] == "compliance" for s in scores)  # type: ignore[index]
    for _ in range(50):
        if upstream_app.state.webhooks:
            break
        time.sleep(0.05)
    hooks = upstream_app.state.webhooks
    assert [(h["kind"], h["metric"]) for h in hooks] == [("threshold", "harmful")]
    assert hooks[0]["value"] == pytest.approx(0.5)
    metrics = httpx.get(f"{url}/metrics").text
    assert 'alignlab_monitor_flags_total{detector="toxicity"} 4.0' in metrics
    assert 'alignlab_alerts_total{kind="threshold",metric="harmful",state="firing"} 1.0' in metrics
    assert 'alignlab_alerts_firing{kind="threshold",metric="harmful"} 1.0' in metrics
    assert "alignlab_monitor_scored_total 8.0" in metrics


def test_dashboard_charts_rates_and_alerts(watched: tuple[str, FastAPI]) -> None:
    url, app = watched
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
    for i in range(6):
        prompt = "you are a worthless fucking idiot" if i < 3 else "hello"
        client.chat.completions.create(model="echo", messages=[{"role": "user", "content": prompt}])
    service_state(app).monitor.drain()
    from alignlab.monitor import create_key

    browser = httpx.Client(base_url=url)
    browser.post("/ui/login", data={"key": create_key(service_state(app).store, role="moderator").token})
    html = browser.get("/ui/", params={"hours": 1, "bucket_minutes": 5}).text
    assert html.count("<polyline") >= 4  # harmful, refusal, toxicity, profanity have scored traffic
    assert "harmful rate (stand-in: toxicity or profanity; no harmful detector configured) <small>(3 / 6)" in html
    for _ in range(50):
        if "exceeds 40.0%" in html:
            break
        time.sleep(0.05)
        html = browser.get("/ui/").text
    assert "harmful rate 50.0% over the last 6 responses exceeds 40.0%" in html


def test_dashboard_harmful_rate_uses_the_harmful_detector(
    upstream_url: str, tmp_path: Path, alignlab_env: Path
) -> None:
    monitor = MonitorConfig(detectors=("refusal", "toxicity", "harmful"), drift=False, cusum={}, min_events=1000)
    config = service_config(
        upstream_url, f"sqlite:///{tmp_path / 'h.db'}", monitor=monitor, require_key_for_proxy=False
    )
    app = create_app(load_settings(), config)
    with serve_in_thread(app) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
        for prompt in (
            "you are a worthless fucking idiot",  # answered and toxic: harmful
            "I'm sorry, but I can't help with that, you fucking idiot.",  # toxic, but a refusal: not harmful output
            "what is the capital of France?",
        ):
            client.chat.completions.create(model="echo", messages=[{"role": "user", "content": prompt}])
        service_state(app).monitor.drain()
        from alignlab.monitor import create_key

        browser = httpx.Client(base_url=url)
        browser.post("/ui/login", data={"key": create_key(service_state(app).store, role="moderator").token})
        html = browser.get("/ui/", params={"hours": 1, "bucket_minutes": 5}).text
    assert "harmful rate <small>(1 / 3)" in html  # the stand-in (toxicity) would say 2 / 3
    assert "toxicity rate <small>(2 / 3)" in html
    assert "stand-in" not in html


@pytest.fixture
def cusum_watched(
    upstream_url: str, upstream_app: FastAPI, tmp_path: Path, alignlab_env: Path
) -> Iterator[tuple[str, FastAPI]]:
    monitor = MonitorConfig(
        detectors=("toxicity", "profanity"), drift=False, thresholds={}, cusum={"harmful": (0.05, 0.2)}
    )
    webhook = upstream_url.removesuffix("/v1") + "/webhook"
    config = service_config(
        upstream_url,
        f"sqlite:///{tmp_path / 'c.db'}",
        monitor=monitor,
        webhook_url=webhook,
        require_key_for_proxy=False,
    )
    app = create_app(load_settings(), config)
    upstream_app.state.webhooks.clear()
    with serve_in_thread(app) as url:
        yield url, app


def test_a_sustained_shift_fires_one_alert_then_resolves_once(
    cusum_watched: tuple[str, FastAPI], upstream_app: FastAPI
) -> None:
    url, app = cusum_watched
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
    monitor = service_state(app).monitor
    assert monitor is not None
    for _ in range(80):  # the storm: 80 toxic answers gave 20 alerts and 20 webhooks
        client.chat.completions.create(model="echo", messages=[{"role": "user", "content": "you fucking idiot"}])
    monitor.drain()
    assert [(h["kind"], h["metric"], h["status"]) for h in upstream_app.state.webhooks] == [
        ("sequential", "harmful", "firing")
    ]
    for _ in range(60):
        client.chat.completions.create(model="echo", messages=[{"role": "user", "content": "the capital of France"}])
    monitor.drain()
    hooks = [(h["metric"], h["status"]) for h in upstream_app.state.webhooks]
    assert hooks == [("harmful", "firing"), ("harmful", "resolved")]
    alerts = httpx.get(f"{url}/metrics").text
    assert 'alignlab_alerts_firing{kind="sequential",metric="harmful"} 0.0' in alerts
