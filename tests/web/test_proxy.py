"""The proxy through the real openai SDK, against a fake upstream, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import openai
import pytest

from alignlab.monitor import InteractionFilter, get_interaction, list_interactions
from alignlab.web import service_state
from tests.web.conftest import BOTH_DBS, Service


def _client(service: Service, key: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{service.url}/v1", api_key=key or service.annotator, max_retries=0)


@BOTH_DBS
def test_sdk_non_streaming_is_logged(service: Service) -> None:
    client = _client(service)
    raw = client.chat.completions.with_raw_response.create(
        model="echo", messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi there"}]
    )
    completion = raw.parse()
    assert completion.choices[0].message.content == "echo: hi there"
    assert completion.usage is not None and completion.usage.prompt_tokens == 7
    record = get_interaction(service.store, raw.headers["x-alignlab-interaction-id"])
    assert record.status == "ok" and record.http_status == 200 and not record.stream
    assert record.response_text == "echo: hi there"
    assert record.prompt_text == "system: be brief\nuser: hi there"
    assert record.prompt_tokens == 7 and record.completion_tokens == 3
    assert record.latency_ms > 0
    assert record.request["messages"][1]["content"] == "hi there"


@BOTH_DBS
def test_sdk_streaming_is_relayed_and_logged(service: Service) -> None:
    client = _client(service)
    with client.chat.completions.with_streaming_response.create(
        model="echo",
        messages=[{"role": "user", "content": "stream me please"}],
        stream=True,
        stream_options={"include_usage": True},
    ) as response:
        interaction_id = response.headers["x-alignlab-interaction-id"]
        chunks = list(response.parse())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo: stream me please"
    assert len(chunks) >= 4  # really streamed word by word
    record = get_interaction(service.store, interaction_id)
    assert record.stream and record.status == "ok"
    assert record.response_text == text
    assert record.completion_tokens == 4


def test_models_lists_upstream(service: Service) -> None:
    ids = {m.id for m in _client(service).models.list()}
    assert {"echo", "slow", "broken"} <= ids


@BOTH_DBS
def test_upstream_errors_become_502_504_and_are_logged(service: Service) -> None:
    client = _client(service)
    with pytest.raises(openai.APIStatusError) as broken:
        client.chat.completions.create(model="broken", messages=[{"role": "user", "content": "x"}])
    assert broken.value.status_code == 502
    with pytest.raises(openai.APIStatusError) as slow:
        client.chat.completions.create(model="slow", messages=[{"role": "user", "content": "x"}])
    assert slow.value.status_code == 504
    assert "did not answer within" in str(slow.value)
    statuses = sorted(i.status for i in list_interactions(service.store, InteractionFilter()).items)
    assert statuses == ["timeout", "upstream_error"]


def test_upstream_down_gives_502_and_an_alert(service: Service) -> None:
    service_state(service.app).proxy.config = type(service_state(service.app).proxy.config)(  # type: ignore[attr-defined]
        upstream_base_url="http://127.0.0.1:9/v1", upstream_timeout_s=1.0
    )
    with pytest.raises(openai.APIStatusError) as exc:
        _client(service).chat.completions.create(model="echo", messages=[{"role": "user", "content": "x"}])
    assert exc.value.status_code == 502
    page = list_interactions(service.store, InteractionFilter(status="upstream_error"))
    assert page.total == 1
    admin = httpx.get(f"{service.url}/v1/alerts", headers={"Authorization": f"Bearer {service.admin}"})
    for _ in range(50):
        if admin.json():
            break
        time.sleep(0.1)
        admin = httpx.get(f"{service.url}/v1/alerts", headers={"Authorization": f"Bearer {service.admin}"})
    assert [a["kind"] for a in admin.json()] == ["upstream"]


def test_proxy_needs_a_valid_key(service: Service) -> None:
    with pytest.raises(openai.AuthenticationError) as exc:
        _client(service, "al_0000000000000000_wrong").chat.completions.create(
            model="echo", messages=[{"role": "user", "content": "x"}]
        )
    assert "invalid or revoked" in str(exc.value)
    response = httpx.post(f"{service.url}/v1/chat/completions", json={"model": "echo", "messages": []})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        (b"{not json", 400, "invalid request"),
        (b'{"model": "echo"}', 400, "messages"),
        (b'{"model": "echo", "messages": [{"role": "wizard", "content": "x"}]}', 400, "role"),
        (b'{"model": "echo", "messages": [{"role": "user", "content": "' + b"x" * 300_000 + b'"}]}', 413, "exceeds"),
    ],
)
def test_bad_input_is_4xx_with_a_message(service: Service, body: bytes, status: int, needle: str) -> None:
    response = httpx.post(
        f"{service.url}/v1/chat/completions",
        content=body,
        headers={"Authorization": f"Bearer {service.annotator}", "Content-Type": "application/json"},
    )
    assert response.status_code == status, response.text
    assert needle in response.json()["error"]["message"]


def test_metrics_count_requests(service: Service) -> None:
    _client(service).chat.completions.create(model="echo", messages=[{"role": "user", "content": "x"}])
    text = httpx.get(f"{service.url}/metrics").text
    assert 'alignlab_proxy_requests_total{model="echo",status="ok"} 1.0' in text
    assert "alignlab_proxy_latency_seconds_bucket" in text


def test_client_hanging_up_mid_stream_still_leaves_a_row(service: Service) -> None:
    body = {"model": "drip", "stream": True, "messages": [{"role": "user", "content": "one two three four five"}]}
    headers = {"Authorization": f"Bearer {service.annotator}"}
    with httpx.stream("POST", f"{service.url}/v1/chat/completions", json=body, headers=headers) as response:
        interaction_id = response.headers["x-alignlab-interaction-id"]
        next(response.iter_lines())  # the first word, then hang up
    for _ in range(50):
        page = list_interactions(service.store, InteractionFilter())
        if page.total:
            break
        time.sleep(0.1)
    record = get_interaction(service.store, interaction_id)
    assert record.status == "error" and record.http_status == 499
    assert record.error == "client disconnected mid-stream"
    assert record.response_text is not None and record.response_text.startswith("echo:")


def test_body_limit_holds_without_content_length(service: Service) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"model": "echo", "messages": [{"role": "user", "content": "'
        for _ in range(30):
            yield b"x" * 10_000
        yield b'"}]}'

    response = httpx.post(
        f"{service.url}/v1/chat/completions",
        content=chunks(),
        headers={"Authorization": f"Bearer {service.annotator}", "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert "exceeds 200000 bytes" in response.json()["error"]["message"]
