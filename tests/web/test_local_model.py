"""Serving a local model in-process through Inspect (a tiny random Llama), via the openai SDK."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from alignlab.monitor import ProxyConfig, UnknownInteractionError, create_key, get_interaction
from alignlab.settings import load_settings
from alignlab.web import ServiceConfig, create_app, service_state
from tests.web.fake_upstream import serve_in_thread

MAX_TOKENS = 24


@pytest.fixture
def local(tiny_model_dir: Path, tmp_path: Path, alignlab_env: Path) -> Iterator[tuple[openai.OpenAI, object, str]]:
    name = str(tiny_model_dir)
    config = ServiceConfig(
        proxy=ProxyConfig(local_models=(name,)),
        monitor_enabled=False,
        database_url=f"sqlite:///{tmp_path / 'local.db'}",
    )
    app = create_app(load_settings(), config)
    with serve_in_thread(app) as url:
        token = create_key(service_state(app).store, role="annotator").token
        yield openai.OpenAI(base_url=f"{url}/v1", api_key=token, max_retries=0), app, name


@pytest.mark.slow
def test_local_model_non_streaming_and_streaming(local: tuple[openai.OpenAI, object, str]) -> None:
    client, app, name = local
    assert [m.id for m in client.models.list()] == [name]
    raw = client.chat.completions.with_raw_response.create(
        model=name, messages=[{"role": "user", "content": "The cat asked"}], max_tokens=MAX_TOKENS
    )
    completion = raw.parse()
    assert completion.usage is not None and 0 < completion.usage.completion_tokens <= MAX_TOKENS
    ran_out = completion.usage.completion_tokens == MAX_TOKENS
    assert completion.choices[0].finish_reason == ("length" if ran_out else "stop")
    record = get_interaction(service_state(app).store, raw.headers["x-alignlab-interaction-id"])  # type: ignore[attr-defined]
    assert record.backend == "local" and record.status == "ok"
    assert record.response_text == completion.choices[0].message.content
    with client.chat.completions.with_streaming_response.create(
        model=name, messages=[{"role": "user", "content": "The cat asked"}], max_tokens=MAX_TOKENS, stream=True
    ) as response:
        streamed_id = response.headers["x-alignlab-interaction-id"]
        pieces = [c.choices[0].delta.content for c in response.parse() if c.choices and c.choices[0].delta.content]
    assert len(pieces) > 1  # token by token, not one chunk
    assert "".join(pieces) == completion.choices[0].message.content  # greedy decoding: same answer
    streamed = get_interaction(service_state(app).store, streamed_id)  # type: ignore[attr-defined]
    assert streamed.stream and streamed.status == "ok" and streamed.response_text == "".join(pieces)
    assert streamed.completion_tokens == completion.usage.completion_tokens
    with pytest.raises(openai.NotFoundError, match="not served here"):
        client.chat.completions.create(model="unknown-model", messages=[{"role": "user", "content": "x"}])


@pytest.mark.slow
def test_a_client_that_hangs_up_mid_stream_still_leaves_a_row(local: tuple[openai.OpenAI, object, str]) -> None:
    client, app, name = local
    body = {"model": name, "messages": [{"role": "user", "content": "The cat"}], "max_tokens": 200, "stream": True}
    headers = {"Authorization": f"Bearer {client.api_key}"}
    with httpx.stream("POST", f"{client.base_url}chat/completions", json=body, headers=headers) as response:
        interaction_id = response.headers["x-alignlab-interaction-id"]
        next(response.iter_lines())  # the first chunk, then hang up
    deadline = time.monotonic() + 30
    while True:
        try:
            record = get_interaction(service_state(app).store, interaction_id)  # type: ignore[attr-defined]
            break
        except UnknownInteractionError:
            assert time.monotonic() < deadline, "no row after the client hung up"
            time.sleep(0.1)
    assert record.stream and record.http_status == 499 and record.error == "client disconnected mid-stream"


@pytest.fixture
def stopping_model_dir(tiny_model_dir: Path, tmp_path: Path) -> Path:
    """The tiny Llama, told that every token ends the answer: it stops after one token, far below max_tokens."""
    import shutil

    from transformers import GenerationConfig

    out = tmp_path / "stopping"
    shutil.copytree(tiny_model_dir, out)
    config = GenerationConfig.from_pretrained(out)
    vocab = json.loads((out / "config.json").read_text())["vocab_size"]
    config.eos_token_id = list(range(vocab))
    config.save_pretrained(out)
    return out


@pytest.mark.slow
def test_finish_reason_is_stop_when_the_model_stopped(
    stopping_model_dir: Path, tmp_path: Path, alignlab_env: Path
) -> None:
    name = str(stopping_model_dir)
    config = ServiceConfig(
        proxy=ProxyConfig(local_models=(name,)), monitor_enabled=False, database_url=f"sqlite:///{tmp_path / 's.db'}"
    )
    app = create_app(load_settings(), config)
    with serve_in_thread(app) as url:
        token = create_key(service_state(app).store, role="annotator").token
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=token, max_retries=0)
        stopped = client.chat.completions.create(
            model=name, messages=[{"role": "user", "content": "The cat asked"}], max_tokens=MAX_TOKENS
        )
        assert stopped.usage is not None and stopped.usage.completion_tokens < MAX_TOKENS
        assert stopped.choices[0].finish_reason == "stop"  # was always "length"


@pytest.mark.slow
def test_hostile_requests_to_the_local_engine_do_not_disturb_an_innocent_one(
    local: tuple[openai.OpenAI, object, str],
) -> None:
    # The local model runs on the shared OpenVINO engine (one batch for every request): a hostile
    # request, streamed or not, must fail or finish on its own, never fail its neighbours.
    import concurrent.futures

    client, _app, name = local
    base = str(client.base_url).rstrip("/")
    headers = {"Authorization": f"Bearer {client.api_key}", "Content-Type": "application/json"}
    innocent = {"model": name, "messages": [{"role": "user", "content": "The cat asked"}], "max_tokens": MAX_TOKENS}
    reference = client.chat.completions.create(**innocent).choices[0].message.content  # type: ignore[call-overload]
    hostile_bodies = [
        b'{"model": "%s", "messages": [{"role": "user", "content": "nul \\u0000 and \\ud800 lone"}], "max_tokens": 8}',
        b'{"model": "%s", "messages": [{"role": "user", "content": "</script><img src=x onerror=alert(1)>"}],'
        b' "max_tokens": 8, "stream": true}',
        b'{"model": "%s", "messages": [{"role": "user", "content": "x"}], "max_tokens": 100000000000000000000}',
        b'{"model": "%s", "messages": [{"role": "user", "content": "' + b"A" * 200_000 + b'"}], "max_tokens": 8}',
        b'{"model": "%s", "messages": [{"role": "user", "content": "\xff\xfe not utf-8"}], "max_tokens": 8}',
    ]

    def hostile(body: bytes) -> int:
        with httpx.Client(timeout=120) as http:
            return http.post(
                f"{base}/chat/completions", content=body.replace(b"%s", name.encode()), headers=headers
            ).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(hostile_bodies) + 2) as pool:
        attacks = [pool.submit(hostile, body) for body in hostile_bodies]
        neighbours = [pool.submit(client.chat.completions.create, **innocent) for _ in range(2)]  # type: ignore[call-overload]
        statuses = [a.result() for a in attacks]
        answers = [n.result().choices[0].message.content for n in neighbours]
    assert all(status < 500 for status in statuses), statuses
    assert statuses[3] == 400  # a prompt longer than the context is the client's mistake, not a 502
    assert answers == [reference, reference]  # same greedy answer as alone
    assert client.chat.completions.create(**innocent).choices[0].message.content == reference  # type: ignore[call-overload]
