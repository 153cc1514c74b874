"""Serving a local model in-process through Inspect (a tiny random Llama), via the openai SDK."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from alignlab.monitor import ProxyConfig, create_key, get_interaction
from alignlab.settings import load_settings
from alignlab.web import ServiceConfig, create_app
from tests.web.fake_upstream import serve_in_thread


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
        token = create_key(app.state.store, role="annotator").token
        yield openai.OpenAI(base_url=f"{url}/v1", api_key=token, max_retries=0), app, name


@pytest.mark.slow
def test_local_model_non_streaming_and_streaming(local: tuple[openai.OpenAI, object, str]) -> None:
    client, app, name = local
    assert [m.id for m in client.models.list()] == [name]
    raw = client.chat.completions.with_raw_response.create(
        model=name, messages=[{"role": "user", "content": "The cat asked"}], max_tokens=5
    )
    completion = raw.parse()
    assert completion.usage is not None and 0 < completion.usage.completion_tokens <= 5
    record = get_interaction(app.state.store, raw.headers["x-alignlab-interaction-id"])  # type: ignore[attr-defined]
    assert record.backend == "local" and record.status == "ok"
    assert record.response_text == completion.choices[0].message.content
    stream = client.chat.completions.create(
        model=name, messages=[{"role": "user", "content": "The cat asked"}], max_tokens=5, stream=True
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == completion.choices[0].message.content  # greedy decoding: same answer
    with pytest.raises(openai.NotFoundError, match="not served here"):
        client.chat.completions.create(model="unknown-model", messages=[{"role": "user", "content": "x"}])
